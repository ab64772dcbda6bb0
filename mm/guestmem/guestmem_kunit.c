// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for guestmem, through its exported API and a fake backend
 * that records every callback it gets.
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

#include "internal.h"

#define NR_PAGES	16
#define MAX_EVENTS	32

enum fake_kind { EV_BEGIN, EV_END, EV_PREPARE, EV_TO_PRIVATE, EV_TO_SHARED };

struct fake_event {
	enum fake_kind kind;
	struct guestmem_binding *binding;
	pgoff_t start;
	pgoff_t end;
};

/* The fake backend's state, one per test case (test->priv). */
struct fake_backend {
	struct fake_event ev[MAX_EVENTS];
	int nr_ev;
	int releases;
	int frees;
	int prepare_ret;
	int convert_ret;
	struct address_space *mapping;	/* for grab_large_folio() */
	int unmap_calls;		/* for gmt_unmap_page_failing() */
	int unmap_fail_at;
	struct guestmem_binding *lookup_b;	/* for unmap_page_lookup() */
	long lookup_flushes;
};

static struct fake_backend *gmt_fake(void)
{
	return kunit_get_current_test()->priv;
}

static void fake_record(enum fake_kind kind, struct guestmem_binding *b,
			pgoff_t start, pgoff_t end)
{
	struct fake_backend *fb = gmt_fake();

	if (fb->nr_ev < MAX_EVENTS)
		fb->ev[fb->nr_ev] = (struct fake_event){ kind, b, start, end };
	fb->nr_ev++;
}

static void fake_release(void *priv)
{
	((struct fake_backend *)priv)->releases++;
}

static void fake_free_folio(struct folio *folio)
{
	gmt_fake()->frees += folio_nr_pages(folio);
}

static int fake_prepare_folio(struct guestmem_binding *b, pgoff_t index,
			      struct folio *folio)
{
	fake_record(EV_PREPARE, b, index, index + folio_nr_pages(folio));
	return gmt_fake()->prepare_ret;
}

static void fake_invalidate_begin(struct guestmem_binding *b, pgoff_t start,
				  pgoff_t end)
{
	fake_record(EV_BEGIN, b, start, end);
}

static void fake_invalidate_end(struct guestmem_binding *b, pgoff_t start,
				pgoff_t end)
{
	fake_record(EV_END, b, start, end);
}

static int fake_convert(struct guestmem_binding *b, pgoff_t start,
			pgoff_t end, bool to_private)
{
	fake_record(to_private ? EV_TO_PRIVATE : EV_TO_SHARED, b, start, end);
	return gmt_fake()->convert_ret;
}

/* Two backends with the same callbacks, told apart by their tables. */
static const struct guestmem_ops fake_ops_a = {
	.owner			= THIS_MODULE,
	.release		= fake_release,
	.free_folio		= fake_free_folio,
	.prepare_folio		= fake_prepare_folio,
	.invalidate_begin	= fake_invalidate_begin,
	.invalidate_end		= fake_invalidate_end,
	.convert		= fake_convert,
};

static const struct guestmem_ops fake_ops_b = {
	.owner			= THIS_MODULE,
	.prepare_folio		= fake_prepare_folio,
	.invalidate_begin	= fake_invalidate_begin,
	.invalidate_end		= fake_invalidate_end,
};

static void gmt_expect_event(struct kunit *test, int i, enum fake_kind kind,
			     struct guestmem_binding *b, pgoff_t start, pgoff_t end)
{
	struct fake_backend *fb = test->priv;

	KUNIT_ASSERT_LT(test, i, fb->nr_ev);
	KUNIT_EXPECT_EQ_MSG(test, fb->ev[i].kind, kind, "event %d", i);
	KUNIT_EXPECT_PTR_EQ_MSG(test, fb->ev[i].binding, b, "event %d", i);
	KUNIT_EXPECT_EQ_MSG(test, fb->ev[i].start, start, "event %d", i);
	KUNIT_EXPECT_EQ_MSG(test, fb->ev[i].end, end, "event %d", i);
}

static struct file *gmt_create(struct kunit *test)
{
	struct file *file;

	file = guestmem_file_create("[guestmem-kunit]", NR_PAGES * PAGE_SIZE,
				    0, &fake_ops_a, test->priv);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, file);
	return file;
}

