// SPDX-License-Identifier: GPL-2.0
/*
 * gmem-populate: population, release and guest fault-in of a 256 MiB
 * guest_memfd of a software-protected VM (KVM_X86_SW_PROTECTED_VM).
 *
 * Memslot 0 is ordinary anonymous memory at GPA 0 holding the guest code;
 * memslot 1 is the guest_memfd at GPA 0x10000000, marked PRIVATE, whose
 * shared side (userspace_addr) is a MAP_NORESERVE mapping never touched.
 * The guest runs in 32-bit protected mode without paging, with flat
 * segments set through KVM_SET_SREGS, so that it can address the range.
 *
 * Each of ROUNDS rounds times, starting from an empty file:
 *   populate     fallocate(KEEP_SIZE) of the whole file
 *   punch        PUNCH_HOLE of the whole (populated, unmapped) file
 *   fault-in     the guest writes one byte to every 4 KiB page, so that
 *                each page is allocated and mapped on the guest's own
 *                fault (kvm_gmem_get_pfn); the whole KVM_RUN until hlt
 *   re-touch     the same guest loop with every page already mapped:
 *                the cost of the loop itself
 *   punch-mapped PUNCH_HOLE of the whole file while the guest maps it,
 *                which also leaves the file empty
 *   prefaulted   populate again, then the same guest loop: every page
 *                faults, but finds its folio allocated already (what a
 *                VMM gets by populating before it starts the guest);
 *                a final PUNCH_HOLE leaves the file empty for the next
 *                round
 *
 * and, summed per round, populate plus the prefaulted guest loop: the
 * cost of having the memory in use, wherever a kernel zeroes the pages.
 *
 * Where KVM_CAP_GUEST_MEMFD_FLAGS offers GUEST_MEMFD_FLAG_NO_DIRECT_MAP
 * (our kernel, not stock 6.12), a second file with the flag, whose
 * figures' names start with "nodm/", takes its rounds in turn with the
 * first file's (memslot 1 moves from one to the other), so that a change
 * in the load of this shared machine reaches both.  For that file also
 * the kernel TLB flushes the library made (debugfs guestmem/tlb_flushes)
 * per populate call, per MiB and per page faulted in, and DirectMap4k/2M
 * of /proc/meminfo before the file is created, once it is populated, and
 * after it is closed.
 *
 * Where it offers GUEST_MEMFD_FLAG_HUGEPAGE, two more files take their
 * rounds in turn: "huge/" with the flag, "huge_nodm/" with both flags.
 * For those, also the huge folios fallocate() got, and DirectMap4k/2M
 * before, populated and after as for "nodm/".  For every file: the guest's
 * stage-2 faults per MiB faulted in (KVM's pf_fixed) and the 2 MiB and
 * 4 KiB stage-2 mappings once it touched every page (pages_2m, pages_4k,
 * from debugfs).  The shared side is 2 MiB aligned, so that KVM may map
 * 2 MiB.
 *
 * Prints, for harness/bench.sh (which runs the same binary on the stock
 * and on our kernel and prints the ratios), lines
 *   BENCH <name> <median> <unit>
 * followed by <name>_min and <name>_max lines.  Any failure prints a
 * reason and exits 1.
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
#include <asm/processor-flags.h>

#include "guestmem_util.h"

#define CODE_GPA	0x0ul
#define CODE_SIZE	0x1000ul
#define PRIV_GPA	0x10000000ul
#define PRIV_SIZE	(256ul << 20)
#define PAGE_SZ		4096ul
#define NR_PAGES	(PRIV_SIZE / PAGE_SZ)
#define DONE_PORT	0x10
#define ROUNDS		7

/*
 * Guest code, 32-bit protected mode, paging off, flat segments.  On entry
 * %edi is the first guest address to touch and %esi the end of the range
 * (both page aligned, %edi < %esi).  Writes one byte to every 4 KiB page,
 * reports the final %edi (== %esi) on DONE_PORT, then halts.
 */
