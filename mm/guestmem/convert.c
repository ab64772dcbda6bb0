// SPDX-License-Identifier: GPL-2.0
/*
 * Shared and private memory: the per-page state of a %GUESTMEM_F_MMAP file
 * and its in-place conversion.  The state is written only under the
 * file's invalidate lock held exclusive and read without a lock (see
 * struct guestmem.shared); a conversion takes folio locks and, to unmap
 * folios from the host, i_mmap_rwsem under them.
 */

#include <linux/guestmem.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pagemap.h>
#include <linux/swap.h>

#include "../internal.h"
#include "internal.h"

#include <trace/events/guestmem.h>

/*
 * Before a conversion to private: take every folio of the range out of the
 * host's page tables, then fail if one still holds any reference but the
 * page cache's and the caller's: a GUP pin (O_DIRECT, vmsplice, vhost, an
 * IOMMU) would keep host access to a private page.  Only folios that are
 * mapped are unmapped, one by one: a page with no folio, or a folio with
 * no mapping, has no page-table entry to remove (every entry holds a
 * folio reference, which the check below sees; a new fault waits for the
 * invalidate lock, and one in flight holds its reference), and unmapping
 * the whole range would call every MMU notifier of every process that
 * maps the file.
 * Returns 0, or -EAGAIN with the first page found busy in *@busy.  Per-CPU
 * LRU batches hold references to new folios for a while: on a miss they
 * are drained once and the range checked again.  A poisoned folio keeps
 * memory_failure()'s reference for good: -EHWPOISON, not a retry.
 */
static int guestmem_unmap_check_refs(struct guestmem *gm, pgoff_t start,
				     pgoff_t end, pgoff_t *busy)
{
	struct folio_batch fbatch;
	bool drained = false;
	unsigned int i;
	pgoff_t index;
	int ret;

again:
	ret = 0;
	index = start;
	folio_batch_init(&fbatch);
	while (!ret &&
	       filemap_get_folios(gm_mapping(gm), &index, end - 1, &fbatch)) {
		for (i = 0; i < folio_batch_count(&fbatch); i++) {
			struct folio *folio = fbatch.folios[i];

			if (folio_mapped(folio)) {
				folio_lock(folio);
				unmap_mapping_folio(folio);
				folio_unlock(folio);
			}
			if (folio_contain_hwpoisoned_page(folio))
				ret = -EHWPOISON;
			else if (folio_mapped(folio) ||
				 folio_ref_count(folio) != folio_nr_pages(folio) + 1)
				ret = -EAGAIN;
			if (ret) {
				trace_guestmem_convert_busy(gm_ino(gm), folio,
							    folio_nr_pages(folio) + 1);
				*busy = max(folio->index, start);
				break;
			}
		}
		folio_batch_release(&fbatch);
		cond_resched();
	}
	if (ret == -EAGAIN && !drained) {
		lru_add_drain_all();
		drained = true;
		goto again;
	}
	return ret;
}

/*
 * %GUESTMEM_CONVERT_ZERO.  In a %GUESTMEM_F_NO_DIRECT_MAP file, whose
 * folios are not in the direct map, drop the folios of [start, end) from
 * the file, as a punch hole does: the next use of each page allocates a
 * zeroed folio, and ->free_folio() clears the old one.  Nothing can pin
 * such a folio, so nobody keeps the old one.  In other files, zero the
 * folios in place: a shared page may be pinned (vhost, VFIO), and the
 * pinner must see the zeroes too; a folio out of the direct map (a
 * private one of a %GUESTMEM_F_NO_DIRECT_MAP_PRIVATE file) is zeroed the
 * way its first use is, without coming back into it.  A poisoned folio
 * stays as it is: its next lookup still fails with -EHWPOISON.  Called
 * under the invalidate lock held exclusive, inside the conversion's
 * invalidation.
 */