static void gmt_bind(struct kunit *test, struct file *file,
		     struct guestmem_binding *b, const struct guestmem_ops *ops,
		     pgoff_t start, pgoff_t nr)
{
	KUNIT_ASSERT_EQ(test, guestmem_bind(file, b, ops, start, nr, 0), 0);
}

static int gmt_falloc(struct file *file, int mode, pgoff_t start, pgoff_t nr)
{
	return vfs_fallocate(file, mode, start * PAGE_SIZE, nr * PAGE_SIZE);
}

/*
 * Expects guestmem_get_folio() to fail with @err; a folio it returns
 * instead is released, so that the test can go on and end.
 */
static void gmt_expect_get_error(struct kunit *test, struct guestmem_binding *b,
				 pgoff_t index, unsigned int flags, long err)
{
	struct folio *folio = guestmem_get_folio(b, index, flags);

	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(folio), err);
	if (!IS_ERR(folio)) {
		folio_unlock(folio);
		folio_put(folio);
	}
}

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
				    GUESTMEM_F_INIT_SHARED << 1, &fake_ops_a, NULL);
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
	KUNIT_EXPECT_EQ(test, folio->index, 5);
	KUNIT_EXPECT_TRUE(test, folio_is_zero(folio));
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 1);
	gmt_expect_event(test, 0, EV_PREPARE, &b, 5, 6);
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
	KUNIT_EXPECT_EQ(test, file->f_mapping->nrpages, 1);

	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, fb->releases, 1);
	KUNIT_EXPECT_EQ(test, fb->frees, 1);
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
	KUNIT_EXPECT_EQ(test, fb->frees, 1);
}

static void guestmem_test_fallocate(struct kunit *test)
{
	struct fake_backend *fb = test->priv;
	struct guestmem_binding b;
	struct file *file;

	file = gmt_create(test);
	gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);

	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, 8), 0);
	KUNIT_EXPECT_EQ(test, file->f_mapping->nrpages, 8);
	/* Allocation changes no folio a binding could have mapped. */
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 0);

	KUNIT_EXPECT_EQ(test, gmt_falloc(file, 0, 0, 1), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE | FALLOC_FL_ZERO_RANGE, 0, 1),
			-EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, vfs_fallocate(file, FALLOC_FL_KEEP_SIZE, 1, PAGE_SIZE),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, NR_PAGES - 1, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, file->f_mapping->nrpages, 8);
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 0);

	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, fb->frees, 8);
}

/*
 * Three bindings, two backends: a punch hole reaches the overlapping ones
 * only, clipped to each, all begins before all ends, in bind order.
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
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 4);
	gmt_expect_event(test, 0, EV_BEGIN, &a, 2, 6);
	gmt_expect_event(test, 1, EV_BEGIN, &b, 4, 6);
	gmt_expect_event(test, 2, EV_END, &a, 2, 6);
	gmt_expect_event(test, 3, EV_END, &b, 4, 6);
	KUNIT_EXPECT_EQ(test, file->f_mapping->nrpages, NR_PAGES - 4);
	/* The folios left the file at the punch hole, not later. */
	KUNIT_EXPECT_EQ(test, fb->frees, 4);

	KUNIT_EXPECT_EQ(test, vfs_fallocate(file, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE,
					    PAGE_SIZE, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 4);
	guestmem_unbind(&a);
	guestmem_unbind(&b);
	guestmem_unbind(&c);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, fb->frees, NR_PAGES);
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
	KUNIT_EXPECT_EQ(test, guestmem_bind(file, &a2, &fake_ops_a, 14, 4, 0), -EINVAL);
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
	KUNIT_EXPECT_EQ(test, fb->frees, 4);

	gmt_expect_get_error(test, &a, 0, GUESTMEM_GET_PREPARE, -EFAULT);
	gmt_expect_get_error(test, &b, 9, GUESTMEM_GET_UNPREPARED, -EFAULT);
	guestmem_unbind(&a);
	guestmem_unbind(&b);
	KUNIT_EXPECT_EQ(test, fb->frees, 4);
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
	gmt_expect_event(test, 0, EV_BEGIN, &b, 0, 2);
	gmt_expect_event(test, 1, EV_END, &b, 0, 2);
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

	kunit_activate_static_stub(test, guestmem_grab_folio, grab_folio_enomem);
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, 4), -ENOMEM);
	gmt_expect_get_error(test, &b, 0, GUESTMEM_GET_PREPARE, -ENOMEM);
	KUNIT_EXPECT_EQ(test, file->f_mapping->nrpages, 0);
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 0);
	kunit_deactivate_static_stub(test, guestmem_grab_folio);

	folio = guestmem_get_folio(&b, 0, GUESTMEM_GET_PREPARE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	folio_unlock(folio);
	folio_put(folio);

	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, fb->frees, 1);
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
	gmt_expect_event(test, 1, EV_PREPARE, &b, 7, 8);
	folio_unlock(folio);
	folio_put(folio);

	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, fb->frees, 1);
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
	folio_unlock(folio);
	folio_put(folio);

	guestmem_unbind(&b);
	__fput_sync(file);
}

