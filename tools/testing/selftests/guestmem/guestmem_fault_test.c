// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem_fault_test: each guest_memfd entry point with its N-th
 * allocation failing, for N = 1, 2, ... until the call no longer gets as
 * far as an N-th one.  The kernel's fault injection does the failing: the
 * per-thread /proc/thread-self/fail-nth counts down at every point where
 * the page allocator (fail_page_alloc) or a slab cache (failslab) may
 * fail, and fails the one it reaches zero at.  Read back afterwards, it
 * says whether that happened (0) or the call ended first (not 0).
 *
 * The entry points: file creation, fallocate(), a host fault through the
 * VMM's mapping, conversion to private and to shared, memslot binding,
 * and taking pages out of the direct map (fallocate() and the host fault
 * of a GUEST_MEMFD_FLAG_NO_DIRECT_MAP file; with debug_pagealloc the
 * direct map has 4 KiB entries already and that needs no allocation, so
 * only the stress boot, which runs without it, reaches a page-table
 * allocation there).  For every failure, each test checks:
 *
 *  - the errno is ENOMEM (a host fault: SIGBUS; Documentation/mm/guestmem.rst,
 *    "Failure behaviour");
 *  - the file stays usable: the same call succeeds when nothing fails;
 *  - state and contents are unchanged: shared pages keep their bytes,
 *    nothing converts halfway, no memslot appears;
 *  - nothing leaks: GuestMem and GuestMemNoDMap of /proc/meminfo come
 *    back to where they were once the file is gone, and the fdinfo
 *    counters match what the file holds.
 *
 * Each test prints how many injection points it tried and how the call
 * ended at each.  Needs CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB,
 * CONFIG_FAIL_PAGE_ALLOC and CONFIG_FAULT_INJECTION_DEBUG_FS (it sets the
 * knobs that let order-0 and sleeping allocations fail, and puts them
 * back afterwards).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/falloc.h>
#include <linux/kvm.h>

#include "../kselftest_harness.h"
#include "guestmem_util.h"

/* No entry point here comes near it; a loop that does is a failure. */
#define FI_MAX_POINTS		4096
#define FI_PAGES		16
#define FI_HUGE_SIZE		(2UL << 20)
#define MMAP_SHARED_FLAGS	(GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED)

/*
 * The debugfs knobs that keep fail-nth from reaching most allocations by
 * default: fail_page_alloc ignores highmem (guest memory is GFP_HIGHUSER),
 * sleeping allocations and orders below 1; failslab ignores sleeping
 * allocations.  verbose 0: no stack dump per failure in the log.
 */
