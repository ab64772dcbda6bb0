// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem: guest memory owned by mm, for every hypervisor backend.
 *
 * Each guestmem file has an inode of its own on an internal pseudo
 * filesystem; struct guestmem is embedded in that inode, so the library's
 * per-file state lives exactly as long as the file's memory.  The memory is
 * page cache of the inode: unevictable, unmovable, never written back.
 *
 * Lifetimes: the struct file holds the inode (through its dentry) and so
 * does every binding (a reference taken by guestmem_bind() and dropped by
 * guestmem_unbind()).  Closing the file frees its memory (->free_folio()
 * for each folio), detaches the bindings and returns the owner's private
 * data through ->release(); the inode goes when the last binding does.
 *
 * Locking: the mapping's invalidate_lock protects the list of bindings and
 * the shared/private state, and serialises everything that removes folios
 * or changes their state (exclusive: punch hole, conversion, bind, unbind,
 * release) against what adds them (shared: fallocate, a host fault).  It
 * is the outermost guestmem lock but for mmap_lock, which a host fault
 * holds when it takes it; callbacks run under it.  Below it come the
 * backends' own locks (taken in the invalidation callbacks) and the folio
 * lock, which protects a folio's direct-map state, with i_mmap_rwsem
 * under it (a conversion unmaps a folio from the host).  See
 * Documentation/mm/guestmem.rst.
 */

#define pr_fmt(fmt) "guestmem: " fmt

#include <linux/anon_inodes.h>
#include <linux/debugfs.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/guestmem.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/pseudo_fs.h>
#include <linux/set_memory.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <asm/tlbflush.h>
#include <kunit/static_stub.h>
#include <kunit/visibility.h>

#include "../internal.h"
#include "guestmem.h"

/* Not a user-visible filesystem: no magic of uapi/linux/magic.h needed. */
#define GUESTMEM_MAGIC	0x67756d6d	/* "gumm" */

/**
 * struct guestmem - one guestmem file
 * @ops: Callbacks of the backend that created the file (the owner).
 * @priv: The owner's data, given back by ->release().
 * @flags: GUESTMEM_F_* of guestmem_file_create(); constant.
 * @bindings: Attached struct guestmem_binding, in bind order.  Protected
 *	by the invalidate_lock of @vfs_inode's mapping.
 * @shared: For a %GUESTMEM_F_MMAP file, one bit per page of the file, set
 *	while the page is shared (the host may map it), clear while it is
 *	private; NULL for other files, whose pages are all private.  Written
 *	only under the invalidate lock held exclusive, read without a lock:
 *	a reader that needs a stable answer holds the lock shared (host
 *	faults) or orders itself against ->invalidate_begin() (backends).
 * @unflushed: Folios of the file out of the direct map whose kernel TLB
 *	flush is still to come: an fallocate() in progress removes folios
 *	and unlocks them one by one, but flushes once at its end.  Raised
 *	under the folio lock, lowered after the flush; a lookup that finds
 *	it raised flushes its own folio before handing it out.
 * @vfs_inode: The inode of the file.
 */
struct guestmem {
	const struct guestmem_ops *ops;
	void *priv;
	unsigned long flags;
	unsigned long *shared;
	struct list_head bindings;
	atomic_t unflushed;
	struct inode vfs_inode;
};

/*
 * Direct map.  In a %GUESTMEM_F_NO_DIRECT_MAP file every page of a folio
 * leaves the kernel direct map when the folio is allocated (after it was
 * zeroed through it) and comes back in ->free_folio(), before the folio can
 * return to the page allocator.  PG_checked, a flag the owner of a mapping
 * may use, marks a folio whose pages are out.  The pages are unmapped
 * without a flush; the operation (fallocate, a lookup) collects the range of
 * addresses in a struct guestmem_batch and flushes the kernel TLB once, at
 * its end, before the call returns.  Until then stale TLB entries may still
 * reach the zeroed pages, which hold nothing yet: no guest has been given
 * them.  A lookup racing with an fallocate() may find a folio it removed
 * before that flush; guestmem.unflushed tells it so, and it flushes that
 * folio itself before handing it out.  Mapping a page back needs no flush.
 */
struct guestmem_batch {
	unsigned long start;
	unsigned long end;
	unsigned int nr_folios;
};

#define GUESTMEM_BATCH_INIT	{ .start = ULONG_MAX, .end = 0, .nr_folios = 0 }

/*
 * For tests and statistics (debugfs guestmem/): kernel TLB flushes made for
 * direct-map removal, and pages out of the direct map now.
 */
static atomic_long_t guestmem_nr_flushes = ATOMIC_LONG_INIT(0);
static atomic_long_t guestmem_nr_unmapped = ATOMIC_LONG_INIT(0);

/*
 * Open %GUESTMEM_F_NO_DIRECT_MAP files: counted from creation to the last
 * close, which frees their memory.  Read by guestmem_active().
 */
static atomic_t guestmem_nr_no_direct_map_files = ATOMIC_INIT(0);

static struct vfsmount *guestmem_mnt __ro_after_init;
static struct lock_class_key guestmem_mmap_invalidate_key;
static struct kmem_cache *guestmem_inode_cachep __ro_after_init;
static const struct file_operations guestmem_fops;

static inline struct guestmem *GUESTMEM_I(struct inode *inode)
{
	return container_of(inode, struct guestmem, vfs_inode);
}

static inline struct address_space *gm_mapping(struct guestmem *gm)
{
	return gm->vfs_inode.i_mapping;
}

static inline pgoff_t gm_nr_pages(struct guestmem *gm)
{
	return i_size_read(&gm->vfs_inode) >> PAGE_SHIFT;
}

/* See struct guestmem.shared for who may rely on the answer. */
static inline bool guestmem_page_private(struct guestmem *gm, pgoff_t index)
{
	return !gm->shared || !test_bit(index, gm->shared);
}

/*
 * Invalidation: every attached binding that overlaps [start, end) gets
 * ->invalidate_begin() before the folios change (@begin true) and
 * ->invalidate_end() afterwards, both in list order and clipped to the
 * binding.
 */
static void guestmem_invalidate(struct guestmem *gm, pgoff_t start,
				pgoff_t end, bool begin)
{
	struct guestmem_binding *b;

	lockdep_assert_held(&gm_mapping(gm)->invalidate_lock);

	list_for_each_entry(b, &gm->bindings, entry) {
		typeof(b->ops->invalidate_begin) fn = begin ?
			b->ops->invalidate_begin : b->ops->invalidate_end;
		pgoff_t s = max(start, b->start), e = min(end, b->end);

		if (s < e && fn)
			fn(b, s, e);
	}
}

