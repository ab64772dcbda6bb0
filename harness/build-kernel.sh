#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kernel.sh TREE ARCH FLAVOUR: build one kernel with O=.
#   TREE     guestmem (ours) or stock (pristine linux-source-6.12)
#   ARCH     x86_64 or arm64
#   FLAVOUR  test (debug options + KUnit), bench (no debug options) or
#            stress (test + KASAN, UBSAN, KFENCE, kmemleak)
# LLVM=1 in the environment builds with clang into its own directory.
# Prints the path of the build directory on stdout.

. "$(dirname "$0")/lib.sh"

tree=$1 arch=$2 flavour=$3
arch_setup "$arch"
src=$(src_dir "$tree")
obj=$(obj_dir "$tree" "$arch" "$flavour")
frags=$(fragments "$arch" "$flavour" "$tree")
[ -f "$src/Makefile" ] || die "$src missing: run harness/prepare-tree.sh"
mkdir -p "$obj"

# Regenerate .config only when a fragment changed.
config_id=$(cat $frags | sha1sum | cut -d' ' -f1)
if [ "$(cat "$obj/.guestmem-config" 2>/dev/null)" != "$config_id" ] || [ ! -f "$obj/.config" ]; then
	log "configuring $tree $arch $flavour: tinyconfig + $(for f in $frags; do basename "$f"; done | tr '\n' ' ')"
	kmake "$obj" "$src" tinyconfig >/dev/null
	(cd "$obj" && ARCH=$KARCH CROSS_COMPILE=$CROSS \
		"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" $frags >/dev/null)
	kmake "$obj" "$src" olddefconfig >/dev/null
	# merge_config.sh only warns; a requested symbol that did not
	# survive olddefconfig is an error here (the last fragment to name
	# a symbol decides its requested value).
	bad=0
	while IFS= read -r line; do
		# Stock 6.12 has no guestmem: its symbols are ours to lose there.
		if [ "$tree" = stock ]; then
			case "$line" in CONFIG_GUESTMEM*|'# CONFIG_GUESTMEM'*) continue ;; esac
		fi
		case "$line" in
		CONFIG_*=*)
			grep -qxF "$line" "$obj/.config" || {
				log "requested '$line' but .config has '$(grep -E "^(# )?${line%%=*}[= ]" "$obj/.config" || echo "${line%%=*} unavailable")'"
				bad=1
			} ;;
		'# CONFIG_'*' is not set')
			sym=${line#\# }; sym=${sym%% *}
			if grep -qE "^$sym=" "$obj/.config"; then
				log "requested '$line' but .config has it set"
				bad=1
			fi ;;
		esac
	done < <(cat $frags | sed -n -e 's/^\(CONFIG_[A-Za-z0-9_]*\)=.*/\1 &/p' \
			-e 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set/\1 &/p' |
		awk '{ sym = $1; sub(/^[^ ]* /, ""); last[sym] = $0; order[sym] = NR }
		     END { for (s in last) print order[s] "\t" last[s] }' |
		sort -n | cut -f2-)
	[ $bad = 0 ] || die "config of $tree $arch $flavour lost requested symbols (see above)"
	echo "$config_id" > "$obj/.guestmem-config"
fi

log "building $tree $arch $flavour${LLVM:+ (LLVM=1)} in $obj"
targets="$(basename "$KIMAGE")"
grep -q '^CONFIG_MODULES=y' "$obj/.config" && targets="$targets modules"
kmake "$obj" "$src" $targets ${KBUILD_EXTRA:-} >&2
echo "$obj"
