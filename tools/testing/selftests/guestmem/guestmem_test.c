// SPDX-License-Identifier: GPL-2.0
/*
 * guest_memfd as userspace sees it: KVM_CREATE_GUEST_MEMFD, the file it
 * returns (fstat, fallocate, ftruncate, read/write, lseek, mmap), binding
 * it to memslots with KVM_SET_USER_MEMORY_REGION2, and the lifetimes of
 * the file and of its VM.  Every errno asserted here is the one stock 6.12
 * returns; the comments name the check that produces it.
 *
 * /dev/kvm is driven directly with the ioctls of <linux/kvm.h>.  On x86_64
 * the tests also run on a KVM_X86_SW_PROTECTED_VM, and every file test for
 * the flags 0, GUEST_MEMFD_FLAG_MMAP and MMAP | INIT_SHARED; a tiny
 * real-mode guest checks what the guest sees of its memory, private or
 * converted in place (KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/elf.h>
#include <linux/falloc.h>
#include <linux/kvm.h>
#include <linux/mempolicy.h>

#include "../kselftest_harness.h"
#include "guestmem_util.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE			25
#endif

#define MMAP_FLAGS	(GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED)

/*
 * Pages in the guest_memfd of each test; the variants with
 * GUEST_MEMFD_FLAG_HUGEPAGE use one whole 2 MiB block instead, so that every
 * page of their files lies in a huge folio and each partial fallocate(),
 * punch hole, conversion or host fault works inside one.
 */
#define GMEM_PAGES		16
#define HUGE_BLOCK		(2ULL << 20)

/* The size of the files of a test, by the flags of its variant. */
static __u64 test_file_size(__u64 flags, __u64 page)
{
	return flags & GUEST_MEMFD_FLAG_HUGEPAGE ? HUGE_BLOCK : GMEM_PAGES * page;
}

/* Guest physical address of memslot @slot in the memslot tests. */
#define SLOT_GPA(slot)		((1ULL << 30) + (__u64)(slot) * (1ULL << 24))

/*
 * Asserts that @call returned -1 (or MAP_FAILED) with errno @err; the
 * printf-style rest is logged only on failure.
 */
#define ASSERT_ERRNO(err, call, fmt, ...) do {				\
	long _ret = (long)(call);					\
	int _err = errno, _want = (err);				\
									\
	ASSERT_TRUE(_ret == -1 && _err == _want)			\
		TH_LOG("%s: returned %ld, errno %d (%s), expected -1 and %d (%s) " fmt, \
		       #call, _ret, _err, strerror(_err), _want, strerror(_want), \
		       ##__VA_ARGS__);					\
} while (0)

#define ASSERT_ERR(err, call)	ASSERT_ERRNO(err, call, "")

static __u64 page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

/*
 * error_offset as userspace passes it (anything else is -EINVAL, as in the
 * in-place conversion proposal) and as it stays when the kernel reports
 * no page.
 */
#define NO_OFFSET	0ULL

/*
 * KVM_SET_MEMORY_ATTRIBUTES2 on guest_memfd @fd: [@offset, @offset + @size)
 * becomes private or shared.  *@error_offset (if given) gets what the
 * kernel reported there, NO_OFFSET if nothing.
 */
static int gmem_convert(int fd, __u64 offset, __u64 size, bool private, __u64 flags,
			__u64 *error_offset)
{
	struct kvm_memory_attributes2 attr = {
		.offset = offset,
		.size = size,
		.attributes = private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0,
		.flags = flags,
		.error_offset = NO_OFFSET,
	};
	int r = ioctl(fd, KVM_SET_MEMORY_ATTRIBUTES2, &attr);

	if (error_offset)
		*error_offset = attr.error_offset;
	return r;
}

static bool all_zero(const void *p, size_t len)
{
	const unsigned char *c = p;

	while (len--)
		if (*c++)
			return false;
	return true;
}

static __s64 file_size(struct __test_metadata *_metadata, int fd)
{
	struct stat st;

	ASSERT_EQ(0, fstat(fd, &st)) TH_LOG("fstat: %s", strerror(errno));
	return st.st_size;
}

/*
 * Opens /dev/kvm and creates a VM of @vm_type.  Skips the test (and returns
 * false) only when KVM or guest_memfd is not there: no /dev/kvm, no
 * KVM_CAP_GUEST_MEMFD, or no such VM type.
 */
static bool open_vm(struct __test_metadata *_metadata, int *kvm, int *vm,
		    unsigned long vm_type)
{
	*kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (*kvm < 0 && (errno == ENOENT || errno == ENODEV || errno == ENXIO))
		SKIP(return false, "/dev/kvm: %s", strerror(errno));
	ASSERT_LE(0, *kvm) TH_LOG("open /dev/kvm: %s", strerror(errno));

	if (ioctl(*kvm, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD) <= 0)
		SKIP(return false, "KVM_CAP_GUEST_MEMFD is not supported");

	if (vm_type) {
		int types = ioctl(*kvm, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);

		if (types <= 0 || !(types & (1 << vm_type)))
			SKIP(return false, "VM type %lu is not supported", vm_type);
	}

	*vm = ioctl(*kvm, KVM_CREATE_VM, vm_type);
	ASSERT_LE(0, *vm) TH_LOG("KVM_CREATE_VM(%lu): %s", vm_type, strerror(errno));
	return true;
}

/*
 * The guest_memfd file: creation and file operations.  They do not depend
 * on the VM type; the test runs on each, the default VM first.
 */
FIXTURE(gmem) {
	int kvm;
	int vm;
	__u64 page;
	__u64 size;		/* of the files the tests create */
	__u64 pages;		/* size / page */
	bool huge;		/* GUEST_MEMFD_FLAG_HUGEPAGE: 2 MiB folios */
};

FIXTURE_VARIANT(gmem) {
	unsigned long vm_type;
	bool private_mem;
	__u64 flags;		/* of the files the tests create */
};

FIXTURE_VARIANT_ADD(gmem, default_vm) {
	.vm_type = 0,
	.private_mem = false,
};

#if defined(__x86_64__) || defined(__aarch64__)
FIXTURE_VARIANT_ADD(gmem, default_vm_mmap) {
	.vm_type = 0,
	.private_mem = false,
	.flags = GUEST_MEMFD_FLAG_MMAP,
};

FIXTURE_VARIANT_ADD(gmem, default_vm_mmap_shared) {
	.vm_type = 0,
	.private_mem = false,
	.flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED,
};
#endif

#ifdef __x86_64__
FIXTURE_VARIANT_ADD(gmem, sw_protected_vm) {
	.vm_type = KVM_X86_SW_PROTECTED_VM,
	.private_mem = true,
};

FIXTURE_VARIANT_ADD(gmem, sw_protected_vm_mmap) {
	.vm_type = KVM_X86_SW_PROTECTED_VM,
	.private_mem = true,
	.flags = GUEST_MEMFD_FLAG_MMAP,
};

FIXTURE_VARIANT_ADD(gmem, sw_protected_vm_mmap_shared) {
	.vm_type = KVM_X86_SW_PROTECTED_VM,
	.private_mem = true,
	.flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED,
};

/* The same tests on huge-backed files, offered to both VM types. */
FIXTURE_VARIANT_ADD(gmem, default_vm_mmap_shared_huge) {
	.vm_type = 0,
	.private_mem = false,
	.flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED |
		 GUEST_MEMFD_FLAG_HUGEPAGE,
};

FIXTURE_VARIANT_ADD(gmem, sw_protected_vm_huge) {
	.vm_type = KVM_X86_SW_PROTECTED_VM,
	.private_mem = true,
	.flags = GUEST_MEMFD_FLAG_HUGEPAGE,
};

FIXTURE_VARIANT_ADD(gmem, sw_protected_vm_mmap_huge) {
	.vm_type = KVM_X86_SW_PROTECTED_VM,
	.private_mem = true,
	.flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_HUGEPAGE,
};
#endif

FIXTURE_SETUP(gmem)
{
	self->kvm = -1;
	self->vm = -1;
	self->page = page_size();
	self->size = test_file_size(variant->flags, self->page);
	self->pages = self->size / self->page;
	self->huge = variant->flags & GUEST_MEMFD_FLAG_HUGEPAGE;
	if (!open_vm(_metadata, &self->kvm, &self->vm, variant->vm_type))
		return;
	/*
	 * x86_64 offers MMAP and HUGEPAGE on both VM types, arm64 MMAP on its
	 * default VM; the variants exist only there.
	 */
	ASSERT_EQ(variant->flags, variant->flags & gmu_gmem_flags(self->vm));
}

FIXTURE_TEARDOWN(gmem)
{
	if (self->vm >= 0)
		close(self->vm);
	if (self->kvm >= 0)
		close(self->kvm);
}

/*
 * kvm_main.c, kvm_vm_ioctl_check_extension_generic():
 *	case KVM_CAP_GUEST_MEMFD: return !kvm || kvm_arch_has_private_mem(kvm) ||
 *					 kvm_arch_gmem_supports_mmap(kvm);
 * so every x86_64 VM without protected state and every arm64 VM has
 * guest_memfd (gmem-only memslots).
 * KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES: PRIVATE wherever MMAP is offered.
 */
TEST_F(gmem, cap_on_vm_fd)
{
	int mmap = !!(gmu_gmem_flags(self->vm) & GUEST_MEMFD_FLAG_MMAP);

	ASSERT_EQ(1, ioctl(self->kvm, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD));
	ASSERT_EQ(1, mmap);
	ASSERT_EQ(variant->private_mem || mmap,
		  ioctl(self->vm, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD));
	ASSERT_EQ(mmap ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0,
		  ioctl(self->vm, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES));
}

/* kvm_gmem_create(): if (size <= 0 || !PAGE_ALIGNED(size)) return -EINVAL; */
TEST_F(gmem, create_invalid_size)
{
	const __u64 sizes[] = {
		0,
		1,
		self->page - 1,
		self->page + 1,
		self->size - 1,
		LLONG_MAX,
		1ULL << 63,
		-self->page,
		-1ULL,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		ASSERT_ERRNO(EINVAL, gmu_create_gmem(self->vm, sizes[i], variant->flags),
			     "(size 0x%llx)", (unsigned long long)sizes[i]);
	}
}

/*
 * kvm_gmem_create(): a flag outside those KVM_CAP_GUEST_MEMFD_FLAGS reports
 * is -EINVAL (stock 6.12 has no flag at all and reports none); each
 * reported one, alone, creates a file, and so does every combination of
 * them, as newest upstream accepts any subset of the supported flags.
 * INIT_SHARED without MMAP has nothing to act on: such a file cannot be
 * mapped (-ENODEV, as a file without flags).
 */
TEST_F(gmem, create_invalid_flags)
{
	__u64 supported = gmu_gmem_flags(self->vm);
	unsigned int bit;
	int fd;

	for (bit = 0; bit < 64; bit++) {
		if (!(supported & (1ULL << bit))) {
			ASSERT_ERRNO(EINVAL, gmu_create_gmem(self->vm, self->size, 1ULL << bit),
				     "(bit %u)", bit);
			continue;
		}
		fd = gmu_create_gmem(self->vm, self->size, 1ULL << bit);
		ASSERT_LE(0, fd) TH_LOG("bit %u: %s", bit, strerror(errno));
		if ((1ULL << bit) == GUEST_MEMFD_FLAG_INIT_SHARED)
			ASSERT_ERR(ENODEV, mmap(NULL, self->page, PROT_READ | PROT_WRITE,
						MAP_SHARED, fd, 0));
		ASSERT_EQ(0, close(fd));
	}
	for (bit = 0; bit < 16; bit++) {
		if (bit & ~supported)
			continue;
		fd = gmu_create_gmem(self->vm, self->size, bit);
		ASSERT_LE(0, fd) TH_LOG("flags 0x%x: %s", bit, strerror(errno));
		ASSERT_EQ(0, close(fd));
	}
}

#ifdef __aarch64__
/* CTR_EL0.DIC: no I-cache invalidation is needed for coherence. */
static bool arm64_dic(void)
{
	__u64 ctr;

	asm volatile("mrs %0, ctr_el0" : "=r" (ctr));
	return ctr & (1ULL << 29);
}
#endif

/*
 * KVM_CAP_GUEST_MEMFD_FLAGS (244, as upstream): GUEST_MEMFD_FLAG_NO_DIRECT_MAP
 * wherever guestmem can change the direct map (x86_64 and arm64), on
 * /dev/kvm and on VM types without protected state (not SEV-SNP), and on
 * arm64 only where KVM's stage-2 mappings need no cache maintenance through
 * the linear map (FWB and DIC); MMAP and INIT_SHARED where the architecture
 * serves gmem-only memslots (x86_64, arm64).  A kernel without the
 * capability reports 0, and the test skips.
 */
TEST_F(gmem, flags_cap)
{
	__u64 want = GUEST_MEMFD_FLAG_NO_DIRECT_MAP;

	if (!gmu_gmem_flags(self->kvm))
		SKIP(return, "KVM_CAP_GUEST_MEMFD_FLAGS is not supported");
#if defined(__x86_64__) || defined(__aarch64__)
	want |= GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;
#endif
#ifdef __x86_64__
	/* Neither VM type of the variants has protected state. */
	want |= GUEST_MEMFD_FLAG_HUGEPAGE;
#endif
#ifdef __aarch64__
	/* FWB cannot be read from user space: with DIC, either answer. */
	if (!arm64_dic() ||
	    !(gmu_gmem_flags(self->kvm) & GUEST_MEMFD_FLAG_NO_DIRECT_MAP))
		want &= ~GUEST_MEMFD_FLAG_NO_DIRECT_MAP;
#endif
	ASSERT_EQ(want, gmu_gmem_flags(self->kvm));
	ASSERT_EQ(want, gmu_gmem_flags(self->vm));
}

/*
 * With GUEST_MEMFD_FLAG_NO_DIRECT_MAP every allocated page leaves the
 * direct map, with one kernel TLB flush per fallocate() whatever its
 * length, and comes back when punched out or when the file is closed
 * (debugfs guestmem/pages_unmapped and tlb_flushes).  Without the flag
 * nothing leaves and nothing is flushed.  On a huge-backed file the first
 * page allocated brings its whole 2 MiB folio, out in one go; punching
 * pages out of it splits it and returns those pages only.
 */
TEST_F(gmem, no_direct_map_pages)
{
	const int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	__u64 huge_flag = variant->flags & GUEST_MEMFD_FLAG_HUGEPAGE;
	long base, flushes;
	int fd;

	if (!(gmu_gmem_flags(self->vm) & GUEST_MEMFD_FLAG_NO_DIRECT_MAP))
		SKIP(return, "GUEST_MEMFD_FLAG_NO_DIRECT_MAP is not supported");
	base = gmu_stat("pages_unmapped");
	flushes = gmu_stat("tlb_flushes");
	if (base < 0 || flushes < 0)
		SKIP(return, "no guestmem statistics in debugfs");

	fd = gmu_create_gmem(self->vm, self->size, GUEST_MEMFD_FLAG_NO_DIRECT_MAP | huge_flag);
	ASSERT_LE(0, fd) TH_LOG("KVM_CREATE_GUEST_MEMFD: %s", strerror(errno));
	ASSERT_EQ(base, gmu_stat("pages_unmapped"));

	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, self->page));
	ASSERT_EQ(base + (self->huge ? self->pages : 1), gmu_stat("pages_unmapped"));
	ASSERT_EQ((long)self->huge, gmu_fdinfo_num(fd, "guestmem-large-folios"));
	ASSERT_EQ(flushes + 1, gmu_stat("tlb_flushes"));
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, self->size));
	ASSERT_EQ(base + self->pages, gmu_stat("pages_unmapped"));
	/* The huge folio is out already: nothing new to remove. */
	ASSERT_EQ(flushes + (self->huge ? 1 : 2), gmu_stat("tlb_flushes"));
	flushes = gmu_stat("tlb_flushes");
	/* Nothing new to remove: no flush. */
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, self->size));
	ASSERT_EQ(flushes, gmu_stat("tlb_flushes"));

	ASSERT_EQ(0, fallocate(fd, punch, 2 * self->page, 3 * self->page));
	ASSERT_EQ(base + self->pages - 3, gmu_stat("pages_unmapped"));
	ASSERT_EQ(0, gmu_fdinfo_num(fd, "guestmem-large-folios"));
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, self->size));
	ASSERT_EQ(base + self->pages, gmu_stat("pages_unmapped"));
	ASSERT_EQ(flushes + 1, gmu_stat("tlb_flushes"));
	flushes++;

	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(base, gmu_stat("pages_unmapped"));

	fd = gmu_create_gmem(self->vm, self->size, huge_flag);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, self->size));
	ASSERT_EQ(base, gmu_stat("pages_unmapped"));
	ASSERT_EQ(flushes, gmu_stat("tlb_flushes"));
	ASSERT_EQ(0, close(fd));
}

/*
 * Nothing reaches the memory of a guest_memfd through the file, with or
 * without GUEST_MEMFD_FLAG_NO_DIRECT_MAP: no read/write (-EINVAL), no
 * pread/pwrite (-ESPIPE), no splice either way, no sendfile (no
 * .splice_read/.splice_write: -EINVAL), and no mmap (-ENODEV), so no user
 * address exists for get_user_pages() or a pin to start from.  With
 * GUEST_MEMFD_FLAG_MMAP only MAP_SHARED mappings exist (tested below).
 */
static void host_access_refused(struct __test_metadata *_metadata, int vm, __u64 size,
				__u64 flags)
{
	char buf[64] = { 0 };
	int fd, pipefd[2];

	ASSERT_EQ(0, pipe(pipefd));
	ASSERT_EQ(sizeof(buf), write(pipefd[1], buf, sizeof(buf)));
	fd = gmu_create_gmem(vm, size, flags);
	ASSERT_LE(0, fd) TH_LOG("flags 0x%llx: %s", (unsigned long long)flags, strerror(errno));
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, size));

	ASSERT_ERR(EINVAL, read(fd, buf, sizeof(buf)));
	ASSERT_ERR(EINVAL, write(fd, buf, sizeof(buf)));
	ASSERT_ERR(ESPIPE, pread(fd, buf, sizeof(buf), 0));
	ASSERT_ERR(EINVAL, splice(fd, NULL, pipefd[1], NULL, sizeof(buf), 0));
	ASSERT_ERR(EINVAL, splice(pipefd[0], NULL, fd, NULL, sizeof(buf), 0));
	ASSERT_ERR(EINVAL, sendfile(pipefd[1], fd, NULL, sizeof(buf)));
	/* With MMAP: a private mapping; without: any mapping. */
	ASSERT_ERR(flags & GUEST_MEMFD_FLAG_MMAP ? EINVAL : ENODEV,
		   mmap(NULL, size, PROT_READ,
			flags & GUEST_MEMFD_FLAG_MMAP ? MAP_PRIVATE : MAP_SHARED, fd, 0));

	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, close(pipefd[0]));
	ASSERT_EQ(0, close(pipefd[1]));
}

TEST_F(gmem, host_access_refused)
{
	host_access_refused(_metadata, self->vm, self->size, variant->flags);
	if (!(gmu_gmem_flags(self->vm) & GUEST_MEMFD_FLAG_NO_DIRECT_MAP))
		SKIP(return, "GUEST_MEMFD_FLAG_NO_DIRECT_MAP is not supported");
	host_access_refused(_metadata, self->vm, self->size,
			    variant->flags | GUEST_MEMFD_FLAG_NO_DIRECT_MAP);
}

/* kvm_gmem_create() never looks at kvm_create_guest_memfd.reserved[]. */
TEST_F(gmem, create_reserved_ignored)
{
	struct kvm_create_guest_memfd args = { .size = self->size };
	int fd;

	memset(args.reserved, 0xff, sizeof(args.reserved));
	fd = ioctl(self->vm, KVM_CREATE_GUEST_MEMFD, &args);
	ASSERT_LE(0, fd) TH_LOG("KVM_CREATE_GUEST_MEMFD: %s", strerror(errno));
	ASSERT_EQ(self->size, file_size(_metadata, fd));
	ASSERT_EQ(0, close(fd));
}

/* kvm_vm_ioctl(): KVM_CREATE_GUEST_MEMFD: copy_from_user() fails: -EFAULT */
TEST_F(gmem, create_bad_pointer)
{
	ASSERT_ERR(EFAULT, ioctl(self->vm, KVM_CREATE_GUEST_MEMFD, NULL));
}

/*
 * __kvm_gmem_create(): i_size = size, S_IFREG, O_RDWR, fd without
 * O_CLOEXEC (get_unused_fd_flags(0)); kvm_gmem_getattr() is
 * generic_fillattr(): st_blksize is the anon_inode fs block size, PAGE_SIZE.
 */
TEST_F(gmem, create_valid)
{
	struct stat st;
	int fd, fl;

	fd = gmu_create_gmem(self->vm, self->size, variant->flags);
	ASSERT_LE(0, fd) TH_LOG("KVM_CREATE_GUEST_MEMFD: %s", strerror(errno));

	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(self->size, st.st_size);
	ASSERT_EQ(self->page, st.st_blksize);
	ASSERT_TRUE(S_ISREG(st.st_mode));

	fl = fcntl(fd, F_GETFL);
	ASSERT_LE(0, fl);
	ASSERT_EQ(O_RDWR, fl & O_ACCMODE);
	ASSERT_EQ(0, fl & O_NONBLOCK);
	ASSERT_EQ(0, fcntl(fd, F_GETFD));

	ASSERT_EQ(0, close(fd));
}

