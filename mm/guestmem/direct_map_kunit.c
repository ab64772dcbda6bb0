// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "guestmem_direct_map": files kept out of the kernel direct
 * map (direct_map.c): pages out and back, one flush per call, large folios,
 * zeroing on first use, contiguous folios out in one range operation,
 * removal failing halfway and a lookup racing with an unflushed fallocate.
 */
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <kunit/visibility.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/guestmem.h>
#include <linux/highmem.h>
#include <linux/migrate_mode.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/set_memory.h>
#include <linux/vmalloc.h>

#include "guestmem_kunit.h"

/*
 * A file kept out of the direct map: every page of its folios is absent
 * from allocation until the folio leaves the file, and each operation
 * that takes folios out flushes the kernel TLB once, not per folio.  In
 * the huge run the held folio is the huge one, punched out whole.
 */
static void guestmem_test_no_direct_map(struct kunit *test)
{
	struct fake_backend *fb = test->priv;
	struct folio *folio, *held;
	struct guestmem_binding b;
	struct file *file;
	long flushes;
	bool active;
	pgoff_t i;

	if (!(guestmem_supported_flags() & GUESTMEM_F_NO_DIRECT_MAP))
		kunit_skip(test, "the direct map cannot be changed on this system");
	/* Other users (a running VM) may have such files open already. */
	active = guestmem_active();
	file = guestmem_file_create("[guestmem-kunit]", NR_PAGES * PAGE_SIZE,
				    GUESTMEM_F_NO_DIRECT_MAP | gmt_flags(),
				    &fake_ops_a, fb);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, file);
	KUNIT_EXPECT_TRUE(test, guestmem_active());
	gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);

	flushes = guestmem_nr_tlb_flushes();
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, NR_PAGES), 0);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes + 1);
	for (i = 0; i < NR_PAGES; i++) {
		folio = guestmem_get_folio(&b, i, 0);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
		KUNIT_EXPECT_EQ_MSG(test, guestmem_folio_nr_mapped(folio), 0,
				    "page %lu", i);
		folio_unlock(folio);
		folio_put(folio);
	}
	/* Folios already out need no flush, whether allocated or looked up. */
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, NR_PAGES), 0);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes + 1);

	/* Nobody may fill a folio through the (absent) direct map. */
	gmt_expect_get_error(test, &b, 3, GUESTMEM_GET_UNPREPARED, -EACCES);

	/* Preparing does not touch the (absent) direct map. */
	folio = guestmem_get_folio(&b, 3, GUESTMEM_GET_PREPARE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	KUNIT_EXPECT_TRUE(test, folio_test_uptodate(folio));
	gmt_expect_event(test, 0, EV_PREPARE, &b, SH(3, 0), SH(4, NR_PAGES));
	folio_unlock(folio);
	folio_put(folio);

	/* Back in the direct map when it leaves the file, even if held. */
	held = guestmem_get_folio(&b, 5, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, held);
	folio_unlock(held);
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE,
					 held->index, folio_nr_pages(held)), 0);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(held), folio_nr_pages(held));
	folio_put(held);
	KUNIT_EXPECT_EQ(test, fb->frees, SH(1, NR_PAGES));

	/* A lookup that allocates flushes once. */
	folio = guestmem_get_folio(&b, 5, GUESTMEM_GET_PREPARE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(folio), 0);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes + 2);
	folio_unlock(folio);
	folio_put(folio);

	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, fb->frees, NR_PAGES + SH(1, NR_PAGES));
	KUNIT_EXPECT_EQ(test, guestmem_active(), active);
}

/* Folios of 1 << LARGE_ORDER pages, as a hugepage-backed file would have. */
#define LARGE_ORDER	2
#define LARGE_NR	BIT(LARGE_ORDER)

/* guestmem_grab_folio() stand-in that adds large folios to the file. */
static struct folio *grab_large_folio(struct guestmem *gm, pgoff_t index)
{
	struct address_space *mapping = gmt_fake()->mapping;
	struct folio *folio;
	int ret;

	folio = filemap_lock_folio(mapping, index);
	if (!IS_ERR(folio))
		return folio;
	folio = filemap_alloc_folio(mapping_gfp_mask(mapping), LARGE_ORDER);
	if (!folio)
		return ERR_PTR(-ENOMEM);
	ret = filemap_add_folio(mapping, folio, ALIGN_DOWN(index, LARGE_NR),
				GFP_KERNEL);
	if (ret) {
		folio_put(folio);
		return ERR_PTR(ret);
	}
	return folio;
}

