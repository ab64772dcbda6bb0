// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "guestmem_huge": huge folios (huge.c).  A %GUESTMEM_F_HUGE
 * file gets PMD-size folios for its whole blocks and small ones for the
 * rest, falls back to small folios when the allocator has no huge one,
 * and splits a huge folio when a conversion or a punch hole takes part of
 * it, keeping contents, state, the direct map and the counters right; a
 * reference held on a huge folio refuses what would split it, and one held
 * on a small folio only what touches that page.  Nobody else splits a huge
 * folio: a memory failure inside one has the library split it.
 */
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <kunit/visibility.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/guestmem.h>
#include <linux/highmem.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/set_memory.h>

#include "guestmem_kunit.h"

#ifdef CONFIG_TRANSPARENT_HUGEPAGE

#define HNR	HPAGE_PMD_NR

static struct file *create_huge(struct kunit *test, unsigned long flags,
				pgoff_t nr)
{
	struct file *file;

	if (!(guestmem_supported_flags() & GUESTMEM_F_HUGE))
		kunit_skip(test, "no huge folios on this system");
	file = guestmem_file_create("[guestmem-kunit]", nr * PAGE_SIZE,
				    GUESTMEM_F_HUGE | flags, &fake_ops_a,
				    test->priv);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, file);
	return file;
}

static long nr_large(struct file *file)
{
	return atomic_long_read(&GUESTMEM_I(file_inode(file))->nr_large);
}

/* The order of the folio at @index, which the file must have. */
static unsigned int order_at(struct kunit *test, struct file *file,
			     pgoff_t index)
{
	struct folio *folio = gmt_cached_folio(test, file, index);
	unsigned int order = folio_order(folio);

	folio_put(folio);
	return order;
}

/*
 * Whole blocks get one huge folio each, prepared as a whole; the pages
 * after the last whole block get small folios; the counters follow, and
 * the last close gives everything back.
 */
static void guestmem_test_huge_alloc(struct kunit *test)
{
	struct fake_backend *fb = test->priv;
	const pgoff_t nr = 2 * HNR + 3;
	unsigned long base = guestmem_nr_pages();
	struct guestmem_binding b;
	struct folio *folio;
	struct file *file;

	file = create_huge(test, 0, nr);
	KUNIT_EXPECT_EQ(test, guestmem_file_flags(file), GUESTMEM_F_HUGE);
	gmt_bind(test, file, &b, &fake_ops_a, 0, nr);

	folio = guestmem_get_folio(&b, 5, GUESTMEM_GET_PREPARE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	KUNIT_EXPECT_EQ(test, folio_order(folio), HPAGE_PMD_ORDER);
	KUNIT_EXPECT_EQ(test, folio->index, 0);
	KUNIT_EXPECT_TRUE(test, folio_test_uptodate(folio));
	KUNIT_EXPECT_TRUE(test, folio_test_pmd_mappable(folio));
	folio_unlock(folio);
	folio_put(folio);
	gmt_expect_event(test, 0, EV_PREPARE, &b, 0, HNR);
	KUNIT_EXPECT_TRUE(test, gmt_holds(test, file, 0, 0));
	KUNIT_EXPECT_TRUE(test, gmt_holds(test, file, HNR - 1, 0));
	KUNIT_EXPECT_EQ(test, nr_large(file), 1);
	KUNIT_EXPECT_EQ(test, file->f_mapping->nrpages, HNR);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages(), base + HNR);

	/* No whole block after 2 * HNR: small folios there. */
	folio = guestmem_get_folio(&b, 2 * HNR + 1, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	KUNIT_EXPECT_EQ(test, folio_order(folio), 0);
	folio_unlock(folio);
	folio_put(folio);

	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, nr), 0);
	KUNIT_EXPECT_EQ(test, nr_large(file), 2);
	KUNIT_EXPECT_EQ(test, order_at(test, file, HNR + 7), HPAGE_PMD_ORDER);
	KUNIT_EXPECT_EQ(test, order_at(test, file, 2 * HNR + 2), 0);
	KUNIT_EXPECT_EQ(test, file->f_mapping->nrpages, nr);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages(), base + nr);

	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, fb->frees, nr);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages(), base);
}

