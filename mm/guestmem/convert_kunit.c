// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "guestmem_convert": shared and private memory (convert.c):
 * the initial state, conversions that keep or zero contents, pins and
 * backends refusing, and the direct map, which conversions leave alone
 * but in a file that keeps only its private pages out of it.
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

#include "guestmem_kunit.h"

static struct file *create_mmap(struct kunit *test, unsigned long flags)
{
	struct file *file;

	file = guestmem_file_create("[guestmem-kunit]", NR_PAGES * PAGE_SIZE,
				    GUESTMEM_F_MMAP | flags | gmt_flags(),
				    &fake_ops_a, test->priv);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, file);
	return file;
}

/* Counts the pages of [start, end) that @b reports private. */
static pgoff_t nr_private(struct guestmem_binding *b, pgoff_t start,
			  pgoff_t end)
{
	pgoff_t i, nr = 0;

	for (i = start; i < end; i++)
		nr += guestmem_is_private(b, i);
	return nr;
}

/*
 * The state a file starts with, which files have one, and the arguments
 * guestmem_convert() refuses.
 */
static void guestmem_test_state(struct kunit *test)
{
	struct guestmem_binding b, bs;
	struct file *file, *shared;
	pgoff_t err = 77;

	KUNIT_EXPECT_TRUE(test, guestmem_supported_flags() & GUESTMEM_F_MMAP);
	KUNIT_EXPECT_TRUE(test, guestmem_supported_flags() & GUESTMEM_F_INIT_SHARED);
	file = guestmem_file_create("[guestmem-kunit]", PAGE_SIZE,
				    GUESTMEM_F_INIT_SHARED, &fake_ops_a, test->priv);
	KUNIT_EXPECT_EQ(test, PTR_ERR(file), -EINVAL);

	/* Without MMAP every page is private and stays so. */
	file = gmt_create(test);
	gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);
	KUNIT_EXPECT_EQ(test, nr_private(&b, 0, NR_PAGES), NR_PAGES);
	KUNIT_EXPECT_EQ(test, guestmem_file_flags(file), gmt_flags());
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 1, false, 0, &err), -EINVAL);
	guestmem_unbind(&b);
	__fput_sync(file);

	file = create_mmap(test, 0);
	shared = create_mmap(test, GUESTMEM_F_INIT_SHARED);
	gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);
	gmt_bind(test, shared, &bs, &fake_ops_a, 0, NR_PAGES);
	KUNIT_EXPECT_EQ(test, guestmem_file_flags(file),
			GUESTMEM_F_MMAP | gmt_flags());
	KUNIT_EXPECT_EQ(test, nr_private(&b, 0, NR_PAGES), NR_PAGES);
	KUNIT_EXPECT_EQ(test, nr_private(&bs, 0, NR_PAGES), 0);

	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 0, false, 0, &err), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, NR_PAGES - 1, 2, false, 0, &err), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 1, ULONG_MAX, false, 0, &err), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 1, false, BIT(7), &err), -EINVAL);
	KUNIT_EXPECT_EQ(test, err, 77);
	KUNIT_EXPECT_EQ(test, nr_private(&b, 0, NR_PAGES), NR_PAGES);
	/* Nothing was converted, so no backend heard of it. */
	KUNIT_EXPECT_EQ(test, ((struct fake_backend *)test->priv)->nr_ev, 0);

	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 2, 3, false, 0, NULL), 0);
	KUNIT_EXPECT_EQ(test, nr_private(&b, 0, NR_PAGES), NR_PAGES - 3);
	KUNIT_EXPECT_FALSE(test, guestmem_is_private(&b, 2));
	KUNIT_EXPECT_FALSE(test, guestmem_is_private(&b, 4));
	KUNIT_EXPECT_TRUE(test, guestmem_is_private(&b, 5));
	gmt_expect_event(test, 0, EV_BEGIN, &b, 2, 5);
	gmt_expect_event(test, 1, EV_TO_SHARED, &b, 2, 5);
	gmt_expect_event(test, 2, EV_END, &b, 2, 5);

	guestmem_unbind(&b);
	guestmem_unbind(&bs);
	__fput_sync(file);
	__fput_sync(shared);
}

/*
 * Contents survive conversions both ways unless zeroing is asked for; a
 * page held by anyone but the file (a pin) makes a conversion to private
 * fail with -EAGAIN and its index, changing nothing, until it is let go.
 * A pin needs a host mapping, and the host's fault splits a huge folio
 * first: so it is in the huge run, and the rest is the same.
 */
