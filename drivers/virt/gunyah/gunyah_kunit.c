// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite "gunyah_vm_mgr": the VM manager against a software resource
 * manager of its own per case.  The cases look at guest memory from a
 * binding of their own on the file (state, direct map, contents) and at
 * the parcels from the software RM.
 */
#include <kunit/test.h>
#include <kunit/visibility.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/guestmem.h>
#include <linux/gunyah.h>
#include <linux/highmem.h>
#include <linux/module.h>
#include <linux/pagemap.h>

#include "gunyah_swrm.h"
#include "rsc_mgr.h"
#include "vm_mgr.h"

#define NR_PAGES	16
#define GUEST_BASE	0x80000000ULL

struct gk {
	struct gunyah_swrm *swrm;
	struct gunyah_vm *vm;
	struct file *file;
	struct guestmem_binding b;	/* the test's own view of the file */
	bool bound;
};

static const struct guestmem_ops gk_ops = {
	.owner = THIS_MODULE,
};

static int gk_init(struct kunit *test)
{
	struct gk *gk = kunit_kzalloc(test, sizeof(*gk), GFP_KERNEL);

	if (!gk)
		return -ENOMEM;
	test->priv = gk;
	gk->swrm = gunyah_swrm_create();
	if (!gk->swrm)
		return -ENOMEM;
	gk->vm = gunyah_vm_create(gunyah_swrm_rm(gk->swrm));
	if (IS_ERR(gk->vm))
		return PTR_ERR(gk->vm);
	gk->file = gunyah_gmem_create(NR_PAGES * PAGE_SIZE, 0);
	if (IS_ERR(gk->file))
		return PTR_ERR(gk->file);
	if (guestmem_bind(gk->file, &gk->b, &gk_ops, 0, NR_PAGES, 0))
		return -EINVAL;
	gk->bound = true;
	return 0;
}

static void gk_exit(struct kunit *test)
{
	struct gk *gk = test->priv;

	if (gk->bound)
		guestmem_unbind(&gk->b);
	if (!IS_ERR_OR_NULL(gk->vm))
		gunyah_vm_destroy(gk->vm);
	if (!IS_ERR_OR_NULL(gk->file))
		__fput_sync(gk->file);
	/* What the VM manager let go of, from this kernel thread. */
	flush_delayed_fput();
	if (gk->swrm)
		gunyah_swrm_destroy(gk->swrm);
}

static int gk_map(struct gk *gk, u64 page, u64 nr, u32 flags)
{
	struct gunyah_map_mem_args args = {
		.guest_addr = GUEST_BASE + page * PAGE_SIZE,
		.flags = flags,
		.offset = page * PAGE_SIZE,
		.size = nr * PAGE_SIZE,
	};

	return gunyah_vm_map_mem(gk->vm, &args, gk->file);
}

static int gk_unmap(struct gk *gk, u64 page, u64 nr)
{
	struct gunyah_map_mem_args args = {
		.guest_addr = GUEST_BASE + page * PAGE_SIZE,
		.flags = GUNYAH_MEM_UNMAP,
		.size = nr * PAGE_SIZE,
	};

	return gunyah_vm_map_mem(gk->vm, &args, NULL);
}

/* The handle of the VM's only parcel, or GUNYAH_MEM_HANDLE_INVAL. */
static u32 gk_handle(struct gk *gk, u64 page)
{
	struct gunyah_mapping *m;
	u32 handle = GUNYAH_MEM_HANDLE_INVAL;

	mutex_lock(&gk->vm->lock);
	list_for_each_entry(m, &gk->vm->mappings, entry)
		if (m->guest_addr == GUEST_BASE + page * PAGE_SIZE)
			handle = m->handle;
	mutex_unlock(&gk->vm->lock);
	return handle;
}

/* Expects [start, end) private or shared, out of or in the direct map. */
static void gk_expect(struct kunit *test, pgoff_t start, pgoff_t end,
		      bool private)
{
	struct gk *gk = test->priv;
	struct folio *folio;
	pgoff_t i;

	for (i = start; i < end; i++) {
		KUNIT_EXPECT_EQ_MSG(test, guestmem_is_private(&gk->b, i), private,
				    "page %lu", i);
		folio = filemap_get_folio(gk->file->f_mapping, i);
		if (IS_ERR(folio))
			continue;
		KUNIT_EXPECT_EQ_MSG(test, guestmem_folio_nr_mapped(folio),
				    private ? 0 : 1, "page %lu", i);
		folio_put(folio);
	}
}