/*
 * No huge folio to be had: the block gets small folios, counted once as a
 * fallback, and a block emptied again gets a huge folio next time.
 */
static void guestmem_test_huge_fallback(struct kunit *test)
{
	long fallbacks = guestmem_nr_huge_fallbacks_read();
	const int punch = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;
	struct guestmem *gm;
	struct file *file;

	file = create_huge(test, 0, HNR);
	gm = GUESTMEM_I(file_inode(file));

	gmt_huge_alloc_fails(test, true);
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, HNR), 0);
	gmt_huge_alloc_fails(test, false);
	KUNIT_EXPECT_EQ(test, file->f_mapping->nrpages, HNR);
	KUNIT_EXPECT_EQ(test, nr_large(file), 0);
	KUNIT_EXPECT_EQ(test, order_at(test, file, HNR / 2), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&gm->nr_huge_fallbacks), 1);
	KUNIT_EXPECT_EQ(test, guestmem_nr_huge_fallbacks_read(), fallbacks + 1);

	/* A block with a page in it stays small, without a new fallback. */
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, punch, 1, HNR - 1), 0);
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, HNR), 0);
	KUNIT_EXPECT_EQ(test, nr_large(file), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&gm->nr_huge_fallbacks), 1);

	KUNIT_EXPECT_EQ(test, gmt_falloc(file, punch, 0, HNR), 0);
	KUNIT_EXPECT_EQ(test, file->f_mapping->nrpages, 0);
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, HNR), 0);
	KUNIT_EXPECT_EQ(test, nr_large(file), 1);
	__fput_sync(file);
}

/*
 * Converting one page inside a huge folio splits it, keeps every page's
 * contents and tells the backend about that page only; converting whole
 * blocks needs no split, and split folios are not merged back.
 */
static void guestmem_test_huge_convert_part(struct kunit *test)
{
	struct fake_backend *fb = test->priv;
	long splits = guestmem_nr_huge_splits_read();
	unsigned long base = guestmem_nr_pages();
	static const pgoff_t pages[] = { 0, 3, 4, HNR - 1 };
	struct guestmem_binding b;
	struct file *file;
	pgoff_t err = 77;
	unsigned int i;

	file = create_huge(test, GUESTMEM_F_MMAP, HNR);
	gmt_bind(test, file, &b, &fake_ops_a, 0, HNR);
	for (i = 0; i < ARRAY_SIZE(pages); i++)
		gmt_fill(test, &b, pages[i], 0x10 + i);
	KUNIT_ASSERT_EQ(test, nr_large(file), 1);

	fb->nr_ev = 0;
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 3, 1, false, 0, &err), 0);
	KUNIT_EXPECT_EQ(test, err, 77);
	KUNIT_EXPECT_EQ(test, nr_large(file), 0);
	KUNIT_EXPECT_EQ(test, guestmem_nr_huge_splits_read(), splits + 1);
	KUNIT_EXPECT_EQ(test, order_at(test, file, 0), 0);
	KUNIT_EXPECT_EQ(test, order_at(test, file, 3), 0);
	KUNIT_EXPECT_FALSE(test, guestmem_is_private(&b, 3));
	KUNIT_EXPECT_TRUE(test, guestmem_is_private(&b, 2));
	KUNIT_EXPECT_TRUE(test, guestmem_is_private(&b, 4));
	for (i = 0; i < ARRAY_SIZE(pages); i++)
		KUNIT_EXPECT_TRUE_MSG(test, gmt_holds(test, file, pages[i], 0x10 + i),
				      "page %lu", pages[i]);
	/* The backend drops its mappings of the whole huge folio. */
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 3);
	gmt_expect_event(test, 0, EV_BEGIN, &b, 0, HNR);
	gmt_expect_event(test, 1, EV_TO_SHARED, &b, 3, 4);
	gmt_expect_event(test, 2, EV_END, &b, 0, HNR);
	KUNIT_EXPECT_EQ(test, file->f_mapping->nrpages, HNR);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages(), base + HNR);

	/* Uniform again, but still small folios: no merge. */
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, HNR, true, 0, &err), 0);
	KUNIT_EXPECT_EQ(test, nr_large(file), 0);
	KUNIT_EXPECT_TRUE(test, gmt_holds(test, file, 3, 0x11));

	/* A whole block converts as it is. */
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE |
					 FALLOC_FL_PUNCH_HOLE, 0, HNR), 0);
	gmt_fill(test, &b, 9, 0x5a);
	KUNIT_ASSERT_EQ(test, nr_large(file), 1);
	splits = guestmem_nr_huge_splits_read();
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, HNR, false, 0, &err), 0);
	KUNIT_EXPECT_EQ(test, nr_large(file), 1);
	KUNIT_EXPECT_EQ(test, guestmem_nr_huge_splits_read(), splits);
	KUNIT_EXPECT_TRUE(test, gmt_holds(test, file, 9, 0x5a));

	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages(), base);
}