static void guestmem_test_convert(struct kunit *test)
{
	struct fake_backend *fb = test->priv;
	struct guestmem_binding b;
	struct folio *pinned;
	struct file *file;
	pgoff_t err = 77;

	file = create_mmap(test, GUESTMEM_F_INIT_SHARED);
	gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);
	gmt_fill(test, &b, 1, 0x5a);
	gmt_fill(test, &b, 6, 0xa5);

	if (gmt_huge())
		gmt_split_as_host(test, file, 6);
	pinned = gmt_cached_folio(test, file, 6);
	fb->nr_ev = 0;
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 8, true, 0, &err), -EAGAIN);
	KUNIT_EXPECT_EQ(test, err, 6);
	KUNIT_EXPECT_EQ(test, nr_private(&b, 0, NR_PAGES), 0);
	/* The backend unmapped, was never asked, and may map again. */
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 2);
	gmt_expect_event(test, 0, EV_BEGIN, &b, 0, 8);
	gmt_expect_event(test, 1, EV_END, &b, 0, 8);
	/* Outside the busy page, the same call works. */
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 6, true, 0, &err), 0);
	KUNIT_EXPECT_EQ(test, nr_private(&b, 0, 8), 6);
	folio_put(pinned);

	fb->nr_ev = 0;
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 8, true, 0, &err), 0);
	KUNIT_EXPECT_EQ(test, nr_private(&b, 0, NR_PAGES), 8);
	gmt_expect_event(test, 0, EV_BEGIN, &b, 0, 8);
	gmt_expect_event(test, 1, EV_TO_PRIVATE, &b, 0, 8);
	gmt_expect_event(test, 2, EV_END, &b, 0, 8);
	KUNIT_EXPECT_TRUE(test, gmt_holds(test, file, 1, 0x5a));
	KUNIT_EXPECT_TRUE(test, gmt_holds(test, file, 6, 0xa5));

	/* A backend may refuse; then nothing changes. */
	fb->convert_ret = -EPERM;
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 4, false, 0, &err), -EPERM);
	KUNIT_EXPECT_EQ(test, nr_private(&b, 0, NR_PAGES), 8);
	fb->convert_ret = 0;

	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 8, false, 0, &err), 0);
	KUNIT_EXPECT_TRUE(test, gmt_holds(test, file, 1, 0x5a));
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 2, true,
					       GUESTMEM_CONVERT_ZERO, &err), 0);
	KUNIT_EXPECT_TRUE(test, gmt_holds(test, file, 1, 0));
	KUNIT_EXPECT_TRUE(test, gmt_holds(test, file, 6, 0xa5));
	KUNIT_EXPECT_EQ(test, err, 6);

	guestmem_unbind(&b);
	__fput_sync(file);
}

/* Expects every page of [start, end) to have a folio out of the direct map. */
static void expect_out(struct kunit *test, struct file *file, pgoff_t start,
		       pgoff_t end)
{
	struct folio *folio;
	pgoff_t i;

	for (i = start; i < end; i++) {
		folio = gmt_cached_folio(test, file, i);
		KUNIT_EXPECT_TRUE_MSG(test, folio_test_checked(folio), "page %lu", i);
		KUNIT_EXPECT_EQ_MSG(test, guestmem_folio_nr_mapped(folio), 0,
				    "page %lu", i);
		folio_put(folio);
	}
}

/*
 * A lookup of @index, which must allocate if @new: one flush, the folio
 * out; none if the folio was there already (a page of a huge-backed file
 * comes with its block), and out all the same.
 */
static void expect_lookup_out(struct kunit *test, struct guestmem_binding *b,
			      pgoff_t index, bool new)
{
	long flushes = guestmem_nr_tlb_flushes();
	struct folio *folio;

	folio = guestmem_get_folio(b, index, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(folio), 0);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes + new);
	folio_unlock(folio);
	folio_put(folio);
}

/*
 * With NO_DIRECT_MAP every page is out of the direct map from its
 * allocation on, shared or private: fallocate() removes its folios with
 * one flush, a lookup that allocates removes its folio (one flush), and
 * conversions either way neither change the direct map nor flush.  ZERO
 * frees the range's folios, so the next lookup allocates a new one, out
 * of the direct map as well.  GUP is refused through the mapping flag.
 */
