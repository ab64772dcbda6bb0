// SPDX-License-Identifier: GPL-2.0
/*
 * Bindings, lookup and invalidation: a backend binds a range of a file to
 * one of its objects, looks up (and allocates) the folios behind it, and
 * is told around every change to them.  The list of bindings is protected
 * by the file's invalidate lock; lookups take no guestmem lock and are
 * ordered by the backend against its ->invalidate_begin().
 */

#include <linux/guestmem.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pagemap.h>
#include <kunit/static_stub.h>
#include <kunit/visibility.h>

#include "internal.h"

#include <trace/events/guestmem.h>

/*
 * Invalidation: every attached binding that overlaps [start, end) gets
 * ->invalidate_begin() before the folios change (@begin true) and
 * ->invalidate_end() afterwards, both in list order and clipped to the
 * binding.
 */
void guestmem_invalidate(struct guestmem *gm, pgoff_t start, pgoff_t end,
			 bool begin)
{
	struct guestmem_binding *b;

	lockdep_assert_held(&gm_mapping(gm)->invalidate_lock);

	list_for_each_entry(b, &gm->bindings, entry) {
		typeof(b->ops->invalidate_begin) fn = begin ?
			b->ops->invalidate_begin : b->ops->invalidate_end;
		pgoff_t s = max(start, b->start), e = min(end, b->end);

		if (s >= e)
			continue;
		if (begin)
			trace_guestmem_invalidate_begin(gm_ino(gm), b, s, e);
		else
			trace_guestmem_invalidate_end(gm_ino(gm), b, s, e);
		if (fn)
			fn(b, s, e);
	}
}

/*
 * Find or allocate the folio at @index, locked; a new one is a folio of one
 * page, placed by the file's NUMA policy (guestmem_alloc_folio()).
 */
VISIBLE_IF_KUNIT struct folio *guestmem_grab_folio(struct guestmem *gm,
						   pgoff_t index)
{
	struct address_space *mapping = gm_mapping(gm);
	gfp_t gfp = mapping_gfp_mask(mapping);
	struct folio *folio;
	int ret;

	KUNIT_STATIC_STUB_REDIRECT(guestmem_grab_folio, gm, index);

	do {
		folio = filemap_lock_folio(mapping, index);
		if (!IS_ERR(folio))
			return folio;
		folio = guestmem_alloc_folio(gm, index, 0, gfp);
		if (!folio)
			return ERR_PTR(-ENOMEM);
		/* Added locked; -EEXIST: a racing lookup added one first. */
		ret = filemap_add_folio(mapping, folio, index,
					guestmem_charge_gfp(gm));
		if (ret)
			folio_put(folio);
	} while (ret == -EEXIST);

	return ret ? ERR_PTR(ret) : folio;
}
EXPORT_SYMBOL_IF_KUNIT(guestmem_grab_folio);

/*
 * guestmem_grab_folio(), counted when new to the file; with @huge, a new
 * folio for a page of a %GUESTMEM_F_HUGE file is a huge one where it can
 * be (guestmem_alloc_huge_folio()).  *@zap says whether the folio still
 * has to leave the direct map: a %GUESTMEM_F_NO_DIRECT_MAP file's folio
 * that has not, whatever the state of its pages, or a private one of a
 * %GUESTMEM_F_NO_DIRECT_MAP_PRIVATE file, and that is not poisoned
 * (zeroing it would consume the poison; its lookup fails with -EHWPOISON
 * instead).
 */
