#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh ARCH MODE OUT: make an uncompressed initramfs for one boot.
#   MODE test   KVM selftests per harness/kvm-selftests.conf, our selftests
#               and the demo, each as one plan entry
#   MODE run    the demo only
#   MODE bench  the benchmark programs (harness/bench/)
#   MODE stress the KVM selftests marked "stress" in harness/kvm-selftests.conf
#               and our selftests, between harness/sanitizers (first) and
#               harness/kmemleak-scan (last), for the stress kernel
# TREE=stock and FLAVOUR=bench pick another kernel's modules; ONLY=GLOB
# keeps the plan entries whose name matches; TIMEOUT_SCALE=N multiplies
# every entry's timeout (the stress kernel runs several times slower).
# The plan is written to OUT.plan as well, for the parser and the reader.

. "$(dirname "$0")/lib.sh"

arch=$1 mode=$2 out=$3
arch_setup "$arch"
obj=$(obj_dir "${TREE:-guestmem}" "$arch" "${FLAVOUR:-test}")
sel=$BUILD/obj/selftests-$arch
root=$(mktemp -d "$BUILD/initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/tests" "$root/lib/modules"

# busybox: the host's for x86_64, Debian's arm64 package otherwise.
case "$arch" in
x86_64) bb=/bin/busybox ;;
arm64) bb=$BUILD/busybox-arm64/bin/busybox ;;
esac
[ -x "$bb" ] || die "$bb missing: run 'make deps'"
cp "$bb" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$TOP/harness/init" "$root/init"
chmod +x "$root/init"

plan=$root/plan
: > "$plan"
DEFAULT_TIMEOUT=${TEST_TIMEOUT:-120}

# add NAME TIMEOUT REQUIRED BINARY [ARGS]: copy BINARY in, add a plan entry
# (only when NAME matches the shell glob $ONLY, if that is set: a subset of
# the plan for a developer, never used by make test).
add() {
	local name=$1 tmo=$2 req=$3 bin=$4
	shift 4
	# shellcheck disable=SC2254
	case "$name" in ${ONLY:-*}) ;; *) return 0 ;; esac
	local dst=/tests/$name
	mkdir -p "$root$(dirname "$dst")"
	cp "$bin" "$root$dst"
	${STRIP:-strip} "$root$dst" 2>/dev/null || true
	printf '%s\t%s\t%s\t%s\n' "$name" $((tmo * ${TIMEOUT_SCALE:-1})) "$req" "$dst${*:+ $*}" >> "$plan"
}

# conf_lookup ARCH TEST ACTION: print the argument of the first matching
# line with that action ("" when it has none), fail when there is none.
conf_lookup() {
	local a t act arg
	while read -r a t act arg; do
		case "$a" in ''|'#'*) continue ;; esac
		[ "$a" = "$1" ] || continue
		# shellcheck disable=SC2254
		case "$2" in $t) ;; *) continue ;; esac
		case "$act" in
		"$3"|"$3"=*) echo "${act#"$3"}" | sed 's/^=//'; return 0 ;;
		esac
	done < "$TOP/harness/kvm-selftests.conf"
	return 1
}

case "$arch" in arm64) STRIP=aarch64-linux-gnu-strip ;; esac

if [ "$mode" = stress ]; then
	add harness/sanitizers 60 required "$TOP/harness/sanitizers"
fi