/*
 * The prepared folio at @index, locked, through the test's binding; the
 * lookup holds off conversions, as lookups in guest memory must.
 */
static struct folio *gk_folio(struct kunit *test, pgoff_t index)
{
	struct gk *gk = test->priv;
	struct folio *folio;

	guestmem_lock(&gk->b);
	folio = guestmem_get_folio(&gk->b, index, GUESTMEM_GET_PREPARE);
	guestmem_unlock(&gk->b);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	return folio;
}

static void gk_fill(struct kunit *test, pgoff_t index, u8 byte)
{
	struct folio *folio = gk_folio(test, index);
	void *p;

	p = kmap_local_folio(folio, 0);
	memset(p, byte, PAGE_SIZE);
	kunmap_local(p);
	folio_unlock(folio);
	folio_put(folio);
}

static bool gk_is(struct kunit *test, pgoff_t index, u8 byte)
{
	struct folio *folio = gk_folio(test, index);
	bool same;
	void *p;

	p = kmap_local_folio(folio, 0);
	same = !memchr_inv(p, byte, PAGE_SIZE);
	kunmap_local(p);
	folio_unlock(folio);
	folio_put(folio);
	return same;
}

static phys_addr_t gk_phys(struct kunit *test, pgoff_t index)
{
	struct gk *gk = test->priv;
	struct folio *folio = filemap_get_folio(gk->file->f_mapping, index);
	phys_addr_t phys;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, folio);
	phys = page_to_phys(folio_file_page(folio, index));
	folio_put(folio);
	return phys;
}

/*
 * Lend: the range becomes private (out of the direct map) and one lent
 * parcel of the VM holds it; reclaim is refused while the VM holds the
 * parcel and, once released, gives the pages back shared, contents kept.
 * Share: the pages stay shared and in the direct map, in a shared parcel.
 */
static void gunyah_test_lend_share_reclaim(struct kunit *test)
{
	const u32 rw = GUNYAH_MEM_ALLOW_READ | GUNYAH_MEM_ALLOW_WRITE;
	struct gunyah_swrm_parcel_info info;
	struct gk *gk = test->priv;
	u32 lent, shared;

	gk_fill(test, 2, 0x5a);
	KUNIT_ASSERT_EQ(test, gk_map(gk, 0, 8, GUNYAH_MEM_FORCE_LEND | rw), 0);
	gk_expect(test, 0, 8, true);
	gk_expect(test, 8, NR_PAGES, false);
	lent = gk_handle(gk, 0);
	KUNIT_ASSERT_NE(test, lent, GUNYAH_MEM_HANDLE_INVAL);
	KUNIT_ASSERT_EQ(test, gunyah_swrm_parcel(gk->swrm, lent, &info), 0);
	KUNIT_EXPECT_TRUE(test, info.lend);
	KUNIT_EXPECT_TRUE(test, info.complete);
	KUNIT_EXPECT_EQ(test, info.vmid, gk->vm->vmid);
	KUNIT_EXPECT_EQ(test, info.bytes, 8 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, info.first_phys, gk_phys(test, 0));

	/* The default access mode lends too. */
	KUNIT_ASSERT_EQ(test, gk_map(gk, 8, 2, rw), 0);
	gk_expect(test, 8, 10, true);
	KUNIT_ASSERT_EQ(test, gunyah_swrm_parcel(gk->swrm, gk_handle(gk, 8), &info), 0);
	KUNIT_EXPECT_TRUE(test, info.lend);

	KUNIT_ASSERT_EQ(test, gk_map(gk, 12, 4, GUNYAH_MEM_FORCE_SHARE |
				     GUNYAH_MEM_ALLOW_READ), 0);
	gk_expect(test, 12, NR_PAGES, false);
	shared = gk_handle(gk, 12);
	KUNIT_ASSERT_EQ(test, gunyah_swrm_parcel(gk->swrm, shared, &info), 0);
	KUNIT_EXPECT_FALSE(test, info.lend);
	KUNIT_EXPECT_EQ(test, gunyah_swrm_nr_parcels(gk->swrm), 3);

	/* Only a running VM takes a parcel; then reclaim waits for it. */
	KUNIT_EXPECT_EQ(test, gunyah_swrm_hold(gk->swrm, lent, true), -EINVAL);
	KUNIT_ASSERT_EQ(test, gunyah_vm_start(gk->vm), 0);
	KUNIT_EXPECT_EQ(test, gunyah_vm_start(gk->vm), 0);
	KUNIT_ASSERT_EQ(test, gunyah_swrm_hold(gk->swrm, lent, true), 0);
	KUNIT_EXPECT_EQ(test, gk_unmap(gk, 0, 8), -EBUSY);
	gk_expect(test, 0, 8, true);
	KUNIT_EXPECT_EQ(test, gk_handle(gk, 0), lent);

	KUNIT_ASSERT_EQ(test, gunyah_swrm_hold(gk->swrm, lent, false), 0);
	KUNIT_EXPECT_EQ(test, gk_unmap(gk, 0, 8), 0);
	gk_expect(test, 0, 8, false);
	KUNIT_EXPECT_TRUE(test, gk_is(test, 2, 0x5a));
	KUNIT_EXPECT_EQ(test, gunyah_swrm_parcel(gk->swrm, lent, &info), -ENOENT);
	KUNIT_EXPECT_EQ(test, gk_unmap(gk, 0, 8), -ENOENT);

	KUNIT_EXPECT_EQ(test, gk_unmap(gk, 12, 4), 0);
	KUNIT_EXPECT_EQ(test, gunyah_swrm_nr_parcels(gk->swrm), 1);
}

