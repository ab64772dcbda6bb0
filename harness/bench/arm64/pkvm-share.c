// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-share: latency of a 4 KiB share/unshare round trip asked by an
 * arm64 guest, the cost pKVM's ownership change at EL2 adds.
 *
 * The guest loops: MEM_SHARE its data page, read it, MEM_UNSHARE it, read
 * it.  Each call exits to this VMM (KVM_EXIT_HYPERCALL), which converts
 * the page in place (KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd) and
 * answers SUCCESS in x0; each conversion unmaps the page from the guest,
 * whose next read faults it back in.  One round is two exits, two
 * conversions and two faults.
 *
 * With KVM in protected mode the VM is a protected one
 * (KVM_VM_TYPE_ARM_PROTECTED): its private page is taken from the host at
 * EL2 when the guest maps it and given back when the conversion unmaps
 * it.  Otherwise it is a default VM whose same two calls an SMCCC filter
 * forwards to the VMM, on the same kind of guest_memfd: everything but
 * the EL2 ownership change.  harness/bench.sh boots the arm64 kernel in
 * each mode and divides the two medians.
 *
 * Prints "BENCH arm64_share_unshare_round_<mode> <median> us" and its
 * minimum and maximum, the median of ROUNDS rounds after WARMUP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "guestmem_util.h"

#define MEM_GPA		0x40000000ULL
#define MEM_SIZE	0x10000
#define WARMUP		20
#define ROUNDS		201
#define CORE_REG(x)	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
			 KVM_REG_ARM_CORE_REG(x))

/* x19: the data page.  A64, little endian as the host. */
static const uint32_t guest[] = {
	0x52800060,	/* loop: mov w0, #3 */
	0x72b8c000,	/* movk w0, #0xc600, lsl #16 (MEM_SHARE) */
	0xaa1303e1,	/* mov x1, x19 */
	0xd2800002,	/* mov x2, #0 */
	0xd2800003,	/* mov x3, #0 */
	0xd4000002,	/* hvc #0 */
	0xb9400266,	/* ldr w6, [x19] */
	0x52800080,	/* mov w0, #4 */
	0x72b8c000,	/* movk w0, #0xc600, lsl #16 (MEM_UNSHARE) */
	0xaa1303e1,	/* mov x1, x19 */
	0xd2800002,	/* mov x2, #0 */
	0xd2800003,	/* mov x3, #0 */
	0xd4000002,	/* hvc #0 */
	0xb9400266,	/* ldr w6, [x19] */
	0x17fffff2,	/* b loop */
};

static void die(const char *what)
{
	printf("pkvm-share: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int protected_mode(void)
{
	char line[4096] = "";
	FILE *f = fopen("/proc/cmdline", "r");

	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	return !!strstr(line, "kvm-arm.mode=protected");
}

static int convert(int fd, uint64_t offset, int private)
{
	struct kvm_memory_attributes2 attr = {
		.offset = offset,
		.size = getpagesize(),
		.attributes = private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0,
		.flags = KVM_SET_MEMORY_ATTRIBUTES2_PRESERVE,
	};

	return ioctl(fd, KVM_SET_MEMORY_ATTRIBUTES2, &attr);
}

static void set_x0_zero(int vcpu)
{
	uint64_t val = 0;
	struct kvm_one_reg reg = {
		.id = CORE_REG(regs.regs[0]),
		.addr = (uint64_t)(uintptr_t)&val,
	};

	if (ioctl(vcpu, KVM_SET_ONE_REG, &reg))
		die("KVM_SET_ONE_REG");
}

static void set_reg(int vcpu, uint64_t id, uint64_t val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)(uintptr_t)&val };

	if (ioctl(vcpu, KVM_SET_ONE_REG, &reg))
		die("KVM_SET_ONE_REG");
}

/* Runs to the guest's next call of @func and converts the page for it. */
static void serve(int vcpu, struct kvm_run *run, int fd, uint32_t func)
{
	if (ioctl(vcpu, KVM_RUN, 0))
		die("KVM_RUN");
	if (run->exit_reason != KVM_EXIT_HYPERCALL || run->hypercall.nr != func) {
		printf("pkvm-share: exit %u nr 0x%llx, expected hypercall 0x%x\n",
		       run->exit_reason, (unsigned long long)run->hypercall.nr, func);
		exit(1);
	}
	if (convert(fd, getpagesize(), func == GMU_PKVM_MEM_UNSHARE_FUNC))
		die("KVM_SET_MEMORY_ATTRIBUTES2");
	set_x0_zero(vcpu);
}

int main(void)
{
	int prot = protected_mode(), kvm, vm, fd, vcpu, run_size, i;
	long page = getpagesize();
	struct kvm_vcpu_init init;
	double t[ROUNDS], t0;
	struct kvm_run *run;
	const char *mode;
	char *mem;

	setvbuf(stdout, NULL, _IOLBF, 0);
	mode = prot ? "protected" : "nvhe_default";
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("open /dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, prot ? KVM_VM_TYPE_ARM_PROTECTED : 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	if (!prot) {
		struct kvm_smccc_filter filter = {
			.base = GMU_PKVM_MEM_SHARE_FUNC,
			.nr_functions = 2,
			.action = KVM_SMCCC_FILTER_FWD_TO_USER,
		};
		struct kvm_device_attr attr = {
			.group = KVM_ARM_VM_SMCCC_CTRL,
			.attr = KVM_ARM_VM_SMCCC_FILTER,
			.addr = (uint64_t)(uintptr_t)&filter,
		};

		if (ioctl(vm, KVM_SET_DEVICE_ATTR, &attr))
			die("KVM_ARM_VM_SMCCC_FILTER");
	}
	fd = gmu_create_gmem(vm, MEM_SIZE, GUEST_MEMFD_FLAG_MMAP);
	if (fd < 0)
		die("KVM_CREATE_GUEST_MEMFD");
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	if (convert(fd, 0, 0))
		die("convert the code page to shared");
	memcpy(mem, guest, sizeof(guest));
	if (convert(fd, 0, 1))
		die("convert the code page to private");
	if (gmu_set_region(vm, 0, KVM_MEM_GUEST_MEMFD, MEM_GPA, MEM_SIZE, mem, fd, 0))
		die("KVM_SET_USER_MEMORY_REGION2");

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap of the vCPU");
	if (ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init) || ioctl(vcpu, KVM_ARM_VCPU_INIT, &init))
		die("KVM_ARM_VCPU_INIT");
	set_reg(vcpu, CORE_REG(regs.pc), MEM_GPA);
	set_reg(vcpu, CORE_REG(regs.regs[19]), MEM_GPA + page);

	for (i = -WARMUP; i < ROUNDS; i++) {
		t0 = now_us();
		serve(vcpu, run, fd, GMU_PKVM_MEM_SHARE_FUNC);
		serve(vcpu, run, fd, GMU_PKVM_MEM_UNSHARE_FUNC);
		if (i >= 0)
			t[i] = now_us() - t0;
	}
	qsort(t, ROUNDS, sizeof(t[0]), cmp_double);
	printf("BENCH arm64_share_unshare_round_%s %.2f us\n", mode, t[ROUNDS / 2]);
	printf("BENCH arm64_share_unshare_round_%s_min %.2f us\n", mode, t[0]);
	printf("BENCH arm64_share_unshare_round_%s_max %.2f us\n", mode, t[ROUNDS - 1]);
	return 0;
}
