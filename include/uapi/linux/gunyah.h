/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * Userspace interface of the Gunyah VM manager (/dev/gunyah).
 *
 * The ioctl numbers and structures are those of the Gunyah driver series
 * posted to linux-kernel (v17, February 2024) for the calls this driver
 * has; guest memory is a guestmem file (Documentation/virt/gunyah/).
 */
#ifndef _UAPI_LINUX_GUNYAH_H
#define _UAPI_LINUX_GUNYAH_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define GUNYAH_IOCTL_TYPE		'G'

/*
 * ioctls on /dev/gunyah
 */

/* Returns a new VM file descriptor; the argument must be 0. */
#define GUNYAH_CREATE_VM		_IO(GUNYAH_IOCTL_TYPE, 0x0)

/**
 * enum gunyah_mem_flags - flags of struct gunyah_create_mem_args
 * @GHMF_CLOEXEC: Close the new file descriptor on exec().
 * @GHMF_ALLOW_HUGEPAGE: Back the memory with huge pages where possible.
 *	Not supported yet: refused with -EINVAL.
 */
enum gunyah_mem_flags {
	GHMF_CLOEXEC		= (1UL << 0),
	GHMF_ALLOW_HUGEPAGE	= (1UL << 1),
};

/**
 * struct gunyah_create_mem_args - GUNYAH_CREATE_GUEST_MEM
 * @flags: enum gunyah_mem_flags.
 * @size: Size in bytes, a positive multiple of the page size.
 * @reserved: Must be zero.
 */
struct gunyah_create_mem_args {
	__u64 flags;
	__u64 size;
	__u64 reserved[6];
};

/* Returns a new guest memory file descriptor. */
#define GUNYAH_CREATE_GUEST_MEM	_IOW(GUNYAH_IOCTL_TYPE, 0x8, \
				     struct gunyah_create_mem_args)

/*
 * ioctls on a VM file descriptor
 */

/* Starts the VM; the argument must be 0. */
#define GUNYAH_VM_START			_IO(GUNYAH_IOCTL_TYPE, 0x3)

/**
 * enum gunyah_map_flags - flags of struct gunyah_map_mem_args
 * @GUNYAH_MEM_DEFAULT_ACCESS: Lend (the default of the resource manager,
 *	which wants every VM isolated).
 * @GUNYAH_MEM_FORCE_LEND: Lend: the host loses access until reclaim.
 * @GUNYAH_MEM_FORCE_SHARE: Share: host and VM both have access.
 * @GUNYAH_MEM_ALLOW_READ: The VM may read the memory (required).
 * @GUNYAH_MEM_ALLOW_WRITE: The VM may write it.
 * @GUNYAH_MEM_ALLOW_EXEC: The VM may execute from it.
 * @GUNYAH_MEM_ALLOW_RWX: All three.
 * @GUNYAH_MEM_UNMAP: Unmap (reclaim) the mapping at @guest_addr of
 *	@size instead; the other fields, and the access and right flags,
 *	are ignored (unknown flags are not).
 */
enum gunyah_map_flags {
	GUNYAH_MEM_DEFAULT_ACCESS	= 0,
	GUNYAH_MEM_FORCE_LEND		= 1,
	GUNYAH_MEM_FORCE_SHARE		= 2,
#define GUNYAH_MEM_ACCESS_MASK		0x7

	GUNYAH_MEM_ALLOW_READ		= 1UL << 4,
	GUNYAH_MEM_ALLOW_WRITE		= 1UL << 5,
	GUNYAH_MEM_ALLOW_EXEC		= 1UL << 6,
	GUNYAH_MEM_ALLOW_RWX		= (GUNYAH_MEM_ALLOW_READ |
					   GUNYAH_MEM_ALLOW_WRITE |
					   GUNYAH_MEM_ALLOW_EXEC),

	GUNYAH_MEM_UNMAP		= 1UL << 8,
};

/**
 * struct gunyah_map_mem_args - GUNYAH_VM_MAP_MEM
 * @guest_addr: Guest physical address of the mapping.
 * @flags: enum gunyah_map_flags.
 * @guest_mem_fd: A file descriptor from GUNYAH_CREATE_GUEST_MEM.
 * @offset: Offset in that file.
 * @size: Size of the mapping in bytes.
 *
 * Addresses, offset and size are multiples of the page size.
 */
struct gunyah_map_mem_args {
	__u64 guest_addr;
	__u32 flags;
	__u32 guest_mem_fd;
	__u64 offset;
	__u64 size;
};

#define GUNYAH_VM_MAP_MEM		_IOW(GUNYAH_IOCTL_TYPE, 0x9, \
					     struct gunyah_map_mem_args)

#endif /* _UAPI_LINUX_GUNYAH_H */