/*
 * A memory failure unmaps the folio from every binding that covers it and
 * leaves it in the file: what to do about it is the backend's decision.
 */
static void guestmem_test_memory_failure(struct kunit *test)
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
	/* memory_failure() calls it with the folio locked. */
	KUNIT_EXPECT_EQ(test, mapping->a_ops->error_remove_folio(mapping, folio),
			MF_DELAYED);
	KUNIT_EXPECT_EQ(test, fb->nr_ev, 5);
	gmt_expect_event(test, 1, EV_BEGIN, &a, 6, 7);
	gmt_expect_event(test, 2, EV_BEGIN, &b, 6, 7);
	gmt_expect_event(test, 3, EV_END, &a, 6, 7);
	gmt_expect_event(test, 4, EV_END, &b, 6, 7);
	KUNIT_EXPECT_EQ(test, mapping->nrpages, 1);
	folio_unlock(folio);
	folio_put(folio);

	guestmem_unbind(&a);
	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, fb->frees, 1);
}

/*
 * A file kept out of the direct map: every page of its folios is absent
 * from allocation until the folio leaves the file, and each operation
 * that takes folios out flushes the kernel TLB once, not per folio.
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
				    GUESTMEM_F_NO_DIRECT_MAP, &fake_ops_a, fb);
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
	gmt_expect_event(test, 0, EV_PREPARE, &b, 3, 4);
	folio_unlock(folio);
	folio_put(folio);

	/* Back in the direct map when it leaves the file, even if held. */
	held = guestmem_get_folio(&b, 5, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, held);
	folio_unlock(held);
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE,
					 5, 1), 0);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(held), 1);
	folio_put(held);
	KUNIT_EXPECT_EQ(test, fb->frees, 1);

	/* A lookup that allocates flushes once. */
	folio = guestmem_get_folio(&b, 5, GUESTMEM_GET_PREPARE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(folio), 0);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes + 2);
	folio_unlock(folio);
	folio_put(folio);

	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, fb->frees, NR_PAGES + 1);
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
	folio->private = gm;
	return folio;
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
				    GUESTMEM_F_NO_DIRECT_MAP, &fake_ops_a, fb);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, file);
	fb->mapping = file->f_mapping;
	kunit_activate_static_stub(test, guestmem_grab_folio, grab_large_folio);
	return file;
}

/* Looks up the folio at @index without the library, with a reference. */
static struct folio *gmt_cached_folio(struct kunit *test, struct file *file,
				      pgoff_t index)
{
	struct folio *folio = filemap_get_folio(file->f_mapping, index);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	return folio;
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
 * The real guestmem_unmap_page(), called from its stand-in @stub: the
 * stub is out of the way for this one call (set_direct_map_*() is not
 * exported to a test module, so the stub cannot do it itself).  The
 * untyped activation: @stub is a pointer, not a function name, which the
 * typed macro needs; its prototype is checked here instead.
 */
static int gmt_unmap_page_through(struct kunit *test, struct page *page,
				  int (*stub)(struct page *page))
{
	int ret;

	kunit_deactivate_static_stub(test, guestmem_unmap_page);
	ret = guestmem_unmap_page(page);
	__kunit_activate_static_stub(test, guestmem_unmap_page, stub);
	return ret;
}

/*
 * guestmem_unmap_page() stand-in that fails on call number unmap_fail_at
 * and does the real thing otherwise.
 */
static int gmt_unmap_page_failing(struct page *page)
{
	struct kunit *test = kunit_get_current_test();
	struct fake_backend *fb = test->priv;

	if (++fb->unmap_calls == fb->unmap_fail_at)
		return -ENOMEM;
	return gmt_unmap_page_through(test, page, gmt_unmap_page_failing);
}

/*
 * Removal failing halfway through a folio puts the pages already removed
 * back, fails the call with the error and leaves the folio in the file,
 * in the direct map; the next call removes it.  Folios removed before the
 * failure stay out, and the call still flushes once for them.
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
	kunit_activate_static_stub(test, guestmem_unmap_page, gmt_unmap_page_failing);

	/* The third page of the first folio. */
	flushes = guestmem_nr_tlb_flushes();
	fb->unmap_fail_at = 3;
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, LARGE_NR), -ENOMEM);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes);
	first = gmt_cached_folio(test, file, 0);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(first), LARGE_NR);
	KUNIT_EXPECT_FALSE(test, folio_test_checked(first));

	/* The second page of the second folio: the first one is out. */
	fb->unmap_calls = 0;
	fb->unmap_fail_at = LARGE_NR + 2;
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, 2 * LARGE_NR),
			-ENOMEM);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes + 1);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(first), 0);
	second = gmt_cached_folio(test, file, LARGE_NR);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(second), LARGE_NR);

	/* A lookup fails the same way, and succeeds once removal does. */
	fb->unmap_calls = 0;
	fb->unmap_fail_at = 1;
	gmt_expect_get_error(test, &b, LARGE_NR, 0, -ENOMEM);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(second), LARGE_NR);
	kunit_deactivate_static_stub(test, guestmem_unmap_page);
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