static const struct {
	const char *path;
	const char *value;
} fi_knobs[] = {
	{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N" },
	{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
	{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
	{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
	{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
	{ "/sys/kernel/debug/failslab/verbose", "0" },
};

#define NR_KNOBS	ARRAY_SIZE(fi_knobs)

static bool knob_read(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, len, f);
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static bool knob_write(const char *path, const char *value)
{
	FILE *f = fopen(path, "w");
	bool ok;

	if (!f)
		return false;
	ok = fputs(value, f) >= 0;
	return !fclose(f) && ok;
}

/* How the runs of one entry point ended, for its closing line. */
struct fi_tally {
	const char *what;
	int points;	/* injection points reached (= failures injected) */
	int errors;	/* ... after which the call failed (ENOMEM) */
	int absorbed;	/* ... which the kernel got around, and succeeded */
	int sigbus;	/* host faults only: ... which ended in SIGBUS */
};

FIXTURE(fi) {
	int kvm;
	int vm;
	int nth;		/* /proc/thread-self/fail-nth */
	__u64 page;
	__u64 size;
	__u64 pages;
	long gm_kb;		/* GuestMem before the test */
	long nodm_kb;		/* GuestMemNoDMap before the test */
	bool knobs_set;
	char saved[NR_KNOBS][32];
};

FIXTURE_VARIANT(fi) {
	unsigned long vm_type;
	__u64 flags;
};

#ifdef __x86_64__
FIXTURE_VARIANT_ADD(fi, sw_protected_vm_mmap) {
	.vm_type = KVM_X86_SW_PROTECTED_VM,
	.flags = MMAP_SHARED_FLAGS,
};

FIXTURE_VARIANT_ADD(fi, sw_protected_vm_mmap_no_direct_map) {
	.vm_type = KVM_X86_SW_PROTECTED_VM,
	.flags = MMAP_SHARED_FLAGS | GUEST_MEMFD_FLAG_NO_DIRECT_MAP,
};

FIXTURE_VARIANT_ADD(fi, sw_protected_vm_mmap_huge) {
	.vm_type = KVM_X86_SW_PROTECTED_VM,
	.flags = MMAP_SHARED_FLAGS | GUEST_MEMFD_FLAG_HUGEPAGE,
};

FIXTURE_VARIANT_ADD(fi, sw_protected_vm_no_mmap) {
	.vm_type = KVM_X86_SW_PROTECTED_VM,
	.flags = 0,
};
#else
FIXTURE_VARIANT_ADD(fi, default_vm_mmap) {
	.vm_type = 0,
	.flags = MMAP_SHARED_FLAGS,
};
#endif

FIXTURE_SETUP(fi)
{
	char path[64];
	unsigned int i;

	self->kvm = -1;
	self->vm = -1;
	self->nth = -1;
	self->knobs_set = false;
	self->page = sysconf(_SC_PAGESIZE);
	self->size = variant->flags & GUEST_MEMFD_FLAG_HUGEPAGE ? FI_HUGE_SIZE :
		     FI_PAGES * self->page;
	self->pages = self->size / self->page;

	self->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (self->kvm < 0)
		SKIP(return, "/dev/kvm: %s", strerror(errno));
	self->vm = ioctl(self->kvm, KVM_CREATE_VM, variant->vm_type);
	ASSERT_LE(0, self->vm) TH_LOG("KVM_CREATE_VM: %s", strerror(errno));
	ASSERT_EQ(variant->flags, variant->flags & gmu_gmem_flags(self->vm));

	snprintf(path, sizeof(path), "/proc/thread-self/fail-nth");
	self->nth = open(path, O_RDWR | O_CLOEXEC);
	if (self->nth < 0)
		SKIP(return, "%s: %s (no CONFIG_FAULT_INJECTION)", path, strerror(errno));
	for (i = 0; i < NR_KNOBS; i++)
		if (!knob_read(fi_knobs[i].path, self->saved[i], sizeof(self->saved[i])))
			SKIP(return, "%s: %s (no fail_page_alloc/failslab in debugfs)",
			     fi_knobs[i].path, strerror(errno));
	self->knobs_set = true;
	for (i = 0; i < NR_KNOBS; i++) {
		bool ok = knob_write(fi_knobs[i].path, fi_knobs[i].value);

		ASSERT_TRUE(ok) TH_LOG("knob %u: %s", i, strerror(errno));
	}

	self->gm_kb = gmu_meminfo_kb("GuestMem");
	self->nodm_kb = gmu_meminfo_kb("GuestMemNoDMap");
	ASSERT_LE(0, self->gm_kb);
	ASSERT_LE(0, self->nodm_kb);
	/*
	 * This process's own page faults must not take the failures meant
	 * for the calls under test: what it has is populated now.
	 */
	ASSERT_EQ(0, mlockall(MCL_CURRENT));
}

FIXTURE_TEARDOWN(fi)
{
	unsigned int i;

	if (self->knobs_set)
		for (i = 0; i < NR_KNOBS; i++)
			knob_write(fi_knobs[i].path, self->saved[i]);
	if (self->nth >= 0)
		close(self->nth);
	if (self->vm >= 0)
		close(self->vm);
	if (self->kvm >= 0)
		close(self->kvm);
}

/* The next call of this thread fails at its @n-th injection point. */
static void fi_arm(struct __test_metadata *_metadata, int nth, int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", n);

	ASSERT_EQ(len, pwrite(nth, buf, len, 0)) TH_LOG("fail-nth: %s", strerror(errno));
}

/*
 * Disarms fail-nth; true if the armed failure was injected (the counter
 * reached 0), false if the call ended before its @n-th point.  errno is
 * kept for the caller.
 */
static bool fi_fired(struct __test_metadata *_metadata, int nth)
{
	char buf[16] = "";
	int err = errno;
	ssize_t len;

	len = pread(nth, buf, sizeof(buf) - 1, 0);
	ASSERT_LT(0, len) TH_LOG("fail-nth: %s", strerror(errno));
	ASSERT_EQ(1, pwrite(nth, "0", 1, 0));
	errno = err;
	return strtoul(buf, NULL, 10) == 0;
}

static void fi_report(struct __test_metadata *_metadata, const struct fi_tally *t)
{
	TH_LOG("%s: %d injection points: %d failed with ENOMEM, %d with SIGBUS, %d absorbed",
	       t->what, t->points, t->errors, t->sigbus, t->absorbed);
}

/* GuestMem and GuestMemNoDMap are back to where the test started. */
static void fi_no_leak(struct __test_metadata *_metadata, FIXTURE_DATA(fi) * self)
{
	ASSERT_EQ(self->gm_kb, gmu_meminfo_kb("GuestMem"));
	ASSERT_EQ(self->nodm_kb, gmu_meminfo_kb("GuestMemNoDMap"));
}

/*
 * What the file holds agrees with the system's counters: GuestMem grew by
 * its pages, GuestMemNoDMap by those out of the direct map, and in a
 * NO_DIRECT_MAP file no page that was handed out is still in it.
 */
static long fi_pages(struct __test_metadata *_metadata, FIXTURE_DATA(fi) * self, int fd)
{
	long pages = gmu_fdinfo_num(fd, "guestmem-pages");
	long nodm = gmu_fdinfo_num(fd, "guestmem-pages-no-direct-map");

	ASSERT_LE(0, pages);
	ASSERT_LE(0, nodm);
	ASSERT_GE(pages, nodm);
	ASSERT_EQ(self->gm_kb + pages * (long)(self->page / 1024), gmu_meminfo_kb("GuestMem"));
	ASSERT_EQ(self->nodm_kb + nodm * (long)(self->page / 1024),
		  gmu_meminfo_kb("GuestMemNoDMap"));
	return pages;
}

static int fi_new_file(FIXTURE_DATA(fi) * self, const FIXTURE_VARIANT(fi) * variant)
{
	return gmu_create_gmem(self->vm, self->size, variant->flags);
}

/* Every page allocated and, in a NO_DIRECT_MAP file, out of the direct map. */
static void fi_all_there(struct __test_metadata *_metadata, FIXTURE_DATA(fi) * self,
			 const FIXTURE_VARIANT(fi) * variant, int fd)
{
	ASSERT_EQ((long)self->pages, fi_pages(_metadata, self, fd));
	if (variant->flags & GUEST_MEMFD_FLAG_NO_DIRECT_MAP)
		ASSERT_EQ((long)self->pages, gmu_fdinfo_num(fd, "guestmem-pages-no-direct-map"));
}

/*
 * KVM_CREATE_GUEST_MEMFD: a failure is ENOMEM and leaves no file and no
 * file descriptor behind (the next one is the same number).
 */
TEST_F(fi, create)
{
	struct fi_tally t = { .what = "KVM_CREATE_GUEST_MEMFD" };
	int n, fd, lowest;

	lowest = dup(0);
	ASSERT_LE(0, lowest);
	ASSERT_EQ(0, close(lowest));
	for (n = 1; n < FI_MAX_POINTS; n++) {
		fi_arm(_metadata, self->nth, n);
		fd = fi_new_file(self, variant);
		if (!fi_fired(_metadata, self->nth)) {
			ASSERT_EQ(lowest, fd) TH_LOG("%s", strerror(errno));
			ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, self->size));
			fi_all_there(_metadata, self, variant, fd);
			ASSERT_EQ(0, close(fd));
			break;
		}
		t.points++;
		if (fd >= 0) {
			t.absorbed++;
			ASSERT_EQ(lowest, fd);
			ASSERT_EQ(0, close(fd));
			continue;
		}
		t.errors++;
		ASSERT_EQ(ENOMEM, errno) TH_LOG("point %d: %s", n, strerror(errno));
		fd = dup(0);
		ASSERT_EQ(lowest, fd) TH_LOG("point %d left a file descriptor", n);
		ASSERT_EQ(0, close(fd));
		fi_no_leak(_metadata, self);
	}
	ASSERT_LT(n, FI_MAX_POINTS);
	ASSERT_LT(0, t.points);
	fi_report(_metadata, &t);
	fi_no_leak(_metadata, self);
}

/*
 * fallocate() of the whole file, from empty.  A failure is ENOMEM; the
 * folios allocated before it stay (as in shmem and upstream guest_memfd)
 * and are counted; the same call then completes the file.  In a
 * NO_DIRECT_MAP file this is where pages leave the direct map.
 */
TEST_F(fi, fallocate)
{
	struct fi_tally t = { .what = "fallocate" };
	int n, fd, r;
	long pages;

	fd = fi_new_file(self, variant);
	ASSERT_LE(0, fd);
	for (n = 1; n < FI_MAX_POINTS; n++) {
		ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0,
				       self->size));
		ASSERT_EQ(0, fi_pages(_metadata, self, fd));
		fi_arm(_metadata, self->nth, n);
		r = fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, self->size);
		if (!fi_fired(_metadata, self->nth)) {
			ASSERT_EQ(0, r) TH_LOG("%s", strerror(errno));
			fi_all_there(_metadata, self, variant, fd);
			break;
		}
		t.points++;
		if (!r) {
			t.absorbed++;
			fi_all_there(_metadata, self, variant, fd);
			continue;
		}
		t.errors++;
		ASSERT_EQ(ENOMEM, errno) TH_LOG("point %d: %s", n, strerror(errno));
		/*
		 * Something is left undone: a page not allocated, or (the
		 * removal from the direct map failed) one still in it.
		 */
		pages = fi_pages(_metadata, self, fd);
		ASSERT_TRUE(pages < (long)self->pages ||
			    gmu_fdinfo_num(fd, "guestmem-pages-no-direct-map") < pages)
			TH_LOG("point %d: %ld pages", n, pages);
		ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, self->size));
		fi_all_there(_metadata, self, variant, fd);
	}
	ASSERT_LT(n, FI_MAX_POINTS);
	ASSERT_LT(0, t.points);
	fi_report(_metadata, &t);
	ASSERT_EQ(0, close(fd));
	fi_no_leak(_metadata, self);
}