static void guestmem_test_convert_no_direct_map(struct kunit *test)
{
	struct guestmem_binding b;
	struct folio *folio;
	struct file *file;
	long flushes;

	if (!(guestmem_supported_flags() & GUESTMEM_F_NO_DIRECT_MAP))
		kunit_skip(test, "the direct map cannot be changed on this system");
	file = create_mmap(test, GUESTMEM_F_NO_DIRECT_MAP | GUESTMEM_F_INIT_SHARED);
	gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);
	KUNIT_EXPECT_TRUE(test, mapping_no_direct_map(file->f_mapping));

	/* Shared pages leave as well. */
	flushes = guestmem_nr_tlb_flushes();
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, 8), 0);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes + 1);
	KUNIT_EXPECT_EQ(test, nr_private(&b, 0, 8), 0);
	expect_out(test, file, 0, 8);
	expect_lookup_out(test, &b, 12, !gmt_huge());

	flushes = guestmem_nr_tlb_flushes();
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 10, true, 0, NULL), 0);
	KUNIT_EXPECT_EQ(test, nr_private(&b, 0, 10), 10);
	expect_out(test, file, 0, 8);
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 8, false, 0, NULL), 0);
	KUNIT_EXPECT_EQ(test, nr_private(&b, 0, 10), 2);
	expect_out(test, file, 0, 8);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes);

	/* A private page allocated after its conversion (or with its block). */
	expect_lookup_out(test, &b, 9, !gmt_huge());

	/* ZERO: the folio goes (its pages back in the direct map), a new one comes. */
	folio = gmt_cached_folio(test, file, 9);
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 9, 1, false,
					       GUESTMEM_CONVERT_ZERO, NULL), 0);
	KUNIT_EXPECT_FALSE(test, folio_test_checked(folio));
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(folio), 1);
	folio_put(folio);
	KUNIT_EXPECT_TRUE(test, IS_ERR(filemap_get_folio(file->f_mapping, 9)));
	KUNIT_EXPECT_FALSE(test, guestmem_is_private(&b, 9));
	expect_lookup_out(test, &b, 9, true);
	expect_out(test, file, 0, 8);

	guestmem_unbind(&b);
	__fput_sync(file);
}

/* Expects the folios of [start, end) to be in the direct map, wholly. */
static void expect_in(struct kunit *test, struct file *file, pgoff_t start,
		      pgoff_t end)
{
	struct folio *folio;
	pgoff_t i;

	for (i = start; i < end; i++) {
		folio = gmt_cached_folio(test, file, i);
		KUNIT_EXPECT_FALSE_MSG(test, folio_test_checked(folio), "page %lu", i);
		KUNIT_EXPECT_EQ_MSG(test, guestmem_folio_nr_mapped(folio),
				    folio_nr_pages(folio), "page %lu", i);
		folio_put(folio);
	}
}

/*
 * With NO_DIRECT_MAP_PRIVATE only private pages are out of the direct map:
 * shared ones are allocated in it and GUP may reach them; a conversion to
 * private takes the range's folios out with one flush, and one to shared
 * puts them back with none, contents kept both ways.  A private page
 * allocated later leaves on allocation.  A pin refuses the conversion
 * with nothing moved; a removal that fails halfway puts back what it took
 * and changes no state.  A private page punched out comes back, zeroed.
 */