/* What the allocator may leave in a page: anything but zeroes. */
#define STALE	0xa5

/* grab_large_folio(), with its new folios holding STALE bytes. */
static struct folio *grab_stale_folio(struct guestmem *gm, pgoff_t index)
{
	struct address_space *mapping = gmt_fake()->mapping;
	struct folio *folio;

	folio = filemap_lock_folio(mapping, index);
	if (!IS_ERR(folio))
		return folio;
	folio = filemap_alloc_folio(mapping_gfp_mask(mapping), LARGE_ORDER);
	if (!folio)
		return ERR_PTR(-ENOMEM);
	memset(folio_address(folio), STALE, folio_size(folio));
	if (filemap_add_folio(mapping, folio, ALIGN_DOWN(index, LARGE_NR),
			      GFP_KERNEL)) {
		folio_put(folio);
		return ERR_PTR(-ENOMEM);
	}
	return folio;
}

/*
 * Whether every byte of @folio is @byte, or, with @write, make it so:
 * through a mapping of its own, as the folio may be out of the direct map.
 */
static bool folio_bytes(struct kunit *test, struct folio *folio, int byte,
			bool write)
{
	bool ok = true;
	unsigned long i;

	for (i = 0; i < folio_nr_pages(folio); i++) {
		struct page *page = folio_page(folio, i);
		void *p = vmap(&page, 1, VM_MAP, PAGE_KERNEL);

		KUNIT_ASSERT_NOT_NULL(test, p);
		if (write)
			memset(p, byte, PAGE_SIZE);
		else if (memchr_inv(p, byte, PAGE_SIZE))
			ok = false;
		vunmap(p);
	}
	return ok;
}

static struct file *create_no_direct_map(struct kunit *test)
{
	struct fake_backend *fb = test->priv;
	struct file *file;

	if (!(guestmem_supported_flags() & GUESTMEM_F_NO_DIRECT_MAP))
		kunit_skip(test, "the direct map cannot be changed on this system");
	/* The page cache holds large folios only with multi-index entries. */
	if (!IS_ENABLED(CONFIG_XARRAY_MULTI))
		kunit_skip(test, "large folios need CONFIG_XARRAY_MULTI");
	file = guestmem_file_create("[guestmem-kunit]", NR_PAGES * PAGE_SIZE,
				    GUESTMEM_F_NO_DIRECT_MAP | gmt_flags(),
				    &fake_ops_a, fb);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, file);
	fb->mapping = file->f_mapping;
	/* In the huge run, the fallback to the stub's folios. */
	gmt_huge_alloc_fails(test, true);
	kunit_activate_static_stub(test, guestmem_grab_folio, grab_large_folio);
	return file;
}

/*
 * Every page of a large folio leaves the direct map, with one flush for
 * the whole fallocate(), and every page is back once the folio leaves the
 * file, whether it was punched out (while someone holds it) or freed by
 * the last close.
 */
static void guestmem_test_no_direct_map_large(struct kunit *test)
{
	struct fake_backend *fb = test->priv;
	struct folio *folio, *held;
	struct guestmem_binding b;
	struct file *file;
	long flushes;
	pgoff_t i;

	file = create_no_direct_map(test);
	gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);

	flushes = guestmem_nr_tlb_flushes();
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, 2 * LARGE_NR), 0);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes + 1);
	KUNIT_EXPECT_EQ(test, file->f_mapping->nrpages, 2 * LARGE_NR);
	for (i = 0; i < 2 * LARGE_NR; i++) {
		folio = guestmem_get_folio(&b, i, 0);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
		KUNIT_EXPECT_EQ(test, folio_order(folio), LARGE_ORDER);
		KUNIT_EXPECT_EQ_MSG(test, guestmem_folio_nr_mapped(folio), 0,
				    "page %lu", i);
		folio_unlock(folio);
		folio_put(folio);
	}
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes + 1);

	/* Prepared as a whole, from its first page. */
	folio = guestmem_get_folio(&b, LARGE_NR + 1, GUESTMEM_GET_PREPARE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	gmt_expect_event(test, 0, EV_PREPARE, &b, LARGE_NR, 2 * LARGE_NR);
	folio_unlock(folio);
	folio_put(folio);

	held = gmt_cached_folio(test, file, LARGE_NR);
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE,
					 LARGE_NR, LARGE_NR), 0);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(held), LARGE_NR);
	KUNIT_EXPECT_EQ(test, fb->frees, LARGE_NR);
	folio_put(held);

	held = gmt_cached_folio(test, file, 0);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(held), 0);
	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(held), LARGE_NR);
	KUNIT_EXPECT_EQ(test, fb->frees, 2 * LARGE_NR);
	folio_put(held);
}