/*
 * A reference on a huge folio (a pin: the kernel cannot tell on which of
 * its pages) refuses every conversion that would split it, naming the
 * first page of the range in it, and changes nothing.  Once the folio is
 * split, a reference on one page refuses only ranges holding that page.
 */
static void guestmem_test_huge_pinned(struct kunit *test)
{
	struct folio *folio, *pinned;
	struct guestmem_binding b;
	struct file *file;
	pgoff_t err = 0;

	file = create_huge(test, GUESTMEM_F_MMAP | GUESTMEM_F_INIT_SHARED, HNR);
	gmt_bind(test, file, &b, &fake_ops_a, 0, HNR);
	folio = guestmem_get_folio(&b, 0, GUESTMEM_GET_PREPARE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	KUNIT_ASSERT_EQ(test, folio_order(folio), HPAGE_PMD_ORDER);
	folio_unlock(folio);

	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 7, 1, true, 0, &err), -EAGAIN);
	KUNIT_EXPECT_EQ(test, err, 7);
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 100, 4, true, 0, &err), -EAGAIN);
	KUNIT_EXPECT_EQ(test, err, 100);
	KUNIT_EXPECT_EQ(test, nr_large(file), 1);
	KUNIT_EXPECT_FALSE(test, guestmem_is_private(&b, 7));
	KUNIT_EXPECT_FALSE(test, guestmem_is_private(&b, 100));
	/* The whole folio needs no split, but holds a reference: refused. */
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, HNR, true, 0, &err), -EAGAIN);
	KUNIT_EXPECT_EQ(test, err, 0);
	folio_put(folio);

	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 7, 1, true, 0, &err), 0);
	KUNIT_EXPECT_EQ(test, nr_large(file), 0);
	KUNIT_EXPECT_TRUE(test, guestmem_is_private(&b, 7));

	pinned = gmt_cached_folio(test, file, 9);
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 8, 4, true, 0, &err), -EAGAIN);
	KUNIT_EXPECT_EQ(test, err, 9);
	KUNIT_EXPECT_FALSE(test, guestmem_is_private(&b, 8));
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 10, 6, true, 0, &err), 0);
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 9, true, 0, &err), 0);
	KUNIT_EXPECT_FALSE(test, guestmem_is_private(&b, 9));
	/* To shared never asks for the references. */
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, HNR, false, 0, &err), 0);
	folio_put(pinned);
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, HNR, true, 0, &err), 0);

	guestmem_unbind(&b);
	__fput_sync(file);
}

/*
 * A punch hole of one page inside a huge folio splits it and frees that
 * page only; should the folio not split (someone holds it), the page is
 * zeroed in place and the folio stays whole.
 */
