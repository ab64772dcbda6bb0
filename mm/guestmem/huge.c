// SPDX-License-Identifier: GPL-2.0
/*
 * Huge folios: a %GUESTMEM_F_HUGE file backs each naturally aligned block
 * of PMD size (2 MiB on x86_64 and on arm64 with 4 KiB pages) that lies
 * wholly inside the file with one folio of that size, when the page
 * allocator has one to give; otherwise, and for the rest of the file, with
 * folios of one page.  Such a folio is split into folios of one page,
 * never merged back, when its pages are about to go different ways:
 *
 *  - a conversion whose range starts or ends inside it;
 *  - a punch hole whose range starts or ends inside it;
 *  - the host mapping one of its pages (mmap.c): host mappings, and the
 *    GUP pins that come with them, then hold folios of one page, so that
 *    a pin refuses the conversion of its own page only.
 *
 * So every page of a large folio has the same shared/private state, the
 * same place in or out of the direct map, and no host mapping: a backend
 * may map a large folio as one block (KVM: a 2 MiB NPT entry).
 *
 * Splits run with the file's invalidate lock held exclusive.  The folios
 * of one page that a split leaves behind have neither the owner pointer in
 * ->private nor PG_checked of the folio they came from: split_folio() does
 * not copy them.  Until the split put them back, a lookup that finds such a
 * folio (which does not take the invalidate lock) waits for the split to
 * end (struct guestmem.splitting).
 *
 * So only the library splits its large folios.  Anyone else in mm who
 * would (memory_failure(), soft offlining, the split_huge_pages debugfs
 * file) asks ->release_folio() first, which refuses: the folios would lose
 * their owner and their direct-map mark, and the backends would not be
 * told.  A large folio with a poisoned page is split a moment later by the
 * library instead (guestmem_split_poisoned(), from file.c).
 */

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/guestmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/pagevec.h>
#include <linux/swap.h>
#include <linux/wait_bit.h>
#include <kunit/static_stub.h>
#include <kunit/visibility.h>

#include "internal.h"

#include <trace/events/guestmem.h>

/* System-wide, for debugfs: huge folios that could not be had, and splits. */
static atomic_long_t guestmem_nr_huge_fallbacks = ATOMIC_LONG_INIT(0);
static atomic_long_t guestmem_nr_huge_splits = ATOMIC_LONG_INIT(0);

/**
 * guestmem_huge_supported - whether %GUESTMEM_F_HUGE can give huge folios
 *
 * Context: Any context.
 * Return: true where the kernel has PMD-size folios to give and can split
 * them (CONFIG_TRANSPARENT_HUGEPAGE).
 */
bool guestmem_huge_supported(void)
{
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	return HPAGE_PMD_ORDER <= MAX_PAGECACHE_ORDER;
#else
	return false;
#endif
}

static void guestmem_huge_fallback(struct guestmem *gm, pgoff_t index)
{
	atomic_long_inc(&gm->nr_huge_fallbacks);
	atomic_long_inc(&guestmem_nr_huge_fallbacks);
	trace_guestmem_huge_fallback(gm_ino(gm), index);
}

#ifdef CONFIG_TRANSPARENT_HUGEPAGE
/* The page allocator's part; the KUnit tests make it fail on purpose. */
VISIBLE_IF_KUNIT struct folio *guestmem_huge_alloc(struct guestmem *gm,
						   pgoff_t index, gfp_t gfp)
{
	KUNIT_STATIC_STUB_REDIRECT(guestmem_huge_alloc, gm, index, gfp);

	return guestmem_alloc_folio(gm, index, HPAGE_PMD_ORDER, gfp);
}
EXPORT_SYMBOL_IF_KUNIT(guestmem_huge_alloc);

/*
 * A new huge folio for the block that holds @index, added to the file and
 * locked, with a reference; or NULL, for a folio of one page instead: the
 * file is not %GUESTMEM_F_HUGE, the block does not fit in the file, a page
 * of it is in the file already (a split, a punch hole, an earlier
 * fallback, or a racing lookup that won), or no huge folio could be had
 * (counted as a fallback).  The allocation neither warns nor retries hard:
 * a guest runs on small folios as well, only slower.
 */
struct folio *guestmem_alloc_huge_folio(struct guestmem *gm, pgoff_t index)
{
	struct address_space *mapping = gm_mapping(gm);
	pgoff_t first = ALIGN_DOWN(index, HPAGE_PMD_NR);
	pgoff_t last = first + HPAGE_PMD_NR - 1;
	gfp_t gfp = mapping_gfp_mask(mapping);
	struct folio *folio;
	pgoff_t found = first;
	int ret;