/*
 * A folio leaves the direct map as the allocator gave it, and is zeroed
 * on its first use without coming back (guestmem_clear_folio()).  When it
 * leaves the file, a folio that was used is zeroed in the direct map
 * before it is freed; one never used is not, as it holds only what the
 * allocator gave.
 */
static void guestmem_test_no_direct_map_first_use(struct kunit *test)
{
	struct folio *used, *unused, *folio;
	struct guestmem_binding b;
	struct file *file;

	file = create_no_direct_map(test);
	kunit_activate_static_stub(test, guestmem_grab_folio, grab_stale_folio);
	gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);

	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, 2 * LARGE_NR), 0);
	used = gmt_cached_folio(test, file, 0);
	unused = gmt_cached_folio(test, file, LARGE_NR);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(used), 0);
	KUNIT_EXPECT_FALSE(test, folio_test_uptodate(used));
	KUNIT_EXPECT_TRUE(test, folio_bytes(test, used, STALE, false));

	/* A lookup that does not prepare hands out no contents: no zeroing. */
	folio = guestmem_get_folio(&b, 1, 0);
	KUNIT_ASSERT_PTR_EQ(test, folio, used);
	folio_unlock(folio);
	folio_put(folio);
	KUNIT_EXPECT_TRUE(test, folio_bytes(test, used, STALE, false));

	folio = guestmem_get_folio(&b, 1, GUESTMEM_GET_PREPARE);
	KUNIT_ASSERT_PTR_EQ(test, folio, used);
	KUNIT_EXPECT_TRUE(test, folio_test_uptodate(folio));
	folio_unlock(folio);
	folio_put(folio);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(used), 0);
	KUNIT_EXPECT_TRUE(test, folio_bytes(test, used, 0, false));

	/* The guest writes its data; it must not reach the allocator. */
	folio_bytes(test, used, 0x3c, true);
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE,
					 0, 2 * LARGE_NR), 0);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(used), LARGE_NR);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(unused), LARGE_NR);
	KUNIT_EXPECT_TRUE(test, folio_bytes(test, used, 0, false));
	KUNIT_EXPECT_TRUE(test, folio_bytes(test, unused, STALE, false));
	folio_put(used);
	folio_put(unused);

	guestmem_unbind(&b);
	__fput_sync(file);
}

/*
 * A removal that fails on a page (a split it cannot allocate) puts the
 * pages of its range back and tries the range's folios one at a time:
 * those before the failing one leave, the failing one stays in the file,
 * in the direct map, and the call fails with the error; the next call
 * removes it.  The call still flushes once for the folios that left.
 */