struct folio *guestmem_grab_new_folio(struct guestmem *gm, pgoff_t index,
				      bool huge, bool *zap)
{
	struct folio *folio;

	*zap = false;
again:
	folio = NULL;
	if (huge && (gm->flags & GUESTMEM_F_HUGE)) {
		folio = filemap_lock_folio(gm_mapping(gm), index);
		if (IS_ERR(folio))
			folio = guestmem_alloc_huge_folio(gm, index);
	}
	if (IS_ERR_OR_NULL(folio))
		folio = guestmem_grab_folio(gm, index);
	if (IS_ERR(folio))
		return folio;
	/*
	 * A folio new to the file.  The one per-folio word the library uses
	 * is folio->private, which points back to the file: without
	 * PG_private nothing else in mm reads it, and ->free_folio(), which
	 * gets no mapping, needs it to find the owner.  Set under the folio
	 * lock, once, here: so is the folio counted.  Unless a split left
	 * the folio without it, and is about to put it back.
	 */
	if (!folio->private) {
		if (guestmem_split_pending(gm, folio))
			goto again;
		folio->private = gm;
		guestmem_folio_added(gm, folio);
	}
	*zap = guestmem_page_unmapped(gm, folio->index) &&
	       !folio_test_checked(folio) &&
	       !folio_contain_hwpoisoned_page(folio);
	return folio;
}

/*
 * How many folios a lookup that allocates at @index takes out of the direct
 * map: more than one only while the file's allocating lookups go forward,
 * each starting where the last one stopped (a guest's or a VMM's first pass
 * over its memory).  The window then doubles with each lookup, up to
 * GUESTMEM_ZAP_BATCH, so that such a pass pays one kernel TLB flush per
 * window instead of one per page.  Any other lookup takes one folio.
 */
static unsigned int guestmem_ahead_window(struct guestmem *gm, pgoff_t index)
{
	if (index != READ_ONCE(gm->ahead_next))
		return 1;
	return clamp(2 * READ_ONCE(gm->ahead_nr), 1U, GUESTMEM_ZAP_BATCH);
}

/*
 * After @folios[0], which the lookup allocated, the folios that follow it
 * in the file and are not there yet, up to @want in all and the end of the
 * file: each new, locked, and still in the direct map.  With the file's
 * invalidate lock held shared, so that a punch hole that runs meanwhile
 * cannot find them refilled behind it.  Best effort: any failure only ends
 * the window.  Returns how many folios @folios holds.
 */
static unsigned int guestmem_grab_ahead(struct guestmem *gm,
					struct folio **folios,
					unsigned int want)
{
	struct address_space *mapping = gm_mapping(gm);
	pgoff_t index = folio_next_index(folios[0]);
	pgoff_t end = gm_nr_pages(gm);
	unsigned int nr = 1;
	struct folio *folio;
	bool zap;

	lockdep_assert_held_read(&mapping->invalidate_lock);

	while (nr < want && index < end) {
		/* Stop at the first page the file has: the pass reached it. */
		if (xa_load(&mapping->i_pages, index))
			break;
		folio = guestmem_grab_new_folio(gm, index, true, &zap);
		if (IS_ERR(folio))
			break;
		if (!zap) {
			folio_unlock(folio);
			folio_put(folio);
			break;
		}
		folios[nr++] = folio;
		index = folio_next_index(folio);
		/* A huge folio is a window of its own. */
		if (folio_test_large(folio))
			break;
	}
	return nr;
}

/*
 * Find or allocate the folio at @index and, where its page belongs out of
 * the direct map (guestmem_page_unmapped()), take it out if it is new,
 * with the window of
 * guestmem_ahead_window() after it, and flush once for all of them.  When
 * it returns, no kernel TLB entry reaches the folio through the direct map
 * any more, even if an fallocate() that removed it has not flushed yet.
 * @invalidate_locked: the caller holds the file's invalidate lock (shared);
 * otherwise the window is allocated only if it can be taken at once.
 * @huge: a new folio may be huge (guestmem_grab_new_folio()), under the
 * invalidate lock only (taken at once if the caller does not hold it;
 * otherwise the new folio is small).  A lookup that gets a large folio
 * allocates no window after it: its own flush is for as many pages as a
 * whole window of small folios.
 */
