// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "guestmem": files, bindings and lookup (file.c, binding.c),
 * through the exported API and the fake backend.
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

#include "guestmem_kunit.h"

static int inode_refs(struct file *file)
{
	return atomic_read(&file_inode(file)->i_count);
}

static bool folio_is_zero(struct folio *folio)
{
	void *p = kmap_local_folio(folio, 0);
	bool zero = !memchr_inv(p, 0, PAGE_SIZE);

	kunmap_local(p);
	return zero;
}

static void guestmem_test_create_invalid(struct kunit *test)
{
	static const loff_t bad_sizes[] = { 0, -(loff_t)PAGE_SIZE, PAGE_SIZE + 1 };
	struct file *file;
	int i;

	for (i = 0; i < ARRAY_SIZE(bad_sizes); i++) {
		file = guestmem_file_create("[guestmem-kunit]", bad_sizes[i], 0,
					    &fake_ops_a, NULL);
		KUNIT_EXPECT_EQ(test, PTR_ERR(file), -EINVAL);
	}
	/* The first flag bit the library does not define. */
	file = guestmem_file_create("[guestmem-kunit]", PAGE_SIZE,
				    GUESTMEM_F_SCRUB << 1, &fake_ops_a, NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(file), -EINVAL);

	file = gmt_create(test);
	KUNIT_EXPECT_EQ(test, i_size_read(file_inode(file)), NR_PAGES * PAGE_SIZE);
	KUNIT_EXPECT_PTR_EQ(test, guestmem_file_priv(file, &fake_ops_a), test->priv);
	KUNIT_EXPECT_NULL(test, guestmem_file_priv(file, &fake_ops_b));
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, gmt_fake()->releases, 1);
}

static void guestmem_test_get_folio(struct kunit *test)
{
	struct fake_backend *fb = test->priv;
	struct guestmem_binding b;
	struct folio *folio, *again;
	struct file *file;
	int refs;

	file = gmt_create(test);
	gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);

	folio = guestmem_get_folio(&b, 5, GUESTMEM_GET_PREPARE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	KUNIT_EXPECT_TRUE(test, folio_test_locked(folio));
	KUNIT_EXPECT_TRUE(test, folio_test_uptodate(folio));
	/* On a huge-backed file: the huge folio, prepared as a whole. */
	KUNIT_EXPECT_EQ(test, folio->index, SH(5, 0));
	KUNIT_EXPECT_TRUE(test, folio_is_zero(folio));
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 1);
	gmt_expect_event(test, 0, EV_PREPARE, &b, SH(5, 0), SH(6, NR_PAGES));
	folio_unlock(folio);
	refs = folio_ref_count(folio);
	folio_put(folio);
	/* Only the page cache holds it now. */
	KUNIT_EXPECT_EQ(test, folio_ref_count(folio), refs - 1);

	/* Prepared once: found again, not prepared again. */
	again = guestmem_get_folio(&b, 5, GUESTMEM_GET_PREPARE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, again);
	KUNIT_EXPECT_PTR_EQ(test, again, folio);
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 1);
	folio_unlock(again);
	folio_put(again);
	KUNIT_EXPECT_EQ(test, folio_ref_count(folio), refs - 1);

	gmt_expect_get_error(test, &b, 5, GUESTMEM_GET_UNPREPARED, -EEXIST);
	gmt_expect_get_error(test, &b, NR_PAGES, 0, -EIO);
	KUNIT_EXPECT_EQ(test, folio_ref_count(folio), refs - 1);
	KUNIT_EXPECT_EQ(test, file->f_mapping->nrpages, SH(1, NR_PAGES));

	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, fb->releases, 1);
	KUNIT_EXPECT_EQ(test, fb->frees, SH(1, NR_PAGES));
}

