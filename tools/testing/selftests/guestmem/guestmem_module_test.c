// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem_module_test: the lifetime of KVM's modules around guest_memfd,
 * where kvm.ko and its vendor module (kvm-amd.ko or kvm-intel.ko) are
 * modules.  A guest_memfd holds a reference on the vendor module, which
 * guestmem takes for the file (struct guestmem_ops.owner), and on its VM,
 * whose destruction calls into that module.  So:
 *
 *  1. with only a guest_memfd left open (its VM's and /dev/kvm's file
 *     descriptors closed, its mapping still there), neither module can be
 *     unloaded: delete_module() fails with EWOULDBLOCK, and the mapping
 *     still reads what was written;
 *  2. after the last close (and munmap) both unload;
 *  3. both load again from the same .ko files, and a new VM runs a guest
 *     whose code and data are in a new guest_memfd.
 *
 * The test leaves both modules loaded, as it found them, whatever
 * happens, so that the tests after it still have KVM.  It needs the .ko
 * files in /lib/modules (where harness/init loads them from) and skips
 * where KVM is built in (arm64).
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/falloc.h>
#include <linux/kvm.h>

#include "../kselftest_harness.h"
#include "guestmem_util.h"

#define MODDIR		"/lib/modules"
#define GMEM_SIZE	(64UL << 10)
#define GMEM_FLAGS	(GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED)

/* The vendor module that is loaded: kvm_amd or kvm_intel, or NULL. */
static const char *vendor_module(void)
{
	struct stat st;

	if (!stat("/sys/module/kvm_amd", &st))
		return "kvm_amd";
	if (!stat("/sys/module/kvm_intel", &st))
		return "kvm_intel";
	return NULL;
}

static long module_refcnt(const char *name)
{
	char path[96], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return buf[0] ? strtol(buf, NULL, 10) : -1;
}

static bool module_loaded(const char *name)
{
	char path[96];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/module/%s/initstate", name);
	return !stat(path, &st);
}

static int unload(const char *name)
{
	return syscall(__NR_delete_module, name, O_NONBLOCK);
}

/* finit_module() of MODDIR/@file: 0, or -1 with errno. */
static int load(const char *file)
{
	char path[128];
	int fd, r, err;

	snprintf(path, sizeof(path), MODDIR "/%s", file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = syscall(__NR_finit_module, fd, "", 0);
	err = errno;
	close(fd);
	errno = err;
	return r;
}

/* The .ko file of module @name ("kvm_amd" is kvm-amd.ko). */
static void ko_name(const char *name, char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "%s.ko", name);
	for (i = 0; buf[i]; i++)
		if (buf[i] == '_')
			buf[i] = '-';
}

FIXTURE(modules) {
	const char *vendor;
	char kvm_ko[32];
	char vendor_ko[32];
};