static void guestmem_test_no_direct_map_failure(struct kunit *test)
{
	struct fake_backend *fb = test->priv;
	struct guestmem_binding b;
	struct folio *first, *second, *folio;
	struct file *file;
	long flushes;

	file = create_no_direct_map(test);
	gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);
	kunit_activate_static_stub(test, guestmem_set_direct_map,
				   gmt_set_direct_map_failing);

	/* The third page of the first folio. */
	flushes = guestmem_nr_tlb_flushes();
	fb->unmap_fail = true;
	fb->unmap_fail_index = 2;
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, LARGE_NR), -ENOMEM);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes);
	first = gmt_cached_folio(test, file, 0);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(first), LARGE_NR);
	KUNIT_EXPECT_FALSE(test, folio_test_checked(first));

	/*
	 * The second page of the second folio, whether the two folios were
	 * one range or two: the first one is out.
	 */
	fb->unmap_fail_index = LARGE_NR + 1;
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, 2 * LARGE_NR),
			-ENOMEM);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes + 1);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(first), 0);
	KUNIT_EXPECT_TRUE(test, folio_test_checked(first));
	second = gmt_cached_folio(test, file, LARGE_NR);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(second), LARGE_NR);
	KUNIT_EXPECT_FALSE(test, folio_test_checked(second));

	/* A lookup fails the same way, and succeeds once removal does. */
	fb->unmap_fail_index = LARGE_NR;
	gmt_expect_get_error(test, &b, LARGE_NR, 0, -ENOMEM);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(second), LARGE_NR);
	kunit_deactivate_static_stub(test, guestmem_set_direct_map);
	folio = guestmem_get_folio(&b, LARGE_NR, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	KUNIT_EXPECT_PTR_EQ(test, folio, second);
	folio_unlock(folio);
	folio_put(folio);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(second), 0);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes + 2);

	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(first), LARGE_NR);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(second), LARGE_NR);
	KUNIT_EXPECT_EQ(test, fb->frees, 2 * LARGE_NR);
	folio_put(first);
	folio_put(second);
}

/*
 * Physically contiguous folios of one fallocate() leave with one range
 * operation: there are fewer removals than folios unless no two of them
 * follow each other, which the test finds out from their pfns.
 */
static void guestmem_test_no_direct_map_ranges(struct kunit *test)
{
	struct fake_backend *fb = test->priv;
	unsigned int runs = 1;
	struct file *file;
	unsigned long pfn = 0;
	pgoff_t i;

	if (!(guestmem_supported_flags() & GUESTMEM_F_NO_DIRECT_MAP))
		kunit_skip(test, "the direct map cannot be changed on this system");
	file = guestmem_file_create("[guestmem-kunit]", NR_PAGES * PAGE_SIZE,
				    GUESTMEM_F_NO_DIRECT_MAP | gmt_flags(),
				    &fake_ops_a, fb);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, file);
	kunit_activate_static_stub(test, guestmem_set_direct_map,
				   gmt_set_direct_map_failing);
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, NR_PAGES), 0);
	kunit_deactivate_static_stub(test, guestmem_set_direct_map);

	for (i = 0; i < NR_PAGES; i++) {
		struct folio *folio = gmt_cached_folio(test, file, i);

		KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(folio), 0);
		if (i && page_to_pfn(folio_file_page(folio, i)) != pfn + 1)
			runs++;
		pfn = page_to_pfn(folio_file_page(folio, i));
		folio_put(folio);
	}
	KUNIT_EXPECT_EQ(test, fb->unmap_calls, runs);
	kunit_info(test, "%lu pages left in %u range operations", NR_PAGES, runs);
	__fput_sync(file);
}

/*
 * guestmem_set_direct_map() stand-in that, before its first removal of a
 * folio from the second batch of an fallocate(), looks up the first folio,
 * which that fallocate() removed but has not flushed yet.
 */
static int set_direct_map_lookup(struct page *page, unsigned int nr,
				 bool valid)
{
	struct kunit *test = kunit_get_current_test();
	struct fake_backend *fb = test->priv;
	struct folio *folio;
	long flushes;

	if (!valid && page_folio(page)->index >= GUESTMEM_ZAP_BATCH &&
	    fb->lookup_flushes < 0) {
		flushes = guestmem_nr_tlb_flushes();
		folio = guestmem_get_folio(fb->lookup_b, 0, 0);
		fb->lookup_flushes = guestmem_nr_tlb_flushes() - flushes;
		if (!IS_ERR(folio)) {
			folio_unlock(folio);
			folio_put(folio);
		}
	}
	return gmt_set_direct_map_through(test, page, nr, valid,
					  set_direct_map_lookup);
}

/*
 * A lookup that finds a folio removed by an fallocate() still in progress
 * flushes before handing it out: the fallocate() flushes only at its end.
 * Once that flush is done, lookups do not flush again.  The fallocate()
 * takes folios out in batches, each unlocked once out: the lookup comes
 * from the second batch.
 */