if [ "$mode" = test ] || [ "$mode" = stress ]; then
	[ -d "$sel/kvm" ] || die "KVM selftests not built for $arch"
	# arm64 boots once per KVM mode (harness/test.sh): the first entry
	# checks that KVM runs in the mode that boot asked for.
	if [ "$arch" = arm64 ]; then
		add harness/kvm-arm-mode 30 required "$TOP/harness/kvm-arm-mode"
	fi
	for bin in $(cd "$sel/kvm" && find . -type f -perm -u+x ! -name '*.o' | sed 's|^\./||' | LC_ALL=C sort); do
		conf_lookup "$arch" "$bin" exclude >/dev/null && continue
		[ "$mode" = test ] || conf_lookup "$arch" "$bin" stress >/dev/null || continue
		tmo=$(conf_lookup "$arch" "$bin" timeout || echo $DEFAULT_TIMEOUT)
		req=optional
		conf_lookup "$arch" "$bin" require >/dev/null && req=required
		# Only upstream tests may be retried (never ours, which
		# do not go through this file).
		conf_lookup "$arch" "$bin" timing >/dev/null && req=$req,retry
		add "kvm/$bin" "$tmo" "$req" "$sel/kvm/$bin"
	done
	# Every "require" line must have found its test.
	while read -r a t act _; do
		case "$a" in ''|'#'*) continue ;; esac
		[ "$a" = "$arch" ] && [ -z "${ONLY:-}" ] || continue
		[ "$act" = require ] && [ "$mode" = test ] || [ "$act" = stress ] || continue
		grep -q "^kvm/$t	" "$plan" || die "required KVM selftest $t was not built for $arch"
	done < "$TOP/harness/kvm-selftests.conf"
	# Our selftests must really run on x86_64.  On arm64 guest_memfd
	# serves the default VM only and the guest code is mostly x86's, so
	# some cases skip there (NO_DIRECT_MAP without CTR_EL0.DIC, the
	# x86 guests); a failure still fails the entry.  Their
	# timeout: guestmem_test took 85 s on an idle machine and had run
	# 259 of its 330 cases after 120 s while a kernel build shared the
	# CPUs (2026-11-29).
	gm_tmo=${GUESTMEM_TIMEOUT:-600}
	req=optional
	[ "$arch" = x86_64 ] && req=required
	if [ -d "$sel/guestmem" ]; then
		for bin in $(cd "$sel/guestmem" && find . -type f -perm -u+x ! -name '*.o' | sed 's|^\./||' | LC_ALL=C sort); do
			add "guestmem/$bin" "$gm_tmo" $req "$sel/guestmem/$bin"
		done
	fi
fi

if [ "$mode" = test ] || [ "$mode" = run ]; then
	if [ -x "$BUILD/obj/demo-$arch/gmem-demo" ]; then
		# arm64's demo needs protected mode: it skips in the
		# other boot (harness/test.sh) and must pass in that one.
		req=required
		[ "$arch" = arm64 ] && [ "$mode" = test ] && req=optional
		add demo/gmem-demo 120 $req "$BUILD/obj/demo-$arch/gmem-demo"
	elif [ "$mode" = run ]; then
		die "no demo for $arch"
	fi
fi

if [ "$mode" = stress ]; then
	# The fuzzer's long run: its own seed and length (make test runs the
	# built-in ones).  FUZZ_SEED and FUZZ_STEPS choose others.
	if [ -x "$sel/guestmem/guestmem_fuzz" ]; then
		add guestmem/guestmem_fuzz-long 600 required "$sel/guestmem/guestmem_fuzz" \
			-s "${FUZZ_SEED:-1}" -n "${FUZZ_STEPS:-50000}"
	fi
	add harness/kmemleak-scan 600 required "$TOP/harness/kmemleak-scan"
fi

if [ "$mode" = bench ]; then
	for bin in "$BUILD/obj/bench-$arch"/*; do
		[ -x "$bin" ] || continue
		add "bench/$(basename "$bin")" 600 required "$bin"
	done
fi

# KVM and any other modules, loaded by /init with dependencies first.
if grep -q '^CONFIG_MODULES=y' "$obj/.config" && [ -f "$obj/modules.order" ]; then
	declare -A loaded=()
	load_after_deps() {
		local ko=$1 dep
		[ -z "${loaded[$ko]:-}" ] || return 0
		loaded[$ko]=1
		for dep in $(modinfo -F depends "$obj/${mods[$ko]}" | tr ',' ' '); do
			[ -n "${mods[$dep.ko]:-}" ] || die "module $ko needs $dep, which is not built as a module"
			load_after_deps "$dep.ko"
		done
		cp "$obj/${mods[$ko]}" "$root/lib/modules/"
		basename "${mods[$ko]}" >> "$root/lib/modules/order"
	}
	declare -A mods=()
	while read -r m; do
		m=${m%.o}.ko
		mods[$(basename "$m" | tr - _)]=$m
	done < "$obj/modules.order"
	# modinfo names dependencies with '_': key modules by that name.
	for k in "${!mods[@]}"; do
		load_after_deps "$k"
	done
fi

cp "$plan" "$out.plan"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$out"
log "initramfs $out: $(grep -c . "$plan") plan entries, $(du -h "$out" | cut -f1)"
