/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The software Gunyah resource manager (gunyah_swrm.c), for tests.
 */
#ifndef _GUNYAH_SWRM_H
#define _GUNYAH_SWRM_H

#include <linux/types.h>

struct gunyah_rm;
struct gunyah_swrm;

/**
 * struct gunyah_swrm_parcel_info - a parcel as the software RM keeps it
 * @vmid: The VM it was given to.
 * @lend: Lent, or shared.
 * @held: The VM holds it (accepted, not released): reclaim fails.
 * @complete: Its last MEM_APPEND came (or none was announced).
 * @nr_ranges: Number of memory ranges.
 * @bytes: Their total size.
 * @first_phys: Host physical address of the first range.
 */
struct gunyah_swrm_parcel_info {
	u16 vmid;
	bool lend;
	bool held;
	bool complete;
	unsigned int nr_ranges;
	u64 bytes;
	phys_addr_t first_phys;
};

struct gunyah_swrm *gunyah_swrm_create(void);
void gunyah_swrm_destroy(struct gunyah_swrm *s);
struct gunyah_rm *gunyah_swrm_rm(struct gunyah_swrm *s);
int gunyah_swrm_hold(struct gunyah_swrm *s, u32 handle, bool hold);
int gunyah_swrm_parcel(struct gunyah_swrm *s, u32 handle,
		       struct gunyah_swrm_parcel_info *info);
unsigned int gunyah_swrm_nr_parcels(struct gunyah_swrm *s);

#endif /* _GUNYAH_SWRM_H */
