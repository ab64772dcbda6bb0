/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the userspace programs around guestmem share: the guest_memfd uAPI
 * values that older <linux/kvm.h> lack, in the complete form of the
 * upstream series and proposals, small helpers that set up a VM, its
 * guest_memfd memslots and a vCPU, and the guestmem library's debugfs
 * counters.  Besides the selftests of this directory, the programs of
 * harness/bench/ and harness/demo/ include it (built with -I on this
 * directory).
 *
 * The helpers are named gmu_* so as not to clash with what a program
 * defines itself; they return -1 with errno set, or, where a setup takes
 * several steps, hand the name of a failed step to the caller's @die(),
 * which prints it with strerror(errno) and must not return.
 */
#ifndef GUESTMEM_UTIL_H
#define GUESTMEM_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

/*
 * Where a SIGBUS goes: a jump back into touch_bus() of the same thread, or,
 * outside touch_bus(), the default action (the test dies of it).
 */
static __thread sigjmp_buf sigbus_jmp;
static __thread int sigbus_armed;

static inline void sigbus_handler(int sig)
{
	if (!__atomic_load_n(&sigbus_armed, __ATOMIC_SEQ_CST)) {
		signal(SIGBUS, SIG_DFL);
		raise(SIGBUS);
		return;
	}
	siglongjmp(sigbus_jmp, 1);
}

/*
 * Reads (or, with @write, writes @byte to) *@p; returns true if that
 * raised SIGBUS instead.  Safe in several threads at once.  For the
 * selftests, which check where the host may touch guest memory.
 */
static inline bool touch_bus(char *p, bool write, char byte)
{
	struct sigaction sa = { .sa_handler = sigbus_handler };
	bool bus = false;

	sigaction(SIGBUS, &sa, NULL);
	__atomic_store_n(&sigbus_armed, 1, __ATOMIC_SEQ_CST);
	if (sigsetjmp(sigbus_jmp, 1))
		bus = true;
	else if (write)
		__atomic_store_n(p, byte, __ATOMIC_SEQ_CST);
	else
		__atomic_load_n(p, __ATOMIC_SEQ_CST);
	__atomic_store_n(&sigbus_armed, 0, __ATOMIC_SEQ_CST);
	return bus;
}

/* Upstream's values (Linux 6.18 and the direct-map series), for old headers. */
#ifndef KVM_CAP_GUEST_MEMFD_FLAGS
#define KVM_CAP_GUEST_MEMFD_FLAGS	244
#endif
#ifndef GUEST_MEMFD_FLAG_MMAP
#define GUEST_MEMFD_FLAG_MMAP		0x1ULL
#endif
#ifndef GUEST_MEMFD_FLAG_INIT_SHARED
#define GUEST_MEMFD_FLAG_INIT_SHARED	0x2ULL
#endif
#ifndef GUEST_MEMFD_FLAG_NO_DIRECT_MAP
#define GUEST_MEMFD_FLAG_NO_DIRECT_MAP	0x4ULL
#endif
#ifndef GUEST_MEMFD_FLAG_HUGEPAGE
#define GUEST_MEMFD_FLAG_HUGEPAGE	0x8ULL
#endif

/*
 * The in-place conversion proposal's values (v8): KVM_SET_MEMORY_ATTRIBUTES2
 * on a guest_memfd, whose struct takes the file offset where the VM's takes
 * a guest address.  The flags ZERO and PRESERVE are its earlier revisions'.
 */
#ifndef KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES
#define KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES	250
#endif
#ifndef KVM_SET_MEMORY_ATTRIBUTES2
struct kvm_memory_attributes2 {
	union {
		__u64 address;
		__u64 offset;
	};
	__u64 size;
	__u64 attributes;
	__u64 flags;
	__u64 error_offset;
	__u64 reserved[11];
};

