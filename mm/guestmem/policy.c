// SPDX-License-Identifier: GPL-2.0
/*
 * NUMA placement: every guestmem file has a shared memory policy, as a
 * tmpfs file has, which decides on which node each of its folios is
 * allocated.  It starts as the policy of the task that created the file,
 * for the whole file; mbind() on a host mapping of a %GUESTMEM_F_MMAP file
 * replaces it for the range mapped (vm_operations_struct.set_policy), and
 * get_mempolicy(MPOL_F_ADDR) reads it back.  A policy governs folios not
 * allocated yet: guest memory is never migrated, so mbind(MPOL_MF_MOVE)
 * moves nothing.  Where the file has no policy for a page (the creator had
 * the default one), the task that allocates it decides, as for any page
 * cache.  The policy is protected by its own lock (struct shared_policy)
 * and freed with the inode.
 */

#include <linux/gfp.h>
#include <linux/guestmem.h>
#include <linux/mempolicy.h>
#include <linux/mm.h>
#include <linux/sched.h>

#include "internal.h"

/*
 * The policy the file starts with: a copy of the creating task's own, if
 * it has one (set_mempolicy()), for every page of the file.  Returns 0 or
 * -ENOMEM.
 */
int guestmem_policy_init(struct guestmem *gm)
{
#ifdef CONFIG_NUMA
	struct vm_area_struct pseudo;

	/* Only the task itself changes its policy pointer. */
	if (!current->mempolicy)
		return 0;
	/*
	 * mpol_set_shared_policy() takes the range from a VMA: one that maps
	 * the whole file, as mpol_shared_policy_init() uses for tmpfs.
	 */
	vma_init(&pseudo, NULL);
	pseudo.vm_start = 0;
	pseudo.vm_end = gm_nr_pages(gm) << PAGE_SHIFT;
	pseudo.vm_pgoff = 0;
	return mpol_set_shared_policy(&gm->policy, &pseudo, current->mempolicy);
#else
	return 0;
#endif
}

void guestmem_policy_free(struct guestmem *gm)
{
	mpol_free_shared_policy(&gm->policy);
}

#ifdef CONFIG_NUMA
/*
 * The policy for a folio of @order at @index, with a reference the caller
 * drops with mpol_cond_put(), and its interleave index in *@ilx (biased by
 * the inode number, as tmpfs does, so that files do not all start on the
 * same node).
 */
static struct mempolicy *guestmem_policy(struct guestmem *gm, pgoff_t index,
					 unsigned int order, pgoff_t *ilx)
{
	struct mempolicy *mpol;

	*ilx = gm_ino(gm) + (index >> order);
	mpol = mpol_shared_policy_lookup(&gm->policy, index);
	return mpol ? mpol : get_task_policy(current);
}

int guestmem_set_policy(struct vm_area_struct *vma, struct mempolicy *mpol)
{
	struct guestmem *gm = GUESTMEM_I(file_inode(vma->vm_file));

	return mpol_set_shared_policy(&gm->policy, vma, mpol);
}

struct mempolicy *guestmem_get_policy(struct vm_area_struct *vma,
				      unsigned long addr, pgoff_t *ilx)
{
	struct guestmem *gm = GUESTMEM_I(file_inode(vma->vm_file));
	pgoff_t index = linear_page_index(vma, addr);

	/* The caller adds the offset, scaled by its order, to the bias. */
	*ilx = gm_ino(gm);
	return mpol_shared_policy_lookup(&gm->policy, index);
}
#else
static struct mempolicy *guestmem_policy(struct guestmem *gm, pgoff_t index,
					 unsigned int order, pgoff_t *ilx)
{
	*ilx = 0;
	return NULL;
}
#endif

/**
 * guestmem_alloc_folio - allocate a folio for a page of a file
 * @gm: The file.
 * @index: The first page of the file the folio will hold.
 * @order: Its order.
 * @gfp: The allocation flags.
 *
 * On the node the file's policy names for @index (see above).
 *
 * Context: Process context; may sleep if @gfp allows.
 * Return: The folio, with a reference, not yet in the file; or NULL.
 */
struct folio *guestmem_alloc_folio(struct guestmem *gm, pgoff_t index,
				   unsigned int order, gfp_t gfp)
{
	struct mempolicy *mpol;
	struct folio *folio;
	pgoff_t ilx;

	mpol = guestmem_policy(gm, index, order, &ilx);
	folio = folio_alloc_mpol(gfp, order, mpol, ilx, numa_node_id());
	mpol_cond_put(mpol);
	return folio;
}
