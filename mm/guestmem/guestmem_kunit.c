// SPDX-License-Identifier: GPL-2.0
/*
 * The fake backend of the guestmem KUnit suites, which records every
 * callback it gets, and the helpers the suites share.  One suite per
 * concern of the library: file_kunit.c, direct_map_kunit.c and
 * convert_kunit.c.
 */
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <kunit/visibility.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/guestmem.h>
#include <linux/highmem.h>
#include <linux/huge_mm.h>
#include <linux/migrate_mode.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/set_memory.h>
#include <linux/string.h>

#include "guestmem_kunit.h"

/*
 * The case running now, for the callbacks the library makes from its own
 * work items (the poison work), where kunit_get_current_test() has no
 * test.  Cases run one at a time, and each waits for the work of its own
 * files before it ends.
 */
static struct kunit *gmt_running;

struct fake_backend *gmt_fake(void)
{
	struct kunit *test = kunit_get_current_test();

	return (test ?: READ_ONCE(gmt_running))->priv;
}

/* The runs of a GMT_CASE(): on small folios, and on a huge folio. */
static const bool gmt_backings[] = {
	false,
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	true,
#endif
};

static void gmt_backing_desc(const bool *huge, char *desc)
{
	strscpy(desc, *huge ? "huge" : "small", KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(gmt_backing, gmt_backings, gmt_backing_desc);

const void *gmt_backing_params(const void *prev, char *desc)
{
	return gmt_backing_gen_params(prev, desc);
}

/* Whether the current case runs on a huge-backed file. */
bool gmt_huge(void)
{
	const bool *huge = kunit_get_current_test()->param_value;

	return huge && *huge;
}

unsigned long gmt_nr_pages(void)
{
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	if (gmt_huge())
		return HPAGE_PMD_NR;
#endif
	return SMALL_NR_PAGES;
}

/*
 * The flags of the current case's files: %GUESTMEM_F_HUGE in its huge
 * run, which is skipped where the library has no huge folios to give.
 */
unsigned long gmt_flags(void)
{
	if (!gmt_huge())
		return 0;
	if (!(guestmem_supported_flags() & GUESTMEM_F_HUGE))
		kunit_skip(kunit_get_current_test(), "no huge folios on this system");
	return GUESTMEM_F_HUGE;
}

#ifdef CONFIG_TRANSPARENT_HUGEPAGE
static struct folio *gmt_huge_alloc_none(struct guestmem *gm, pgoff_t index,
					 gfp_t gfp)
{
	return NULL;
}
#endif

/*
 * Splits the large folio at @index as the host's first fault on it does
 * (the host maps folios of one page only, so that a pin holds one page).
 */
void gmt_split_as_host(struct kunit *test, struct file *file, pgoff_t index)
{
	struct folio *folio;

	guestmem_split_for_host(GUESTMEM_I(file_inode(file)), index);
	folio = gmt_cached_folio(test, file, index);
	KUNIT_EXPECT_FALSE(test, folio_test_large(folio));
	folio_put(folio);
}

/*
 * With @fail, no huge folio can be had until called again without: every
 * allocation falls back to guestmem_grab_folio(), which a test may stub.
 */
void gmt_huge_alloc_fails(struct kunit *test, bool fail)
{
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	if (fail)
		kunit_activate_static_stub(test, guestmem_huge_alloc,
					   gmt_huge_alloc_none);
	else
		kunit_deactivate_static_stub(test, guestmem_huge_alloc);
#endif
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

static int fake_punch_hole(struct guestmem_binding *b, pgoff_t start,
			   pgoff_t end)
{
	fake_record(EV_PUNCH, b, start, end);
	return gmt_fake()->punch_ret;
}

/* Two backends with the same callbacks, told apart by their tables. */
const struct guestmem_ops fake_ops_a = {
	.owner			= THIS_MODULE,
	.release		= fake_release,
	.free_folio		= fake_free_folio,
	.prepare_folio		= fake_prepare_folio,
	.invalidate_begin	= fake_invalidate_begin,
	.invalidate_end		= fake_invalidate_end,
	.convert		= fake_convert,
};

const struct guestmem_ops fake_ops_b = {
	.owner			= THIS_MODULE,
	.prepare_folio		= fake_prepare_folio,
	.invalidate_begin	= fake_invalidate_begin,
	.invalidate_end		= fake_invalidate_end,
};

/* A backend that must give pages back before they are punched out. */
const struct guestmem_ops fake_ops_punch = {
	.owner			= THIS_MODULE,
	.invalidate_begin	= fake_invalidate_begin,
	.invalidate_end		= fake_invalidate_end,
	.punch_hole		= fake_punch_hole,
};

void gmt_expect_event(struct kunit *test, int i, enum fake_kind kind,
		      struct guestmem_binding *b, pgoff_t start, pgoff_t end)
{
	struct fake_backend *fb = test->priv;

	KUNIT_ASSERT_LT(test, i, fb->nr_ev);
	KUNIT_EXPECT_EQ_MSG(test, fb->ev[i].kind, kind, "event %d", i);
	KUNIT_EXPECT_PTR_EQ_MSG(test, fb->ev[i].binding, b, "event %d", i);
	KUNIT_EXPECT_EQ_MSG(test, fb->ev[i].start, start, "event %d", i);
	KUNIT_EXPECT_EQ_MSG(test, fb->ev[i].end, end, "event %d", i);
}

struct file *gmt_create(struct kunit *test)
{
	struct file *file;

	file = guestmem_file_create("[guestmem-kunit]", NR_PAGES * PAGE_SIZE,
				    gmt_flags(), &fake_ops_a, test->priv);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, file);
	return file;
}

void gmt_bind(struct kunit *test, struct file *file,
	      struct guestmem_binding *b, const struct guestmem_ops *ops,
	      pgoff_t start, pgoff_t nr)
{
	KUNIT_ASSERT_EQ(test, guestmem_bind(file, b, ops, start, nr, 0), 0);
}

int gmt_falloc(struct file *file, int mode, pgoff_t start, pgoff_t nr)
{
	return vfs_fallocate(file, mode, start * PAGE_SIZE, nr * PAGE_SIZE);
}

/*
 * Expects guestmem_get_folio() to fail with @err; a folio it returns
 * instead is released, so that the test can go on and end.
 */
void gmt_expect_get_error(struct kunit *test, struct guestmem_binding *b,
			  pgoff_t index, unsigned int flags, long err)
{
	struct folio *folio = guestmem_get_folio(b, index, flags);

	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(folio), err);
	if (!IS_ERR(folio)) {
		folio_unlock(folio);
		folio_put(folio);
	}
}

/* Looks up the folio at @index without the library, with a reference. */
struct folio *gmt_cached_folio(struct kunit *test, struct file *file,
			       pgoff_t index)
{
	struct folio *folio = filemap_get_folio(file->f_mapping, index);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	return folio;
}

/*
 * Writes @byte over the page at @index through the direct map, the folio
 * got from the library (allocated and prepared if need be).  The page must
 * be in the direct map: shared, or in a file that keeps private pages in.
 * Works on any page of a large folio.
 */
void gmt_fill(struct kunit *test, struct guestmem_binding *b, pgoff_t index,
	      u8 byte)
{
	struct folio *folio = guestmem_get_folio(b, index, GUESTMEM_GET_PREPARE);
	void *p;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	p = kmap_local_page(folio_file_page(folio, index));
	memset(p, byte, PAGE_SIZE);
	kunmap_local(p);
	folio_unlock(folio);
	folio_put(folio);
}

/*
 * Whether every byte of the page at @index is @byte.  The folio is looked
 * up without the library, so that nothing is allocated or prepared: the
 * page must be in the file (the test fails otherwise) and in the direct
 * map.
 */
bool gmt_holds(struct kunit *test, struct file *file, pgoff_t index, u8 byte)
{
	struct folio *folio = gmt_cached_folio(test, file, index);
	bool same;
	void *p;

	p = kmap_local_page(folio_file_page(folio, index));
	same = !memchr_inv(p, byte, PAGE_SIZE);
	kunmap_local(p);
	folio_put(folio);
	return same;
}

/*
 * The real guestmem_set_direct_map(), called from its stand-in @stub: the
 * stub is out of the way for this one call (set_direct_map_*() is not
 * exported to a test module, so the stub cannot do it itself).  The
 * untyped activation: @stub is a pointer, not a function name, which the
 * typed macro needs; its prototype is checked here instead.
 */
int gmt_set_direct_map_through(struct kunit *test, struct page *page,
			       unsigned int nr, bool valid,
			       int (*stub)(struct page *page, unsigned int nr,
					   bool valid))
{
	int ret;

	kunit_deactivate_static_stub(test, guestmem_set_direct_map);
	ret = guestmem_set_direct_map(page, nr, valid);
	__kunit_activate_static_stub(test, guestmem_set_direct_map, stub);
	return ret;
}

/*
 * guestmem_set_direct_map() stand-in: a removal whose range holds the page
 * at file index unmap_fail_index (while unmap_fail) takes out the pages
 * before it and fails, as a split that cannot be allocated midway would;
 * everything else is done for real.  Counts removals in unmap_calls.
 */
int gmt_set_direct_map_failing(struct page *page, unsigned int nr, bool valid)
{
	struct kunit *test = kunit_get_current_test();
	struct fake_backend *fb = test->priv;
	unsigned int i;

	if (valid)
		return gmt_set_direct_map_through(test, page, nr, valid,
						  gmt_set_direct_map_failing);
	fb->unmap_calls++;
	for (i = 0; fb->unmap_fail && i < nr; i++) {
		struct page *p = nth_page(page, i);
		struct folio *folio = page_folio(p);

		if (folio->index + folio_page_idx(folio, p) != fb->unmap_fail_index)
			continue;
		if (i)
			gmt_set_direct_map_through(test, page, i, false,
						   gmt_set_direct_map_failing);
		return -ENOMEM;
	}
	return gmt_set_direct_map_through(test, page, nr, valid,
					  gmt_set_direct_map_failing);
}

int gmt_init(struct kunit *test)
{
	test->priv = kunit_kzalloc(test, sizeof(struct fake_backend), GFP_KERNEL);
	if (!test->priv)
		return -ENOMEM;
	WRITE_ONCE(gmt_running, test);
	return 0;
}

MODULE_DESCRIPTION("KUnit tests for the guestmem library");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