/*
 * The pattern of byte @i of a shared page in the tests below; round 0 is
 * all zero.
 */
static char fi_byte(__u64 i, int round)
{
	return round ? (char)(i * 13 + round * 7 + 1) : 0;
}

static char *fi_map(struct __test_metadata *_metadata, FIXTURE_DATA(fi) * self, int fd)
{
	char *m = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	ASSERT_NE(MAP_FAILED, m) TH_LOG("mmap: %s", strerror(errno));
	return m;
}

/*
 * A host write fault on page 1 of an empty file.  A fault that cannot
 * allocate raises SIGBUS, and the same access then works; one whose
 * failed allocation was only an extra (the pages after it, which a
 * NO_DIRECT_MAP file takes out of the direct map together) completes.
 * Either way the page holds what was written, once, and zeroes around it.
 */
TEST_F(fi, host_fault)
{
	struct fi_tally t = { .what = "host fault" };
	__u64 i;
	bool bus;
	char *m;
	int n, fd;

	fd = fi_new_file(self, variant);
	ASSERT_LE(0, fd);
	if (!(variant->flags & GUEST_MEMFD_FLAG_MMAP)) {
		/* No host mapping at all: nothing to fault. */
		ASSERT_EQ(MAP_FAILED, mmap(NULL, self->size, PROT_READ | PROT_WRITE,
					   MAP_SHARED, fd, 0));
		ASSERT_EQ(ENODEV, errno);
		ASSERT_EQ(0, close(fd));
		return;
	}
	m = fi_map(_metadata, self, fd);
	for (n = 1; n < FI_MAX_POINTS; n++) {
		ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0,
				       self->size));
		/* The page-table pages of the mapping exist already. */
		ASSERT_FALSE(touch_bus(m, true, 1));
		ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0,
				       self->size));
		fi_arm(_metadata, self->nth, n);
		bus = touch_bus(m + self->page + 3, true, fi_byte(3, n));
		if (!fi_fired(_metadata, self->nth)) {
			ASSERT_FALSE(bus);
			ASSERT_EQ(fi_byte(3, n), m[self->page + 3]);
			break;
		}
		t.points++;
		if (bus) {
			t.sigbus++;
			ASSERT_FALSE(touch_bus(m + self->page + 3, true, fi_byte(3, n)));
		} else {
			t.absorbed++;
		}
		ASSERT_EQ(fi_byte(3, n), m[self->page + 3]) TH_LOG("point %d", n);
		for (i = 0; i < self->page; i++)
			if (i != 3)
				ASSERT_EQ(0, m[self->page + i]) TH_LOG("point %d byte %llu", n, i);
		fi_pages(_metadata, self, fd);
	}
	ASSERT_LT(n, FI_MAX_POINTS);
	ASSERT_LT(0, t.points);
	fi_report(_metadata, &t);
	ASSERT_EQ(0, munmap(m, self->size));
	ASSERT_EQ(0, close(fd));
	fi_no_leak(_metadata, self);
}

