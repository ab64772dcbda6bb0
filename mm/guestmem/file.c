// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem files: the internal pseudo filesystem whose inodes embed struct
 * guestmem, file creation and release, fallocate and punch hole, the
 * file, address space and inode operations, and the library's initcall.
 * Each guestmem file has an inode of its own; struct guestmem is embedded
 * in it, so the library's per-file state lives exactly as long as the
 * file's memory.  The memory is page cache of the inode: unevictable,
 * unmovable, never written back.  Locking and lifetimes: internal.h.
 */

#define pr_fmt(fmt) "guestmem: " fmt

#include <linux/anon_inodes.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/guestmem.h>
#include <linux/highmem.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/pseudo_fs.h>
#include <linux/set_memory.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "internal.h"

/* Not a user-visible filesystem: no magic of uapi/linux/magic.h needed. */
#define GUESTMEM_MAGIC	0x67756d6d	/* "gumm" */

static struct vfsmount *guestmem_mnt __ro_after_init;
static struct lock_class_key guestmem_mmap_invalidate_key;
static struct kmem_cache *guestmem_inode_cachep __ro_after_init;

/*
 * The folios of guestmem_allocate() that have to leave the direct map:
 * each stays locked until it is out (or failed to leave), so that no
 * lookup hands it out before.  Returns the error of the removal.
 */
static int guestmem_zap_pending(struct guestmem *gm, struct folio **pending,
				unsigned int *nr, struct guestmem_batch *batch)
{
	unsigned int i;
	int ret;

	ret = guestmem_zap_folios(gm, pending, *nr, batch);
	for (i = 0; i < *nr; i++) {
		folio_unlock(pending[i]);
		folio_put(pending[i]);
	}
	*nr = 0;
	return ret;
}

static long guestmem_allocate(struct guestmem *gm, loff_t offset, loff_t len)
{
	struct address_space *mapping = gm_mapping(gm);
	pgoff_t index = offset >> PAGE_SHIFT;
	pgoff_t end = (offset + len) >> PAGE_SHIFT;
	struct guestmem_batch batch = GUESTMEM_BATCH_INIT;
	struct folio *pending[GUESTMEM_ZAP_BATCH];
	unsigned int nr_pending = 0;
	long ret = 0;

	/* The size of a guestmem file is fixed at creation. */
	if (offset + len > i_size_read(&gm->vfs_inode))
		return -EINVAL;

	filemap_invalidate_lock_shared(mapping);
	while (index < end) {
		struct folio *folio;
		bool zap;

		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}

		folio = guestmem_grab_new_folio(gm, index, true, &zap);
		if (IS_ERR(folio)) {
			ret = PTR_ERR(folio);
			break;
		}
		index = folio_next_index(folio);
		if (zap) {
			pending[nr_pending++] = folio;
			if (nr_pending == ARRAY_SIZE(pending)) {
				ret = guestmem_zap_pending(gm, pending,
							   &nr_pending, &batch);
				if (ret)
					break;
			}
		} else {
			folio_unlock(folio);
			folio_put(folio);
		}
		cond_resched();
	}
	if (nr_pending) {
		long err = guestmem_zap_pending(gm, pending, &nr_pending, &batch);

		if (!ret)
			ret = err;
	}
	/* One flush for the whole call, whatever happened. */
	guestmem_flush(gm, &batch);
	filemap_invalidate_unlock_shared(mapping);

	return ret;
}