static void guestmem_test_no_direct_map_racing_lookup(struct kunit *test)
{
	const pgoff_t nr = GUESTMEM_ZAP_BATCH + 4;
	struct fake_backend *fb = test->priv;
	struct guestmem_binding b;
	struct file *file;
	long flushes;

	if (!(guestmem_supported_flags() & GUESTMEM_F_NO_DIRECT_MAP))
		kunit_skip(test, "the direct map cannot be changed on this system");
	file = guestmem_file_create("[guestmem-kunit]", nr * PAGE_SIZE,
				    GUESTMEM_F_NO_DIRECT_MAP | gmt_flags(),
				    &fake_ops_a, fb);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, file);
	gmt_bind(test, file, &b, &fake_ops_a, 0, nr);
	fb->lookup_b = &b;
	fb->lookup_flushes = -1;
	kunit_activate_static_stub(test, guestmem_set_direct_map,
				   set_direct_map_lookup);

	flushes = guestmem_nr_tlb_flushes();
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, nr), 0);
	KUNIT_EXPECT_EQ(test, fb->lookup_flushes, 1);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes + 2);

	kunit_deactivate_static_stub(test, guestmem_set_direct_map);
	gmt_expect_get_error(test, &b, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes + 2);

	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, fb->frees, nr);
}

/*
 * The counters of pages out of the direct map, per file (fdinfo) and for
 * the system (GuestMemNoDMap in /proc/meminfo), and of pages held
 * (GuestMem), follow large folios out and back.
 */
static void guestmem_test_no_direct_map_counters(struct kunit *test)
{
	unsigned long base = guestmem_nr_pages();
	unsigned long base_out = guestmem_nr_pages_no_direct_map();
	struct guestmem_binding b;
	struct guestmem *gm;
	struct file *file;

	file = create_no_direct_map(test);
	gm = GUESTMEM_I(file_inode(file));
	gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);

	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, 2 * LARGE_NR), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&gm->nr_unmapped), 2 * LARGE_NR);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages_no_direct_map(), base_out + 2 * LARGE_NR);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages(), base + 2 * LARGE_NR);

	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE,
					 0, LARGE_NR), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&gm->nr_unmapped), LARGE_NR);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages_no_direct_map(), base_out + LARGE_NR);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages(), base + LARGE_NR);

	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages_no_direct_map(), base_out);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages(), base);
}

/*
 * Lookups that allocate one page after the other, as a guest's first pass
 * over its memory does, take a window of new folios out of the direct map
 * with each flush, 1, 2, 4 ... GUESTMEM_ZAP_BATCH folios; any other lookup
 * takes its own folio only.  A window ends at a page the file has and at
 * the end of the file.
 */
#define AHEAD_NR	96

static void guestmem_test_no_direct_map_ahead(struct kunit *test)
{
	struct address_space *mapping;
	unsigned long want = 1, windows = 0;
	struct guestmem_binding b;
	struct folio *folio;
	struct file *file;
	pgoff_t i, next = 0;
	long flushes;

	if (!(guestmem_supported_flags() & GUESTMEM_F_NO_DIRECT_MAP))
		kunit_skip(test, "the direct map cannot be changed on this system");
	file = guestmem_file_create("[guestmem-kunit]", AHEAD_NR * PAGE_SIZE,
				    GUESTMEM_F_NO_DIRECT_MAP | gmt_flags(),
				    &fake_ops_a, test->priv);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, file);
	mapping = file->f_mapping;
	gmt_bind(test, file, &b, &fake_ops_a, 0, AHEAD_NR);

	/* Page 70 is in the file already. */
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 70, 1), 0);
	flushes = guestmem_nr_tlb_flushes();
	for (i = 0; i < 70; i++) {
		folio = guestmem_get_folio(&b, i, 0);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
		KUNIT_EXPECT_EQ_MSG(test, guestmem_folio_nr_mapped(folio), 0,
				    "page %lu", i);
		folio_unlock(folio);
		folio_put(folio);
		if (i == next) {
			windows++;
			next = min(i + want, 70UL);
			want = min(2 * want, (unsigned long)GUESTMEM_ZAP_BATCH);
		}
		KUNIT_EXPECT_EQ_MSG(test, mapping->nrpages, next + 1,
				    "after page %lu", i);
		KUNIT_EXPECT_EQ_MSG(test, guestmem_nr_tlb_flushes(),
				    flushes + windows, "after page %lu", i);
	}
	/* 1, 2, 4, 8, 16, 32, then 7 up to page 70. */
	KUNIT_EXPECT_EQ(test, windows, 7);
	for (i = 0; i <= 70; i++) {
		folio = gmt_cached_folio(test, file, i);
		KUNIT_EXPECT_EQ_MSG(test, guestmem_folio_nr_mapped(folio), 0,
				    "page %lu", i);
		folio_put(folio);
	}

	/* Not where the last window ended: one folio, then 2, 4, 8. */
	flushes = guestmem_nr_tlb_flushes();
	folio = guestmem_get_folio(&b, 80, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	folio_unlock(folio);
	folio_put(folio);
	KUNIT_EXPECT_EQ(test, mapping->nrpages, 72);
	for (i = 81; i < AHEAD_NR; i++) {
		folio = guestmem_get_folio(&b, i, 0);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
		folio_unlock(folio);
		folio_put(folio);
	}
	/* 81-82, 83-86, 87-94, and page 95 alone: the file ends there. */
	KUNIT_EXPECT_EQ(test, mapping->nrpages, 71 + AHEAD_NR - 80);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes + 5);

	guestmem_unbind(&b);
	__fput_sync(file);
}

