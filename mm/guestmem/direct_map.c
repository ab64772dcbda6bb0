// SPDX-License-Identifier: GPL-2.0
/*
 * The direct map: in a %GUESTMEM_F_NO_DIRECT_MAP file, every folio leaves
 * the kernel direct map when it is allocated, shared or private, and comes
 * back before it is freed, with one kernel TLB flush per library call
 * (struct guestmem_batch); conversions do not touch it.  In a
 * %GUESTMEM_F_NO_DIRECT_MAP_PRIVATE file the same holds for private
 * folios only, and conversions move the folios of their range out and back
 * in (guestmem_zap_range(), guestmem_unzap_range()).  A folio's
 * direct-map state (PG_checked) is protected by its folio lock.  Such a
 * folio is zeroed on its first use, as any other, through a mapping of
 * one page that only the CPU doing it has (guestmem_clear_folio()).  Also
 * guestmem_active(), which hibernation asks, and the debugfs counters that
 * tests read.
 */

#include <linux/debugfs.h>
#include <linux/guestmem.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagevec.h>
#include <linux/set_memory.h>
#include <linux/vmalloc.h>
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

#ifndef set_direct_map_valid_noflush
/* An architecture without the range operation: one page after the other. */
static int set_direct_map_valid_noflush(struct page *page, unsigned int nr,
					bool valid)
{
	unsigned int i;
	int ret;

	for (i = 0; i < nr; i++) {
		ret = valid ? set_direct_map_default_noflush(nth_page(page, i)) :
			      set_direct_map_invalid_noflush(nth_page(page, i));
		if (ret)
			return ret;
	}
	return 0;
}
#endif

/*
 * Take @nr physically contiguous pages out of the direct map (@valid
 * false) or put them back, with one range operation and no flush.
 * Removal may fail with -ENOMEM when a large direct-map entry has to be
 * split, leaving part of the range changed; the KUnit tests make it fail
 * on purpose.  Putting pages back needs no allocation (removal split the
 * map down to them) and no flush (no TLB caches an absent entry).
 */
VISIBLE_IF_KUNIT int guestmem_set_direct_map(struct page *page, unsigned int nr,
					     bool valid)
{
	KUNIT_STATIC_STUB_REDIRECT(guestmem_set_direct_map, page, nr, valid);

	return set_direct_map_valid_noflush(page, nr, valid);
}
EXPORT_SYMBOL_IF_KUNIT(guestmem_set_direct_map);

/* Pages from @page back in the direct map; cannot fail (see above). */
static void guestmem_restore_pages(struct page *page, unsigned long nr)
{
	WARN_ON_ONCE(guestmem_set_direct_map(page, nr, true));
}

/* Records that @folio left the direct map, for @batch's flush. */
static void guestmem_folio_zapped(struct guestmem *gm, struct folio *folio,
				  struct guestmem_batch *batch)
{
	unsigned long nr = folio_nr_pages(folio);
	unsigned long addr = (unsigned long)folio_address(folio);

	folio_set_checked(folio);
	atomic_long_add(nr, &guestmem_nr_unmapped);
	atomic_long_add(nr, &gm->nr_unmapped);
	trace_guestmem_direct_map_remove(gm_ino(gm), folio);
	atomic_inc(&gm->unflushed);
	batch->start = min(batch->start, addr);
	batch->end = max(batch->end, addr + folio_size(folio));
	batch->nr_folios++;
}

/* One folio, alone; its pages come back if removal fails. */
static int guestmem_zap_one(struct guestmem *gm, struct folio *folio,
			    struct guestmem_batch *batch)
{
	int ret;

	ret = guestmem_set_direct_map(folio_page(folio, 0),
				      folio_nr_pages(folio), false);
	if (ret) {
		guestmem_restore_pages(folio_page(folio, 0),
				       folio_nr_pages(folio));
		return ret;
	}
	guestmem_folio_zapped(gm, folio, batch);
	return 0;
}

/*
 * Take folios of a file out of the direct map (no flush).  New ones are
 * not zeroed here: nothing of a guest is in them yet, and their first use
 * zeroes them (guestmem_clear_folio()), as in a file without the flag.
 * Folios that follow each other physically leave with one range
 * operation.  Should a range fail,
 * its pages come back and its folios are tried one at a time, so that
 * every folio before the one that fails is out: the caller sees which by
 * PG_checked.  Called with the @nr folios locked, in file order.
 */