/* A file larger than memory is fine: nothing is allocated at creation. */
TEST_F(gmem, create_large)
{
	const __u64 size = 1ULL << 40;
	int fd;

	fd = gmu_create_gmem(self->vm, size, variant->flags);
	ASSERT_LE(0, fd) TH_LOG("KVM_CREATE_GUEST_MEMFD: %s", strerror(errno));
	ASSERT_EQ(size, file_size(_metadata, fd));

	/* The last page can be allocated and punched, one past it cannot. */
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, size - self->page, self->page));
	ASSERT_ERR(EINVAL, fallocate(fd, FALLOC_FL_KEEP_SIZE, size, self->page));
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       size - self->page, self->page));
	ASSERT_EQ(size, file_size(_metadata, fd));
	ASSERT_EQ(0, close(fd));
}

/*
 * kvm_gmem_create() accepts any positive, page-aligned loff_t; with MMAP
 * the library keeps one bit of state per page, indexed by unsigned int:
 * guestmem_file_create() refuses more than INT_MAX pages with -EINVAL.
 */
TEST_F(gmem, create_max_size)
{
	const __u64 size = LLONG_MAX & ~(self->page - 1);
	int fd;

	fd = gmu_create_gmem(self->vm, size, variant->flags);
	if (variant->flags & GUEST_MEMFD_FLAG_MMAP) {
		ASSERT_ERR(EINVAL, fd);
		return;
	}
	ASSERT_LE(0, fd) TH_LOG("KVM_CREATE_GUEST_MEMFD: %s", strerror(errno));
	ASSERT_EQ(size, file_size(_metadata, fd));
	ASSERT_EQ(0, close(fd));
}

/* Each KVM_CREATE_GUEST_MEMFD is a file (and inode) of its own. */
TEST_F(gmem, several_files)
{
	struct stat st[4];
	int fd[4];
	int i, j;

	for (i = 0; i < 4; i++) {
		fd[i] = gmu_create_gmem(self->vm, (i + 1) * self->page, variant->flags);
		ASSERT_LE(0, fd[i]) TH_LOG("KVM_CREATE_GUEST_MEMFD: %s", strerror(errno));
		ASSERT_EQ(0, fstat(fd[i], &st[i]));
		ASSERT_EQ((i + 1) * self->page, st[i].st_size);
		for (j = 0; j < i; j++)
			ASSERT_NE(st[j].st_ino, st[i].st_ino);
	}

	/* Each file has its own size. */
	ASSERT_ERR(EINVAL, fallocate(fd[0], FALLOC_FL_KEEP_SIZE, 0, 2 * self->page));
	ASSERT_EQ(0, fallocate(fd[1], FALLOC_FL_KEEP_SIZE, 0, 2 * self->page));

	/* Closing one leaves the others working. */
	ASSERT_EQ(0, close(fd[1]));
	ASSERT_EQ(0, fallocate(fd[3], FALLOC_FL_KEEP_SIZE, 0, 4 * self->page));
	ASSERT_EQ(0, fallocate(fd[2], FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       0, 3 * self->page));
	ASSERT_EQ(0, close(fd[0]));
	ASSERT_EQ(0, close(fd[2]));
	ASSERT_EQ(0, close(fd[3]));
}

/* kvm_gmem_allocate(): the whole file, again, and a part of it. */
TEST_F(gmem, fallocate_allocate)
{
	int fd = gmu_create_gmem(self->vm, self->size, variant->flags);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, self->size));
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, self->size));
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, self->page, 2 * self->page));
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, self->size - self->page, self->page));
	ASSERT_EQ(self->size, file_size(_metadata, fd));
	ASSERT_EQ(0, close(fd));
}

/* kvm_gmem_fallocate(): if (!(mode & FALLOC_FL_KEEP_SIZE)) return -EOPNOTSUPP; */
TEST_F(gmem, fallocate_requires_keep_size)
{
	int fd = gmu_create_gmem(self->vm, self->size, variant->flags);

	ASSERT_LE(0, fd);
	ASSERT_ERR(EOPNOTSUPP, fallocate(fd, 0, 0, self->size));
	ASSERT_ERR(EOPNOTSUPP, fallocate(fd, 0, 0, self->page));
	/* Checked before the size and the alignment. */
	ASSERT_ERR(EOPNOTSUPP, fallocate(fd, 0, 0, 2 * self->size));
	ASSERT_ERR(EOPNOTSUPP, fallocate(fd, 0, 1, self->page));
	ASSERT_EQ(self->size, file_size(_metadata, fd));
	ASSERT_EQ(0, close(fd));
}

/*
 * Modes other than allocation and PUNCH_HOLE, both with KEEP_SIZE.  Most
 * pass vfs_fallocate() and are refused by kvm_gmem_fallocate():
 *	if (!(mode & FALLOC_FL_KEEP_SIZE)) return -EOPNOTSUPP;
 *	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) return -EOPNOTSUPP;
 * PUNCH_HOLE without KEEP_SIZE, PUNCH_HOLE | ZERO_RANGE and the bits
 * outside FALLOC_FL_MODE_MASK are refused by vfs_fallocate() already, with
 * -EOPNOTSUPP too.
 */
TEST_F(gmem, fallocate_unsupported_modes)
{
	const int modes[] = {
		FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_ZERO_RANGE,
		FALLOC_FL_COLLAPSE_RANGE,
		FALLOC_FL_INSERT_RANGE,
		FALLOC_FL_PUNCH_HOLE,
		FALLOC_FL_NO_HIDE_STALE | FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
		0x80 | FALLOC_FL_KEEP_SIZE,
	};
	unsigned int i;
	int fd;

	fd = gmu_create_gmem(self->vm, self->size, variant->flags);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		ASSERT_ERRNO(EOPNOTSUPP, fallocate(fd, modes[i], 0, self->page),
			     "(mode 0x%x)", modes[i]);
	}
	ASSERT_EQ(self->size, file_size(_metadata, fd));
	ASSERT_EQ(0, close(fd));
}

/* kvm_gmem_fallocate(): if (!PAGE_ALIGNED(offset) || !PAGE_ALIGNED(len)) return -EINVAL; */
TEST_F(gmem, fallocate_unaligned)
{
	const __u64 p = self->page;
	const __u64 ranges[][2] = {
		{ 1, p },
		{ p / 2, p },
		{ p - 1, p },
		{ 0, 1 },
		{ 0, p - 1 },
		{ 0, p + 1 },
		{ p, p / 2 },
		{ 1, 1 },
	};
	unsigned int i;
	int fd;

	fd = gmu_create_gmem(self->vm, self->size, variant->flags);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(ranges); i++) {
		ASSERT_ERRNO(EINVAL, fallocate(fd, FALLOC_FL_KEEP_SIZE, ranges[i][0], ranges[i][1]),
			     "(offset 0x%llx len 0x%llx)", (unsigned long long)ranges[i][0],
			     (unsigned long long)ranges[i][1]);
	}
	ASSERT_EQ(0, close(fd));
}

/* kvm_gmem_allocate(): if (offset + len > i_size_read(inode)) return -EINVAL; */
TEST_F(gmem, fallocate_past_size)
{
	const __u64 p = self->page, s = self->size;
	const __u64 ranges[][2] = {
		{ 0, s + p },
		{ s, p },
		{ s - p, 2 * p },
		{ 2 * s, p },
		{ 1ULL << 40, p },
	};
	unsigned int i;
	int fd;

	fd = gmu_create_gmem(self->vm, s, variant->flags);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(ranges); i++) {
		ASSERT_ERRNO(EINVAL, fallocate(fd, FALLOC_FL_KEEP_SIZE, ranges[i][0], ranges[i][1]),
			     "(offset 0x%llx len 0x%llx)", (unsigned long long)ranges[i][0],
			     (unsigned long long)ranges[i][1]);
	}
	/* The size did not grow, and the last page is still in range. */
	ASSERT_EQ(s, file_size(_metadata, fd));
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, s - p, p));
	ASSERT_EQ(0, close(fd));
}

/* vfs_fallocate(): if (offset < 0 || len <= 0) return -EINVAL; */
TEST_F(gmem, fallocate_empty_or_negative)
{
	int fd = gmu_create_gmem(self->vm, self->size, variant->flags);

	ASSERT_LE(0, fd);
	ASSERT_ERR(EINVAL, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 0));
	ASSERT_ERR(EINVAL, fallocate(fd, FALLOC_FL_KEEP_SIZE, -(off_t)self->page, self->page));
	ASSERT_ERR(EINVAL, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, -(off_t)self->page));
	ASSERT_ERR(EINVAL, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 0));
	ASSERT_EQ(0, close(fd));
}

/* kvm_gmem_punch_hole(): allocated or not, whole or in part. */
TEST_F(gmem, punch_hole)
{
	const int mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	int fd = gmu_create_gmem(self->vm, self->size, variant->flags);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fallocate(fd, mode, 0, self->size));
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, self->size));
	ASSERT_EQ(0, fallocate(fd, mode, self->page, self->page));
	ASSERT_EQ(0, fallocate(fd, mode, self->page, self->page));
	ASSERT_EQ(0, fallocate(fd, mode, 0, self->size));
	ASSERT_EQ(0, fallocate(fd, mode, 0, self->size));
	/* Punched pages can be allocated again. */
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, self->size));
	ASSERT_EQ(self->size, file_size(_metadata, fd));
	ASSERT_EQ(0, close(fd));
}

/*
 * kvm_gmem_punch_hole() does not check i_size: a range that ends, or
 * starts, past the end of the file succeeds and leaves the size alone.
 */
TEST_F(gmem, punch_hole_past_size)
{
	const int mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	const __u64 p = self->page, s = self->size;
	int fd = gmu_create_gmem(self->vm, s, variant->flags);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, s));
	ASSERT_EQ(0, fallocate(fd, mode, s - p, 2 * p));
	ASSERT_EQ(0, fallocate(fd, mode, s, p));
	ASSERT_EQ(0, fallocate(fd, mode, 0, 4 * s));
	ASSERT_EQ(0, fallocate(fd, mode, 8 * s, p));
	ASSERT_EQ(0, fallocate(fd, mode, 1ULL << 40, 1ULL << 40));
	ASSERT_EQ(s, file_size(_metadata, fd));
	ASSERT_EQ(0, close(fd));
}

/* kvm_gmem_fallocate(): if (!PAGE_ALIGNED(offset) || !PAGE_ALIGNED(len)) return -EINVAL; */
TEST_F(gmem, punch_hole_unaligned)
{
	const int mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	const __u64 p = self->page;
	const __u64 ranges[][2] = {
		{ 1, p },
		{ p / 2, p },
		{ 0, 1 },
		{ 0, p - 1 },
		{ p, p + 1 },
		{ self->size + 1, p },
	};
	unsigned int i;
	int fd;

	fd = gmu_create_gmem(self->vm, self->size, variant->flags);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(ranges); i++) {
		ASSERT_ERRNO(EINVAL, fallocate(fd, mode, ranges[i][0], ranges[i][1]),
			     "(offset 0x%llx len 0x%llx)", (unsigned long long)ranges[i][0],
			     (unsigned long long)ranges[i][1]);
	}
	ASSERT_EQ(0, close(fd));
}

/*
 * The size is fixed: do_truncate() -> notify_change() -> kvm_gmem_setattr(),
 * which returns -EINVAL for any size, the current one included.
 */
TEST_F(gmem, ftruncate_refused)
{
	const __u64 sizes[] = { 0, self->page, self->size, 2 * self->size };
	unsigned int i;
	int fd;

	fd = gmu_create_gmem(self->vm, self->size, variant->flags);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		ASSERT_ERRNO(EINVAL, ftruncate(fd, sizes[i]),
			     "(length 0x%llx)", (unsigned long long)sizes[i]);
	}
	ASSERT_EQ(self->size, file_size(_metadata, fd));
	ASSERT_EQ(0, close(fd));
}

/*
 * kvm_gmem_fops has neither read/read_iter nor write/write_iter, so
 * file_init_path() sets neither FMODE_CAN_READ nor FMODE_CAN_WRITE:
 * vfs_read(): if (!(file->f_mode & FMODE_CAN_READ)) return -EINVAL;
 * vfs_write(): if (!(file->f_mode & FMODE_CAN_WRITE)) return -EINVAL;
 */
TEST_F(gmem, read_write_refused)
{
	char buf[64] = { 0 };
	int fd = gmu_create_gmem(self->vm, self->size, variant->flags);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, self->size));
	ASSERT_ERR(EINVAL, read(fd, buf, sizeof(buf)));
	ASSERT_ERR(EINVAL, write(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, close(fd));
}

/*
 * A file made by alloc_file_pseudo() never gets FMODE_PREAD/FMODE_PWRITE
 * (only do_dentry_open() sets them): ksys_pread64()/ksys_pwrite64() return
 * -ESPIPE.
 */
TEST_F(gmem, pread_pwrite_refused)
{
	char buf[64] = { 0 };
	int fd = gmu_create_gmem(self->vm, self->size, variant->flags);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, self->size));
	ASSERT_ERR(ESPIPE, pread(fd, buf, sizeof(buf), 0));
	ASSERT_ERR(ESPIPE, pwrite(fd, buf, sizeof(buf), 0));
	ASSERT_ERR(ESPIPE, pread(fd, buf, sizeof(buf), self->page));
	ASSERT_EQ(0, close(fd));
}

/* No .llseek, so no FMODE_LSEEK: vfs_llseek() returns -ESPIPE. */
TEST_F(gmem, lseek_refused)
{
	int fd = gmu_create_gmem(self->vm, self->size, variant->flags);

	ASSERT_LE(0, fd);
	ASSERT_ERR(ESPIPE, lseek(fd, 0, SEEK_SET));
	ASSERT_ERR(ESPIPE, lseek(fd, 0, SEEK_END));
	ASSERT_ERR(ESPIPE, lseek(fd, self->page, SEEK_CUR));
	ASSERT_EQ(0, close(fd));
}

/*
 * Without GUEST_MEMFD_FLAG_MMAP the library has no mapping to give:
 * guestmem_mmap() returns -ENODEV.  With it, only MAP_SHARED (-EINVAL for
 * MAP_PRIVATE, which would copy guest memory), never executable (the
 * library's mount is noexec: do_mmap() -EPERM, mprotect() -EACCES), never
 * grown (VM_DONTEXPAND: mremap() -EFAULT), never collapsed into huge pages
 * (MADV_COLLAPSE -EINVAL).  Shared pages read as zero first and keep what
 * the host writes; private pages and pages past the end raise SIGBUS.
 */
TEST_F(gmem, mmap)
{
	int fd = gmu_create_gmem(self->vm, self->size, variant->flags);
	bool shared = variant->flags & GUEST_MEMFD_FLAG_INIT_SHARED;
	char *m, *m2;
	__u64 i;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, self->page));
	if (!(variant->flags & GUEST_MEMFD_FLAG_MMAP)) {
		ASSERT_ERR(ENODEV, mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED,
					fd, 0));
		ASSERT_ERR(ENODEV, mmap(NULL, self->page, PROT_READ, MAP_SHARED, fd, 0));
		ASSERT_ERR(ENODEV, mmap(NULL, self->page, PROT_READ, MAP_PRIVATE, fd, 0));
		ASSERT_EQ(0, close(fd));
		return;
	}

	ASSERT_ERR(EINVAL, mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
	ASSERT_ERR(EINVAL, mmap(NULL, self->page, PROT_READ, MAP_PRIVATE, fd, 0));
	ASSERT_ERR(EPERM, mmap(NULL, self->page, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0));

	/* Twice the file: the second half is past its end. */
	m = mmap(NULL, 2 * self->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m) TH_LOG("mmap: %s", strerror(errno));
	for (i = 0; i < self->pages; i++) {
		char *p = m + i * self->page;

		ASSERT_EQ(!shared, touch_bus(p, false, 0)) TH_LOG("page %llu", i);
		ASSERT_EQ(!shared, touch_bus(p + 7, true, (char)(i + 1))) TH_LOG("page %llu", i);
		if (shared) {
			ASSERT_EQ(0, p[0]);
			ASSERT_EQ((char)(i + 1), p[7]);
			ASSERT_TRUE(all_zero(p + 8, self->page - 8));
		}
	}
	ASSERT_TRUE(touch_bus(m + self->size, false, 0));
	ASSERT_TRUE(touch_bus(m + 2 * self->size - 1, true, 1));

	ASSERT_ERR(EFAULT, mremap(m, 2 * self->size, 4 * self->size, MREMAP_MAYMOVE));
	ASSERT_ERR(EINVAL, madvise(m, self->size, MADV_COLLAPSE));
	ASSERT_ERR(EACCES, mprotect(m, self->page, PROT_READ | PROT_EXEC));
	/* Splitting the mapping is fine: the state is per page, not per mapping. */
	ASSERT_EQ(0, mprotect(m, self->page, PROT_READ));

	/* A second mapping sees the same pages. */
	m2 = mmap(NULL, self->size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m2);
	if (shared)
		ASSERT_EQ(3, m2[2 * self->page + 7]);
	ASSERT_EQ(0, munmap(m2, self->size));

	ASSERT_EQ(0, munmap(m, 2 * self->size));
	ASSERT_EQ(0, close(fd));
}

/*
 * KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd checks its arguments
 * (kvm_gmem_set_attributes(), guestmem_convert()): -EINVAL for a file
 * without MMAP, unknown attributes or flags, ZERO with PRESERVE, reserved
 * words, an empty, unaligned, wrapping or too long range; -EFAULT for a bad
 * pointer.  The same ioctl number on the VM is not KVM_SET_MEMORY_ATTRIBUTES.
 */
TEST_F(gmem, convert_args)
{
	struct kvm_memory_attributes2 attr = { .size = self->page };
	int fd = gmu_create_gmem(self->vm, self->size, variant->flags);
	__u64 err;

	ASSERT_LE(0, fd);
	if (!(variant->flags & GUEST_MEMFD_FLAG_MMAP)) {
		ASSERT_ERR(EINVAL, gmem_convert(fd, 0, self->page, false, 0, &err));
		ASSERT_ERR(EINVAL, gmem_convert(fd, 0, self->page, true, 0, &err));
		ASSERT_EQ(NO_OFFSET, err);
		ASSERT_EQ(0, close(fd));
		return;
	}

	ASSERT_EQ(0, gmem_convert(fd, 0, self->size, false, 0, &err));
	ASSERT_EQ(0, gmem_convert(fd, self->page, self->page, true,
				  KVM_SET_MEMORY_ATTRIBUTES2_PRESERVE, &err));
	ASSERT_EQ(0, gmem_convert(fd, self->page, self->page, true,
				  KVM_SET_MEMORY_ATTRIBUTES2_ZERO, &err));
	ASSERT_ERR(EINVAL, gmem_convert(fd, 0, 0, true, 0, &err));
	ASSERT_ERR(EINVAL, gmem_convert(fd, 1, self->page, true, 0, &err));
	ASSERT_ERR(EINVAL, gmem_convert(fd, 0, self->page + 1, true, 0, &err));
	ASSERT_ERR(EINVAL, gmem_convert(fd, 0, self->size + self->page, true, 0, &err));
	ASSERT_ERR(EINVAL, gmem_convert(fd, self->size, self->page, true, 0, &err));
	ASSERT_ERR(EINVAL, gmem_convert(fd, -self->page, 2 * self->page, true, 0, &err));
	ASSERT_ERR(EINVAL, gmem_convert(fd, 0, self->page, true, 1ULL << 2, &err));
	ASSERT_ERR(EINVAL, gmem_convert(fd, 0, self->page, true,
					KVM_SET_MEMORY_ATTRIBUTES2_ZERO |
					KVM_SET_MEMORY_ATTRIBUTES2_PRESERVE, &err));
	ASSERT_EQ(NO_OFFSET, err);

	attr.attributes = 1ULL << 2;
	ASSERT_ERR(EINVAL, ioctl(fd, KVM_SET_MEMORY_ATTRIBUTES2, &attr));
	attr.attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE;
	attr.reserved[10] = 1;
	ASSERT_ERR(EINVAL, ioctl(fd, KVM_SET_MEMORY_ATTRIBUTES2, &attr));
	attr.reserved[10] = 0;
	ASSERT_EQ(0, ioctl(fd, KVM_SET_MEMORY_ATTRIBUTES2, &attr));
	ASSERT_ERR(EFAULT, ioctl(fd, KVM_SET_MEMORY_ATTRIBUTES2, (void *)8));
	/* error_offset is output only: non-zero on input is -EINVAL. */
	attr.error_offset = self->page;
	ASSERT_ERR(EINVAL, ioctl(fd, KVM_SET_MEMORY_ATTRIBUTES2, &attr));
	attr.error_offset = 0;
	ASSERT_ERR(ENOTTY, ioctl(fd, KVM_SET_MEMORY_ATTRIBUTES, &attr));
	ASSERT_ERR(ENOTTY, ioctl(fd, KVM_CREATE_VCPU, 0));
	ASSERT_EQ(0, close(fd));
}

/*
 * A child touches the first page of @m (which must be shared), the parent
 * converts that page of @fd to private, and the child touches it again.
 * Returns 0 if the child could read it the first time and got SIGBUS the
 * second, i.e. the conversion removed the child's page-table entry.
 */
