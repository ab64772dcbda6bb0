/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Gunyah VM manager's objects, shared by vm_mgr.c and its KUnit suite.
 */
#ifndef _GUNYAH_VM_MGR_H
#define _GUNYAH_VM_MGR_H

#include <linux/guestmem.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>

struct file;
struct gunyah_map_mem_args;
struct gunyah_rm;

/**
 * struct gunyah_vm - a VM of the resource manager
 * @rm: The resource manager it lives in; the VM holds a reference to its
 *	transport's module.
 * @vmid: Its VMID, from VM_ALLOC_VMID.
 * @host_vmid: The host's VMID, listed in the ACL of shared parcels.
 * @lock: Protects @mappings, @started and @next_label.  Taken before the
 *	invalidate lock of any guest memory file (guestmem_lock(),
 *	guestmem_convert(), guestmem_bind()); never taken by a guestmem
 *	callback.
 * @mappings: struct gunyah_mapping of the VM, by guest address.
 * @started: VM_START succeeded.
 * @next_label: Label of the next parcel.
 */
struct gunyah_vm {
	struct gunyah_rm *rm;
	u16 vmid;
	u16 host_vmid;
	struct mutex lock;	/* see above */
	struct list_head mappings;
	bool started;
	u32 next_label;
};

/**
 * struct gunyah_mapping - a range of guest memory given to a VM
 * @binding: The range of the guest memory file, bound exclusively: a page
 *	is given to at most one VM, once.
 * @entry: On the VM's @mappings, under its lock.
 * @vm: The VM; NULL once the VM is gone and left the mapping behind
 *	because the RM would not give it back (written like @handle).
 * @file: The guest memory file; the mapping holds a reference, so that
 *	closing its descriptor cannot free memory the VM has.
 * @guest_addr: Guest physical address of the range.
 * @size: Its size in bytes.
 * @lend: Lent (private in the file while mapped) or shared.
 * @perms: GUNYAH_RM_ACL_* rights of the VM.
 * @handle: The RM's parcel, or %GUNYAH_MEM_HANDLE_INVAL when nothing is
 *	given (before the RM accepted it, after a reclaim).  Written with
 *	the file's invalidate lock held exclusive (guestmem_lock() under the
 *	VM's lock, or in the ->punch_hole() callback), so either reads it
 *	stable.
 */
struct gunyah_mapping {
	struct guestmem_binding binding;
	struct list_head entry;
	struct gunyah_vm *vm;
	struct file *file;
	u64 guest_addr;
	u64 size;
	bool lend;
	u8 perms;
	u32 handle;
};

/* The VM manager's entry points below its ioctls, for its KUnit suite. */
#if IS_ENABLED(CONFIG_KUNIT)
struct gunyah_vm *gunyah_vm_create(struct gunyah_rm *rm);
void gunyah_vm_destroy(struct gunyah_vm *vm);
int gunyah_vm_start(struct gunyah_vm *vm);
int gunyah_vm_map_mem(struct gunyah_vm *vm,
		      const struct gunyah_map_mem_args *args, struct file *file);
struct file *gunyah_gmem_create(u64 size, u64 flags);
extern const struct guestmem_ops gunyah_gmem_ops;
#endif

#endif /* _GUNYAH_VM_MGR_H */