static int fi_convert(int fd, __u64 offset, __u64 size, bool private)
{
	struct kvm_memory_attributes2 attr = {
		.offset = offset,
		.size = size,
		.attributes = private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0,
	};

	return ioctl(fd, KVM_SET_MEMORY_ATTRIBUTES2, &attr);
}

/* Pages [@first, @first + @nr) are shared: mapped, with pattern @round. */
static void fi_check_shared(struct __test_metadata *_metadata, FIXTURE_DATA(fi) * self,
			    char *m, __u64 first, __u64 nr, int round)
{
	__u64 i;

	for (i = first; i < first + nr; i++)
		ASSERT_FALSE(touch_bus(m + i * self->page, false, 0)) TH_LOG("page %llu", i);
	for (i = first * self->page; i < (first + nr) * self->page; i++)
		ASSERT_EQ(fi_byte(i, round), m[i]) TH_LOG("byte %llu", i);
}

/*
 * Conversion of pages [1, 3) of a populated file: to private from all
 * shared, or to shared from all private.  In a huge-backed file the range
 * lies inside the one 2 MiB folio, which the call splits first (the
 * allocations of the split); the host writes no pattern there before,
 * since its fault would split the folio already (the host maps single
 * pages), and the contents checked are the zeroes.  A failure is ENOMEM
 * and changes nothing: every page keeps its state and its bytes; the same
 * call then succeeds, and the contents survive.
 */
