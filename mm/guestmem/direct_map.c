// SPDX-License-Identifier: GPL-2.0
/*
 * The direct map: in a %GUESTMEM_F_NO_DIRECT_MAP file, every folio leaves
 * the kernel direct map when it is allocated, shared or private, and comes
 * back before it is freed, with one kernel TLB flush per library call
 * (struct guestmem_batch); conversions do not touch it.  A folio's
 * direct-map state (PG_checked) is protected by its folio lock.  Also
 * guestmem_active(), which hibernation asks, and the debugfs counters that
 * tests read.
 */

#include <linux/debugfs.h>
#include <linux/guestmem.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/set_memory.h>
#include <asm/tlbflush.h>
#include <kunit/static_stub.h>
#include <kunit/visibility.h>

#include "internal.h"

#include <trace/events/guestmem.h>

/*
 * For tests and statistics (debugfs guestmem/): kernel TLB flushes made for
 * direct-map removal, and pages out of the direct map now.
 */
static atomic_long_t guestmem_nr_flushes = ATOMIC_LONG_INIT(0);
static atomic_long_t guestmem_nr_unmapped = ATOMIC_LONG_INIT(0);

/*
 * Open %GUESTMEM_F_NO_DIRECT_MAP files: counted from creation to the last
 * close, which frees their memory.  Read by guestmem_active().
 */
atomic_t guestmem_nr_no_direct_map_files = ATOMIC_INIT(0);

/*
 * Take one page out of the direct map, without a flush.  May fail with
 * -ENOMEM when a large direct-map entry has to be split; the KUnit test
 * makes it fail on purpose.
 */
VISIBLE_IF_KUNIT int guestmem_unmap_page(struct page *page)
{
	KUNIT_STATIC_STUB_REDIRECT(guestmem_unmap_page, page);

	return set_direct_map_invalid_noflush(page);
}
EXPORT_SYMBOL_IF_KUNIT(guestmem_unmap_page);

/*
 * Put the first @nr pages of @folio back in the direct map.  That needs no
 * flush (a not-present entry is never cached in a TLB) and no allocation
 * (removal already split the direct map down to these pages), so it does
 * not fail.
 */
static void guestmem_restore_pages(struct folio *folio, unsigned long nr)
{
	unsigned long i;

	for (i = 0; i < nr; i++)
		WARN_ON_ONCE(set_direct_map_default_noflush(folio_page(folio, i)));
}

/*
 * Take the pages of a new folio out of the direct map (no flush), after
 * zeroing it through the direct map for the last time.  Called with the
 * folio locked.
 */
int guestmem_zap_folio(struct guestmem *gm, struct folio *folio,
		       struct guestmem_batch *batch)
{
	unsigned long i, nr = folio_nr_pages(folio);
	unsigned long addr = (unsigned long)folio_address(folio);
	int ret;

	VM_WARN_ON_ONCE_FOLIO(folio_test_uptodate(folio), folio);
	folio_zero_range(folio, 0, folio_size(folio));
	for (i = 0; i < nr; i++) {
		ret = guestmem_unmap_page(folio_page(folio, i));
		if (ret) {
			guestmem_restore_pages(folio, i);
			return ret;
		}
	}
	folio_set_checked(folio);
	atomic_long_add(nr, &guestmem_nr_unmapped);
	atomic_long_add(nr, &gm->nr_unmapped);
	trace_guestmem_direct_map_remove(gm_ino(gm), folio);
	atomic_inc(&gm->unflushed);
	batch->start = min(batch->start, addr);
	batch->end = max(batch->end, addr + folio_size(folio));
	batch->nr_folios++;
	return 0;
}

/* Undo guestmem_zap_folio(): the folio's pages are back in the direct map. */
void guestmem_unzap_folio(struct guestmem *gm, struct folio *folio)
{
	unsigned long nr = folio_nr_pages(folio);

	/*
	 * Not a poisoned folio: memory failure may have unmapped it on
	 * purpose (set_mce_nospec()).
	 */
	if (!folio_contain_hwpoisoned_page(folio))
		guestmem_restore_pages(folio, nr);
	folio_clear_checked(folio);
	atomic_long_sub(nr, &guestmem_nr_unmapped);
	atomic_long_sub(nr, &gm->nr_unmapped);
	trace_guestmem_direct_map_restore(gm_ino(gm), folio);
}