static int child_loses_page(int fd, char *m, __u64 page)
{
	int to_child[2], to_parent[2], status, ret = -1;
	char c = 0;
	pid_t pid;

	if (pipe(to_child) || pipe(to_parent))
		return -1;
	pid = fork();
	if (!pid) {
		bool before = touch_bus(m, false, 0);

		if (write(to_parent[1], &c, 1) != 1 || read(to_child[0], &c, 1) != 1)
			_exit(2);
		_exit(!before && touch_bus(m, false, 0) ? 0 : 1);
	}
	if (pid > 0 && read(to_parent[0], &c, 1) == 1 &&
	    !gmem_convert(fd, 0, page, true, 0, NULL) &&
	    write(to_child[1], &c, 1) == 1 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status))
		ret = WEXITSTATUS(status);
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
	return ret;
}

/*
 * In-place conversion from the host's side: what the host wrote to a
 * shared page survives a round trip through private, during which the
 * page raises SIGBUS; KVM_SET_MEMORY_ATTRIBUTES2_ZERO clears it instead.
 * The pages were mapped when converted: the conversion removed the
 * page-table entries, in this process and in a child's.
 */
TEST_F(gmem, convert_host)
{
	int fd = gmu_create_gmem(self->vm, self->size, variant->flags);
	char *m;
	__u64 i;

	ASSERT_LE(0, fd);
	if (!(variant->flags & GUEST_MEMFD_FLAG_MMAP)) {
		ASSERT_ERR(EINVAL, gmem_convert(fd, 0, self->size, false, 0, NULL));
		ASSERT_EQ(0, close(fd));
		return;
	}
	m = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, gmem_convert(fd, 0, self->size, false, 0, NULL));
	for (i = 0; i < self->size; i++)
		m[i] = (char)(i * 7 + 1);

	ASSERT_EQ(0, gmem_convert(fd, 2 * self->page, 4 * self->page, true, 0, NULL));
	for (i = 0; i < self->pages; i++) {
		bool private = i >= 2 && i < 6;

		char *p = m + i * self->page;

		ASSERT_EQ(private, touch_bus(p + 5, false, 0)) TH_LOG("page %llu", i);
		ASSERT_EQ(private, touch_bus(p, true, 9)) TH_LOG("page %llu", i);
	}
	ASSERT_EQ(0, gmem_convert(fd, 0, self->size, false, 0, NULL));
	for (i = 0; i < self->size; i++) {
		char want = (i % self->page) ? (char)(i * 7 + 1) : 9;

		if ((i / self->page) >= 2 && (i / self->page) < 6 && !(i % self->page))
			want = (char)(i * 7 + 1);
		ASSERT_EQ(want, m[i]) TH_LOG("byte %llu", i);
	}

	ASSERT_EQ(0, gmem_convert(fd, self->page, self->page, true,
				  KVM_SET_MEMORY_ATTRIBUTES2_ZERO, NULL));
	ASSERT_EQ(0, gmem_convert(fd, self->page, self->page, false, 0, NULL));
	ASSERT_TRUE(all_zero(m + self->page, self->page));
	ASSERT_EQ(9, m[0]);

	/*
	 * Another process that maps the page (a child, which faulted it in
	 * through the inherited mapping) loses it as well.
	 */
	ASSERT_EQ(0, child_loses_page(fd, m, self->page));
	ASSERT_EQ(0, munmap(m, self->size));
	ASSERT_EQ(0, close(fd));
}

/*
 * With GUEST_MEMFD_FLAG_NO_DIRECT_MAP every page is out of the kernel
 * direct map, shared ones too, and the kernel cannot pin or GUP any page
 * of the file (secretmem's rule): vmsplice() and process_vm_readv() of
 * the mapping fail with EFAULT, a read of /proc/self/mem at it with EIO.
 * The VMM's own mapping works, and conversions keep the contents both ways
 * without touching the direct map.  The same calls succeed on the same
 * kind of file without the flag, so the refusal is the flag's.  A file
 * without GUEST_MEMFD_FLAG_MMAP gives GUP no user address at all.
 */
#define NODM_KEY	"guestmem-pages-no-direct-map"

TEST_F(gmem, no_direct_map_gup_refused)
{
	const __u64 p = self->page;
	struct iovec local, remote;
	int fd, mem, pipefd[2];
	unsigned int i;
	char buf[64];
	ssize_t ret;
	char *m;

	if (!(gmu_gmem_flags(self->vm) & GUEST_MEMFD_FLAG_NO_DIRECT_MAP))
		SKIP(return, "GUEST_MEMFD_FLAG_NO_DIRECT_MAP is not supported");
	if (!(variant->flags & GUEST_MEMFD_FLAG_MMAP)) {
		/* No user address at all for GUP to start from. */
		fd = gmu_create_gmem(self->vm, self->size,
				     variant->flags | GUEST_MEMFD_FLAG_NO_DIRECT_MAP);
		ASSERT_LE(0, fd);
		ASSERT_ERR(ENODEV, mmap(NULL, self->size, PROT_READ, MAP_SHARED, fd, 0));
		ASSERT_EQ(0, close(fd));
		return;
	}
	mem = open("/proc/self/mem", O_RDONLY);
	ASSERT_LE(0, mem);

	for (i = 0; i < 2; i++) {
		bool nodm = i == 1;

		fd = gmu_create_gmem(self->vm, self->size,
				     variant->flags | (nodm ? GUEST_MEMFD_FLAG_NO_DIRECT_MAP : 0));
		ASSERT_LE(0, fd);
		m = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, m);
		ASSERT_EQ(0, gmem_convert(fd, 0, self->size, false, 0, NULL));
		memset(m, 0x6b, self->size);
		ASSERT_EQ(self->pages, gmu_fdinfo_num(fd, "guestmem-pages"));
		ASSERT_EQ(nodm ? self->pages : 0, gmu_fdinfo_num(fd, NODM_KEY));

		ASSERT_EQ(0, pipe(pipefd));
		local.iov_base = m + 3 * p;
		local.iov_len = sizeof(buf);
		ret = vmsplice(pipefd[1], &local, 1, 0);
		if (nodm) {
			ASSERT_ERR(EFAULT, ret);
		} else {
			ASSERT_EQ(sizeof(buf), ret);
			ASSERT_EQ(sizeof(buf), read(pipefd[0], buf, sizeof(buf)));
			ASSERT_EQ(0x6b, buf[0]);
		}
		ASSERT_EQ(0, close(pipefd[0]));
		ASSERT_EQ(0, close(pipefd[1]));

		memset(buf, 0, sizeof(buf));
		local.iov_base = buf;
		remote.iov_base = m + 5 * p;
		remote.iov_len = sizeof(buf);
		ret = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
		if (nodm) {
			ASSERT_ERR(EFAULT, ret);
		} else {
			ASSERT_EQ(sizeof(buf), ret);
			ASSERT_EQ(0x6b, buf[sizeof(buf) - 1]);
		}

		ret = pread(mem, buf, sizeof(buf), (off_t)(uintptr_t)(m + 6 * p));
		if (nodm)
			ASSERT_ERR(EIO, ret);
		else
			ASSERT_EQ(sizeof(buf), ret);

		/* Nothing holds a page: private, then shared again, contents kept. */
		ASSERT_EQ(0, gmem_convert(fd, 0, self->size, true, 0, NULL));
		ASSERT_TRUE(touch_bus(m + p, false, 0));
		ASSERT_EQ(nodm ? self->pages : 0, gmu_fdinfo_num(fd, NODM_KEY));
		ASSERT_EQ(0, gmem_convert(fd, 0, self->size, false, 0, NULL));
		ASSERT_EQ(0x6b, m[5 * p + 7]);
		ASSERT_EQ(nodm ? self->pages : 0, gmu_fdinfo_num(fd, NODM_KEY));

		ASSERT_EQ(0, munmap(m, self->size));
		ASSERT_EQ(0, close(fd));
	}
	ASSERT_EQ(0, close(mem));
}

/*
 * David Hildenbrand's rule: a page with references the library does not
 * own cannot become private.  vmsplice() pins the pages of the mapping it
 * reads from until the pipe is drained; meanwhile the conversion fails
 * with -EAGAIN and names the first such page in error_offset, and changes
 * nothing (the page stays shared and keeps its data).  mlock() leaves no
 * such reference (the mapping is never VM_LOCKED).
 */
TEST_F(gmem, convert_pinned)
{
	int fd = gmu_create_gmem(self->vm, self->size, variant->flags);
	char buf[64];
	struct iovec iov;
	int pipefd[2];
	__u64 err;
	char *m;

	ASSERT_LE(0, fd);
	if (!(variant->flags & GUEST_MEMFD_FLAG_MMAP)) {
		ASSERT_ERR(EINVAL, gmem_convert(fd, 0, self->size, true, 0, &err));
		ASSERT_EQ(0, close(fd));
		return;
	}
	m = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, gmem_convert(fd, 0, self->size, false, 0, NULL));
	memset(m, 0x3c, self->size);

	ASSERT_EQ(0, pipe(pipefd));
	iov.iov_base = m + 5 * self->page + 100;
	iov.iov_len = sizeof(buf);
	ASSERT_EQ(sizeof(buf), vmsplice(pipefd[1], &iov, 1, 0));

	ASSERT_ERR(EAGAIN, gmem_convert(fd, 2 * self->page, 8 * self->page, true, 0, &err));
	ASSERT_EQ(5 * self->page, err);
	ASSERT_FALSE(touch_bus(m + 5 * self->page, false, 0));
	ASSERT_FALSE(touch_bus(m + 2 * self->page, false, 0));
	ASSERT_EQ(0x3c, m[5 * self->page + 1]);
	/* Around the pinned page, conversions work. */
	ASSERT_EQ(0, gmem_convert(fd, 2 * self->page, 3 * self->page, true, 0, &err));
	ASSERT_EQ(NO_OFFSET, err);

	ASSERT_EQ(sizeof(buf), read(pipefd[0], buf, sizeof(buf)));
	ASSERT_EQ(0x3c, buf[0]);
	ASSERT_EQ(0, gmem_convert(fd, 2 * self->page, 8 * self->page, true, 0, &err));
	ASSERT_TRUE(touch_bus(m + 5 * self->page, false, 0));

	ASSERT_EQ(0, gmem_convert(fd, 0, self->size, false, 0, NULL));
	ASSERT_EQ(0, mlock(m, self->size));
	ASSERT_EQ(0x3c, m[9 * self->page]);
	ASSERT_EQ(0, gmem_convert(fd, 0, self->size, true, 0, &err));
	ASSERT_EQ(0, munlock(m, self->size));

	ASSERT_EQ(0, close(pipefd[0]));
	ASSERT_EQ(0, close(pipefd[1]));
	ASSERT_EQ(0, munmap(m, self->size));
	ASSERT_EQ(0, close(fd));
}

/*
 * check_memory_region_flags(): KVM_MEM_GUEST_MEMFD is a valid flag if
 * kvm_arch_has_private_mem(kvm) or kvm_arch_gmem_supports_mmap(kvm); it is
 * checked before anything else.  kvm_gmem_bind(): a VM without private
 * memory binds only files with GUEST_MEMFD_FLAG_MMAP (gmem-only memslots).
 */
TEST_F(gmem, memslot_needs_private_vm)
{
	bool gmem_only = gmu_gmem_flags(self->vm) & GUEST_MEMFD_FLAG_MMAP;
	bool ok = variant->private_mem || (variant->flags & GUEST_MEMFD_FLAG_MMAP);
	void *mem;
	int fd;

	ASSERT_LT(0, ioctl(self->vm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY2));
	mem = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	fd = gmu_create_gmem(self->vm, self->size, variant->flags);
	ASSERT_LE(0, fd);

	if (ok) {
		ASSERT_EQ(0, gmu_set_region(self->vm, 0, KVM_MEM_GUEST_MEMFD, SLOT_GPA(0),
					    self->size, mem, fd, 0));
		ASSERT_EQ(0, gmu_delete_region(self->vm, 0));
	} else {
		ASSERT_ERR(EINVAL, gmu_set_region(self->vm, 0, KVM_MEM_GUEST_MEMFD, SLOT_GPA(0),
						  self->size, mem, fd, 0));
		/* With gmem-only memslots the flag is valid: the fd is checked. */
		ASSERT_ERR(gmem_only ? EBADF : EINVAL,
			   gmu_set_region(self->vm, 0, KVM_MEM_GUEST_MEMFD, SLOT_GPA(0),
					  self->size, mem, -1, 0));
		/* The same memory without the flag is an ordinary memslot. */
		ASSERT_EQ(0, gmu_set_region(self->vm, 0, 0, SLOT_GPA(0), self->size, mem, fd, 0));
		ASSERT_EQ(0, gmu_delete_region(self->vm, 0));
	}
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, munmap(mem, self->size));
}

/*
 * Memslots backed by guest_memfd (KVM_SET_USER_MEMORY_REGION2 with
 * KVM_MEM_GUEST_MEMFD): a VM with private memory binds any guest_memfd
 * (KVM_X86_SW_PROTECTED_VM here), the default VM only one with
 * GUEST_MEMFD_FLAG_MMAP (a gmem-only memslot).  Either way, every guest
 * access to a gmem-only memslot is served from the file, never from
 * userspace_addr.  Other architectures have neither in 6.12, so the
 * fixture has no variant (and skips) there.
 */
FIXTURE(bind) {
	int kvm;
	int vm;
	int gmem;		/* test_file_size() */
	__u64 page;
	__u64 size;		/* of gmem and of mem */
	void *mem;		/* userspace_addr of every memslot */
};

FIXTURE_VARIANT(bind) {
	unsigned long vm_type;
	__u64 gmem_flags;	/* of every guest_memfd of the test */
};

#ifdef __x86_64__
FIXTURE_VARIANT_ADD(bind, sw_protected_vm) {
	.vm_type = KVM_X86_SW_PROTECTED_VM,
};

FIXTURE_VARIANT_ADD(bind, sw_protected_vm_no_direct_map) {
	.vm_type = KVM_X86_SW_PROTECTED_VM,
	.gmem_flags = GUEST_MEMFD_FLAG_NO_DIRECT_MAP,
};

FIXTURE_VARIANT_ADD(bind, sw_protected_vm_mmap) {
	.vm_type = KVM_X86_SW_PROTECTED_VM,
	.gmem_flags = GUEST_MEMFD_FLAG_MMAP,
};

FIXTURE_VARIANT_ADD(bind, sw_protected_vm_mmap_no_direct_map) {
	.vm_type = KVM_X86_SW_PROTECTED_VM,
	.gmem_flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_NO_DIRECT_MAP,
};

FIXTURE_VARIANT_ADD(bind, default_vm_mmap) {
	.vm_type = 0,
	.gmem_flags = GUEST_MEMFD_FLAG_MMAP,
};

FIXTURE_VARIANT_ADD(bind, default_vm_mmap_no_direct_map) {
	.vm_type = 0,
	.gmem_flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_NO_DIRECT_MAP,
};

/* The same tests on huge-backed files. */
FIXTURE_VARIANT_ADD(bind, sw_protected_vm_huge) {
	.vm_type = KVM_X86_SW_PROTECTED_VM,
	.gmem_flags = GUEST_MEMFD_FLAG_HUGEPAGE,
};

FIXTURE_VARIANT_ADD(bind, sw_protected_vm_mmap_no_direct_map_huge) {
	.vm_type = KVM_X86_SW_PROTECTED_VM,
	.gmem_flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_NO_DIRECT_MAP |
		      GUEST_MEMFD_FLAG_HUGEPAGE,
};

FIXTURE_VARIANT_ADD(bind, default_vm_mmap_huge) {
	.vm_type = 0,
	.gmem_flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_HUGEPAGE,
};
#endif

FIXTURE_SETUP(bind)
{
	self->kvm = -1;
	self->vm = -1;
	self->gmem = -1;
	self->mem = MAP_FAILED;
	self->page = page_size();
	self->size = test_file_size(variant ? variant->gmem_flags : 0, self->page);
	if (!variant) {
		/* Checked first: without guest_memfd, that is why we skip. */
		if (!open_vm(_metadata, &self->kvm, &self->vm, 0))
			return;
		SKIP(return, "no VM type with private memory on this architecture");
	}
	if (!open_vm(_metadata, &self->kvm, &self->vm, variant->vm_type))
		return;

	ASSERT_EQ(1, ioctl(self->vm, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD));
	ASSERT_LT(0, ioctl(self->vm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY2));
	/* Only x86_64 has variants, and it offers every flag. */
	ASSERT_EQ(variant->gmem_flags, variant->gmem_flags & gmu_gmem_flags(self->vm));
	self->gmem = gmu_create_gmem(self->vm, self->size, variant->gmem_flags);
	ASSERT_LE(0, self->gmem) TH_LOG("KVM_CREATE_GUEST_MEMFD: %s", strerror(errno));
	self->mem = mmap(NULL, self->size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
}

FIXTURE_TEARDOWN(bind)
{
	if (self->mem != MAP_FAILED)
		munmap(self->mem, self->size);
	if (self->gmem >= 0)
		close(self->gmem);
	if (self->vm >= 0)
		close(self->vm);
	if (self->kvm >= 0)
		close(self->kvm);
}

/* Memslot @slot at SLOT_GPA(@slot): @size bytes of @gmem from @offset. */
static int bind_slot(FIXTURE_DATA(bind) * self, __u32 slot, int gmem, __u64 offset, __u64 size)
{
	return gmu_set_region(self->vm, slot, KVM_MEM_GUEST_MEMFD, SLOT_GPA(slot), size,
			      self->mem, gmem, offset);
}

/*
 * A memslot binds its range of the file; deleting the memslot
 * (memory_size 0) releases the range, which can then be bound again.
 * __kvm_set_memory_region(): deleting a memslot that does not exist:
 *	if (!old || !old->npages) return -EINVAL;
 */
TEST_F(bind, create_delete_recreate)
{
	ASSERT_EQ(0, bind_slot(self, 0, self->gmem, 0, self->size));
	ASSERT_EQ(0, gmu_delete_region(self->vm, 0));
	ASSERT_ERR(EINVAL, gmu_delete_region(self->vm, 0));

	ASSERT_EQ(0, bind_slot(self, 0, self->gmem, 0, self->size));
	ASSERT_EQ(0, gmu_delete_region(self->vm, 0));

	ASSERT_EQ(0, bind_slot(self, 1, self->gmem, 0, self->size));
	ASSERT_EQ(0, gmu_delete_region(self->vm, 1));

	ASSERT_EQ(0, bind_slot(self, 0, self->gmem, self->page, self->size - self->page));
	ASSERT_EQ(0, bind_slot(self, 1, self->gmem, 0, self->page));
	ASSERT_EQ(0, gmu_delete_region(self->vm, 0));
	ASSERT_EQ(0, gmu_delete_region(self->vm, 1));
}

/*
 * __kvm_set_memory_region(), modifying an existing memslot:
 *	if (mem->flags & KVM_MEM_GUEST_MEMFD) return -EINVAL;
 *	if (... ((mem->flags ^ old->flags) &
 *		 (KVM_MEM_READONLY | KVM_MEM_GUEST_MEMFD))) return -EINVAL;
 */
TEST_F(bind, memslot_immutable)
{
	ASSERT_EQ(0, bind_slot(self, 0, self->gmem, 0, self->size));

	/* The same memslot again, moved, or without the flag. */
	ASSERT_ERR(EINVAL, bind_slot(self, 0, self->gmem, 0, self->size));
	ASSERT_ERR(EINVAL, gmu_set_region(self->vm, 0, KVM_MEM_GUEST_MEMFD, SLOT_GPA(1),
					  self->size, self->mem, self->gmem, 0));
	ASSERT_ERR(EINVAL, gmu_set_region(self->vm, 0, 0, SLOT_GPA(0), self->size, self->mem,
					  0, 0));

	ASSERT_EQ(0, gmu_delete_region(self->vm, 0));
	ASSERT_EQ(0, bind_slot(self, 0, self->gmem, 0, self->size));
}

/*
 * check_memory_region_flags(): with KVM_MEM_GUEST_MEMFD, neither
 * KVM_MEM_LOG_DIRTY_PAGES nor KVM_MEM_READONLY is valid, nor is any
 * undefined bit.
 */
TEST_F(bind, invalid_flags)
{
	const __u32 flags[] = {
		KVM_MEM_GUEST_MEMFD | KVM_MEM_LOG_DIRTY_PAGES,
		KVM_MEM_GUEST_MEMFD | KVM_MEM_READONLY,
		KVM_MEM_GUEST_MEMFD | (1U << 3),
		KVM_MEM_GUEST_MEMFD | (1U << 31),
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		ASSERT_ERRNO(EINVAL, gmu_set_region(self->vm, 0, flags[i], SLOT_GPA(0), self->size,
						    self->mem, self->gmem, 0),
			     "(flags 0x%x)", flags[i]);
	}
	ASSERT_EQ(0, bind_slot(self, 0, self->gmem, 0, self->size));
}

/*
 * KVM_SET_USER_MEMORY_REGION (v1) has no guest_memfd fields: kvm_vm_ioctl():
 *	if (ioctl == KVM_SET_USER_MEMORY_REGION &&
 *	    (mem.flags & ~KVM_SET_USER_MEMORY_REGION_V1_FLAGS)) -> -EINVAL
 */
TEST_F(bind, v1_ioctl_refused)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.flags = KVM_MEM_GUEST_MEMFD,
		.guest_phys_addr = SLOT_GPA(0),
		.memory_size = self->size,
		.userspace_addr = (uintptr_t)self->mem,
	};

	ASSERT_ERR(EINVAL, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, &region));
	ASSERT_EQ(0, bind_slot(self, 0, self->gmem, 0, self->size));
}