	/* A punch hole must not find a new huge folio in its range. */
	lockdep_assert_held(&mapping->invalidate_lock);

	if (!(gm->flags & GUESTMEM_F_HUGE) || last >= gm_nr_pages(gm))
		return NULL;
	if (xa_find(&mapping->i_pages, &found, last, XA_PRESENT))
		return NULL;

	folio = guestmem_huge_alloc(gm, first,
				    gfp | __GFP_NORETRY | __GFP_NOWARN);
	if (!folio) {
		guestmem_huge_fallback(gm, first);
		return NULL;
	}
	ret = filemap_add_folio(mapping, folio, first, guestmem_charge_gfp(gm));
	if (ret) {
		folio_put(folio);
		/* -EEXIST: another lookup filled the block meanwhile. */
		if (ret != -EEXIST)
			guestmem_huge_fallback(gm, first);
		return NULL;
	}
	return folio;
}

/*
 * Split @folio, a large folio of @gm, locked and with one reference (the
 * caller's), into folios of one page, and give each the library's
 * per-folio state back.  On return @folio is the first of them, still
 * locked.  Fails with -EAGAIN while anyone else holds a reference (a GUP
 * pin, a lookup in flight, a per-CPU LRU batch), -ENOMEM, or -EBUSY.
 */
static int guestmem_split_folio(struct guestmem *gm, struct folio *folio)
{
	struct page *head = &folio->page;
	unsigned long i, nr = folio_nr_pages(folio);
	bool out = folio_test_checked(folio);
	int ret;

	lockdep_assert_held_write(&gm_mapping(gm)->invalidate_lock);

	atomic_inc(&gm->splitting);
	WRITE_ONCE(gm->split_folio, folio);
	ret = split_folio(folio);
	WRITE_ONCE(gm->split_folio, NULL);
	if (!ret) {
		for (i = 1; i < nr; i++) {
			struct folio *tail = page_folio(nth_page(head, i));

			folio_lock(tail);
			tail->private = gm;
			if (out)
				folio_set_checked(tail);
			folio_unlock(tail);
		}
		atomic_long_dec(&gm->nr_large);
		atomic_long_inc(&guestmem_nr_huge_splits);
	}
	trace_guestmem_huge_split(gm_ino(gm), folio->index, nr, ret);
	if (atomic_dec_and_test(&gm->splitting))
		wake_up_var(&gm->splitting);
	return ret;
}
#else
struct folio *guestmem_alloc_huge_folio(struct guestmem *gm, pgoff_t index)
{
	return NULL;
}

static int guestmem_split_folio(struct guestmem *gm, struct folio *folio)
{
	/* Only huge folios of guestmem_alloc_huge_folio() are large. */
	return -EINVAL;
}
#endif

/*
 * A lookup found a folio without its owner pointer: a new folio, or one of
 * those a split has not given their state back yet.  Returns true if the
 * caller must drop it and look it up again, after this waited for the
 * split to end.  Called with @folio locked; drops the lock if true.
 */
bool guestmem_split_pending(struct guestmem *gm, struct folio *folio)
{
	if (likely(!atomic_read(&gm->splitting)))
		return false;
	folio_unlock(folio);
	folio_put(folio);
	wait_var_event(&gm->splitting, !atomic_read(&gm->splitting));
	return true;
}

/*
 * The large folio at @index, if one holds it but does not start there:
 * locked, with a reference.  NULL otherwise.
 */
static struct folio *guestmem_straddling_folio(struct guestmem *gm,
					       pgoff_t index)
{
	struct folio *folio;

	if (index >= gm_nr_pages(gm))
		return NULL;
	folio = filemap_lock_folio(gm_mapping(gm), index);
	if (IS_ERR(folio))
		return NULL;
	if (folio_test_large(folio) && folio->index != index)
		return folio;
	folio_unlock(folio);
	folio_put(folio);
	return NULL;
}

/*
 * guestmem_split_folio(), once more after the per-CPU LRU batches, which
 * hold references to new folios for a while, were drained.
 */
static int guestmem_split_retry(struct guestmem *gm, struct folio *folio)
{
	int ret = guestmem_split_folio(gm, folio);

	if (ret == -EAGAIN) {
		lru_add_drain_all();
		ret = guestmem_split_folio(gm, folio);
	}
	return ret;
}

/*
 * Split the large folio that holds @index but does not start there, so
 * that a range may start or end at @index.  Returns NULL if there is no
 * such folio or it split; otherwise the folio that would not split,
 * locked, with a reference, and its error in *@err.
 */