/*
 * What GUNYAH_VM_MAP_MEM refuses, with nothing given: bad flags and
 * ranges, a guest or file range mapped already, a file that is not Gunyah
 * guest memory, an unmap of no mapping or of part of one.
 */
static void gunyah_test_map_refused(struct kunit *test)
{
	const u32 rw = GUNYAH_MEM_ALLOW_READ | GUNYAH_MEM_ALLOW_WRITE;
	struct gk *gk = test->priv;
	struct gunyah_map_mem_args args = {
		.guest_addr = GUEST_BASE + PAGE_SIZE,
		.flags = rw,
		.offset = 8 * PAGE_SIZE,
		.size = PAGE_SIZE,
	};
	struct file *other;

	KUNIT_EXPECT_EQ(test, gk_map(gk, 0, 1, GUNYAH_MEM_ALLOW_WRITE), -EINVAL);
	KUNIT_EXPECT_EQ(test, gk_map(gk, 0, 1, 3 | rw), -EINVAL);
	KUNIT_EXPECT_EQ(test, gk_map(gk, 0, 1, BIT(9) | rw), -EINVAL);
	KUNIT_EXPECT_EQ(test, gk_map(gk, 0, 0, rw), -EINVAL);
	KUNIT_EXPECT_EQ(test, gk_map(gk, NR_PAGES - 1, 2, rw), -EINVAL);
	args.size = PAGE_SIZE / 2;
	KUNIT_EXPECT_EQ(test, gunyah_vm_map_mem(gk->vm, &args, gk->file), -EINVAL);
	args.size = PAGE_SIZE;
	args.guest_addr = U64_MAX & PAGE_MASK;
	KUNIT_EXPECT_EQ(test, gunyah_vm_map_mem(gk->vm, &args, gk->file), -EINVAL);
	KUNIT_EXPECT_EQ(test, gunyah_swrm_nr_parcels(gk->swrm), 0);

	KUNIT_ASSERT_EQ(test, gk_map(gk, 0, 4, rw), 0);
	/* The same guest range, from another part of the file. */
	args.guest_addr = GUEST_BASE + PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, gunyah_vm_map_mem(gk->vm, &args, gk->file), -EEXIST);
	/* The same part of the file, at another guest address. */
	args.guest_addr = GUEST_BASE + 64 * PAGE_SIZE;
	args.offset = 2 * PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, gunyah_vm_map_mem(gk->vm, &args, gk->file), -EEXIST);
	KUNIT_EXPECT_EQ(test, gunyah_swrm_nr_parcels(gk->swrm), 1);

	/* A guestmem file of someone else. */
	other = guestmem_file_create("[gunyah-kunit]", PAGE_SIZE,
				     GUESTMEM_F_MMAP | GUESTMEM_F_INIT_SHARED,
				     &gk_ops, gk);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, other);
	args.offset = 0;
	KUNIT_EXPECT_EQ(test, gunyah_vm_map_mem(gk->vm, &args, other), -EINVAL);
	__fput_sync(other);

	KUNIT_EXPECT_EQ(test, gk_unmap(gk, 0, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, gk_unmap(gk, 1, 3), -ENOENT);
	KUNIT_EXPECT_EQ(test, gunyah_swrm_nr_parcels(gk->swrm), 1);
	gk_expect(test, 0, 4, true);
}