static void guestmem_test_unprepared(struct kunit *test)
{
	struct fake_backend *fb = test->priv;
	struct guestmem_binding b;
	struct folio *folio;
	struct file *file;

	file = gmt_create(test);
	gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);

	folio = guestmem_get_folio(&b, 3, GUESTMEM_GET_UNPREPARED);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	KUNIT_EXPECT_FALSE(test, folio_test_uptodate(folio));
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 0);
	guestmem_folio_mark_prepared(folio);
	folio_unlock(folio);
	folio_put(folio);

	folio = guestmem_get_folio(&b, 3, GUESTMEM_GET_PREPARE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 0);
	folio_unlock(folio);
	folio_put(folio);

	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, fb->frees, SH(1, NR_PAGES));
}

static void guestmem_test_fallocate(struct kunit *test)
{
	struct fake_backend *fb = test->priv;
	struct guestmem_binding b;
	struct file *file;

	file = gmt_create(test);
	gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);

	/* A huge-backed file gets the whole block. */
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, 8), 0);
	KUNIT_EXPECT_EQ(test, file->f_mapping->nrpages, SH(8, NR_PAGES));
	/* Allocation changes no folio a binding could have mapped. */
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 0);

	KUNIT_EXPECT_EQ(test, gmt_falloc(file, 0, 0, 1), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE | FALLOC_FL_ZERO_RANGE, 0, 1),
			-EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, vfs_fallocate(file, FALLOC_FL_KEEP_SIZE, 1, PAGE_SIZE),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, NR_PAGES - 1, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, file->f_mapping->nrpages, SH(8, NR_PAGES));
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 0);

	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, fb->frees, SH(8, NR_PAGES));
}

/*
 * Three bindings, two backends: a punch hole reaches the overlapping ones
 * only, clipped to each, all begins before all ends, in bind order.  In a
 * huge folio the punch hole splits it and invalidates all of it, so every
 * binding of the folio hears of it, each for all of its range.
 */
static void guestmem_test_punch_hole(struct kunit *test)
{
	struct fake_backend *fb = test->priv;
	struct guestmem_binding a, b, c;
	struct file *file;

	file = gmt_create(test);
	gmt_bind(test, file, &a, &fake_ops_a, 0, 8);
	gmt_bind(test, file, &b, &fake_ops_b, 4, 8);
	gmt_bind(test, file, &c, &fake_ops_a, 12, 4);
	KUNIT_ASSERT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, NR_PAGES), 0);

	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE,
					 2, 4), 0);
	if (gmt_huge()) {
		KUNIT_EXPECT_EQ(test, fb->nr_ev, 6);
		gmt_expect_event(test, 0, EV_BEGIN, &a, 0, 8);
		gmt_expect_event(test, 1, EV_BEGIN, &b, 4, 12);
		gmt_expect_event(test, 2, EV_BEGIN, &c, 12, 16);
		gmt_expect_event(test, 3, EV_END, &a, 0, 8);
		gmt_expect_event(test, 4, EV_END, &b, 4, 12);
		gmt_expect_event(test, 5, EV_END, &c, 12, 16);
	} else {
		KUNIT_EXPECT_EQ(test, fb->nr_ev, 4);
		gmt_expect_event(test, 0, EV_BEGIN, &a, 2, 6);
		gmt_expect_event(test, 1, EV_BEGIN, &b, 4, 6);
		gmt_expect_event(test, 2, EV_END, &a, 2, 6);
		gmt_expect_event(test, 3, EV_END, &b, 4, 6);
	}
	KUNIT_EXPECT_EQ(test, file->f_mapping->nrpages, NR_PAGES - 4);
	/* The folios left the file at the punch hole, not later. */
	KUNIT_EXPECT_EQ(test, fb->frees, 4);

	KUNIT_EXPECT_EQ(test, vfs_fallocate(file, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE,
					    PAGE_SIZE, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, fb->nr_ev, SH(4, 6));
	guestmem_unbind(&a);
	guestmem_unbind(&b);
	guestmem_unbind(&c);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, fb->frees, NR_PAGES);
}

/*
 * A binding with ->punch_hole() is asked first, for its part of the range
 * only: when it refuses, fallocate() fails with its error, no binding is
 * invalidated and no folio leaves; when it agrees, the punch hole goes on
 * as usual.  A punch hole outside its range and the last close do not ask.
 */
