/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guestmem: guest memory owned by mm, for every hypervisor backend.
 *
 * A guestmem file holds the memory of a guest.  The library owns the file:
 * its inode, size, folios, fallocate and release.  A hypervisor backend
 * (KVM's guest_memfd, Gunyah) creates files, binds ranges of them to its
 * own objects and is told through struct guestmem_ops before any folio in
 * a bound range goes away.  See Documentation/mm/guestmem.rst.
 */
#ifndef _LINUX_GUESTMEM_H
#define _LINUX_GUESTMEM_H

#include <linux/bits.h>
#include <linux/list.h>
#include <linux/types.h>

struct file;
struct folio;
struct module;
struct guestmem;
struct guestmem_binding;

/**
 * struct guestmem_ops - what a backend is told by a guestmem file
 *
 * A backend gives one ops table to guestmem_file_create() for the files it
 * owns and one (usually the same) to guestmem_bind() for each binding.
 * Members marked "file" are called for the owner of the file, members
 * marked "binding" for a binding.  Every member is optional.  Callbacks
 * other than @release must not call back into the guestmem_*() API for
 * the same file.
 *
 * @owner: The module that implements the callbacks.  Each file holds a
 *	reference to it until the file's memory is freed, so that
 *	@free_folio can still be called after the last close.
 *
 * @release: (file) The last reference to the file was dropped.  Called
 *	once per file, after the file's memory was freed and every binding
 *	detached (each got a whole-range @invalidate_begin/@invalidate_end
 *	pair around the freeing), with no guestmem lock held; may sleep and
 *	may unbind bindings of this file.  Gives back the backend's @priv of
 *	guestmem_file_create(), which the backend may free now.  No other
 *	callback of the file runs after it.
 *
 * @free_folio: (file) @folio leaves the file for good (punch hole, a
 *	conversion with %GUESTMEM_CONVERT_ZERO in a
 *	%GUESTMEM_F_NO_DIRECT_MAP file, or the last close); its memory goes
 *	back to the allocator once the last reference is dropped.  The place
 *	for an architecture to undo what @prepare_folio set up (SEV-SNP makes
 *	the pages host-owned again).
 *	Called from truncation with the file's invalidate lock held and no
 *	spinlock; cannot fail.
 *
 * @prepare_folio: (binding) Make @folio ready for its first use by the
 *	guest, on behalf of guestmem_get_folio() with %GUESTMEM_GET_PREPARE.
 *	@index is the file offset (in pages) of the first page of @folio.
 *	Called with @folio locked, its pages zeroed, and not yet marked
 *	prepared; may sleep.  Return 0 on success; an error is returned by
 *	guestmem_get_folio() and the folio stays unprepared, so the next
 *	lookup calls @prepare_folio again.  In a %GUESTMEM_F_MMAP file a
 *	folio the host faults in first is zeroed by the library and counts
 *	as prepared, so a backend whose preparation matters for that case
 *	must not offer mmap (KVM: SEV-SNP).
 *
 * @invalidate_begin: (binding) The folios in [@start, @end) (file offsets
 *	in pages, clipped to the binding) are about to be freed or to change
 *	state; the range covers every large folio the operation splits, so
 *	it may be wider than the range userspace asked for.  The backend
 *	must remove every mapping it made of them (stage-2 page tables,
 *	IOMMU, caches of pfns) before returning, and
 *	must not create new ones until the matching @invalidate_end.  Called
 *	with the file's invalidate lock held, so bindings are stable and
 *	guestmem_bind()/guestmem_unbind() of the same file must not be
 *	called; may sleep.  The lock is exclusive, except for a memory
 *	failure (the folio stays), where it is shared: two invalidations of
 *	one binding may then overlap in time.  Always paired with exactly one @invalidate_end
 *	for the same binding and range; when several bindings overlap a
 *	range, all get @invalidate_begin (in binding order) before the
 *	folios change and all get @invalidate_end (in the same order)
 *	afterwards.
 *
 * @invalidate_end: (binding) Ends the invalidation of [@start, @end)
 *	started by @invalidate_begin; the backend may map the range again
 *	(it will see new folios).  Same context as @invalidate_begin.
 *
 * @convert: (binding) guestmem_convert() is about to turn [@start, @end)
 *	(clipped to the binding) private (@to_private true) or shared.
 *	Called inside the conversion's @invalidate_begin/@invalidate_end
 *	pair, after the library checked (to private only) that nothing else
 *	holds the folios and before the state changes, with the invalidate lock held
 *	exclusive; may sleep.  Return 0 to let the conversion go on, or an
 *	error to refuse it: guestmem_convert() then returns that error and
 *	changes nothing.  Bindings are asked in list order, and one that
 *	said yes is not told when a later one refuses, so the callback may
 *	check and prepare, but must not commit to the new state.
 *
 * @punch_hole: (binding) fallocate(%FALLOC_FL_PUNCH_HOLE) is about to free
 *	the folios of [@start, @end) (clipped to the binding).  Called
 *	before the punch hole's @invalidate_begin, with the invalidate lock
 *	held exclusive; may sleep.  Return 0 to let it go on, or an error to
 *	refuse it: fallocate() then fails with that error and nothing
 *	changes.  Bindings are asked in list order, and one that said yes is
 *	not told when a later one refuses.  For a backend that must get the
 *	pages back from someone else before they may be freed, who may say
 *	no (Gunyah reclaims a lent range from its hypervisor).  The last
 *	close is not asked and cannot be refused: a backend that must not
 *	lose pages holds a reference to the file while it has pages out.
 *
 * @ioctl: (file) An ioctl() on the file.  The library has none of its own;
 *	backends keep their uAPI (KVM's KVM_SET_MEMORY_ATTRIBUTES2) here.
 *	Process context, no guestmem lock held; return -ENOTTY for an
 *	unknown @cmd.
 */
struct guestmem_ops {
	struct module *owner;

	void (*release)(void *priv);
	void (*free_folio)(struct folio *folio);

	int (*prepare_folio)(struct guestmem_binding *binding, pgoff_t index,
			     struct folio *folio);
	void (*invalidate_begin)(struct guestmem_binding *binding,
				 pgoff_t start, pgoff_t end);
	void (*invalidate_end)(struct guestmem_binding *binding,
			       pgoff_t start, pgoff_t end);
	int (*convert)(struct guestmem_binding *binding, pgoff_t start,
		       pgoff_t end, bool to_private);
	int (*punch_hole)(struct guestmem_binding *binding, pgoff_t start,
			  pgoff_t end);

	long (*ioctl)(struct file *file, unsigned int cmd, unsigned long arg);
};

/**
 * struct guestmem_binding - a range of a guestmem file bound to a backend
 *
 * Embedded in the backend's object (a KVM memslot) and set up by
 * guestmem_bind(); all members are the library's.  A binding keeps the
 * file's memory alive, not the file: when the file is closed first, the
 * binding is detached (guestmem_get_folio() fails with -EFAULT) but stays
 * valid until guestmem_unbind().
 *
 * @gm: The file's guestmem, from guestmem_bind() to guestmem_unbind().
 * @ops: Callbacks for this binding.
 * @start: First page of the file in the binding.
 * @end: First page after the binding.
 * @entry: On the file's list of bindings while attached; empty once
 *	detached.  Protected by the file's invalidate lock.
 * @detached: Set, under the invalidate lock, when the file is released
 *	while bound or the binding is removed; read locklessly by
 *	guestmem_get_folio().
 */
struct guestmem_binding {
	struct guestmem *gm;
	const struct guestmem_ops *ops;
	pgoff_t start;
	pgoff_t end;
	struct list_head entry;
	bool detached;
};

/* guestmem_file_create() flags */
#define GUESTMEM_F_NO_DIRECT_MAP	BIT(0)
#define GUESTMEM_F_MMAP			BIT(1)
#define GUESTMEM_F_INIT_SHARED		BIT(2)
#define GUESTMEM_F_SCRUB		BIT(3)
#define GUESTMEM_F_NO_DIRECT_MAP_PRIVATE	BIT(4)
#define GUESTMEM_F_HUGE			BIT(5)

/* guestmem_convert() flags */
#define GUESTMEM_CONVERT_ZERO		BIT(0)

/* guestmem_bind() flags */
#define GUESTMEM_BIND_EXCLUSIVE		BIT(0)

/* guestmem_get_folio() flags */
#define GUESTMEM_GET_PREPARE		BIT(0)
#define GUESTMEM_GET_UNPREPARED		BIT(1)

#ifdef CONFIG_GUESTMEM

unsigned long guestmem_supported_flags(void);
struct file *guestmem_file_create(const char *name, loff_t size,
				  unsigned long flags,
				  const struct guestmem_ops *ops, void *priv);
void *guestmem_file_priv(struct file *file, const struct guestmem_ops *ops);

int guestmem_bind(struct file *file, struct guestmem_binding *binding,
		  const struct guestmem_ops *ops, pgoff_t start, pgoff_t nr,
		  unsigned int flags);
void guestmem_unbind(struct guestmem_binding *binding);

void guestmem_lock(struct guestmem_binding *binding);
void guestmem_unlock(struct guestmem_binding *binding);

struct folio *guestmem_get_folio(struct guestmem_binding *binding,
				 pgoff_t index, unsigned int flags);
void guestmem_folio_mark_prepared(struct folio *folio);

unsigned long guestmem_file_flags(struct file *file);
int guestmem_convert(struct file *file, pgoff_t start, pgoff_t nr,
		     bool to_private, unsigned int flags, pgoff_t *error_index);
bool guestmem_is_private(struct guestmem_binding *binding, pgoff_t index);

/* For the rest of mm and for power management; not exported to modules. */
bool guestmem_active(void);
unsigned long guestmem_nr_pages(void);
unsigned long guestmem_nr_pages_no_direct_map(void);

#if IS_ENABLED(CONFIG_KUNIT)
/* For the KUnit suites of the library and of its backends. */
unsigned long guestmem_folio_nr_mapped(struct folio *folio);
#endif

#else /* !CONFIG_GUESTMEM */

static inline bool guestmem_active(void)
{
	return false;
}

#endif /* CONFIG_GUESTMEM */

#endif /* _LINUX_GUESTMEM_H */