void guestmem_flush_range(struct guestmem *gm, unsigned long start,
			  unsigned long end, unsigned int nr_folios)
{
	flush_tlb_kernel_range(start, end);
	atomic_long_inc(&guestmem_nr_flushes);
	trace_guestmem_tlb_flush(gm_ino(gm), start, end, nr_folios);
}

void guestmem_flush(struct guestmem *gm, struct guestmem_batch *batch)
{
	if (!batch->nr_folios)
		return;
	guestmem_flush_range(gm, batch->start, batch->end, batch->nr_folios);
	/* Only now may lookups hand these folios out without a flush. */
	smp_mb__before_atomic();
	atomic_sub(batch->nr_folios, &gm->unflushed);
	*batch = (struct guestmem_batch)GUESTMEM_BATCH_INIT;
}

/**
 * guestmem_folio_nr_mapped - how many pages of a folio are in the direct map
 * @folio: A folio of a guestmem file.
 *
 * For tests and debug checks.
 *
 * Context: Any context.
 * Return: The number of pages of @folio present in the direct map.
 */
unsigned long guestmem_folio_nr_mapped(struct folio *folio)
{
	unsigned long i, nr = 0;

	for (i = 0; i < folio_nr_pages(folio); i++)
		nr += kernel_page_present(folio_page(folio, i));
	return nr;
}
EXPORT_SYMBOL_IF_KUNIT(guestmem_folio_nr_mapped);

/**
 * guestmem_nr_tlb_flushes - kernel TLB flushes made for direct-map removal
 *
 * Context: Any context.
 * Return: The number of flushes since boot.
 */
VISIBLE_IF_KUNIT long guestmem_nr_tlb_flushes(void)
{
	return atomic_long_read(&guestmem_nr_flushes);
}
EXPORT_SYMBOL_IF_KUNIT(guestmem_nr_tlb_flushes);

/**
 * guestmem_active - whether guest memory may be out of the direct map
 *
 * True from the creation of a %GUESTMEM_F_NO_DIRECT_MAP file to its last
 * close, which frees its memory, and while any page is out of the direct
 * map.  Hibernation is refused meanwhile: the image would carry guest
 * private memory to disk.
 *
 * Context: Any context.
 * Return: true while any %GUESTMEM_F_NO_DIRECT_MAP file is open or any
 * page is out of the direct map.
 */
bool guestmem_active(void)
{
	/*
	 * Pages are counted as well: a lookup racing with the last close may
	 * still add (zeroed) folios until its binding is gone.
	 */
	return atomic_read(&guestmem_nr_no_direct_map_files) != 0 ||
	       atomic_long_read(&guestmem_nr_unmapped) != 0;
}
EXPORT_SYMBOL_IF_KUNIT(guestmem_active);

/**
 * guestmem_nr_pages_no_direct_map - pages of guestmem out of the direct map
 *
 * For /proc/meminfo (GuestMemNoDMap); not exported to modules.
 *
 * Context: Any context; takes no lock.
 * Return: The number of pages of all guestmem files that are out of the
 * kernel direct map now.
 */
unsigned long guestmem_nr_pages_no_direct_map(void)
{
	return max(atomic_long_read(&guestmem_nr_unmapped), 0L);
}
EXPORT_SYMBOL_IF_KUNIT(guestmem_nr_pages_no_direct_map);

static int guestmem_flushes_get(void *data, u64 *val)
{
	*val = guestmem_nr_tlb_flushes();
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(guestmem_flushes_fops, guestmem_flushes_get, NULL,
			 "%llu\n");

static int guestmem_unmapped_get(void *data, u64 *val)
{
	*val = atomic_long_read(&guestmem_nr_unmapped);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(guestmem_unmapped_fops, guestmem_unmapped_get, NULL,
			 "%llu\n");

void __init guestmem_debugfs_init(void)
{
	struct dentry *dir = debugfs_create_dir("guestmem", NULL);

	debugfs_create_file_unsafe("tlb_flushes", 0444, dir, NULL,
				   &guestmem_flushes_fops);
	debugfs_create_file_unsafe("pages_unmapped", 0444, dir, NULL,
				   &guestmem_unmapped_fops);
}
