// SPDX-License-Identifier: GPL-2.0
/*
 * gmem-demo: a KVM guest on guestmem memory that it shares with the VMM
 * and takes back, in place.
 *
 * Creates a software-protected x86 VM (KVM_X86_SW_PROTECTED_VM) with two
 * memslots: ordinary memory holding the guest's code, and 64 KiB of a
 * guest_memfd created with GUEST_MEMFD_FLAG_MMAP and NO_DIRECT_MAP, all
 * private at first.  The demo checks that the guest_memfd is a guestmem
 * file (fstatfs() shows the guestmem filesystem).  A real-mode guest
 * writes a secret into its private memory: the page leaves the kernel's
 * direct map (the guest_memfd's fdinfo and /proc/meminfo show it, see
 * "Observing guestmem" in Documentation/mm/guestmem.rst), and the VMM's mapping of
 * the guest_memfd raises SIGBUS there.  Then the guest asks, with the
 * KVM_HC_MAP_GPA_RANGE hypercall, to share the page; the VMM converts it in
 * place (KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd) and reads the
 * secret through its mapping; the VMM answers in the same page and the
 * guest reads the answer; the guest asks to make the page private again.
 * The page stays out of the direct map throughout, shared or private, so
 * the kernel cannot pin it: vmsplice() of the shared page is refused.
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

#define CODE_GPA	0x0
#define CODE_SIZE	0x10000
#define PRIV_GPA	0x10000		/* real mode: DS = 0x1000 */
#define PRIV_SIZE	0x10000
#define REPORT_PORT	0x10
#define SECRET		0xc0ffee42u
#define REPLY		0x5ea4ed00u
/* <linux/kvm_para.h> and <asm/kvm_para.h>, which userspace rarely has */
#define KVM_HC_MAP_GPA_RANGE		12
#define KVM_MAP_GPA_RANGE_ENCRYPTED	0x10
/* mm/guestmem/file.c: the filesystem of every guestmem file */
#define GUESTMEM_MAGIC	0x67756d6d
/* The fdinfo line of a guestmem file's pages out of the direct map */
#define NODM		"guestmem-pages-no-direct-map"

/*
 * Guest code, 16-bit real mode.  Entry points (offsets from CODE_GPA):
 *   write_secret: store SECRET at DS:0, load it back, report it, hlt
 *   read_word:    load DS:0, report it, hlt
 *   share:        KVM_HC_MAP_GPA_RANGE(PRIV_GPA, 1 page, shared), report
 *                 the hypercall's result, hlt
 *   unshare:      the same with KVM_MAP_GPA_RANGE_ENCRYPTED (private)
 * The hypercall is AMD's vmmcall: the machine's KVM runs on SVM.
 */
asm(".pushsection .rodata\n"
	".globl guest_code, guest_code_end, guest_read_word, guest_share, guest_unshare\n"
	"guest_code:\n"
	".code16\n"
	"	mov $0x1000, %ax\n"
	"	mov %ax, %ds\n"
	"	movl $0xc0ffee42, 0\n"
	"	movl 0, %eax\n"
	"	out %eax, $0x10\n"
	"	hlt\n"
	"guest_read_word:\n"
	"	mov $0x1000, %ax\n"
	"	mov %ax, %ds\n"
	"	movl 0, %eax\n"
	"	out %eax, $0x10\n"
	"	hlt\n"
	"guest_share:\n"
	"	xor %edx, %edx\n"
	"	jmp 1f\n"
	"guest_unshare:\n"
	"	mov $0x10, %edx\n"
	"1:	mov $12, %eax\n"
	"	mov $0x10000, %ebx\n"
	"	mov $1, %ecx\n"
	"	vmmcall\n"
	"	out %eax, $0x10\n"
	"	hlt\n"
	".code64\n"
	"guest_code_end:\n"
	".popsection\n");
extern const char guest_code[], guest_code_end[], guest_read_word[], guest_share[],
	guest_unshare[];

static int failures;

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("demo: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
}

static void check(int ok, const char *what)
{
	if (!ok) {
		printf("demo: UNEXPECTED: %s\n", what);
		failures++;
	}
}