asm(".pushsection .rodata\n"
	".globl guest_touch, guest_touch_end\n"
	"guest_touch:\n"
	".code32\n"
	"1:	movb $1, (%edi)\n"
	"	add $0x1000, %edi\n"
	"	cmp %esi, %edi\n"
	"	jb 1b\n"
	"	mov %edi, %eax\n"
	"	out %eax, $0x10\n"
	"	hlt\n"
	".code64\n"
	"guest_touch_end:\n"
	".popsection\n");
extern const char guest_touch[], guest_touch_end[];

static int vm, vcpu, gfd;
static struct kvm_run *run;
static void *shared;

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("gmem-populate: FAILED: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	exit(1);
}

static void die(const char *what)
{
	fail("%s: %s", what, strerror(errno));
}

static double now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		die("clock_gettime");
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* fallocate() of the whole file with @mode; returns the time it took. */
static double gmem_fallocate(int mode, const char *what)
{
	double t = now_ms();

	if (fallocate(gfd, mode, 0, PRIV_SIZE))
		die(what);
	return now_ms() - t;
}

static __u64 guest_rip(void)
{
	struct kvm_regs regs;

	if (ioctl(vcpu, KVM_GET_REGS, &regs))
		return ~0ull;
	return regs.rip;
}

static void flat_segment(struct kvm_segment *seg, __u16 selector, __u8 type)
{
	memset(seg, 0, sizeof(*seg));
	seg->base = 0;
	seg->limit = 0xffffffff;	/* byte granular, as KVM keeps it */
	seg->selector = selector;
	seg->type = type;
	seg->present = 1;
	seg->dpl = 0;
	seg->db = 1;
	seg->s = 1;
	seg->g = 1;
}

/*
 * 32-bit protected mode without paging: CR0.PE only, and flat 4 GiB
 * segments loaded straight into the descriptor caches (no GDT is needed,
 * the guest never loads a selector).  IDT limit 0: any exception ends in
 * a triple fault, i.e. a KVM_EXIT_SHUTDOWN that the run loop reports.
 */
static void enter_protected_mode(void)
{
	struct kvm_sregs sregs;

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs))
		die("KVM_GET_SREGS");
	sregs.cr0 = (sregs.cr0 | X86_CR0_PE) & ~(X86_CR0_CD | X86_CR0_NW);
	sregs.cr4 = 0;
	sregs.efer = 0;
	flat_segment(&sregs.cs, 0x08, 0xb);	/* code, execute/read, accessed */
	flat_segment(&sregs.ds, 0x10, 0x3);	/* data, read/write, accessed */
	sregs.es = sregs.ds;
	sregs.fs = sregs.ds;
	sregs.gs = sregs.ds;
	sregs.ss = sregs.ds;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs))
		die("KVM_SET_SREGS (32-bit protected mode)");
}

/*
 * Run the guest loop over the whole private range until it halts; returns
 * the time from the first KVM_RUN to the KVM_EXIT_HLT.  Every exit other
 * than the one expected next is a failure.
 */