FIXTURE_SETUP(modules)
{
	char path[160];
	struct stat st;

	self->vendor = vendor_module();
	if (!self->vendor || !module_loaded("kvm"))
		SKIP(return, "KVM is not loaded as modules (built in?)");
	ko_name("kvm", self->kvm_ko, sizeof(self->kvm_ko));
	ko_name(self->vendor, self->vendor_ko, sizeof(self->vendor_ko));
	snprintf(path, sizeof(path), MODDIR "/%s", self->vendor_ko);
	ASSERT_EQ(0, stat(path, &st)) TH_LOG("%s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), MODDIR "/%s", self->kvm_ko);
	ASSERT_EQ(0, stat(path, &st)) TH_LOG("%s: %s", path, strerror(errno));
}

/* Whatever happened, KVM is loaded again for the tests that follow. */
FIXTURE_TEARDOWN(modules)
{
	if (!self->vendor)
		return;
	if (!module_loaded("kvm") && load(self->kvm_ko))
		fprintf(stderr, "# reloading %s: %s\n", self->kvm_ko, strerror(errno));
	if (!module_loaded(self->vendor) && load(self->vendor_ko))
		fprintf(stderr, "# reloading %s: %s\n", self->vendor_ko, strerror(errno));
}

static void die(const char *what)
{
	fprintf(stderr, "# %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Waits up to 10 s for @name's reference count to reach @want. */
static bool refcnt_becomes(const char *name, long want)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < 1000; i++) {
		if (module_refcnt(name) == want)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

TEST_F(modules, unload_refused_while_open)
{
	long base_refs, refs;
	int kvm, vm, gmem;
	char *m;

	base_refs = module_refcnt(self->vendor);
	ASSERT_LE(0, base_refs);
	vm = gmu_create_vm(&kvm, 0, die);
	ASSERT_LE(0, vm);
	ASSERT_EQ(GMEM_FLAGS, GMEM_FLAGS & gmu_gmem_flags(vm));
	gmem = gmu_create_gmem(vm, GMEM_SIZE, GMEM_FLAGS);
	ASSERT_LE(0, gmem) TH_LOG("KVM_CREATE_GUEST_MEMFD: %s", strerror(errno));
	m = mmap(NULL, GMEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, gmem, 0);
	ASSERT_NE(MAP_FAILED, m);
	memcpy(m + 100, "still here", sizeof("still here"));

	/* Only the guest_memfd (and its mapping) keeps the VM now. */
	ASSERT_EQ(0, close(vm));
	ASSERT_EQ(0, close(kvm));
	refs = module_refcnt(self->vendor);
	TH_LOG("%s refcnt: %ld before, %ld with only the guest_memfd open",
	       self->vendor, base_refs, refs);
	ASSERT_LT(base_refs, refs);
	ASSERT_EQ(-1, unload(self->vendor));
	ASSERT_EQ(EWOULDBLOCK, errno) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(-1, unload("kvm"));
	ASSERT_EQ(EWOULDBLOCK, errno) TH_LOG("%s", strerror(errno));
	ASSERT_TRUE(module_loaded(self->vendor));
	ASSERT_STREQ("still here", m + 100);

	/* The file closed, its mapping still holds it. */
	ASSERT_EQ(0, close(gmem));
	ASSERT_EQ(-1, unload(self->vendor));
	ASSERT_EQ(EWOULDBLOCK, errno);
	ASSERT_STREQ("still here", m + 100);

	ASSERT_EQ(0, munmap(m, GMEM_SIZE));
	ASSERT_TRUE(refcnt_becomes(self->vendor, base_refs))
		TH_LOG("refcnt %ld", module_refcnt(self->vendor));
}

#ifdef __x86_64__
/*
 * Runs the real-mode guest of guestmem_util.h from guest address 0 of @m,
 * bound at 0 in @vm: it stores 0x600d at 0x1000 (the same file), reads it
 * back and reports it.
 */
static void run_guest(struct __test_metadata *_metadata, int kvm, int vm, char *m)
{
	struct kvm_run *run;
	uint32_t word = 0;
	int vcpu;

	memcpy(m, gmu_x86_rm_code, sizeof(gmu_x86_rm_code));
	vcpu = gmu_create_vcpu(kvm, vm, 0, &run, die);
	ASSERT_EQ(0, gmu_x86_run(vcpu, run, GMU_X86_STORE, 0x1000, 0x600d, &word))
		TH_LOG("KVM_RUN: %s, exit reason %u", strerror(errno), run->exit_reason);
	ASSERT_EQ(0x600d, word);
	ASSERT_EQ(0x600d, *(uint32_t *)(m + 0x1000));
	ASSERT_EQ(0, munmap(run, ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0)));
	ASSERT_EQ(0, close(vcpu));
}
#else
/* Only x86_64 loads KVM as modules here; the guest above is x86's. */
static void run_guest(struct __test_metadata *_metadata, int kvm, int vm, char *m)
{
	ASSERT_TRUE(false) TH_LOG("no guest for this architecture");
}
#endif

TEST_F(modules, unload_reload_run)
{
	int kvm, vm, gmem;
	char *m;

	ASSERT_EQ(0, unload(self->vendor)) TH_LOG("%s: %s", self->vendor, strerror(errno));
	ASSERT_EQ(0, unload("kvm")) TH_LOG("kvm: %s", strerror(errno));
	ASSERT_FALSE(module_loaded("kvm"));
	ASSERT_EQ(-1, open("/dev/kvm", O_RDWR | O_CLOEXEC));

	ASSERT_EQ(0, load(self->kvm_ko)) TH_LOG("%s: %s", self->kvm_ko, strerror(errno));
	ASSERT_EQ(0, load(self->vendor_ko)) TH_LOG("%s: %s", self->vendor_ko, strerror(errno));

	vm = gmu_create_vm(&kvm, 0, die);
	ASSERT_LE(0, vm);
	gmem = gmu_create_gmem(vm, GMEM_SIZE, GMEM_FLAGS);
	ASSERT_LE(0, gmem) TH_LOG("KVM_CREATE_GUEST_MEMFD: %s", strerror(errno));
	m = mmap(NULL, GMEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, gmem, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, gmu_set_region(vm, 0, KVM_MEM_GUEST_MEMFD, 0, GMEM_SIZE, m, gmem, 0))
		TH_LOG("KVM_SET_USER_MEMORY_REGION2: %s", strerror(errno));
	run_guest(_metadata, kvm, vm, m);

	ASSERT_EQ(0, munmap(m, GMEM_SIZE));
	ASSERT_EQ(0, close(gmem));
	ASSERT_EQ(0, close(vm));
	ASSERT_EQ(0, close(kvm));
}

TEST_HARNESS_MAIN
