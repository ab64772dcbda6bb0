/* SPDX-License-Identifier: GPL-2.0 */
/* Internal to mm/guestmem: what its KUnit test reaches besides the API. */
#ifndef _MM_GUESTMEM_GUESTMEM_H
#define _MM_GUESTMEM_GUESTMEM_H

#include <linux/types.h>

struct folio;
struct guestmem;

#if IS_ENABLED(CONFIG_KUNIT)
struct folio *guestmem_grab_folio(struct guestmem *gm, pgoff_t index);
bool guestmem_folio_in_direct_map(struct folio *folio);
long guestmem_nr_tlb_flushes(void);
#endif

#endif /* _MM_GUESTMEM_GUESTMEM_H */