static void die(const char *what)
{
	printf("demo: FAILED: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int vm, vcpu, gfd;
static struct kvm_run *run;

/* The VMM's side of the guest's KVM_HC_MAP_GPA_RANGE: convert in place. */
static int convert(uint64_t gpa, uint64_t npages, int private)
{
	struct kvm_memory_attributes2 attr = {
		.offset = gpa - PRIV_GPA,
		.size = npages * 4096,
		.attributes = private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0,
	};

	if (ioctl(gfd, KVM_SET_MEMORY_ATTRIBUTES2, &attr))
		die("KVM_SET_MEMORY_ATTRIBUTES2");
	return 0;
}

/* Reads the word at @p, or returns -1 if that raised SIGBUS. */
static int64_t vmm_read(uint32_t *p)
{
	if (touch_bus((char *)p, false, 0))
		return -1;
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

/* Run the guest from @entry until it halts; returns the reported word. */
static uint32_t run_guest(const char *entry)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint32_t reported = 0;
	int got = 0;

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs))
		die("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs))
		die("KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA + (entry - guest_code);
	regs.rflags = 0x2;
	if (ioctl(vcpu, KVM_SET_REGS, &regs))
		die("KVM_SET_REGS");

	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0))
			die("KVM_RUN");
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (run->io.port != REPORT_PORT || run->io.size != 4 ||
			    run->io.direction != KVM_EXIT_IO_OUT) {
				printf("demo: FAILED: unexpected I/O port 0x%x\n", run->io.port);
				exit(1);
			}
			memcpy(&reported, (char *)run + run->io.data_offset, 4);
			got = 1;
			break;
		case KVM_EXIT_HLT:
			if (!got) {
				printf("demo: FAILED: guest halted without reporting\n");
				exit(1);
			}
			return reported;
		case KVM_EXIT_HYPERCALL:
			if (run->hypercall.nr != KVM_HC_MAP_GPA_RANGE) {
				printf("demo: FAILED: unexpected hypercall %llu\n",
				       (unsigned long long)run->hypercall.nr);
				exit(1);
			}
			run->hypercall.ret =
				convert(run->hypercall.args[0], run->hypercall.args[1],
					run->hypercall.args[2] & KVM_MAP_GPA_RANGE_ENCRYPTED);
			break;
		case KVM_EXIT_MEMORY_FAULT:
			printf("demo: FAILED: memory fault exit at gpa 0x%llx\n",
			       (unsigned long long)run->memory_fault.gpa);
			exit(1);
		default:
			printf("demo: FAILED: unexpected exit reason %u\n", run->exit_reason);
			exit(1);
		}
	}
}