/*
 * Take one page out of the direct map, without a flush.  May fail with
 * -ENOMEM when a large direct-map entry has to be split; the KUnit test
 * makes it fail on purpose.
 */
VISIBLE_IF_KUNIT int guestmem_unmap_page(struct page *page)
{
	KUNIT_STATIC_STUB_REDIRECT(guestmem_unmap_page, page);

	return set_direct_map_invalid_noflush(page);
}
EXPORT_SYMBOL_IF_KUNIT(guestmem_unmap_page);

/*
 * Put the first @nr pages of @folio back in the direct map.  That needs no
 * flush (a not-present entry is never cached in a TLB) and no allocation
 * (removal already split the direct map down to these pages), so it does
 * not fail.
 */
static void guestmem_restore_pages(struct folio *folio, unsigned long nr)
{
	unsigned long i;

	for (i = 0; i < nr; i++)
		WARN_ON_ONCE(set_direct_map_default_noflush(folio_page(folio, i)));
}

/*
 * Take the pages of a folio out of the direct map (no flush), after zeroing
 * it unless it holds data already (a shared folio turning private keeps
 * its contents).  Called with the folio locked.
 */
static int guestmem_zap_folio(struct guestmem *gm, struct folio *folio,
			      struct guestmem_batch *batch)
{
	unsigned long i, nr = folio_nr_pages(folio);
	unsigned long addr = (unsigned long)folio_address(folio);
	int ret;

	if (!folio_test_uptodate(folio))
		folio_zero_range(folio, 0, folio_size(folio));
	for (i = 0; i < nr; i++) {
		ret = guestmem_unmap_page(folio_page(folio, i));
		if (ret) {
			guestmem_restore_pages(folio, i);
			return ret;
		}
	}
	folio_set_checked(folio);
	atomic_long_add(nr, &guestmem_nr_unmapped);
	atomic_inc(&gm->unflushed);
	batch->start = min(batch->start, addr);
	batch->end = max(batch->end, addr + folio_size(folio));
	batch->nr_folios++;
	return 0;
}

/* Undo guestmem_zap_folio(): the folio's pages are back in the direct map. */
static void guestmem_unzap_folio(struct folio *folio)
{
	unsigned long nr = folio_nr_pages(folio);

	/*
	 * Not a poisoned folio: memory failure may have unmapped it on
	 * purpose (set_mce_nospec()).
	 */
	if (!folio_contain_hwpoisoned_page(folio))
		guestmem_restore_pages(folio, nr);
	folio_clear_checked(folio);
	atomic_long_sub(nr, &guestmem_nr_unmapped);
}

static void guestmem_flush_range(unsigned long start, unsigned long end)
{
	flush_tlb_kernel_range(start, end);
	atomic_long_inc(&guestmem_nr_flushes);
}

static void guestmem_flush(struct guestmem *gm, struct guestmem_batch *batch)
{
	if (!batch->nr_folios)
		return;
	guestmem_flush_range(batch->start, batch->end);
	/* Only now may lookups hand these folios out without a flush. */
	smp_mb__before_atomic();
	atomic_sub(batch->nr_folios, &gm->unflushed);
	*batch = (struct guestmem_batch)GUESTMEM_BATCH_INIT;
}

/*
 * Find or allocate the folio at @index, locked.  The one per-folio word the
 * library uses is folio->private, which points back to the file: without
 * PG_private nothing else in mm reads it, and ->free_folio(), which gets no
 * mapping, needs it to find the owner.
 */
VISIBLE_IF_KUNIT struct folio *guestmem_grab_folio(struct guestmem *gm,
						   pgoff_t index)
{
	struct folio *folio;

	KUNIT_STATIC_STUB_REDIRECT(guestmem_grab_folio, gm, index);

	folio = filemap_grab_folio(gm_mapping(gm), index);
	if (!IS_ERR(folio) && !folio->private)
		folio->private = gm;
	return folio;
}
EXPORT_SYMBOL_IF_KUNIT(guestmem_grab_folio);

/* guestmem_grab_folio(), with its pages out of the direct map if need be. */
static struct folio *guestmem_take_folio(struct guestmem *gm, pgoff_t index,
					 struct guestmem_batch *batch)
{
	struct folio *folio = guestmem_grab_folio(gm, index);
	int ret;

	/*
	 * A poisoned folio is neither zeroed (that would consume the poison)
	 * nor removed: the lookup fails with -EHWPOISON.
	 */
	if (IS_ERR(folio) || !(gm->flags & GUESTMEM_F_NO_DIRECT_MAP) ||
	    folio_test_checked(folio) || folio_contain_hwpoisoned_page(folio))
		return folio;
	if (gm->shared) {
		/*
		 * The folio is in the page cache: a conversion that changes
		 * the state from now on finds it (it waits for the folio
		 * lock).  Pairs with the smp_mb() in guestmem_convert().
		 */
		smp_mb();
	}
	if (!guestmem_page_private(gm, folio->index))
		return folio;

	ret = guestmem_zap_folio(gm, folio, batch);
	if (ret) {
		folio_unlock(folio);
		folio_put(folio);
		return ERR_PTR(ret);
	}
	return folio;
}

/**
 * guestmem_folio_nr_mapped - how many pages of a folio are in the direct map
 * @folio: A folio of a guestmem file.
 *
 * For tests and debug checks.
 *
 * Context: Any context.
 * Return: The number of pages of @folio present in the direct map.
 */
VISIBLE_IF_KUNIT unsigned long guestmem_folio_nr_mapped(struct folio *folio)
{
	unsigned long i, nr = 0;

	for (i = 0; i < folio_nr_pages(folio); i++)
		nr += kernel_page_present(folio_page(folio, i));
	return nr;
}
EXPORT_SYMBOL_IF_KUNIT(guestmem_folio_nr_mapped);

/**
 * guestmem_nr_tlb_flushes - kernel TLB flushes made for direct-map removal
 *
 * Context: Any context.
 * Return: The number of flushes since boot.
 */
VISIBLE_IF_KUNIT long guestmem_nr_tlb_flushes(void)
{
	return atomic_long_read(&guestmem_nr_flushes);
}
EXPORT_SYMBOL_IF_KUNIT(guestmem_nr_tlb_flushes);

/**
 * guestmem_active - whether guest memory may be out of the direct map
 *
 * True from the creation of a %GUESTMEM_F_NO_DIRECT_MAP file to its last
 * close, which frees its memory, and while any page is out of the direct
 * map.  Hibernation is refused meanwhile: the image would carry guest
 * private memory to disk.
 *
 * Context: Any context.
 * Return: true while any %GUESTMEM_F_NO_DIRECT_MAP file is open or any
 * page is out of the direct map.
 */
