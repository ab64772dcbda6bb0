/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mm/guestmem internals, shared by the files of the library and its KUnit
 * tests; nothing outside mm/guestmem/ includes this.
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
 * release, the split of a poisoned large folio by guestmem.poison_work)
 * against what adds them (shared: fallocate, a host fault).  It
 * is the outermost guestmem lock but for mmap_lock, which a host fault
 * holds when it takes it; callbacks run under it.  Below it come the
 * backends' own locks (taken in the invalidation callbacks) and the folio
 * lock, which protects a folio's direct-map state, with i_mmap_rwsem
 * under it (a conversion unmaps a folio from the host).  See
 * Documentation/mm/guestmem.rst.
 */
#ifndef _MM_GUESTMEM_INTERNAL_H
#define _MM_GUESTMEM_INTERNAL_H

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/guestmem.h>
#include <linux/init.h>
#include <linux/limits.h>
#include <linux/list.h>
#include <linux/mempolicy.h>
#include <linux/pagemap.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

struct folio;
struct page;
struct seq_file;
struct vm_area_struct;

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
 * @nr_unmapped: Pages of the file out of the direct map now; changed under
 *	the folio lock of the folio that leaves or comes back, read without
 *	a lock (fdinfo).
 * @unflushed: Folios of the file out of the direct map whose kernel TLB
 *	flush is still to come: an fallocate() in progress removes folios
 *	and unlocks them one by one, but flushes once at its end.  Raised
 *	under the folio lock, lowered after the flush; a lookup that finds
 *	it raised flushes its own folio before handing it out.
 * @nr_large: Large folios in the file now (see huge.c); changed under
 *	the folio's lock, read without a lock (fdinfo).
 * @nr_huge_fallbacks: Blocks of a %GUESTMEM_F_HUGE file that got folios
 *	of one page because no huge folio could be had; only grows.
 * @splitting: Splits of a large folio of the file in progress; a lookup
 *	that finds a folio without its owner pointer while it is raised
 *	waits for it to drop (see huge.c).
 * @split_folio: The large folio the library is splitting now, the one
 *	split that ->release_folio() lets through (see huge.c); written
 *	under the invalidate lock held exclusive and that folio's lock.
 * @poison_lock: Protects @poison_start and @poison_end.
 * @poison_start: First page, and @poison_end the page after the last, of
 *	the range that memory failures left to @poison_work; ULONG_MAX and
 *	0 while there is none.
 * @poison_work: Tells the backends about poisoned pages, and splits a
 *	large folio with a poisoned page, where memory_failure() could not
 *	(see file.c); cancelled in the inode's eviction.
 * @poison_tries: How many times in a row @poison_work found a poisoned
 *	large folio that would not split yet; under @poison_lock, and back
 *	to 0 whenever a memory failure leaves a new range.
 * @poisoned_large: Set for good once memory_failure() could not split a
 *	large folio of the file; a punch hole and the release then split
 *	such folios before they truncate (guestmem_split_poisoned_wait()).
 * @policy: The NUMA policy of the file's pages (policy.c), with its own
 *	lock; freed with the inode.
 * @ahead_next: The page after the last window a lookup allocated, and
 * @ahead_nr: how many folios that window had: a hint for the next lookup
 *	that allocates (guestmem_lookup_folio()), read and written without a
 *	lock (READ_ONCE()/WRITE_ONCE()); a race only changes a window's size.
 * @vfs_inode: The inode of the file.
 */
struct guestmem {
	const struct guestmem_ops *ops;
	void *priv;
	unsigned long flags;
	unsigned long *shared;
	struct list_head bindings;
	atomic_long_t nr_unmapped;
	atomic_t unflushed;
	atomic_long_t nr_large;
	atomic_long_t nr_huge_fallbacks;
	atomic_t splitting;
	struct folio *split_folio;
	spinlock_t poison_lock;	/* for poison_start, poison_end */
	pgoff_t poison_start;
	pgoff_t poison_end;
	struct delayed_work poison_work;
	unsigned int poison_tries;
	bool poisoned_large;
	struct shared_policy policy;
	pgoff_t ahead_next;
	unsigned int ahead_nr;
	struct inode vfs_inode;
};

