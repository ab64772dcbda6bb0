// SPDX-License-Identifier: GPL-2.0-only
/*
 * Gunyah VM manager: /dev/gunyah creates VMs and guest memory; a VM lends
 * or shares ranges of guest memory with the resource manager (RM), which
 * gives them to the guest, and reclaims them.
 *
 * Guest memory is a guestmem file.  The library allocates it, keeps the
 * private pages out of the host's mappings and of the kernel direct map
 * (%GUESTMEM_F_NO_DIRECT_MAP_PRIVATE) and refuses pins on them; this file
 * only decides what to give the RM and when, in this order:
 *
 * - lend: the range becomes private in the file (guestmem_convert(): host
 *   mappings gone, out of the direct map, -EAGAIN if pinned), then the RM
 *   is asked (MEM_LEND); if it says no, the range is shared again;
 * - share: the range stays shared, the RM is asked (MEM_SHARE);
 * - reclaim: the RM is asked first (MEM_RECLAIM), and only when it agreed
 *   does a lent range become shared, host-accessible, again;
 * - a punch hole of a given range asks the RM to reclaim its parcel
 *   first, and fails with the RM's answer (-EBUSY while the VM holds it);
 *   the rest of a lent range stays private until it is unmapped;
 * - closing a guest memory file frees nothing that is given: each mapping
 *   holds a reference to the file.  Destroying the VM stops it, which
 *   makes the RM release what the VM held, and reclaims every mapping.
 *
 * Lifetimes and locking are described at struct gunyah_vm and struct
 * gunyah_mapping (vm_mgr.h).
 */

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/guestmem.h>
#include <linux/lockdep.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <kunit/visibility.h>
#include <linux/gunyah.h>

#include "rsc_mgr.h"
#include "vm_mgr.h"

/* The registered transport; VMs created through /dev/gunyah use it. */
static DEFINE_MUTEX(gunyah_rm_lock);
static struct gunyah_rm *gunyah_rm_current;

/**
 * gunyah_rm_register - make a resource manager the one /dev/gunyah uses
 * @rm: The resource manager, with its transport.
 *
 * Context: Process context, may sleep.
 * Return: 0, or -EBUSY if another one is registered.
 */