static void guestmem_test_huge_punch_part(struct kunit *test)
{
	const int punch = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;
	struct fake_backend *fb = test->priv;
	struct guestmem_binding b;
	struct folio *held;
	struct file *file;

	file = create_huge(test, 0, HNR);
	gmt_bind(test, file, &b, &fake_ops_a, 0, HNR);
	gmt_fill(test, &b, 4, 0x44);
	gmt_fill(test, &b, 5, 0x55);
	gmt_fill(test, &b, 6, 0x66);

	fb->nr_ev = 0;
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, punch, 5, 1), 0);
	KUNIT_EXPECT_EQ(test, file->f_mapping->nrpages, HNR - 1);
	KUNIT_EXPECT_EQ(test, PTR_ERR(filemap_get_folio(file->f_mapping, 5)), -ENOENT);
	KUNIT_EXPECT_EQ(test, fb->frees, 1);
	KUNIT_EXPECT_EQ(test, nr_large(file), 0);
	KUNIT_EXPECT_TRUE(test, gmt_holds(test, file, 4, 0x44));
	KUNIT_EXPECT_TRUE(test, gmt_holds(test, file, 6, 0x66));
	gmt_expect_event(test, 0, EV_BEGIN, &b, 0, HNR);
	gmt_expect_event(test, 1, EV_END, &b, 0, HNR);

	/* The next use of the page gets a zeroed small folio. */
	held = guestmem_get_folio(&b, 5, GUESTMEM_GET_PREPARE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, held);
	KUNIT_EXPECT_EQ(test, folio_order(held), 0);
	folio_unlock(held);
	folio_put(held);
	KUNIT_EXPECT_TRUE(test, gmt_holds(test, file, 5, 0));
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, punch, 0, HNR), 0);
	KUNIT_EXPECT_EQ(test, fb->frees, HNR + 1);

	gmt_fill(test, &b, 20, 0x20);
	gmt_fill(test, &b, 21, 0x21);
	KUNIT_ASSERT_EQ(test, nr_large(file), 1);
	held = gmt_cached_folio(test, file, 0);
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, punch, 21, 1), 0);
	KUNIT_EXPECT_EQ(test, nr_large(file), 1);
	KUNIT_EXPECT_EQ(test, file->f_mapping->nrpages, HNR);
	KUNIT_EXPECT_TRUE(test, gmt_holds(test, file, 21, 0));
	KUNIT_EXPECT_TRUE(test, gmt_holds(test, file, 20, 0x20));
	KUNIT_EXPECT_EQ(test, fb->frees, HNR + 1);
	folio_put(held);

	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, fb->frees, 2 * HNR + 1);
}

/*
 * A huge folio of a %GUESTMEM_F_NO_DIRECT_MAP file leaves the direct map
 * with one flush and, on x86 without debug_pagealloc, as one 2 MiB entry:
 * the direct map is not split into 4 KiB entries for it, and is whole
 * again once it is back.  Its pages stay out when it is split, each now a
 * folio of its own, and each comes back when it leaves the file.
 */
static void guestmem_test_huge_no_direct_map(struct kunit *test)
{
	const int punch = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;
	unsigned long base = guestmem_nr_pages_no_direct_map();
	struct guestmem_binding b;
	struct folio *folio, *next;
	struct file *file;
	long flushes;
#ifdef CONFIG_X86
	unsigned int level;
	unsigned long addr;
#endif

	if (!(guestmem_supported_flags() & GUESTMEM_F_NO_DIRECT_MAP))
		kunit_skip(test, "the direct map cannot be changed on this system");
	file = create_huge(test, GUESTMEM_F_NO_DIRECT_MAP, HNR);
	gmt_bind(test, file, &b, &fake_ops_a, 0, HNR);

	flushes = guestmem_nr_tlb_flushes();
	folio = guestmem_get_folio(&b, 0, GUESTMEM_GET_PREPARE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	KUNIT_ASSERT_EQ(test, folio_order(folio), HPAGE_PMD_ORDER);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes + 1);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(folio), 0);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages_no_direct_map(), base + HNR);
#ifdef CONFIG_X86
	/*
	 * debug_pagealloc maps the whole direct map with 4 KiB entries;
	 * make test boots x86_64 once more with debug_pagealloc=off for this.
	 */
	addr = (unsigned long)folio_address(folio);
	KUNIT_EXPECT_NOT_NULL(test, lookup_address(addr, &level));
	if (!debug_pagealloc_enabled())
		KUNIT_EXPECT_EQ(test, level, PG_LEVEL_2M);
	KUNIT_EXPECT_NOT_NULL(test, lookup_address(addr + PMD_SIZE - PAGE_SIZE, &level));
	if (!debug_pagealloc_enabled())
		KUNIT_EXPECT_EQ(test, level, PG_LEVEL_2M);
