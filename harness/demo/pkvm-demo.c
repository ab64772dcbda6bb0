// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-demo: an arm64 protected VM on guestmem memory that shares a page
 * with its VMM by hypercall and takes it back, in place.
 *
 * Needs the host to run KVM in protected mode (kvm-arm.mode=protected).
 * Creates a VM of type KVM_VM_TYPE_ARM_PROTECTED whose only memory is a
 * 64 KiB guest_memfd created with GUEST_MEMFD_FLAG_MMAP: private from the
 * start, so the VMM's mapping of it raises SIGBUS.  The VMM loads the
 * guest's code through a shared window (convert to shared, write, convert
 * back with the contents kept).  The guest reads the vendor hypercall
 * features (the memory sharing calls are there), writes a secret into its
 * private data page and asks, with the MEM_SHARE hypercall, to share it:
 * KVM exits to the VMM, which converts the page in place
 * (KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd), answers the guest, and
 * reads the secret through its mapping.  The VMM writes a reply and, to
 * show the refusal, pins the page with vmsplice() before the guest's
 * MEM_UNSHARE: that conversion fails with EAGAIN and the guest gets
 * INVALID_PARAMETER; once the pipe is drained, the guest's second
 * MEM_UNSHARE is accepted and the guest reads the reply from its private
 * page.
 *
 * Prints what happens in plain sentences; exits 0 only when every step
 * behaved as described, so the harness also runs it as a test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "guestmem_util.h"

#define MEM_GPA		0x40000000ULL	/* code page, then the data page */
#define MEM_SIZE	0x10000
#define REPORT_GPA	0x10000000ULL	/* no memslot: MMIO */
#define REPLY		0x5ea4ed00u
/* mm/guestmem/file.c: the filesystem of every guestmem file */
#define GUESTMEM_MAGIC	0x67756d6d
#define CORE_REG(x)	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
			 KVM_REG_ARM_CORE_REG(x))