struct folio *guestmem_lookup_folio(struct guestmem *gm, pgoff_t index,
				    bool invalidate_locked, bool huge)
{
	struct address_space *mapping = gm_mapping(gm);
	struct guestmem_batch batch = GUESTMEM_BATCH_INIT;
	struct folio *folios[GUESTMEM_ZAP_BATCH];
	unsigned int want, nr = 1, i;
	struct folio *folio;
	bool zap;
	int ret;

	/*
	 * A new huge folio enters the file only under the invalidate lock:
	 * a punch hole holds it exclusive while it splits the edges of its
	 * range and truncates, and a huge folio added in between would be
	 * split by the truncation itself, its tails left without the
	 * library's state.  A lookup without the lock takes it for the
	 * allocation if it can at once; otherwise a new folio is small.
	 */
	if (huge && !invalidate_locked && (gm->flags & GUESTMEM_F_HUGE)) {
		huge = filemap_invalidate_trylock_shared(mapping);
		folio = guestmem_grab_new_folio(gm, index, huge, &zap);
		if (huge)
			filemap_invalidate_unlock_shared(mapping);
	} else {
		folio = guestmem_grab_new_folio(gm, index, huge, &zap);
	}
	if (IS_ERR(folio))
		return folio;

	if (!zap) {
		/* Removed by an fallocate() that has not flushed yet: flush now. */
		if (folio_test_checked(folio) && atomic_read(&gm->unflushed)) {
			unsigned long addr = (unsigned long)folio_address(folio);

			guestmem_flush_range(gm, addr, addr + folio_size(folio), 1);
		}
		return folio;
	}

	folios[0] = folio;
	want = folio_test_large(folio) ? 1 : guestmem_ahead_window(gm, index);
	if (want > 1 && invalidate_locked) {
		nr = guestmem_grab_ahead(gm, folios, want);
	} else if (want > 1 && filemap_invalidate_trylock_shared(mapping)) {
		nr = guestmem_grab_ahead(gm, folios, want);
		filemap_invalidate_unlock_shared(mapping);
	}
	WRITE_ONCE(gm->ahead_nr, nr);
	WRITE_ONCE(gm->ahead_next, folio_next_index(folios[nr - 1]));

	/*
	 * Removal fails only on a folio of its own and the folios after it
	 * (see guestmem_zap_folios()); those of the window stay in the file,
	 * still in the direct map, for the lookup that wants them.
	 */
	ret = guestmem_zap_folios(gm, folios, nr, &batch);
	guestmem_flush(gm, &batch);
	for (i = 1; i < nr; i++) {
		folio_unlock(folios[i]);
		folio_put(folios[i]);
	}
	if (ret && !folio_test_checked(folio)) {
		folio_unlock(folio);
		folio_put(folio);
		return ERR_PTR(ret);
	}
	return folio;
}

/**
 * guestmem_bind - bind a range of a guestmem file to a backend object
 * @file: A guestmem file.
 * @binding: The binding, embedded in the backend's object; unused before.
 * @ops: Callbacks for this binding (->prepare_folio, ->invalidate_*).
 * @start: First page of the range.
 * @nr: Number of pages.
 * @flags: %GUESTMEM_BIND_EXCLUSIVE refuses a range that overlaps another
 *	binding with the same @ops.
 *
 * From now until guestmem_unbind(), @binding gets @ops->invalidate_begin
 * and @ops->invalidate_end around every change to the folios of its range,
 * and guestmem_get_folio() may be called on it.  The binding keeps the
 * file's memory (not the file) alive.
 *
 * Context: Process context, may sleep; takes the file's invalidate lock.
 * Return: 0 on success; -EINVAL if @file is not a guestmem file, @nr is 0
 * or the range goes past the end of the file; -EEXIST if an exclusive
 * binding would overlap another.
 */
