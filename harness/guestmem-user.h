/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the harness programs (harness/bench/, harness/demo/) share about
 * guestmem from userspace: the uAPI values older headers lack, and the
 * library's debugfs counters.
 */
#ifndef GUESTMEM_USER_H
#define GUESTMEM_USER_H

#include <stdio.h>

/* Upstream's capability number (6.18) and the proposed flag's value. */
#ifndef KVM_CAP_GUEST_MEMFD_FLAGS
#define KVM_CAP_GUEST_MEMFD_FLAGS	244
#endif
#ifndef GUEST_MEMFD_FLAG_NO_DIRECT_MAP
#define GUEST_MEMFD_FLAG_NO_DIRECT_MAP	0x4ULL
#endif
#ifndef GUEST_MEMFD_FLAG_MMAP
#define GUEST_MEMFD_FLAG_MMAP		0x1ULL
#define GUEST_MEMFD_FLAG_INIT_SHARED	0x2ULL
#endif

/*
 * The in-place conversion ioctl on a guest_memfd (our kernel; the values
 * of the upstream proposal), for the bench, built against stock headers.
 */
#ifndef KVM_SET_MEMORY_ATTRIBUTES2
struct kvm_memory_attributes2 {
	__u64 offset;
	__u64 size;
	__u64 attributes;
	__u64 flags;
	__u64 error_offset;
	__u64 reserved[11];
};

#define KVM_SET_MEMORY_ATTRIBUTES2	_IOWR(KVMIO, 0xd2, struct kvm_memory_attributes2)
#endif

/*
 * A counter of debugfs guestmem/ ("tlb_flushes", "pages_unmapped"), or -1
 * if the kernel has no such file.
 */
static inline long guestmem_stat(const char *name)
{
	char path[96];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/guestmem/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

#endif /* GUESTMEM_USER_H */