bool guestmem_active(void)
{
	/*
	 * Pages are counted as well: a lookup racing with the last close may
	 * still add (zeroed) folios until its binding is gone.
	 */
	return atomic_read(&guestmem_nr_no_direct_map_files) != 0 ||
	       atomic_long_read(&guestmem_nr_unmapped) != 0;
}
EXPORT_SYMBOL_IF_KUNIT(guestmem_active);

static long guestmem_allocate(struct guestmem *gm, loff_t offset, loff_t len)
{
	struct address_space *mapping = gm_mapping(gm);
	pgoff_t index = offset >> PAGE_SHIFT;
	pgoff_t end = (offset + len) >> PAGE_SHIFT;
	struct guestmem_batch batch = GUESTMEM_BATCH_INIT;
	long ret = 0;

	/* The size of a guestmem file is fixed at creation. */
	if (offset + len > i_size_read(&gm->vfs_inode))
		return -EINVAL;

	filemap_invalidate_lock_shared(mapping);
	while (index < end) {
		struct folio *folio;

		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}

		folio = guestmem_take_folio(gm, index, &batch);
		if (IS_ERR(folio)) {
			ret = PTR_ERR(folio);
			break;
		}
		index = folio_next_index(folio);
		folio_unlock(folio);
		folio_put(folio);
		cond_resched();
	}
	/* One flush for the whole call, whatever happened. */
	guestmem_flush(gm, &batch);
	filemap_invalidate_unlock_shared(mapping);

	return ret;
}

static long guestmem_punch_hole(struct guestmem *gm, loff_t offset, loff_t len)
{
	struct address_space *mapping = gm_mapping(gm);
	pgoff_t start = offset >> PAGE_SHIFT;
	pgoff_t end = (offset + len) >> PAGE_SHIFT;

	filemap_invalidate_lock(mapping);
	guestmem_invalidate(gm, start, end, true);
	truncate_inode_pages_range(mapping, offset, offset + len - 1);
	guestmem_invalidate(gm, start, end, false);
	filemap_invalidate_unlock(mapping);

	return 0;
}

static long guestmem_fallocate(struct file *file, int mode, loff_t offset,
			       loff_t len)
{
	struct guestmem *gm = GUESTMEM_I(file_inode(file));
	long ret;

	if (!(mode & FALLOC_FL_KEEP_SIZE))
		return -EOPNOTSUPP;
	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE))
		return -EOPNOTSUPP;
	if (!PAGE_ALIGNED(offset) || !PAGE_ALIGNED(len))
		return -EINVAL;

	if (mode & FALLOC_FL_PUNCH_HOLE)
		ret = guestmem_punch_hole(gm, offset, len);
	else
		ret = guestmem_allocate(gm, offset, len);

	if (!ret)
		file_modified(file);
	return ret;
}

/*
 * Host mappings.  Only shared pages are ever mapped: a fault checks the
 * page's state under the invalidate lock, held shared, and a conversion to
 * private takes that lock exclusive and then unmaps every mapped folio of
 * the range, so a page is never mapped while private.  The folio is handed
 * to the fault with a reference and locked; a conversion that catches it
 * between this handler and its mapping sees that reference and refuses.
 */
static vm_fault_t guestmem_fault(struct vm_fault *vmf)
{
	struct guestmem *gm = GUESTMEM_I(file_inode(vmf->vma->vm_file));
	struct address_space *mapping = gm_mapping(gm);
	struct guestmem_batch batch = GUESTMEM_BATCH_INIT;
	pgoff_t index = vmf->pgoff;
	struct folio *folio;
	vm_fault_t ret = VM_FAULT_LOCKED;

	if (index >= gm_nr_pages(gm))
		return VM_FAULT_SIGBUS;

	filemap_invalidate_lock_shared(mapping);
	if (guestmem_page_private(gm, index)) {
		ret = VM_FAULT_SIGBUS;
		goto out;
	}
	/* A shared page is never taken out of the direct map: no batch. */
	folio = guestmem_take_folio(gm, index, &batch);
	if (IS_ERR(folio)) {
		ret = vmf_error(PTR_ERR(folio));
		goto out;
	}
	if (folio_test_hwpoison(folio)) {
		folio_unlock(folio);
		folio_put(folio);
		ret = VM_FAULT_HWPOISON;
		goto out;
	}
	/* First touch: the host sees zeroes, as with any new file page. */
	if (!folio_test_uptodate(folio)) {
		folio_zero_range(folio, 0, folio_size(folio));
		folio_mark_uptodate(folio);
	}
	vmf->page = folio_file_page(folio, index);
out:
	filemap_invalidate_unlock_shared(mapping);
	return ret;
}

static const struct vm_operations_struct guestmem_vm_ops = {
	.fault	= guestmem_fault,
};

static int guestmem_mmap(struct file *file, struct vm_area_struct *vma)
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

static long guestmem_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct guestmem *gm = GUESTMEM_I(file_inode(file));

	if (!gm->ops->ioctl)
		return -ENOTTY;
	return gm->ops->ioctl(file, cmd, arg);
}

/*
 * Before a conversion to private: take every folio of the range out of the
 * host's page tables, then fail if one still holds any reference but the
 * page cache's and the caller's: a GUP pin (O_DIRECT, vmsplice, vhost, an
 * IOMMU) would keep host access to a private page.  Only folios that are
 * mapped are unmapped, one by one: a page with no folio, or a folio with
 * no mapping, has no page-table entry to remove (every entry holds a
 * folio reference, which the check below sees; a new fault waits for the
 * invalidate lock, and one in flight holds its reference), and unmapping
 * the whole range would call every MMU notifier of every process that
 * maps the file.
 * Returns 0, or -EAGAIN with the first page found busy in *@busy.  Per-CPU
 * LRU batches hold references to new folios for a while: on a miss they
 * are drained once and the range checked again.  A poisoned folio keeps
 * memory_failure()'s reference for good: -EHWPOISON, not a retry.
 */
static int guestmem_unmap_check_refs(struct guestmem *gm, pgoff_t start,
				     pgoff_t end, pgoff_t *busy)
{
	struct folio_batch fbatch;
	bool drained = false;
	unsigned int i;
	pgoff_t index;
	int ret;

again:
	ret = 0;
	index = start;
	folio_batch_init(&fbatch);
	while (!ret &&
	       filemap_get_folios(gm_mapping(gm), &index, end - 1, &fbatch)) {
		for (i = 0; i < folio_batch_count(&fbatch); i++) {
			struct folio *folio = fbatch.folios[i];

			if (folio_mapped(folio)) {
				folio_lock(folio);
				unmap_mapping_folio(folio);
				folio_unlock(folio);
			}
			if (folio_contain_hwpoisoned_page(folio))
				ret = -EHWPOISON;
			else if (folio_mapped(folio) ||
				 folio_ref_count(folio) != folio_nr_pages(folio) + 1)
				ret = -EAGAIN;
			if (ret) {
				*busy = max(folio->index, start);
				break;
			}
		}
		folio_batch_release(&fbatch);
		cond_resched();
	}
	if (ret == -EAGAIN && !drained) {
		lru_add_drain_all();
		drained = true;
		goto again;
	}
	return ret;
}