/*
 * __kvm_set_memory_region():
 *	if (mem->flags & KVM_MEM_GUEST_MEMFD &&
 *	    (mem->guest_memfd_offset & (PAGE_SIZE - 1) || ...)) return -EINVAL;
 */
TEST_F(bind, unaligned_offset)
{
	const __u64 offsets[] = { 1, self->page / 2, self->page - 1, self->page + 1 };
	const __u64 len = self->size - 2 * self->page;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(offsets); i++) {
		ASSERT_ERRNO(EINVAL, bind_slot(self, 0, self->gmem, offsets[i], len),
			     "(offset 0x%llx)", (unsigned long long)offsets[i]);
	}
	ASSERT_EQ(0, bind_slot(self, 0, self->gmem, self->page, len));
}

/*
 * __kvm_set_memory_region(): an offset + size that wraps:
 *	mem->guest_memfd_offset + mem->memory_size < mem->guest_memfd_offset -> -EINVAL
 */
TEST_F(bind, offset_overflow)
{
	ASSERT_ERR(EINVAL, bind_slot(self, 0, self->gmem, -self->page, self->page));
	ASSERT_ERR(EINVAL, bind_slot(self, 0, self->gmem, -self->size, 2 * self->size));
	ASSERT_EQ(0, bind_slot(self, 0, self->gmem, self->size - self->page, self->page));
}

/* kvm_gmem_bind(): if (... offset + size > i_size_read(inode)) return -EINVAL; */
TEST_F(bind, range_past_size)
{
	const __u64 p = self->page, s = self->size;
	const __u64 ranges[][2] = {
		{ 0, s + p },
		{ p, s },
		{ s, p },
		{ s - p, 2 * p },
		{ 2 * s, p },
		{ 1ULL << 63, p },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ranges); i++) {
		ASSERT_ERRNO(EINVAL, bind_slot(self, 0, self->gmem, ranges[i][0], ranges[i][1]),
			     "(offset 0x%llx size 0x%llx)", (unsigned long long)ranges[i][0],
			     (unsigned long long)ranges[i][1]);
	}
	/* Ending exactly at the end of the file is fine. */
	ASSERT_EQ(0, bind_slot(self, 0, self->gmem, p, s - p));
}

/*
 * A page of the file belongs to at most one memslot.  6.12.118 (Debian's
 * 6.12 since 2026-11) binds in kvm_gmem_commit_memory_region() and says so
 * with EEXIST, as upstream does:
 *	if (!xa_empty(&gmem->bindings) &&
 *	    xa_find(&gmem->bindings, &start, end - 1, XA_PRESENT)) -> -EEXIST
 * The memslots have disjoint guest addresses, so the overlap in the file is
 * the only reason for the error.
 */
TEST_F(bind, overlap_in_file)
{
	const __u64 p = self->page, s = self->size;

	ASSERT_EQ(0, bind_slot(self, 0, self->gmem, 0, 2 * p));		/* pages 0-1 */

	ASSERT_ERR(EEXIST, bind_slot(self, 1, self->gmem, 0, 2 * p));
	ASSERT_ERR(EEXIST, bind_slot(self, 1, self->gmem, p, 2 * p));
	ASSERT_ERR(EEXIST, bind_slot(self, 1, self->gmem, p, p));
	ASSERT_ERR(EEXIST, bind_slot(self, 1, self->gmem, 0, s));

	ASSERT_EQ(0, bind_slot(self, 1, self->gmem, 2 * p, 2 * p));	/* pages 2-3 */
	ASSERT_ERR(EEXIST, bind_slot(self, 2, self->gmem, 3 * p, p));
	ASSERT_ERR(EEXIST, bind_slot(self, 2, self->gmem, p, 2 * p));
	ASSERT_EQ(0, bind_slot(self, 2, self->gmem, 4 * p, s - 4 * p));	/* the rest */
	ASSERT_ERR(EEXIST, bind_slot(self, 3, self->gmem, s - p, p));

	/* Deleting memslot 0 frees pages 0-1, and only those. */
	ASSERT_EQ(0, gmu_delete_region(self->vm, 0));
	ASSERT_ERR(EEXIST, bind_slot(self, 3, self->gmem, p, 2 * p));
	ASSERT_EQ(0, bind_slot(self, 3, self->gmem, p, p));
	ASSERT_EQ(0, bind_slot(self, 4, self->gmem, 0, p));
	ASSERT_ERR(EEXIST, bind_slot(self, 5, self->gmem, 0, p));
}

/* Bindings are per file: the same range of different files never conflicts. */
TEST_F(bind, several_files)
{
	int fd[4];
	int i;

	for (i = 0; i < 4; i++) {
		fd[i] = gmu_create_gmem(self->vm, self->size, variant->gmem_flags);
		ASSERT_LE(0, fd[i]);
		ASSERT_EQ(0, bind_slot(self, i, fd[i], 0, self->size));
	}
	ASSERT_EQ(0, bind_slot(self, 4, self->gmem, 0, self->size));
	ASSERT_ERR(EEXIST, bind_slot(self, 5, fd[2], 0, self->page));

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, gmu_delete_region(self->vm, i));
	/* Re-created crosswise. */
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, bind_slot(self, i, fd[3 - i], 0, self->size));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, close(fd[i]));
}

/* kvm_gmem_bind(): gmem = file->private_data; if (gmem->kvm != kvm) -> -EINVAL */
TEST_F(bind, other_vm)
{
	int vm2, gmem2;

	vm2 = ioctl(self->kvm, KVM_CREATE_VM, variant->vm_type);
	ASSERT_LE(0, vm2);
	gmem2 = gmu_create_gmem(vm2, self->size, variant->gmem_flags);
	ASSERT_LE(0, gmem2);

	ASSERT_ERR(EINVAL, bind_slot(self, 0, gmem2, 0, self->size));
	ASSERT_ERR(EINVAL, gmu_set_region(vm2, 0, KVM_MEM_GUEST_MEMFD, SLOT_GPA(0), self->size,
					  self->mem, self->gmem, 0));

	/* Each file is fine on its own VM. */
	ASSERT_EQ(0, gmu_set_region(vm2, 0, KVM_MEM_GUEST_MEMFD, SLOT_GPA(0), self->size,
				    self->mem, gmem2, 0));
	ASSERT_EQ(0, bind_slot(self, 0, self->gmem, 0, self->size));

	ASSERT_EQ(0, close(gmem2));
	ASSERT_EQ(0, close(vm2));
}

/* kvm_gmem_bind(): if (file->f_op != &kvm_gmem_fops) -> -EINVAL */
TEST_F(bind, not_guest_memfd)
{
	int memfd, null;

	memfd = memfd_create("guestmem_test", MFD_CLOEXEC);
	ASSERT_LE(0, memfd) TH_LOG("memfd_create: %s", strerror(errno));
	ASSERT_EQ(0, ftruncate(memfd, self->size));
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null);

	ASSERT_ERR(EINVAL, bind_slot(self, 0, memfd, 0, self->size));
	ASSERT_ERR(EINVAL, bind_slot(self, 0, null, 0, self->size));
	ASSERT_ERR(EINVAL, bind_slot(self, 0, self->kvm, 0, self->size));
	ASSERT_ERR(EINVAL, bind_slot(self, 0, self->vm, 0, self->size));
	ASSERT_EQ(0, bind_slot(self, 0, self->gmem, 0, self->size));

	ASSERT_EQ(0, close(null));
	ASSERT_EQ(0, close(memfd));
}

/* kvm_gmem_bind(): file = fget(fd); if (!file) return -EBADF; */
TEST_F(bind, bad_fd)
{
	int closed = dup(self->gmem);

	ASSERT_LE(0, closed);
	ASSERT_EQ(0, close(closed));

	ASSERT_ERR(EBADF, bind_slot(self, 0, closed, 0, self->size));
	ASSERT_ERR(EBADF, bind_slot(self, 0, -1, 0, self->size));
	ASSERT_ERR(EBADF, bind_slot(self, 0, INT_MAX, 0, self->size));
	ASSERT_EQ(0, bind_slot(self, 0, self->gmem, 0, self->size));
}

#ifdef __x86_64__
/*
 * A real-mode guest whose memory is two memslots: its code at CODE_GPA and
 * GUEST_PRIV_SIZE bytes of the fixture's guest_memfd at PRIV_GPA, marked
 * private.  Entered at GUEST_STORE it writes ECX to PRIV_GPA + BX; at
 * GUEST_LOAD it only reads; either way it reports the dword at PRIV_GPA + BX
 * with "out %eax, $GUEST_PORT" and halts.
 */
#define CODE_SLOT		20
#define PRIV_SLOT		21
#define CODE_GPA		0x0
#define PRIV_GPA		0x10000		/* DS = 0x1000 below */
#define GUEST_SIZE		0x10000
#define GUEST_PORT		0x10
#define GUEST_STORE		0x0
#define GUEST_LOAD		0x8
/* The same, with DS as guest_run_ds() set it: anywhere below 4 GiB. */
#define GUEST_STORE_DS		0x14
#define GUEST_LOAD_DS		0x17

static const unsigned char guest_code[] = {
	/* GUEST_STORE: */
	0xb8, 0x00, 0x10,		/* mov $0x1000, %ax */
	0x8e, 0xd8,			/* mov %ax, %ds */
	0x66, 0x89, 0x0f,		/* mov %ecx, (%bx) */
	/* GUEST_LOAD: */
	0xb8, 0x00, 0x10,		/* mov $0x1000, %ax */
	0x8e, 0xd8,			/* mov %ax, %ds */
	0x66, 0x8b, 0x07,		/* mov (%bx), %eax */
	0x66, 0xe7, GUEST_PORT,		/* out %eax, $GUEST_PORT */
	0xf4,				/* hlt */
	/* GUEST_STORE_DS: */
	0x66, 0x89, 0x0f,		/* mov %ecx, (%bx) */
	/* GUEST_LOAD_DS: */
	0x66, 0x8b, 0x07,		/* mov (%bx), %eax */
	0x66, 0xe7, GUEST_PORT,		/* out %eax, $GUEST_PORT */
	0xf4,				/* hlt */
};

struct guest {
	void *code;
	int vcpu;
	int run_size;
	struct kvm_run *run;
};

/*
 * Makes the guest's range private: through the VM's memory attributes,
 * or, for a gmem-only memslot, in the file itself (GUEST_MEMFD_FLAG_MMAP
 * files start private: a no-op, checked all the same).
 */
static void set_private(struct __test_metadata *_metadata, int vm, __u64 gpa, __u64 size,
			bool private)
{
	struct kvm_memory_attributes attr = {
		.address = gpa,
		.size = size,
		.attributes = private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0,
	};

	ASSERT_EQ(0, ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &attr))
		TH_LOG("KVM_SET_MEMORY_ATTRIBUTES: %s", strerror(errno));
}

static void guest_create(struct __test_metadata *_metadata, FIXTURE_DATA(bind) * self,
			 const FIXTURE_VARIANT(bind) * variant, struct guest *g)
{
	bool gmem_only = variant->gmem_flags & GUEST_MEMFD_FLAG_MMAP;

	ASSERT_EQ(4096, self->page);
	ASSERT_LE(GUEST_SIZE, self->size);
	if (!gmem_only)
		ASSERT_NE(0, ioctl(self->vm, KVM_CHECK_EXTENSION, KVM_CAP_MEMORY_ATTRIBUTES) &
			  KVM_MEMORY_ATTRIBUTE_PRIVATE);

	g->code = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, g->code);
	memcpy(g->code, guest_code, sizeof(guest_code));
	ASSERT_EQ(0, gmu_set_region(self->vm, CODE_SLOT, 0, CODE_GPA, GUEST_SIZE, g->code, 0, 0));
	ASSERT_EQ(0, gmu_set_region(self->vm, PRIV_SLOT, KVM_MEM_GUEST_MEMFD, PRIV_GPA, GUEST_SIZE,
				    self->mem, self->gmem, 0));
	if (gmem_only)
		ASSERT_EQ(0, gmem_convert(self->gmem, 0, GUEST_SIZE, true, 0, NULL));
	if (!gmem_only)
		set_private(_metadata, self->vm, PRIV_GPA, GUEST_SIZE, true);

	g->vcpu = ioctl(self->vm, KVM_CREATE_VCPU, 0);
	ASSERT_LE(0, g->vcpu) TH_LOG("KVM_CREATE_VCPU: %s", strerror(errno));
	g->run_size = ioctl(self->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	ASSERT_LT(0, g->run_size);
	g->run = mmap(NULL, g->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, g->vcpu, 0);
	ASSERT_NE(MAP_FAILED, g->run);
}

static void guest_destroy(struct __test_metadata *_metadata, struct guest *g)
{
	ASSERT_EQ(0, munmap(g->run, g->run_size));
	ASSERT_EQ(0, close(g->vcpu));
	ASSERT_EQ(0, munmap(g->code, GUEST_SIZE));
}

/*
 * Runs the guest from @entry with BX = @offset, ECX = @value and, if
 * @ds_base is not -1, the base of DS set to it, until it halts.  Returns 0
 * with the reported dword in *@word, or -1 with the errno of a failed
 * KVM_RUN.
 */
static int guest_run_ds(struct __test_metadata *_metadata, struct guest *g, unsigned int entry,
			__s64 ds_base, __u16 offset, __u32 value, __u32 *word)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	bool reported = false;

	ASSERT_EQ(0, ioctl(g->vcpu, KVM_GET_SREGS, &sregs));
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ds_base != -1) {
		/* Real mode, with the hidden base of a descriptor cache. */
		sregs.ds.base = ds_base;
		sregs.ds.selector = 0;
		sregs.ds.limit = 0xffff;
	}
	ASSERT_EQ(0, ioctl(g->vcpu, KVM_SET_SREGS, &sregs));
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA + entry;
	regs.rflags = 0x2;
	regs.rbx = offset;
	regs.rcx = value;
	ASSERT_EQ(0, ioctl(g->vcpu, KVM_SET_REGS, &regs));

	for (;;) {
		if (ioctl(g->vcpu, KVM_RUN, 0))
			return -1;

		switch (g->run->exit_reason) {
		case KVM_EXIT_IO:
			ASSERT_EQ(KVM_EXIT_IO_OUT, g->run->io.direction);
			ASSERT_EQ(GUEST_PORT, g->run->io.port);
			ASSERT_EQ(4, g->run->io.size);
			memcpy(word, (char *)g->run + g->run->io.data_offset, 4);
			reported = true;
			break;
		case KVM_EXIT_HLT:
			ASSERT_TRUE(reported);
			return 0;
		default:
			ASSERT_EQ(KVM_EXIT_HLT, g->run->exit_reason)
				TH_LOG("unexpected exit reason %u", g->run->exit_reason);
		}
	}
}

static int guest_run(struct __test_metadata *_metadata, struct guest *g, unsigned int entry,
		     __u16 offset, __u32 value, __u32 *word)
{
	return guest_run_ds(_metadata, g, entry, -1, offset, value, word);
}

/*
 * The guest reads and writes its private memory in the guest_memfd: a fresh
 * page, allocated by fallocate() or not, reads as zero
 * (kvm_gmem_prepare_folio() clears it), and the VMM's memory behind the same
 * guest addresses never sees what the guest wrote.
 */
TEST_F(bind, guest_private_memory)
{
	struct guest g;
	__u32 word;

	ASSERT_EQ(0, fallocate(self->gmem, FALLOC_FL_KEEP_SIZE, 0, self->page));
	guest_create(_metadata, self, variant, &g);

	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_LOAD, 0, 0, &word));
	ASSERT_EQ(0, word);
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_LOAD, 0x3000, 0, &word));
	ASSERT_EQ(0, word);

	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_STORE, 0, 0x6d656d67, &word));
	ASSERT_EQ(0x6d656d67, word);
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_STORE, 0x3000, 0x1234abcd, &word));
	ASSERT_EQ(0x1234abcd, word);
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_LOAD, 0, 0, &word));
	ASSERT_EQ(0x6d656d67, word);

	ASSERT_TRUE(all_zero(self->mem, GUEST_SIZE));
	guest_destroy(_metadata, &g);
}

/*
 * kvm_gmem_punch_hole() unmaps the range from the guest and frees it: the
 * guest reads zero there afterwards, and the rest of its memory is intact.
 */
TEST_F(bind, guest_punch_hole)
{
	const int mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	struct guest g;
	__u32 word;

	guest_create(_metadata, self, variant, &g);
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_STORE, 0x0, 0x11111111, &word));
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_STORE, 0x1000, 0x22222222, &word));
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_STORE, 0x2000, 0x33333333, &word));

	ASSERT_EQ(0, fallocate(self->gmem, mode, 0x1000, self->page));
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_LOAD, 0x1000, 0, &word));
	ASSERT_EQ(0, word);
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_LOAD, 0x0, 0, &word));
	ASSERT_EQ(0x11111111, word);
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_LOAD, 0x2000, 0, &word));
	ASSERT_EQ(0x33333333, word);

	/* The punched page is usable again. */
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_STORE, 0x1000, 0x44444444, &word));
	ASSERT_EQ(0x44444444, word);

	/* The whole file, and the guest's memory is all zero. */
	ASSERT_EQ(0, fallocate(self->gmem, mode, 0, self->size));
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_LOAD, 0x0, 0, &word));
	ASSERT_EQ(0, word);
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_LOAD, 0x2000, 0, &word));
	ASSERT_EQ(0, word);
	guest_destroy(_metadata, &g);
}

/*
 * Closing the guest_memfd while its memslot is bound unmaps it from the
 * guest (kvm_gmem_release()); the guest's next access to it fails KVM_RUN
 * with -EFAULT and a KVM_EXIT_MEMORY_FAULT exit: kvm_gmem_get_pfn():
 *	file = kvm_gmem_get_file(slot); if (!file) return -EFAULT;
 * and kvm_faultin_pfn_private() -> kvm_mmu_prepare_memory_fault_exit().
 * Then the memslot is replaced by one on a new file and the guest runs on.
 */
TEST_F(bind, guest_file_closed)
{
	struct guest g;
	__u32 word;
	int gmem2;

	guest_create(_metadata, self, variant, &g);
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_STORE, 0x1000, 0x6d656d67, &word));
	ASSERT_EQ(0x6d656d67, word);

	ASSERT_EQ(0, close(self->gmem));
	self->gmem = -1;

	ASSERT_ERR(EFAULT, guest_run(_metadata, &g, GUEST_LOAD, 0x1000, 0, &word));
	ASSERT_EQ(KVM_EXIT_MEMORY_FAULT, g.run->exit_reason);
	/* The default VM's accesses are never private ones. */
	ASSERT_EQ(variant->vm_type ? KVM_MEMORY_EXIT_FLAG_PRIVATE : 0, g.run->memory_fault.flags);
	ASSERT_EQ(PRIV_GPA + 0x1000, g.run->memory_fault.gpa);
	ASSERT_EQ(self->page, g.run->memory_fault.size);

	ASSERT_EQ(0, gmu_set_region(self->vm, PRIV_SLOT, 0, PRIV_GPA, 0, NULL, 0, 0));
	gmem2 = gmu_create_gmem(self->vm, self->size, variant->gmem_flags);
	ASSERT_LE(0, gmem2);
	ASSERT_EQ(0, gmu_set_region(self->vm, PRIV_SLOT, KVM_MEM_GUEST_MEMFD, PRIV_GPA, GUEST_SIZE,
				    self->mem, gmem2, 0));

	/* The new file's memory is fresh, and the guest can use it. */
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_LOAD, 0x1000, 0, &word));
	ASSERT_EQ(0, word);
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_STORE, 0x1000, 0x5a5a5a5a, &word));
	ASSERT_EQ(0x5a5a5a5a, word);
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_LOAD, 0x1000, 0, &word));
	ASSERT_EQ(0x5a5a5a5a, word);
	ASSERT_TRUE(all_zero(self->mem, GUEST_SIZE));

	guest_destroy(_metadata, &g);
	ASSERT_EQ(0, close(gmem2));
}

/*
 * guest_create(), then the host's mapping of the guest's memory, for a
 * variant whose file has GUEST_MEMFD_FLAG_MMAP.  For any other variant,
 * checks that the file refuses conversions (-EINVAL), destroys the guest
 * and returns NULL: the case has nothing more to test.
 */
static char *guest_create_mapped(struct __test_metadata *_metadata, FIXTURE_DATA(bind) * self,
				 const FIXTURE_VARIANT(bind) * variant, struct guest *g)
{
	char *m;

	guest_create(_metadata, self, variant, g);
	if (!(variant->gmem_flags & GUEST_MEMFD_FLAG_MMAP)) {
		ASSERT_ERR(EINVAL, gmem_convert(self->gmem, 0, GUEST_SIZE, false, 0, NULL));
		guest_destroy(_metadata, g);
		return NULL;
	}
	m = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, self->gmem, 0);
	ASSERT_NE(MAP_FAILED, m);
	return m;
}

/*
 * Makes the first @n pages of the file shared and writes @base + i at the
 * start of page i through the host mapping @m.  Returns 0, or -1 with
 * errno from the conversion.
 */
