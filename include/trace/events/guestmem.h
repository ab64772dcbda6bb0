/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of the guestmem library (mm/guestmem/).  A file is named by
 * its inode number ("ino", as fstat() and /proc/PID/fdinfo show it);
 * indexes and ranges are in pages of the file.  See "Observing guestmem"
 * in Documentation/mm/guestmem.rst.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM guestmem

#if !defined(_TRACE_GUESTMEM_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_GUESTMEM_H

#include <linux/mm.h>
#include <linux/tracepoint.h>

DECLARE_EVENT_CLASS(guestmem_folio_class,
		    TP_PROTO(unsigned long ino, struct folio *folio),
		    TP_ARGS(ino, folio),
		    TP_STRUCT__entry(__field(unsigned long, ino)
				     __field(pgoff_t, index)
				     __field(unsigned long, pfn)
				     __field(unsigned int, order)),
		    TP_fast_assign(__entry->ino = ino;
				   __entry->index = folio->index;
				   __entry->pfn = folio_pfn(folio);
				   __entry->order = folio_order(folio);),
		    TP_printk("ino=%lu index=%lu pfn=0x%lx order=%u",
			      __entry->ino, __entry->index, __entry->pfn,
			      __entry->order));

/* A folio joined a file (fallocate, a lookup, a host fault). */
DEFINE_EVENT(guestmem_folio_class, guestmem_folio_alloc,
	     TP_PROTO(unsigned long ino, struct folio *folio),
	     TP_ARGS(ino, folio));

/* A folio left its file for good (punch hole, last close). */
DEFINE_EVENT(guestmem_folio_class, guestmem_folio_free,
	     TP_PROTO(unsigned long ino, struct folio *folio),
	     TP_ARGS(ino, folio));

/* The pages of a folio left the direct map (the flush is still to come). */
DEFINE_EVENT(guestmem_folio_class, guestmem_direct_map_remove,
	     TP_PROTO(unsigned long ino, struct folio *folio),
	     TP_ARGS(ino, folio));

/* The pages of a folio are back in the direct map. */
DEFINE_EVENT(guestmem_folio_class, guestmem_direct_map_restore,
	     TP_PROTO(unsigned long ino, struct folio *folio),
	     TP_ARGS(ino, folio));

/* One kernel TLB flush for the folios a library call took out. */
TRACE_EVENT(guestmem_tlb_flush,
	    TP_PROTO(unsigned long ino, unsigned long start, unsigned long end,
		     unsigned int nr_folios),
	    TP_ARGS(ino, start, end, nr_folios),
	    TP_STRUCT__entry(__field(unsigned long, ino)
			     __field(unsigned long, start)
			     __field(unsigned long, end)
			     __field(unsigned int, nr_folios)),
	    TP_fast_assign(__entry->ino = ino;
			   __entry->start = start;
			   __entry->end = end;
			   __entry->nr_folios = nr_folios;),
	    TP_printk("ino=%lu pages=%lu folios=%u", __entry->ino,
		      (__entry->end - __entry->start) >> PAGE_SHIFT,
		      __entry->nr_folios));

DECLARE_EVENT_CLASS(guestmem_invalidate_class,
		    TP_PROTO(unsigned long ino, const void *binding,
			     pgoff_t start, pgoff_t end),
		    TP_ARGS(ino, binding, start, end),
		    TP_STRUCT__entry(__field(unsigned long, ino)
				     __field(const void *, binding)
				     __field(pgoff_t, start)
				     __field(pgoff_t, end)),
		    TP_fast_assign(__entry->ino = ino;
				   __entry->binding = binding;
				   __entry->start = start;
				   __entry->end = end;),
		    TP_printk("ino=%lu binding=%p start=%lu end=%lu",
			      __entry->ino, __entry->binding, __entry->start,
			      __entry->end));

/* A binding is told that [start, end) of its range is about to change. */
DEFINE_EVENT(guestmem_invalidate_class, guestmem_invalidate_begin,
	     TP_PROTO(unsigned long ino, const void *binding, pgoff_t start,
		      pgoff_t end),
	     TP_ARGS(ino, binding, start, end));

/* The change of [start, end) is over for that binding. */
DEFINE_EVENT(guestmem_invalidate_class, guestmem_invalidate_end,
	     TP_PROTO(unsigned long ino, const void *binding, pgoff_t start,
		      pgoff_t end),
	     TP_ARGS(ino, binding, start, end));

/*
 * A folio keeps a conversion to private from going on: still mapped by the
 * host (mapcount), holding more references than the page cache's and the
 * conversion's own (refs > expected: a GUP pin, a pipe, an IOMMU, a per-CPU
 * LRU batch, which the conversion drains once and looks again), or
 * poisoned.
 */