static void guestmem_test_punch_hole_refused(struct kunit *test)
{
	const int punch = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;
	struct fake_backend *fb = test->priv;
	struct guestmem_binding a, p;
	struct file *file;
	int i;

	file = gmt_create(test);
	gmt_bind(test, file, &a, &fake_ops_a, 0, 8);
	gmt_bind(test, file, &p, &fake_ops_punch, 4, 8);
	KUNIT_ASSERT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, NR_PAGES), 0);

	fb->punch_ret = -EBUSY;
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, punch, 2, 4), -EBUSY);
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 1);
	gmt_expect_event(test, 0, EV_PUNCH, &p, 4, 6);
	KUNIT_EXPECT_EQ(test, file->f_mapping->nrpages, NR_PAGES);
	KUNIT_EXPECT_EQ(test, fb->frees, 0);

	/* ->punch_hole() is asked for the range; a split invalidates the folio. */
	fb->punch_ret = 0;
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, punch, 2, 4), 0);
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 6);
	gmt_expect_event(test, 1, EV_PUNCH, &p, 4, 6);
	gmt_expect_event(test, 2, EV_BEGIN, &a, SH(2, 0), SH(6, 8));
	gmt_expect_event(test, 3, EV_BEGIN, &p, 4, SH(6, 12));
	gmt_expect_event(test, 4, EV_END, &a, SH(2, 0), SH(6, 8));
	gmt_expect_event(test, 5, EV_END, &p, 4, SH(6, 12));
	KUNIT_EXPECT_EQ(test, fb->frees, 4);

	/* Not its range: not asked, even while it would refuse. */
	fb->punch_ret = -EBUSY;
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, punch, 0, 2), 0);
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 8);
	KUNIT_EXPECT_EQ(test, fb->frees, 6);

	/* The last close frees everything without asking. */
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, fb->frees, NR_PAGES);
	for (i = 8; i < min(fb->nr_ev, MAX_EVENTS); i++)
		KUNIT_EXPECT_NE_MSG(test, fb->ev[i].kind, EV_PUNCH, "event %d", i);
	guestmem_unbind(&a);
	guestmem_unbind(&p);
}

/*
 * GUESTMEM_F_SCRUB: a folio that was used is zeroed when it leaves the
 * file, before ->free_folio; without the flag (and without
 * NO_DIRECT_MAP) it keeps its contents, which the allocator clears
 * when it hands the page out again.  A huge folio, which our reference
 * would keep from splitting, is punched out whole.
 */
static void guestmem_test_scrub(struct kunit *test)
{
	struct fake_backend *fb = test->priv;
	struct guestmem_binding b;
	int pass, frees;

	for (pass = 0; pass < 2; pass++) {
		unsigned long flags = pass ? GUESTMEM_F_SCRUB : 0;
		struct folio *folio;
		struct file *file;
		void *p;

		KUNIT_EXPECT_TRUE(test, guestmem_supported_flags() & GUESTMEM_F_SCRUB);
		file = guestmem_file_create("[guestmem-kunit]", NR_PAGES * PAGE_SIZE,
					    flags | gmt_flags(), &fake_ops_a, fb);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, file);
		gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);
		folio = guestmem_get_folio(&b, 3, GUESTMEM_GET_PREPARE);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
		p = kmap_local_folio(folio, 0);
		memset(p, 0x3c, PAGE_SIZE);
		kunmap_local(p);
		folio_unlock(folio);

		/* Our reference keeps the folio readable after it left. */
		frees = fb->frees;
		KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE |
						 FALLOC_FL_PUNCH_HOLE, folio->index,
						 folio_nr_pages(folio)), 0);
		KUNIT_EXPECT_EQ(test, fb->frees, frees + SH(1, NR_PAGES));
		KUNIT_EXPECT_EQ(test, folio_is_zero(folio), !!pass);
		folio_put(folio);
		guestmem_unbind(&b);
		__fput_sync(file);
	}
}

