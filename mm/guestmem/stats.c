// SPDX-License-Identifier: GPL-2.0
/*
 * What the library does, made visible: /proc/PID/fdinfo of a guestmem file,
 * the system-wide pages of guestmem that /proc/meminfo shows, and the
 * definitions of the tracepoints of <trace/events/guestmem.h>.  The
 * counters are atomics, changed where folios come and go (binding.c,
 * file.c) and leave or re-enter the direct map (direct_map.c), and read
 * without a lock; fdinfo takes the file's invalidate lock, shared, for the
 * list of bindings and the shared/private state.
 */
#include <linux/bitmap.h>
#include <linux/guestmem.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <kunit/visibility.h>

#include "internal.h"

#define CREATE_TRACE_POINTS
#include <trace/events/guestmem.h>

/* Pages in guestmem files: folios counted in, and not yet freed. */
static atomic_long_t guestmem_nr_file_pages = ATOMIC_LONG_INIT(0);

/*
 * @folio joined @gm: called once per folio, under its lock, when the
 * library first sees it (guestmem_grab_new_folio()).
 */
void guestmem_folio_added(struct guestmem *gm, struct folio *folio)
{
	atomic_long_add(folio_nr_pages(folio), &guestmem_nr_file_pages);
	if (folio_test_large(folio))
		atomic_long_inc(&gm->nr_large);
	trace_guestmem_folio_alloc(gm_ino(gm), folio);
}

/* @folio left @gm for good (->free_folio()); pairs with the above. */
void guestmem_folio_removed(struct guestmem *gm, struct folio *folio)
{
	atomic_long_sub(folio_nr_pages(folio), &guestmem_nr_file_pages);
	if (folio_test_large(folio))
		atomic_long_dec(&gm->nr_large);
	trace_guestmem_folio_free(gm_ino(gm), folio);
}

/**
 * guestmem_nr_pages - pages held by guestmem files
 *
 * For /proc/meminfo (GuestMem); not exported to modules.  A folio counts
 * from its first lookup or allocation until it leaves its file (punch
 * hole, last close).
 *
 * Context: Any context; takes no lock.
 * Return: The number of pages of all guestmem files.
 */
unsigned long guestmem_nr_pages(void)
{
	return max(atomic_long_read(&guestmem_nr_file_pages), 0L);
}
EXPORT_SYMBOL_IF_KUNIT(guestmem_nr_pages);

static const struct {
	unsigned long flag;
	const char *name;
} guestmem_flag_names[] = {
	{ GUESTMEM_F_NO_DIRECT_MAP,	"no_direct_map" },
	{ GUESTMEM_F_MMAP,		"mmap" },
	{ GUESTMEM_F_INIT_SHARED,	"init_shared" },
	{ GUESTMEM_F_SCRUB,		"scrub" },
	{ GUESTMEM_F_NO_DIRECT_MAP_PRIVATE, "no_direct_map_private" },
	{ GUESTMEM_F_HUGE,		"huge" },
};

/*
 * /proc/PID/fdinfo/FD of a guestmem file, one "key:\tvalue" line each (the
 * fields are documented in Documentation/mm/guestmem.rst):
 *
 *	guestmem-size			size in bytes
 *	guestmem-flags			GUESTMEM_F_* names, or "none"
 *	guestmem-pages			pages allocated
 *	guestmem-pages-shared		pages shared (%GUESTMEM_F_MMAP files)
 *	guestmem-pages-private		pages private (%GUESTMEM_F_MMAP files)
 *	guestmem-pages-no-direct-map	pages out of the direct map
 *	guestmem-large-folios		folios of more than one page
 *	guestmem-huge-fallbacks		blocks that got no huge folio
 *					(%GUESTMEM_F_HUGE files)
 *	guestmem-bindings		ranges bound to backend objects
 *
 * The shared and private counts are of every page of the file, allocated
 * or not.
 */
void guestmem_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct guestmem *gm = GUESTMEM_I(file_inode(file));
	struct address_space *mapping = gm_mapping(gm);
	pgoff_t nr = gm_nr_pages(gm), nr_shared = 0;
	struct guestmem_binding *b;
	unsigned int nr_bindings = 0;
	bool any = false;
	unsigned int i;

	filemap_invalidate_lock_shared(mapping);
	list_for_each_entry(b, &gm->bindings, entry)
		nr_bindings++;
	if (gm->shared)
		nr_shared = bitmap_weight(gm->shared, nr);
	filemap_invalidate_unlock_shared(mapping);

	seq_printf(m, "guestmem-size:\t%lld\n", i_size_read(&gm->vfs_inode));
	seq_puts(m, "guestmem-flags:\t");
	for (i = 0; i < ARRAY_SIZE(guestmem_flag_names); i++) {
		if (!(gm->flags & guestmem_flag_names[i].flag))
			continue;
		seq_printf(m, "%s%s", any ? " " : "", guestmem_flag_names[i].name);
		any = true;
	}
	seq_puts(m, any ? "\n" : "none\n");
	seq_printf(m, "guestmem-pages:\t%lu\n", READ_ONCE(mapping->nrpages));
	if (gm->shared) {
		seq_printf(m, "guestmem-pages-shared:\t%lu\n", nr_shared);
		seq_printf(m, "guestmem-pages-private:\t%lu\n", nr - nr_shared);
	}
	seq_printf(m, "guestmem-pages-no-direct-map:\t%ld\n",
		   atomic_long_read(&gm->nr_unmapped));
	seq_printf(m, "guestmem-large-folios:\t%ld\n",
		   atomic_long_read(&gm->nr_large));
	if (gm->flags & GUESTMEM_F_HUGE)
		seq_printf(m, "guestmem-huge-fallbacks:\t%ld\n",
			   atomic_long_read(&gm->nr_huge_fallbacks));
	seq_printf(m, "guestmem-bindings:\t%u\n", nr_bindings);
}