#define KVM_SET_MEMORY_ATTRIBUTES2	_IOWR(KVMIO, 0xd2, struct kvm_memory_attributes2)
#endif
#ifndef KVM_SET_MEMORY_ATTRIBUTES2_ZERO
#define KVM_SET_MEMORY_ATTRIBUTES2_ZERO		0x1ULL
#endif
#ifndef KVM_SET_MEMORY_ATTRIBUTES2_PRESERVE
#define KVM_SET_MEMORY_ATTRIBUTES2_PRESERVE	0x2ULL
#endif

/*
 * Opens /dev/kvm into *@kvm and creates a VM of @type on it.  Returns the
 * VM's fd, or -1 if KVM does not offer @type (KVM_CAP_VM_TYPES).  A step
 * that fails goes to @die: "open /dev/kvm" or "KVM_CREATE_VM".
 */
static inline int gmu_create_vm(int *kvm, unsigned long type, void (*die)(const char *what))
{
	int types, vm;

	*kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (*kvm < 0)
		die("open /dev/kvm");
	types = ioctl(*kvm, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
	if (type && (types < 0 || !(types & (1 << type)))) {
		close(*kvm);
		return -1;
	}
	vm = ioctl(*kvm, KVM_CREATE_VM, type);
	if (vm < 0)
		die("KVM_CREATE_VM");
	return vm;
}

/*
 * The KVM_CREATE_GUEST_MEMFD flags that @fd (/dev/kvm or a VM) reports
 * through KVM_CAP_GUEST_MEMFD_FLAGS; 0 where the capability is unknown.
 */
static inline __u64 gmu_gmem_flags(int fd)
{
	int r = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD_FLAGS);

	if (r < 0)
		return 0;
	return r;
}

/* KVM_CREATE_GUEST_MEMFD on @vm: the new file, or -1 with errno. */
static inline int gmu_create_gmem(int vm, __u64 size, __u64 flags)
{
	struct kvm_create_guest_memfd args = {
		.size = size,
		.flags = flags,
	};

	return ioctl(vm, KVM_CREATE_GUEST_MEMFD, &args);
}

/*
 * KVM_SET_USER_MEMORY_REGION2 on @vm: memslot @slot maps guest addresses
 * [@gpa, @gpa + @size) to @hva and, with KVM_MEM_GUEST_MEMFD in @flags, to
 * guest_memfd @gmem from @offset.  0, or -1 with errno.
 */
static inline int gmu_set_region(int vm, __u32 slot, __u32 flags, __u64 gpa, __u64 size,
				 void *hva, int gmem, __u64 offset)
{
	struct kvm_userspace_memory_region2 region = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
		.guest_memfd = gmem,
		.guest_memfd_offset = offset,
	};

	return ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &region);
}

/* Deletes memslot @slot of @vm (size 0): 0, or -1 with errno. */
static inline int gmu_delete_region(int vm, __u32 slot)
{
	return gmu_set_region(vm, slot, 0, 0, 0, NULL, 0, 0);
}

/*
 * Creates vCPU @id of @vm and maps its struct kvm_run into *@run; returns
 * the vCPU's fd.  A step that fails goes to @die: "KVM_CREATE_VCPU",
 * "KVM_GET_VCPU_MMAP_SIZE" (on @kvm, /dev/kvm) or "mmap kvm_run".
 */
static inline int gmu_create_vcpu(int kvm, int vm, unsigned long id, struct kvm_run **run,
				  void (*die)(const char *what))
{
	int vcpu, run_size;

	vcpu = ioctl(vm, KVM_CREATE_VCPU, id);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(**run))
		die("KVM_GET_VCPU_MMAP_SIZE");
	*run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (*run == MAP_FAILED)
		die("mmap kvm_run");
	return vcpu;
}

/*
 * A counter of debugfs guestmem/ ("tlb_flushes", "pages_unmapped", which
 * only tests and benchmarks read), or -1 if the kernel has no such file or
 * it does not hold one number.
 */
static inline long gmu_stat(const char *name)
{
	char path[128], buf[32], *end;
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/guestmem/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f)) {
		val = strtol(buf, &end, 10);
		if (end == buf || *end != '\n')
			val = -1;
	}
	fclose(f);
	return val;
}