int guestmem_bind(struct file *file, struct guestmem_binding *binding,
		  const struct guestmem_ops *ops, pgoff_t start, pgoff_t nr,
		  unsigned int flags)
{
	struct guestmem_binding *b;
	struct address_space *mapping;
	struct guestmem *gm;
	pgoff_t end;
	int ret = 0;

	if (file->f_op != &guestmem_fops || !nr ||
	    check_add_overflow(start, nr, &end))
		return -EINVAL;
	gm = GUESTMEM_I(file_inode(file));
	mapping = gm_mapping(gm);
	if (end > i_size_read(&gm->vfs_inode) >> PAGE_SHIFT)
		return -EINVAL;

	filemap_invalidate_lock(mapping);
	if (flags & GUESTMEM_BIND_EXCLUSIVE) {
		list_for_each_entry(b, &gm->bindings, entry) {
			if (b->ops == ops && b->start < end && start < b->end) {
				ret = -EEXIST;
				goto out;
			}
		}
	}
	ihold(&gm->vfs_inode);
	binding->gm = gm;
	binding->ops = ops;
	binding->start = start;
	binding->end = end;
	binding->detached = false;
	list_add_tail(&binding->entry, &gm->bindings);
out:
	filemap_invalidate_unlock(mapping);
	return ret;
}
EXPORT_SYMBOL_GPL(guestmem_bind);

/**
 * guestmem_unbind - remove a binding made by guestmem_bind()
 * @binding: The binding.
 *
 * After this returns no callback runs for @binding and it may be freed.
 * Works whether or not the file was closed first.  The caller must have
 * stopped using folios it got through @binding.  Dropping the binding's
 * reference may free the file's inode (its memory went at the last close).
 *
 * Context: Process context, may sleep; takes the file's invalidate lock.
 * Allowed from the owner's ->release(), which runs with no lock held.
 */
void guestmem_unbind(struct guestmem_binding *binding)
{
	struct guestmem *gm = binding->gm;
	struct address_space *mapping = gm_mapping(gm);

	filemap_invalidate_lock(mapping);
	list_del_init(&binding->entry);
	WRITE_ONCE(binding->detached, true);
	filemap_invalidate_unlock(mapping);

	binding->gm = NULL;
	iput(&gm->vfs_inode);
}
EXPORT_SYMBOL_GPL(guestmem_unbind);

/**
 * guestmem_lock - hold off changes to the folios of a bound file
 * @binding: A binding of the file.
 *
 * While held, no folio of the file is removed (punch hole) and no binding
 * of the file comes or goes, so a backend can fill several folios (for
 * example a confidential guest's initial image) as one step.
 * guestmem_get_folio() may be used under it.  Pairs with guestmem_unlock().
 *
 * Context: Process context, may sleep.  Not to be held across a return
 * to userspace; no guestmem callback may take it.
 */
void guestmem_lock(struct guestmem_binding *binding)
{
	filemap_invalidate_lock(gm_mapping(binding->gm));
}
EXPORT_SYMBOL_GPL(guestmem_lock);

/**
 * guestmem_unlock - release the lock taken by guestmem_lock()
 * @binding: The binding given to guestmem_lock().
 *
 * Context: Process context.
 */
void guestmem_unlock(struct guestmem_binding *binding)
{
	filemap_invalidate_unlock(gm_mapping(binding->gm));
}
EXPORT_SYMBOL_GPL(guestmem_unlock);

/*
 * Zero a new folio and let the backend prepare it for the guest; the folio
 * is "prepared" (PG_uptodate) only when both succeeded.
 */
static int guestmem_prepare_folio(struct guestmem_binding *b, pgoff_t index,
				  struct folio *folio)
{
	unsigned long nr = folio_nr_pages(folio);
	int ret;

	guestmem_clear_folio(folio);

	if (b->ops->prepare_folio) {
		ret = b->ops->prepare_folio(b, ALIGN_DOWN(index, nr), folio);
		if (ret)
			return ret;
	}
	folio_mark_uptodate(folio);
	return 0;
}