#endif
	/* No reference of ours, or the folio could not be split. */
	folio_unlock(folio);
	folio_put(folio);

	/* Split by a punch hole: the other pages stay out, and zeroed. */
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, punch, 3, 1), 0);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages_no_direct_map(), base + HNR - 1);
	next = gmt_cached_folio(test, file, 4);
	KUNIT_EXPECT_EQ(test, folio_order(next), 0);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(next), 0);
	KUNIT_EXPECT_TRUE(test, folio_test_uptodate(next));
	folio_put(next);

	/*
	 * Each page is back in the direct map before it is freed: the
	 * library warns otherwise (guestmem_free_folio()).  Once freed, it may
	 * be out again (debug_pagealloc unmaps free pages).
	 */
	next = gmt_cached_folio(test, file, HNR - 1);
	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages_no_direct_map(), base);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(next), 1);
	folio_put(next);
#ifdef CONFIG_X86
	/* Put back page by page, merged into one entry again. */
	KUNIT_EXPECT_NOT_NULL(test, lookup_address(addr + PAGE_SIZE, &level));
	if (!debug_pagealloc_enabled())
		KUNIT_EXPECT_GE(test, level, PG_LEVEL_2M);
#endif
}

/*
 * Only the library splits its large folios: anyone else's split_folio()
 * is refused (->release_folio()), since it would leave small folios
 * without the owner pointer and the direct-map mark, and the backends
 * untold.  The library's own split still goes through.
 */
static void guestmem_test_huge_foreign_split(struct kunit *test)
{
	long splits = guestmem_nr_huge_splits_read();
	struct guestmem_binding b;
	struct folio *folio;
	struct file *file;

	file = create_huge(test, 0, HNR);
	gmt_bind(test, file, &b, &fake_ops_a, 0, HNR);
	gmt_fill(test, &b, 2, 0x22);
	folio = gmt_cached_folio(test, file, 2);
	KUNIT_ASSERT_EQ(test, folio_order(folio), HPAGE_PMD_ORDER);
	folio_lock(folio);
	KUNIT_EXPECT_EQ(test, split_folio(folio), -EBUSY);
	KUNIT_EXPECT_EQ(test, folio_order(folio), HPAGE_PMD_ORDER);
	folio_unlock(folio);
	folio_put(folio);
	KUNIT_EXPECT_EQ(test, nr_large(file), 1);
	KUNIT_EXPECT_EQ(test, guestmem_nr_huge_splits_read(), splits);

	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE |
					 FALLOC_FL_PUNCH_HOLE, 3, 1), 0);
	KUNIT_EXPECT_EQ(test, nr_large(file), 0);
	KUNIT_EXPECT_EQ(test, guestmem_nr_huge_splits_read(), splits + 1);
	KUNIT_EXPECT_TRUE(test, gmt_holds(test, file, 2, 0x22));

	guestmem_unbind(&b);
	__fput_sync(file);
}

#ifdef CONFIG_MEMORY_FAILURE
enum poison_end {
	POISON_WORK,	/* the library's work splits the folio */
	POISON_PUNCH,	/* a punch hole comes before the work */
	POISON_CLOSE,	/* the last close comes before the work */
};

/*
 * memory_failure() on a page inside a huge folio: its split is refused
 * (the poison is reported not recovered), and the library splits the
 * folio itself: by its work a moment later, or by a punch hole or the
 * release that comes first.  Every page keeps the owner pointer, its
 * contents and its place out of the direct map, the backend hears about
 * the whole folio, the poisoned page only fails its lookups, and once
 * freed every counter is back where it was.
 */