/*
 * Statistic @name of VM @vm from KVM's debugfs (kvm/PID-FD/, as "pages_2m"
 * for the 2 MiB stage-2 mappings), or -1 if there is no such file.
 */
static inline long gmu_vm_stat(int vm, const char *name)
{
	char path[128], buf[32];
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d/%s", (int)getpid(), vm,
		 name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		val = strtol(buf, NULL, 10);
	fclose(f);
	return val;
}

/*
 * What the library shows without debugfs (Documentation/mm/guestmem.rst,
 * "Observing guestmem"): the fdinfo of a guestmem file (a guest_memfd) and
 * the GuestMem lines of /proc/meminfo.
 */

/*
 * Line @key of /proc/self/fdinfo/@fd, its value copied to @buf; false when
 * there is no such line (or no such fd).
 */
static inline bool gmu_fdinfo_line(int fd, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	char path[64], line[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		snprintf(buf, len, "%s", line + klen + 1 + strspn(line + klen + 1, " \t"));
		buf[strcspn(buf, "\n")] = '\0';
		found = true;
	}
	fclose(f);
	return found;
}

/* Numeric field @key of the fdinfo of @fd, -1 when there is none. */
static inline long gmu_fdinfo_num(int fd, const char *key)
{
	char buf[64], *end;
	long val;

	if (!gmu_fdinfo_line(fd, key, buf, sizeof(buf)))
		return -1;
	val = strtol(buf, &end, 10);
	return end == buf || *end ? -1 : val;
}

/* Line @key of /proc/meminfo in kB, or -1 when the kernel has none. */
static inline long gmu_meminfo_kb(const char *key)
{
	size_t klen = strlen(key);
	char line[256];
	long val = -1;
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			val = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

#ifdef __x86_64__
/*
 * A real-mode x86 guest for programs that only need loads and stores at
 * guest addresses they choose: with DS's base at the address and BX 0,
 * GMU_X86_STORE stores ECX there, then (as GMU_X86_LOAD alone does) loads
 * the dword there and reports it with "out %eax, $GMU_X86_PORT" before it
 * halts.  Copied to guest address 0 (a memslot of its own).
 */
#define GMU_X86_PORT	0x10
#define GMU_X86_STORE	0x0
#define GMU_X86_LOAD	0x3

static const unsigned char gmu_x86_rm_code[] = {
	0x66, 0x89, 0x0f,		/* mov %ecx, (%bx) */
	0x66, 0x8b, 0x07,		/* mov (%bx), %eax */
	0x66, 0xe7, GMU_X86_PORT,	/* out %eax, $GMU_X86_PORT */
	0xf4,				/* hlt */
};

/*
 * Runs the guest above on @vcpu (its struct kvm_run mapped at @run) from
 * @entry with DS's base at @gpa and ECX = @value, until it halts.  Returns
 * 0 with the dword it reported in *@word, or -1 with errno: that of a
 * failed KVM_RUN (@run then says why), or EPROTO for any other exit.
 */
static inline int gmu_x86_run(int vcpu, struct kvm_run *run, unsigned int entry,
			      uint64_t gpa, uint32_t value, uint32_t *word)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	bool reported = false;

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs))
		return -1;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	/* Real mode, with the hidden base of a descriptor cache. */
	sregs.ds.base = gpa;
	sregs.ds.selector = 0;
	sregs.ds.limit = 0xffff;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs))
		return -1;
	memset(&regs, 0, sizeof(regs));
	regs.rip = entry;
	regs.rflags = 0x2;
	regs.rcx = value;
	if (ioctl(vcpu, KVM_SET_REGS, &regs))
		return -1;
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0))
			return -1;
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == GMU_X86_PORT &&
		    run->io.size == 4 && run->io.direction == KVM_EXIT_IO_OUT) {
			memcpy(word, (char *)run + run->io.data_offset, 4);
			reported = true;
			continue;
		}
		if (run->exit_reason == KVM_EXIT_HLT && reported)
			return 0;
		errno = EPROTO;
		return -1;
	}
}
#endif /* __x86_64__ */