static int __guestmem_zap_folios(struct guestmem *gm, struct folio **folios,
				 unsigned int nr, struct guestmem_batch *batch)
{
	unsigned long pages;
	unsigned int i, j, k;
	int ret;

	for (i = 0; i < nr; i = j) {
		pages = folio_nr_pages(folios[i]);
		for (j = i + 1; j < nr; j++) {
			if (folio_pfn(folios[j]) != folio_pfn(folios[i]) + pages)
				break;
			pages += folio_nr_pages(folios[j]);
		}
		if (j - i == 1) {
			ret = guestmem_zap_one(gm, folios[i], batch);
			if (ret)
				return ret;
			continue;
		}
		ret = guestmem_set_direct_map(folio_page(folios[i], 0), pages,
					      false);
		if (!ret) {
			for (k = i; k < j; k++)
				guestmem_folio_zapped(gm, folios[k], batch);
			continue;
		}
		guestmem_restore_pages(folio_page(folios[i], 0), pages);
		for (k = i; k < j; k++) {
			ret = guestmem_zap_one(gm, folios[k], batch);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* New folios only: nothing was written to them yet (see above). */
int guestmem_zap_folios(struct guestmem *gm, struct folio **folios,
			unsigned int nr, struct guestmem_batch *batch)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		VM_WARN_ON_ONCE_FOLIO(folio_test_uptodate(folios[i]), folios[i]);
	return __guestmem_zap_folios(gm, folios, nr, batch);
}

/*
 * Zeroing a folio that is out of the direct map: one page of kernel
 * address space per possible CPU, whose page table entry that CPU alone
 * sets, with preemption disabled, to the page it zeroes, and clears
 * again, dropping the entry from its own TLB only (no other CPU ever uses
 * that address).  The entries are found once, at boot; the area is never
 * freed.  Without it (allocation failed at boot), the library does not
 * offer %GUESTMEM_F_NO_DIRECT_MAP.
 */
static struct vm_struct *guestmem_clear_area;
static DEFINE_PER_CPU(pte_t *, guestmem_clear_pte);

static int guestmem_clear_pte_found(pte_t *pte, unsigned long addr, void *data)
{
	unsigned long cpu = (addr - (unsigned long)data) >> PAGE_SHIFT;

	per_cpu(guestmem_clear_pte, cpu) = pte;
	return 0;
}

void __init guestmem_clear_init(void)
{
	unsigned long size = nr_cpu_ids * PAGE_SIZE;
	struct vm_struct *area;
	unsigned long addr;

	if (IS_ENABLED(CONFIG_HIGHMEM) || !can_set_direct_map())
		return;
	area = get_vm_area(size, VM_MAP);
	if (!area)
		return;
	addr = (unsigned long)area->addr;
	/* Allocates the page tables, which stay with the area. */
	if (apply_to_page_range(&init_mm, addr, size, guestmem_clear_pte_found,
				(void *)addr)) {
		free_vm_area(area);
		return;
	}
	guestmem_clear_area = area;
}

/* Whether folios out of the direct map can be zeroed (see above). */
bool guestmem_clear_ready(void)
{
	return guestmem_clear_area;
}

/* This CPU's entry for @addr, and nobody else's, leaves the TLB. */
static void guestmem_clear_flush(unsigned long addr)
{
#ifdef CONFIG_X86
	flush_tlb_one_kernel(addr);
#else
	/* arm64 broadcasts it, without interrupting the other CPUs. */
	flush_tlb_kernel_range(addr, addr + PAGE_SIZE);
#endif
}

static void guestmem_clear_page(struct page *page)
{
	unsigned long addr;
	pte_t *pte;
	int cpu;

	cpu = get_cpu();
	addr = (unsigned long)guestmem_clear_area->addr + cpu * PAGE_SIZE;
	pte = per_cpu(guestmem_clear_pte, cpu);
	set_pte_at(&init_mm, addr, pte, mk_pte(page, PAGE_KERNEL));
	/* As folio_zero_range() does in the direct map, at the same cost. */
	memset((void *)addr, 0, PAGE_SIZE);
	pte_clear(&init_mm, addr, pte);
	guestmem_clear_flush(addr);
	put_cpu();
}

/**
 * guestmem_clear_folio - zero a folio of a guestmem file before its first use
 * @folio: The folio, locked.
 *
 * Through the direct map where the folio is in it; otherwise page by page
 * through a mapping of its own that only this CPU has while it zeroes
 * (see above), so that the folio never comes back into the direct map.
 * Not for a poisoned folio.
 *
 * Context: Process context, may sleep.
 */
void guestmem_clear_folio(struct folio *folio)
{
	unsigned long i;

	if (!folio_test_checked(folio)) {
		folio_zero_range(folio, 0, folio_size(folio));
		return;
	}
	for (i = 0; i < folio_nr_pages(folio); i++) {
		guestmem_clear_page(folio_page(folio, i));
		cond_resched();
	}
}
EXPORT_SYMBOL_IF_KUNIT(guestmem_clear_folio);

/* Zero one page of @folio, locked, wherever the folio is. */
void guestmem_clear_page_of(struct folio *folio, struct page *page)
{
	if (folio_test_checked(folio))
		guestmem_clear_page(page);
	else
		clear_highpage(page);
}

/* Undo guestmem_zap_folios() for one folio: its pages are back in the map. */
void guestmem_unzap_folio(struct guestmem *gm, struct folio *folio)
{
	unsigned long nr = folio_nr_pages(folio);

	/*
	 * Not a poisoned folio: memory failure may have unmapped it on
	 * purpose (set_mce_nospec()).
	 */
	if (!folio_contain_hwpoisoned_page(folio))
		guestmem_restore_pages(folio_page(folio, 0), nr);
	folio_clear_checked(folio);
	atomic_long_sub(nr, &guestmem_nr_unmapped);
	atomic_long_sub(nr, &gm->nr_unmapped);
	trace_guestmem_direct_map_restore(gm_ino(gm), folio);
}

/*
 * Put back the folios of [@start, @end) that are out of the direct map: all
 * of them, or with @shared_only those whose page is shared now.  Putting
 * back needs no flush.  Called with the invalidate lock held exclusive.
 */
void guestmem_unzap_range(struct guestmem *gm, pgoff_t start, pgoff_t end,
			  bool shared_only)
{
	struct address_space *mapping = gm_mapping(gm);
	struct folio_batch fbatch;
	pgoff_t index = start;
	unsigned int i;

	lockdep_assert_held_write(&mapping->invalidate_lock);

	folio_batch_init(&fbatch);
	while (filemap_get_folios(mapping, &index, end - 1, &fbatch)) {
		for (i = 0; i < folio_batch_count(&fbatch); i++) {
			struct folio *folio = fbatch.folios[i];

			if (shared_only && guestmem_page_private(gm, folio->index))
				continue;
			folio_lock(folio);
			if (folio_test_checked(folio))
				guestmem_unzap_folio(gm, folio);
			folio_unlock(folio);
		}
		folio_batch_release(&fbatch);
		cond_resched();
	}
}

/* Takes @nr locked folios of guestmem_zap_range() out, then lets them go. */
static int guestmem_zap_held(struct guestmem *gm, struct folio **folios,
			     unsigned int nr, struct guestmem_batch *batch)
{
	unsigned int i;
	int ret;

	/* Used folios too: a conversion keeps their contents. */
	ret = __guestmem_zap_folios(gm, folios, nr, batch);
	for (i = 0; i < nr; i++) {
		folio_unlock(folios[i]);
		folio_put(folios[i]);
	}
	return ret;
}

/**
 * guestmem_zap_range - take the folios of a range out of the direct map
 * @gm: A %GUESTMEM_F_NO_DIRECT_MAP_PRIVATE file.
 * @start: First page of the range.
 * @end: First page after it.
 *
 * For a conversion to private, before the pages' state changes: every
 * folio of the range that is in the direct map leaves it, physically
 * contiguous ones with one range operation, and the kernel TLB is flushed
 * once for all of them.  Contents stay as they are.  A poisoned folio is
 * left alone.  All or nothing: when a removal fails, the folios of the
 * range whose pages are still shared come back.
 *
 * Context: Process context, may sleep; the invalidate lock held exclusive,
 * inside the conversion's invalidation, after its check that nothing but
 * the file holds the folios.
 * Return: 0, or the error of a removal (-ENOMEM).
 */
int guestmem_zap_range(struct guestmem *gm, pgoff_t start, pgoff_t end)
{
	struct address_space *mapping = gm_mapping(gm);
	struct guestmem_batch batch = GUESTMEM_BATCH_INIT;
	struct folio *folios[GUESTMEM_ZAP_BATCH];
	struct folio_batch fbatch;
	unsigned int nr = 0, i;
	pgoff_t index = start;
	int ret = 0;

	lockdep_assert_held_write(&mapping->invalidate_lock);

	folio_batch_init(&fbatch);
	while (!ret && filemap_get_folios(mapping, &index, end - 1, &fbatch)) {
		for (i = 0; !ret && i < folio_batch_count(&fbatch); i++) {
			struct folio *folio = fbatch.folios[i];

			folio_lock(folio);
			if (folio_test_checked(folio) ||
			    folio_contain_hwpoisoned_page(folio)) {
				folio_unlock(folio);
				continue;
			}
			folio_get(folio);
			folios[nr++] = folio;
			if (nr == GUESTMEM_ZAP_BATCH) {
				ret = guestmem_zap_held(gm, folios, nr, &batch);
				nr = 0;
			}
		}
		folio_batch_release(&fbatch);
		cond_resched();
	}
	if (!ret && nr)
		ret = guestmem_zap_held(gm, folios, nr, &batch);
	guestmem_flush(gm, &batch);
	if (ret)
		guestmem_unzap_range(gm, start, end, true);
	return ret;
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
	guestmem_huge_debugfs_init(dir);
}
