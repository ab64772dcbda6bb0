#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# modsyms.sh: prove that the KVM modules reach guest memory only through
# the guestmem_*() API.  Builds the x86_64 test kernel of our tree and of
# stock 6.12 (same configuration: KVM and kvm-amd are modules), prints the
# undefined symbols of kvm.ko and kvm-amd.ko that stock's modules do not
# have, and fails if
#   - any of them is not a guestmem_*() function, or
#   - our modules need a low-level mm symbol at all (set_direct_map_*,
#     flush_tlb_kernel_range, filemap and truncation internals, anonymous
#     inode constructors), or
#   - mm/guestmem/ exports anything but guestmem_*() functions.

. "$(dirname "$0")/lib.sh"

arch_setup x86_64
tree=$(tree_dir guestmem)
out=$BUILD/logs/check
mkdir -p "$out"
: > "$out/modsyms-build.log"
for t in guestmem stock; do
	"$TOP/harness/build-kernel.sh" $t x86_64 test >/dev/null 2>>"$out/modsyms-build.log" || {
		tail -5 "$out/modsyms-build.log"
		echo "modsyms: the $t x86_64 test kernel does not build"
		exit 1
	}
done
ours=$(obj_dir guestmem x86_64 test)
stock=$(obj_dir stock x86_64 test)

FORBIDDEN='^(set_direct_map_.*|flush_tlb_kernel_range|__filemap_.*|filemap_.*|truncate_inode_pages.*|truncate_pagecache.*|invalidate_inode_pages.*|alloc_anon_inode|anon_inode_make_secure_inode|anon_inode_create_getfile|folio_zap_direct_map|folio_restore_direct_map)$'

undef() {
	nm -u "$1" | awk '{ print $2 }' | LC_ALL=C sort -u
}

rc=0
for m in kvm kvm-amd; do
	o=$(find "$ours/arch/x86/kvm" -name "$m.ko")
	s=$(find "$stock/arch/x86/kvm" -name "$m.ko")
	if [ -z "$o" ] || [ -z "$s" ]; then
		echo "modsyms: $m.ko is not built as a module (ours: ${o:-none}, stock: ${s:-none})"
		rc=1
		continue
	fi
	new=$(LC_ALL=C comm -13 <(undef "$s") <(undef "$o"))
	gone=$(LC_ALL=C comm -23 <(undef "$s") <(undef "$o"))
	echo "$m.ko needs, beyond stock 6.12's $m.ko:" ${new:-nothing}
	echo "$m.ko no longer needs:" ${gone:-nothing}
	bad=$(printf '%s\n' $new | grep -v '^guestmem_' || true)
	if [ -n "$bad" ]; then
		echo "modsyms: $m.ko needs symbols other than guestmem_*():" $bad
		rc=1
	fi
	bad=$(undef "$o" | grep -E "$FORBIDDEN" || true)
	if [ -n "$bad" ]; then
		echo "modsyms: $m.ko needs low-level mm symbols:" $bad
		rc=1
	fi
done

exports=$(cd "$tree" && grep -ho 'EXPORT_SYMBOL[A-Z_]*([a-z0-9_]*' mm/guestmem/*.c |
	sed 's/.*(//' | LC_ALL=C sort -u)
echo "mm/guestmem exports:" $exports
bad=$(printf '%s\n' $exports | grep -v '^guestmem_' || true)
if [ -n "$bad" ]; then
	echo "modsyms: mm/guestmem exports symbols other than guestmem_*():" $bad
	rc=1
fi
exit $rc
