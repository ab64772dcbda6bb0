/* SPDX-License-Identifier: GPL-2.0 */
/* Internal to mm/guestmem: what its KUnit test reaches besides the API. */
#ifndef _MM_GUESTMEM_GUESTMEM_H
#define _MM_GUESTMEM_GUESTMEM_H

#include <linux/types.h>

struct folio;
struct page;
struct guestmem;

#if IS_ENABLED(CONFIG_KUNIT)
struct folio *guestmem_grab_folio(struct guestmem *gm, pgoff_t index);
unsigned long guestmem_folio_nr_mapped(struct folio *folio);
long guestmem_nr_tlb_flushes(void);
int guestmem_unmap_page(struct page *page);
#endif

#endif /* _MM_GUESTMEM_GUESTMEM_H */