/*
 * Direct map.  In a %GUESTMEM_F_NO_DIRECT_MAP file every page of a folio
 * leaves the kernel direct map when the folio is allocated (after it was
 * zeroed through it) and comes back in ->free_folio(), before the folio can
 * return to the page allocator.  In a %GUESTMEM_F_NO_DIRECT_MAP_PRIVATE
 * file only private folios are out: one allocated while private leaves as
 * above, and a conversion takes the folios of its range out (to private,
 * one flush for the range) or puts them back (to shared, no flush).
 * PG_checked, a flag the owner of a mapping may use, marks a folio whose
 * pages are out.  The pages are unmapped without a flush; the operation
 * (fallocate, a lookup) collects the range of addresses in a struct
 * guestmem_batch and flushes the kernel TLB once, at its end, before the
 * call returns.  Until then stale TLB entries may still reach the zeroed
 * pages, which hold nothing yet: no guest has been given them.  A lookup
 * racing with an fallocate() may find a folio it removed before that flush;
 * guestmem.unflushed tells it so, and it flushes that folio itself before
 * handing it out.  Mapping a page back needs no flush.  fallocate() keeps up
 * to GUESTMEM_ZAP_BATCH new folios locked and takes them out together,
 * physically contiguous ones with one range operation; so does a lookup
 * that allocates during a forward pass over the file, for a window of
 * folios after its own (guestmem_lookup_folio()).
 */
#define GUESTMEM_ZAP_BATCH	32

struct guestmem_batch {
	unsigned long start;
	unsigned long end;
	unsigned int nr_folios;
};

#define GUESTMEM_BATCH_INIT	{ .start = ULONG_MAX, .end = 0, .nr_folios = 0 }

static inline struct guestmem *GUESTMEM_I(struct inode *inode)
{
	return container_of(inode, struct guestmem, vfs_inode);
}

static inline struct address_space *gm_mapping(struct guestmem *gm)
{
	return gm->vfs_inode.i_mapping;
}