/* Each overlapping binding's ->punch_hole(), which may refuse. */
static int guestmem_punch_ask(struct guestmem *gm, pgoff_t start, pgoff_t end)
{
	struct guestmem_binding *b;
	int ret;

	list_for_each_entry(b, &gm->bindings, entry) {
		pgoff_t s = max(start, b->start), e = min(end, b->end);

		if (s < e && b->ops->punch_hole) {
			ret = b->ops->punch_hole(b, s, e);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static long guestmem_punch_hole(struct guestmem *gm, loff_t offset, loff_t len)
{
	struct address_space *mapping = gm_mapping(gm);
	pgoff_t start = offset >> PAGE_SHIFT;
	pgoff_t end = (offset + len) >> PAGE_SHIFT;
	pgoff_t inv_start = start, inv_end = end;
	int ret;

	filemap_invalidate_lock(mapping);
	ret = guestmem_punch_ask(gm, start, end);
	if (!ret) {
		/* All of a large folio that is split, as it stops being one. */
		guestmem_huge_span(gm, &inv_start, &inv_end);
		guestmem_invalidate(gm, inv_start, inv_end, true);
		/*
		 * Every host page-table entry of the range goes, the hwpoison
		 * markers that memory_failure() left too (truncation only
		 * unmaps the folios it finds mapped): the range is new for
		 * the host as for the guest.  There are no private COW
		 * copies to keep; private mappings are refused.
		 */
		if (gm->flags & GUESTMEM_F_MMAP)
			unmap_mapping_range(mapping, offset, len, 1);
		guestmem_punch_range(gm, start, end);
		guestmem_invalidate(gm, inv_start, inv_end, false);
	}
	filemap_invalidate_unlock(mapping);

	return ret;
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

static long guestmem_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct guestmem *gm = GUESTMEM_I(file_inode(file));

	if (!gm->ops->ioctl)
		return -ENOTTY;
	return gm->ops->ioctl(file, cmd, arg);
}

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
	guestmem_split_poisoned_wait(gm, 0, gm_nr_pages(gm));
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

const struct file_operations guestmem_fops = {
	.open		= generic_file_open,
	.release	= guestmem_release,
	.fallocate	= guestmem_fallocate,
	.mmap		= guestmem_mmap,
	.unlocked_ioctl	= guestmem_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.show_fdinfo	= guestmem_show_fdinfo,
};

static int guestmem_migrate_folio(struct address_space *mapping,
				  struct folio *dst, struct folio *src,
				  enum migrate_mode mode)
{
	/* Guest memory is unmovable; the mapping says so already. */
	return -EBUSY;
}

/*
 * Memory failure.  memory_failure() calls ->error_remove_folio() with the
 * poisoned folio locked, the reverse of the order of a punch hole or a
 * conversion, which lock folios under the invalidate lock held exclusive:
 * so it tells the backends under a trylock of the invalidate lock only.
 * When that fails, guestmem_poison_work() tells them a moment later, after
 * taking the lock as everyone else does.  The work also splits a large
 * folio with a poisoned page, which memory_failure() could not split
 * (guestmem_release_folio()).  Until the backends are told, a guest may
 * still reach the poisoned page through a mapping it had before; a new
 * lookup of the page fails with -EHWPOISON already.  Ranges left while the
 * work is pending are merged into one.
 */
static void guestmem_poison_defer(struct guestmem *gm, pgoff_t start,
				  pgoff_t end, bool retry)
{
	spin_lock(&gm->poison_lock);
	gm->poison_start = min(gm->poison_start, start);
	gm->poison_end = max(gm->poison_end, end);
	if (!retry)
		gm->poison_tries = 0;
	spin_unlock(&gm->poison_lock);
	if (retry)
		queue_delayed_work(system_wq, &gm->poison_work,
				   msecs_to_jiffies(GUESTMEM_POISON_DELAY_MS));
	else
		mod_delayed_work(system_wq, &gm->poison_work, 0);
}

static void guestmem_poison_work(struct work_struct *work)
{
	struct guestmem *gm = container_of(to_delayed_work(work),
					   struct guestmem, poison_work);
	struct address_space *mapping = gm_mapping(gm);
	pgoff_t start, end;
	bool retry;
	int ret;

	spin_lock(&gm->poison_lock);
	start = gm->poison_start;
	end = gm->poison_end;
	gm->poison_start = ULONG_MAX;
	gm->poison_end = 0;
	spin_unlock(&gm->poison_lock);
	if (start >= end)
		return;

	filemap_invalidate_lock(mapping);
	guestmem_invalidate(gm, start, end, true);
	ret = guestmem_split_poisoned(gm, start, end);
	guestmem_invalidate(gm, start, end, false);
	filemap_invalidate_unlock(mapping);
	if (!ret)
		return;

	/*
	 * memory_failure() may still hold its reference to the folio it
	 * could not split; anything else holds one only for a moment.  One
	 * that stays whole fails every lookup of its pages with -EHWPOISON,
	 * and a punch hole or the release splits it, or keeps it from the
	 * page allocator (guestmem_split_poisoned_wait()).
	 */
	spin_lock(&gm->poison_lock);
	retry = ++gm->poison_tries < GUESTMEM_POISON_TRIES;
	spin_unlock(&gm->poison_lock);
	if (retry)
		guestmem_poison_defer(gm, start, end, true);
	else
		pr_warn_ratelimited("inode %lu: a poisoned large folio in %#lx..%#lx would not split\n",
				    gm_ino(gm), start, end - 1);
}

static int guestmem_error_remove_folio(struct address_space *mapping,
				       struct folio *folio)
{
	struct guestmem *gm = GUESTMEM_I(mapping->host);
	pgoff_t start = folio->index;
	pgoff_t end = folio_next_index(folio);

	/*
	 * The folio stays in the file: what to do about the error is the
	 * backend's and userspace's decision.  Unmapping it from the guest
	 * makes the next access find it poisoned (guestmem_get_folio()
	 * returns -EHWPOISON).
	 */
	if (filemap_invalidate_trylock_shared(mapping)) {
		guestmem_invalidate(gm, start, end, true);
		guestmem_invalidate(gm, start, end, false);
		filemap_invalidate_unlock_shared(mapping);
	} else {
		guestmem_poison_defer(gm, start, end, false);
	}
	return MF_DELAYED;
}

/*
 * Asked before anything but a truncation takes a folio out of the file,
 * and before anyone splits a large folio (the mapping is
 * AS_RELEASE_ALWAYS).  Guest memory leaves the file only by a punch hole
 * or the last close, and only the library splits its large folios (see
 * huge.c), so this refuses but for the library's own split.  A large folio
 * memory_failure() wanted to split for a poisoned page is split by
 * guestmem_poison_work() instead.
 */
static bool guestmem_release_folio(struct folio *folio, gfp_t gfp)
{
	struct guestmem *gm = GUESTMEM_I(folio->mapping->host);

	if (folio == READ_ONCE(gm->split_folio))
		return true;
	if (folio_test_large(folio) && folio_test_has_hwpoisoned(folio)) {
		WRITE_ONCE(gm->poisoned_large, true);
		guestmem_poison_defer(gm, folio->index, folio_next_index(folio),
				      false);
	}
	return false;
}

static void guestmem_free_folio(struct folio *folio)
{
	struct guestmem *gm = folio->private;
	unsigned long nr = folio_nr_pages(folio);
	bool scrub;

	/*
	 * Never handed out by guestmem_grab_new_folio(): a lookup added it and
	 * dropped it again while a split was pending, and a punch hole took
	 * it before that lookup came back.  Nothing to undo; but a folio that
	 * was used (zeroed, or out of the direct map) must have had the
	 * pointer.
	 */
	if (!gm) {
		VM_WARN_ON_ONCE_FOLIO(folio_test_uptodate(folio) ||
				      folio_test_checked(folio), folio);
		return;
	}
	/*
	 * A large folio with a poisoned page that would not split even at
	 * its truncation (guestmem_split_poisoned_wait()): the page allocator
	 * would take it back whole, the poisoned page with it.  Keep it, and
	 * its healthy pages, from the allocator for good.
	 */
	if (unlikely(folio_test_large(folio) &&
		     folio_test_has_hwpoisoned(folio))) {
		folio_get(folio);
		pr_warn_ratelimited("inode %lu: kept a poisoned large folio at %#lx from the page allocator\n",
				    gm_ino(gm), folio->index);
	}
	/*
	 * Back in the direct map before the folio can be freed, and cleared
	 * there if it was ever used (PG_uptodate): guest memory kept from the
	 * kernel does not go back to the allocator with its contents (a
	 * poisoned folio never goes back); the same for a GUESTMEM_F_SCRUB
	 * file.  One never used holds only what the allocator gave, nothing
	 * of a guest or of the VMM.
	 */
	scrub = folio_test_checked(folio) || (gm->flags & GUESTMEM_F_SCRUB);
	if (folio_test_checked(folio))
		guestmem_unzap_folio(gm, folio);
	if (scrub && folio_test_uptodate(folio) &&
	    !folio_contain_hwpoisoned_page(folio))
		folio_zero_range(folio, 0, folio_size(folio));
	VM_WARN_ON_ONCE_FOLIO((gm->flags & GUESTMEM_F_NO_DIRECT_MAP) &&
			      !folio_contain_hwpoisoned_page(folio) &&
			      guestmem_folio_nr_mapped(folio) != nr, folio);
	folio->private = NULL;
	guestmem_folio_removed(gm, folio);
	if (gm->ops->free_folio)
		gm->ops->free_folio(folio);
}

static const struct address_space_operations guestmem_aops = {
	.dirty_folio		= noop_dirty_folio,
	.migrate_folio		= guestmem_migrate_folio,
	.release_folio		= guestmem_release_folio,
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
 * %GUESTMEM_F_NO_DIRECT_MAP and %GUESTMEM_F_NO_DIRECT_MAP_PRIVATE need an
 * architecture that can change its direct map page by page
 * (can_set_direct_map()) and no highmem; backends
 * use this to advertise their own flag for it, without reaching into mm
 * themselves.  %GUESTMEM_F_HUGE needs transparent huge pages
 * (CONFIG_TRANSPARENT_HUGEPAGE), whose folios it uses and splits.
 * %GUESTMEM_F_MMAP and %GUESTMEM_F_INIT_SHARED are always supported, and
 * so is %GUESTMEM_F_SCRUB.
 *
 * Context: Any context.
 * Return: The GUESTMEM_F_* flags guestmem_file_create() accepts.
 */
unsigned long guestmem_supported_flags(void)
{
	/* Highmem pages are not in the direct map to begin with. */
	unsigned long flags = GUESTMEM_F_MMAP | GUESTMEM_F_INIT_SHARED |
			      GUESTMEM_F_SCRUB;

	if (!IS_ENABLED(CONFIG_HIGHMEM) && can_set_direct_map() &&
	    guestmem_clear_ready())
		flags |= GUESTMEM_F_NO_DIRECT_MAP |
			 GUESTMEM_F_NO_DIRECT_MAP_PRIVATE;
	if (guestmem_huge_supported())
		flags |= GUESTMEM_F_HUGE;
	return flags;
}
EXPORT_SYMBOL_GPL(guestmem_supported_flags);

/**
 * guestmem_file_create - create a guestmem file
 * @name: Name of the file, as /proc/PID/fd shows it.
 * @size: Size in bytes: positive, page aligned, fixed for the file's life.
 * @flags: %GUESTMEM_F_NO_DIRECT_MAP: keep every page of the file out of
 *	the kernel direct map, shared or private, from its allocation until
 *	it is freed; GUP and pins of the file's pages fail (-EFAULT), and
 *	the kernel writes them only to zero each on its first use, through
 *	a mapping of that one page that only the CPU doing it has.
 *	%GUESTMEM_F_MMAP: keep a shared/private state per page, changed by
 *	guestmem_convert(), and let the host mmap() the shared pages.
 *	%GUESTMEM_F_INIT_SHARED (with %GUESTMEM_F_MMAP): every page starts
 *	shared; without it, every page starts private.
 *	%GUESTMEM_F_SCRUB: zero every folio that was used (handed out
 *	prepared, or faulted in by the host) when it leaves the file,
 *	before @ops->free_folio, as %GUESTMEM_F_NO_DIRECT_MAP files always
 *	do: for a backend whose pages came back from a place the kernel
 *	could not see into (pKVM's protected guests).
 *	%GUESTMEM_F_NO_DIRECT_MAP_PRIVATE (with %GUESTMEM_F_MMAP, not with
 *	%GUESTMEM_F_NO_DIRECT_MAP): keep the private pages of the file out
 *	of the kernel direct map, and only those: a page leaves when it
 *	becomes private or is allocated private, and comes back when it
 *	becomes shared or leaves the file, zeroed if it was used.  Shared
 *	pages stay reachable by the kernel (GUP, pins); for a backend that
 *	hands private memory to a hypervisor which takes it from the host
 *	(Gunyah's lend).
 *	%GUESTMEM_F_HUGE: back each naturally aligned PMD-size block (2 MiB
 *	with 4 KiB pages) that lies wholly inside the file with one huge
 *	folio where the page allocator has one, with folios of one page
 *	otherwise (counted as fallbacks); such a folio is split when its
 *	pages go different ways (a conversion or punch hole of part of it,
 *	a host mapping of one of its pages), never merged back.  Best
 *	effort: any size is accepted, and a block the size does not cover
 *	wholly gets small folios.
 * @ops: Callbacks of the owner (->release, ->free_folio).
 * @priv: Owner's data, given back by @ops->release.
 *
 * Creates a file whose memory the library owns: fallocate() allocates
 * (%FALLOC_FL_KEEP_SIZE) and frees (%FALLOC_FL_PUNCH_HOLE) it, read and
 * write are refused, mmap() too unless %GUESTMEM_F_MMAP, the size cannot
 * change, ioctl() goes to @ops->ioctl.  Its pages are placed by the NUMA
 * policy of the calling task, if it has one, and by mbind() on a host
 * mapping.  The file holds a reference on
 * @ops->owner until its memory is freed.
 *
 * Context: Process context, may sleep.
 * Return: The new file, to be installed in a file descriptor by the
 * caller, or ERR_PTR(-EINVAL) for a bad size or flag (also
 * %GUESTMEM_F_NO_DIRECT_MAP or %GUESTMEM_F_NO_DIRECT_MAP_PRIVATE where the
 * direct map cannot be changed, %GUESTMEM_F_INIT_SHARED or
 * %GUESTMEM_F_NO_DIRECT_MAP_PRIVATE without %GUESTMEM_F_MMAP, both
 * direct-map flags together, and a
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
	/* Without MMAP every page is private: that is NO_DIRECT_MAP. */
	if ((flags & GUESTMEM_F_NO_DIRECT_MAP_PRIVATE) &&
	    (flags & (GUESTMEM_F_MMAP | GUESTMEM_F_NO_DIRECT_MAP)) !=
	    GUESTMEM_F_MMAP)
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
	/* i_size first: the policy covers the whole file. */
	inode->i_size = size;
	if (guestmem_policy_init(gm)) {
		iput(inode);
		return ERR_PTR(-ENOMEM);
	}
	__module_get(ops->owner);
	gm->ops = ops;
	gm->priv = priv;
	gm->flags = flags;

	inode->i_op = &guestmem_iops;
	inode->i_mapping->a_ops = &guestmem_aops;
	inode->i_mode |= S_IFREG;
	mapping_set_gfp_mask(inode->i_mapping, GFP_HIGHUSER);
	mapping_set_unevictable(inode->i_mapping);
	mapping_set_inaccessible(inode->i_mapping);
	/* Nobody but the library splits or drops a folio: ->release_folio(). */
	mapping_set_release_always(inode->i_mapping);
	if (flags & GUESTMEM_F_NO_DIRECT_MAP)
		mapping_set_no_direct_map(inode->i_mapping);
	if (flags & GUESTMEM_F_HUGE)
		mapping_set_large_folios(inode->i_mapping);

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
	atomic_long_set(&gm->nr_unmapped, 0);
	atomic_set(&gm->unflushed, 0);
	atomic_long_set(&gm->nr_large, 0);
	atomic_long_set(&gm->nr_huge_fallbacks, 0);
	atomic_set(&gm->splitting, 0);
	gm->split_folio = NULL;
	spin_lock_init(&gm->poison_lock);
	gm->poison_start = ULONG_MAX;
	gm->poison_end = 0;
	INIT_DELAYED_WORK(&gm->poison_work, guestmem_poison_work);
	gm->poison_tries = 0;
	gm->poisoned_large = false;
	mpol_shared_policy_init(&gm->policy, NULL);
	gm->ahead_next = 0;
	gm->ahead_nr = 0;
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
	/* No folio left to fail, and so none to queue the work again. */
	cancel_delayed_work_sync(&gm->poison_work);
	clear_inode(inode);
	kvfree(gm->shared);
	gm->shared = NULL;
	guestmem_policy_free(gm);
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
	guestmem_clear_init();
	guestmem_debugfs_init();
	return 0;
}
fs_initcall(guestmem_init);
