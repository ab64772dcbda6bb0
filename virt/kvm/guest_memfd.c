// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_CREATE_GUEST_MEMFD on top of the guestmem library (mm/guestmem/).
 *
 * The library owns the file and its memory: allocation, fallocate, punch
 * hole, release and invalidation, host mmap and the shared/private state
 * of files created with GUEST_MEMFD_FLAG_MMAP.  What is left here is KVM
 * policy: a file belongs to one VM, a memslot binds one range of one file,
 * invalidations unmap the memslot's GFNs from the stage-2 MMU, the uAPI of
 * conversions (KVM_SET_MEMORY_ATTRIBUTES2 on the file), and the
 * architecture may prepare a folio before the guest uses it (SEV-SNP) and
 * undo that when the folio leaves the file.
 */
#include <linux/guestmem.h>
#include <linux/kvm_host.h>
#include <linux/pagemap.h>

#include "kvm_mm.h"

static inline kvm_pfn_t folio_file_pfn(struct folio *folio, pgoff_t index)
{
	return folio_pfn(folio) + (index & (folio_nr_pages(folio) - 1));
}

static struct kvm_memory_slot *kvm_gmem_slot(struct guestmem_binding *binding)
{
	return container_of(binding, struct kvm_memory_slot, gmem.binding);
}

static pgoff_t kvm_gmem_get_index(struct kvm_memory_slot *slot, gfn_t gfn)
{
	return gfn - slot->base_gfn + slot->gmem.pgoff;
}

static gfn_t kvm_gmem_get_gfn(struct kvm_memory_slot *slot, pgoff_t index)
{
	return slot->base_gfn + index - slot->gmem.pgoff;
}

#ifdef CONFIG_HAVE_KVM_ARCH_GMEM_PREPARE
/* The library zeroed @folio; let the architecture take it for the guest. */
static int kvm_gmem_prepare_folio(struct guestmem_binding *binding,
				  pgoff_t index, struct folio *folio)
{
	struct kvm_memory_slot *slot = kvm_gmem_slot(binding);
	gfn_t gfn = kvm_gmem_get_gfn(slot, index);
	kvm_pfn_t pfn = folio_pfn(folio);
	int r;

	r = kvm_arch_gmem_prepare(slot->gmem.kvm, gfn, pfn, folio_order(folio));
	if (r)
		pr_warn_ratelimited("gmem: Failed to prepare folio for index %lx GFN %llx PFN %llx error %d.\n",
				    index, gfn, pfn, r);
	return r;
}
#endif

#ifdef CONFIG_HAVE_KVM_ARCH_GMEM_INVALIDATE
static void kvm_gmem_free_folio(struct folio *folio)
{
	kvm_pfn_t pfn = folio_pfn(folio);

	kvm_arch_gmem_invalidate(pfn, pfn + folio_nr_pages(folio));
}
#endif

/*
 * Called by the library, with the file's invalidate lock held, around any
 * change to the folios in [start, end) of the memslot's range: unmap the
 * private GFNs and hold off faults (mmu_invalidate_in_progress) until the
 * matching invalidate_end.
 */
static void kvm_gmem_invalidate_begin(struct guestmem_binding *binding,
				      pgoff_t start, pgoff_t end)
{
	struct kvm_memory_slot *slot = kvm_gmem_slot(binding);
	struct kvm *kvm = slot->gmem.kvm;
	struct kvm_gfn_range gfn_range = {
		.start = kvm_gmem_get_gfn(slot, start),
		.end = kvm_gmem_get_gfn(slot, end),
		.slot = slot,
		.may_block = true,
		/* Only private mappings come from the file, unless gmem-only. */
		.attr_filter = slot->gmem.gmem_only ?
			       KVM_FILTER_PRIVATE | KVM_FILTER_SHARED :
			       KVM_FILTER_PRIVATE,
	};

	KVM_MMU_LOCK(kvm);
	kvm_mmu_invalidate_begin(kvm);
	if (kvm_mmu_unmap_gfn_range(kvm, &gfn_range))
		kvm_flush_remote_tlbs(kvm);
	KVM_MMU_UNLOCK(kvm);
}