static int fill_shared(FIXTURE_DATA(bind) * self, char *m, int n, __u32 base)
{
	int i;

	if (gmem_convert(self->gmem, 0, n * self->page, false, 0, NULL))
		return -1;
	for (i = 0; i < n; i++)
		*(__u32 *)(m + i * self->page) = base + i;
	return 0;
}

/*
 * In-place conversion with a guest (seeds 003 and 004): the host fills a
 * shared range through mmap, converts it to private, the guest reads the
 * same bytes and writes new ones, the range is converted back and the host
 * reads the guest's bytes.  While private, host accesses raise SIGBUS; the
 * guest reaches shared pages too, from the same file.  userspace_addr is
 * never used.  Without GUEST_MEMFD_FLAG_MMAP there is no conversion.
 */
TEST_F(bind, guest_convert)
{
	const int n = 4;
	struct guest g;
	__u32 word;
	char *m;
	int i;

	m = guest_create_mapped(_metadata, self, variant, &g);
	if (!m)
		return;
	ASSERT_TRUE(touch_bus(m, false, 0));

	ASSERT_EQ(0, fill_shared(self, m, n, 0x600d0000));
	ASSERT_EQ(0, gmem_convert(self->gmem, 0, n * self->page, true, 0, NULL));
	for (i = 0; i < n; i++)
		ASSERT_TRUE(touch_bus(m + i * self->page, false, 0)) TH_LOG("page %d", i);

	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_LOAD, i * 0x1000, 0, &word));
		ASSERT_EQ(0x600d0000 + i, word);
		ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_STORE, i * 0x1000 + 8,
				       0xbeef0000 + i, &word));
	}

	ASSERT_EQ(0, gmem_convert(self->gmem, 0, n * self->page, false, 0, NULL));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0x600d0000 + i, *(__u32 *)(m + i * self->page));
		ASSERT_EQ(0xbeef0000 + i, *(__u32 *)(m + i * self->page + 8));
	}

	/* A shared page is the same page for both. */
	*(__u32 *)(m + 2 * self->page) = 0x12345678;
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_LOAD, 0x2000, 0, &word));
	ASSERT_EQ(0x12345678, word);
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_STORE, 0x2004, 0x87654321, &word));
	ASSERT_EQ(0x87654321, *(__u32 *)(m + 2 * self->page + 4));

	/* Back to private with zeroing: the guest finds zeroes. */
	ASSERT_EQ(0, gmem_convert(self->gmem, 0, n * self->page, true,
				  KVM_SET_MEMORY_ATTRIBUTES2_ZERO, NULL));
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_LOAD, 0x2000, 0, &word));
	ASSERT_EQ(0, word);

	ASSERT_TRUE(all_zero(self->mem, GUEST_SIZE));
	ASSERT_EQ(0, munmap(m, GUEST_SIZE));
	guest_destroy(_metadata, &g);
}

/*
 * A poisoned page (memory_failure(), here through madvise(MADV_HWPOISON)
 * on the VMM's mapping of a shared page; CONFIG_MEMORY_FAILURE) stays in
 * the file and fails every later use (Documentation/mm/guestmem.rst,
 * "Failure behaviour"):
 *  - the process that mapped it (the VMM, here the test) gets SIGBUS with
 *    BUS_MCEERR_AR and the page's address at once, as for any page cache
 *    page with contents that are lost (it was written: dirty);
 *  - the host's access raises SIGBUS (the page-table entry is a hwpoison
 *    entry);
 *  - a conversion to private of a range holding it fails with EHWPOISON
 *    and changes nothing (the other pages keep state and bytes);
 *  - the guest's access fails KVM_RUN with EHWPOISON and a
 *    KVM_EXIT_MEMORY_FAULT exit naming the page, as upstream guest_memfd
 *    does (kvm_gmem_get_pfn() -> kvm_mmu_prepare_memory_fault_exit());
 *    the VMM decides what the guest sees;
 *  - the rest of the guest's memory works;
 *  - a punch hole over it takes the page out of the file: the page is then
 *    fresh (zero) for guest and host, and the poisoned one is not counted
 *    in GuestMem any more (it never returns to the allocator:
 *    HardwareCorrupted grew by a page).
 * A GUEST_MEMFD_FLAG_NO_DIRECT_MAP file cannot be poisoned this way: GUP
 * of its mapping is refused (EFAULT).
 */
/* What the SIGBUS of memory_failure() said, written by its handler. */
static int mce_code;
static void *mce_addr;

static void mce_handler(int sig, siginfo_t *si, void *uc)
{
	__atomic_store_n(&mce_code, si->si_code, __ATOMIC_SEQ_CST);
	__atomic_store_n(&mce_addr, si->si_addr, __ATOMIC_SEQ_CST);
}

TEST_F(bind, guest_hwpoison)
{
	struct sigaction sa = { .sa_sigaction = mce_handler, .sa_flags = SA_SIGINFO };
	const int mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	long corrupted, gm_kb;
	__u64 error_offset;
	struct guest g;
	__u32 word;
	char *m;
	int i;

	m = guest_create_mapped(_metadata, self, variant, &g);
	if (!m)
		return;
	ASSERT_EQ(0, fill_shared(self, m, 4, 0x9a9e0000));
	if (variant->gmem_flags & GUEST_MEMFD_FLAG_NO_DIRECT_MAP) {
		ASSERT_ERR(EFAULT, madvise(m + self->page, self->page, MADV_HWPOISON));
		ASSERT_EQ(0x9a9e0001, *(__u32 *)(m + self->page));
		goto out;
	}
	corrupted = gmu_meminfo_kb("HardwareCorrupted");
	gm_kb = gmu_meminfo_kb("GuestMem");
	ASSERT_LE(0, corrupted) TH_LOG("no HardwareCorrupted: CONFIG_MEMORY_FAILURE?");
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, NULL));
	ASSERT_EQ(0, madvise(m + self->page, self->page, MADV_HWPOISON))
		TH_LOG("MADV_HWPOISON: %s", strerror(errno));
	ASSERT_EQ(BUS_MCEERR_AR, __atomic_load_n(&mce_code, __ATOMIC_SEQ_CST));
	ASSERT_EQ(m + self->page, __atomic_load_n(&mce_addr, __ATOMIC_SEQ_CST));
	ASSERT_EQ(corrupted + (long)(self->page / 1024), gmu_meminfo_kb("HardwareCorrupted"));

	ASSERT_TRUE(touch_bus(m + self->page, false, 0));
	ASSERT_EQ(-1, gmem_convert(self->gmem, 0, 4 * self->page, true, 0, &error_offset));
	ASSERT_EQ(EHWPOISON, errno) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(NO_OFFSET, error_offset);
	for (i = 0; i < 4; i++)
		if (i != 1)
			ASSERT_EQ(0x9a9e0000 + i, *(__u32 *)(m + i * self->page))
				TH_LOG("page %d", i);

	ASSERT_ERR(EHWPOISON, guest_run(_metadata, &g, GUEST_LOAD, 0x1000, 0, &word));
	ASSERT_EQ(KVM_EXIT_MEMORY_FAULT, g.run->exit_reason);
	ASSERT_EQ(PRIV_GPA + 0x1000, g.run->memory_fault.gpa);
	ASSERT_EQ(self->page, g.run->memory_fault.size);
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_LOAD, 0x2000, 0, &word));
	ASSERT_EQ(0x9a9e0002, word);

	ASSERT_EQ(0, fallocate(self->gmem, mode, self->page, self->page));
	ASSERT_EQ(gm_kb - (long)(self->page / 1024), gmu_meminfo_kb("GuestMem"));
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_LOAD, 0x1000, 0, &word));
	ASSERT_EQ(0, word);
	ASSERT_FALSE(touch_bus(m + self->page, true, 5));
	ASSERT_EQ(0, gmem_convert(self->gmem, 0, 4 * self->page, true, 0, NULL));
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_LOAD, 0x1000, 0, &word));
	ASSERT_EQ(5, word);
	ASSERT_EQ(corrupted + (long)(self->page / 1024), gmu_meminfo_kb("HardwareCorrupted"));
out:
	ASSERT_EQ(0, munmap(m, GUEST_SIZE));
	guest_destroy(_metadata, &g);
}

#define RACE_ITERS	300
#define RACE_PAGES	(GUEST_SIZE / 4096)

struct race {
	int gmem;
	char *m;
	__u64 page;
	unsigned int seed;
	long ok;		/* conversions or punches that worked */
	long busy;		/* conversions refused with -EAGAIN */
	long bus;		/* host accesses that raised SIGBUS */
	long errors;		/* anything else */
	int first_errno;
};

static void race_error(struct race *r)
{
	if (!r->errors++)
		r->first_errno = errno;
}

static void *race_convert(void *arg)
{
	struct race *r = arg;
	int i;

	for (i = 0; i < RACE_ITERS; i++) {
		__u64 first = rand_r(&r->seed) % RACE_PAGES;
		__u64 nr = 1 + rand_r(&r->seed) % 4;

		if (first + nr > RACE_PAGES)
			nr = RACE_PAGES - first;
		if (!gmem_convert(r->gmem, first * r->page, nr * r->page, rand_r(&r->seed) & 1,
				  0, NULL))
			r->ok++;
		else if (errno == EAGAIN)
			r->busy++;
		else
			race_error(r);
	}
	return NULL;
}

static void *race_touch(void *arg)
{
	struct race *r = arg;
	int i;

	for (i = 0; i < 4 * RACE_ITERS; i++) {
		__u64 page = rand_r(&r->seed) % RACE_PAGES;

		r->bus += touch_bus(r->m + page * r->page + 64, rand_r(&r->seed) & 1, 0x77);
	}
	return NULL;
}

static void *race_punch(void *arg)
{
	const int mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	struct race *r = arg;
	int i;

	for (i = 0; i < RACE_ITERS; i++) {
		__u64 page = rand_r(&r->seed) % RACE_PAGES;

		if (fallocate(r->gmem, mode, page * r->page, r->page))
			race_error(r);
		else
			r->ok++;
	}
	return NULL;
}

/*
 * Conversions, host faults, punch holes and guest accesses race over the
 * same 16 pages for a fixed number of iterations.  Every call must either
 * work or fail the documented way (-EAGAIN while a host fault or the guest
 * holds a page; SIGBUS for a private page; a KVM_EXIT_MEMORY_FAULT when a
 * conversion changed a page under a fault of a VM with private memory).
 * At the end the state is consistent: the whole range converts both ways,
 * the host reads every shared page, the guest reads what the host wrote,
 * and the kernel log has no splat (judged by the harness).
 */
TEST_F(bind, race)
{
	struct race conv, touch, punch;
	pthread_t tc, tt, tp;
	long guest_ok = 0, guest_mismatch = 0;
	unsigned int seed = 4;
	struct guest g;
	__u32 word;
	char *m;
	int i;

	ASSERT_EQ(RACE_PAGES * self->page, GUEST_SIZE);
	m = guest_create_mapped(_metadata, self, variant, &g);
	if (!m)
		return;
	conv = (struct race){ .gmem = self->gmem, .m = m, .page = self->page, .seed = 1 };
	touch = conv;
	touch.seed = 2;
	punch = conv;
	punch.seed = 3;

	ASSERT_EQ(0, pthread_create(&tc, NULL, race_convert, &conv));
	ASSERT_EQ(0, pthread_create(&tt, NULL, race_touch, &touch));
	ASSERT_EQ(0, pthread_create(&tp, NULL, race_punch, &punch));
	for (i = 0; i < RACE_ITERS; i++) {
		__u16 off = (rand_r(&seed) % RACE_PAGES) * 0x1000 + 128;

		if (!guest_run(_metadata, &g, rand_r(&seed) & 1 ? GUEST_STORE : GUEST_LOAD,
			       off, i, &word)) {
			guest_ok++;
			continue;
		}
		ASSERT_EQ(EFAULT, errno);
		ASSERT_EQ(KVM_EXIT_MEMORY_FAULT, g.run->exit_reason);
		ASSERT_NE(0, variant->vm_type);
		guest_mismatch++;
	}
	ASSERT_EQ(0, pthread_join(tc, NULL));
	ASSERT_EQ(0, pthread_join(tt, NULL));
	ASSERT_EQ(0, pthread_join(tp, NULL));
	TH_LOG("conversions %ld ok, %ld busy; %ld SIGBUS of %d host accesses;",
	       conv.ok, conv.busy, touch.bus, 4 * RACE_ITERS);
	TH_LOG("guest runs %ld ok, %ld memory faults", guest_ok, guest_mismatch);

	ASSERT_EQ(0, conv.errors) TH_LOG("conversion: %s", strerror(conv.first_errno));
	ASSERT_EQ(0, punch.errors) TH_LOG("punch hole: %s", strerror(punch.first_errno));
	ASSERT_EQ(RACE_ITERS, punch.ok);
	ASSERT_LT(0, conv.ok);
	ASSERT_LT(0, guest_ok);

	/* Quiet now: both ways at once, and the contents follow. */
	ASSERT_EQ(0, gmem_convert(self->gmem, 0, GUEST_SIZE, false, 0, NULL));
	for (i = 0; i < RACE_PAGES; i++) {
		ASSERT_FALSE(touch_bus(m + i * self->page, true, 0x11)) TH_LOG("page %d", i);
		*(__u32 *)(m + i * self->page + 256) = 0xc0de0000 + i;
	}
	ASSERT_EQ(0, gmem_convert(self->gmem, 0, GUEST_SIZE, true, 0, NULL));
	for (i = 0; i < RACE_PAGES; i++) {
		ASSERT_TRUE(touch_bus(m + i * self->page, false, 0)) TH_LOG("page %d", i);
		ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_LOAD, i * 0x1000 + 256, 0, &word));
		ASSERT_EQ(0xc0de0000 + i, word);
	}
	ASSERT_TRUE(all_zero(self->mem, GUEST_SIZE));
	ASSERT_EQ(0, munmap(m, GUEST_SIZE));
	guest_destroy(_metadata, &g);
}

/* Bytes of /proc/kcore read at a time. */
#define KCORE_CHUNK	(1024 * 1024)

/*
 * Reads every segment of /proc/kcore that has a physical address (the
 * direct map of RAM, and the kernel text) and counts the 16-byte aligned
 * places that hold the four dwords enc[i] ^ mask.  Returns -1 if there is
 * no /proc/kcore.
 */
static long kcore_count(struct __test_metadata *_metadata, const __u32 *enc, __u32 mask)
{
	struct elf64_phdr *ph;
	struct elf64_hdr eh;
	__u32 *buf;
	long found = 0;
	int fd, i;

	fd = open("/proc/kcore", O_RDONLY);
	/* Not built, not root (CAP_SYS_RAWIO), or kernel lockdown. */
	if (fd < 0 && (errno == ENOENT || errno == EPERM))
		return -1;
	ASSERT_LE(0, fd) TH_LOG("/proc/kcore: %s", strerror(errno));
	ASSERT_EQ(sizeof(eh), pread(fd, &eh, sizeof(eh), 0));
	ASSERT_EQ(0, memcmp(eh.e_ident, ELFMAG, SELFMAG));
	ASSERT_EQ(sizeof(*ph), eh.e_phentsize);
	ph = calloc(eh.e_phnum, sizeof(*ph));
	buf = malloc(KCORE_CHUNK);
	ASSERT_TRUE(ph && buf);
	ASSERT_EQ(eh.e_phnum * sizeof(*ph), pread(fd, ph, eh.e_phnum * sizeof(*ph), eh.e_phoff));

	for (i = 0; i < eh.e_phnum; i++) {
		__u64 off;

		if (ph[i].p_type != PT_LOAD || ph[i].p_paddr == ~0ULL)
			continue;
		for (off = 0; off < ph[i].p_filesz; off += KCORE_CHUNK) {
			size_t n = ph[i].p_filesz - off < KCORE_CHUNK ?
				   ph[i].p_filesz - off : KCORE_CHUNK;
			size_t w;

			ASSERT_EQ(n, pread(fd, buf, n, ph[i].p_offset + off))
				TH_LOG("segment %d at 0x%llx: %s", i,
				       (unsigned long long)(ph[i].p_vaddr + off), strerror(errno));
			for (w = 0; w + 4 <= n / 4; w += 4)
				if ((buf[w] ^ mask) == enc[0] && (buf[w + 1] ^ mask) == enc[1] &&
				    (buf[w + 2] ^ mask) == enc[2] && (buf[w + 3] ^ mask) == enc[3])
					found++;
		}
	}
	free(buf);
	free(ph);
	close(fd);
	return found;
}

/*
 * Whoever reads /proc/kcore (a debugger, crash tools) sees private guest
 * memory through the direct map, unless the guest_memfd keeps it out of
 * the map: read_kcore_iter() copies each page with
 * copy_from_kernel_nofault() and returns zeroes for one that faults.  The
 * guest writes a 16-byte pattern to its private memory; a read of all of
 * RAM through /proc/kcore finds it without GUEST_MEMFD_FLAG_NO_DIRECT_MAP
 * and does not, and does not crash, with it.  The pattern is never in
 * this program's memory as a whole: only masked, or one dword at a time.
 * Reading 2 GiB under KASAN on a busy machine took more than the harness's
 * default 30 s (make stress, 2026-12-07): the case gets 300.
 */
TEST_F_TIMEOUT(bind, kcore_skips_private_memory, 300)
{
	__u32 enc[4], mask, word;
	struct guest g;
	long found;
	int i;

	srand(time(NULL) ^ getpid());
	mask = rand() | 1;
	for (i = 0; i < 4; i++)
		enc[i] = ((__u32)rand() << 1) ^ rand() ^ mask;

	guest_create(_metadata, self, variant, &g);
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_STORE, 0x3100 + 4 * i,
				       enc[i] ^ mask, &word));
		ASSERT_EQ(enc[i] ^ mask, word);
	}
	word = 0;

	found = kcore_count(_metadata, enc, mask);
	if (found < 0)
		SKIP(goto out, "/proc/kcore cannot be read (CONFIG_PROC_KCORE, CAP_SYS_RAWIO)");
	ASSERT_EQ(!(variant->gmem_flags & GUEST_MEMFD_FLAG_NO_DIRECT_MAP), found > 0)
		TH_LOG("the pattern is %sin /proc/kcore %ld times",
		       found ? "" : "not ", found);

	/* The guest still has its memory. */
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_LOAD, 0x3100 + 4 * i, 0, &word));
		ASSERT_EQ(enc[i] ^ mask, word);
	}
out:
	guest_destroy(_metadata, &g);
}
#endif /* __x86_64__ */

/*
 * The file holds a reference on its VM (__kvm_gmem_create(): kvm_get_kvm()),
 * so it outlives the VM's fd: with a memslot still bound (and, on x86_64, a
 * guest that used the memory), closing the VM fd leaves the file fully
 * usable, and closing the file afterwards releases the VM.
 */
TEST_F(bind, file_outlives_vm)
{
	const int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	int vm2;
#ifdef __x86_64__
	struct guest g;
	__u32 word;

	guest_create(_metadata, self, variant, &g);
	ASSERT_EQ(0, guest_run(_metadata, &g, GUEST_STORE, 0x2000, 0x6d656d67, &word));
	ASSERT_EQ(0x6d656d67, word);
	guest_destroy(_metadata, &g);
#else
	ASSERT_EQ(0, bind_slot(self, 0, self->gmem, 0, self->size));
#endif
	ASSERT_EQ(0, fallocate(self->gmem, FALLOC_FL_KEEP_SIZE, 0, self->size / 2));

	ASSERT_EQ(0, close(self->vm));
	self->vm = -1;

	ASSERT_EQ(self->size, file_size(_metadata, self->gmem));
	ASSERT_EQ(0, fallocate(self->gmem, FALLOC_FL_KEEP_SIZE, 0, self->size));
	ASSERT_EQ(0, fallocate(self->gmem, punch, 0, self->page));
	ASSERT_EQ(0, fallocate(self->gmem, punch, 0, self->size));
	ASSERT_EQ(0, fallocate(self->gmem, FALLOC_FL_KEEP_SIZE, self->page, self->page));
	ASSERT_ERR(EINVAL, fallocate(self->gmem, FALLOC_FL_KEEP_SIZE, 0, 2 * self->size));
	ASSERT_ERR(EOPNOTSUPP, fallocate(self->gmem, 0, 0, self->page));
	ASSERT_ERR(EINVAL, ftruncate(self->gmem, 0));

	/* It still belongs to the old VM, not to a new one. */
	vm2 = ioctl(self->kvm, KVM_CREATE_VM, variant->vm_type);
	ASSERT_LE(0, vm2);
	ASSERT_ERR(EINVAL, gmu_set_region(vm2, 0, KVM_MEM_GUEST_MEMFD, SLOT_GPA(0), self->size,
					  self->mem, self->gmem, 0));
	ASSERT_EQ(0, close(vm2));

	ASSERT_EQ(0, close(self->gmem));
	self->gmem = -1;
}

/*
 * The VM outlives the file: closing a guest_memfd with a memslot bound
 * leaves the memslot in place (it can be deleted, not re-created), and
 * the VM goes on with a new file in the same place.
 */