static void fi_convert_test(struct __test_metadata *_metadata, FIXTURE_DATA(fi) * self,
			    const FIXTURE_VARIANT(fi) * variant, bool to_private)
{
	struct fi_tally t = { .what = to_private ? "conversion to private" :
						   "conversion to shared" };
	const __u64 first = 1, nr = 2;
	bool huge = variant->flags & GUEST_MEMFD_FLAG_HUGEPAGE;
	bool last = false, in;
	int n, fd, r, round;
	char *m;
	__u64 i;

	fd = fi_new_file(self, variant);
	ASSERT_LE(0, fd);
	if (!(variant->flags & GUEST_MEMFD_FLAG_MMAP)) {
		/* Every page is private for good: the ioctl is refused. */
		ASSERT_EQ(-1, fi_convert(fd, first * self->page, nr * self->page, to_private));
		ASSERT_EQ(EINVAL, errno);
		ASSERT_EQ(0, close(fd));
		return;
	}
	m = fi_map(_metadata, self, fd);
	for (n = 1; !last && n < FI_MAX_POINTS; n++) {
		/* A fresh file for each run: a split is not undone. */
		ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0,
				       self->size));
		ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, self->size));
		ASSERT_EQ(0, fi_convert(fd, 0, self->size, false));
		round = huge ? 0 : n;
		for (i = 0; i < self->size && round; i++)
			m[i] = fi_byte(i, round);
		if (!to_private)
			ASSERT_EQ(0, fi_convert(fd, 0, self->size, true));

		fi_arm(_metadata, self->nth, n);
		r = fi_convert(fd, first * self->page, nr * self->page, to_private);
		if (!fi_fired(_metadata, self->nth)) {
			ASSERT_EQ(0, r) TH_LOG("%s", strerror(errno));
			last = true;
		} else if (!r) {
			t.points++;
			t.absorbed++;
		} else {
			t.points++;
			t.errors++;
			ASSERT_EQ(ENOMEM, errno) TH_LOG("point %d: %s", n, strerror(errno));
			/* Unchanged: every page as it was. */
			ASSERT_EQ(to_private ? self->pages : 0,
				  gmu_fdinfo_num(fd, "guestmem-pages-shared"));
			for (i = 0; i < self->pages; i++)
				ASSERT_EQ(!to_private, touch_bus(m + i * self->page, false, 0))
					TH_LOG("point %d page %llu", n, i);
			if (to_private)
				fi_check_shared(_metadata, self, m, 0, self->pages, round);
			ASSERT_EQ(0, fi_convert(fd, first * self->page, nr * self->page,
						to_private));
		}
		ASSERT_EQ(to_private ? self->pages - nr : nr,
			  gmu_fdinfo_num(fd, "guestmem-pages-shared"));
		for (i = 0; i < self->pages; i++) {
			in = i >= first && i < first + nr;
			ASSERT_EQ(in == to_private, touch_bus(m + i * self->page, false, 0))
				TH_LOG("point %d page %llu", n, i);
		}
		ASSERT_EQ(0, fi_convert(fd, 0, self->size, false));
		fi_check_shared(_metadata, self, m, 0, self->pages, round);
		fi_all_there(_metadata, self, variant, fd);
	}
	ASSERT_TRUE(last);
	fi_report(_metadata, &t);
	ASSERT_EQ(0, munmap(m, self->size));
	ASSERT_EQ(0, close(fd));
	fi_no_leak(_metadata, self);
}