static struct file *create_mmap(struct kunit *test, unsigned long flags)
{
	struct file *file;

	file = guestmem_file_create("[guestmem-kunit]", NR_PAGES * PAGE_SIZE,
				    GUESTMEM_F_MMAP | flags, &fake_ops_a,
				    test->priv);
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

/* Writes @byte through the direct map to the folio at @index (shared). */
static void fill_page(struct kunit *test, struct guestmem_binding *b,
		      pgoff_t index, u8 byte)
{
	struct folio *folio = guestmem_get_folio(b, index, GUESTMEM_GET_PREPARE);
	void *p;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	p = kmap_local_folio(folio, 0);
	memset(p, byte, PAGE_SIZE);
	kunmap_local(p);
	folio_unlock(folio);
	folio_put(folio);
}

static bool page_is(struct kunit *test, struct guestmem_binding *b,
		    pgoff_t index, u8 byte)
{
	struct folio *folio = guestmem_get_folio(b, index, GUESTMEM_GET_PREPARE);
	bool same;
	void *p;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	p = kmap_local_folio(folio, 0);
	same = !memchr_inv(p, byte, PAGE_SIZE);
	kunmap_local(p);
	folio_unlock(folio);
	folio_put(folio);
	return same;
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
	KUNIT_EXPECT_EQ(test, guestmem_file_flags(file), 0);
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 1, false, 0, &err), -EINVAL);
	guestmem_unbind(&b);
	__fput_sync(file);

	file = create_mmap(test, 0);
	shared = create_mmap(test, GUESTMEM_F_INIT_SHARED);
	gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);
	gmt_bind(test, shared, &bs, &fake_ops_a, 0, NR_PAGES);
	KUNIT_EXPECT_EQ(test, guestmem_file_flags(file), GUESTMEM_F_MMAP);
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
	fill_page(test, &b, 1, 0x5a);
	fill_page(test, &b, 6, 0xa5);

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
	KUNIT_EXPECT_TRUE(test, page_is(test, &b, 1, 0x5a));
	KUNIT_EXPECT_TRUE(test, page_is(test, &b, 6, 0xa5));

	/* A backend may refuse; then nothing changes. */
	fb->convert_ret = -EPERM;
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 4, false, 0, &err), -EPERM);
	KUNIT_EXPECT_EQ(test, nr_private(&b, 0, NR_PAGES), 8);
	fb->convert_ret = 0;

	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 8, false, 0, &err), 0);
	KUNIT_EXPECT_TRUE(test, page_is(test, &b, 1, 0x5a));
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 2, true,
					       GUESTMEM_CONVERT_ZERO, &err), 0);
	KUNIT_EXPECT_TRUE(test, page_is(test, &b, 1, 0));
	KUNIT_EXPECT_TRUE(test, page_is(test, &b, 6, 0xa5));
	KUNIT_EXPECT_EQ(test, err, 6);

	guestmem_unbind(&b);
	__fput_sync(file);
}

/*
 * With NO_DIRECT_MAP, shared pages stay in the direct map and private ones
 * leave it: conversions move them, with one flush per conversion to
 * private and none the other way, and keep their contents.
 */
