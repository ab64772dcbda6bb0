// SPDX-License-Identifier: GPL-2.0
/*
 * secret_hiding_test: the flow of a VMM that hides its guest's memory from
 * the host kernel (as Firecracker's secret-hiding VMs do), step by step:
 *
 *  1. KVM_CAP_GUEST_MEMFD_FLAGS on /dev/kvm and on a default VM (type 0)
 *     both offer MMAP | INIT_SHARED | NO_DIRECT_MAP (0x7);
 *  2. all of the guest's RAM is one guest_memfd created with 0x7;
 *  3. the VMM maps it MAP_SHARED | MAP_FIXED over a 2 MiB aligned
 *     PROT_NONE reservation;
 *  4. one gmem-only memslot covers it, userspace_addr = that mapping;
 *  5. a guest that enables kvm-clock and steal time inside that memory
 *     reads its clock, writes to its memory, and does an MMIO write that
 *     KVM emulates by reading the source operand from guest memory;
 *  6. the VMM checks the guest's writes through its mapping, and checks in
 *     the guest_memfd's fdinfo that every page is out of the kernel direct
 *     map while the guest runs; GUP of the mapping is refused.
 *
 * kvm-clock is what breaks without direct-map-less support in KVM: its
 * pfn cache pins the page, which GUP refuses here (KVM then writes the
 * clock through the mapping).  The guest's clock must be within the host
 * time measured around it, not zero.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "../kselftest_harness.h"
#include "guestmem_util.h"

#ifdef __x86_64__

#define SZ_2M			(2UL << 20)
#define MEM_SIZE		(4UL << 20)	/* all of the guest's RAM */
#define GMEM_ALL_FLAGS		(GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED | \
				 GUEST_MEMFD_FLAG_NO_DIRECT_MAP)

/* Guest physical layout; real mode, DS base 0. */
#define CODE_GPA		0x1000
#define PVCLOCK_GPA		0x2000
#define STEAL_GPA		0x3000
#define RESULT_GPA		0x4000
#define SRC_GPA			0x5000
#define MMIO_GPA		(MEM_SIZE + 0x1000)	/* no memslot: ES base */
#define PORT_DONE		0x20

/* Where the guest copies what it read (RESULT_GPA + ...). */
#define RES_TSC			0	/* rdtsc after reading the clock */
#define RES_PVCLOCK		8	/* struct pvclock_vcpu_time_info, 32 bytes */
#define RES_STEAL		40	/* first 16 bytes of struct kvm_steal_time */
#define RES_MARKER		60

#define MARKER			0x5ec2e7edu
#define PATTERN			0xfeedf00du

/* <asm/kvm_para.h> */
#define MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01
#define MSR_KVM_STEAL_TIME	0x4b564d03

#define STR(x)			#x
#define XSTR(x)			STR(x)

/* <asm/pvclock-abi.h>; packed there, but without holes anyway */
struct pvclock_vcpu_time_info {
	__u32 version;
	__u32 pad0;
	__u64 tsc_timestamp;
	__u64 system_time;
	__u32 tsc_to_system_mul;
	__s8 tsc_shift;
	__u8 flags;
	__u8 pad[2];
};

static_assert(sizeof(struct pvclock_vcpu_time_info) == 32, "pvclock ABI");

/*
 * The guest, 16-bit real mode, entered at CODE_GPA with CS and DS based at
 * 0 and ES based at MMIO_GPA.  Every access but the MMIO write is to its
 * RAM, i.e. the guest_memfd.  The code goes to .rodata; this returns where.
 */