static double run_guest(void)
{
	struct kvm_regs regs;
	int reported = 0;
	__u32 val;
	double t;

	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA;
	regs.rdi = PRIV_GPA;
	regs.rsi = PRIV_GPA + PRIV_SIZE;
	regs.rflags = X86_EFLAGS_FIXED;
	if (ioctl(vcpu, KVM_SET_REGS, &regs))
		die("KVM_SET_REGS");

	t = now_ms();
	for (;;) {
		run->exit_reason = KVM_EXIT_UNKNOWN;
		if (ioctl(vcpu, KVM_RUN, 0)) {
			if (errno == EINTR)
				continue;
			if (errno == EFAULT && run->exit_reason == KVM_EXIT_MEMORY_FAULT)
				fail("memory fault exit: gpa 0x%llx size 0x%llx flags 0x%llx",
				     (unsigned long long)run->memory_fault.gpa,
				     (unsigned long long)run->memory_fault.size,
				     (unsigned long long)run->memory_fault.flags);
			die("KVM_RUN");
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (reported || run->io.direction != KVM_EXIT_IO_OUT ||
			    run->io.port != DONE_PORT || run->io.size != 4 ||
			    run->io.count != 1)
				fail("unexpected I/O exit: port 0x%x size %u count %u dir %u",
				     run->io.port, run->io.size, run->io.count,
				     run->io.direction);
			memcpy(&val, (char *)run + run->io.data_offset, sizeof(val));
			if (val != PRIV_GPA + PRIV_SIZE)
				fail("the guest stopped at 0x%x, not 0x%lx", val,
				     PRIV_GPA + PRIV_SIZE);
			reported = 1;
			break;
		case KVM_EXIT_HLT:
			t = now_ms() - t;
			if (!reported)
				fail("the guest halted without reporting");
			return t;
		case KVM_EXIT_MMIO:
			fail("unexpected MMIO exit at gpa 0x%llx",
			     (unsigned long long)run->mmio.phys_addr);
			break;
		case KVM_EXIT_FAIL_ENTRY:
			fail("entry failed: reason 0x%llx",
			     (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			break;
		case KVM_EXIT_SHUTDOWN:
			fail("the guest triple-faulted (KVM_EXIT_SHUTDOWN) at rip 0x%llx",
			     (unsigned long long)guest_rip());
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			fail("KVM internal error, suberror %u", run->internal.suberror);
			break;
		default:
			fail("unexpected exit reason %u", run->exit_reason);
		}
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sorts @v; prints its median, then its minimum and maximum. */
static double report(const char *prefix, const char *name, double *v, const char *unit)
{
	qsort(v, ROUNDS, sizeof(*v), cmp);
	printf("BENCH %s%s %.2f %s\n", prefix, name, v[ROUNDS / 2], unit);
	printf("BENCH %s%s_min %.2f %s\n", prefix, name, v[0], unit);
	printf("BENCH %s%s_max %.2f %s\n", prefix, name, v[ROUNDS - 1], unit);
	return v[ROUNDS / 2];
}

static void check_shared_side_untouched(void)
{
	unsigned char *vec = malloc(NR_PAGES);
	unsigned long i;

	if (!vec)
		die("malloc");
	if (mincore(shared, PRIV_SIZE, vec))
		die("mincore");
	for (i = 0; i < NR_PAGES; i++)
		if (vec[i] & 1)
			fail("the guest's writes reached the shared mapping (page %lu)", i);
	free(vec);
}

/* The library's kernel TLB flush count (debugfs), or -1 without it. */
static long tlb_flushes(void)
{
	return gmu_stat("tlb_flushes");
}

/* A /proc/meminfo field in kB ("DirectMap4k"), or -1 if it has none. */
static long meminfo_kb(const char *field)
{
	char line[128];
	size_t len = strlen(field);
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		die("/proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			sscanf(line + len + 1, "%ld", &kb);
	fclose(f);
	return kb;
}

static void report_directmap(const char *prefix, const char *when)
{
	printf("BENCH %sdirectmap4k_%s %ld kB\n", prefix, when, meminfo_kb("DirectMap4k"));
	printf("BENCH %sdirectmap2M_%s %ld kB\n", prefix, when, meminfo_kb("DirectMap2M"));
}

/* A statistic of the VM from KVM's debugfs; fails without it. */
static long vm_stat(const char *name)
{
	long v = gmu_vm_stat(vm, name);

	if (v < 0)
		fail("no debugfs kvm statistic %s", name);
	return v;
}

/*
 * One 256 MiB guest_memfd under test and its figures, one per round.
 * Its rounds alternate with the other file's (see main()), so that a
 * change in the load of the machine reaches both files alike.
 */
struct bench_file {
	const char *prefix;	/* of its figures' names: "", "nodm/", ... */
	int fd;
	int count_flushes;	/* report the library's flushes too */
	int huge;		/* GUEST_MEMFD_FLAG_HUGEPAGE: stage-2 figures */
	long s2_faults, pages_2m, pages_4k, large_folios;
	double pop[ROUNDS], punch[ROUNDS], fault[ROUNDS], retouch[ROUNDS];
	double punch_mapped[ROUNDS], prefaulted[ROUNDS];
	double pop_prefaulted[ROUNDS];
	long pop_flushes, fault_flushes, prefault_flushes;
};

static void file_open(struct bench_file *f, __u64 flags, const char *prefix,
		      int count_flushes)
{
	memset(f, 0, sizeof(*f));
	f->prefix = prefix;
	f->count_flushes = count_flushes;
	f->huge = !!(flags & GUEST_MEMFD_FLAG_HUGEPAGE);
	f->fd = gmu_create_gmem(vm, PRIV_SIZE, flags);
	if (f->fd < 0)
		die("KVM_CREATE_GUEST_MEMFD");
}

/*
 * Round @i on @f: memslot 1 is bound to it for the round only, and the
 * file is empty before and after.
 */
static void file_round(struct bench_file *f, int i)
{
	long f0, s2;

	gfd = f->fd;
	if (gmu_set_region(vm, 1, KVM_MEM_GUEST_MEMFD, PRIV_GPA, PRIV_SIZE, shared, gfd, 0))
		die("KVM_SET_USER_MEMORY_REGION2 (guest_memfd)");

	f0 = tlb_flushes();
	f->pop[i] = gmem_fallocate(FALLOC_FL_KEEP_SIZE, "fallocate(KEEP_SIZE)");
	f->pop_flushes += tlb_flushes() - f0;
	if (f->count_flushes && i == 0)
		report_directmap(f->prefix, "populated");
	if (f->huge)
		f->large_folios += gmu_fdinfo_num(gfd, "guestmem-large-folios");
	f->punch[i] = gmem_fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				     "fallocate(PUNCH_HOLE)");
	f0 = tlb_flushes();
	s2 = vm_stat("pf_fixed");
	f->fault[i] = run_guest();
	f->fault_flushes += tlb_flushes() - f0;
	f->s2_faults += vm_stat("pf_fixed") - s2;
	f->pages_2m += vm_stat("pages_2m");
	f->pages_4k += vm_stat("pages_4k");
	f->retouch[i] = run_guest();
	f->punch_mapped[i] = gmem_fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					    "fallocate(PUNCH_HOLE) of the mapped file");
	f->pop_prefaulted[i] = gmem_fallocate(FALLOC_FL_KEEP_SIZE,
					      "fallocate(KEEP_SIZE) before prefaulting");
	f0 = tlb_flushes();
	f->prefaulted[i] = run_guest();
	f->prefault_flushes += tlb_flushes() - f0;
	/* What a VMM pays to have the memory in use: populate, first touch. */
	f->pop_prefaulted[i] += f->prefaulted[i];
	gmem_fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		       "fallocate(PUNCH_HOLE) after prefaulting");

	if (gmu_delete_region(vm, 1))
		die("KVM_SET_USER_MEMORY_REGION2 (delete)");
}

static void file_report(struct bench_file *f)
{
	const char *prefix = f->prefix;
	char name[64];
	double fault_ms;

	report(prefix, "gmem_populate_256MiB", f->pop, "ms");
	report(prefix, "gmem_punch_hole_256MiB", f->punch, "ms");
	fault_ms = report(prefix, "gmem_guest_fault_in_256MiB", f->fault, "ms");
	snprintf(name, sizeof(name), "%sgmem_guest_fault_in_per_page", prefix);
	printf("BENCH %s %.2f us\n", name, fault_ms * 1e3 / NR_PAGES);
	report(prefix, "gmem_guest_retouch_256MiB", f->retouch, "ms");
	report(prefix, "gmem_punch_hole_mapped_256MiB", f->punch_mapped, "ms");
	report(prefix, "gmem_guest_fault_in_populated_256MiB", f->prefaulted, "ms");
	report(prefix, "gmem_populate_then_fault_in_256MiB", f->pop_prefaulted, "ms");
	if (f->count_flushes) {
		printf("BENCH %stlb_flushes_per_populate %.2f flushes\n", prefix,
		       (double)f->pop_flushes / ROUNDS);
		printf("BENCH %stlb_flushes_per_MiB_populated %.4f flushes\n", prefix,
		       (double)f->pop_flushes / ROUNDS / (PRIV_SIZE >> 20));
		printf("BENCH %stlb_flushes_per_page_faulted_in %.2f flushes\n", prefix,
		       (double)f->fault_flushes / ROUNDS / NR_PAGES);
		printf("BENCH %stlb_flushes_per_page_faulted_in_populated %.2f flushes\n",
		       prefix, (double)f->prefault_flushes / ROUNDS / NR_PAGES);
	}
	printf("BENCH %sstage2_faults_per_MiB_faulted_in %.2f faults\n", prefix,
	       (double)f->s2_faults / ROUNDS / (PRIV_SIZE >> 20));
	printf("BENCH %sstage2_2M_mappings_after_fault_in %.1f mappings\n", prefix,
	       (double)f->pages_2m / ROUNDS);
	printf("BENCH %sstage2_4K_mappings_after_fault_in %.1f mappings\n", prefix,
	       (double)f->pages_4k / ROUNDS);
	if (f->huge)
		printf("BENCH %shuge_folios_per_populate %.1f folios\n", prefix,
		       (double)f->large_folios / ROUNDS);
}

int main(void)
{
	struct kvm_memory_attributes attr = {
		.address = PRIV_GPA,
		.size = PRIV_SIZE,
		.attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE,
	};
	struct bench_file files[4];
	int kvm, nodm, huge, nr = 0, i, j;
	char *area;
	void *code;

	vm = gmu_create_vm(&kvm, KVM_X86_SW_PROTECTED_VM, die);
	if (vm < 0)
		fail("KVM_X86_SW_PROTECTED_VM is not supported");

	code = mmap(NULL, CODE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* 2 MiB aligned, as the GPA: KVM maps 2 MiB only then. */
	area = mmap(NULL, PRIV_SIZE + (2ul << 20), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (code == MAP_FAILED || area == MAP_FAILED)
		die("mmap");
	shared = (void *)(((uintptr_t)area + (2ul << 20) - 1) & ~((2ul << 20) - 1));
	memcpy(code, guest_touch, guest_touch_end - guest_touch);

	if (gmu_set_region(vm, 0, 0, CODE_GPA, CODE_SIZE, code, 0, 0))
		die("KVM_SET_USER_MEMORY_REGION2 (code)");
	if (ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &attr))
		die("KVM_SET_MEMORY_ATTRIBUTES (PRIVATE)");

	vcpu = gmu_create_vcpu(kvm, vm, 0, &run, die);
	enter_protected_mode();

	file_open(&files[nr++], 0, "", 0);
	nodm = gmu_gmem_flags(vm) & GUEST_MEMFD_FLAG_NO_DIRECT_MAP;
	huge = gmu_gmem_flags(vm) & GUEST_MEMFD_FLAG_HUGEPAGE;
	if (nodm) {
		if (tlb_flushes() < 0)
			fail("no debugfs guestmem/tlb_flushes");
		report_directmap("nodm/", "before");
		file_open(&files[nr++], GUEST_MEMFD_FLAG_NO_DIRECT_MAP, "nodm/", 1);
	}
	if (huge) {
		file_open(&files[nr++], GUEST_MEMFD_FLAG_HUGEPAGE, "huge/", 0);
		if (nodm) {
			report_directmap("huge_nodm/", "before");
			file_open(&files[nr++], GUEST_MEMFD_FLAG_HUGEPAGE |
				  GUEST_MEMFD_FLAG_NO_DIRECT_MAP, "huge_nodm/", 1);
		}
	}

	/* Rounds alternate, and so does which file goes first in a round. */
	for (i = 0; i < ROUNDS; i++)
		for (j = 0; j < nr; j++)
			file_round(&files[(i + j) % nr], i);
	check_shared_side_untouched();

	for (j = 0; j < nr; j++) {
		file_report(&files[j]);
		close(files[j].fd);
		if (files[j].count_flushes)
			report_directmap(files[j].prefix, "after");
	}

	close(vcpu);
	close(vm);
	close(kvm);
	return 0;
}