static void huge_memory_failure(struct kunit *test, unsigned long flags,
				enum poison_end how)
{
	const int punch = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;
	unsigned long base_nodm = guestmem_nr_pages_no_direct_map();
	unsigned long base = guestmem_nr_pages();
	bool nodm = flags & GUESTMEM_F_NO_DIRECT_MAP;
	struct fake_backend *fb = test->priv;
	struct guestmem_binding b;
	struct guestmem *gm;
	struct folio *folio;
	struct file *file;
	unsigned long pfn;
	pgoff_t i;
	int ev;

	file = create_huge(test, flags, HNR);
	gm = GUESTMEM_I(file_inode(file));
	gmt_bind(test, file, &b, &fake_ops_a, 0, HNR);
	if (nodm) {
		gmt_expect_get_error(test, &b, 0, GUESTMEM_GET_PREPARE, 0);
	} else {
		gmt_fill(test, &b, 4, 0x44);
		gmt_fill(test, &b, 6, 0x66);
	}
	folio = gmt_cached_folio(test, file, 0);
	KUNIT_ASSERT_EQ(test, folio_order(folio), HPAGE_PMD_ORDER);
	pfn = folio_pfn(folio) + 5;
	folio_put(folio);

	fb->nr_ev = 0;
	KUNIT_EXPECT_EQ(test, memory_failure(pfn, MF_SW_SIMULATED), -EHWPOISON);
	KUNIT_EXPECT_TRUE(test, gm->poisoned_large);
	if (how != POISON_WORK) {
		/* Before the work: the whole folio fails its lookups. */
		cancel_delayed_work_sync(&gm->poison_work);
		KUNIT_EXPECT_EQ(test, nr_large(file), 1);
		gmt_expect_get_error(test, &b, 4, 0, -EHWPOISON);
		if (how == POISON_PUNCH)
			KUNIT_EXPECT_EQ(test, gmt_falloc(file, punch, 0, HNR), 0);
		else
			__fput_sync(file);
		goto freed;
	}

	/* It tries again while memory_failure()'s reference was on it. */
	for (i = 0; i < 10 && nr_large(file); i++)
		flush_delayed_work(&gm->poison_work);
	KUNIT_EXPECT_EQ(test, nr_large(file), 0);
	/* Told once per try. */
	KUNIT_EXPECT_GE(test, fb->nr_ev, 2);
	KUNIT_EXPECT_EQ(test, fb->nr_ev % 2, 0);
	for (ev = 0; ev < min(fb->nr_ev, MAX_EVENTS); ev++)
		gmt_expect_event(test, ev, ev % 2 ? EV_END : EV_BEGIN, &b, 0, HNR);
	for (i = 0; i < HNR; i++) {
		folio = gmt_cached_folio(test, file, i);
		KUNIT_EXPECT_EQ_MSG(test, folio_order(folio), 0, "page %lu", i);
		KUNIT_EXPECT_PTR_EQ_MSG(test, folio->private, gm, "page %lu", i);
		KUNIT_EXPECT_EQ_MSG(test, folio_test_checked(folio), nodm,
				    "page %lu", i);
		folio_put(folio);
	}
	gmt_expect_get_error(test, &b, 5, 0, -EHWPOISON);
	gmt_expect_get_error(test, &b, 4, 0, 0);
	if (!nodm) {
		KUNIT_EXPECT_TRUE(test, gmt_holds(test, file, 4, 0x44));
		KUNIT_EXPECT_TRUE(test, gmt_holds(test, file, 6, 0x66));
	}
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages_no_direct_map(),
			base_nodm + (nodm ? HNR : 0));
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, punch, 0, HNR), 0);

freed:
	/* Split before it was freed: 512 folios of one page. */
	KUNIT_EXPECT_EQ(test, fb->frees, HNR);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages(), base);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages_no_direct_map(), base_nodm);
	/* Gone from the file: the page can be unpoisoned (not reused). */
	KUNIT_EXPECT_EQ(test, unpoison_memory(pfn), 0);
	guestmem_unbind(&b);
	if (how != POISON_CLOSE)
		__fput_sync(file);
}

static void guestmem_test_huge_memory_failure(struct kunit *test)
{
	huge_memory_failure(test, 0, POISON_WORK);
}