static void guestmem_test_bind(struct kunit *test)
{
	struct guestmem_binding a, a2, a3, b;
	struct file *file;
	int refs;

	file = gmt_create(test);
	refs = inode_refs(file);
	KUNIT_EXPECT_EQ(test, guestmem_bind(file, &a, &fake_ops_a, 0, 8,
					    GUESTMEM_BIND_EXCLUSIVE), 0);
	KUNIT_EXPECT_EQ(test, inode_refs(file), refs + 1);
	KUNIT_EXPECT_EQ(test, guestmem_bind(file, &a2, &fake_ops_a, 4, 8,
					    GUESTMEM_BIND_EXCLUSIVE), -EEXIST);
	/* Another backend may share the range. */
	KUNIT_EXPECT_EQ(test, guestmem_bind(file, &b, &fake_ops_b, 4, 8,
					    GUESTMEM_BIND_EXCLUSIVE), 0);
	KUNIT_EXPECT_EQ(test, guestmem_bind(file, &a3, &fake_ops_a, 8, 8,
					    GUESTMEM_BIND_EXCLUSIVE), 0);
	KUNIT_EXPECT_EQ(test, guestmem_bind(file, &a2, &fake_ops_a, NR_PAGES - 2, 4, 0),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_bind(file, &a2, &fake_ops_a, 0, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_bind(file, &a2, &fake_ops_a, ULONG_MAX, 2, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, inode_refs(file), refs + 3);

	guestmem_unbind(&a);
	guestmem_unbind(&b);
	guestmem_unbind(&a3);
	KUNIT_EXPECT_EQ(test, inode_refs(file), refs);
	__fput_sync(file);
}

/*
 * Closing the file frees its memory inside a whole-range invalidation,
 * detaches its bindings and gives the owner's data back; the bindings stay
 * valid (and hold the inode) until unbound.
 */
static void guestmem_test_close_while_bound(struct kunit *test)
{
	struct fake_backend *fb = test->priv;
	struct guestmem_binding a, b;
	struct file *file;

	file = gmt_create(test);
	gmt_bind(test, file, &a, &fake_ops_a, 0, 8);
	gmt_bind(test, file, &b, &fake_ops_b, 8, 8);
	KUNIT_ASSERT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, 4), 0);

	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, fb->releases, 1);
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 4);
	gmt_expect_event(test, 0, EV_BEGIN, &a, 0, 8);
	gmt_expect_event(test, 1, EV_BEGIN, &b, 8, 16);
	gmt_expect_event(test, 2, EV_END, &a, 0, 8);
	gmt_expect_event(test, 3, EV_END, &b, 8, 16);
	KUNIT_EXPECT_EQ(test, fb->frees, SH(4, NR_PAGES));

	gmt_expect_get_error(test, &a, 0, GUESTMEM_GET_PREPARE, -EFAULT);
	gmt_expect_get_error(test, &b, 9, GUESTMEM_GET_UNPREPARED, -EFAULT);
	guestmem_unbind(&a);
	guestmem_unbind(&b);
	KUNIT_EXPECT_EQ(test, fb->frees, SH(4, NR_PAGES));
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 4);
	KUNIT_EXPECT_EQ(test, fb->releases, 1);
}

/* A backend object that goes first gets no callback after unbinding. */
static void guestmem_test_backend_dies_first(struct kunit *test)
{
	struct fake_backend *fb = test->priv;
	struct guestmem_binding a, b;
	struct file *file;
	int refs;

	file = gmt_create(test);
	refs = inode_refs(file);
	gmt_bind(test, file, &a, &fake_ops_a, 0, NR_PAGES);
	gmt_bind(test, file, &b, &fake_ops_b, 0, NR_PAGES);
	KUNIT_ASSERT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, NR_PAGES), 0);

	guestmem_unbind(&a);
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE,
					 0, 2), 0);
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 2);
	gmt_expect_event(test, 0, EV_BEGIN, &b, 0, SH(2, NR_PAGES));
	gmt_expect_event(test, 1, EV_END, &b, 0, SH(2, NR_PAGES));
	KUNIT_EXPECT_EQ(test, fb->frees, 2);

	guestmem_unbind(&b);
	KUNIT_EXPECT_EQ(test, inode_refs(file), refs);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 2);
	KUNIT_EXPECT_EQ(test, fb->releases, 1);
	KUNIT_EXPECT_EQ(test, fb->frees, NR_PAGES);
}