/*
 * Make the direct-map state of each folio in [start, end) follow the state
 * of its page: out if private in a %GUESTMEM_F_NO_DIRECT_MAP file (removed
 * without a flush, collected in @batch), back in if shared; zeroed on the
 * way if asked (through the direct map, so a private folio comes back in
 * for that and leaves again; its direct map is split already, so leaving
 * again does not allocate).  Called after the state changed, under the
 * invalidate lock held exclusive; a lookup that allocated a folio
 * meanwhile chose from the state it read under the same folio lock.
 * Fails only when a folio cannot leave the direct map.
 */
static int guestmem_sync_folios(struct guestmem *gm, pgoff_t start,
				pgoff_t end, bool zero,
				struct guestmem_batch *batch)
{
	bool nodm = gm->flags & GUESTMEM_F_NO_DIRECT_MAP;
	struct folio_batch fbatch;
	pgoff_t index = start;
	unsigned int i;
	int ret = 0;

	folio_batch_init(&fbatch);
	while (!ret &&
	       filemap_get_folios(gm_mapping(gm), &index, end - 1, &fbatch)) {
		for (i = 0; i < folio_batch_count(&fbatch); i++) {
			struct folio *folio = fbatch.folios[i];
			bool poisoned = folio_contain_hwpoisoned_page(folio);
			bool private = guestmem_page_private(gm, folio->index);

			folio_lock(folio);
			if (folio_test_checked(folio) && (!private || zero))
				guestmem_unzap_folio(folio);
			if (zero && !poisoned)
				folio_zero_range(folio, 0, folio_size(folio));
			if (private && nodm && !folio_test_checked(folio) &&
			    !poisoned)
				ret = guestmem_zap_folio(gm, folio, batch);
			folio_unlock(folio);
			if (ret)
				break;
		}
		folio_batch_release(&fbatch);
		cond_resched();
	}
	return ret;
}

/* Each binding's ->convert(); a refusal names the binding's first page. */
static int guestmem_convert_ask(struct guestmem *gm, pgoff_t start,
				pgoff_t end, bool to_private, pgoff_t *busy)
{
	struct guestmem_binding *b;
	int ret;

	list_for_each_entry(b, &gm->bindings, entry) {
		pgoff_t s = max(start, b->start), e = min(end, b->end);

		if (s < e && b->ops->convert) {
			ret = b->ops->convert(b, s, e, to_private);
			if (ret) {
				*busy = s;
				return ret;
			}
		}
	}
	return 0;
}

/* A large folio must convert as a whole: refuse a range that splits one. */
static bool guestmem_range_splits_folio(struct guestmem *gm, pgoff_t start,
					pgoff_t end)
{
	pgoff_t edge[2] = { start, end };
	bool split = false;
	int i;

	for (i = 0; i < 2 && !split; i++) {
		struct folio *folio;

		if (edge[i] >= gm_nr_pages(gm))
			continue;
		folio = filemap_get_folio(gm_mapping(gm), edge[i]);
		if (IS_ERR(folio))
			continue;
		split = folio->index != edge[i];
		folio_put(folio);
	}
	return split;
}

/**
 * guestmem_convert - turn a range of a file shared or private
 * @file: A guestmem file created with %GUESTMEM_F_MMAP.
 * @start: First page of the range.
 * @nr: Number of pages.
 * @to_private: true to make the range private, false to make it shared.
 * @flags: %GUESTMEM_CONVERT_ZERO zeroes the pages in the file; without it
 *	their contents are kept.
 * @error_index: Set to the first page that could not be converted when
 *	-EAGAIN is returned; untouched otherwise.  May be NULL.
 *
 * All or nothing.  To private: every host mapping of the range is removed,
 * then the call fails with -EAGAIN if a page in it is still mapped or
 * referenced by anyone but the file (a GUP pin); otherwise each binding's
 * ->convert() may refuse, and then the pages become private and, in a
 * %GUESTMEM_F_NO_DIRECT_MAP file, leave the direct map (one kernel TLB
 * flush for the call).  To shared: the pages go back into the direct map
 * and become mappable.  Either way, bindings overlapping the range get an
 * ->invalidate_begin()/->invalidate_end() pair around the change, so that
 * backends drop the mappings they made under the old state.  Pages already
 * in the requested state are converted again (a no-op but for @flags).
 *
 * Context: Process context, may sleep; takes the file's invalidate lock,
 * folio locks and the mapping's i_mmap_rwsem.
 * Return: 0 on success; -EINVAL if @file is not a guestmem file with
 * %GUESTMEM_F_MMAP, for unknown @flags, an empty range, a range past the
 * end of the file or one that splits a large folio; -EAGAIN if a page is
 * in use (see @error_index; also when a binding's ->convert() returns
 * -EAGAIN, with the first page of that binding's range); -EHWPOISON (to
 * private) for a poisoned page; -ENOMEM if the direct map could not be
 * changed (with %GUESTMEM_CONVERT_ZERO, part of the range may have been
 * zeroed then); or the error of a binding's ->convert().
 */