/* Returns 1 if reading *p raised SIGBUS. */
static int read_faults(uint32_t *p)
{
	return touch_bus((char *)p, false, 0);
}

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("demo: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

static void expect(int ok, const char *what)
{
	if (ok)
		return;
	printf("demo: UNEXPECTED: %s\n", what);
	exit(1);
}

static void fail(const char *what)
{
	printf("demo: FAILED: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Whether the host booted with kvm-arm.mode=protected. */
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

static void set_reg(int vcpu, uint64_t id, uint64_t val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)(uintptr_t)&val };

	if (ioctl(vcpu, KVM_SET_ONE_REG, &reg))
		fail("KVM_SET_ONE_REG");
}

/* Runs the guest to its next report (an MMIO write); returns the value. */
static uint64_t next_report(int vcpu, struct kvm_run *run)
{
	uint64_t val = 0;

	if (ioctl(vcpu, KVM_RUN, 0))
		fail("KVM_RUN");
	if (run->exit_reason != KVM_EXIT_MMIO || run->mmio.phys_addr != REPORT_GPA ||
	    !run->mmio.is_write || run->mmio.len != 8) {
		printf("demo: FAILED: unexpected exit %u\n", run->exit_reason);
		exit(1);
	}
	memcpy(&val, run->mmio.data, sizeof(val));
	return val;
}

/* Runs the guest to its next MEM_SHARE or MEM_UNSHARE; returns the GPA. */
static uint64_t next_mem_call(int vcpu, struct kvm_run *run, uint32_t func)
{
	if (ioctl(vcpu, KVM_RUN, 0))
		fail("KVM_RUN");
	if (run->exit_reason != KVM_EXIT_HYPERCALL || run->hypercall.nr != func) {
		printf("demo: FAILED: expected hypercall 0x%x, got exit %u nr 0x%llx\n",
		       func, run->exit_reason, (unsigned long long)run->hypercall.nr);
		exit(1);
	}
	return run->hypercall.args[0];
}

int main(void)
{
	long page = getpagesize();
	struct kvm_vcpu_init init;
	int kvm, vm, fd, vcpu, run_size, pipefd[2];
	uint32_t *data;
	struct kvm_run *run;
	struct statfs sfs;
	struct iovec iov;
	uint64_t val, gpa;
	char buf[64];
	char *mem;

	setvbuf(stdout, NULL, _IOLBF, 0);
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		fail("open /dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, KVM_VM_TYPE_ARM_PROTECTED);
	if (vm < 0 && errno == EINVAL && !protected_mode()) {
		say("SKIP: KVM does not run in protected mode (kvm-arm.mode=protected)");
		return 4;
	}
	if (vm < 0)
		fail("KVM_CREATE_VM(KVM_VM_TYPE_ARM_PROTECTED)");
	say("created a protected VM (KVM_VM_TYPE_ARM_PROTECTED, host in kvm-arm.mode=protected)");

	fd = gmu_create_gmem(vm, MEM_SIZE, GUEST_MEMFD_FLAG_MMAP);
	if (fd < 0)
		fail("KVM_CREATE_GUEST_MEMFD");
	expect(gmu_create_gmem(vm, MEM_SIZE, GUEST_MEMFD_FLAG_MMAP |
				GUEST_MEMFD_FLAG_INIT_SHARED) < 0 && errno == EINVAL,
	       "a protected VM refuses INIT_SHARED");
	say("created a %d KiB guest_memfd (MMAP) for it: all private, INIT_SHARED is refused",
	    MEM_SIZE / 1024);
	if (fstatfs(fd, &sfs))
		fail("fstatfs");
	expect(sfs.f_type == GUESTMEM_MAGIC, "the guest_memfd is a guestmem file");
	say("the guest_memfd is a guestmem file (fs magic 0x%lx): mm owns its memory",
	    (unsigned long)sfs.f_type);

	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		fail("mmap of the guest_memfd");
	data = (uint32_t *)(mem + page);
	expect(read_faults((uint32_t *)mem), "a private page faults for the VMM");
	say("the VMM mapped the guest_memfd; reading its private pages raises SIGBUS");

	if (convert(fd, 0, 0))
		fail("convert the code page to shared");
	memcpy(mem, gmu_a64_share_guest, sizeof(gmu_a64_share_guest));
	if (convert(fd, 0, 1))
		fail("convert the code page back to private");
	expect(read_faults((uint32_t *)mem), "the loaded code page is private again");
	say("loaded the guest's code through a shared window, then made it private again,");
	say("contents kept");

	if (gmu_set_region(vm, 0, KVM_MEM_GUEST_MEMFD, MEM_GPA, MEM_SIZE, mem, fd, 0))
		fail("KVM_SET_USER_MEMORY_REGION2");
	expect(gmu_set_region(vm, 1, 0, MEM_GPA + MEM_SIZE, MEM_SIZE, mem, -1, 0) < 0 &&
	       errno == EINVAL, "a protected VM refuses memory that is not guest_memfd");
	say("guest addresses 0x%llx-0x%llx are the guest_memfd; other memory is refused",
	    MEM_GPA, MEM_GPA + MEM_SIZE - 1);

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		fail("KVM_CREATE_VCPU");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		fail("mmap of the vCPU");
	if (ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init) || ioctl(vcpu, KVM_ARM_VCPU_INIT, &init))
		fail("KVM_ARM_VCPU_INIT");
	set_reg(vcpu, CORE_REG(regs.pc), MEM_GPA);
	set_reg(vcpu, CORE_REG(regs.regs[19]), MEM_GPA + page);
	set_reg(vcpu, CORE_REG(regs.regs[20]), REPORT_GPA);

	val = next_report(vcpu, run);
	expect((val & GMU_PKVM_MEM_FEATURES) == GMU_PKVM_MEM_FEATURES,
	       "the guest sees MEM_SHARE and MEM_UNSHARE");
	say("the guest found HYP_MEMINFO, MEM_SHARE and MEM_UNSHARE in KVM's vendor hypercall");
	say("features (0x%llx)", (unsigned long long)val);
	val = next_report(vcpu, run);
	expect(val == (uint64_t)page, "the sharing granule is a page");
	say("HYP_MEMINFO told it the sharing granule: %llu bytes", (unsigned long long)val);

	gpa = next_mem_call(vcpu, run, GMU_PKVM_MEM_SHARE_FUNC);
	expect(gpa == MEM_GPA + page, "MEM_SHARE names the data page");
	expect(read_faults(data), "the page is private before the share");
	say("the guest wrote a secret into its private page 0x%llx and asked to share it",
	    (unsigned long long)gpa);
	say("(MEM_SHARE hypercall): KVM exited to the VMM (KVM_EXIT_HYPERCALL)");
	if (convert(fd, page, 0))
		fail("convert the data page to shared");
	set_reg(vcpu, CORE_REG(regs.regs[0]), 0);
	expect(next_report(vcpu, run) == 0, "the guest got SUCCESS");
	say("the VMM converted it in place and answered SUCCESS; through its mapping it reads");
	say("the secret 0x%08x", data[0]);
	val = next_report(vcpu, run);
	expect(val == GMU_A64_SECRET, "the guest reads its secret through the shared page");
	say("the guest read it back through the shared page: 0x%08llx", (unsigned long long)val);
	expect(data[0] == GMU_A64_SECRET, "the secret is intact");
	data[1] = REPLY;
	say("the VMM wrote its reply 0x%08x into the same page", REPLY);

	if (pipe(pipefd))
		fail("pipe");
	iov.iov_base = (void *)data;
	iov.iov_len = sizeof(buf);
	if (vmsplice(pipefd[1], &iov, 1, 0) != sizeof(buf))
		fail("vmsplice");
	next_mem_call(vcpu, run, GMU_PKVM_MEM_UNSHARE_FUNC);
	expect(convert(fd, page, 1) < 0 && errno == EAGAIN, "a pinned page stays shared");
	say("the guest asked for it back (MEM_UNSHARE) while a pipe pinned the page:");
	say("the conversion to private failed (%s)", strerror(EAGAIN));
	set_reg(vcpu, CORE_REG(regs.regs[0]), GMU_SMCCC_INVALID_PARAMETER);
	val = next_report(vcpu, run);
	expect(val == GMU_SMCCC_INVALID_PARAMETER, "the guest got INVALID_PARAMETER");
	say("the guest got INVALID_PARAMETER (%lld) and asks again", (long long)val);

	if (read(pipefd[0], buf, sizeof(buf)) != sizeof(buf))
		fail("read of the pipe");
	next_mem_call(vcpu, run, GMU_PKVM_MEM_UNSHARE_FUNC);
	if (convert(fd, page, 1))
		fail("convert the data page to private");
	set_reg(vcpu, CORE_REG(regs.regs[0]), 0);
	expect(next_report(vcpu, run) == 0, "the second MEM_UNSHARE succeeded");
	say("with the pipe drained, its second MEM_UNSHARE was accepted: private again");
	val = next_report(vcpu, run);
	expect(val == REPLY, "the guest read the reply");
	expect(read_faults(data), "the VMM lost the page");
	say("the guest read the reply 0x%08llx from its private page; the VMM's read faults again",
	    (unsigned long long)val);

	close(pipefd[0]);
	close(pipefd[1]);
	munmap(run, run_size);
	close(vcpu);
	munmap(mem, MEM_SIZE);
	close(fd);
	close(vm);
	close(kvm);
	say("done: the protected VM shared a page and took it back, contents kept both ways");
	return 0;
}