TRACE_EVENT(guestmem_convert_busy,
	    TP_PROTO(unsigned long ino, struct folio *folio, int expected_refs),
	    TP_ARGS(ino, folio, expected_refs),
	    TP_STRUCT__entry(__field(unsigned long, ino)
			     __field(pgoff_t, index)
			     __field(unsigned long, pfn)
			     __field(int, refs)
			     __field(int, expected_refs)
			     __field(int, mapcount)
			     __field(bool, hwpoison)),
	    TP_fast_assign(__entry->ino = ino;
			   __entry->index = folio->index;
			   __entry->pfn = folio_pfn(folio);
			   __entry->refs = folio_ref_count(folio);
			   __entry->expected_refs = expected_refs;
			   __entry->mapcount = folio_mapcount(folio);
			   __entry->hwpoison = folio_contain_hwpoisoned_page(folio);),
	    TP_printk("ino=%lu index=%lu pfn=0x%lx refs=%d expected=%d mapcount=%d hwpoison=%d",
		      __entry->ino, __entry->index, __entry->pfn, __entry->refs,
		      __entry->expected_refs, __entry->mapcount,
		      __entry->hwpoison));

/*
 * guestmem_convert() of a guestmem file returned: the range, the direction,
 * the flags, the result and, for -EAGAIN, the page it named (0 otherwise).
 */
TRACE_EVENT(guestmem_convert,
	    TP_PROTO(unsigned long ino, pgoff_t start, pgoff_t nr,
		     bool to_private, unsigned int flags, int ret,
		     pgoff_t error_index),
	    TP_ARGS(ino, start, nr, to_private, flags, ret, error_index),
	    TP_STRUCT__entry(__field(unsigned long, ino)
			     __field(pgoff_t, start)
			     __field(pgoff_t, nr)
			     __field(bool, to_private)
			     __field(unsigned int, flags)
			     __field(int, ret)
			     __field(pgoff_t, error_index)),
	    TP_fast_assign(__entry->ino = ino;
			   __entry->start = start;
			   __entry->nr = nr;
			   __entry->to_private = to_private;
			   __entry->flags = flags;
			   __entry->ret = ret;
			   __entry->error_index = error_index;),
	    TP_printk("ino=%lu start=%lu nr=%lu to=%s flags=0x%x ret=%d error_index=%lu",
		      __entry->ino, __entry->start, __entry->nr,
		      __entry->to_private ? "private" : "shared",
		      __entry->flags, __entry->ret, __entry->error_index));

/*
 * What the fault handler returns, by name.  vm_fault_t is a restricted
 * type that TRACE_DEFINE_ENUM() cannot take, so tools reading the format
 * file (perf, trace-cmd) print the VM_FAULT_* bits as a number.
 */

#define guestmem_show_fault(ret)					\
	__print_flags(ret, "|",						\
		      { (__force unsigned long)VM_FAULT_LOCKED, "LOCKED" },	\
		      { (__force unsigned long)VM_FAULT_SIGBUS, "SIGBUS" },	\
		      { (__force unsigned long)VM_FAULT_HWPOISON, "HWPOISON" },	\
		      { (__force unsigned long)VM_FAULT_OOM, "OOM" })

/* A host fault on a mapping of a file, and what it returned. */
TRACE_EVENT(guestmem_fault,
	    TP_PROTO(unsigned long ino, pgoff_t index, vm_fault_t ret),
	    TP_ARGS(ino, index, ret),
	    TP_STRUCT__entry(__field(unsigned long, ino)
			     __field(pgoff_t, index)
			     __field(unsigned int, ret)),
	    TP_fast_assign(__entry->ino = ino;
			   __entry->index = index;
			   __entry->ret = (__force unsigned int)ret;),
	    TP_printk("ino=%lu index=%lu ret=%s", __entry->ino, __entry->index,
		      guestmem_show_fault(__entry->ret)));

/* A %GUESTMEM_F_HUGE file got no huge folio for the block at index. */
TRACE_EVENT(guestmem_huge_fallback,
	    TP_PROTO(unsigned long ino, pgoff_t index),
	    TP_ARGS(ino, index),
	    TP_STRUCT__entry(__field(unsigned long, ino)
			     __field(pgoff_t, index)),
	    TP_fast_assign(__entry->ino = ino;
			   __entry->index = index;),
	    TP_printk("ino=%lu index=%lu", __entry->ino, __entry->index));

/* A large folio of nr pages at index was split (ret 0) or not. */
TRACE_EVENT(guestmem_huge_split,
	    TP_PROTO(unsigned long ino, pgoff_t index, unsigned long nr,
		     int ret),
	    TP_ARGS(ino, index, nr, ret),
	    TP_STRUCT__entry(__field(unsigned long, ino)
			     __field(pgoff_t, index)
			     __field(unsigned long, nr)
			     __field(int, ret)),
	    TP_fast_assign(__entry->ino = ino;
			   __entry->index = index;
			   __entry->nr = nr;
			   __entry->ret = ret;),
	    TP_printk("ino=%lu index=%lu nr=%lu ret=%d", __entry->ino,
		      __entry->index, __entry->nr, __entry->ret));

#endif /* _TRACE_GUESTMEM_H */

/* Outside the guard: define_trace.h reads this file again. */
#include <trace/define_trace.h>