TEST_F(bind, vm_outlives_file)
{
	const int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	int gmem2, gmem3;

	ASSERT_EQ(0, fallocate(self->gmem, FALLOC_FL_KEEP_SIZE, 0, self->size));
	ASSERT_EQ(0, bind_slot(self, 0, self->gmem, 0, self->size / 2));
	ASSERT_EQ(0, bind_slot(self, 1, self->gmem, self->size / 2, self->size / 2));

	ASSERT_EQ(0, close(self->gmem));
	self->gmem = -1;

	gmem2 = gmu_create_gmem(self->vm, self->size, variant->gmem_flags);
	ASSERT_LE(0, gmem2);
	/* Memslot 0 is still there: binding it again is a modification. */
	ASSERT_ERR(EINVAL, bind_slot(self, 0, gmem2, 0, self->size / 2));

	ASSERT_EQ(0, gmu_delete_region(self->vm, 0));
	ASSERT_EQ(0, bind_slot(self, 0, gmem2, 0, self->size / 2));
	ASSERT_EQ(0, bind_slot(self, 2, gmem2, self->size / 2, self->size / 2));
	ASSERT_EQ(0, fallocate(gmem2, FALLOC_FL_KEEP_SIZE, 0, self->size));
	ASSERT_EQ(0, fallocate(gmem2, punch, 0, self->size));

	/* Deleting memslot 1 of the closed file works as well. */
	ASSERT_EQ(0, gmu_delete_region(self->vm, 1));
	ASSERT_EQ(0, gmu_delete_region(self->vm, 0));
	ASSERT_EQ(0, gmu_delete_region(self->vm, 2));

	/* The VM still makes and binds guest_memfds. */
	gmem3 = gmu_create_gmem(self->vm, self->size, variant->gmem_flags);
	ASSERT_LE(0, gmem3);
	ASSERT_EQ(0, bind_slot(self, 0, gmem3, 0, self->size));
	ASSERT_EQ(0, bind_slot(self, 1, gmem2, 0, self->size));
	ASSERT_EQ(0, close(gmem2));
	ASSERT_EQ(0, close(gmem3));
	ASSERT_EQ(0, gmu_delete_region(self->vm, 0));
	ASSERT_EQ(0, gmu_delete_region(self->vm, 1));
}

/*
 * Whether hibernation_available(): /sys/power/state lists "disk" and
 * /sys/power/disk does not say "[disabled]".  -1 without CONFIG_HIBERNATION
 * (no /sys/power/disk).
 */
static int hibernation_offered(struct __test_metadata *_metadata)
{
	char state[128] = "", disk[128] = "";
	bool offered;
	int fd;

	fd = open("/sys/power/disk", O_RDONLY);
	if (fd < 0)
		return -1;
	ASSERT_LT(0, read(fd, disk, sizeof(disk) - 1));
	close(fd);
	fd = open("/sys/power/state", O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, read(fd, state, sizeof(state) - 1));
	close(fd);

	offered = strstr(state, "disk");
	ASSERT_EQ(offered, !strstr(disk, "[disabled]")) TH_LOG("state: %s disk: %s", state, disk);
	return offered;
}

/*
 * Hibernation would write guest memory to disk: it is refused while any
 * guest_memfd with GUEST_MEMFD_FLAG_NO_DIRECT_MAP is open (guestmem_active()
 * in hibernation_available()), bound or not, and offered again once the
 * last one is closed, even with its memslot still there.  A guest_memfd
 * without the flag does not matter.  Nothing here hibernates.
 */
TEST_F(bind, hibernation)
{
	bool no_direct_map = variant->gmem_flags & GUEST_MEMFD_FLAG_NO_DIRECT_MAP;
	int gmem, gmem2, offered;

	/* The baseline, without the fixture's file. */
	ASSERT_EQ(0, close(self->gmem));
	self->gmem = -1;
	offered = hibernation_offered(_metadata);
	if (offered < 0)
		SKIP(return, "no /sys/power/disk (CONFIG_HIBERNATION)");
	if (!offered)
		SKIP(return, "no hibernation already (lockdown, nohibernate, secretmem)");

	gmem = gmu_create_gmem(self->vm, self->size, variant->gmem_flags);
	ASSERT_LE(0, gmem);
	ASSERT_EQ(!no_direct_map, hibernation_offered(_metadata));
	ASSERT_EQ(0, fallocate(gmem, FALLOC_FL_KEEP_SIZE, 0, self->size));
	ASSERT_EQ(0, bind_slot(self, 0, gmem, 0, self->size));
	gmem2 = gmu_create_gmem(self->vm, self->size, variant->gmem_flags);
	ASSERT_LE(0, gmem2);
	ASSERT_EQ(0, close(gmem));
	ASSERT_EQ(!no_direct_map, hibernation_offered(_metadata));
	ASSERT_EQ(0, close(gmem2));
	ASSERT_EQ(1, hibernation_offered(_metadata));
}

/*
 * Observing guestmem (Documentation/mm/guestmem.rst): the fdinfo of a
 * guest_memfd, the GuestMem lines of /proc/meminfo and the guestmem trace
 * events.
 */

/* Whether word @word is among the names of the guestmem-flags line. */
static bool fdinfo_flag(struct __test_metadata *_metadata, int fd, const char *word)
{
	char buf[128], *tok, *save;

	ASSERT_TRUE(gmu_fdinfo_line(fd, "guestmem-flags", buf, sizeof(buf)));
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		if (!strcmp(tok, word))
			return true;
	return false;
}

/*
 * The figures of one file's fdinfo that the test below follows: pages
 * allocated, pages out of the direct map, and for MMAP files pages shared
 * and private (-1 for the latter two in other files).
 */
struct fdinfo_figures {
	long pages;
	long no_direct_map;
	long shared;
	long private;
};

static void expect_fdinfo(struct __test_metadata *_metadata, int fd,
			  const struct fdinfo_figures *want, const char *when)
{
	ASSERT_EQ(want->pages, gmu_fdinfo_num(fd, "guestmem-pages")) TH_LOG("%s", when);
	ASSERT_EQ(want->no_direct_map, gmu_fdinfo_num(fd, "guestmem-pages-no-direct-map"))
		TH_LOG("%s", when);
	ASSERT_EQ(want->shared, gmu_fdinfo_num(fd, "guestmem-pages-shared")) TH_LOG("%s", when);
	ASSERT_EQ(want->private, gmu_fdinfo_num(fd, "guestmem-pages-private")) TH_LOG("%s", when);
}

/*
 * The fdinfo of a guest_memfd (guestmem_show_fdinfo()): its size and
 * flags, and pages allocated, out of the direct map, shared and private
 * following fallocate(), punch hole and conversions, with and without
 * GUEST_MEMFD_FLAG_NO_DIRECT_MAP, with which every allocated page is out
 * of the direct map, shared or private.  The file, and so its fdinfo, outlives the close of one of
 * two descriptors.
 */
TEST_F(gmem, fdinfo)
{
	const int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	bool mmap_file = variant->flags & GUEST_MEMFD_FLAG_MMAP;
	bool shared = mmap_file && (variant->flags & GUEST_MEMFD_FLAG_INIT_SHARED);
	__u64 flags[2] = { variant->flags, variant->flags | GUEST_MEMFD_FLAG_NO_DIRECT_MAP };
	struct fdinfo_figures want;
	unsigned int i;
	int fd, dup_fd;

	for (i = 0; i < 2; i++) {
		bool nodm = flags[i] & GUEST_MEMFD_FLAG_NO_DIRECT_MAP;

		if (nodm && !(gmu_gmem_flags(self->vm) & GUEST_MEMFD_FLAG_NO_DIRECT_MAP))
			continue;
		fd = gmu_create_gmem(self->vm, self->size, flags[i]);
		ASSERT_LE(0, fd) TH_LOG("flags 0x%llx: %s", (unsigned long long)flags[i],
					strerror(errno));
		ASSERT_EQ((long)self->size, gmu_fdinfo_num(fd, "guestmem-size"));
		ASSERT_EQ(0, gmu_fdinfo_num(fd, "guestmem-bindings"));
		ASSERT_EQ(mmap_file, fdinfo_flag(_metadata, fd, "mmap"));
		ASSERT_EQ(shared, fdinfo_flag(_metadata, fd, "init_shared"));
		ASSERT_EQ(nodm, fdinfo_flag(_metadata, fd, "no_direct_map"));

		want.pages = 0;
		want.no_direct_map = 0;
		want.shared = mmap_file ? (shared ? self->pages : 0) : -1;
		want.private = mmap_file ? self->pages - want.shared : -1;
		expect_fdinfo(_metadata, fd, &want, "new file");

		/* A huge-backed file gets its whole block. */
		ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 4 * self->page));
		want.pages = self->huge ? self->pages : 4;
		want.no_direct_map = nodm ? want.pages : 0;
		expect_fdinfo(_metadata, fd, &want, "4 pages allocated");
		ASSERT_EQ((long)self->huge, gmu_fdinfo_num(fd, "guestmem-large-folios"));

		ASSERT_EQ(0, fallocate(fd, punch, self->page, self->page));
		want.pages--;
		want.no_direct_map = nodm ? want.pages : 0;
		expect_fdinfo(_metadata, fd, &want, "page 1 punched out");
		ASSERT_EQ(0, gmu_fdinfo_num(fd, "guestmem-large-folios"));

		if (mmap_file) {
			/* Pages 0 (allocated) and 1 (not) change state. */
			ASSERT_EQ(0, gmem_convert(fd, 0, 2 * self->page, shared, 0, NULL));
			want.shared += shared ? -2 : 2;
			want.private -= shared ? -2 : 2;
			/* Page 0 stays out, page 1 is still not allocated. */
			expect_fdinfo(_metadata, fd, &want, "pages 0-1 converted");
		} else {
			ASSERT_ERR(EINVAL, gmem_convert(fd, 0, self->page, false, 0, NULL));
		}

		dup_fd = dup(fd);
		ASSERT_LE(0, dup_fd);
		ASSERT_EQ(0, close(fd));
		expect_fdinfo(_metadata, dup_fd, &want, "after closing the other fd");
		ASSERT_EQ(0, close(dup_fd));
	}
}

/*
 * /proc/meminfo: GuestMem counts the pages of every guestmem file and
 * GuestMemNoDMap those out of the direct map; both return to where they
 * were once the files are closed.
 */
TEST_F(gmem, meminfo)
{
	__u64 nodm_flag = gmu_gmem_flags(self->vm) & GUEST_MEMFD_FLAG_NO_DIRECT_MAP;
	long kb = self->page / 1024, base, base_nodm;
	long pages2 = self->huge ? self->pages : 4;
	int fd, fd2;

	base = gmu_meminfo_kb("GuestMem");
	base_nodm = gmu_meminfo_kb("GuestMemNoDMap");
	ASSERT_LE(0, base) TH_LOG("no GuestMem line in /proc/meminfo");
	ASSERT_LE(0, base_nodm) TH_LOG("no GuestMemNoDMap line in /proc/meminfo");

	fd = gmu_create_gmem(self->vm, self->size, variant->flags | nodm_flag);
	ASSERT_LE(0, fd);
	fd2 = gmu_create_gmem(self->vm, self->size, variant->flags);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(base, gmu_meminfo_kb("GuestMem"));

	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, self->size));
	/* Four pages of a huge-backed file are its whole block. */
	ASSERT_EQ(0, fallocate(fd2, FALLOC_FL_KEEP_SIZE, 0, 4 * self->page));
	ASSERT_EQ(base + (self->pages + pages2) * kb, gmu_meminfo_kb("GuestMem"));
	ASSERT_EQ(base_nodm + (nodm_flag ? self->pages * kb : 0),
		  gmu_meminfo_kb("GuestMemNoDMap"));

	ASSERT_EQ(0, fallocate(fd2, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, self->page));
	ASSERT_EQ(base + (self->pages + pages2 - 1) * kb, gmu_meminfo_kb("GuestMem"));

	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(base + (pages2 - 1) * kb, gmu_meminfo_kb("GuestMem"));
	ASSERT_EQ(base_nodm, gmu_meminfo_kb("GuestMemNoDMap"));
	ASSERT_EQ(0, close(fd2));
	ASSERT_EQ(base, gmu_meminfo_kb("GuestMem"));
	ASSERT_EQ(base_nodm, gmu_meminfo_kb("GuestMemNoDMap"));
}

/* The tracefs instance of the trace test, or NULL; see trace_open(). */
struct trace_instance {
	char dir[128];
};

/*
 * A tracefs instance of our own with the guestmem events @events (a
 * space-separated list) enabled, so that nothing else's tracing is
 * disturbed.  tracefs is mounted at /sys/kernel/tracing if it is not
 * there yet.  Returns false if the kernel has no guestmem events.
 */
static bool trace_open(struct __test_metadata *_metadata, struct trace_instance *t,
		       const char *events)
{
	const char *root = "/sys/kernel/tracing";
	char path[256], list[128], *ev, *save;
	int fd;

	if (access("/sys/kernel/tracing/instances", F_OK))
		mount("tracefs", root, "tracefs", 0, NULL);
	snprintf(path, sizeof(path), "%s/events/guestmem", root);
	if (access(path, F_OK))
		return false;
	snprintf(t->dir, sizeof(t->dir), "%s/instances/guestmem_test.%d", root, getpid());
	ASSERT_EQ(0, mkdir(t->dir, 0755)) TH_LOG("mkdir %s: %s", t->dir, strerror(errno));
	snprintf(list, sizeof(list), "%s", events);
	for (ev = strtok_r(list, " ", &save); ev; ev = strtok_r(NULL, " ", &save)) {
		snprintf(path, sizeof(path), "%s/events/guestmem/%s/enable", t->dir, ev);
		fd = open(path, O_WRONLY);
		ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
		ASSERT_EQ(1, write(fd, "1", 1));
		ASSERT_EQ(0, close(fd));
	}
	return true;
}

/*
 * The first line of the instance's trace with event @event of file @ino
 * (after "@event: ino=@ino ") that also contains @with, copied to @buf;
 * false if there is none.
 */
static bool trace_find(struct trace_instance *t, const char *event, unsigned long ino,
		       const char *with, char *buf, size_t len)
{
	char path[256], line[512], key[96];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/trace", t->dir);
	snprintf(key, sizeof(key), " %s: ino=%lu ", event, ino);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || !strstr(line, key) || !strstr(line, with))
			continue;
		snprintf(buf, len, "%s", strstr(line, key));
		buf[strcspn(buf, "\n")] = '\0';
		found = true;
	}
	fclose(f);
	return found;
}

static void trace_close(struct trace_instance *t)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/events/enable", t->dir);
	fd = open(path, O_WRONLY);
	if (fd >= 0) {
		(void)!write(fd, "0", 1);
		close(fd);
	}
	rmdir(t->dir);
}

/*
 * "Why did my conversion fail with EAGAIN?", from a trace alone: the
 * guestmem_convert event of the refused conversion carries its range,
 * direction, result and the same error index as the ioctl's error_offset,
 * and a guestmem_convert_busy event names that page with more references
 * than the file and the conversion hold (the pipe's pin).  Files without
 * MMAP refuse conversions, and the event says so (-EINVAL).
 */
TEST_F(gmem, trace_convert_refused)
{
	struct trace_instance t;
	char buf[512], want[64];
	struct iovec iov;
	int fd, pipefd[2], refs, expected, n;
	unsigned long index;
	struct stat st;
	__u64 err;
	char *m;

	fd = gmu_create_gmem(self->vm, self->size, variant->flags);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	if (!trace_open(_metadata, &t, "guestmem_convert guestmem_convert_busy"))
		SKIP(goto out_fd, "no guestmem trace events (CONFIG_TRACING)");

	if (!(variant->flags & GUEST_MEMFD_FLAG_MMAP)) {
		ASSERT_ERR(EINVAL, gmem_convert(fd, 0, self->page, true, 0, &err));
		ASSERT_TRUE(trace_find(&t, "guestmem_convert", st.st_ino, "ret=-22", buf,
				       sizeof(buf)));
		goto out_trace;
	}
	m = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, gmem_convert(fd, 0, self->size, false, 0, NULL));
	memset(m, 0x5d, self->size);
	ASSERT_EQ(0, pipe(pipefd));
	iov.iov_base = m + 7 * self->page;
	iov.iov_len = 64;
	ASSERT_EQ(64, vmsplice(pipefd[1], &iov, 1, 0));

	ASSERT_ERR(EAGAIN, gmem_convert(fd, 3 * self->page, 8 * self->page, true, 0, &err));
	ASSERT_EQ(7 * self->page, err);

	ASSERT_TRUE(trace_find(&t, "guestmem_convert", st.st_ino, "ret=-11", buf, sizeof(buf)))
		TH_LOG("no guestmem_convert event with ret=-11");
	snprintf(want, sizeof(want), "start=3 nr=8 to=private flags=0x0 ret=-11 error_index=%llu",
		 (unsigned long long)(err / self->page));
	ASSERT_NE(NULL, strstr(buf, want)) TH_LOG("event: %s; expected: %s", buf, want);
	TH_LOG("event:%s", buf);

	snprintf(want, sizeof(want), "index=%llu ", (unsigned long long)(err / self->page));
	ASSERT_TRUE(trace_find(&t, "guestmem_convert_busy", st.st_ino, want, buf, sizeof(buf)))
		TH_LOG("no guestmem_convert_busy event for %s", want);
	n = sscanf(strstr(buf, "index="), "index=%lu pfn=%*x refs=%d expected=%d", &index, &refs,
		   &expected);
	ASSERT_EQ(3, n) TH_LOG("event: %s", buf);
	ASSERT_LT(expected, refs) TH_LOG("event: %s", buf);
	TH_LOG("event:%s", buf);

	ASSERT_EQ(0, close(pipefd[0]));
	ASSERT_EQ(0, close(pipefd[1]));
	ASSERT_EQ(0, munmap(m, self->size));
out_trace:
	trace_close(&t);
out_fd:
	ASSERT_EQ(0, close(fd));
}

/*
 * The fdinfo of a guest_memfd counts its bindings: one per memslot bound
 * to a range of it, gone with the memslot.
 */
TEST_F(bind, fdinfo_bindings)
{
	__u64 half = self->size / 2;

	ASSERT_EQ(0, gmu_fdinfo_num(self->gmem, "guestmem-bindings"));
	ASSERT_EQ(0, bind_slot(self, 0, self->gmem, 0, half));
	ASSERT_EQ(1, gmu_fdinfo_num(self->gmem, "guestmem-bindings"));
	ASSERT_EQ(0, bind_slot(self, 1, self->gmem, half, half));
	ASSERT_EQ(2, gmu_fdinfo_num(self->gmem, "guestmem-bindings"));
	ASSERT_EQ(0, gmu_delete_region(self->vm, 0));
	ASSERT_EQ(1, gmu_fdinfo_num(self->gmem, "guestmem-bindings"));
	ASSERT_EQ(0, gmu_delete_region(self->vm, 1));
	ASSERT_EQ(0, gmu_fdinfo_num(self->gmem, "guestmem-bindings"));
}

#ifdef __aarch64__
/*
 * arm64 guest code, EL1 with the MMU off: x0 is the guest address of a
 * data word, x2 an address without a memslot.  Reads the word, writes it
 * plus one just after it, and writes the same value to x2 (a
 * KVM_EXIT_MMIO the VMM sees), then starts again: each KVM_RUN is one
 * round.
 */
static const __u32 a64_guest[] = {	/* A64, little endian as the host */
	0xb9400001,	/* 0: ldr w1, [x0] */
	0x11000421,	/* add w1, w1, #1 */
	0xb9000401,	/* str w1, [x0, #4] */
	0xb9000041,	/* str w1, [x2] */
	0x17fffffc,	/* b 0b */
};

#define A64_GPA		0x40000000ULL	/* the memslot: code, then data */
#define A64_MMIO	0x10000000ULL	/* no memslot */
#define A64_CORE_REG(x)	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
			 KVM_REG_ARM_CORE_REG(x))

static void a64_set_reg(struct __test_metadata *_metadata, int vcpu, __u64 id,
			__u64 val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (__u64)(unsigned long)&val };

	ASSERT_EQ(0, ioctl(vcpu, KVM_SET_ONE_REG, &reg));
}

/* One KVM_RUN: the guest's round ends in its MMIO write; returns the value. */
static __u32 a64_round(struct __test_metadata *_metadata, int vcpu,
		       struct kvm_run *run)
{
	__u32 val = 0;

	ASSERT_EQ(0, ioctl(vcpu, KVM_RUN, 0))
		TH_LOG("KVM_RUN: %s, exit %u", strerror(errno),
		       run->exit_reason);
	ASSERT_EQ(KVM_EXIT_MMIO, run->exit_reason);
	ASSERT_EQ(A64_MMIO, run->mmio.phys_addr);
	ASSERT_TRUE(run->mmio.is_write);
	ASSERT_EQ(4, run->mmio.len);
	memcpy(&val, run->mmio.data, sizeof(val));
	return val;
}

/*
 * arm64, default VM: all of the guest's memory is one guest_memfd created
 * MMAP | INIT_SHARED, mapped by the VMM and bound as a gmem-only memslot
 * at that mapping.  The guest runs its code from that memory, reads what
 * the VMM wrote and writes back; the VMM sees it through its mapping.  A
 * punch hole reaches the guest (its stage-2 entry goes, the next access
 * faults in a zeroed page), and a conversion in place to private and
 * back keeps the data: the host cannot touch the page meanwhile, the
 * guest (of a VM without private memory) still can.
 */