/*
 * Each injection point repopulates the whole file and, after a failure,
 * touches and checks every page of it: on a 2 MiB file, under KASAN on a
 * busy machine, the huge variant of convert_to_shared took more than the
 * harness's default 30 s (make stress, 2026-12-07), so both conversions
 * get 300.
 */
TEST_F_TIMEOUT(fi, convert_to_private, 300)
{
	fi_convert_test(_metadata, self, variant, true);
}

TEST_F_TIMEOUT(fi, convert_to_shared, 300)
{
	fi_convert_test(_metadata, self, variant, false);
}

/*
 * KVM_SET_USER_MEMORY_REGION2 with the file: KVM's memslot and the
 * library's binding.  A failure is ENOMEM and leaves neither (the slot
 * cannot be deleted, the file has no binding); the same call then works.
 */
TEST_F(fi, bind)
{
	struct fi_tally t = { .what = "memslot bind" };
	const __u64 gpa = 1ULL << 30;
	int n, fd, r;

	fd = fi_new_file(self, variant);
	ASSERT_LE(0, fd);
	for (n = 1; n < FI_MAX_POINTS; n++) {
		fi_arm(_metadata, self->nth, n);
		r = gmu_set_region(self->vm, 1, KVM_MEM_GUEST_MEMFD, gpa, self->size,
				   NULL, fd, 0);
		if (!fi_fired(_metadata, self->nth)) {
			ASSERT_EQ(0, r) TH_LOG("%s", strerror(errno));
			ASSERT_EQ(1, gmu_fdinfo_num(fd, "guestmem-bindings"));
			ASSERT_EQ(0, gmu_delete_region(self->vm, 1));
			break;
		}
		t.points++;
		if (!r) {
			t.absorbed++;
			ASSERT_EQ(1, gmu_fdinfo_num(fd, "guestmem-bindings"));
			ASSERT_EQ(0, gmu_delete_region(self->vm, 1));
		} else {
			t.errors++;
			ASSERT_EQ(ENOMEM, errno) TH_LOG("point %d: %s", n, strerror(errno));
			ASSERT_EQ(0, gmu_fdinfo_num(fd, "guestmem-bindings"));
			ASSERT_EQ(-1, gmu_delete_region(self->vm, 1));
			ASSERT_EQ(EINVAL, errno);
		}
		ASSERT_EQ(0, gmu_fdinfo_num(fd, "guestmem-bindings"));
	}
	ASSERT_LT(n, FI_MAX_POINTS);
	ASSERT_LT(0, t.points);
	fi_report(_metadata, &t);
	ASSERT_EQ(0, close(fd));
	fi_no_leak(_metadata, self);
}

