// SPDX-License-Identifier: GPL-2.0
/*
 * gmem-convert: latency of a shared<->private conversion of 4 KiB and of
 * 2 MiB of guest memory on a software-protected VM
 * (KVM_X86_SW_PROTECTED_VM), in both directions.
 *
 * vmattr/  KVM_SET_MEMORY_ATTRIBUTES on the VM, the only conversion stock
 *          6.12 has: the range of a guest_memfd memslot flips between
 *          PRIVATE and shared in the VM's attributes (KVM zaps its
 *          mappings; the memory does not move).  Runs on both kernels.
 * inplace/ KVM_SET_MEMORY_ATTRIBUTES2 on a guest_memfd created with
 *          GUEST_MEMFD_FLAG_MMAP and bound to a memslot: the library
 *          unmaps the host's mappings, checks the folio references,
 *          invalidates KVM's mappings and flips the page state.
 * inplace_nodm/  The same on a file that also has
 *          GUEST_MEMFD_FLAG_NO_DIRECT_MAP: each conversion also moves the
 *          pages out of (one TLB flush) or back into the direct map.
 * The in-place figures exist only where KVM offers the flags (our
 * kernel).  The range is populated (fallocate) before timing, so that
 * every conversion has folios to check and move; the host maps the file
 * but never touches it.
 *
 * Prints BENCH lines as gmem-populate does: the median of ITERS
 * conversions in each direction, then its minimum and maximum.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/kvm.h>

#include "guestmem_util.h"

#define GPA		0x10000000ul
#define SIZE		(4ul << 20)
#define ITERS		101

static int vm;

static void die(const char *what)
{
	printf("gmem-convert: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *prefix, const char *name, double *v)
{
	qsort(v, ITERS, sizeof(*v), cmp);
	printf("BENCH %s%s %.2f us\n", prefix, name, v[ITERS / 2]);
	printf("BENCH %s%s_min %.2f us\n", prefix, name, v[0]);
	printf("BENCH %s%s_max %.2f us\n", prefix, name, v[ITERS - 1]);
}

/* One conversion of [0, len) of the memslot / file; -1 on failure. */
static int convert(int gfd, __u64 len, int private)
{
	__u64 attrs = private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0;
	struct kvm_memory_attributes a = {
		.address = GPA, .size = len, .attributes = attrs,
	};
	struct kvm_memory_attributes2 a2 = { .size = len, .attributes = attrs };

	if (gfd < 0)
		return ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &a);
	return ioctl(gfd, KVM_SET_MEMORY_ATTRIBUTES2, &a2);
}

/*
 * Times ITERS round trips private -> shared -> private over [0, len),
 * after one untimed round trip (the first conversion after population
 * drains the per-CPU LRU batches).
 */
static void bench_range(int gfd, __u64 len, const char *prefix, const char *size)
{
	double to_shared[ITERS], to_private[ITERS], t;
	char name[64];
	int i;

	if (convert(gfd, len, 0) || convert(gfd, len, 1))
		die("untimed conversion");
	for (i = 0; i < ITERS; i++) {
		t = now_us();
		if (convert(gfd, len, 0))
			die("conversion to shared");
		to_shared[i] = now_us() - t;
		t = now_us();
		if (convert(gfd, len, 1))
			die("conversion to private");
		to_private[i] = now_us() - t;
	}
	snprintf(name, sizeof(name), "convert_%s_to_shared", size);
	report(prefix, name, to_shared);
	snprintf(name, sizeof(name), "convert_%s_to_private", size);
	report(prefix, name, to_private);
}

static void bench_file(__u64 flags, const char *prefix)
{
	int gfd, inplace = flags & GUEST_MEMFD_FLAG_MMAP;
	void *shared;

	gfd = gmu_create_gmem(vm, SIZE, flags);
	if (gfd < 0)
		die("KVM_CREATE_GUEST_MEMFD");
	if (fallocate(gfd, FALLOC_FL_KEEP_SIZE, 0, SIZE))
		die("fallocate");
	if (inplace)
		shared = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, gfd, 0);
	else
		shared = mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (shared == MAP_FAILED)
		die("mmap");

	if (gmu_set_region(vm, 1, KVM_MEM_GUEST_MEMFD, GPA, SIZE, shared, gfd, 0))
		die("KVM_SET_USER_MEMORY_REGION2");

	bench_range(inplace ? gfd : -1, 4096, prefix, "4KiB");
	bench_range(inplace ? gfd : -1, 2ul << 20, prefix, "2MiB");

	if (gmu_delete_region(vm, 1))
		die("KVM_SET_USER_MEMORY_REGION2 (delete)");
	munmap(shared, SIZE);
	close(gfd);
}

int main(void)
{
	__u64 flags;
	int kvm;

	vm = gmu_create_vm(&kvm, KVM_X86_SW_PROTECTED_VM, die);
	if (vm < 0) {
		printf("gmem-convert: KVM_X86_SW_PROTECTED_VM is not supported\n");
		return 1;
	}

	bench_file(0, "vmattr/");

	flags = gmu_gmem_flags(vm);
	if (flags & GUEST_MEMFD_FLAG_MMAP) {
		bench_file(GUEST_MEMFD_FLAG_MMAP, "inplace/");
		if (flags & GUEST_MEMFD_FLAG_NO_DIRECT_MAP)
			bench_file(GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_NO_DIRECT_MAP,
				   "inplace_nodm/");
	}

	close(vm);
	close(kvm);
	return 0;
}
