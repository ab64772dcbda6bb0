// SPDX-License-Identifier: GPL-2.0
/*
 * gmem-demo: a KVM guest whose memory is private guest_memfd memory.
 *
 * Creates a software-protected x86 VM (KVM_X86_SW_PROTECTED_VM) with two
 * memslots: ordinary memory holding the guest's code, and 64 KiB backed by
 * a guest_memfd that KVM_SET_MEMORY_ATTRIBUTES marks private.  The demo
 * checks that the guest_memfd is a guestmem file (fstatfs() shows the
 * guestmem filesystem): its memory belongs to mm's guestmem, and, with
 * GUEST_MEMFD_FLAG_NO_DIRECT_MAP, stays out of the kernel's direct map
 * (debugfs guestmem/pages_unmapped counts the page the guest uses).  A real-mode
 * guest writes a secret into the private memory and reports what it reads
 * back through port I/O; the VMM shows that its own view of the same guest
 * addresses never saw the secret and that the guest_memfd cannot be read
 * or mapped; then the range is flipped to shared and back to private.
 *
 * Prints what happens in plain sentences; exits 0 only when every step
 * behaved as described, so the harness also runs it as a test.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "../guestmem-user.h"

#define CODE_GPA	0x0
#define CODE_SIZE	0x10000
#define PRIV_GPA	0x10000		/* real mode: DS = 0x1000 */
#define PRIV_SIZE	0x10000
#define REPORT_PORT	0x10
#define SECRET		0xc0ffee42u
#define SHARED_WORD	0x5ea4ed00u
/* mm/guestmem/guestmem.c: the filesystem of every guestmem file */
#define GUESTMEM_MAGIC	0x67756d6d

/*
 * Guest code, 16-bit real mode.  Entry points (offsets from CODE_GPA):
 *   write_secret: store SECRET at DS:0, load it back, report it, hlt
 *   read_word:    load DS:0, report it, hlt
 */
asm(".pushsection .rodata\n"
	".globl guest_code, guest_code_end, guest_read_word\n"
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
	".code64\n"
	"guest_code_end:\n"
	".popsection\n");
extern const char guest_code[], guest_code_end[], guest_read_word[];

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

static int vm, vcpu;
static struct kvm_run *run;

static void set_private(int private)
{
	struct kvm_memory_attributes attr = {
		.address = PRIV_GPA,
		.size = PRIV_SIZE,
		.attributes = private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0,
	};

	if (ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &attr))
		die("KVM_SET_MEMORY_ATTRIBUTES");
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
	struct kvm_create_guest_memfd gmem = { .size = PRIV_SIZE };
	struct statfs sfs;
	struct kvm_userspace_memory_region2 slot;
	uint32_t word, buf;
	char *code, *shared_view;
	int kvm, gfd, run_size, flags;
	long unmapped;
	void *p;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("open /dev/kvm");
	if (!(ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES) &
	      (1 << KVM_X86_SW_PROTECTED_VM))) {
		printf("demo: FAILED: KVM_X86_SW_PROTECTED_VM is not supported\n");
		return 1;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, KVM_X86_SW_PROTECTED_VM);
	if (vm < 0)
		die("KVM_CREATE_VM");
	say("created a software-protected VM (private memory as in SEV-SNP/TDX, no such hardware)");

	code = mmap(NULL, CODE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	shared_view = mmap(NULL, PRIV_SIZE, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED || shared_view == MAP_FAILED)
		die("mmap");
	memcpy(code, guest_code, guest_code_end - guest_code);

	flags = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD_FLAGS);
	check(flags > 0 && (flags & GUEST_MEMFD_FLAG_NO_DIRECT_MAP),
	      "KVM does not offer GUEST_MEMFD_FLAG_NO_DIRECT_MAP");
	gmem.flags = GUEST_MEMFD_FLAG_NO_DIRECT_MAP;
	gfd = ioctl(vm, KVM_CREATE_GUEST_MEMFD, &gmem);
	if (gfd < 0)
		die("KVM_CREATE_GUEST_MEMFD");
	say("created a %d KiB guest_memfd for the guest's private memory, with NO_DIRECT_MAP",
	    PRIV_SIZE >> 10);
	if (fstatfs(gfd, &sfs))
		die("fstatfs(guest_memfd)");
	check(sfs.f_type == GUESTMEM_MAGIC, "the guest_memfd is not a guestmem file");
	say("the guest_memfd is a guestmem file (fs magic 0x%lx): mm owns its memory",
	    (unsigned long)sfs.f_type);

	memset(&slot, 0, sizeof(slot));
	slot.slot = 0;
	slot.guest_phys_addr = CODE_GPA;
	slot.memory_size = CODE_SIZE;
	slot.userspace_addr = (uintptr_t)code;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &slot))
		die("KVM_SET_USER_MEMORY_REGION2 (code)");
	slot.slot = 1;
	slot.flags = KVM_MEM_GUEST_MEMFD;
	slot.guest_phys_addr = PRIV_GPA;
	slot.memory_size = PRIV_SIZE;
	slot.userspace_addr = (uintptr_t)shared_view;
	slot.guest_memfd = gfd;
	slot.guest_memfd_offset = 0;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &slot))
		die("KVM_SET_USER_MEMORY_REGION2 (guest_memfd)");
	set_private(1);
	say("guest addresses 0x%x-0x%x are backed by the guest_memfd and marked PRIVATE",
	    PRIV_GPA, PRIV_GPA + PRIV_SIZE - 1);

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");

	unmapped = guestmem_stat("pages_unmapped");
	word = run_guest(guest_code);
	say("the guest wrote 0x%08x into its private memory and read back 0x%08x", SECRET, word);
	check(word == SECRET, "the guest did not read back its secret");
	check(unmapped >= 0, "no debugfs guestmem/pages_unmapped");
	unmapped = guestmem_stat("pages_unmapped") - unmapped;
	say("that page left the kernel's direct map: %ld more page(s) out (guestmem debugfs)",
	    unmapped);
	check(unmapped == 1, "the guest's page is not out of the direct map");

	memcpy(&buf, shared_view, 4);
	say("the VMM's (shared) view of that guest address holds 0x%08x: the secret is not there",
	    buf);
	check(buf == 0, "the VMM's shared view changed");

	check(pread(gfd, &buf, 4, 0) < 0, "read() of the guest_memfd succeeded");
	say("read() of the guest_memfd is refused (%s)", strerror(errno));
	p = mmap(NULL, PRIV_SIZE, PROT_READ, MAP_SHARED, gfd, 0);
	check(p == MAP_FAILED, "mmap() of the guest_memfd succeeded");
	say("mmap() of the guest_memfd is refused (%s): the host cannot touch private memory",
	    strerror(errno));

	buf = SHARED_WORD;
	memcpy(shared_view, &buf, 4);
	set_private(0);
	word = run_guest(guest_read_word);
	say("after the VMM converted the range to SHARED, the guest reads the VMM's word 0x%08x",
	    word);
	check(word == SHARED_WORD, "the guest did not see the shared word");

	set_private(1);
	word = run_guest(guest_read_word);
	say("after converting back to PRIVATE, the guest reads 0x%08x from its guest_memfd again",
	    word);
	check(word == SECRET, "the private contents were lost");

	close(vcpu);
	close(gfd);
	close(vm);
	close(kvm);
	if (failures) {
		say("%d step(s) did not behave as described", failures);
		return 1;
	}
	say("done: the guest ran on private guest_memfd memory the host could not read");
	return 0;
}