static void guest_code_range(const char **start, const char **end)
{
	asm("	.pushsection .rodata\n"
	    "	.code16\n"
	    "1:\n"
	    /* kvm-clock and steal time, both in guest RAM */
	    "	movl	$" XSTR(MSR_KVM_SYSTEM_TIME_NEW) ", %%ecx\n"
	    "	movl	$" XSTR(PVCLOCK_GPA) " + 1, %%eax\n"
	    "	xorl	%%edx, %%edx\n"
	    "	wrmsr\n"
	    "	movl	$" XSTR(MSR_KVM_STEAL_TIME) ", %%ecx\n"
	    "	movl	$" XSTR(STEAL_GPA) " + 1, %%eax\n"
	    "	wrmsr\n"
	    /*
	     * Read the clock as pvclock readers do: the version, the data,
	     * the TSC, and the version again; again if it changed or is odd
	     * (KVM may update it at any exit).  The result page is faulted
	     * in first.  A clock KVM never wrote reads version 0.
	     */
	    "	movl	$0, " XSTR(RESULT_GPA) " + " XSTR(RES_MARKER) "\n"
	    "5:	movl	" XSTR(PVCLOCK_GPA) ", %%esi\n"
	    "	xorw	%%bx, %%bx\n"
	    "3:	movl	" XSTR(PVCLOCK_GPA) "(%%bx), %%eax\n"
	    "	movl	%%eax, " XSTR(RESULT_GPA) " + " XSTR(RES_PVCLOCK) "(%%bx)\n"
	    "	addw	$4, %%bx\n"
	    "	cmpw	$32, %%bx\n"
	    "	jb	3b\n"
	    "	rdtsc\n"
	    "	movl	%%eax, " XSTR(RESULT_GPA) " + " XSTR(RES_TSC) "\n"
	    "	movl	%%edx, " XSTR(RESULT_GPA) " + " XSTR(RES_TSC) " + 4\n"
	    "	movl	" XSTR(PVCLOCK_GPA) ", %%eax\n"
	    "	cmpl	%%eax, %%esi\n"
	    "	jne	5b\n"
	    "	testl	$1, %%esi\n"
	    "	jnz	5b\n"
	    "	xorw	%%bx, %%bx\n"
	    "4:	movl	" XSTR(STEAL_GPA) "(%%bx), %%eax\n"
	    "	movl	%%eax, " XSTR(RESULT_GPA) " + " XSTR(RES_STEAL) "(%%bx)\n"
	    "	addw	$4, %%bx\n"
	    "	cmpw	$16, %%bx\n"
	    "	jb	4b\n"
	    "	movl	$" XSTR(MARKER) ", " XSTR(RESULT_GPA) " + " XSTR(RES_MARKER) "\n"
	    /* an emulated MMIO write whose data KVM reads from guest RAM */
	    "	cld\n"
	    "	movw	$" XSTR(SRC_GPA) ", %%si\n"
	    "	xorw	%%di, %%di\n"
	    "	movsl\n"
	    "	outb	%%al, $" XSTR(PORT_DONE) "\n"
	    "	hlt\n"
	    "2:\n"
	    "	.code64\n"
	    "	.popsection\n"
	    "	lea	1b(%%rip), %0\n"
	    "	lea	2b(%%rip), %1\n"
	    : "=r" (*start), "=r" (*end));
}

static __u64 boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The guest's kvm-clock reading: pvclock's scaling of the TSC delta. */
static __u64 pvclock_ns(const struct pvclock_vcpu_time_info *pv, __u64 tsc)
{
	__u64 delta = tsc - pv->tsc_timestamp;

	if (pv->tsc_shift < 0)
		delta >>= -pv->tsc_shift;
	else
		delta <<= pv->tsc_shift;
	return pv->system_time + (__u64)(((__uint128_t)delta * pv->tsc_to_system_mul) >> 32);
}

static void fail_step(const char *what)
{
	ksft_exit_fail_msg("%s: %s\n", what, strerror(errno));
}

/* Slack around the host times that bound the guest's clock reading. */
#define CLOCK_SLACK_NS		50000000ULL