static struct folio *guestmem_split_at(struct guestmem *gm, pgoff_t index,
				       int *err)
{
	struct folio *folio = guestmem_straddling_folio(gm, index);

	if (!folio)
		return NULL;
	*err = guestmem_split_retry(gm, folio);
	if (*err)
		return folio;
	folio_unlock(folio);
	folio_put(folio);
	return NULL;
}

/**
 * guestmem_huge_span - grow a range to the large folios it starts or ends in
 * @gm: The file.
 * @start: First page of the range; moved back to the first page of the
 *	large folio it is in.
 * @end: First page after it; moved on to the page after the large folio
 *	the range ends in.
 *
 * The range an operation that splits those folios invalidates: a backend
 * may map a large folio as one block, and must not take new references to
 * any of its pages while it is split.
 *
 * Context: The invalidate lock held exclusive.
 */
void guestmem_huge_span(struct guestmem *gm, pgoff_t *start, pgoff_t *end)
{
	struct folio *folio;

	folio = filemap_get_folio(gm_mapping(gm), *start);
	if (!IS_ERR(folio)) {
		*start = folio->index;
		folio_put(folio);
	}
	folio = filemap_get_folio(gm_mapping(gm), *end - 1);
	if (!IS_ERR(folio)) {
		*end = max(*end, folio_next_index(folio));
		folio_put(folio);
	}
}

/**
 * guestmem_split_edges - split the large folios a range starts or ends in
 * @gm: The file.
 * @start: First page of the range.
 * @end: First page after it.
 * @busy: Set to the first page of the range in a folio that could not be
 *	split.
 *
 * For a conversion: afterwards every large folio of the file lies wholly
 * inside [@start, @end) or wholly outside it.  Contents, state and
 * direct-map place of the pages do not change.
 *
 * Context: Process context, may sleep; the invalidate lock held exclusive,
 * inside the invalidation of the range.
 * Return: 0; -EAGAIN if a folio to split has references besides the
 * file's (a GUP pin), or another error of the split.
 */
int guestmem_split_edges(struct guestmem *gm, pgoff_t start, pgoff_t end,
			 pgoff_t *busy)
{
	pgoff_t edge[2] = { start, end };
	struct folio *folio;
	int i, ret;

	for (i = 0; i < 2; i++) {
		folio = guestmem_split_at(gm, edge[i], &ret);
		if (folio) {
			*busy = max(folio->index, start);
			folio_unlock(folio);
			folio_put(folio);
			return ret == -EBUSY ? -EAGAIN : ret;
		}
	}
	return 0;
}

/*
 * Zero the pages of [@start, @end) in @folio, which the range does not
 * cover wholly, in place and wherever the folio is (in the direct map or
 * out of it); a poisoned page is left alone.
 */
static void guestmem_zero_part(struct folio *folio, pgoff_t start, pgoff_t end)
{
	pgoff_t first = max(start, folio->index);
	pgoff_t last = min(end, folio_next_index(folio));
	pgoff_t i;

	for (i = first; i < last; i++) {
		struct page *page = folio_file_page(folio, i);

		if (!PageHWPoison(page))
			guestmem_clear_page_of(folio, page);
		cond_resched();
	}
}

/**
 * guestmem_punch_range - free the folios of a range for a punch hole
 * @gm: The file.
 * @start: First page of the range.
 * @end: First page after it.
 *
 * A large folio the range starts or ends in is split first, and its pages
 * in the range freed as any other.  Should it not split (a reference held
 * by someone else), those of its pages are zeroed in place instead and
 * the folio stays: the range reads as zeroes either way.
 *
 * Context: Process context, may sleep; the invalidate lock held exclusive,
 * inside the invalidation of the range.
 */
void guestmem_punch_range(struct guestmem *gm, pgoff_t start, pgoff_t end)
{
	pgoff_t first = start, last = end;
	struct folio *folio;
	int ret;

	/* The folio at an edge that would not split keeps its pages. */
	folio = guestmem_split_at(gm, start, &ret);
	if (folio) {
		guestmem_zero_part(folio, start, end);
		first = folio_next_index(folio);
		folio_unlock(folio);
		folio_put(folio);
	}
	folio = guestmem_split_at(gm, end, &ret);
	if (folio) {
		guestmem_zero_part(folio, start, end);
		last = folio->index;
		folio_unlock(folio);
		folio_put(folio);
	}
	if (first < last) {
		guestmem_split_poisoned_wait(gm, first, last);
		truncate_inode_pages_range(gm_mapping(gm),
					   (loff_t)first << PAGE_SHIFT,
					   ((loff_t)last << PAGE_SHIFT) - 1);
	}
}