static void guestmem_test_convert_no_direct_map(struct kunit *test)
{
	struct guestmem_binding b;
	struct folio *folio;
	struct file *file;
	long flushes;
	pgoff_t i;

	if (!(guestmem_supported_flags() & GUESTMEM_F_NO_DIRECT_MAP))
		kunit_skip(test, "the direct map cannot be changed on this system");
	file = create_mmap(test, GUESTMEM_F_NO_DIRECT_MAP | GUESTMEM_F_INIT_SHARED);
	gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);

	flushes = guestmem_nr_tlb_flushes();
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, 8), 0);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes);
	for (i = 0; i < 8; i++)
		fill_page(test, &b, i, i + 1);

	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 8, true, 0, NULL), 0);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes + 1);
	for (i = 0; i < 8; i++) {
		folio = gmt_cached_folio(test, file, i);
		KUNIT_EXPECT_EQ_MSG(test, guestmem_folio_nr_mapped(folio), 0,
				    "page %lu", i);
		folio_put(folio);
	}
	/* A private page allocated later leaves as well. */
	folio = guestmem_get_folio(&b, 3, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	folio_unlock(folio);
	folio_put(folio);
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 8, 2, true, 0, NULL), 0);
	folio = guestmem_get_folio(&b, 9, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(folio), 0);
	folio_unlock(folio);
	folio_put(folio);
	flushes = guestmem_nr_tlb_flushes();

	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 8, false, 0, NULL), 0);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes);
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_TRUE_MSG(test, page_is(test, &b, i, i + 1),
				      "page %lu", i);
	/* A shared page allocated later stays. */
	folio = guestmem_get_folio(&b, 12, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(folio), 1);
	folio_unlock(folio);
	folio_put(folio);

	/* Zeroing a private page brings it back for that and takes it out. */
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 9, 1, true,
					       GUESTMEM_CONVERT_ZERO, NULL), 0);
	folio = gmt_cached_folio(test, file, 9);
	KUNIT_EXPECT_EQ(test, guestmem_folio_nr_mapped(folio), 0);
	folio_put(folio);

	guestmem_unbind(&b);
	__fput_sync(file);
}

/*
 * A conversion to private whose removal from the direct map fails midway
 * changes nothing: pages that were shared are shared again and back in
 * the direct map, the page that was private already stays out, and the
 * same conversion works once removal works.
 */
static void guestmem_test_convert_failure(struct kunit *test)
{
	struct fake_backend *fb = test->priv;
	struct guestmem_binding b;
	struct folio *folio;
	struct file *file;
	pgoff_t i;

	if (!(guestmem_supported_flags() & GUESTMEM_F_NO_DIRECT_MAP))
		kunit_skip(test, "the direct map cannot be changed on this system");
	file = create_mmap(test, GUESTMEM_F_NO_DIRECT_MAP | GUESTMEM_F_INIT_SHARED);
	gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, 4), 0);
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 3, 1, true, 0, NULL), 0);

	/* Page 0 leaves, page 1 fails. */
	fb->unmap_fail_at = 2;
	kunit_activate_static_stub(test, guestmem_unmap_page, gmt_unmap_page_failing);
	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 4, true, 0, NULL), -ENOMEM);
	KUNIT_EXPECT_EQ(test, fb->unmap_calls, 2);
	kunit_deactivate_static_stub(test, guestmem_unmap_page);

	KUNIT_EXPECT_EQ(test, nr_private(&b, 0, 4), 1);
	KUNIT_EXPECT_TRUE(test, guestmem_is_private(&b, 3));
	for (i = 0; i < 4; i++) {
		folio = gmt_cached_folio(test, file, i);
		KUNIT_EXPECT_EQ_MSG(test, guestmem_folio_nr_mapped(folio), i < 3 ? 1UL : 0UL,
				    "page %lu", i);
		folio_put(folio);
	}

	KUNIT_EXPECT_EQ(test, guestmem_convert(file, 0, 4, true, 0, NULL), 0);
	KUNIT_EXPECT_EQ(test, nr_private(&b, 0, 4), 4);
	for (i = 0; i < 4; i++) {
		folio = gmt_cached_folio(test, file, i);
		KUNIT_EXPECT_EQ_MSG(test, guestmem_folio_nr_mapped(folio), 0,
				    "page %lu", i);
		folio_put(folio);
	}

	guestmem_unbind(&b);
	__fput_sync(file);
}