static void kvm_gmem_invalidate_end(struct guestmem_binding *binding,
				    pgoff_t start, pgoff_t end)
{
	struct kvm *kvm = kvm_gmem_slot(binding)->gmem.kvm;

	KVM_MMU_LOCK(kvm);
	kvm_mmu_invalidate_end(kvm);
	KVM_MMU_UNLOCK(kvm);
}

/* The file pins its VM until the last close, not the other way round. */
static void kvm_gmem_release(void *priv)
{
	kvm_put_kvm(priv);
}

static long kvm_gmem_set_attributes(struct file *file, void __user *argp)
{
	struct kvm_memory_attributes2 attrs;
	pgoff_t error_index = 0;
	bool to_private;
	int i, r;

	if (copy_from_user(&attrs, argp, sizeof(attrs)))
		return -EFAULT;
	for (i = 0; i < ARRAY_SIZE(attrs.reserved); i++)
		if (attrs.reserved[i])
			return -EINVAL;
	/* Output only, as in the in-place conversion proposal. */
	if (attrs.error_offset)
		return -EINVAL;
	/* Contents are kept unless ZERO is asked; PRESERVE says so. */
	if ((attrs.flags & ~(KVM_SET_MEMORY_ATTRIBUTES2_ZERO |
			     KVM_SET_MEMORY_ATTRIBUTES2_PRESERVE)) ||
	    (attrs.flags & KVM_SET_MEMORY_ATTRIBUTES2_ZERO &&
	     attrs.flags & KVM_SET_MEMORY_ATTRIBUTES2_PRESERVE))
		return -EINVAL;
	if (attrs.attributes & ~KVM_MEMORY_ATTRIBUTE_PRIVATE)
		return -EINVAL;
	if (!attrs.size || !PAGE_ALIGNED(attrs.offset) ||
	    !PAGE_ALIGNED(attrs.size) || attrs.offset + attrs.size < attrs.offset)
		return -EINVAL;

	to_private = attrs.attributes & KVM_MEMORY_ATTRIBUTE_PRIVATE;
	r = guestmem_convert(file, attrs.offset >> PAGE_SHIFT,
			     attrs.size >> PAGE_SHIFT, to_private,
			     attrs.flags & KVM_SET_MEMORY_ATTRIBUTES2_ZERO ?
			     GUESTMEM_CONVERT_ZERO : 0, &error_index);
	if (r == -EAGAIN) {
		attrs.error_offset = (u64)error_index << PAGE_SHIFT;
		if (put_user(attrs.error_offset,
			     (u64 __user *)(argp + offsetof(struct kvm_memory_attributes2,
							    error_offset))))
			return -EFAULT;
	}
	return r;
}

