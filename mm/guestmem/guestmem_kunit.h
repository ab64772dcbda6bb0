/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the guestmem KUnit suites: the fake backend, one per test case
 * (test->priv), which records the callbacks it gets, and common helpers.
 */
#ifndef _MM_GUESTMEM_GUESTMEM_KUNIT_H
#define _MM_GUESTMEM_GUESTMEM_KUNIT_H

#include <kunit/test.h>
#include <linux/guestmem.h>
#include <linux/types.h>

#include "internal.h"

/*
 * The file of a test case has NR_PAGES pages.  A case listed with
 * GMT_CASE() runs twice: on a file of folios of one page (SMALL_NR_PAGES
 * pages), and on a %GUESTMEM_F_HUGE file of one whole huge block, where
 * every page lies in one huge folio once allocated, so that each partial
 * operation works inside it (where the kernel has huge folios).  SH()
 * gives what a case expects in each run.
 */
#define SMALL_NR_PAGES	16
#define NR_PAGES	gmt_nr_pages()
#define GMT_CASE(test_name)	KUNIT_CASE_PARAM(test_name, gmt_backing_params)
#define SH(small, huge)	(gmt_huge() ? (huge) : (small))
#define MAX_EVENTS	32

enum fake_kind {
	EV_BEGIN, EV_END, EV_PREPARE, EV_TO_PRIVATE, EV_TO_SHARED, EV_PUNCH
};

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
	int punch_ret;
	struct address_space *mapping;	/* for grab_large_folio() */
	int unmap_calls;		/* for gmt_set_direct_map_failing() */
	bool unmap_fail;
	pgoff_t unmap_fail_index;
	struct guestmem_binding *lookup_b;	/* for set_direct_map_lookup() */
	long lookup_flushes;
};

struct fake_backend *gmt_fake(void);
const void *gmt_backing_params(const void *prev, char *desc);
bool gmt_huge(void);
unsigned long gmt_nr_pages(void);
unsigned long gmt_flags(void);
void gmt_huge_alloc_fails(struct kunit *test, bool fail);
void gmt_split_as_host(struct kunit *test, struct file *file, pgoff_t index);
extern const struct guestmem_ops fake_ops_a;
extern const struct guestmem_ops fake_ops_b;
extern const struct guestmem_ops fake_ops_punch;
void gmt_expect_event(struct kunit *test, int i, enum fake_kind kind,
		      struct guestmem_binding *b, pgoff_t start, pgoff_t end);
struct file *gmt_create(struct kunit *test);
void gmt_bind(struct kunit *test, struct file *file,
	      struct guestmem_binding *b, const struct guestmem_ops *ops,
	      pgoff_t start, pgoff_t nr);
int gmt_falloc(struct file *file, int mode, pgoff_t start, pgoff_t nr);
void gmt_expect_get_error(struct kunit *test, struct guestmem_binding *b,
			  pgoff_t index, unsigned int flags, long err);
struct folio *gmt_cached_folio(struct kunit *test, struct file *file,
			       pgoff_t index);
void gmt_fill(struct kunit *test, struct guestmem_binding *b, pgoff_t index,
	      u8 byte);
bool gmt_holds(struct kunit *test, struct file *file, pgoff_t index, u8 byte);
int gmt_set_direct_map_through(struct kunit *test, struct page *page,
			       unsigned int nr, bool valid,
			       int (*stub)(struct page *page, unsigned int nr,
					   bool valid));
int gmt_set_direct_map_failing(struct page *page, unsigned int nr, bool valid);
int gmt_init(struct kunit *test);

#endif /* _MM_GUESTMEM_GUESTMEM_KUNIT_H */