#ifdef __aarch64__
/*
 * arm64 protected VMs: the machine type bit (upstream's value), the pKVM
 * vendor hypercalls a protected guest uses to share memory (their
 * function IDs and FEATURES bits, as in <linux/arm-smccc.h>) and the
 * SMCCC return values, which userspace headers do not have.
 */
#ifndef KVM_VM_TYPE_ARM_PROTECTED
#define KVM_VM_TYPE_ARM_PROTECTED	0x80000000UL
#endif
#define GMU_PKVM_FEATURES_FUNC		0x86000000U
#define GMU_PKVM_MEMINFO_FUNC		0xc6000002U
#define GMU_PKVM_MEM_SHARE_FUNC		0xc6000003U
#define GMU_PKVM_MEM_UNSHARE_FUNC	0xc6000004U
/* FEATURES bits 2, 3 and 4: HYP_MEMINFO, MEM_SHARE, MEM_UNSHARE */
#define GMU_PKVM_MEM_FEATURES		0x1cU
#define GMU_SMCCC_NOT_SUPPORTED		((uint64_t)-1)
#define GMU_SMCCC_INVALID_PARAMETER	((uint64_t)-3)
/* What the guest below writes into its data page while it is private. */
#define GMU_A64_SECRET			0xfeed0001U

/*
 * A protected guest, EL1 with the MMU off.  x19 is the guest address of
 * its data page (private), x20 an address without a memslot; each
 * "report" is a 64-bit MMIO write of x0 there.  Reports the vendor
 * FEATURES bitmap and the HYP_MEMINFO granule, writes GMU_A64_SECRET
 * into its data page, then loops: MEM_SHARE the page, report x0, read
 * its word back through the page (shared if that succeeded) and report
 * it; MEM_UNSHARE it, report x0, again until that is SMCCC_RET_SUCCESS;
 * report the word after its own, which the VMM wrote while the page was
 * shared.  A64 instructions, little endian as the host.
 */
static const uint32_t gmu_a64_share_guest[] = {
	0x52b0c000,	/* mov w0, #0x86000000 (FEATURES) */
	0xd4000002,	/* hvc #0 */
	0xf9000280,	/* str x0, [x20] */
	0x52800040,	/* mov w0, #2 */
	0x72b8c000,	/* movk w0, #0xc600, lsl #16 (HYP_MEMINFO) */
	0xd2800001,	/* mov x1, #0 */
	0xd2800002,	/* mov x2, #0 */
	0xd2800003,	/* mov x3, #0 */
	0xd4000002,	/* hvc #0 */
	0xf9000280,	/* str x0, [x20] */
	0x52800025,	/* mov w5, #1 */
	0x72bfdda5,	/* movk w5, #0xfeed, lsl #16 */
	0xb9000265,	/* str w5, [x19] */
	0x52800060,	/* share: mov w0, #3 */
	0x72b8c000,	/* movk w0, #0xc600, lsl #16 (MEM_SHARE) */
	0xaa1303e1,	/* mov x1, x19 */
	0xd2800002,	/* mov x2, #0 */
	0xd2800003,	/* mov x3, #0 */
	0xd4000002,	/* hvc #0 */
	0xf9000280,	/* str x0, [x20] */
	0xb9400266,	/* ldr w6, [x19] */
	0xf9000286,	/* str x6, [x20] */
	0x52800080,	/* unshare: mov w0, #4 */
	0x72b8c000,	/* movk w0, #0xc600, lsl #16 (MEM_UNSHARE) */
	0xaa1303e1,	/* mov x1, x19 */
	0xd2800002,	/* mov x2, #0 */
	0xd2800003,	/* mov x3, #0 */
	0xd4000002,	/* hvc #0 */
	0xf9000280,	/* str x0, [x20] */
	0xb5ffff20,	/* cbnz x0, unshare */
	0xb9400666,	/* ldr w6, [x19, #4] */
	0xf9000286,	/* str x6, [x20] */
	0x17ffffed,	/* b share */
};
#endif /* __aarch64__ */

#endif /* GUESTMEM_UTIL_H */