static void guestmem_zero_range(struct guestmem *gm, pgoff_t start, pgoff_t end)
{
	struct address_space *mapping = gm_mapping(gm);
	struct folio_batch fbatch;
	pgoff_t index = start;
	unsigned int i;

	folio_batch_init(&fbatch);
	while (filemap_get_folios(mapping, &index, end - 1, &fbatch)) {
		for (i = 0; i < folio_batch_count(&fbatch); i++) {
			struct folio *folio = fbatch.folios[i];

			if (folio_contain_hwpoisoned_page(folio))
				continue;
			folio_lock(folio);
			if (gm->flags & GUESTMEM_F_NO_DIRECT_MAP)
				truncate_inode_folio(mapping, folio);
			else
				guestmem_clear_folio(folio);
			folio_unlock(folio);
		}
		folio_batch_release(&fbatch);
		cond_resched();
	}
}

/* Each binding's ->convert(); a refusal names the binding's first page. */
static int guestmem_convert_ask(struct guestmem *gm, pgoff_t start,
				pgoff_t end, bool to_private, pgoff_t *busy)
{
	struct guestmem_binding *b;
	int ret;

	list_for_each_entry(b, &gm->bindings, entry) {
		pgoff_t s = max(start, b->start), e = min(end, b->end);

		if (s < e && b->ops->convert) {
			ret = b->ops->convert(b, s, e, to_private);
			if (ret) {
				*busy = s;
				return ret;
			}
		}
	}
	return 0;
}

/* guestmem_convert() of a guestmem file; -EAGAIN sets *@busy. */
static int guestmem_convert_file(struct guestmem *gm, pgoff_t start, pgoff_t nr,
				 bool to_private, unsigned int flags,
				 pgoff_t *busy)
{
	struct address_space *mapping = gm_mapping(gm);
	pgoff_t end, inv_start, inv_end;
	int ret;

	if (!(gm->flags & GUESTMEM_F_MMAP) || (flags & ~GUESTMEM_CONVERT_ZERO) ||
	    !nr || check_add_overflow(start, nr, &end) || end > gm_nr_pages(gm))
		return -EINVAL;

	filemap_invalidate_lock(mapping);
	/*
	 * A large folio holds pages of one state only: one the range starts
	 * or ends in is split first, and stays split should the conversion
	 * fail later.  Backends drop their mappings of all of it.
	 */
	inv_start = start;
	inv_end = end;
	guestmem_huge_span(gm, &inv_start, &inv_end);
	guestmem_invalidate(gm, inv_start, inv_end, true);

	ret = guestmem_split_edges(gm, start, end, busy);
	if (!ret && to_private)
		ret = guestmem_unmap_check_refs(gm, start, end, busy);
	if (!ret)
		ret = guestmem_convert_ask(gm, start, end, to_private, busy);
	/* Private folios of such a file leave the direct map first. */
	if (!ret && to_private && (gm->flags & GUESTMEM_F_NO_DIRECT_MAP_PRIVATE))
		ret = guestmem_zap_range(gm, start, end);
	if (ret)
		goto out_end;

	/*
	 * The folios stay where they are; but for the private ones of a
	 * %GUESTMEM_F_NO_DIRECT_MAP_PRIVATE file, they stay in the direct map
	 * or out of it as their file says.  The file size keeps the range
	 * within the bitmap API's unsigned int.
	 */
	if (to_private)
		bitmap_clear(gm->shared, start, nr);
	else
		bitmap_set(gm->shared, start, nr);
	if (!to_private && (gm->flags & GUESTMEM_F_NO_DIRECT_MAP_PRIVATE))
		guestmem_unzap_range(gm, start, end, false);
	if (flags & GUESTMEM_CONVERT_ZERO)
		guestmem_zero_range(gm, start, end);
out_end:
	guestmem_invalidate(gm, inv_start, inv_end, false);
	filemap_invalidate_unlock(mapping);
	return ret;
}