TEST(arm64_default_vm_gmem_only)
{
	const __u64 flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;
	const int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	__u64 page = page_size(), size = GMEM_PAGES * page, err;
	struct kvm_vcpu_init init;
	int kvm, vm, fd, vcpu, run_size;
	struct kvm_run *run;
	__u32 *data;
	char *m;

	if (!open_vm(_metadata, &kvm, &vm, 0))
		return;
	ASSERT_EQ(1, ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD));
	ASSERT_EQ(flags, gmu_gmem_flags(vm) & flags);

	fd = gmu_create_gmem(vm, size, flags);
	ASSERT_LE(0, fd);
	ASSERT_FALSE(fdinfo_flag(_metadata, fd, "scrub"));
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	memcpy(m, a64_guest, sizeof(a64_guest));
	data = (__u32 *)(m + page);
	data[0] = 41;
	/* A file without MMAP cannot back a memslot of this VM. */
	{
		int plain = gmu_create_gmem(vm, size, 0);

		ASSERT_LE(0, plain);
		ASSERT_EQ(-1, gmu_set_region(vm, 0, KVM_MEM_GUEST_MEMFD, A64_GPA,
					     size, m, plain, 0));
		ASSERT_EQ(EINVAL, errno);
		ASSERT_EQ(0, close(plain));
	}
	ASSERT_EQ(0, gmu_set_region(vm, 0, KVM_MEM_GUEST_MEMFD, A64_GPA, size,
				    m, fd, 0));

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	ASSERT_LE(0, vcpu);
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	ASSERT_LE((int)sizeof(*run), run_size);
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	ASSERT_NE(MAP_FAILED, run);
	ASSERT_EQ(0, ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init));
	ASSERT_EQ(0, ioctl(vcpu, KVM_ARM_VCPU_INIT, &init));
	a64_set_reg(_metadata, vcpu, A64_CORE_REG(regs.pc), A64_GPA);
	a64_set_reg(_metadata, vcpu, A64_CORE_REG(regs.regs[0]), A64_GPA + page);
	a64_set_reg(_metadata, vcpu, A64_CORE_REG(regs.regs[2]), A64_MMIO);

	ASSERT_EQ(42, a64_round(_metadata, vcpu, run));
	ASSERT_EQ(42, data[1]);

	/* The page leaves the file: the guest gets a new, zeroed one. */
	ASSERT_EQ(0, fallocate(fd, punch, page, page));
	ASSERT_EQ(1, a64_round(_metadata, vcpu, run));
	ASSERT_EQ(0, data[0]);
	ASSERT_EQ(1, data[1]);

	/* What the VMM writes, the guest reads: the same folio. */
	data[0] = 99;
	ASSERT_EQ(100, a64_round(_metadata, vcpu, run));
	ASSERT_EQ(100, data[1]);

	/*
	 * In place: private (the host loses it) while the guest reads and
	 * writes it, then shared again with both words kept.
	 */
	data[0] = 7;
	ASSERT_EQ(0, gmem_convert(fd, page, page, true,
				  KVM_SET_MEMORY_ATTRIBUTES2_PRESERVE, &err));
	ASSERT_TRUE(touch_bus((char *)data, false, 0));
	ASSERT_EQ(8, a64_round(_metadata, vcpu, run));
	ASSERT_EQ(0, gmem_convert(fd, page, page, false,
				  KVM_SET_MEMORY_ATTRIBUTES2_PRESERVE, &err));
	ASSERT_FALSE(touch_bus((char *)data, false, 0));
	ASSERT_EQ(7, data[0]);
	ASSERT_EQ(8, data[1]);

	ASSERT_EQ(0, munmap(run, run_size));
	ASSERT_EQ(0, close(vcpu));
	ASSERT_EQ(0, gmu_delete_region(vm, 0));
	ASSERT_EQ(0, munmap(m, size));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, close(vm));
	ASSERT_EQ(0, close(kvm));
}

/*
 * arm64 protected VMs (KVM_VM_TYPE_ARM_PROTECTED, bit 31 as upstream):
 * KVM_CREATE_VM takes the type only when the host runs KVM in protected
 * mode (kvm-arm.mode=protected on its command line) and refuses it with
 * EINVAL otherwise.  The guest code and the hypercall values are in
 * guestmem_util.h, shared with harness/demo/pkvm-demo.c.
 */
static bool arm64_protected_mode(struct __test_metadata *_metadata)
{
	char line[4096] = "";
	FILE *f = fopen("/proc/cmdline", "r");

	ASSERT_NE(NULL, f);
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	return !!strstr(line, "kvm-arm.mode=protected");
}

static __u64 a64_get_reg(struct __test_metadata *_metadata, int vcpu, __u64 id)
{
	__u64 val = 0;
	struct kvm_one_reg reg = { .id = id, .addr = (__u64)(unsigned long)&val };

	ASSERT_EQ(0, ioctl(vcpu, KVM_GET_ONE_REG, &reg));
	return val;
}

/* One KVM_RUN that must end in the guest's 64-bit report; returns it. */
static __u64 a64_report(struct __test_metadata *_metadata, int vcpu,
			struct kvm_run *run)
{
	__u64 val = 0;

	ASSERT_EQ(0, ioctl(vcpu, KVM_RUN, 0))
		TH_LOG("KVM_RUN: %s", strerror(errno));
	ASSERT_EQ(KVM_EXIT_MMIO, run->exit_reason)
		TH_LOG("exit %u, hypercall nr %#llx", run->exit_reason,
		       (unsigned long long)run->hypercall.nr);
	ASSERT_EQ(A64_MMIO, run->mmio.phys_addr);
	ASSERT_TRUE(run->mmio.is_write);
	ASSERT_EQ(8, run->mmio.len);
	memcpy(&val, run->mmio.data, sizeof(val));
	return val;
}

/*
 * Who owns the page a protected VM maps at @gpa, as the hypervisor sees
 * it (KVM's test-only debugfs file in protected mode): "guest" (taken
 * from the host), "host", "other" or "unmapped".
 */
static void a64_owner(struct __test_metadata *_metadata, int vm, __u64 gpa,
		      char *out, size_t len)
{
	char path[96];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d/pkvm_page_owner",
		 getpid(), vm);
	fd = open(path, O_RDWR);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_LT(0, dprintf(fd, "0x%llx", (unsigned long long)gpa));
	n = read(fd, out, len - 1);
	ASSERT_LT(0, n);
	out[n] = '\0';
	if (n && out[n - 1] == '\n')
		out[n - 1] = '\0';
	ASSERT_EQ(0, close(fd));
}

/*
 * One KVM_RUN that must end in a MEM_SHARE or MEM_UNSHARE exit of @gpa;
 * checks what KVM put in the exit and the guest's x0 it preset.
 */
static void a64_mem_exit(struct __test_metadata *_metadata, int vcpu,
			 struct kvm_run *run, __u32 func, __u64 gpa, __u64 page)
{
	ASSERT_EQ(0, ioctl(vcpu, KVM_RUN, 0))
		TH_LOG("KVM_RUN: %s", strerror(errno));
	ASSERT_EQ(KVM_EXIT_HYPERCALL, run->exit_reason)
		TH_LOG("exit %u", run->exit_reason);
	ASSERT_EQ(func, run->hypercall.nr);
	ASSERT_EQ(gpa, run->hypercall.args[0]);
	ASSERT_EQ(page, run->hypercall.args[1]);
	ASSERT_EQ(0, run->hypercall.flags & KVM_HYPERCALL_EXIT_SMC);
	ASSERT_EQ(GMU_SMCCC_NOT_SUPPORTED,
		  a64_get_reg(_metadata, vcpu, A64_CORE_REG(regs.regs[0])));
}

/*
 * The type is accepted exactly in protected mode; an unknown type bit
 * never is.  A protected VM's memory starts private and is guest_memfd
 * only: no INIT_SHARED file, no memslot without a guest_memfd.
 */
TEST(arm64_protected_vm_type)
{
	__u64 page = page_size(), size = GMEM_PAGES * page;
	int kvm, vm, fd;
	__u64 flags;
	void *anon;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		SKIP(return, "/dev/kvm: %s", strerror(errno));
	ASSERT_EQ(-1, ioctl(kvm, KVM_CREATE_VM, 1UL << 30));
	ASSERT_EQ(EINVAL, errno);
	vm = ioctl(kvm, KVM_CREATE_VM, KVM_VM_TYPE_ARM_PROTECTED);
	if (!arm64_protected_mode(_metadata)) {
		ASSERT_EQ(-1, vm);
		ASSERT_EQ(EINVAL, errno);
		ASSERT_EQ(0, close(kvm));
		return;
	}
	ASSERT_LE(0, vm) TH_LOG("KVM_CREATE_VM(PROTECTED): %s", strerror(errno));

	flags = gmu_gmem_flags(vm);
	ASSERT_TRUE(flags & GUEST_MEMFD_FLAG_MMAP);
	ASSERT_FALSE(flags & GUEST_MEMFD_FLAG_INIT_SHARED);
	ASSERT_EQ(-1, gmu_create_gmem(vm, size, GUEST_MEMFD_FLAG_MMAP |
					       GUEST_MEMFD_FLAG_INIT_SHARED));
	ASSERT_EQ(EINVAL, errno);
	/* /dev/kvm still offers it, for VMs of the default type. */
	ASSERT_TRUE(gmu_gmem_flags(kvm) & GUEST_MEMFD_FLAG_INIT_SHARED);

	anon = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, anon);
	ASSERT_EQ(-1, gmu_set_region(vm, 0, 0, A64_GPA, size, anon, -1, 0));
	ASSERT_EQ(EINVAL, errno);
	fd = gmu_create_gmem(vm, size, GUEST_MEMFD_FLAG_MMAP);
	ASSERT_LE(0, fd);
	/* Its pages are zeroed when they leave the file: they held the guest's data. */
	ASSERT_TRUE(fdinfo_flag(_metadata, fd, "scrub"));
	ASSERT_TRUE(fdinfo_flag(_metadata, fd, "mmap"));
	ASSERT_EQ(0, gmu_set_region(vm, 0, KVM_MEM_GUEST_MEMFD, A64_GPA, size,
				    anon, fd, 0));
	ASSERT_EQ(0, gmu_delete_region(vm, 0));

	ASSERT_EQ(0, munmap(anon, size));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, close(vm));
	ASSERT_EQ(0, close(kvm));
}

/*
 * A protected VM shares and unshares a page with its VMM.  Its memory is
 * one guest_memfd created MMAP (private from the start); the VMM loads
 * the code by converting that page to shared, writing it and converting
 * it back with its contents.  The guest finds the sharing calls in the
 * vendor FEATURES bitmap, writes its page while private (the VMM cannot
 * read it), shares it: KVM exits with KVM_EXIT_HYPERCALL, the VMM
 * converts in place, reads the guest's word and writes a reply.  The
 * guest's first MEM_UNSHARE comes while the VMM pins the page (vmsplice):
 * the conversion fails with EAGAIN and the guest gets
 * SMCCC_RET_INVALID_PARAMETER; once the pipe is drained its second one is
 * accepted, and the guest reads the reply from its private page.
 * Throughout, the hypervisor has the pages the guest maps privately taken
 * from the host (its stage 2 no longer maps them), and a page converted
 * to shared is out of the guest's stage 2, which gave it back; when the
 * guest maps it again to read it, it stays the host's, and a refused
 * unshare does not take it.
 */
TEST(arm64_protected_vm_share_unshare)
{
	const __u64 keep = KVM_SET_MEMORY_ATTRIBUTES2_PRESERVE;
	__u64 page = page_size(), size = GMEM_PAGES * page, err;
	__u64 data_gpa = A64_GPA + page;
	struct kvm_vcpu_init init;
	int kvm, vm, fd, vcpu, run_size, pipefd[2];
	struct kvm_run *run;
	struct iovec iov;
	char buf[64], owner[16];
	__u32 *data;
	char *m;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		SKIP(return, "/dev/kvm: %s", strerror(errno));
	if (!arm64_protected_mode(_metadata)) {
		ASSERT_EQ(0, close(kvm));
		SKIP(return, "KVM does not run in protected mode");
	}
	vm = ioctl(kvm, KVM_CREATE_VM, KVM_VM_TYPE_ARM_PROTECTED);
	ASSERT_LE(0, vm) TH_LOG("KVM_CREATE_VM(PROTECTED): %s", strerror(errno));
	fd = gmu_create_gmem(vm, size, GUEST_MEMFD_FLAG_MMAP);
	ASSERT_LE(0, fd);
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	data = (__u32 *)(m + page);

	/* Private from the start; the code goes in through a shared window. */
	ASSERT_TRUE(touch_bus(m, false, 0));
	ASSERT_EQ(0, gmem_convert(fd, 0, page, false, keep, &err));
	memcpy(m, gmu_a64_share_guest, sizeof(gmu_a64_share_guest));
	ASSERT_EQ(0, gmem_convert(fd, 0, page, true, keep, &err));
	ASSERT_TRUE(touch_bus(m, false, 0));
	ASSERT_EQ(0, gmu_set_region(vm, 0, KVM_MEM_GUEST_MEMFD, A64_GPA, size,
				    m, fd, 0));

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	ASSERT_LE(0, vcpu);
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	ASSERT_LE((int)sizeof(*run), run_size);
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	ASSERT_NE(MAP_FAILED, run);
	ASSERT_EQ(0, ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init));
	ASSERT_EQ(0, ioctl(vcpu, KVM_ARM_VCPU_INIT, &init));
	a64_set_reg(_metadata, vcpu, A64_CORE_REG(regs.pc), A64_GPA);
	a64_set_reg(_metadata, vcpu, A64_CORE_REG(regs.regs[19]), data_gpa);
	a64_set_reg(_metadata, vcpu, A64_CORE_REG(regs.regs[20]), A64_MMIO);

	ASSERT_EQ(GMU_PKVM_MEM_FEATURES,
		  a64_report(_metadata, vcpu, run) & GMU_PKVM_MEM_FEATURES);
	ASSERT_EQ(page, a64_report(_metadata, vcpu, run));

	/*
	 * MEM_SHARE: the guest wrote its page while private; that page and
	 * the code page are no longer the host's at EL2.
	 */
	a64_mem_exit(_metadata, vcpu, run, GMU_PKVM_MEM_SHARE_FUNC, data_gpa, page);
	ASSERT_TRUE(touch_bus((char *)data, false, 0));
	a64_owner(_metadata, vm, data_gpa, owner, sizeof(owner));
	ASSERT_STREQ("guest", owner);
	a64_owner(_metadata, vm, A64_GPA, owner, sizeof(owner));
	ASSERT_STREQ("guest", owner);
	ASSERT_EQ(0, gmem_convert(fd, page, page, false, keep, &err));
	/* Shared: out of the guest's stage 2, the host's again. */
	a64_owner(_metadata, vm, data_gpa, owner, sizeof(owner));
	ASSERT_STREQ("unmapped", owner);
	a64_set_reg(_metadata, vcpu, A64_CORE_REG(regs.regs[0]), 0);
	ASSERT_EQ(0, a64_report(_metadata, vcpu, run));
	/* The guest maps it again to read its word: still the host's page. */
	ASSERT_EQ(GMU_A64_SECRET, a64_report(_metadata, vcpu, run));
	a64_owner(_metadata, vm, data_gpa, owner, sizeof(owner));
	ASSERT_STREQ("host", owner);
	ASSERT_EQ(GMU_A64_SECRET, data[0]);
	data[1] = 0xabcd0042;

	/* MEM_UNSHARE while the VMM pins the page: refused, nothing moves. */
	ASSERT_EQ(0, pipe(pipefd));
	iov.iov_base = data;
	iov.iov_len = sizeof(buf);
	ASSERT_EQ(sizeof(buf), vmsplice(pipefd[1], &iov, 1, 0));
	a64_mem_exit(_metadata, vcpu, run, GMU_PKVM_MEM_UNSHARE_FUNC, data_gpa, page);
	ASSERT_ERR(EAGAIN, gmem_convert(fd, page, page, true, keep, &err));
	ASSERT_EQ(page, err);
	a64_set_reg(_metadata, vcpu, A64_CORE_REG(regs.regs[0]),
		    GMU_SMCCC_INVALID_PARAMETER);
	ASSERT_EQ(GMU_SMCCC_INVALID_PARAMETER, a64_report(_metadata, vcpu, run));
	ASSERT_FALSE(touch_bus((char *)data, false, 0));
	a64_owner(_metadata, vm, data_gpa, owner, sizeof(owner));
	ASSERT_STRNE("guest", owner);

	/* The pin is gone: the guest's second MEM_UNSHARE is accepted. */
	ASSERT_EQ(sizeof(buf), read(pipefd[0], buf, sizeof(buf)));
	a64_mem_exit(_metadata, vcpu, run, GMU_PKVM_MEM_UNSHARE_FUNC, data_gpa, page);
	ASSERT_EQ(0, gmem_convert(fd, page, page, true, keep, &err));
	a64_set_reg(_metadata, vcpu, A64_CORE_REG(regs.regs[0]), 0);
	ASSERT_EQ(0, a64_report(_metadata, vcpu, run));
	ASSERT_EQ(0xabcd0042, a64_report(_metadata, vcpu, run));
	ASSERT_TRUE(touch_bus((char *)data, false, 0));
	a64_owner(_metadata, vm, data_gpa, owner, sizeof(owner));
	ASSERT_STREQ("guest", owner);

	/* Round two: shared again, the guest's word and the reply kept. */
	a64_mem_exit(_metadata, vcpu, run, GMU_PKVM_MEM_SHARE_FUNC, data_gpa, page);
	ASSERT_EQ(0, gmem_convert(fd, page, page, false, keep, &err));
	a64_owner(_metadata, vm, data_gpa, owner, sizeof(owner));
	ASSERT_STREQ("unmapped", owner);
	a64_set_reg(_metadata, vcpu, A64_CORE_REG(regs.regs[0]), 0);
	ASSERT_EQ(0, a64_report(_metadata, vcpu, run));
	ASSERT_EQ(GMU_A64_SECRET, a64_report(_metadata, vcpu, run));
	a64_owner(_metadata, vm, data_gpa, owner, sizeof(owner));
	ASSERT_STREQ("host", owner);
	ASSERT_EQ(GMU_A64_SECRET, data[0]);
	ASSERT_EQ(0xabcd0042, data[1]);

	ASSERT_EQ(0, close(pipefd[0]));
	ASSERT_EQ(0, close(pipefd[1]));
	ASSERT_EQ(0, munmap(run, run_size));
	ASSERT_EQ(0, close(vcpu));
	ASSERT_EQ(0, gmu_delete_region(vm, 0));
	ASSERT_EQ(0, munmap(m, size));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, close(vm));
	ASSERT_EQ(0, close(kvm));
}
#endif /* __aarch64__ */

#ifdef __x86_64__
/*
 * GUEST_MEMFD_FLAG_HUGEPAGE: each whole 2 MiB block of the file gets one
 * huge folio (fdinfo guestmem-large-folios), which the guest sees through
 * one 2 MiB NPT entry (KVM's pages_2m); converting or punching 4 KiB inside
 * it splits it (debugfs guestmem/huge_splits) and keeps every other page;
 * the host maps small folios only, so that a pin holds one page.
 */
#define HUGE_SIZE		(2 * HUGE_BLOCK)
#define HUGE_SLOT		22
#define HUGE_GPA		(4ULL << 20)

FIXTURE(huge) {
	int kvm;
	int vm;
	int gmem;
	__u64 page;
	char *hva;		/* 2 MiB aligned: userspace_addr of the memslot */
	char *hva_area;
	char *m;		/* mmap of the file, MMAP variants */
};

FIXTURE_VARIANT(huge) {
	unsigned long vm_type;
	__u64 gmem_flags;
};

FIXTURE_VARIANT_ADD(huge, default_vm_mmap_shared) {
	.vm_type = 0,
	.gmem_flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED,
};

FIXTURE_VARIANT_ADD(huge, sw_protected_vm) {
	.vm_type = KVM_X86_SW_PROTECTED_VM,
	.gmem_flags = 0,
};

FIXTURE_VARIANT_ADD(huge, sw_protected_vm_mmap) {
	.vm_type = KVM_X86_SW_PROTECTED_VM,
	.gmem_flags = GUEST_MEMFD_FLAG_MMAP,
};

FIXTURE_VARIANT_ADD(huge, sw_protected_vm_mmap_no_direct_map) {
	.vm_type = KVM_X86_SW_PROTECTED_VM,
	.gmem_flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_NO_DIRECT_MAP,
};

FIXTURE_SETUP(huge)
{
	__u64 flags = variant->gmem_flags | GUEST_MEMFD_FLAG_HUGEPAGE;

	self->kvm = -1;
	self->vm = -1;
	self->gmem = -1;
	self->hva_area = MAP_FAILED;
	self->m = MAP_FAILED;
	self->page = page_size();
	if (!open_vm(_metadata, &self->kvm, &self->vm, variant->vm_type))
		return;
	ASSERT_EQ(flags, flags & gmu_gmem_flags(self->vm));
	self->gmem = gmu_create_gmem(self->vm, HUGE_SIZE, flags);
	ASSERT_LE(0, self->gmem) TH_LOG("KVM_CREATE_GUEST_MEMFD: %s", strerror(errno));
	/*
	 * KVM maps 2 MiB only where the memslot's guest and user addresses
	 * agree modulo 2 MiB, guest_memfd memslots included.
	 */
	self->hva_area = mmap(NULL, HUGE_SIZE + HUGE_BLOCK, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->hva_area);
	self->hva = (char *)(((uintptr_t)self->hva_area + HUGE_BLOCK - 1) & ~(HUGE_BLOCK - 1));
	if (variant->gmem_flags & GUEST_MEMFD_FLAG_MMAP) {
		self->m = mmap(NULL, HUGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			       self->gmem, 0);
		ASSERT_NE(MAP_FAILED, self->m);
	}
}