/* A page the host pins cannot be lent: -EAGAIN, and nothing changed. */
static void gunyah_test_pin_refuses_lend(struct kunit *test)
{
	const u32 rw = GUNYAH_MEM_ALLOW_READ | GUNYAH_MEM_ALLOW_WRITE;
	struct gk *gk = test->priv;
	struct folio *pinned;

	pinned = gk_folio(test, 3);
	folio_unlock(pinned);
	KUNIT_EXPECT_EQ(test, gk_map(gk, 0, 8, GUNYAH_MEM_FORCE_LEND | rw), -EAGAIN);
	KUNIT_EXPECT_EQ(test, gunyah_swrm_nr_parcels(gk->swrm), 0);
	gk_expect(test, 0, 8, false);
	folio_put(pinned);
	KUNIT_EXPECT_EQ(test, gk_map(gk, 0, 8, GUNYAH_MEM_FORCE_LEND | rw), 0);
	gk_expect(test, 0, 8, true);
}

/*
 * A punch hole in a lent range reclaims the parcel first: refused while
 * the VM holds it (fallocate() fails, nothing freed), else the whole
 * parcel comes back and the hole's pages go; the rest stays private until
 * the VMM unmaps it.
 */
static void gunyah_test_punch_hole_lent(struct kunit *test)
{
	const int punch = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;
	const u32 rw = GUNYAH_MEM_ALLOW_READ | GUNYAH_MEM_ALLOW_WRITE;
	struct gk *gk = test->priv;
	u32 lent;

	KUNIT_ASSERT_EQ(test, gk_map(gk, 0, 8, rw), 0);
	lent = gk_handle(gk, 0);
	KUNIT_ASSERT_EQ(test, gunyah_vm_start(gk->vm), 0);
	KUNIT_ASSERT_EQ(test, gunyah_swrm_hold(gk->swrm, lent, true), 0);

	KUNIT_EXPECT_EQ(test, vfs_fallocate(gk->file, punch, 3 * PAGE_SIZE,
					    PAGE_SIZE), -EBUSY);
	KUNIT_EXPECT_EQ(test, gk->file->f_mapping->nrpages, 8);
	KUNIT_EXPECT_EQ(test, gk_handle(gk, 0), lent);

	KUNIT_ASSERT_EQ(test, gunyah_swrm_hold(gk->swrm, lent, false), 0);
	KUNIT_EXPECT_EQ(test, vfs_fallocate(gk->file, punch, 3 * PAGE_SIZE,
					    PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, gk->file->f_mapping->nrpages, 7);
	KUNIT_EXPECT_EQ(test, gk_handle(gk, 0), GUNYAH_MEM_HANDLE_INVAL);
	KUNIT_EXPECT_EQ(test, gunyah_swrm_nr_parcels(gk->swrm), 0);
	gk_expect(test, 0, 8, true);

	/* Outside any mapping: nobody is asked. */
	KUNIT_EXPECT_EQ(test, vfs_fallocate(gk->file, punch, 12 * PAGE_SIZE,
					    PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, gk_unmap(gk, 0, 8), 0);
	gk_expect(test, 0, 8, false);
}

/*
 * Closing the guest memory file while lent frees nothing: the mapping
 * holds the file.  Destroying the VM reclaims the parcel and lets the
 * file's memory go.
 */
static void gunyah_test_file_closed_while_lent(struct kunit *test)
{
	const u32 rw = GUNYAH_MEM_ALLOW_READ | GUNYAH_MEM_ALLOW_WRITE;
	struct gunyah_swrm_parcel_info info;
	struct gk *gk = test->priv;
	unsigned long base;
	struct file *last;
	u32 lent;

	KUNIT_ASSERT_EQ(test, gk_map(gk, 0, 8, rw), 0);
	lent = gk_handle(gk, 0);
	base = guestmem_nr_pages();
	/*
	 * A reference of the test's own outlives the VM's, so that the
	 * release runs here, not in a delayed fput() of this kthread.
	 */
	last = get_file(gk->file);
	guestmem_unbind(&gk->b);
	gk->bound = false;
	__fput_sync(gk->file);
	gk->file = NULL;
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages(), base);
	KUNIT_EXPECT_EQ(test, gunyah_swrm_parcel(gk->swrm, lent, &info), 0);

	gunyah_vm_destroy(gk->vm);
	gk->vm = NULL;
	KUNIT_EXPECT_EQ(test, gunyah_swrm_nr_parcels(gk->swrm), 0);
	/* Only the test's reference is left: the VM let go of the file. */
	KUNIT_EXPECT_EQ(test, file_count(last), 1);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages(), base);
	__fput_sync(last);
	KUNIT_EXPECT_EQ(test, guestmem_nr_pages(), base - 8);
}