static long kvm_gmem_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	switch (cmd) {
	case KVM_SET_MEMORY_ATTRIBUTES2:
		return kvm_gmem_set_attributes(file, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

/*
 * Not const: kvm_gmem_init() names the owner.  Each file holds a reference
 * on it (guestmem_file_create()) and a reference on its VM; the VM's
 * destruction, which the file's release may do, calls into the vendor
 * module (kvm-amd, kvm-intel), so that module, not kvm.ko, is the owner,
 * as it is of the VM's file operations.
 */
static struct guestmem_ops kvm_gmem_ops = {
	.release		= kvm_gmem_release,
	.ioctl			= kvm_gmem_ioctl,
#ifdef CONFIG_HAVE_KVM_ARCH_GMEM_INVALIDATE
	.free_folio		= kvm_gmem_free_folio,
#endif
#ifdef CONFIG_HAVE_KVM_ARCH_GMEM_PREPARE
	.prepare_folio		= kvm_gmem_prepare_folio,
#endif
	.invalidate_begin	= kvm_gmem_invalidate_begin,
	.invalidate_end		= kvm_gmem_invalidate_end,
};

/*
 * Called once, from kvm_init(), before /dev/kvm exists: no file holds the
 * ops yet.  @module is the vendor module (NULL where KVM is built in).
 */
void kvm_gmem_init(struct module *module)
{
	kvm_gmem_ops.owner = module;
}

/*
 * The KVM_CREATE_GUEST_MEMFD flags @kvm (any VM if NULL) may use, as
 * KVM_CAP_GUEST_MEMFD_FLAGS reports them.  NO_DIRECT_MAP needs the library
 * to be able to remove pages from the direct map, and a VM type whose
 * architecture hooks do not reach private pages through it (SEV-SNP's do).
 * MMAP and INIT_SHARED need an architecture that serves gmem-only
 * memslots; INIT_SHARED is offered wherever MMAP is, VMs with private
 * memory included, since the file, not the VM, keeps the state, unless
 * the architecture says a VM's memory must start private (arm64's
 * protected VMs).  For /dev/kvm, NO_DIRECT_MAP is reported if some VM may
 * use it: an architecture whose answer does not depend on the VM gives it
 * with kvm_arch_gmem_no_direct_map_any().  HUGEPAGE needs huge folios
 * from the library and an architecture that maps them
 * (kvm_arch_gmem_supports_hugepage()); for /dev/kvm, if some VM may use
 * it.
 */
#ifndef kvm_arch_gmem_no_direct_map_any
#define kvm_arch_gmem_no_direct_map_any()	true
#endif

#ifndef kvm_arch_gmem_hugepage_any
#define kvm_arch_gmem_hugepage_any()	false
#endif

#ifndef kvm_arch_gmem_supports_init_shared
static inline bool kvm_arch_gmem_supports_init_shared(struct kvm *kvm)
{
	return true;
}
#endif

/*
 * Whether the library must zero a VM's pages when they leave its files
 * (GUESTMEM_F_SCRUB): where they come back to the host from a place the
 * kernel could not see into with the guest's data in them (arm64's
 * protected VMs).
 */
#ifndef kvm_arch_gmem_scrub
static inline bool kvm_arch_gmem_scrub(struct kvm *kvm)
{
	return false;
}
#endif

u64 kvm_gmem_supported_flags(struct kvm *kvm)
{
	u64 flags = 0;
	bool no_direct_map;

	if (!kvm || kvm_arch_gmem_supports_mmap(kvm)) {
		flags |= GUEST_MEMFD_FLAG_MMAP;
		if (!kvm || kvm_arch_gmem_supports_init_shared(kvm))
			flags |= GUEST_MEMFD_FLAG_INIT_SHARED;
	}

	no_direct_map = kvm ? kvm_arch_gmem_supports_no_direct_map(kvm) :
			      kvm_arch_gmem_no_direct_map_any();
	if ((guestmem_supported_flags() & GUESTMEM_F_NO_DIRECT_MAP) &&
	    no_direct_map)
		flags |= GUEST_MEMFD_FLAG_NO_DIRECT_MAP;

	if ((guestmem_supported_flags() & GUESTMEM_F_HUGE) &&
	    (kvm ? kvm_arch_gmem_supports_hugepage(kvm) :
		   kvm_arch_gmem_hugepage_any()))
		flags |= GUEST_MEMFD_FLAG_HUGEPAGE;
	return flags;
}

int kvm_gmem_create(struct kvm *kvm, struct kvm_create_guest_memfd *args)
{
	unsigned long gflags = 0;
	loff_t size = args->size;
	struct file *file;
	int fd;

	if (args->flags & ~kvm_gmem_supported_flags(kvm))
		return -EINVAL;
	if (args->flags & GUEST_MEMFD_FLAG_NO_DIRECT_MAP)
		gflags |= GUESTMEM_F_NO_DIRECT_MAP;
	/* Best effort, any size: see Documentation/virt/kvm/api.rst. */
	if (args->flags & GUEST_MEMFD_FLAG_HUGEPAGE)
		gflags |= GUESTMEM_F_HUGE;
	if (kvm_arch_gmem_scrub(kvm))
		gflags |= GUESTMEM_F_SCRUB;
	/*
	 * Any subset of the supported flags is valid, as upstream.  Without
	 * MMAP the file keeps no shared/private state and the host cannot
	 * map it, so INIT_SHARED alone has nothing to act on: accepted, and
	 * the file is the same as one created without it.
	 */
	if (args->flags & GUEST_MEMFD_FLAG_MMAP) {
		gflags |= GUESTMEM_F_MMAP;
		if (args->flags & GUEST_MEMFD_FLAG_INIT_SHARED)
			gflags |= GUESTMEM_F_INIT_SHARED;
	}

	if (size <= 0 || !PAGE_ALIGNED(size))
		return -EINVAL;

	fd = get_unused_fd_flags(0);
	if (fd < 0)
		return fd;

	file = guestmem_file_create("[kvm-gmem]", size, gflags, &kvm_gmem_ops,
				    kvm);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return PTR_ERR(file);
	}

	/* Put by kvm_gmem_release(); nobody can close the file before. */
	kvm_get_kvm(kvm);
	fd_install(fd, file);
	return fd;
}

/*
 * The two steps of binding a new memslot, not yet visible to the guest,
 * both under kvm->slots_lock.  The first checks the file and the range
 * and gives the caller a reference to the file in slot->gmem.file, which
 * __kvm_set_memory_region() drops when the memslot is installed or
 * refused.  The second, once the architecture accepted the memslot, binds
 * the range.  Only the binding keeps the file's memory; the file may be
 * closed while the memslot lives on.
 */
int kvm_gmem_prepare_memory_region(struct kvm *kvm,
				   struct kvm_memory_slot *slot,
				   unsigned int fd, u64 offset)
{
	u64 size = slot->npages << PAGE_SHIFT;
	struct file *file;

	BUILD_BUG_ON(sizeof(gpa_t) != sizeof(offset));
	BUILD_BUG_ON(sizeof(gfn_t) != sizeof(slot->gmem.pgoff));

	file = fget(fd);
	if (!file)
		return -EBADF;

	if (guestmem_file_priv(file, &kvm_gmem_ops) != kvm ||
	    !PAGE_ALIGNED(offset) ||
	    offset + size > i_size_read(file_inode(file)))
		goto err;

	slot->gmem.gmem_only = guestmem_file_flags(file) & GUESTMEM_F_MMAP;
	/* A VM without private memory has only gmem-only memslots. */
	if (!slot->gmem.gmem_only && !kvm_arch_has_private_mem(kvm))
		goto err;

	slot->gmem.file = file;
	slot->gmem.kvm = kvm;
	slot->gmem.pgoff = offset >> PAGE_SHIFT;
	return 0;

err:
	fput(file);
	return -EINVAL;
}

int kvm_gmem_commit_memory_region(struct kvm *kvm, struct kvm_memory_slot *slot)
{
	lockdep_assert_held(&kvm->slots_lock);

	/* Two memslots never share a range of one guest_memfd: -EEXIST. */
	return guestmem_bind(slot->gmem.file, &slot->gmem.binding,
			     &kvm_gmem_ops, slot->gmem.pgoff, slot->npages,
			     GUESTMEM_BIND_EXCLUSIVE);
}

/*
 * Called when the memslot is freed (under kvm->slots_lock, or at VM
 * destruction), after synchronize_srcu() made sure kvm_gmem_get_pfn() no
 * longer sees it.
 */
void kvm_gmem_unbind(struct kvm_memory_slot *slot)
{
	guestmem_unbind(&slot->gmem.binding);
}

/*
 * The order the caller may map @folio with at @gfn: the folio's own only
 * if the folio lines up with the GFNs (its first page at a GFN aligned to
 * its size) and lies wholly inside the memslot's range of the file; 0
 * otherwise.  Every page of a large folio has the same shared/private
 * state (the library splits a folio before its pages part), so nothing
 * else has to be checked here; the architecture still checks the
 * memslot's own alignment and the VM's attributes (x86: lpage_info).
 */
static int kvm_gmem_max_order(struct kvm_memory_slot *slot, gfn_t gfn,
			      pgoff_t index, struct folio *folio)
{
	unsigned long nr = folio_nr_pages(folio);

	if (nr == 1 || (gfn ^ index) & (nr - 1))
		return 0;
	if (folio->index < slot->gmem.pgoff ||
	    folio->index + nr > slot->gmem.pgoff + slot->npages)
		return 0;
	return folio_order(folio);
}

int kvm_gmem_get_pfn(struct kvm *kvm, struct kvm_memory_slot *slot,
		     gfn_t gfn, kvm_pfn_t *pfn, int *max_order)
{
	pgoff_t index = kvm_gmem_get_index(slot, gfn);
	struct folio *folio;

	/*
	 * A racing invalidation is caught by the caller's
	 * mmu_invalidate_retry*() check, as for any other page.
	 */
	folio = guestmem_get_folio(&slot->gmem.binding, index,
				   GUESTMEM_GET_PREPARE);
	if (IS_ERR(folio))
		return PTR_ERR(folio);

	*pfn = folio_file_pfn(folio, index);
	if (max_order)
		*max_order = kvm_gmem_max_order(slot, gfn, index, folio);
	folio_unlock(folio);
	return 0;
}
EXPORT_SYMBOL_GPL(kvm_gmem_get_pfn);

#ifdef CONFIG_KVM_GENERIC_PRIVATE_MEM
long kvm_gmem_populate(struct kvm *kvm, gfn_t start_gfn, void __user *src, long npages,
		       kvm_gmem_populate_cb post_populate, void *opaque)
{
	struct guestmem_binding *binding;
	struct kvm_memory_slot *slot;
	int ret = 0, max_order;
	long i;

	lockdep_assert_held(&kvm->slots_lock);
	if (npages < 0)
		return -EINVAL;

	slot = gfn_to_memslot(kvm, start_gfn);
	if (!kvm_slot_can_be_private(slot))
		return -EINVAL;

	binding = &slot->gmem.binding;
	/* No punch hole may take a folio away between fill and prepare. */
	guestmem_lock(binding);

	npages = min_t(ulong, slot->npages - (start_gfn - slot->base_gfn), npages);
	for (i = 0; i < npages; i += (1 << max_order)) {
		gfn_t gfn = start_gfn + i;
		pgoff_t index = kvm_gmem_get_index(slot, gfn);
		struct folio *folio;
		void __user *p;
		kvm_pfn_t pfn;

		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}

		folio = guestmem_get_folio(binding, index, GUESTMEM_GET_UNPREPARED);
		if (IS_ERR(folio)) {
			ret = PTR_ERR(folio);
			break;
		}
		folio_unlock(folio);
		pfn = folio_file_pfn(folio, index);
		max_order = 0;

		ret = -EINVAL;
		while (!kvm_range_has_memory_attributes(kvm, gfn, gfn + (1 << max_order),
							KVM_MEMORY_ATTRIBUTE_PRIVATE,
							KVM_MEMORY_ATTRIBUTE_PRIVATE)) {
			if (!max_order)
				goto put_folio_and_exit;
			max_order--;
		}

		p = src ? src + i * PAGE_SIZE : NULL;
		ret = post_populate(kvm, gfn, pfn, p, max_order, opaque);
		if (!ret)
			guestmem_folio_mark_prepared(folio);

put_folio_and_exit:
		folio_put(folio);
		if (ret)
			break;
	}

	guestmem_unlock(binding);
	return ret && !i ? ret : i;
}
EXPORT_SYMBOL_GPL(kvm_gmem_populate);
#endif