/**
 * guestmem_convert - turn a range of a file shared or private
 * @file: A guestmem file created with %GUESTMEM_F_MMAP.
 * @start: First page of the range.
 * @nr: Number of pages.
 * @to_private: true to make the range private, false to make it shared.
 * @flags: %GUESTMEM_CONVERT_ZERO zeroes the pages in the file; without it
 *	their contents are kept.
 * @error_index: Set to the first page that could not be converted when
 *	-EAGAIN is returned; untouched otherwise.  May be NULL.
 *
 * All or nothing.  A large folio the range starts or ends in is split
 * first (it fails with -EAGAIN while pinned), so that every page of a
 * large folio keeps the same state.  To private: every host mapping of
 * the range is removed,
 * then the call fails with -EAGAIN if a page in it is still mapped or
 * referenced by anyone but the file (a GUP pin); otherwise each binding's
 * ->convert() may refuse, and then the pages become private.  To shared:
 * the pages become mappable.  In a %GUESTMEM_F_NO_DIRECT_MAP_PRIVATE file
 * the range's folios leave the kernel direct map before they become
 * private (one kernel TLB flush) and come back when they become shared;
 * otherwise the direct map does not change: in a
 * %GUESTMEM_F_NO_DIRECT_MAP file every page is out of it whatever its
 * state, in other files every page is in it.  %GUESTMEM_CONVERT_ZERO
 * zeroes the range but a poisoned folio: in place, or, in a
 * %GUESTMEM_F_NO_DIRECT_MAP file, by freeing its folios, so that the next
 * use of each page gets a zeroed one.  Either way, bindings overlapping the
 * range get an ->invalidate_begin()/->invalidate_end() pair around the
 * change, so that backends drop the mappings they made under the old
 * state.  Pages already in the requested state are converted again (a
 * no-op but for @flags).
 *
 * Context: Process context, may sleep; takes the file's invalidate lock,
 * folio locks and the mapping's i_mmap_rwsem.
 * Return: 0 on success; -EINVAL if @file is not a guestmem file with
 * %GUESTMEM_F_MMAP, for unknown @flags, an empty range or a range past the
 * end of the file; -EAGAIN if a page is in use (see @error_index; for a
 * large folio that could not be split, the first page of the range in it;
 * when a binding's ->convert() returns -EAGAIN, the first page of that
 * binding's range); -ENOMEM if a split could not allocate; -EHWPOISON (to
 * private) for a poisoned page; -ENOMEM (to private) when the direct map
 * could not be split to take a folio out; or the error of a binding's
 * ->convert().
 */
int guestmem_convert(struct file *file, pgoff_t start, pgoff_t nr,
		     bool to_private, unsigned int flags, pgoff_t *error_index)
{
	struct guestmem *gm;
	pgoff_t busy = 0;
	int ret;

	if (file->f_op != &guestmem_fops)
		return -EINVAL;
	gm = GUESTMEM_I(file_inode(file));
	ret = guestmem_convert_file(gm, start, nr, to_private, flags, &busy);
	if (ret != -EAGAIN)
		busy = 0;
	trace_guestmem_convert(gm_ino(gm), start, nr, to_private, flags, ret,
			       busy);
	if (ret == -EAGAIN && error_index)
		*error_index = busy;
	return ret;
}
EXPORT_SYMBOL_GPL(guestmem_convert);

/**
 * guestmem_is_private - whether a page of a bound range is private
 * @binding: A binding of the file.
 * @index: Page of the file.
 *
 * Every page of a file without %GUESTMEM_F_MMAP is private.  The answer
 * is only stable while the caller holds off conversions: a backend reads
 * it after it sampled its invalidation sequence and checks that sequence
 * again before it maps the page (KVM: mmu_invalidate_retry_gfn()).
 *
 * Context: Any context; does not sleep and takes no lock.
 * Return: true if the page at @index is private.
 */
bool guestmem_is_private(struct guestmem_binding *binding, pgoff_t index)
{
	struct guestmem *gm = binding->gm;

	if (WARN_ON_ONCE(index >= gm_nr_pages(gm)))
		return true;
	return guestmem_page_private(gm, index);
}
EXPORT_SYMBOL_GPL(guestmem_is_private);