/*
 * Destroying a running VM that holds a lent parcel: the forced stop makes
 * it let go, the parcel is reclaimed and the pages are the host's again.
 */
static void gunyah_test_vm_destroyed_while_lent(struct kunit *test)
{
	const u32 rw = GUNYAH_MEM_ALLOW_READ | GUNYAH_MEM_ALLOW_WRITE;
	struct gk *gk = test->priv;

	gk_fill(test, 5, 0x33);
	KUNIT_ASSERT_EQ(test, gk_map(gk, 4, 4, rw), 0);
	KUNIT_ASSERT_EQ(test, gunyah_vm_start(gk->vm), 0);
	KUNIT_ASSERT_EQ(test, gunyah_swrm_hold(gk->swrm, gk_handle(gk, 4), true), 0);
	gunyah_vm_destroy(gk->vm);
	gk->vm = NULL;
	KUNIT_EXPECT_EQ(test, gunyah_swrm_nr_parcels(gk->swrm), 0);
	gk_expect(test, 4, 8, false);
	KUNIT_EXPECT_TRUE(test, gk_is(test, 5, 0x33));
}

/*
 * The resource manager's rules, through its messages: memory in a parcel
 * cannot be given again, an unknown parcel cannot be reclaimed, and a
 * parcel of more ranges than one message holds is completed by MEM_APPEND.
 */