int gunyah_rm_register(struct gunyah_rm *rm)
{
	int ret = 0;

	mutex_lock(&gunyah_rm_lock);
	if (gunyah_rm_current)
		ret = -EBUSY;
	else
		gunyah_rm_current = rm;
	mutex_unlock(&gunyah_rm_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(gunyah_rm_register);

/**
 * gunyah_rm_unregister - undo gunyah_rm_register()
 * @rm: The registered resource manager.
 *
 * Every VM holds a reference to the transport's module, so this runs only
 * once no VM uses @rm.
 *
 * Context: Process context, may sleep.
 */
void gunyah_rm_unregister(struct gunyah_rm *rm)
{
	mutex_lock(&gunyah_rm_lock);
	WARN_ON(gunyah_rm_current != rm);
	gunyah_rm_current = NULL;
	mutex_unlock(&gunyah_rm_lock);
}
EXPORT_SYMBOL_GPL(gunyah_rm_unregister);

/* A guest memory file; only its identity matters (guestmem_file_priv()). */
struct gunyah_gmem {
	u64 size;
};

static void gunyah_gmem_release(void *priv)
{
	kfree(priv);
}

/*
 * A punch hole of a range given to the RM: the parcel must come back
 * before its pages are freed.  The RM reclaims parcels whole, so the VM
 * loses all of the mapping; what the punch hole does not free stays
 * private until the VMM unmaps it.
 */
static int gunyah_gmem_punch_hole(struct guestmem_binding *binding,
				  pgoff_t start, pgoff_t end)
{
	struct gunyah_mapping *m = container_of(binding, struct gunyah_mapping,
						binding);
	int ret;

	lockdep_assert_held_write(&m->file->f_mapping->invalidate_lock);
	if (m->handle == GUNYAH_MEM_HANDLE_INVAL)
		return 0;
	/* Left behind by a VM that could not get it back (below). */
	if (!m->vm)
		return -EBUSY;
	ret = gunyah_rm_mem_reclaim(m->vm->rm, m->handle);
	if (!ret)
		m->handle = GUNYAH_MEM_HANDLE_INVAL;
	return ret;
}

/* Only this file converts, and never a range the RM has. */
static int gunyah_gmem_convert(struct guestmem_binding *binding, pgoff_t start,
			       pgoff_t end, bool to_private)
{
	struct gunyah_mapping *m = container_of(binding, struct gunyah_mapping,
						binding);

	return m->handle == GUNYAH_MEM_HANDLE_INVAL ? 0 : -EBUSY;
}

VISIBLE_IF_KUNIT const struct guestmem_ops gunyah_gmem_ops = {
	.owner		= THIS_MODULE,
	.release	= gunyah_gmem_release,
	.convert	= gunyah_gmem_convert,
	.punch_hole	= gunyah_gmem_punch_hole,
};
EXPORT_SYMBOL_IF_KUNIT(gunyah_gmem_ops);

/**
 * gunyah_gmem_create - create guest memory
 * @size: Size in bytes, a positive multiple of the page size.
 * @flags: enum gunyah_mem_flags; only %GHMF_CLOEXEC, which the caller
 *	applies to the descriptor.
 *
 * A guestmem file whose pages start shared: the VMM loads the guest's
 * image through mmap() before it lends the memory.  Where the direct map
 * can be changed, private (lent) pages are kept out of it.
 *
 * Context: Process context, may sleep.
 * Return: The file, or ERR_PTR(-EINVAL) for a bad size or flag,
 * ERR_PTR(-ENOMEM).
 */
VISIBLE_IF_KUNIT struct file *gunyah_gmem_create(u64 size, u64 flags)
{
	unsigned long gflags = GUESTMEM_F_MMAP | GUESTMEM_F_INIT_SHARED;
	struct gunyah_gmem *g;
	struct file *file;

	if ((flags & ~GHMF_CLOEXEC) || !size || !PAGE_ALIGNED(size) ||
	    size > MAX_LFS_FILESIZE)
		return ERR_PTR(-EINVAL);
	gflags |= guestmem_supported_flags() & GUESTMEM_F_NO_DIRECT_MAP_PRIVATE;
	g = kzalloc(sizeof(*g), GFP_KERNEL_ACCOUNT);
	if (!g)
		return ERR_PTR(-ENOMEM);
	g->size = size;
	file = guestmem_file_create("[gunyah-guest-mem]", size, gflags,
				    &gunyah_gmem_ops, g);
	if (IS_ERR(file))
		kfree(g);
	return file;
}
EXPORT_SYMBOL_IF_KUNIT(gunyah_gmem_create);

/**
 * gunyah_vm_create - create a VM in a resource manager
 * @rm: The resource manager.
 *
 * Context: Process context, may sleep.
 * Return: The VM, or an ERR_PTR(): -ENODEV if @rm's transport is going
 * away, -ENOMEM, or the RM's answer to VM_ALLOC_VMID or VM_GET_VMID.
 */
VISIBLE_IF_KUNIT struct gunyah_vm *gunyah_vm_create(struct gunyah_rm *rm)
{
	struct gunyah_vm *vm;
	int ret;

	if (!try_module_get(rm->ops->owner))
		return ERR_PTR(-ENODEV);
	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm) {
		ret = -ENOMEM;
		goto out_put;
	}
	vm->rm = rm;
	mutex_init(&vm->lock);
	INIT_LIST_HEAD(&vm->mappings);
	ret = gunyah_rm_get_vmid(rm, &vm->host_vmid);
	if (ret)
		goto out_free;
	ret = gunyah_rm_alloc_vmid(rm, &vm->vmid);
	if (ret)
		goto out_free;
	return vm;

out_free:
	kfree(vm);
out_put:
	module_put(rm->ops->owner);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_IF_KUNIT(gunyah_vm_create);

/**
 * gunyah_vm_start - start a VM
 * @vm: The VM.
 *
 * Context: Process context, may sleep.
 * Return: 0 (also when it runs already), or the RM's answer to VM_START.
 */
VISIBLE_IF_KUNIT int gunyah_vm_start(struct gunyah_vm *vm)
{
	int ret = 0;

	mutex_lock(&vm->lock);
	if (!vm->started) {
		ret = gunyah_rm_vm_start(vm->rm, vm->vmid);
		vm->started = !ret;
	}
	mutex_unlock(&vm->lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(gunyah_vm_start);

/*
 * Hand the pages of @m to the RM as one parcel: each page is allocated
 * (zeroed on first use) and found under guestmem_lock(), so that no punch
 * hole frees one between the lookup and the RM's answer.
 */
static int gunyah_vm_give(struct gunyah_vm *vm, struct gunyah_mapping *m)
{
	pgoff_t index = m->binding.start, end = m->binding.end;
	struct gunyah_rm_mem_range *ranges;
	unsigned int nr = 0;
	struct folio *folio;
	u32 handle;
	int ret = 0;

	ranges = kvmalloc_array(end - index, sizeof(*ranges),
				GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!ranges)
		return -ENOMEM;

	guestmem_lock(&m->binding);
	while (index < end) {
		pgoff_t next;
		phys_addr_t phys;

		folio = guestmem_get_folio(&m->binding, index,
					   GUESTMEM_GET_PREPARE);
		if (IS_ERR(folio)) {
			ret = PTR_ERR(folio);
			break;
		}
		phys = page_to_phys(folio_file_page(folio, index));
		next = min(folio_next_index(folio), end);
		folio_unlock(folio);
		folio_put(folio);

		if (nr && ranges[nr - 1].phys + ranges[nr - 1].size == phys) {
			ranges[nr - 1].size += (next - index) << PAGE_SHIFT;
		} else {
			ranges[nr].phys = phys;
			ranges[nr].size = (u64)(next - index) << PAGE_SHIFT;
			nr++;
		}
		index = next;
	}
	if (!ret) {
		handle = GUNYAH_MEM_HANDLE_INVAL;
		ret = gunyah_rm_mem_give(vm->rm, m->lend, vm->vmid, m->perms,
					 vm->host_vmid, vm->next_label, ranges,
					 nr, &handle);
		/* On failure, a parcel the RM would not give back. */
		m->handle = handle;
		vm->next_label++;
	}
	guestmem_unlock(&m->binding);
	kvfree(ranges);
	return ret;
}

/* Asks the RM for @m's parcel back; nothing changes when it refuses. */
static int gunyah_vm_reclaim(struct gunyah_vm *vm, struct gunyah_mapping *m)
{
	int ret = 0;

	guestmem_lock(&m->binding);
	if (m->handle != GUNYAH_MEM_HANDLE_INVAL) {
		ret = gunyah_rm_mem_reclaim(vm->rm, m->handle);
		if (!ret)
			m->handle = GUNYAH_MEM_HANDLE_INVAL;
	}
	guestmem_unlock(&m->binding);
	return ret;
}

/* @m was reclaimed: the host gets its pages back, @m goes. */
static void gunyah_vm_unmap_done(struct gunyah_vm *vm, struct gunyah_mapping *m)
{
	lockdep_assert_held(&vm->lock);

	/* Cannot fail: no binding refuses, and shared needs no check. */
	if (m->lend)
		WARN_ON(guestmem_convert(m->file, m->binding.start,
					 m->binding.end - m->binding.start,
					 false, 0, NULL));
	list_del(&m->entry);
	guestmem_unbind(&m->binding);
	fput(m->file);
	kfree(m);
}

static int gunyah_vm_unmap(struct gunyah_vm *vm,
			   const struct gunyah_map_mem_args *args)
{
	struct gunyah_mapping *m;
	int ret = -ENOENT;

	mutex_lock(&vm->lock);
	list_for_each_entry(m, &vm->mappings, entry) {
		if (m->guest_addr != args->guest_addr)
			continue;
		if (m->size != args->size) {
			ret = -EINVAL;
			break;
		}
		ret = gunyah_vm_reclaim(vm, m);
		if (!ret)
			gunyah_vm_unmap_done(vm, m);
		break;
	}
	mutex_unlock(&vm->lock);
	return ret;
}

static u8 gunyah_map_perms(u32 flags)
{
	return (flags & GUNYAH_MEM_ALLOW_READ ? GUNYAH_RM_ACL_R : 0) |
	       (flags & GUNYAH_MEM_ALLOW_WRITE ? GUNYAH_RM_ACL_W : 0) |
	       (flags & GUNYAH_MEM_ALLOW_EXEC ? GUNYAH_RM_ACL_X : 0);
}

/* Under the VM's lock: whether [addr, addr + size) meets a mapping. */
static bool gunyah_vm_overlaps(struct gunyah_vm *vm, u64 addr, u64 size)
{
	struct gunyah_mapping *m;

	list_for_each_entry(m, &vm->mappings, entry)
		if (addr < m->guest_addr + m->size && m->guest_addr < addr + size)
			return true;
	return false;
}

static int gunyah_vm_map(struct gunyah_vm *vm,
			 const struct gunyah_map_mem_args *args,
			 struct file *file)
{
	u32 access = args->flags & GUNYAH_MEM_ACCESS_MASK;
	pgoff_t start = args->offset >> PAGE_SHIFT;
	pgoff_t nr = args->size >> PAGE_SHIFT;
	struct gunyah_mapping *m;
	int ret;

	if (!guestmem_file_priv(file, &gunyah_gmem_ops))
		return -EINVAL;
	m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);
	if (!m)
		return -ENOMEM;
	m->vm = vm;
	m->guest_addr = args->guest_addr;
	m->size = args->size;
	m->lend = access != GUNYAH_MEM_FORCE_SHARE;
	m->perms = gunyah_map_perms(args->flags);
	m->handle = GUNYAH_MEM_HANDLE_INVAL;
	/* Lent pages must leave the direct map (see the rst). */
	if (m->lend &&
	    !(guestmem_file_flags(file) & GUESTMEM_F_NO_DIRECT_MAP_PRIVATE)) {
		ret = -EINVAL;
		goto out_free;
	}

	mutex_lock(&vm->lock);
	if (gunyah_vm_overlaps(vm, args->guest_addr, args->size)) {
		ret = -EEXIST;
		goto out_unlock;
	}
	/* Set before the binding is published: ->punch_hole() reads it. */
	m->file = get_file(file);
	ret = guestmem_bind(file, &m->binding, &gunyah_gmem_ops, start, nr,
			    GUESTMEM_BIND_EXCLUSIVE);
	if (ret)
		goto out_fput;
	if (m->lend) {
		ret = guestmem_convert(file, start, nr, true, 0, NULL);
		if (ret)
			goto out_unbind;
	}
	ret = gunyah_vm_give(vm, m);
	if (ret && m->handle != GUNYAH_MEM_HANDLE_INVAL) {
		/*
		 * The RM kept part of a parcel it could not complete: the
		 * pages are not the host's, so the mapping stays, for an
		 * unmap or the VM's destruction to reclaim.
		 */
		list_add_tail(&m->entry, &vm->mappings);
		mutex_unlock(&vm->lock);
		return ret;
	}
	if (ret) {
		if (m->lend)
			WARN_ON(guestmem_convert(file, start, nr, false, 0,
						 NULL));
		goto out_unbind;
	}
	list_add_tail(&m->entry, &vm->mappings);
	mutex_unlock(&vm->lock);
	return 0;

out_unbind:
	guestmem_unbind(&m->binding);
out_fput:
	fput(m->file);
out_unlock:
	mutex_unlock(&vm->lock);
out_free:
	kfree(m);
	return ret;
}

/**
 * gunyah_vm_map_mem - GUNYAH_VM_MAP_MEM: lend, share or reclaim memory
 * @vm: The VM.
 * @args: What to map, or, with %GUNYAH_MEM_UNMAP, which mapping to end.
 * @file: The file of @args->guest_mem_fd; ignored for an unmap.
 *
 * Context: Process context, may sleep.
 * Return: 0 on success.  -EINVAL for a bad argument (unknown flags, an
 * access mode other than default, lend or share, no read right, an
 * unaligned or empty range, a file that is not Gunyah guest memory, a lend
 * where the direct map cannot be changed, an unmap whose size is not the
 * mapping's); -EEXIST if the guest range or
 * the file range is mapped already; -EAGAIN if the host pins a page to be
 * lent; -ENOENT for an unmap of no mapping; -EBUSY if the RM will not give
 * a parcel back yet; -ENOMEM; or another answer of the RM.
 */
VISIBLE_IF_KUNIT int gunyah_vm_map_mem(struct gunyah_vm *vm,
				       const struct gunyah_map_mem_args *args,
				       struct file *file)
{
	u32 known = GUNYAH_MEM_ACCESS_MASK | GUNYAH_MEM_ALLOW_RWX |
		    GUNYAH_MEM_UNMAP;
	u64 end;

	if (args->flags & ~known)
		return -EINVAL;
	if (args->flags & GUNYAH_MEM_UNMAP)
		return gunyah_vm_unmap(vm, args);
	if ((args->flags & GUNYAH_MEM_ACCESS_MASK) > GUNYAH_MEM_FORCE_SHARE ||
	    !(args->flags & GUNYAH_MEM_ALLOW_READ))
		return -EINVAL;
	if (!args->size || !PAGE_ALIGNED(args->guest_addr) ||
	    !PAGE_ALIGNED(args->offset) || !PAGE_ALIGNED(args->size) ||
	    check_add_overflow(args->guest_addr, args->size, &end) ||
	    check_add_overflow(args->offset, args->size, &end))
		return -EINVAL;
	return gunyah_vm_map(vm, args, file);
}
EXPORT_SYMBOL_IF_KUNIT(gunyah_vm_map_mem);

/**
 * gunyah_vm_destroy - stop a VM, take all its memory back and free it
 * @vm: The VM.
 *
 * A forced VM_STOP makes the RM release whatever the VM held, then every
 * mapping is reclaimed and the VMID given back.  A parcel the RM still
 * refuses to give back is left as it is, with its pages private and out
 * of the direct map, and the file they belong to is never freed: they
 * are not the host's to reuse.
 *
 * Context: Process context, may sleep.
 */
VISIBLE_IF_KUNIT void gunyah_vm_destroy(struct gunyah_vm *vm)
{
	struct gunyah_mapping *m, *tmp;
	int ret;

	mutex_lock(&vm->lock);
	if (vm->started) {
		ret = gunyah_rm_vm_stop(vm->rm, vm->vmid);
		if (ret)
			pr_warn("gunyah: VM %u did not stop: %d\n", vm->vmid, ret);
	}
	list_for_each_entry_safe(m, tmp, &vm->mappings, entry) {
		ret = gunyah_vm_reclaim(vm, m);
		if (ret) {
			pr_warn("gunyah: VM %u keeps %llu bytes at 0x%llx: %d\n",
				vm->vmid, m->size, m->guest_addr, ret);
			list_del(&m->entry);
			/* Its file and binding stay; callbacks see no VM. */
			guestmem_lock(&m->binding);
			m->vm = NULL;
			guestmem_unlock(&m->binding);
			continue;
		}
		gunyah_vm_unmap_done(vm, m);
	}
	mutex_unlock(&vm->lock);
	ret = gunyah_rm_dealloc_vmid(vm->rm, vm->vmid);
	if (ret)
		pr_warn("gunyah: VMID %u not deallocated: %d\n", vm->vmid, ret);
	module_put(vm->rm->ops->owner);
	mutex_destroy(&vm->lock);
	kfree(vm);
}
EXPORT_SYMBOL_IF_KUNIT(gunyah_vm_destroy);

static long gunyah_vm_ioctl(struct file *vm_file, unsigned int cmd,
			    unsigned long arg)
{
	struct gunyah_vm *vm = vm_file->private_data;
	struct gunyah_map_mem_args args;
	struct file *file;
	long ret;

	switch (cmd) {
	case GUNYAH_VM_START:
		if (arg)
			return -EINVAL;
		return gunyah_vm_start(vm);
	case GUNYAH_VM_MAP_MEM:
		if (copy_from_user(&args, (void __user *)arg, sizeof(args)))
			return -EFAULT;
		if (args.flags & GUNYAH_MEM_UNMAP)
			return gunyah_vm_map_mem(vm, &args, NULL);
		file = fget(args.guest_mem_fd);
		if (!file)
			return -EBADF;
		ret = gunyah_vm_map_mem(vm, &args, file);
		fput(file);
		return ret;
	default:
		return -ENOTTY;
	}
}

static int gunyah_vm_release(struct inode *inode, struct file *vm_file)
{
	gunyah_vm_destroy(vm_file->private_data);
	return 0;
}

static const struct file_operations gunyah_vm_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= gunyah_vm_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.release	= gunyah_vm_release,
	.llseek		= noop_llseek,
};

static long gunyah_dev_create_vm(unsigned long arg)
{
	struct gunyah_rm *rm;
	struct gunyah_vm *vm;
	int fd;

	if (arg)
		return -EINVAL;
	mutex_lock(&gunyah_rm_lock);
	rm = gunyah_rm_current;
	vm = rm ? gunyah_vm_create(rm) : ERR_PTR(-ENODEV);
	mutex_unlock(&gunyah_rm_lock);
	if (IS_ERR(vm))
		return PTR_ERR(vm);
	fd = anon_inode_getfd("gunyah-vm", &gunyah_vm_fops, vm,
			      O_RDWR | O_CLOEXEC);
	if (fd < 0)
		gunyah_vm_destroy(vm);
	return fd;
}

static long gunyah_dev_create_mem(unsigned long arg)
{
	struct gunyah_create_mem_args args;
	struct file *file;
	unsigned int i;
	int fd;

	if (copy_from_user(&args, (void __user *)arg, sizeof(args)))
		return -EFAULT;
	for (i = 0; i < ARRAY_SIZE(args.reserved); i++)
		if (args.reserved[i])
			return -EINVAL;
	file = gunyah_gmem_create(args.size, args.flags);
	if (IS_ERR(file))
		return PTR_ERR(file);
	fd = get_unused_fd_flags(args.flags & GHMF_CLOEXEC ? O_CLOEXEC : 0);
	if (fd < 0) {
		fput(file);
		return fd;
	}
	fd_install(fd, file);
	return fd;
}

static long gunyah_dev_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	switch (cmd) {
	case GUNYAH_CREATE_VM:
		return gunyah_dev_create_vm(arg);
	case GUNYAH_CREATE_GUEST_MEM:
		return gunyah_dev_create_mem(arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations gunyah_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= gunyah_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice gunyah_dev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "gunyah",
	.fops	= &gunyah_dev_fops,
};

module_misc_device(gunyah_dev);

MODULE_DESCRIPTION("Gunyah VM manager on guestmem");
MODULE_LICENSE("GPL");