/*
 * Memory limits.  A guest_memfd's folios are charged to the memory cgroup
 * of the task that allocates them (filemap_add_folio()), as upstream
 * guest_memfd's page cache is.  In a cgroup v2 child with memory.max a
 * few MiB above what the test uses already:
 *  - fallocate() of more than that fails with ENOMEM once the limit is
 *    reached, the pages allocated before it stay (charged, within the
 *    limit), and the cgroup's OOM killer is never invoked for them
 *    (memory.events: "max" counts, "oom" and "oom_kill" stay 0);
 *  - a host fault past the limit is SIGBUS, not an OOM kill and not a
 *    fault retried for ever;
 *  - a punch hole gives the charge back, and so does the last close:
 *    memory.current returns to what it was before the file had memory.
 * The test process joins the cgroup itself and leaves it at the end.
 * While the cgroup is full, any other charged allocation of the process
 * would invoke the OOM killer, as for any unreclaimable memory: so the
 * files it reads then are opened and read once before (a seq_file keeps
 * its buffer), the mapping's page tables exist, the process's memory is
 * populated, and nothing is printed until the punch hole.
 */
#define CG_ROOT			"/sys/fs/cgroup"
#define CG_HEADROOM		(4L * 1024 * 1024)
#define CG_FILE_SIZE		(16UL * 1024 * 1024)
/*
 * What memory.current may stay above its starting point without guest
 * memory: charges cached per CPU (64 pages each) and page tables.
 */
#define CG_SLACK		(1024L * 1024)

FIXTURE(memcg) {
	char dir[64];
	bool joined;
};

static bool cg_write(const char *dir, const char *file, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return knob_write(path, value);
}

/* Value of @key in the "key value" or "key: value" lines read from @fd. */
static long pread_key(int fd, const char *key)
{
	size_t klen = strlen(key);
	char buf[1024], *p;
	ssize_t len;

	len = pread(fd, buf, sizeof(buf) - 1, 0);
	if (len <= 0)
		return -1;
	buf[len] = '\0';
	if (!*key)
		return strtol(buf, NULL, 10);
	for (p = buf; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, klen) && (p[klen] == ' ' || p[klen] == ':'))
			return strtol(p + klen + 1, NULL, 10);
	return -1;
}

static int cg_open(const char *dir, const char *file)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return open(path, O_RDONLY | O_CLOEXEC);
}

static void memcg_die(const char *what)
{
	fprintf(stderr, "# %s: %s\n", what, strerror(errno));
	exit(1);
}

FIXTURE_SETUP(memcg)
{
	char ctl[256] = "";
	char path[96];

	self->joined = false;
	snprintf(self->dir, sizeof(self->dir), CG_ROOT "/guestmem-test-%d", getpid());
	snprintf(path, sizeof(path), CG_ROOT "/cgroup.controllers");
	if (access(path, F_OK) &&
	    mount("cgroup2", CG_ROOT, "cgroup2", 0, NULL) && errno == ENODEV)
		SKIP(return, "no cgroup v2 (CONFIG_CGROUPS)");
	ASSERT_TRUE(knob_read(path, ctl, sizeof(ctl))) TH_LOG("%s: %s", path, strerror(errno));
	if (!strstr(ctl, "memory"))
		SKIP(return, "no memory controller (CONFIG_MEMCG): '%s'", ctl);
	ASSERT_TRUE(cg_write(CG_ROOT, "cgroup.subtree_control", "+memory"));
	ASSERT_EQ(0, mkdir(self->dir, 0755)) TH_LOG("%s: %s", self->dir, strerror(errno));
}

FIXTURE_TEARDOWN(memcg)
{
	char pid[16];

	if (self->joined) {
		snprintf(pid, sizeof(pid), "%d", getpid());
		cg_write(CG_ROOT, "cgroup.procs", pid);
	}
	rmdir(self->dir);
}