static int gmt_init(struct kunit *test)
{
	test->priv = kunit_kzalloc(test, sizeof(struct fake_backend), GFP_KERNEL);
	return test->priv ? 0 : -ENOMEM;
}

/*
 * guestmem_unmap_page() stand-in that, on its second call (the second
 * folio of an fallocate()), first looks up the first folio, which that
 * fallocate() removed but has not flushed yet.
 */
static int unmap_page_lookup(struct page *page)
{
	struct kunit *test = kunit_get_current_test();
	struct fake_backend *fb = test->priv;
	struct folio *folio;
	long flushes;

	if (++fb->unmap_calls == 2) {
		flushes = guestmem_nr_tlb_flushes();
		folio = guestmem_get_folio(fb->lookup_b, 0, 0);
		fb->lookup_flushes = guestmem_nr_tlb_flushes() - flushes;
		if (!IS_ERR(folio)) {
			folio_unlock(folio);
			folio_put(folio);
		}
	}
	return gmt_unmap_page_through(test, page, unmap_page_lookup);
}

/*
 * A lookup that finds a folio removed by an fallocate() still in progress
 * flushes before handing it out: the fallocate() flushes only at its end.
 * Once that flush is done, lookups do not flush again.
 */
static void guestmem_test_no_direct_map_racing_lookup(struct kunit *test)
{
	struct fake_backend *fb = test->priv;
	struct guestmem_binding b;
	struct file *file;
	long flushes;

	if (!(guestmem_supported_flags() & GUESTMEM_F_NO_DIRECT_MAP))
		kunit_skip(test, "the direct map cannot be changed on this system");
	file = guestmem_file_create("[guestmem-kunit]", NR_PAGES * PAGE_SIZE,
				    GUESTMEM_F_NO_DIRECT_MAP, &fake_ops_a, fb);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, file);
	gmt_bind(test, file, &b, &fake_ops_a, 0, NR_PAGES);
	fb->lookup_b = &b;
	fb->lookup_flushes = -1;
	kunit_activate_static_stub(test, guestmem_unmap_page, unmap_page_lookup);

	flushes = guestmem_nr_tlb_flushes();
	KUNIT_EXPECT_EQ(test, gmt_falloc(file, FALLOC_FL_KEEP_SIZE, 0, 4), 0);
	KUNIT_EXPECT_EQ(test, fb->lookup_flushes, 1);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes + 2);

	kunit_deactivate_static_stub(test, guestmem_unmap_page);
	gmt_expect_get_error(test, &b, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, guestmem_nr_tlb_flushes(), flushes + 2);

	guestmem_unbind(&b);
	__fput_sync(file);
	KUNIT_EXPECT_EQ(test, fb->frees, 4);
}

static struct kunit_case guestmem_test_cases[] = {
	KUNIT_CASE(guestmem_test_create_invalid),
	KUNIT_CASE(guestmem_test_get_folio),
	KUNIT_CASE(guestmem_test_unprepared),
	KUNIT_CASE(guestmem_test_fallocate),
	KUNIT_CASE(guestmem_test_punch_hole),
	KUNIT_CASE(guestmem_test_bind),
	KUNIT_CASE(guestmem_test_close_while_bound),
	KUNIT_CASE(guestmem_test_backend_dies_first),
	KUNIT_CASE(guestmem_test_alloc_failure),
	KUNIT_CASE(guestmem_test_prepare_failure),
	KUNIT_CASE(guestmem_test_migrate_refused),
	KUNIT_CASE(guestmem_test_memory_failure),
	KUNIT_CASE(guestmem_test_no_direct_map),
	KUNIT_CASE(guestmem_test_no_direct_map_large),
	KUNIT_CASE(guestmem_test_no_direct_map_failure),
	KUNIT_CASE(guestmem_test_no_direct_map_racing_lookup),
	KUNIT_CASE(guestmem_test_state),
	KUNIT_CASE(guestmem_test_convert),
	KUNIT_CASE(guestmem_test_convert_no_direct_map),
	KUNIT_CASE(guestmem_test_convert_failure),
	{}
};

static struct kunit_suite guestmem_test_suite = {
	.name = "guestmem",
	.init = gmt_init,
	.test_cases = guestmem_test_cases,
};

kunit_test_suite(guestmem_test_suite);

MODULE_DESCRIPTION("KUnit tests for the guestmem library");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