static void gunyah_test_rm_rules(struct kunit *test)
{
	struct gk *gk = test->priv;
	struct gunyah_rm *rm = gunyah_swrm_rm(gk->swrm);
	struct gunyah_swrm_parcel_info info;
	struct gunyah_rm_mem_range *ranges;
	const unsigned int nr = GUNYAH_RM_MAX_MEM_ENTRIES + 88;
	unsigned int i;
	u32 handle, again;

	ranges = kunit_kcalloc(test, nr, sizeof(*ranges), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ranges);
	/* Addresses only: the software RM never touches the memory. */
	for (i = 0; i < nr; i++) {
		ranges[i].phys = (phys_addr_t)(0x100000 + 2 * i) << PAGE_SHIFT;
		ranges[i].size = PAGE_SIZE;
	}
	KUNIT_ASSERT_EQ(test, gunyah_rm_mem_give(rm, true, gk->vm->vmid,
						 GUNYAH_RM_ACL_R, GUNYAH_VMID_HLOS,
						 0, ranges, nr, &handle), 0);
	KUNIT_ASSERT_EQ(test, gunyah_swrm_parcel(gk->swrm, handle, &info), 0);
	KUNIT_EXPECT_TRUE(test, info.complete);
	KUNIT_EXPECT_EQ(test, info.nr_ranges, nr);

	/* No double lend, nor a share of lent memory. */
	KUNIT_EXPECT_EQ(test, gunyah_rm_mem_give(rm, true, gk->vm->vmid,
						 GUNYAH_RM_ACL_R, GUNYAH_VMID_HLOS,
						 1, &ranges[nr - 1], 1, &again),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, gunyah_rm_mem_give(rm, false, gk->vm->vmid,
						 GUNYAH_RM_ACL_R, GUNYAH_VMID_HLOS,
						 1, &ranges[3], 1, &again),
			-EINVAL);
	/* Write without read is not a right the RM knows. */
	KUNIT_EXPECT_EQ(test, gunyah_rm_mem_give(rm, true, gk->vm->vmid,
						 GUNYAH_RM_ACL_W, GUNYAH_VMID_HLOS,
						 1, &ranges[1], 1, &again),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, gunyah_swrm_nr_parcels(gk->swrm), 1);

	KUNIT_EXPECT_EQ(test, gunyah_rm_mem_reclaim(rm, handle + 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, gunyah_rm_mem_reclaim(rm, handle), 0);
	KUNIT_EXPECT_EQ(test, gunyah_rm_mem_reclaim(rm, handle), -EINVAL);
	KUNIT_EXPECT_EQ(test, gunyah_swrm_nr_parcels(gk->swrm), 0);
}

/*
 * References: each VM holds its transport's module, each guest memory
 * file the VM manager's module until its memory is freed.
 */
static void gunyah_test_module_refs(struct kunit *test)
{
	struct gk *gk = test->priv;
	struct module *rm_mod = gunyah_swrm_rm(gk->swrm)->ops->owner;
	struct module *vm_mod = gunyah_gmem_ops.owner;
	struct gunyah_vm *vm2;
	struct file *file2;
	int rm_refs, vm_refs;

	if (!rm_mod || !vm_mod)
		kunit_skip(test, "the VM manager or the software RM is built in");
	rm_refs = module_refcount(rm_mod);
	vm_refs = module_refcount(vm_mod);
	vm2 = gunyah_vm_create(gunyah_swrm_rm(gk->swrm));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, vm2);
	KUNIT_EXPECT_EQ(test, module_refcount(rm_mod), rm_refs + 1);
	file2 = gunyah_gmem_create(PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, file2);
	KUNIT_EXPECT_EQ(test, module_refcount(vm_mod), vm_refs + 1);
	__fput_sync(file2);
	KUNIT_EXPECT_EQ(test, module_refcount(vm_mod), vm_refs);
	gunyah_vm_destroy(vm2);
	KUNIT_EXPECT_EQ(test, module_refcount(rm_mod), rm_refs);
}

/* Guest memory creation: size and flags. */
static void gunyah_test_gmem_create(struct kunit *test)
{
	struct file *file;

	KUNIT_EXPECT_EQ(test, PTR_ERR(gunyah_gmem_create(0, 0)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(gunyah_gmem_create(PAGE_SIZE + 1, 0)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(gunyah_gmem_create(PAGE_SIZE,
							 GHMF_ALLOW_HUGEPAGE)),
			-EINVAL);
	file = gunyah_gmem_create(PAGE_SIZE, GHMF_CLOEXEC);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, file);
	KUNIT_EXPECT_TRUE(test, guestmem_file_flags(file) & GUESTMEM_F_MMAP);
	KUNIT_EXPECT_TRUE(test, guestmem_file_flags(file) & GUESTMEM_F_INIT_SHARED);
	KUNIT_EXPECT_EQ(test, !!(guestmem_file_flags(file) &
				 GUESTMEM_F_NO_DIRECT_MAP_PRIVATE),
			!!(guestmem_supported_flags() &
			   GUESTMEM_F_NO_DIRECT_MAP_PRIVATE));
	__fput_sync(file);
}

static struct kunit_case gunyah_vm_mgr_cases[] = {
	KUNIT_CASE(gunyah_test_gmem_create),
	KUNIT_CASE(gunyah_test_lend_share_reclaim),
	KUNIT_CASE(gunyah_test_map_refused),
	KUNIT_CASE(gunyah_test_pin_refuses_lend),
	KUNIT_CASE(gunyah_test_punch_hole_lent),
	KUNIT_CASE(gunyah_test_file_closed_while_lent),
	KUNIT_CASE(gunyah_test_vm_destroyed_while_lent),
	KUNIT_CASE(gunyah_test_rm_rules),
	KUNIT_CASE(gunyah_test_module_refs),
	{}
};

static struct kunit_suite gunyah_vm_mgr_suite = {
	.name = "gunyah_vm_mgr",
	.init = gk_init,
	.exit = gk_exit,
	.test_cases = gunyah_vm_mgr_cases,
};

kunit_test_suite(gunyah_vm_mgr_suite);

MODULE_DESCRIPTION("KUnit tests for the Gunyah VM manager");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