/* How tracepoints and fdinfo name a file. */
static inline unsigned long gm_ino(struct guestmem *gm)
{
	return gm->vfs_inode.i_ino;
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
 * Whether the page at @index belongs out of the direct map now: every page
 * of a %GUESTMEM_F_NO_DIRECT_MAP file, the private pages of a
 * %GUESTMEM_F_NO_DIRECT_MAP_PRIVATE one.  Same stability as
 * guestmem_page_private().
 */
static inline bool guestmem_page_unmapped(struct guestmem *gm, pgoff_t index)
{
	if (gm->flags & GUESTMEM_F_NO_DIRECT_MAP)
		return true;
	return (gm->flags & GUESTMEM_F_NO_DIRECT_MAP_PRIVATE) &&
	       guestmem_page_private(gm, index);
}

/*
 * The gfp of filemap_add_folio() for a new folio of @gm, which charges it
 * to the memory cgroup of the allocating task.  Past memory.max the charge
 * fails with -ENOMEM rather than invoking the cgroup's OOM killer: reclaim
 * cannot take guest memory back, and a task killed for it may not be the
 * one that keeps the file open.  The folio's own allocation keeps the
 * mapping's gfp.
 */
static inline gfp_t guestmem_charge_gfp(struct guestmem *gm)
{
	return mapping_gfp_mask(gm_mapping(gm)) | __GFP_RETRY_MAYFAIL;
}

extern const struct file_operations guestmem_fops;
extern atomic_t guestmem_nr_no_direct_map_files;

/* binding.c: invalidation and lookup */
void guestmem_invalidate(struct guestmem *gm, pgoff_t start, pgoff_t end,
			 bool begin);
struct folio *guestmem_grab_new_folio(struct guestmem *gm, pgoff_t index,
				      bool huge, bool *zap);
struct folio *guestmem_lookup_folio(struct guestmem *gm, pgoff_t index,
				    bool invalidate_locked, bool huge);

/* huge.c */
bool guestmem_huge_supported(void);
struct folio *guestmem_alloc_huge_folio(struct guestmem *gm, pgoff_t index);
bool guestmem_split_pending(struct guestmem *gm, struct folio *folio);
void guestmem_huge_span(struct guestmem *gm, pgoff_t *start, pgoff_t *end);
int guestmem_split_edges(struct guestmem *gm, pgoff_t start, pgoff_t end,
			 pgoff_t *busy);
void guestmem_punch_range(struct guestmem *gm, pgoff_t start, pgoff_t end);
void guestmem_split_for_host(struct guestmem *gm, pgoff_t index);
int guestmem_split_poisoned(struct guestmem *gm, pgoff_t start, pgoff_t end);
void guestmem_split_poisoned_wait(struct guestmem *gm, pgoff_t start,
				  pgoff_t end);

/*
 * How often, and how far apart, the library tries to split a large folio
 * with a poisoned page while someone else holds a reference to it.
 */
#define GUESTMEM_POISON_TRIES		50
#define GUESTMEM_POISON_DELAY_MS	20
void __init guestmem_huge_debugfs_init(struct dentry *dir);

/* direct_map.c */
int guestmem_zap_folios(struct guestmem *gm, struct folio **folios,
			unsigned int nr, struct guestmem_batch *batch);
void guestmem_unzap_folio(struct guestmem *gm, struct folio *folio);
int guestmem_zap_range(struct guestmem *gm, pgoff_t start, pgoff_t end);
void guestmem_unzap_range(struct guestmem *gm, pgoff_t start, pgoff_t end,
			  bool shared_only);
void guestmem_clear_folio(struct folio *folio);
void guestmem_clear_page_of(struct folio *folio, struct page *page);
void __init guestmem_clear_init(void);
bool guestmem_clear_ready(void);
void guestmem_flush_range(struct guestmem *gm, unsigned long start,
			  unsigned long end, unsigned int nr_folios);
void guestmem_flush(struct guestmem *gm, struct guestmem_batch *batch);
unsigned long guestmem_folio_nr_mapped(struct folio *folio);
void __init guestmem_debugfs_init(void);

/* policy.c: NUMA placement */
int guestmem_policy_init(struct guestmem *gm);
void guestmem_policy_free(struct guestmem *gm);
struct folio *guestmem_alloc_folio(struct guestmem *gm, pgoff_t index,
				   unsigned int order, gfp_t gfp);
#ifdef CONFIG_NUMA
int guestmem_set_policy(struct vm_area_struct *vma, struct mempolicy *mpol);
struct mempolicy *guestmem_get_policy(struct vm_area_struct *vma,
				      unsigned long addr, pgoff_t *ilx);
#endif

/* mmap.c */
int guestmem_mmap(struct file *file, struct vm_area_struct *vma);

/* stats.c: counters, fdinfo and the tracepoints' definitions */
void guestmem_folio_added(struct guestmem *gm, struct folio *folio);
void guestmem_folio_removed(struct guestmem *gm, struct folio *folio);
void guestmem_show_fdinfo(struct seq_file *m, struct file *file);

/* What the KUnit tests reach besides the API. */
#if IS_ENABLED(CONFIG_KUNIT)
struct folio *guestmem_grab_folio(struct guestmem *gm, pgoff_t index);
long guestmem_nr_tlb_flushes(void);
int guestmem_set_direct_map(struct page *page, unsigned int nr, bool valid);
struct folio *guestmem_huge_alloc(struct guestmem *gm, pgoff_t index,
				  gfp_t gfp);
long guestmem_nr_huge_fallbacks_read(void);
long guestmem_nr_huge_splits_read(void);
#endif

#endif /* _MM_GUESTMEM_INTERNAL_H */