TEST(secret_hiding_vm)
{
	const long page = sysconf(_SC_PAGESIZE);
	__u64 created_before, created_after, run_before, run_after, guest_ns, tsc;
	long base_nodm_kb, base_kb, pages, out;
	struct pvclock_vcpu_time_info pv;
	bool mmio_seen = false, done = false;
	int kvm, vm, gmem, vcpu, mem_fd, pipefd[2];
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	__u32 steal_version, marker, data;
	struct iovec iov;
	const char *code, *code_end;
	char *res, *mem;
	char buf[64];

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		SKIP(return, "no /dev/kvm");
	if (!gmu_gmem_flags(kvm))
		SKIP(return, "KVM_CAP_GUEST_MEMFD_FLAGS is not supported");
	base_kb = gmu_meminfo_kb("GuestMem");
	base_nodm_kb = gmu_meminfo_kb("GuestMemNoDMap");
	ASSERT_LE(0, base_nodm_kb) TH_LOG("no GuestMemNoDMap line in /proc/meminfo");

	/* 1. The capability, on /dev/kvm and on a default VM. */
	ASSERT_EQ(GMEM_ALL_FLAGS, gmu_gmem_flags(kvm) & GMEM_ALL_FLAGS);
	created_before = boottime_ns();
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	created_after = boottime_ns();
	ASSERT_LE(0, vm) TH_LOG("KVM_CREATE_VM: %s", strerror(errno));
	ASSERT_EQ(GMEM_ALL_FLAGS, gmu_gmem_flags(vm) & GMEM_ALL_FLAGS);

	/* 2. All of the guest's RAM. */
	gmem = gmu_create_gmem(vm, MEM_SIZE, GMEM_ALL_FLAGS);
	ASSERT_LE(0, gmem) TH_LOG("KVM_CREATE_GUEST_MEMFD: %s", strerror(errno));

	/* 3. Mapped over an aligned reservation. */
	res = mmap(NULL, MEM_SIZE + SZ_2M, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, res);
	mem = (char *)(((uintptr_t)res + SZ_2M - 1) & ~(SZ_2M - 1));
	ASSERT_EQ(mem, mmap(mem, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			    gmem, 0));

	/* 4. One gmem-only memslot at the mapping. */
	ASSERT_EQ(0, gmu_set_region(vm, 0, KVM_MEM_GUEST_MEMFD, 0, MEM_SIZE, mem, gmem, 0))
		TH_LOG("KVM_SET_USER_MEMORY_REGION2: %s", strerror(errno));

	/* 5. The guest, written through the VMM's mapping. */
	guest_code_range(&code, &code_end);
	memcpy(mem + CODE_GPA, code, code_end - code);
	*(__u32 *)(mem + SRC_GPA) = PATTERN;
	vcpu = gmu_create_vcpu(kvm, vm, 0, &run, fail_step);
	ASSERT_EQ(0, ioctl(vcpu, KVM_GET_SREGS, &sregs));
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = 0;
	sregs.ds.selector = 0;
	sregs.es.base = MMIO_GPA;
	ASSERT_EQ(0, ioctl(vcpu, KVM_SET_SREGS, &sregs));
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA;
	regs.rflags = 0x2;
	ASSERT_EQ(0, ioctl(vcpu, KVM_SET_REGS, &regs));

	/* Some time passes, so that a clock stuck at zero cannot pass. */
	usleep(200 * 1000);
	run_before = boottime_ns();
	while (!done) {
		ASSERT_EQ(0, ioctl(vcpu, KVM_RUN, 0)) TH_LOG("KVM_RUN: %s", strerror(errno));
		switch (run->exit_reason) {
		case KVM_EXIT_MMIO:
			ASSERT_FALSE(mmio_seen);
			ASSERT_TRUE(run->mmio.is_write);
			ASSERT_EQ(MMIO_GPA, run->mmio.phys_addr);
			ASSERT_EQ(4, run->mmio.len);
			memcpy(&data, run->mmio.data, 4);
			ASSERT_EQ(PATTERN, data);
			mmio_seen = true;

			/* 6. While the guest runs: every page out of the direct map. */
			pages = gmu_fdinfo_num(gmem, "guestmem-pages");
			out = gmu_fdinfo_num(gmem, "guestmem-pages-no-direct-map");
			ASSERT_LT(0, pages);
			ASSERT_EQ(pages, out);
			ASSERT_LE(base_nodm_kb + out * (page / 1024),
				  gmu_meminfo_kb("GuestMemNoDMap"));
			TH_LOG("%ld pages of guest RAM allocated, %ld out of the direct map",
			       pages, out);
			break;
		case KVM_EXIT_IO:
			ASSERT_TRUE(mmio_seen);
			ASSERT_EQ(KVM_EXIT_IO_OUT, run->io.direction);
			ASSERT_EQ(PORT_DONE, run->io.port);
			break;
		case KVM_EXIT_HLT:
			ASSERT_TRUE(mmio_seen);
			done = true;
			break;
		default:
			ASSERT_EQ(KVM_EXIT_HLT, run->exit_reason)
				TH_LOG("unexpected exit reason %u", run->exit_reason);
		}
	}
	run_after = boottime_ns();

	/* The guest's writes, read through the VMM's mapping. */
	memcpy(&marker, mem + RESULT_GPA + RES_MARKER, 4);
	ASSERT_EQ(MARKER, marker);
	memcpy(&tsc, mem + RESULT_GPA + RES_TSC, 8);
	memcpy(&pv, mem + RESULT_GPA + RES_PVCLOCK, sizeof(pv));
	memcpy(&steal_version, mem + RESULT_GPA + RES_STEAL + 8, 4);
	ASSERT_NE(0, pv.version) TH_LOG("KVM never wrote the guest's kvm-clock");
	ASSERT_EQ(0, pv.version & 1);
	ASSERT_NE(0, pv.tsc_to_system_mul);
	ASSERT_NE(0, steal_version) TH_LOG("KVM never wrote the guest's steal time");
	ASSERT_EQ(0, steal_version & 1);
	/* KVM's own copy, in guest RAM, seen through the mapping too. */
	ASSERT_NE(0, *(__u32 *)(mem + PVCLOCK_GPA));

	/* kvm-clock counts from the VM's creation. */
	guest_ns = pvclock_ns(&pv, tsc);
	TH_LOG("guest clock %llu ns; host: %llu to %llu ns since the VM's creation",
	       (unsigned long long)guest_ns,
	       (unsigned long long)(run_before - created_after),
	       (unsigned long long)(run_after - created_before));
	ASSERT_LE(run_before - created_after - CLOCK_SLACK_NS, guest_ns);
	ASSERT_GE(run_after - created_before + CLOCK_SLACK_NS, guest_ns);

	/* The kernel cannot pin the memory: GUP is refused. */
	ASSERT_EQ(0, pipe(pipefd));
	iov.iov_base = mem + RESULT_GPA;
	iov.iov_len = sizeof(buf);
	ASSERT_EQ(-1, vmsplice(pipefd[1], &iov, 1, 0));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, close(pipefd[0]));
	ASSERT_EQ(0, close(pipefd[1]));
	mem_fd = open("/proc/self/mem", O_RDONLY);
	ASSERT_LE(0, mem_fd);
	ASSERT_EQ(-1, pread(mem_fd, buf, sizeof(buf), (off_t)(uintptr_t)(mem + RESULT_GPA)));
	ASSERT_EQ(EIO, errno);
	ASSERT_EQ(0, close(mem_fd));

	/* Everything goes back when the VMM closes the file. */
	ASSERT_EQ(0, munmap(run, ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0)));
	ASSERT_EQ(0, close(vcpu));
	ASSERT_EQ(0, munmap(res, MEM_SIZE + SZ_2M));
	ASSERT_EQ(0, close(gmem));
	ASSERT_EQ(0, close(vm));
	ASSERT_EQ(0, close(kvm));
	ASSERT_EQ(base_nodm_kb, gmu_meminfo_kb("GuestMemNoDMap"));
	ASSERT_EQ(base_kb, gmu_meminfo_kb("GuestMem"));
}

#else /* !__x86_64__ */

TEST(secret_hiding_vm)
{
	SKIP(return, "the guest of this test is x86 code");
}

#endif

TEST_HARNESS_MAIN