int main(void)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_EXIT_HYPERCALL,
		.args[0] = 1 << KVM_HC_MAP_GPA_RANGE,
	};
	uint32_t *view;
	struct statfs sfs;
	struct iovec iov;
	char *code, buf[64];
	long out, base_kb;
	uint32_t word;
	__u64 flags;
	int kvm, pipefd[2];

	vm = gmu_create_vm(&kvm, KVM_X86_SW_PROTECTED_VM, die);
	if (vm < 0) {
		printf("demo: FAILED: KVM_X86_SW_PROTECTED_VM is not supported\n");
		return 1;
	}
	say("created a software-protected VM (private memory as in SEV-SNP/TDX, no such hardware)");
	if (ioctl(vm, KVM_ENABLE_CAP, &cap))
		die("KVM_ENABLE_CAP(KVM_CAP_EXIT_HYPERCALL)");

	code = mmap(NULL, CODE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED)
		die("mmap");
	memcpy(code, guest_code, guest_code_end - guest_code);

	base_kb = gmu_meminfo_kb("GuestMem");
	check(base_kb >= 0, "no GuestMem line in /proc/meminfo");
	flags = gmu_gmem_flags(vm);
	check((flags & GUEST_MEMFD_FLAG_NO_DIRECT_MAP) && (flags & GUEST_MEMFD_FLAG_MMAP),
	      "KVM does not offer GUEST_MEMFD_FLAG_MMAP and NO_DIRECT_MAP");
	gfd = gmu_create_gmem(vm, PRIV_SIZE,
			      GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_NO_DIRECT_MAP);
	if (gfd < 0)
		die("KVM_CREATE_GUEST_MEMFD");
	say("created a %d KiB guest_memfd (MMAP, NO_DIRECT_MAP) for the guest: all private for now",
	    PRIV_SIZE >> 10);
	if (fstatfs(gfd, &sfs))
		die("fstatfs(guest_memfd)");
	check(sfs.f_type == GUESTMEM_MAGIC, "the guest_memfd is not a guestmem file");
	say("the guest_memfd is a guestmem file (fs magic 0x%lx): mm owns its memory",
	    (unsigned long)sfs.f_type);
	view = mmap(NULL, PRIV_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, gfd, 0);
	if (view == MAP_FAILED)
		die("mmap(guest_memfd)");
	say("the VMM mapped the guest_memfd: that mapping is its only view of the guest's memory");

	if (gmu_set_region(vm, 0, 0, CODE_GPA, CODE_SIZE, code, 0, 0))
		die("KVM_SET_USER_MEMORY_REGION2 (code)");
	if (gmu_set_region(vm, 1, KVM_MEM_GUEST_MEMFD, PRIV_GPA, PRIV_SIZE, view, gfd, 0))
		die("KVM_SET_USER_MEMORY_REGION2 (guest_memfd)");
	say("guest addresses 0x%x-0x%x are backed by the guest_memfd",
	    PRIV_GPA, PRIV_GPA + PRIV_SIZE - 1);

	vcpu = gmu_create_vcpu(kvm, vm, 0, &run, die);

	out = gmu_fdinfo_num(gfd, NODM);
	check(out == 0, "no " NODM " line in the guest_memfd's fdinfo");
	word = run_guest(guest_code);
	say("the guest wrote 0x%08x into its private memory and read back 0x%08x", SECRET, word);
	check(word == SECRET, "the guest did not read back its secret");
	out = gmu_fdinfo_num(gfd, NODM);
	say("that page left the kernel's direct map: %s %ld page(s) out",
	    "the guest_memfd's fdinfo counts", out);
	check(out == 1, "the guest's page is not out of the direct map");
	say("guestmem holds %ld kB more now, for that page (GuestMem in /proc/meminfo)",
	    gmu_meminfo_kb("GuestMem") - base_kb);
	check(vmm_read(view) == -1, "the VMM read a private page");
	say("the VMM cannot read it either: its access to that page raised SIGBUS");
	check(pread(gfd, &word, 4, 0) < 0, "read() of the guest_memfd succeeded");
	say("and read() of the guest_memfd is refused (%s)", strerror(errno));

	word = run_guest(guest_share);
	say("the guest asked (KVM_HC_MAP_GPA_RANGE) to share that page: the VMM converted it (%u)",
	    word);
	check(word == 0, "sharing failed");
	check(vmm_read(view) == SECRET, "the VMM does not see the guest's data");
	say("the VMM now reads 0x%08x through its mapping: the page kept its contents",
	    (uint32_t)vmm_read(view));
	out = gmu_fdinfo_num(gfd, NODM);
	say("the shared page stays out of the kernel's direct map (%ld page(s) out, says fdinfo)",
	    out);
	check(out == 1, "the shared page is back in the direct map");

	view[0] = REPLY;
	word = run_guest(guest_read_word);
	say("the VMM wrote its reply 0x%08x into the shared page; the guest reads 0x%08x", REPLY,
	    word);
	check(word == REPLY, "the guest did not see the VMM's reply");

	if (pipe(pipefd))
		die("pipe");
	iov.iov_base = (void *)view;
	iov.iov_len = sizeof(buf);
	check(vmsplice(pipefd[1], &iov, 1, 0) < 0 && errno == EFAULT,
	      "vmsplice() of the shared page was not refused");
	say("the kernel cannot pin it: vmsplice() of the shared page is refused (%s)",
	    strerror(errno));
	close(pipefd[0]);
	close(pipefd[1]);
	word = run_guest(guest_unshare);
	say("the guest asked to make the page private again: converted (%u)", word);
	check(word == 0, "unsharing failed");
	check(vmm_read(view) == -1, "the VMM still reads the page");
	out = gmu_fdinfo_num(gfd, NODM);
	say("the VMM's access raises SIGBUS again; the page is still out (%ld out)", out);
	check(out == 1, "the page is not out of the direct map");
	word = run_guest(guest_read_word);
	say("the guest still reads 0x%08x: the reply survived both conversions",
	    word);
	check(word == REPLY, "the contents were lost");

	close(vcpu);
	munmap(view, PRIV_SIZE);
	close(gfd);
	say("the VMM closed the guest_memfd: GuestMem in /proc/meminfo is back to %ld kB",
	    gmu_meminfo_kb("GuestMem"));
	check(gmu_meminfo_kb("GuestMem") == base_kb, "the guest's memory was not freed");
	close(vm);
	close(kvm);
	if (failures) {
		say("%d step(s) did not behave as described", failures);
		return 1;
	}
	say("done: the guest shared a page with the VMM and took it back, in place");
	return 0;
}