/**
 * guestmem_split_for_host - split the large folio a host fault wants
 * @gm: A %GUESTMEM_F_MMAP file.
 * @index: The page the host faults on.
 *
 * The host maps single pages of folios of one page only (see above).
 * Best effort: a folio that cannot be split now is mapped as it is.
 *
 * Context: Process context, may sleep; takes the invalidate lock
 * exclusive, so the caller (the fault handler, under mmap_lock) holds no
 * guestmem lock.
 */
void guestmem_split_for_host(struct guestmem *gm, pgoff_t index)
{
	struct address_space *mapping = gm_mapping(gm);
	struct folio *folio;

	filemap_invalidate_lock(mapping);
	folio = filemap_lock_folio(mapping, index);
	if (!IS_ERR(folio)) {
		if (folio_test_large(folio))
			guestmem_split_retry(gm, folio);
		folio_unlock(folio);
		folio_put(folio);
	}
	filemap_invalidate_unlock(mapping);
}
EXPORT_SYMBOL_IF_KUNIT(guestmem_split_for_host);

/*
 * Split each large folio of [@start, @end) that has a poisoned page, which
 * memory_failure() wanted to split and ->release_folio() did not let it,
 * so that the guest loses the poisoned page only.  The caller has told the
 * backends (invalidated the range).  Returns -EAGAIN if one would not
 * split yet (a reference in flight, no memory for the split), for the
 * caller to try again later; 0 otherwise.
 */
int guestmem_split_poisoned(struct guestmem *gm, pgoff_t start, pgoff_t end)
{
	struct address_space *mapping = gm_mapping(gm);
	struct folio_batch fbatch;
	pgoff_t index = start;
	unsigned int i;
	int ret = 0;

	lockdep_assert_held_write(&mapping->invalidate_lock);

	if (start >= end)
		return 0;
	folio_batch_init(&fbatch);
	while (filemap_get_folios(mapping, &index, end - 1, &fbatch)) {
		for (i = 0; i < folio_batch_count(&fbatch); i++) {
			struct folio *folio = fbatch.folios[i];
			int err = 0;

			if (!folio_test_large(folio) ||
			    !folio_test_has_hwpoisoned(folio))
				continue;
			/* The batch's reference is the one the split allows. */
			folio_lock(folio);
			if (folio->mapping == mapping && folio_test_large(folio))
				err = guestmem_split_retry(gm, folio);
			folio_unlock(folio);
			if (err == -EAGAIN || err == -ENOMEM)
				ret = -EAGAIN;
		}
		folio_batch_release(&fbatch);
		cond_resched();
	}
	return ret;
}

/*
 * Before a truncation of [@start, @end): a large folio with a poisoned
 * page must not go back to the page allocator whole, the poisoned page
 * with it.  So split those the poison work has not split yet, waiting a
 * little for a reference in flight to go.  One that still would not split
 * is kept from the allocator by ->free_folio().  Called with the
 * invalidate lock held exclusive, inside the invalidation of the range.
 */
void guestmem_split_poisoned_wait(struct guestmem *gm, pgoff_t start,
				  pgoff_t end)
{
	int tries = 1;

	if (!READ_ONCE(gm->poisoned_large))
		return;
	while (guestmem_split_poisoned(gm, start, end) == -EAGAIN &&
	       tries++ < GUESTMEM_POISON_TRIES)
		msleep(GUESTMEM_POISON_DELAY_MS);
}

#if IS_ENABLED(CONFIG_KUNIT)
/* For the KUnit tests, which cannot read debugfs. */
long guestmem_nr_huge_fallbacks_read(void)
{
	return atomic_long_read(&guestmem_nr_huge_fallbacks);
}
EXPORT_SYMBOL_IF_KUNIT(guestmem_nr_huge_fallbacks_read);

long guestmem_nr_huge_splits_read(void)
{
	return atomic_long_read(&guestmem_nr_huge_splits);
}
EXPORT_SYMBOL_IF_KUNIT(guestmem_nr_huge_splits_read);
#endif

static int guestmem_huge_counter_get(void *data, u64 *val)
{
	*val = atomic_long_read(data);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(guestmem_huge_counter_fops, guestmem_huge_counter_get,
			 NULL, "%llu\n");

/* Files huge_fallbacks and huge_splits of debugfs directory @dir. */
void __init guestmem_huge_debugfs_init(struct dentry *dir)
{
	debugfs_create_file_unsafe("huge_fallbacks", 0444, dir,
				   &guestmem_nr_huge_fallbacks,
				   &guestmem_huge_counter_fops);
	debugfs_create_file_unsafe("huge_splits", 0444, dir,
				   &guestmem_nr_huge_splits,
				   &guestmem_huge_counter_fops);
}