TEST_F(memcg, limit)
{
	const __u64 flags = MMAP_SHARED_FLAGS;
	long before, max, current, pages, ev_max, ev_oom, ev_kill;
	int kvm, vm, fd, cur_fd, ev_fd, info_fd;
	char buf[64], path[128];
	bool bus = false;
	__u64 i;
	char *m;

	/*
	 * The process's memory, populated before the file is mapped (which
	 * mlockall() would populate too: it faults in every mapping).
	 */
	ASSERT_EQ(0, mlockall(MCL_CURRENT));
	vm = gmu_create_vm(&kvm, 0, memcg_die);
	ASSERT_LE(0, vm) TH_LOG("KVM_CREATE_VM: %s", strerror(errno));
	ASSERT_EQ(flags, flags & gmu_gmem_flags(vm));
	fd = gmu_create_gmem(vm, CG_FILE_SIZE, flags);
	ASSERT_LE(0, fd) TH_LOG("KVM_CREATE_GUEST_MEMFD: %s", strerror(errno));
	m = mmap(NULL, CG_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	/* The page tables of the whole mapping, then no memory in the file. */
	for (i = 0; i < CG_FILE_SIZE; i += 1UL << 21)
		m[i] = 1;
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0, CG_FILE_SIZE));

	cur_fd = cg_open(self->dir, "memory.current");
	ev_fd = cg_open(self->dir, "memory.events");
	snprintf(buf, sizeof(buf), "/proc/self/fdinfo/%d", fd);
	info_fd = open(buf, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, cur_fd);
	ASSERT_LE(0, ev_fd);
	ASSERT_LE(0, info_fd);
	ASSERT_EQ(0, pread_key(info_fd, "guestmem-pages"));
	ASSERT_EQ(0, pread_key(ev_fd, "oom_kill"));

	snprintf(buf, sizeof(buf), "%d", getpid());
	ASSERT_TRUE(cg_write(self->dir, "cgroup.procs", buf));
	self->joined = true;
	before = pread_key(cur_fd, "");
	ASSERT_LE(0, before);
	max = before + CG_HEADROOM;
	snprintf(buf, sizeof(buf), "%ld", max);
	ASSERT_TRUE(cg_write(self->dir, "memory.max", buf));
	snprintf(path, sizeof(path), "%s/memory.max", self->dir);
	ASSERT_TRUE(knob_read(path, buf, sizeof(buf)));
	ASSERT_EQ(max, strtol(buf, NULL, 10)) TH_LOG("memory.max reads '%s'", buf);

	/* Full: nothing but these calls until the punch hole. */
	errno = 0;
	ASSERT_EQ(-1, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, CG_FILE_SIZE))
		TH_LOG("memory.current %ld of %ld, %ld pages", pread_key(cur_fd, ""), max,
		       pread_key(info_fd, "guestmem-pages"));
	ASSERT_EQ(ENOMEM, errno);
	current = pread_key(cur_fd, "");
	pages = pread_key(info_fd, "guestmem-pages");
	for (i = pages * getpagesize(); i < CG_FILE_SIZE && !bus; i += getpagesize())
		bus = touch_bus(m + i, true, 1);
	ev_max = pread_key(ev_fd, "max");
	ev_oom = pread_key(ev_fd, "oom");
	ev_kill = pread_key(ev_fd, "oom_kill");
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0, CG_FILE_SIZE));

	TH_LOG("memory.max %ld (start + %ld): populate stopped at %ld pages, memory.current %ld",
	       max, CG_HEADROOM, pages, current);
	TH_LOG("memory.events: max %ld, oom %ld, oom_kill %ld", ev_max, ev_oom, ev_kill);
	ASSERT_LE(current, max);
	ASSERT_LT(0, pages);
	ASSERT_GT((long)(CG_FILE_SIZE / getpagesize()), pages);
	/* Charged: the cgroup holds at least the file's pages. */
	ASSERT_LE(pages * getpagesize(), current);
	ASSERT_TRUE(bus);
	ASSERT_LT(0, ev_max);
	ASSERT_EQ(0, ev_oom);
	ASSERT_EQ(0, ev_kill);

	/* The punch hole gave the charge back; the same call now works. */
	ASSERT_GT(before + CG_SLACK, pread_key(cur_fd, ""));
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, CG_HEADROOM / 2));
	ASSERT_LE(CG_HEADROOM / 2, pread_key(cur_fd, ""));

	/* And so does the last close. */
	ASSERT_EQ(0, munmap(m, CG_FILE_SIZE));
	ASSERT_EQ(0, close(fd));
	ASSERT_GT(before + CG_SLACK, pread_key(cur_fd, ""));
	ASSERT_EQ(0, pread_key(ev_fd, "oom_kill"));
	ASSERT_EQ(0, close(info_fd));
	ASSERT_EQ(0, close(ev_fd));
	ASSERT_EQ(0, close(cur_fd));
	ASSERT_EQ(0, close(vm));
	ASSERT_EQ(0, close(kvm));
}

TEST_HARNESS_MAIN