#ifdef CONFIG_X86
/*
 * x86: pages taken out of a large direct-map entry and put back leave the
 * entry whole again, as it was before: set_direct_map_valid_noflush()
 * collapses what the removal split.  Pages of a 2 MiB block of their own,
 * so that nothing else keeps part of it split.
 */
static void guestmem_test_direct_map_merged(struct kunit *test)
{
	unsigned int before, level;
	struct page *page;
	unsigned long addr;

	page = alloc_pages(GFP_KERNEL, PMD_ORDER);
	KUNIT_ASSERT_NOT_NULL(test, page);
	addr = (unsigned long)page_address(page);
	lookup_address(addr, &before);
	if (before < PG_LEVEL_2M) {
		__free_pages(page, PMD_ORDER);
		kunit_skip(test, "the direct map is mapped by 4 KiB pages here");
	}

	KUNIT_ASSERT_EQ(test, guestmem_set_direct_map(nth_page(page, 7), 3, false), 0);
	KUNIT_EXPECT_NOT_NULL(test, lookup_address(addr + 7 * PAGE_SIZE, &level));
	KUNIT_EXPECT_EQ(test, level, PG_LEVEL_4K);
	KUNIT_EXPECT_FALSE(test, kernel_page_present(nth_page(page, 9)));
	KUNIT_EXPECT_TRUE(test, kernel_page_present(nth_page(page, 10)));

	KUNIT_EXPECT_EQ(test, guestmem_set_direct_map(nth_page(page, 7), 3, true), 0);
	KUNIT_EXPECT_TRUE(test, kernel_page_present(nth_page(page, 9)));
	lookup_address(addr + 8 * PAGE_SIZE, &level);
	/* A 1 GiB entry comes back only if nothing else split part of it. */
	if (before == PG_LEVEL_1G)
		KUNIT_EXPECT_GE(test, level, PG_LEVEL_2M);
	else
		KUNIT_EXPECT_EQ(test, level, before);
	/* The merged entry maps the same memory. */
	memset((void *)addr + 8 * PAGE_SIZE, 0x5a, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, *(u8 *)page_address(nth_page(page, 8)), 0x5a);
	__free_pages(page, PMD_ORDER);
}
#endif

static struct kunit_case guestmem_direct_map_cases[] = {
	GMT_CASE(guestmem_test_no_direct_map),
	GMT_CASE(guestmem_test_no_direct_map_large),
	GMT_CASE(guestmem_test_no_direct_map_first_use),
	GMT_CASE(guestmem_test_no_direct_map_failure),
	GMT_CASE(guestmem_test_no_direct_map_ranges),
	GMT_CASE(guestmem_test_no_direct_map_racing_lookup),
	GMT_CASE(guestmem_test_no_direct_map_counters),
	GMT_CASE(guestmem_test_no_direct_map_ahead),
#ifdef CONFIG_X86
	KUNIT_CASE(guestmem_test_direct_map_merged),
#endif
	{}
};

static struct kunit_suite guestmem_direct_map_suite = {
	.name = "guestmem_direct_map",
	.init = gmt_init,
	.test_cases = guestmem_direct_map_cases,
};

kunit_test_suite(guestmem_direct_map_suite);