FIXTURE_TEARDOWN(huge)
{
	if (self->m != MAP_FAILED)
		munmap(self->m, HUGE_SIZE);
	if (self->hva_area != MAP_FAILED)
		munmap(self->hva_area, HUGE_SIZE + HUGE_BLOCK);
	if (self->gmem >= 0)
		close(self->gmem);
	if (self->vm >= 0)
		close(self->vm);
	if (self->kvm >= 0)
		close(self->kvm);
}

/* The guest of guest_code, with the file at HUGE_GPA, private or not. */
static void huge_guest_create(struct __test_metadata *_metadata, FIXTURE_DATA(huge) * self,
			      const FIXTURE_VARIANT(huge) * variant, struct guest *g)
{
	g->code = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, g->code);
	memcpy(g->code, guest_code, sizeof(guest_code));
	ASSERT_EQ(0, gmu_set_region(self->vm, CODE_SLOT, 0, CODE_GPA, GUEST_SIZE, g->code, 0, 0));
	ASSERT_EQ(0, gmu_set_region(self->vm, HUGE_SLOT, KVM_MEM_GUEST_MEMFD, HUGE_GPA, HUGE_SIZE,
				    self->hva, self->gmem, 0));
	/* Without MMAP the VM's attributes say which accesses are private. */
	if (!(variant->gmem_flags & GUEST_MEMFD_FLAG_MMAP))
		set_private(_metadata, self->vm, HUGE_GPA, HUGE_SIZE, true);

	g->vcpu = ioctl(self->vm, KVM_CREATE_VCPU, 0);
	ASSERT_LE(0, g->vcpu) TH_LOG("KVM_CREATE_VCPU: %s", strerror(errno));
	g->run_size = ioctl(self->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	ASSERT_LT(0, g->run_size);
	g->run = mmap(NULL, g->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, g->vcpu, 0);
	ASSERT_NE(MAP_FAILED, g->run);
}

/* The guest stores @value at page @page of the file, word @word of it. */
static void huge_store(struct __test_metadata *_metadata, struct guest *g, __u64 page,
		       __u64 page_size, unsigned int word, __u32 value)
{
	__u32 got;

	ASSERT_EQ(0, guest_run_ds(_metadata, g, GUEST_STORE_DS, HUGE_GPA + page * page_size,
				  word * 4, value, &got));
	ASSERT_EQ(value, got);
}

static __u32 huge_load(struct __test_metadata *_metadata, struct guest *g, __u64 page,
		       __u64 page_size, unsigned int word)
{
	__u32 got = 0;

	EXPECT_EQ(0, guest_run_ds(_metadata, g, GUEST_LOAD_DS, HUGE_GPA + page * page_size,
				  word * 4, 0, &got));
	return got;
}

/*
 * fallocate() gives each whole block one huge folio; punching one page
 * splits its block and frees that page; a block emptied again gets a huge
 * folio again.  A file whose size does not cover a block wholly gets small
 * folios there.
 */
TEST_F(huge, fallocate_and_punch)
{
	const int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	__u64 nr = HUGE_SIZE / self->page;
	long splits = gmu_stat("huge_splits");
	char flags[128];
	int fd;

	ASSERT_TRUE(gmu_fdinfo_line(self->gmem, "guestmem-flags", flags, sizeof(flags)));
	ASSERT_NE(NULL, strstr(flags, "huge")) TH_LOG("flags: %s", flags);
	ASSERT_EQ(0, gmu_fdinfo_num(self->gmem, "guestmem-large-folios"));

	ASSERT_EQ(0, fallocate(self->gmem, FALLOC_FL_KEEP_SIZE, 0, HUGE_SIZE));
	ASSERT_EQ(2, gmu_fdinfo_num(self->gmem, "guestmem-large-folios"));
	ASSERT_EQ(nr, gmu_fdinfo_num(self->gmem, "guestmem-pages"));
	ASSERT_EQ(0, gmu_fdinfo_num(self->gmem, "guestmem-huge-fallbacks"));

	ASSERT_LE(0, splits);
	ASSERT_EQ(0, fallocate(self->gmem, punch, HUGE_BLOCK + 7 * self->page, self->page));
	ASSERT_EQ(1, gmu_fdinfo_num(self->gmem, "guestmem-large-folios"));
	ASSERT_EQ(nr - 1, gmu_fdinfo_num(self->gmem, "guestmem-pages"));
	ASSERT_EQ(splits + 1, gmu_stat("huge_splits"));

	ASSERT_EQ(0, fallocate(self->gmem, punch, HUGE_BLOCK, HUGE_BLOCK));
	ASSERT_EQ(nr / 2, gmu_fdinfo_num(self->gmem, "guestmem-pages"));
	ASSERT_EQ(0, fallocate(self->gmem, FALLOC_FL_KEEP_SIZE, 0, HUGE_SIZE));
	ASSERT_EQ(2, gmu_fdinfo_num(self->gmem, "guestmem-large-folios"));

	/* 3 MiB and a page: the second block is not whole. */
	fd = gmu_create_gmem(self->vm, 3 * HUGE_BLOCK / 2 + self->page,
			     variant->gmem_flags | GUEST_MEMFD_FLAG_HUGEPAGE);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 3 * HUGE_BLOCK / 2 + self->page));
	ASSERT_EQ(1, gmu_fdinfo_num(fd, "guestmem-large-folios"));
	ASSERT_EQ(HUGE_BLOCK / self->page + HUGE_BLOCK / 2 / self->page + 1,
		  gmu_fdinfo_num(fd, "guestmem-pages"));
	ASSERT_EQ(0, close(fd));
}

/*
 * The guest's first touch of a block allocates a huge folio for it, which
 * KVM maps with one 2 MiB entry; what the guest writes stays.
 */
TEST_F(huge, guest_maps_2m)
{
	__u64 per_block = HUGE_BLOCK / self->page;
	struct guest g;

	huge_guest_create(_metadata, self, variant, &g);
	ASSERT_EQ(0, gmu_vm_stat(self->vm, "pages_2m"));

	huge_store(_metadata, &g, 3, self->page, 0, 0x1000);
	ASSERT_EQ(1, gmu_fdinfo_num(self->gmem, "guestmem-large-folios"));
	ASSERT_EQ(1, gmu_vm_stat(self->vm, "pages_2m"));
	huge_store(_metadata, &g, per_block - 1, self->page, 5, 0x1001);
	huge_store(_metadata, &g, per_block + 100, self->page, 9, 0x1002);
	ASSERT_EQ(2, gmu_fdinfo_num(self->gmem, "guestmem-large-folios"));
	ASSERT_EQ(2, gmu_vm_stat(self->vm, "pages_2m"));

	ASSERT_EQ(0x1000, huge_load(_metadata, &g, 3, self->page, 0));
	ASSERT_EQ(0x1001, huge_load(_metadata, &g, per_block - 1, self->page, 5));
	ASSERT_EQ(0x1002, huge_load(_metadata, &g, per_block + 100, self->page, 9));
	ASSERT_EQ(0, huge_load(_metadata, &g, per_block + 101, self->page, 0));
	guest_destroy(_metadata, &g);
}

/*
 * A guest round trip through a 4 KiB conversion inside a 2 MiB folio: the
 * folio is split, the block is mapped by 4 KiB entries from then on, and
 * the guest's words in that page and its neighbours are all kept, while
 * the host sees (and writes) the converted page while it is shared.  For
 * a file without MMAP the VM's attributes convert, and the file stays as
 * it is.
 */
TEST_F(huge, guest_convert_4k)
{
	__u64 per_block = HUGE_BLOCK / self->page, p = per_block + 200;
	bool shared = variant->gmem_flags & GUEST_MEMFD_FLAG_INIT_SHARED;
	long splits = gmu_stat("huge_splits");
	__u32 *word;
	struct guest g;
	__u64 err;

	huge_guest_create(_metadata, self, variant, &g);
	huge_store(_metadata, &g, p - 1, self->page, 0, 0x2000);
	huge_store(_metadata, &g, p, self->page, 0, 0x2001);
	huge_store(_metadata, &g, p + 1, self->page, 0, 0x2002);
	ASSERT_EQ(1, gmu_fdinfo_num(self->gmem, "guestmem-large-folios"));
	ASSERT_EQ(1, gmu_vm_stat(self->vm, "pages_2m"));

	if (!(variant->gmem_flags & GUEST_MEMFD_FLAG_MMAP)) {
		/*
		 * Without MMAP the VM's attributes say which side a page is
		 * on: page p turns shared (the VMM's memory at userspace_addr)
		 * and back, the file keeps its huge folio and the guest's word,
		 * and KVM maps the block by 4 KiB entries while it is mixed.
		 */
		word = (__u32 *)(self->hva + p * self->page);
		*word = 0x2003;
		set_private(_metadata, self->vm, HUGE_GPA + p * self->page, self->page, false);
		ASSERT_EQ(0x2003, huge_load(_metadata, &g, p, self->page, 0));
		ASSERT_EQ(0x2000, huge_load(_metadata, &g, p - 1, self->page, 0));
		ASSERT_EQ(0x2002, huge_load(_metadata, &g, p + 1, self->page, 0));
		ASSERT_EQ(0, gmu_vm_stat(self->vm, "pages_2m"));
		set_private(_metadata, self->vm, HUGE_GPA + p * self->page, self->page, true);
		ASSERT_EQ(0x2001, huge_load(_metadata, &g, p, self->page, 0));
		ASSERT_EQ(1, gmu_fdinfo_num(self->gmem, "guestmem-large-folios"));
		ASSERT_EQ(splits, gmu_stat("huge_splits"));
		guest_destroy(_metadata, &g);
		return;
	}

	/* Page p changes state; its huge folio is split around it. */
	ASSERT_EQ(0, gmem_convert(self->gmem, p * self->page, self->page, shared, 0, &err));
	ASSERT_EQ(0, gmu_fdinfo_num(self->gmem, "guestmem-large-folios"));
	ASSERT_EQ(splits + 1, gmu_stat("huge_splits"));
	ASSERT_EQ(0, gmu_vm_stat(self->vm, "pages_2m"));
	ASSERT_EQ(0x2000, huge_load(_metadata, &g, p - 1, self->page, 0));
	ASSERT_EQ(0x2001, huge_load(_metadata, &g, p, self->page, 0));
	ASSERT_EQ(0x2002, huge_load(_metadata, &g, p + 1, self->page, 0));
	ASSERT_EQ(0, gmu_vm_stat(self->vm, "pages_2m"));

	word = (__u32 *)(self->m + p * self->page);
	if (shared) {
		/* Private now: the host cannot reach it; the guest writes. */
		ASSERT_TRUE(touch_bus((char *)word, false, 0));
		huge_store(_metadata, &g, p, self->page, 0, 0x2003);
		ASSERT_EQ(0, gmem_convert(self->gmem, p * self->page, self->page, false, 0,
					  &err));
		ASSERT_EQ(0x2003, *word);
	} else {
		/* Shared now: the host reads the guest's word and answers. */
		ASSERT_EQ(0x2001, *word);
		*word = 0x2003;
		ASSERT_EQ(0, gmem_convert(self->gmem, p * self->page, self->page, true, 0,
					  &err));
		ASSERT_EQ(0x2003, huge_load(_metadata, &g, p, self->page, 0));
	}
	ASSERT_EQ(0x2000, huge_load(_metadata, &g, p - 1, self->page, 0));
	ASSERT_EQ(0x2002, huge_load(_metadata, &g, p + 1, self->page, 0));
	guest_destroy(_metadata, &g);
}

/*
 * The host maps small folios only: its first touch of a huge folio splits
 * it, and a pin it then takes on one page refuses the conversion of that
 * page alone, not of its neighbours in the old 2 MiB block.  A file without
 * MMAP cannot be mapped at all.
 */
TEST_F(huge, host_pin_holds_one_page)
{
	long splits = gmu_stat("huge_splits");
	char buf[64];
	struct iovec iov;
	int pipefd[2];
	__u64 err;

	if (!(variant->gmem_flags & GUEST_MEMFD_FLAG_MMAP)) {
		/* Nothing of the file can be mapped, so nothing pinned. */
		ASSERT_ERR(ENODEV, mmap(NULL, HUGE_BLOCK, PROT_READ | PROT_WRITE, MAP_SHARED,
					self->gmem, 0));
		return;
	}
	ASSERT_EQ(0, gmem_convert(self->gmem, 0, HUGE_BLOCK, false, 0, &err));
	ASSERT_EQ(0, fallocate(self->gmem, FALLOC_FL_KEEP_SIZE, 0, HUGE_BLOCK));
	ASSERT_EQ(1, gmu_fdinfo_num(self->gmem, "guestmem-large-folios"));

	memset(self->m + 5 * self->page, 0x3c, self->page);
	ASSERT_EQ(0, gmu_fdinfo_num(self->gmem, "guestmem-large-folios"));
	ASSERT_EQ(splits + 1, gmu_stat("huge_splits"));

	ASSERT_EQ(0, pipe(pipefd));
	iov.iov_base = self->m + 5 * self->page + 100;
	iov.iov_len = sizeof(buf);
	if (variant->gmem_flags & GUEST_MEMFD_FLAG_NO_DIRECT_MAP) {
		/* Nothing can pin such a page: the block converts at once. */
		ASSERT_ERR(EFAULT, vmsplice(pipefd[1], &iov, 1, 0));
		ASSERT_EQ(0, gmem_convert(self->gmem, 0, HUGE_BLOCK, true, 0, &err));
		ASSERT_TRUE(touch_bus(self->m + 5 * self->page, false, 0));
		ASSERT_EQ(0, close(pipefd[0]));
		ASSERT_EQ(0, close(pipefd[1]));
		return;
	}
	ASSERT_EQ(sizeof(buf), vmsplice(pipefd[1], &iov, 1, 0));

	ASSERT_ERR(EAGAIN, gmem_convert(self->gmem, 0, HUGE_BLOCK, true, 0, &err));
	ASSERT_EQ(5 * self->page, err);
	ASSERT_EQ(0, gmem_convert(self->gmem, 0, 5 * self->page, true, 0, &err));
	ASSERT_EQ(0, gmem_convert(self->gmem, 6 * self->page, HUGE_BLOCK - 6 * self->page,
				  true, 0, &err));
	ASSERT_EQ(0x3c, self->m[5 * self->page + 1]);

	ASSERT_EQ(sizeof(buf), read(pipefd[0], buf, sizeof(buf)));
	ASSERT_EQ(0x3c, buf[0]);
	ASSERT_EQ(0, gmem_convert(self->gmem, 5 * self->page, self->page, true, 0, &err));
	ASSERT_TRUE(touch_bus(self->m + 5 * self->page, false, 0));
	ASSERT_EQ(0, close(pipefd[0]));
	ASSERT_EQ(0, close(pipefd[1]));
}

/*
 * NUMA placement (the x86_64 test boot has two nodes, 1 GiB each): the
 * file has a shared policy, as a tmpfs file has.  mbind() on the host's
 * mapping of a GUEST_MEMFD_FLAG_MMAP file places the pages of that range
 * that are not allocated yet, whoever allocates them (fallocate(), the
 * host's or the guest's first touch); get_mempolicy(MPOL_F_ADDR) reads it
 * back; move_pages() (query only) says where each page is.  A file created
 * by a task with a policy of its own follows that policy.
 */
static bool two_nodes(void)
{
	return !access("/sys/devices/system/node/node1", F_OK);
}

static long set_policy(int mode, unsigned long nodes)
{
	return syscall(__NR_set_mempolicy, mode, mode == MPOL_DEFAULT ? NULL : &nodes,
		       mode == MPOL_DEFAULT ? 0 : 8 * sizeof(nodes));
}

static long bind_range(void *p, size_t len, int node)
{
	unsigned long nodes = 1UL << node;

	return syscall(__NR_mbind, p, len, MPOL_BIND, &nodes, 8 * sizeof(nodes), 0);
}

/* The node of the page mapped at @p, or a negative errno. */
static int page_node(void *p)
{
	int status = -1;

	if (syscall(__NR_move_pages, 0, 1, &p, NULL, &status, 0))
		return -errno;
	return status;
}

/* The policy of @p: its mode, and its nodes in *@nodes. */
static int addr_policy(void *p, unsigned long *nodes)
{
	int mode = -1;

	*nodes = 0;
	if (syscall(__NR_get_mempolicy, &mode, nodes, 8 * sizeof(*nodes), p, MPOL_F_ADDR))
		return -errno;
	return mode;
}

/* "FilePages" of /sys/devices/system/node/node@node/meminfo, in kB. */
static long node_file_kb(int node)
{
	char path[64], line[256];
	long val = -1;
	FILE *f;

	/* Folds the per-CPU deltas into the counters. */
	f = fopen("/proc/sys/vm/stat_refresh", "w");
	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", node);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *k = strstr(line, "FilePages:");

		if (k) {
			val = strtol(k + strlen("FilePages:"), NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

FIXTURE(numa) {
	int kvm;
	int vm;
	__u64 page;
};

FIXTURE_VARIANT(numa) {
	__u64 gmem_flags;
};

FIXTURE_VARIANT_ADD(numa, small) {
	.gmem_flags = 0,
};

FIXTURE_VARIANT_ADD(numa, huge) {
	.gmem_flags = GUEST_MEMFD_FLAG_HUGEPAGE,
};

FIXTURE_SETUP(numa)
{
	self->kvm = -1;
	self->vm = -1;
	self->page = page_size();
	if (!two_nodes())
		SKIP(return, "this boot has one NUMA node");
	open_vm(_metadata, &self->kvm, &self->vm, 0);
}

FIXTURE_TEARDOWN(numa)
{
	if (self->vm >= 0)
		close(self->vm);
	if (self->kvm >= 0)
		close(self->kvm);
}

/*
 * mbind() the first 2 MiB of the mapping to node 1 and the next to node 0,
 * then allocate the first block with fallocate() and the second by the
 * host's touch: each page lands where its range said.
 */
TEST_F(numa, mbind_places_pages)
{
	__u64 flags = variant->gmem_flags | MMAP_FLAGS;
	unsigned long nodes;
	int fd, i;
	char *m;

	fd = gmu_create_gmem(self->vm, HUGE_SIZE, flags);
	ASSERT_LE(0, fd) TH_LOG("KVM_CREATE_GUEST_MEMFD: %s", strerror(errno));
	m = mmap(NULL, HUGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);

	ASSERT_EQ(0, bind_range(m, HUGE_BLOCK, 1)) TH_LOG("mbind: %s", strerror(errno));
	ASSERT_EQ(0, bind_range(m + HUGE_BLOCK, HUGE_BLOCK, 0));
	ASSERT_EQ(MPOL_BIND, addr_policy(m + self->page, &nodes));
	ASSERT_EQ(2, nodes);
	ASSERT_EQ(MPOL_BIND, addr_policy(m + HUGE_BLOCK + self->page, &nodes));
	ASSERT_EQ(1, nodes);

	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, HUGE_BLOCK));
	if (variant->gmem_flags & GUEST_MEMFD_FLAG_HUGEPAGE)
		ASSERT_EQ(1, gmu_fdinfo_num(fd, "guestmem-large-folios"));
	memset(m, 0x5a, HUGE_SIZE);
	for (i = 0; i < 8; i++) {
		__u64 off = i * (HUGE_BLOCK / 4) + 3 * self->page;

		ASSERT_EQ(off < HUGE_BLOCK ? 1 : 0, page_node(m + off))
			TH_LOG("offset 0x%llx", off);
	}
	/* Already allocated: a new policy moves nothing. */
	ASSERT_EQ(0, bind_range(m, HUGE_BLOCK, 0));
	ASSERT_EQ(1, page_node(m + 5 * self->page));

	ASSERT_EQ(0, munmap(m, HUGE_SIZE));
	ASSERT_EQ(0, close(fd));
}

/*
 * A file without GUEST_MEMFD_FLAG_MMAP cannot be mbind()ed: it follows the
 * policy of the task that created it, not that of the one allocating.
 */
TEST_F(numa, creator_policy)
{
	long before[2], after[2];
	int fd, node;

	for (node = 0; node < 2; node++) {
		ASSERT_EQ(0, set_policy(MPOL_BIND, 1UL << node));
		fd = gmu_create_gmem(self->vm, HUGE_SIZE, variant->gmem_flags);
		ASSERT_LE(0, fd) TH_LOG("KVM_CREATE_GUEST_MEMFD: %s", strerror(errno));
		ASSERT_EQ(0, set_policy(MPOL_BIND, 1UL << !node));

		before[0] = node_file_kb(0);
		before[1] = node_file_kb(1);
		ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, HUGE_SIZE));
		after[0] = node_file_kb(0);
		after[1] = node_file_kb(1);
		/* 4 MiB on the creator's node; other tasks add little. */
		ASSERT_LE(HUGE_SIZE / 1024, after[node] - before[node])
			TH_LOG("node %d: %ld kB -> %ld kB", node, before[node], after[node]);
		ASSERT_GT(HUGE_SIZE / 1024 / 4, after[!node] - before[!node])
			TH_LOG("node %d: %ld kB -> %ld kB", !node, before[!node], after[!node]);
		ASSERT_EQ(0, set_policy(MPOL_DEFAULT, 0));
		ASSERT_EQ(0, close(fd));
	}
}
#endif /* __x86_64__ */

TEST_HARNESS_MAIN