int guestmem_convert(struct file *file, pgoff_t start, pgoff_t nr,
		     bool to_private, unsigned int flags, pgoff_t *error_index)
{
	struct guestmem_batch batch = GUESTMEM_BATCH_INIT;
	unsigned long *was_private = NULL;
	struct address_space *mapping;
	struct guestmem *gm;
	pgoff_t end, busy, i;
	int ret;

	if (file->f_op != &guestmem_fops)
		return -EINVAL;
	gm = GUESTMEM_I(file_inode(file));
	mapping = gm_mapping(gm);
	if (!(gm->flags & GUESTMEM_F_MMAP) || (flags & ~GUESTMEM_CONVERT_ZERO) ||
	    !nr || check_add_overflow(start, nr, &end) || end > gm_nr_pages(gm))
		return -EINVAL;

	/* What was private before, should the direct map fail us midway. */
	if (to_private && (gm->flags & GUESTMEM_F_NO_DIRECT_MAP)) {
		was_private = kvcalloc(BITS_TO_LONGS(nr), sizeof(long),
				       GFP_KERNEL_ACCOUNT);
		if (!was_private)
			return -ENOMEM;
	}

	filemap_invalidate_lock(mapping);
	if (guestmem_range_splits_folio(gm, start, end)) {
		ret = -EINVAL;
		goto out_unlock;
	}
	guestmem_invalidate(gm, start, end, true);

	ret = to_private ? guestmem_unmap_check_refs(gm, start, end, &busy) : 0;
	if (!ret)
		ret = guestmem_convert_ask(gm, start, end, to_private, &busy);
	if (ret) {
		if (ret == -EAGAIN && error_index)
			*error_index = busy;
		goto out_end;
	}

	for (i = 0; was_private && i < nr; i++) {
		if (guestmem_page_private(gm, start + i))
			__set_bit(i, was_private);
		if (!(i % SZ_64K))
			cond_resched();
	}
	/* The file size keeps both within the bitmap API's unsigned int. */
	if (to_private)
		bitmap_clear(gm->shared, start, nr);
	else
		bitmap_set(gm->shared, start, nr);
	/*
	 * Against a lookup that adds a folio and then reads the state (see
	 * guestmem_take_folio()): either it sees the new state, or the walk
	 * below sees its folio.
	 */
	smp_mb();

	ret = guestmem_sync_folios(gm, start, end,
				   flags & GUESTMEM_CONVERT_ZERO, &batch);
	if (ret && was_private) {
		/*
		 * Only a removal from the direct map fails: to private.  Put
		 * back the state of the pages that were shared, then let the
		 * folios follow it again: those this call removed come back.
		 * A lookup that read the state before the restore, and removed
		 * a folio on its own, is caught too: both hold the folio lock,
		 * and the restore came first.
		 */
		for (i = 0; i < nr; i++) {
			if (!test_bit(i, was_private))
				__set_bit(start + i, gm->shared);
			if (!(i % SZ_64K))
				cond_resched();
		}
		/* The state before the folios, as above. */
		smp_mb();
		guestmem_sync_folios(gm, start, end, false, &batch);
	}
	guestmem_flush(gm, &batch);
out_end:
	guestmem_invalidate(gm, start, end, false);
out_unlock:
	filemap_invalidate_unlock(mapping);
	kvfree(was_private);
	return ret;
}
EXPORT_SYMBOL_GPL(guestmem_convert);

/**
 * guestmem_is_private - whether a page of a bound range is private
 * @binding: A binding of the file.
 * @index: Page of the file.
 *
 * Every page of a file without %GUESTMEM_F_MMAP is private.  The answer
 * is only stable while the caller holds off conversions: a backend reads
 * it after it sampled its invalidation sequence and checks that sequence
 * again before it maps the page (KVM: mmu_invalidate_retry_gfn()).
 *
 * Context: Any context; does not sleep and takes no lock.
 * Return: true if the page at @index is private.
 */
bool guestmem_is_private(struct guestmem_binding *binding, pgoff_t index)
{
	struct guestmem *gm = binding->gm;

	if (WARN_ON_ONCE(index >= gm_nr_pages(gm)))
		return true;
	return guestmem_page_private(gm, index);
}
EXPORT_SYMBOL_GPL(guestmem_is_private);

/**
 * guestmem_file_flags - the flags a guestmem file was created with
 * @file: A guestmem file.
 *
 * Context: Any context; the caller holds a reference to @file.
 * Return: The GUESTMEM_F_* flags of guestmem_file_create(), or 0 if @file
 * is not a guestmem file.
 */
unsigned long guestmem_file_flags(struct file *file)
{
	if (file->f_op != &guestmem_fops)
		return 0;
	return GUESTMEM_I(file_inode(file))->flags;
}
EXPORT_SYMBOL_GPL(guestmem_file_flags);

/*
 * The last reference to the file is gone: nothing can reach its memory any
 * more, so free it now, inside a whole-range invalidation, detach every
 * binding (the backend objects may outlive the file) and hand the owner's
 * data back.  The inode itself stays until the last binding is removed.
 */
static int guestmem_release(struct inode *inode, struct file *file)
{
	struct guestmem *gm = GUESTMEM_I(inode);
	struct address_space *mapping = inode->i_mapping;
	struct guestmem_binding *b, *tmp;

	filemap_invalidate_lock(mapping);
	/*
	 * Detached first: a guestmem_get_folio() that still sees the binding
	 * attached started before the invalidation below, which the backend
	 * orders against its own mappings (KVM: mmu_invalidate_seq).
	 */
	list_for_each_entry(b, &gm->bindings, entry)
		WRITE_ONCE(b->detached, true);
	guestmem_invalidate(gm, 0, ULONG_MAX, true);
	truncate_inode_pages(mapping, 0);
	guestmem_invalidate(gm, 0, ULONG_MAX, false);
	list_for_each_entry_safe(b, tmp, &gm->bindings, entry)
		list_del_init(&b->entry);
	filemap_invalidate_unlock(mapping);

	if (gm->flags & GUESTMEM_F_NO_DIRECT_MAP)
		atomic_dec(&guestmem_nr_no_direct_map_files);

	if (gm->ops->release)
		gm->ops->release(gm->priv);
	return 0;
}