static void guestmem_test_convert_no_direct_map_private(struct kunit *test)
{
	const unsigned long f = GUESTMEM_F_NO_DIRECT_MAP_PRIVATE;
	struct fake_backend *fb = test->priv;
	struct folio *folio, *pinned;
	struct guestmem_binding b;
	pgoff_t err = 0;
	struct file *file;
	long flushes;
	void *p;

	if (!(guestmem_supported_flags() & f))
		kunit_skip(test, "the direct map cannot be changed on this system");
	/* Only with MMAP (else every page is private), and not with NO_DIRECT_MAP. */
	file = guestmem_file_create("[guestmem-kunit]", PAGE_SIZE, f,
				    &fake_ops_a, fb);
	KUNIT_EXPECT_EQ(test, PTR_ERR(file), -EINVAL);
	file = guestmem_file_create("[guestmem-kunit]", PAGE_SIZE,
				    f | GUESTMEM_F_MMAP | GUESTMEM_F_NO_DIRECT_MAP,
				    &fake_ops_a, fb);
	KUNIT_EXPECT_EQ(test, PTR_ERR(file), -EINVAL);

	file = create_mmap(test, f | GUESTMEM_F_INIT_SHARED);
	gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);
	KUNIT_EXPECT_FALSE(test, mapping_no_direct_map(file->f_mapping));

	/* Shared pages stay in, with no flush. */
	flushes = guestmem_nr_tlb_flushes();
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, 8), 0);
	/* Lookups in such a file hold off conversions (guestmem_lock()). */
	guestmem_lock(&b);
	gmt_fill(test, &b, 1, 0x77);
	gmt_fill(test, &b, 2, 0x5a);
	guestmem_unlock(&b);
	expect_in(test, file, 0, 8);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes);

	/* To private: out, one flush for the range; a new private page too. */
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 10, true, 0, NULL), 0);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes + 1);
	KUNIT_EXPECT_EQ(test, nr_private(&b, 0, NR_PAGES), 10);
	expect_out(test, file, 0, 8);
	guestmem_lock(&b);
	expect_lookup_out(test, &b, 9, !gmt_huge());
	gmt_expect_get_error(test, &b, 9, GUESTMEM_GET_UNPREPARED, -EACCES);
	/* A shared page allocated now stays in. */
	folio = guestmem_get_folio(&b, 12, GUESTMEM_GET_PREPARE);
	guestmem_unlock(&b);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(folio), 1);
	folio_unlock(folio);
	folio_put(folio);

	/* To shared: back in, no flush, the contents kept. */
	flushes = guestmem_nr_tlb_flushes();
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 10, false, 0, NULL), 0);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes);
	expect_in(test, file, 0, 8);
	expect_in(test, file, 9, 10);
	KUNIT_EXPECT_TRUE(test, gmt_holds(test, file, 2, 0x5a));

	/* A pinned page: -EAGAIN, and nothing of the range left. */
	pinned = gmt_cached_folio(test, file, 4);
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 8, true, 0, &err), -EAGAIN);
	KUNIT_EXPECT_EQ(test, err, 4);
	KUNIT_EXPECT_EQ(test, nr_private(&b, 0, 8), 0);
	expect_in(test, file, 0, 8);
	folio_put(pinned);

	/* A removal failing at page 5: nothing moves, and no state changes. */
	kunit_activate_static_stub(test, guestmem_set_direct_map,
				   gmt_set_direct_map_failing);
	fb->unmap_fail = true;
	fb->unmap_fail_index = 5;
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 8, true, 0, NULL), -ENOMEM);
	KUNIT_EXPECT_EQ(test, nr_private(&b, 0, 8), 0);
	expect_in(test, file, 0, 8);
	/* Pages already private before the failing call stay out. */
	fb->unmap_fail = false;
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 2, true, 0, NULL), 0);
	fb->unmap_fail = true;
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 8, true, 0, NULL), -ENOMEM);
	KUNIT_EXPECT_EQ(test, nr_private(&b, 0, 8), 2);
	expect_out(test, file, 0, 2);
	expect_in(test, file, 2, 8);
	kunit_deactivate_static_stub(test, guestmem_set_direct_map);

	/* ZERO on a private page: zeroed out of the direct map, still out. */
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 2, 1, true,
					       GUESTMEM_CONVERT_ZERO, NULL), 0);
	expect_out(test, file, 2, 3);
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 2, 1, false, 0, NULL), 0);
	KUNIT_EXPECT_TRUE(test, gmt_holds(test, file, 2, 0));

	/* A used private page punched out comes back into the direct map, zeroed. */
	folio = gmt_cached_folio(test, file, 1);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(folio), 0);
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE,
					 1, 1), 0);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(folio), 1);
	KUNIT_EXPECT_FALSE(test, folio_test_checked(folio));
	p = kmap_local_folio(folio, 0);
	KUNIT_EXPECT_FALSE(test, memchr_inv(p, 0, PAGE_SIZE));
	kunmap_local(p);
	folio_put(folio);

	guestmem_unbind(&b);
	__fput_sync(file);
}

static struct kunit_case guestmem_convert_cases[] = {
	GMT_CASE(guestmem_test_state),
	GMT_CASE(guestmem_test_convert),
	GMT_CASE(guestmem_test_convert_no_direct_map),
	GMT_CASE(guestmem_test_convert_no_direct_map_private),
	{}
};

static struct kunit_suite guestmem_convert_suite = {
	.name = "guestmem_convert",
	.init = gmt_init,
	.test_cases = guestmem_convert_cases,
};

kunit_test_suite(guestmem_convert_suite);