/**
 * guestmem_get_folio - get the folio backing a page of a bound range
 * @binding: The binding the access is for.
 * @index: Page of the file, within the binding.
 * @flags: %GUESTMEM_GET_PREPARE: zero and prepare the folio (the owner's
 *	->prepare_folio) if it was not prepared yet.
 *	%GUESTMEM_GET_UNPREPARED: fail if the folio was prepared already;
 *	the caller fills it and calls guestmem_folio_mark_prepared().  Not
 *	in a %GUESTMEM_F_NO_DIRECT_MAP file, nor for a private page of a
 *	%GUESTMEM_F_NO_DIRECT_MAP_PRIVATE file, whose folios the kernel cannot
 *	write.
 *
 * Allocates the folio on first use.  The folio may be larger than a page;
 * its page for @index is folio_file_page(folio, @index).
 *
 * Context: Process context, may sleep.  No guestmem lock is needed; the
 * caller orders the result against ->invalidate_begin() itself (KVM
 * retries on mmu_invalidate_seq).  But in a
 * %GUESTMEM_F_NO_DIRECT_MAP_PRIVATE file the caller holds guestmem_lock():
 * whether a new folio leaves the direct map depends on its page's state,
 * which a conversion must not change meanwhile.
 * Return: The folio, locked and with a reference the caller drops with
 * folio_put() (after folio_unlock()); or ERR_PTR(-EFAULT) if the file was
 * closed, ERR_PTR(-EIO) if @index is outside the binding,
 * ERR_PTR(-EHWPOISON) for a poisoned folio, ERR_PTR(-EEXIST) for a
 * prepared folio with %GUESTMEM_GET_UNPREPARED, ERR_PTR(-EACCES) for
 * %GUESTMEM_GET_UNPREPARED on a page out of the direct map,
 * ERR_PTR(-ENOMEM) or another error of removal from the direct map, or the
 * error of ->prepare_folio().
 */
struct folio *guestmem_get_folio(struct guestmem_binding *binding,
				 pgoff_t index, unsigned int flags)
{
	struct guestmem *gm = binding->gm;
	struct folio *folio;
	int ret = 0;

	if (READ_ONCE(binding->detached))
		return ERR_PTR(-EFAULT);
	if (index < binding->start || index >= binding->end)
		return ERR_PTR(-EIO);
	if (gm->flags & GUESTMEM_F_NO_DIRECT_MAP_PRIVATE)
		lockdep_assert_held_write(&gm_mapping(gm)->invalidate_lock);
	/* The caller would write the folio through the direct map. */
	if ((flags & GUESTMEM_GET_UNPREPARED) &&
	    guestmem_page_unmapped(gm, index))
		return ERR_PTR(-EACCES);

	folio = guestmem_lookup_folio(gm, index, false, true);
	if (IS_ERR(folio))
		return folio;

	if (folio_contain_hwpoisoned_page(folio))
		ret = -EHWPOISON;
	else if (folio_test_uptodate(folio))
		ret = flags & GUESTMEM_GET_UNPREPARED ? -EEXIST : 0;
	else if (flags & GUESTMEM_GET_PREPARE)
		ret = guestmem_prepare_folio(binding, index, folio);

	if (ret) {
		folio_unlock(folio);
		folio_put(folio);
		return ERR_PTR(ret);
	}
	return folio;
}
EXPORT_SYMBOL_GPL(guestmem_get_folio);

/**
 * guestmem_folio_mark_prepared - record that a folio is ready for the guest
 * @folio: A locked folio from guestmem_get_folio().
 *
 * For a backend that filled the folio itself (%GUESTMEM_GET_UNPREPARED):
 * later lookups with %GUESTMEM_GET_PREPARE will not zero it again.
 *
 * Context: Any context.  The caller holds a reference to @folio and
 * either its lock or guestmem_lock().
 */
void guestmem_folio_mark_prepared(struct folio *folio)
{
	folio_mark_uptodate(folio);
}
EXPORT_SYMBOL_GPL(guestmem_folio_mark_prepared);