static const struct file_operations guestmem_fops = {
	.open		= generic_file_open,
	.release	= guestmem_release,
	.fallocate	= guestmem_fallocate,
	.mmap		= guestmem_mmap,
	.unlocked_ioctl	= guestmem_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static int guestmem_migrate_folio(struct address_space *mapping,
				  struct folio *dst, struct folio *src,
				  enum migrate_mode mode)
{
	/* Guest memory is unmovable; the mapping says so already. */
	return -EBUSY;
}

static int guestmem_error_remove_folio(struct address_space *mapping,
				       struct folio *folio)
{
	struct guestmem *gm = GUESTMEM_I(mapping->host);
	pgoff_t start = folio->index;
	pgoff_t end = start + folio_nr_pages(folio);

	/*
	 * The folio stays in the file: what to do about the error is the
	 * backend's and userspace's decision.  Unmapping it from the guest
	 * makes the next access find it poisoned (guestmem_get_folio()
	 * returns -EHWPOISON).
	 */
	filemap_invalidate_lock_shared(mapping);
	guestmem_invalidate(gm, start, end, true);
	guestmem_invalidate(gm, start, end, false);
	filemap_invalidate_unlock_shared(mapping);

	return MF_DELAYED;
}

static void guestmem_free_folio(struct folio *folio)
{
	struct guestmem *gm = folio->private;
	unsigned long nr = folio_nr_pages(folio);

	/* Back in the direct map before the folio can be freed. */
	if (folio_test_checked(folio))
		guestmem_unzap_folio(folio);
	VM_WARN_ON_ONCE_FOLIO(gm && (gm->flags & GUESTMEM_F_NO_DIRECT_MAP) &&
			      !folio_contain_hwpoisoned_page(folio) &&
			      guestmem_folio_nr_mapped(folio) != nr, folio);
	folio->private = NULL;
	if (gm && gm->ops->free_folio)
		gm->ops->free_folio(folio);
}

static const struct address_space_operations guestmem_aops = {
	.dirty_folio		= noop_dirty_folio,
	.migrate_folio		= guestmem_migrate_folio,
	.error_remove_folio	= guestmem_error_remove_folio,
	.free_folio		= guestmem_free_folio,
};

static int guestmem_getattr(struct mnt_idmap *idmap, const struct path *path,
			    struct kstat *stat, u32 request_mask,
			    unsigned int query_flags)
{
	generic_fillattr(idmap, request_mask, d_inode(path->dentry), stat);
	return 0;
}

static int guestmem_setattr(struct mnt_idmap *idmap, struct dentry *dentry,
			    struct iattr *attr)
{
	/* Neither the size nor anything else of a guestmem file changes. */
	return -EINVAL;
}

static const struct inode_operations guestmem_iops = {
	.getattr	= guestmem_getattr,
	.setattr	= guestmem_setattr,
};

/**
 * guestmem_supported_flags - the guestmem_file_create() flags this system has
 *
 * %GUESTMEM_F_NO_DIRECT_MAP needs an architecture that can change its
 * direct map page by page (can_set_direct_map()) and no highmem; backends
 * use this to advertise their own flag for it, without reaching into mm
 * themselves.  %GUESTMEM_F_MMAP and %GUESTMEM_F_INIT_SHARED are always
 * supported.
 *
 * Context: Any context.
 * Return: The GUESTMEM_F_* flags guestmem_file_create() accepts.
 */
unsigned long guestmem_supported_flags(void)
{
	/* Highmem pages are not in the direct map to begin with. */
	unsigned long flags = GUESTMEM_F_MMAP | GUESTMEM_F_INIT_SHARED;

	if (!IS_ENABLED(CONFIG_HIGHMEM) && can_set_direct_map())
		flags |= GUESTMEM_F_NO_DIRECT_MAP;
	return flags;
}
EXPORT_SYMBOL_GPL(guestmem_supported_flags);

/**
 * guestmem_file_create - create a guestmem file
 * @name: Name of the file, as /proc/PID/fd shows it.
 * @size: Size in bytes: positive, page aligned, fixed for the file's life.
 * @flags: %GUESTMEM_F_NO_DIRECT_MAP: keep the file's private memory out of
 *	the kernel direct map.
 *	%GUESTMEM_F_MMAP: keep a shared/private state per page, changed by
 *	guestmem_convert(), and let the host mmap() the shared pages.
 *	%GUESTMEM_F_INIT_SHARED (with %GUESTMEM_F_MMAP): every page starts
 *	shared; without it, every page starts private.
 * @ops: Callbacks of the owner (->release, ->free_folio).
 * @priv: Owner's data, given back by @ops->release.
 *
 * Creates a file whose memory the library owns: fallocate() allocates
 * (%FALLOC_FL_KEEP_SIZE) and frees (%FALLOC_FL_PUNCH_HOLE) it, read and
 * write are refused, mmap() too unless %GUESTMEM_F_MMAP, the size cannot
 * change, ioctl() goes to @ops->ioctl.  The file holds a reference on
 * @ops->owner until its memory is freed.
 *
 * Context: Process context, may sleep.
 * Return: The new file, to be installed in a file descriptor by the
 * caller, or ERR_PTR(-EINVAL) for a bad size or flag (also
 * %GUESTMEM_F_NO_DIRECT_MAP where the direct map cannot be changed,
 * %GUESTMEM_F_INIT_SHARED without %GUESTMEM_F_MMAP, and a
 * %GUESTMEM_F_MMAP file of more than INT_MAX pages), ERR_PTR(-ENOMEM),
 * or another error of the file allocation.
 */
struct file *guestmem_file_create(const char *name, loff_t size,
				  unsigned long flags,
				  const struct guestmem_ops *ops, void *priv)
{
	struct guestmem *gm;
	struct inode *inode;
	struct file *file;

	if ((flags & ~guestmem_supported_flags()) || size <= 0 ||
	    !PAGE_ALIGNED(size) ||
	    (flags & (GUESTMEM_F_MMAP | GUESTMEM_F_INIT_SHARED)) ==
	    GUESTMEM_F_INIT_SHARED)
		return ERR_PTR(-EINVAL);
	/* The state's bitmap is indexed by unsigned int. */
	if ((flags & GUESTMEM_F_MMAP) && (size >> PAGE_SHIFT) > INT_MAX)
		return ERR_PTR(-EINVAL);

	inode = anon_inode_make_secure_inode(guestmem_mnt->mnt_sb, name, NULL);
	if (IS_ERR(inode))
		return ERR_CAST(inode);

	gm = GUESTMEM_I(inode);
	if (flags & GUESTMEM_F_MMAP) {
		/*
		 * One bit per page; freed with the inode.  Userspace picks
		 * the size: a bitmap kvmalloc() cannot give is -ENOMEM, not
		 * a warning.
		 */
		gm->shared = kvcalloc(BITS_TO_LONGS(size >> PAGE_SHIFT),
				      sizeof(long),
				      GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (!gm->shared) {
			iput(inode);
			return ERR_PTR(-ENOMEM);
		}
		if (flags & GUESTMEM_F_INIT_SHARED)
			bitmap_set(gm->shared, 0, size >> PAGE_SHIFT);
		/*
		 * Host faults take this lock under mmap_lock; a backend may
		 * copy from userspace under guestmem_lock() of a file that
		 * cannot be mapped (KVM: SEV-SNP's populate).  Two classes
		 * keep lockdep from joining the two orders.
		 */
		lockdep_set_class(&inode->i_mapping->invalidate_lock,
				  &guestmem_mmap_invalidate_key);
	}
	__module_get(ops->owner);
	gm->ops = ops;
	gm->priv = priv;
	gm->flags = flags;

	inode->i_op = &guestmem_iops;
	inode->i_mapping->a_ops = &guestmem_aops;
	inode->i_mode |= S_IFREG;
	inode->i_size = size;
	mapping_set_gfp_mask(inode->i_mapping, GFP_HIGHUSER);
	mapping_set_unevictable(inode->i_mapping);
	mapping_set_inaccessible(inode->i_mapping);

	file = alloc_file_pseudo(inode, guestmem_mnt, name, O_RDWR,
				 &guestmem_fops);
	if (IS_ERR(file)) {
		iput(inode);
		return file;
	}
	file->f_flags |= O_LARGEFILE;
	if (flags & GUESTMEM_F_NO_DIRECT_MAP)
		atomic_inc(&guestmem_nr_no_direct_map_files);
	return file;
}
EXPORT_SYMBOL_GPL(guestmem_file_create);

/**
 * guestmem_file_priv - the owner's data of a guestmem file
 * @file: Any file.
 * @ops: The owner's callbacks.
 *
 * Lets a backend recognise its own files, for example when userspace
 * names one by file descriptor.
 *
 * Context: Any context; the caller holds a reference to @file.
 * Return: The @priv given to guestmem_file_create() if @file is a guestmem
 * file created with @ops, NULL otherwise.
 */
void *guestmem_file_priv(struct file *file, const struct guestmem_ops *ops)
{
	struct guestmem *gm;

	if (file->f_op != &guestmem_fops)
		return NULL;
	gm = GUESTMEM_I(file_inode(file));
	return gm->ops == ops ? gm->priv : NULL;
}
EXPORT_SYMBOL_GPL(guestmem_file_priv);

/**
 * guestmem_bind - bind a range of a guestmem file to a backend object
 * @file: A guestmem file.
 * @binding: The binding, embedded in the backend's object; unused before.
 * @ops: Callbacks for this binding (->prepare_folio, ->invalidate_*).
 * @start: First page of the range.
 * @nr: Number of pages.
 * @flags: %GUESTMEM_BIND_EXCLUSIVE refuses a range that overlaps another
 *	binding with the same @ops.
 *
 * From now until guestmem_unbind(), @binding gets @ops->invalidate_begin
 * and @ops->invalidate_end around every change to the folios of its range,
 * and guestmem_get_folio() may be called on it.  The binding keeps the
 * file's memory (not the file) alive.
 *
 * Context: Process context, may sleep; takes the file's invalidate lock.
 * Return: 0 on success; -EINVAL if @file is not a guestmem file, @nr is 0
 * or the range goes past the end of the file; -EEXIST if an exclusive
 * binding would overlap another.
 */
int guestmem_bind(struct file *file, struct guestmem_binding *binding,
		  const struct guestmem_ops *ops, pgoff_t start, pgoff_t nr,
		  unsigned int flags)
{
	struct guestmem_binding *b;
	struct address_space *mapping;
	struct guestmem *gm;
	pgoff_t end;
	int ret = 0;

	if (file->f_op != &guestmem_fops || !nr ||
	    check_add_overflow(start, nr, &end))
		return -EINVAL;
	gm = GUESTMEM_I(file_inode(file));
	mapping = gm_mapping(gm);
	if (end > i_size_read(&gm->vfs_inode) >> PAGE_SHIFT)
		return -EINVAL;

	filemap_invalidate_lock(mapping);
	if (flags & GUESTMEM_BIND_EXCLUSIVE) {
		list_for_each_entry(b, &gm->bindings, entry) {
			if (b->ops == ops && b->start < end && start < b->end) {
				ret = -EEXIST;
				goto out;
			}
		}
	}
	ihold(&gm->vfs_inode);
	binding->gm = gm;
	binding->ops = ops;
	binding->start = start;
	binding->end = end;
	binding->detached = false;
	list_add_tail(&binding->entry, &gm->bindings);
out:
	filemap_invalidate_unlock(mapping);
	return ret;
}
EXPORT_SYMBOL_GPL(guestmem_bind);

/**
 * guestmem_unbind - remove a binding made by guestmem_bind()
 * @binding: The binding.
 *
 * After this returns no callback runs for @binding and it may be freed.
 * Works whether or not the file was closed first.  The caller must have
 * stopped using folios it got through @binding.  Dropping the binding's
 * reference may free the file's inode (its memory went at the last close).
 *
 * Context: Process context, may sleep; takes the file's invalidate lock.
 * Allowed from the owner's ->release(), which runs with no lock held.
 */
void guestmem_unbind(struct guestmem_binding *binding)
{
	struct guestmem *gm = binding->gm;
	struct address_space *mapping = gm_mapping(gm);

	filemap_invalidate_lock(mapping);
	list_del_init(&binding->entry);
	WRITE_ONCE(binding->detached, true);
	filemap_invalidate_unlock(mapping);

	binding->gm = NULL;
	iput(&gm->vfs_inode);
}
EXPORT_SYMBOL_GPL(guestmem_unbind);

/**
 * guestmem_lock - hold off changes to the folios of a bound file
 * @binding: A binding of the file.
 *
 * While held, no folio of the file is removed (punch hole) and no binding
 * of the file comes or goes, so a backend can fill several folios (for
 * example a confidential guest's initial image) as one step.
 * guestmem_get_folio() may be used under it.  Pairs with guestmem_unlock().
 *
 * Context: Process context, may sleep.  Not to be held across a return
 * to userspace; no guestmem callback may take it.
 */
void guestmem_lock(struct guestmem_binding *binding)
{
	filemap_invalidate_lock(gm_mapping(binding->gm));
}
EXPORT_SYMBOL_GPL(guestmem_lock);

/**
 * guestmem_unlock - release the lock taken by guestmem_lock()
 * @binding: The binding given to guestmem_lock().
 *
 * Context: Process context.
 */
void guestmem_unlock(struct guestmem_binding *binding)
{
	filemap_invalidate_unlock(gm_mapping(binding->gm));
}
EXPORT_SYMBOL_GPL(guestmem_unlock);

/*
 * Zero a new folio and let the backend prepare it for the guest; the folio
 * is "prepared" (PG_uptodate) only when both succeeded.
 */
static int guestmem_prepare_folio(struct guestmem_binding *b, pgoff_t index,
				  struct folio *folio)
{
	unsigned long nr = folio_nr_pages(folio);
	int ret;

	/* Out of the direct map, it was zeroed before it left. */
	if (!folio_test_checked(folio))
		folio_zero_range(folio, 0, folio_size(folio));

	if (b->ops->prepare_folio) {
		ret = b->ops->prepare_folio(b, ALIGN_DOWN(index, nr), folio);
		if (ret)
			return ret;
	}
	folio_mark_uptodate(folio);
	return 0;
}

/**
 * guestmem_get_folio - get the folio backing a page of a bound range
 * @binding: The binding the access is for.
 * @index: Page of the file, within the binding.
 * @flags: %GUESTMEM_GET_PREPARE: zero and prepare the folio (the owner's
 *	->prepare_folio) if it was not prepared yet.
 *	%GUESTMEM_GET_UNPREPARED: fail if the folio was prepared already;
 *	the caller fills it and calls guestmem_folio_mark_prepared().  Not
 *	in a %GUESTMEM_F_NO_DIRECT_MAP file, whose folios the kernel cannot
 *	write.
 *
 * Allocates the folio on first use.  The folio may be larger than a page;
 * its page for @index is folio_file_page(folio, @index).
 *
 * Context: Process context, may sleep.  No guestmem lock is needed; the
 * caller orders the result against ->invalidate_begin() itself (KVM
 * retries on mmu_invalidate_seq).
 * Return: The folio, locked and with a reference the caller drops with
 * folio_put() (after folio_unlock()); or ERR_PTR(-EFAULT) if the file was
 * closed, ERR_PTR(-EIO) if @index is outside the binding,
 * ERR_PTR(-EHWPOISON) for a poisoned folio, ERR_PTR(-EEXIST) for a
 * prepared folio with %GUESTMEM_GET_UNPREPARED, ERR_PTR(-EACCES) for
 * %GUESTMEM_GET_UNPREPARED in a %GUESTMEM_F_NO_DIRECT_MAP file,
 * ERR_PTR(-ENOMEM) or another error of removal from the direct map, or the
 * error of ->prepare_folio().
 */
struct folio *guestmem_get_folio(struct guestmem_binding *binding,
				 pgoff_t index, unsigned int flags)
{
	struct guestmem_batch batch = GUESTMEM_BATCH_INIT;
	struct guestmem *gm = binding->gm;
	struct folio *folio;
	int ret = 0;

	if (READ_ONCE(binding->detached))
		return ERR_PTR(-EFAULT);
	if (index < binding->start || index >= binding->end)
		return ERR_PTR(-EIO);
	/* The caller would write the folio through the direct map. */
	if ((flags & GUESTMEM_GET_UNPREPARED) &&
	    (gm->flags & GUESTMEM_F_NO_DIRECT_MAP))
		return ERR_PTR(-EACCES);

	folio = guestmem_take_folio(gm, index, &batch);
	guestmem_flush(gm, &batch);
	if (IS_ERR(folio))
		return folio;

	/* Removed by an fallocate() that has not flushed yet: flush now. */
	if (folio_test_checked(folio) && atomic_read(&gm->unflushed)) {
		unsigned long addr = (unsigned long)folio_address(folio);

		guestmem_flush_range(addr, addr + folio_size(folio));
	}

	if (folio_test_hwpoison(folio))
		ret = -EHWPOISON;
	else if (folio_test_uptodate(folio))
		ret = flags & GUESTMEM_GET_UNPREPARED ? -EEXIST : 0;
	else if (flags & GUESTMEM_GET_PREPARE)
		ret = guestmem_prepare_folio(binding, index, folio);

	if (ret) {
		folio_unlock(folio);
		folio_put(folio);
		return ERR_PTR(ret);
	}
	return folio;
}
EXPORT_SYMBOL_GPL(guestmem_get_folio);

/**
 * guestmem_folio_mark_prepared - record that a folio is ready for the guest
 * @folio: A locked folio from guestmem_get_folio().
 *
 * For a backend that filled the folio itself (%GUESTMEM_GET_UNPREPARED):
 * later lookups with %GUESTMEM_GET_PREPARE will not zero it again.
 *
 * Context: Any context.  The caller holds a reference to @folio and
 * either its lock or guestmem_lock().
 */
void guestmem_folio_mark_prepared(struct folio *folio)
{
	folio_mark_uptodate(folio);
}
EXPORT_SYMBOL_GPL(guestmem_folio_mark_prepared);

static struct inode *guestmem_alloc_inode(struct super_block *sb)
{
	struct guestmem *gm;

	gm = alloc_inode_sb(sb, guestmem_inode_cachep, GFP_KERNEL);
	if (!gm)
		return NULL;
	gm->ops = NULL;
	gm->priv = NULL;
	gm->shared = NULL;
	INIT_LIST_HEAD(&gm->bindings);
	atomic_set(&gm->unflushed, 0);
	return &gm->vfs_inode;
}

static void guestmem_free_inode(struct inode *inode)
{
	kmem_cache_free(guestmem_inode_cachep, GUESTMEM_I(inode));
}

/* The last reference (file or binding) is gone: free the memory. */
static void guestmem_evict_inode(struct inode *inode)
{
	struct guestmem *gm = GUESTMEM_I(inode);

	WARN_ON_ONCE(!list_empty(&gm->bindings));
	truncate_inode_pages_final(inode->i_mapping);
	clear_inode(inode);
	kvfree(gm->shared);
	gm->shared = NULL;
	if (gm->ops)
		module_put(gm->ops->owner);
}

static const struct super_operations guestmem_sops = {
	.alloc_inode	= guestmem_alloc_inode,
	.free_inode	= guestmem_free_inode,
	.evict_inode	= guestmem_evict_inode,
	.statfs		= simple_statfs,
};

static int guestmem_init_fs_context(struct fs_context *fc)
{
	struct pseudo_fs_context *ctx = init_pseudo(fc, GUESTMEM_MAGIC);

	if (!ctx)
		return -ENOMEM;
	ctx->ops = &guestmem_sops;
	return 0;
}

static struct file_system_type guestmem_fs = {
	.name			= "guestmem",
	.init_fs_context	= guestmem_init_fs_context,
	.kill_sb		= kill_anon_super,
};

static void guestmem_inode_init_once(void *p)
{
	struct guestmem *gm = p;

	inode_init_once(&gm->vfs_inode);
}

static int guestmem_flushes_get(void *data, u64 *val)
{
	*val = guestmem_nr_tlb_flushes();
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(guestmem_flushes_fops, guestmem_flushes_get, NULL,
			 "%llu\n");

static int guestmem_unmapped_get(void *data, u64 *val)
{
	*val = atomic_long_read(&guestmem_nr_unmapped);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(guestmem_unmapped_fops, guestmem_unmapped_get, NULL,
			 "%llu\n");

static void __init guestmem_debugfs_init(void)
{
	struct dentry *dir = debugfs_create_dir("guestmem", NULL);

	debugfs_create_file_unsafe("tlb_flushes", 0444, dir, NULL,
				   &guestmem_flushes_fops);
	debugfs_create_file_unsafe("pages_unmapped", 0444, dir, NULL,
				   &guestmem_unmapped_fops);
}

static int __init guestmem_init(void)
{
	guestmem_inode_cachep = kmem_cache_create("guestmem_inode",
						  sizeof(struct guestmem), 0,
						  SLAB_ACCOUNT,
						  guestmem_inode_init_once);
	if (!guestmem_inode_cachep)
		return -ENOMEM;

	guestmem_mnt = kern_mount(&guestmem_fs);
	if (IS_ERR(guestmem_mnt)) {
		kmem_cache_destroy(guestmem_inode_cachep);
		return PTR_ERR(guestmem_mnt);
	}
	/* Guest memory is never executed by the host. */
	guestmem_mnt->mnt_flags |= MNT_NOEXEC;
	guestmem_debugfs_init();
	return 0;
}
fs_initcall(guestmem_init);
