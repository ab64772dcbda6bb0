#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Lay out the kernel source trees under build/src:
#   pristine-<debver>  Debian's linux-source-6.12, extracted once, never modified
#                      (the "stock" kernel of the benchmarks is built from it)
#   guestmem-<debver>  a copy of it with patches/series applied (fuzz 0) and
#                      the repository's kernel-path files laid over it
#
# Re-running only re-syncs what changed, so an edit to one overlay file
# rebuilds in about a minute.

. "$(dirname "$0")/lib.sh"

ver=$(debian_version)
pristine=$(pristine_dir)
tree=$(tree_dir guestmem)
mkdir -p "$BUILD/src"

if [ ! -f "$pristine/.extracted" ]; then
	[ -f "$TARBALL" ] || die "$TARBALL missing: run 'make deps'"
	log "extracting $TARBALL (Debian $ver)"
	rm -rf "$pristine" "$BUILD/src/.extract"
	mkdir -p "$BUILD/src/.extract"
	tar -xJf "$TARBALL" -C "$BUILD/src/.extract"
	mv "$BUILD/src/.extract/linux-source-6.12" "$pristine"
	rmdir "$BUILD/src/.extract"
	touch "$pristine/.extracted"
fi

# The applied series is identified by the hash of every file in patches/.
series_id=$(cd "$TOP" && find patches -type f | LC_ALL=C sort | xargs cat | sha1sum | cut -d' ' -f1)
if [ "$(cat "$tree/.guestmem-series" 2>/dev/null)" != "$series_id" ]; then
	log "creating $tree from the pristine tree"
	rm -rf "$tree"
	cp -a "$pristine" "$tree"
	rm -f "$tree/.extracted"
	for p in $(series_patches); do
		[ -f "$TOP/patches/$p" ] || die "patches/series names $p, which does not exist"
		if ! patch -d "$tree" -p1 --fuzz=0 --no-backup-if-mismatch -s -f \
			< "$TOP/patches/$p"; then
			rm -rf "$tree"
			die "patches/$p does not apply with fuzz 0 to Debian linux-source-6.12 $ver; refresh it"
		fi
		log "applied patches/$p"
	done
	rm -f "$tree/.guestmem-overlay"
	echo "$series_id" > "$tree/.guestmem-series"
fi

# Lay the overlay; files that left the overlay go back to their pristine
# contents (or disappear when upstream has no such file).
new_manifest=$(mktemp)
(
	cd "$TOP"
	for p in $OVERLAY_PATHS; do
		[ -e "$p" ] && find "$p" -type f
	done
) | LC_ALL=C sort > "$new_manifest"
if [ -f "$tree/.guestmem-overlay" ]; then
	LC_ALL=C comm -23 "$tree/.guestmem-overlay" "$new_manifest" | while read -r f; do
		if [ -f "$pristine/$f" ]; then
			cp "$pristine/$f" "$tree/$f"
		else
			rm -f "$tree/$f"
		fi
		log "removed from overlay: $f"
	done
fi
if [ -s "$new_manifest" ]; then
	(cd "$TOP" && rsync -rl --checksum --files-from="$new_manifest" . "$tree/")
fi
mv "$new_manifest" "$tree/.guestmem-overlay"

kver=$(make -s -C "$tree" kernelversion)
log "base: Debian linux-source-6.12 $ver (kernel $kver), $(series_patches | grep -c . || true) patches, $(wc -l < "$tree/.guestmem-overlay") overlay files"