static void guestmem_test_huge_memory_failure_no_direct_map(struct kunit *test)
{
	if (!(guestmem_supported_flags() & GUESTMEM_F_NO_DIRECT_MAP))
		kunit_skip(test, "the direct map cannot be changed on this system");
	huge_memory_failure(test, GUESTMEM_F_NO_DIRECT_MAP, POISON_WORK);
}

static void guestmem_test_huge_memory_failure_punch(struct kunit *test)
{
	huge_memory_failure(test, 0, POISON_PUNCH);
}

static void guestmem_test_huge_memory_failure_close(struct kunit *test)
{
	huge_memory_failure(test, 0, POISON_CLOSE);
}

/*
 * A poisoned huge folio that still would not split when it is truncated
 * (a reference held all along) does not go back to the page allocator
 * whole: ->free_folio() keeps it, and the counters of the file and the
 * library are back all the same.
 */
static void guestmem_test_huge_memory_failure_kept(struct kunit *test)
{
	const int punch = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;
	unsigned long base = guestmem_nr_pages();
	struct fake_backend *fb = test->priv;
	struct guestmem_binding b;
	struct guestmem *gm;
	struct folio *folio;
	struct file *file;

	file = create_huge(test, 0, HNR);
	gm = GUESTMEM_I(file_inode(file));
	gmt_bind(test, file, &b, &fake_ops_a, 0, HNR);
	gmt_fill(test, &b, 0, 0x11);
	folio = gmt_cached_folio(test, file, 0);
	KUNIT_ASSERT_EQ(test, folio_order(folio), HPAGE_PMD_ORDER);

	KUNIT_EXPECT_EQ(test, memory_failure(folio_pfn(folio) + 7, MF_SW_SIMULATED),
			-EHWPOISON);
	cancel_delayed_work_sync(&gm->poison_work);
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, punch, 0, HNR), 0);
	KUNIT_EXPECT_EQ(test, file->f_mapping->nrpages, 0);
	KUNIT_EXPECT_EQ(test, fb->frees, HNR);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages(), base);
	KUNIT_EXPECT_EQ(test, nr_large(file), 0);
	/* Ours and the one ->free_folio() keeps: never freed. */
	KUNIT_EXPECT_EQ(test, folio_ref_count(folio), 2);
	KUNIT_EXPECT_NULL(test, folio->mapping);
	folio_put(folio);

	guestmem_unbind(&b);
	__fput_sync(file);
}
#else
static void guestmem_test_huge_memory_failure(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_MEMORY_FAILURE");
}

static void guestmem_test_huge_memory_failure_no_direct_map(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_MEMORY_FAILURE");
}

static void guestmem_test_huge_memory_failure_punch(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_MEMORY_FAILURE");
}

static void guestmem_test_huge_memory_failure_close(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_MEMORY_FAILURE");
}

static void guestmem_test_huge_memory_failure_kept(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_MEMORY_FAILURE");
}
#endif

static struct kunit_case guestmem_huge_cases[] = {
	KUNIT_CASE(guestmem_test_huge_alloc),
	KUNIT_CASE(guestmem_test_huge_fallback),
	KUNIT_CASE(guestmem_test_huge_convert_part),
	KUNIT_CASE(guestmem_test_huge_pinned),
	KUNIT_CASE(guestmem_test_huge_punch_part),
	KUNIT_CASE(guestmem_test_huge_no_direct_map),
	KUNIT_CASE(guestmem_test_huge_foreign_split),
	KUNIT_CASE(guestmem_test_huge_memory_failure),
	KUNIT_CASE(guestmem_test_huge_memory_failure_no_direct_map),
	KUNIT_CASE(guestmem_test_huge_memory_failure_punch),
	KUNIT_CASE(guestmem_test_huge_memory_failure_close),
	KUNIT_CASE(guestmem_test_huge_memory_failure_kept),
	{}
};

static struct kunit_suite guestmem_huge_suite = {
	.name = "guestmem_huge",
	.init = gmt_init,
	.test_cases = guestmem_huge_cases,
};

kunit_test_suite(guestmem_huge_suite);

#endif /* CONFIG_TRANSPARENT_HUGEPAGE */