static struct folio *grab_folio_enomem(struct guestmem *gm, pgoff_t index)
{
	return ERR_PTR(-ENOMEM);
}

static void guestmem_test_alloc_failure(struct kunit *test)
{
	struct fake_backend *fb = test->priv;
	struct guestmem_binding b;
	struct folio *folio;
	struct file *file;

	file = gmt_create(test);
	gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);

	/* A huge folio that cannot be had falls back to the failing one. */
	gmt_huge_alloc_fails(test, true);
	kunit_activate_static_stub(test, guestmem_grab_folio, grab_folio_enomem);
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, 4), -ENOMEM);
	gmt_expect_get_error(test, &b, 0, GUESTMEM_GET_PREPARE, -ENOMEM);
	KUNIT_EXPECT_EQ(test, file->f_mapping->nrpages, 0);
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 0);
	kunit_deactivate_static_stub(test, guestmem_grab_folio);
	gmt_huge_alloc_fails(test, false);

	folio = guestmem_get_folio(&b, 0, GUESTMEM_GET_PREPARE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	folio_unlock(folio);
	folio_put(folio);

	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, fb->frees, SH(1, NR_PAGES));
}

/* A failed prepare leaves the folio unprepared, to be prepared next time. */
static void guestmem_test_prepare_failure(struct kunit *test)
{
	struct fake_backend *fb = test->priv;
	struct guestmem_binding b;
	struct folio *folio;
	struct file *file;

	file = gmt_create(test);
	gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);

	fb->prepare_ret = -EIO;
	gmt_expect_get_error(test, &b, 7, GUESTMEM_GET_PREPARE, -EIO);
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 1);

	fb->prepare_ret = 0;
	folio = guestmem_get_folio(&b, 7, GUESTMEM_GET_PREPARE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	KUNIT_EXPECT_TRUE(test, folio_test_uptodate(folio));
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 2);
	gmt_expect_event(test, 1, EV_PREPARE, &b, SH(7, 0), SH(8, NR_PAGES));
	folio_unlock(folio);
	folio_put(folio);

	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, fb->frees, SH(1, NR_PAGES));
}

static void guestmem_test_migrate_refused(struct kunit *test)
{
	struct guestmem_binding b;
	struct address_space *mapping;
	struct folio *folio;
	struct file *file;

	file = gmt_create(test);
	mapping = file->f_mapping;
	gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);
	KUNIT_EXPECT_TRUE(test, mapping_unevictable(mapping));
	KUNIT_EXPECT_TRUE(test, mapping_inaccessible(mapping));

	folio = guestmem_get_folio(&b, 0, GUESTMEM_GET_PREPARE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	KUNIT_EXPECT_EQ(test, mapping->a_ops->migrate_folio(mapping, folio, folio,
							    MIGRATE_SYNC), -EBUSY);
	/*
	 * Nor may anyone but a truncation take it out of the file, or split
	 * it: eviction and splits ask ->release_folio() first.
	 */
	KUNIT_EXPECT_TRUE(test, mapping_release_always(mapping));
	KUNIT_EXPECT_FALSE(test, filemap_release_folio(folio, GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, mapping->nrpages, SH(1, NR_PAGES));
	folio_unlock(folio);
	folio_put(folio);

	guestmem_unbind(&b);
	__fput_sync(file);
}

/*
 * A memory failure unmaps the folio from every binding that covers it and
 * leaves it in the file: what to do about it is the backend's decision.
 * memory_failure() calls ->error_remove_folio() with the folio locked,
 * while a punch hole or a conversion may hold the invalidate lock
 * exclusive and wait for that folio's lock: with @contended the test holds
 * the invalidate lock, and the call must return at once without telling
 * the bindings; the library's work tells them once the lock is free.
 */
static void memory_failure_case(struct kunit *test, bool contended)
{
	struct fake_backend *fb = test->priv;
	struct address_space *mapping;
	struct guestmem_binding a, b;
	struct folio *folio;
	struct file *file;

	file = gmt_create(test);
	mapping = file->f_mapping;
	gmt_bind(test, file, &a, &fake_ops_a, 0, 8);
	gmt_bind(test, file, &b, &fake_ops_b, 4, 12);

	folio = guestmem_get_folio(&a, 6, GUESTMEM_GET_PREPARE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	fb->nr_ev = 0;
	if (contended)
		filemap_invalidate_lock(mapping);
	KUNIT_EXPECT_EQ(test, mapping->a_ops->error_remove_folio(mapping, folio),
			MF_DELAYED);
	folio_unlock(folio);
	if (contended) {
		KUNIT_EXPECT_EQ(test, fb->nr_ev, 0);
		filemap_invalidate_unlock(mapping);
		flush_delayed_work(&GUESTMEM_I(file_inode(file))->poison_work);
	}
	/* The whole folio: a huge one reaches all of both bindings. */
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 4);
	gmt_expect_event(test, 0, EV_BEGIN, &a, SH(6, 0), SH(7, 8));
	gmt_expect_event(test, 1, EV_BEGIN, &b, SH(6, 4), SH(7, 16));
	gmt_expect_event(test, 2, EV_END, &a, SH(6, 0), SH(7, 8));
	gmt_expect_event(test, 3, EV_END, &b, SH(6, 4), SH(7, 16));
	KUNIT_EXPECT_EQ(test, mapping->nrpages, SH(1, NR_PAGES));
	KUNIT_EXPECT_PTR_EQ(test, folio->mapping, mapping);
	folio_put(folio);

	guestmem_unbind(&a);
	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, fb->frees, SH(1, NR_PAGES));
}

