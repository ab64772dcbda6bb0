// SPDX-License-Identifier: GPL-2.0
/*
 * Host mappings of a %GUESTMEM_F_MMAP file: mmap() and the fault handler,
 * which maps shared pages only.  The page's state is read under the
 * file's invalidate lock held shared; conversions take it exclusive.
 */

#include <linux/guestmem.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>

#include "internal.h"

#include <trace/events/guestmem.h>

/*
 * Host mappings.  Only shared pages are ever mapped: a fault checks the
 * page's state under the invalidate lock, held shared, and a conversion to
 * private takes that lock exclusive and then unmaps every mapped folio of
 * the range, so a page is never mapped while private.  The folio is handed
 * to the fault with a reference and locked; a conversion that catches it
 * between this handler and its mapping sees that reference and refuses.
 * The host maps folios of one page only: a new folio the host faults in
 * first is small, and a large folio it finds is split first (huge.c), so
 * that a pin the mapping allows holds one page, not a whole huge folio.
 */
static vm_fault_t guestmem_fault(struct vm_fault *vmf)
{
	struct guestmem *gm = GUESTMEM_I(file_inode(vmf->vma->vm_file));
	struct address_space *mapping = gm_mapping(gm);
	pgoff_t index = vmf->pgoff;
	struct folio *folio;
	vm_fault_t ret = VM_FAULT_LOCKED;
	bool split = false;

	if (index >= gm_nr_pages(gm)) {
		ret = VM_FAULT_SIGBUS;
		goto out_trace;
	}

again:
	filemap_invalidate_lock_shared(mapping);
	if (guestmem_page_private(gm, index)) {
		ret = VM_FAULT_SIGBUS;
		goto out;
	}
	/*
	 * In a %GUESTMEM_F_NO_DIRECT_MAP file the folio is out of the direct
	 * map (flushed) before user space can reach it.
	 */
	folio = guestmem_lookup_folio(gm, index, true, false);
	if (IS_ERR(folio)) {
		/*
		 * Not VM_FAULT_OOM for -ENOMEM: past its cgroup's memory.max
		 * (guestmem_charge_gfp()) the fault would be retried for
		 * ever, since nothing reclaims guest memory.  The VMM gets
		 * SIGBUS, as for any page it cannot have.
		 */
		ret = PTR_ERR(folio) == -ENOMEM ? VM_FAULT_SIGBUS :
						  vmf_error(PTR_ERR(folio));
		goto out;
	}
	/* Once: a folio that cannot be split now is mapped as it is. */
	if (folio_test_large(folio) && !split) {
		folio_unlock(folio);
		folio_put(folio);
		filemap_invalidate_unlock_shared(mapping);
		guestmem_split_for_host(gm, index);
		split = true;
		goto again;
	}
	if (folio_contain_hwpoisoned_page(folio)) {
		folio_unlock(folio);
		folio_put(folio);
		ret = VM_FAULT_HWPOISON;
		goto out;
	}
	/* First touch: the host sees zeroes, as with any new file page. */
	if (!folio_test_uptodate(folio)) {
		guestmem_clear_folio(folio);
		folio_mark_uptodate(folio);
	}
	vmf->page = folio_file_page(folio, index);
out:
	filemap_invalidate_unlock_shared(mapping);
out_trace:
	trace_guestmem_fault(gm_ino(gm), index, ret);
	return ret;
}

static const struct vm_operations_struct guestmem_vm_ops = {
	.fault		= guestmem_fault,
#ifdef CONFIG_NUMA
	/* mbind() on the mapping places the pages not allocated yet. */
	.set_policy	= guestmem_set_policy,
	.get_policy	= guestmem_get_policy,
#endif
};

int guestmem_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct guestmem *gm = GUESTMEM_I(file_inode(file));

	if (!(gm->flags & GUESTMEM_F_MMAP))
		return -ENODEV;
	/* No private copies: every mapping must see the file's pages. */
	if ((vma->vm_flags & (VM_SHARED | VM_MAYSHARE)) !=
	    (VM_SHARED | VM_MAYSHARE))
		return -EINVAL;

	/*
	 * VM_DONTEXPAND makes the mapping "special": mremap() cannot grow
	 * it, khugepaged and MADV_COLLAPSE leave it alone (they would copy
	 * guest memory into folios the library does not know), and mlock()
	 * does not mark it VM_LOCKED (the pages are unevictable anyway, and
	 * mlock's per-CPU batches would hold references that make
	 * conversions fail).  Exec is refused by the mount (MNT_NOEXEC).
	 */
	vm_flags_set(vma, VM_DONTEXPAND);
	vma->vm_ops = &guestmem_vm_ops;
	file_accessed(file);
	return 0;
}
