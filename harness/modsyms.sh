#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# modsyms.sh: prove that the KVM and Gunyah modules reach guest memory
# only through the guestmem_*() API.  Builds the x86_64 test kernel of our tree and of
# stock 6.12 (same configuration: KVM and kvm-amd are modules), prints the
# undefined symbols of kvm.ko and kvm-amd.ko that stock's modules do not
# have, and fails if
#   - any of them is not a guestmem_*() function, or
#   - our modules need a low-level mm symbol at all (set_direct_map_*,
#     flush_tlb_kernel_range, filemap and truncation internals, anonymous
#     inode constructors), or
#   - mm/guestmem/ exports anything but guestmem_*() functions.
# arm64 KVM is built in (bool), so there is no module to look at: the same
# rule is applied to arch/arm64/kvm/built-in.a (which also holds
# virt/kvm/ and the EL2 objects), comparing the symbols it needs from the
# rest of the kernel (undefined in it, defined in none of its objects)
# with stock's, built with the same arm64 test configuration.  Stock
# arm64 has no guest_memfd at all, so what virt/kvm/guest_memfd.c needs
# on top of guestmem_*() is new there: a symbol is allowed if stock's
# x86 kvm.ko, whose guest_memfd is the generic code, already needs it, or
# if it is one of ARM64_ORDINARY below.

. "$(dirname "$0")/lib.sh"

tree=$(tree_dir guestmem)
out=$BUILD/logs/check
mkdir -p "$out"
: > "$out/modsyms-build.log"
for a in x86_64 arm64; do
	for t in guestmem stock; do
		"$TOP/harness/build-kernel.sh" $t $a test >/dev/null 2>>"$out/modsyms-build.log" || {
			tail -5 "$out/modsyms-build.log"
			echo "modsyms: the $t $a test kernel does not build"
			exit 1
		}
	done
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

# Undefined symbols of an archive's objects that none of them defines:
# what the archive takes from the rest of the kernel.
external() {
	LC_ALL=C comm -23 \
		<(nm -u "$1" 2>/dev/null | awk 'NF == 2 { print $2 }' | LC_ALL=C sort -u) \
		<(nm --defined-only "$1" 2>/dev/null | awk 'NF == 3 { print $3 }' | LC_ALL=C sort -u)
}

o=$(obj_dir guestmem arm64 test)/arch/arm64/kvm/built-in.a
s=$(obj_dir stock arm64 test)/arch/arm64/kvm/built-in.a
if ! grep -q '^CONFIG_KVM=y' "$(obj_dir guestmem arm64 test)/.config" ||
   [ ! -f "$o" ] || [ ! -f "$s" ]; then
	echo "modsyms: arm64 KVM is not built in (ours: $o, stock: $s)"
	rc=1
else
	new=$(LC_ALL=C comm -13 <(external "$s") <(external "$o"))
	gone=$(LC_ALL=C comm -23 <(external "$s") <(external "$o"))
	echo "arm64 KVM (built-in.a) needs, beyond stock 6.12's:" ${new:-nothing}
	echo "arm64 KVM (built-in.a) no longer needs:" ${gone:-nothing}
	[ -n "$(external "$o")" ] || { echo "modsyms: no undefined symbol in $o"; rc=1; }
	# Library and VFS helpers of the pkvm_page_owner debugfs file
	# (patch 0017), nothing of mm.
	ARM64_ORDINARY='kstrtoull_from_user nonseekable_open scnprintf simple_read_from_buffer'
	x86kvm=$(find "$stock/arch/x86/kvm" -name kvm.ko)
	bad=$(LC_ALL=C comm -23 <(printf '%s\n' $new | grep -v '^guestmem_' || true) \
		<({ undef "$x86kvm"; printf '%s\n' $ARM64_ORDINARY; } | LC_ALL=C sort -u))
	if [ -n "$bad" ]; then
		echo "modsyms: arm64 KVM needs symbols other than guestmem_*() and what stock's x86 kvm.ko needs:" $bad
		rc=1
	fi
	bad=$(external "$o" | grep -E "$FORBIDDEN" || true)
	if [ -n "$bad" ]; then
		echo "modsyms: arm64 KVM needs low-level mm symbols:" $bad
		rc=1
	fi
fi

# The Gunyah modules of the arm64 test kernel (the KUnit module aside,
# which uses the library's test exports): no low-level mm symbol, and
# nothing but guestmem_*(), their own gunyah_*() and the kernel services
# of GUNYAH_ORDINARY (allocation, locks, lists, files and descriptors,
# the misc device, debugfs, module references, printing, user copies, and
# the folio reference and lock of a page guestmem handed out).  A new
# symbol fails the gate until it is reviewed and listed here.
GUNYAH_ORDINARY='__arch_copy_from_user __folio_put __kmalloc_cache_noprof
	__kmalloc_noprof __kvmalloc_node_noprof __list_add_valid_or_report
	__list_del_entry_valid_or_report __might_fault __mutex_init
	__this_module __warn_printk _printk anon_inode_getfd debug_locks
	debugfs_create_dir debugfs_create_file debugfs_remove default_llseek
	dump_page fd_install fget folio_unlock fput get_unused_fd_flags kfree
	kmalloc_caches kmemdup_noprof kstrtouint_from_user kvfree
	kvrealloc_noprof lock_is_held_type memcpy memset memstart_addr
	misc_deregister misc_register module_put mutex_destroy
	mutex_lock_nested mutex_unlock noop_llseek scnprintf simple_open
	simple_read_from_buffer try_module_get'
arm=$(obj_dir guestmem arm64 test)
for m in gunyah gunyah_swrm; do
	ko=$(find "$arm/drivers/virt/gunyah" -name "$m.ko" 2>/dev/null)
	if [ -z "$ko" ]; then
		echo "modsyms: $m.ko is not built as a module in the arm64 test kernel"
		rc=1
		continue
	fi
	echo "$m.ko needs:" $(undef "$ko")
	bad=$(undef "$ko" | grep -E "$FORBIDDEN" || true)
	if [ -n "$bad" ]; then
		echo "modsyms: $m.ko needs low-level mm symbols:" $bad
		rc=1
	fi
	bad=$(LC_ALL=C comm -23 <(undef "$ko" | grep -v -E '^(guestmem|gunyah)_' || true) \
		<(printf '%s\n' $GUNYAH_ORDINARY | LC_ALL=C sort -u))
	if [ -n "$bad" ]; then
		echo "modsyms: $m.ko needs symbols beyond guestmem_*(), gunyah_*() and GUNYAH_ORDINARY:" $bad
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