static void guestmem_test_memory_failure(struct kunit *test)
{
	memory_failure_case(test, false);
}

static void guestmem_test_memory_failure_contended(struct kunit *test)
{
	memory_failure_case(test, true);
}

/*
 * guestmem_nr_pages() (GuestMem in /proc/meminfo) counts every page a file
 * gets, whether by fallocate() or by a lookup, and no longer the pages
 * punched out or freed by the last close.
 */
static void guestmem_test_nr_pages(struct kunit *test)
{
	unsigned long base = guestmem_nr_pages();
	struct guestmem_binding b;
	struct folio *folio;
	struct file *file;

	file = gmt_create(test);
	gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages(), base);
	/* A huge-backed file gets its whole block with the first page. */
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, 4), 0);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages(), base + SH(4, NR_PAGES));
	/* Again: nothing new. */
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, 4), 0);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages(), base + SH(4, NR_PAGES));

	folio = guestmem_get_folio(&b, 9, GUESTMEM_GET_PREPARE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	folio_unlock(folio);
	folio_put(folio);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages(), base + SH(5, NR_PAGES));

	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE,
					 1, 2), 0);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages(), base + SH(3, NR_PAGES - 2));

	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages(), base);
}

static struct kunit_case guestmem_file_cases[] = {
	GMT_CASE(guestmem_test_create_invalid),
	GMT_CASE(guestmem_test_get_folio),
	GMT_CASE(guestmem_test_unprepared),
	GMT_CASE(guestmem_test_fallocate),
	GMT_CASE(guestmem_test_punch_hole),
	GMT_CASE(guestmem_test_punch_hole_refused),
	GMT_CASE(guestmem_test_scrub),
	GMT_CASE(guestmem_test_bind),
	GMT_CASE(guestmem_test_close_while_bound),
	GMT_CASE(guestmem_test_backend_dies_first),
	GMT_CASE(guestmem_test_nr_pages),
	GMT_CASE(guestmem_test_alloc_failure),
	GMT_CASE(guestmem_test_prepare_failure),
	GMT_CASE(guestmem_test_migrate_refused),
	GMT_CASE(guestmem_test_memory_failure),
	GMT_CASE(guestmem_test_memory_failure_contended),
	{}
};

static struct kunit_suite guestmem_file_suite = {
	.name = "guestmem",
	.init = gmt_init,
	.test_cases = guestmem_file_cases,
};

kunit_test_suite(guestmem_file_suite);
