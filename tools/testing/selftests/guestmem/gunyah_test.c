// SPDX-License-Identifier: GPL-2.0
/*
 * The Gunyah VM manager's uAPI on guestmem, against the software resource
 * manager (CONFIG_GUNYAH_SWRM): guest memory from /dev/gunyah, ranges of
 * it lent and shared with a VM, what the host may still touch, reclaim,
 * and the pin and punch-hole rules.  The software RM's debugfs files show
 * its parcels and play the guest that holds one.
 *
 * Built for arm64 only (Makefile); there the driver must be there, and
 * built elsewhere the tests skip.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/gunyah.h>

#include "../kselftest_harness.h"
#include "guestmem_util.h"

#define NR_PAGES	16
#define GUEST_BASE	0x80000000ULL
#define SWRM		"/sys/kernel/debug/gunyah_swrm/"
#define RW		(GUNYAH_MEM_ALLOW_READ | GUNYAH_MEM_ALLOW_WRITE)

struct parcel {
	unsigned int handle, vmid;
	char kind[8], state[8];
	unsigned long long bytes;
};

/* Reads the software RM's parcels; returns how many it has. */
static int parcels(struct parcel *p, int max)
{
	FILE *f = fopen(SWRM "parcels", "r");
	int n = 0;

	if (!f)
		return -1;
	while (n < max && fscanf(f, "%u %u %7s %7s %llu", &p[n].handle,
				 &p[n].vmid, p[n].kind, p[n].state,
				 &p[n].bytes) == 5)
		n++;
	fclose(f);
	return n;
}

/* The guest takes (accept) or gives up (release) parcel @handle. */
static int hold(const char *what, unsigned int handle)
{
	char buf[16];
	int fd, len, ret;

	fd = open(what, O_WRONLY);
	if (fd < 0)
		return -1;
	len = snprintf(buf, sizeof(buf), "%u", handle);
	ret = write(fd, buf, len) == len ? 0 : -1;
	close(fd);
	return ret;
}

static int map_mem(int vm, int gmem, __u64 page, __u64 nr, __u32 flags)
{
	struct gunyah_map_mem_args args = {
		.guest_addr = GUEST_BASE + page * getpagesize(),
		.flags = flags,
		.guest_mem_fd = gmem,
		.offset = page * getpagesize(),
		.size = nr * getpagesize(),
	};

	return ioctl(vm, GUNYAH_VM_MAP_MEM, &args);
}

static int unmap_mem(int vm, __u64 page, __u64 nr)
{
	struct gunyah_map_mem_args args = {
		.guest_addr = GUEST_BASE + page * getpagesize(),
		.flags = GUNYAH_MEM_UNMAP,
		.size = nr * getpagesize(),
	};

	return ioctl(vm, GUNYAH_VM_MAP_MEM, &args);
}

FIXTURE(gunyah) {
	int dev, vm, gmem;
	size_t page, size;
	char *m;
};

FIXTURE_SETUP(gunyah)
{
	struct gunyah_create_mem_args args = { 0 };
	struct parcel p[4];
	__u64 i;

	self->vm = -1;
	self->gmem = -1;
	self->m = MAP_FAILED;
	self->dev = open("/dev/gunyah", O_RDWR | O_CLOEXEC);
	if (self->dev < 0) {
#ifdef __aarch64__
		ASSERT_LE(0, self->dev) TH_LOG("/dev/gunyah: %s", strerror(errno));
#endif
		SKIP(return, "/dev/gunyah: %s", strerror(errno));
	}
	ASSERT_EQ(0, parcels(p, 4)) TH_LOG("the software RM has parcels left");
	self->page = getpagesize();
	self->size = NR_PAGES * self->page;
	args.size = self->size;
	args.flags = GHMF_CLOEXEC;
	self->gmem = ioctl(self->dev, GUNYAH_CREATE_GUEST_MEM, &args);
	ASSERT_LE(0, self->gmem) TH_LOG("CREATE_GUEST_MEM: %s", strerror(errno));
	self->m = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       self->gmem, 0);
	ASSERT_NE(MAP_FAILED, self->m);
	/* Guest memory starts shared: the VMM loads it. */
	for (i = 0; i < NR_PAGES; i++)
		memset(self->m + i * self->page, 0x40 + i, self->page);
	self->vm = ioctl(self->dev, GUNYAH_CREATE_VM, 0);
	ASSERT_LE(0, self->vm) TH_LOG("CREATE_VM: %s", strerror(errno));
}

FIXTURE_TEARDOWN(gunyah)
{
	if (self->m != MAP_FAILED)
		munmap(self->m, self->size);
	if (self->vm >= 0)
		close(self->vm);
	if (self->gmem >= 0)
		close(self->gmem);
	if (self->dev >= 0)
		close(self->dev);
}

static bool page_is(char *p, size_t len, char byte)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != byte)
			return false;
	return true;
}

/*
 * Lent pages raise SIGBUS on the host's mapping, shared ones keep their
 * data and stay writable; reclaim gives the lent ones back, data kept.
 */
TEST_F(gunyah, lend_share_reclaim)
{
	struct parcel p[4];
	__u64 i;

	ASSERT_EQ(0, map_mem(self->vm, self->gmem, 0, 4, GUNYAH_MEM_FORCE_LEND | RW));
	ASSERT_EQ(0, map_mem(self->vm, self->gmem, 4, 4,
			     GUNYAH_MEM_FORCE_SHARE | GUNYAH_MEM_ALLOW_READ));
	ASSERT_EQ(2, parcels(p, 4));
	ASSERT_STREQ("lend", p[0].kind);
	ASSERT_EQ(4 * self->page, p[0].bytes);
	ASSERT_STREQ("share", p[1].kind);
	ASSERT_EQ(p[0].vmid, p[1].vmid);

	for (i = 0; i < 4; i++)
		ASSERT_TRUE(touch_bus(self->m + i * self->page, false, 0)) TH_LOG("page %llu", i);
	for (i = 4; i < 8; i++)
		ASSERT_TRUE(page_is(self->m + i * self->page, self->page, 0x40 + i));
	ASSERT_FALSE(touch_bus(self->m + 5 * self->page, true, 0x11));

	ASSERT_EQ(0, unmap_mem(self->vm, 0, 4));
	for (i = 0; i < 4; i++)
		ASSERT_TRUE(page_is(self->m + i * self->page, self->page, 0x40 + i))
			TH_LOG("page %llu", i);
	ASSERT_EQ(-1, unmap_mem(self->vm, 0, 4));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(1, parcels(p, 4));
	ASSERT_EQ(0, unmap_mem(self->vm, 4, 4));
	ASSERT_EQ(0x11, self->m[5 * self->page]);
	ASSERT_EQ(0, parcels(p, 4));
}

/* Reclaim waits for the guest: -EBUSY while it holds the parcel. */
TEST_F(gunyah, reclaim_refused_while_held)
{
	struct parcel p[4];

	ASSERT_EQ(0, map_mem(self->vm, self->gmem, 0, 4, RW));
	ASSERT_EQ(1, parcels(p, 4));
	ASSERT_STREQ("lend", p[0].kind);
	/* Only a running VM can take it. */
	ASSERT_EQ(-1, hold(SWRM "accept", p[0].handle));
	ASSERT_EQ(0, ioctl(self->vm, GUNYAH_VM_START, 0));
	ASSERT_EQ(0, hold(SWRM "accept", p[0].handle));
	ASSERT_EQ(-1, unmap_mem(self->vm, 0, 4));
	ASSERT_EQ(EBUSY, errno);
	ASSERT_TRUE(touch_bus(self->m, false, 0));
	ASSERT_EQ(0, hold(SWRM "release", p[0].handle));
	ASSERT_EQ(0, unmap_mem(self->vm, 0, 4));
	ASSERT_TRUE(page_is(self->m, self->page, 0x40));
}

/* A page the host pins (vmsplice) cannot be lent: -EAGAIN, nothing given. */
TEST_F(gunyah, pin_refuses_lend)
{
	struct parcel p[4];
	struct iovec iov = { .iov_base = self->m + 2 * self->page, .iov_len = 64 };
	char buf[64];
	int pipefd[2];

	ASSERT_EQ(0, pipe(pipefd));
	ASSERT_EQ(64, vmsplice(pipefd[1], &iov, 1, 0));
	ASSERT_EQ(-1, map_mem(self->vm, self->gmem, 0, 4, RW));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, parcels(p, 4));
	ASSERT_FALSE(touch_bus(self->m + 2 * self->page, false, 0));
	ASSERT_EQ(64, read(pipefd[0], buf, sizeof(buf)));
	ASSERT_EQ(0, map_mem(self->vm, self->gmem, 0, 4, RW));
	ASSERT_TRUE(touch_bus(self->m + 2 * self->page, false, 0));
	ASSERT_EQ(0, close(pipefd[0]));
	ASSERT_EQ(0, close(pipefd[1]));
}

/*
 * A punch hole in a lent range reclaims the whole parcel first: refused
 * while the guest holds it; then the hole is zero and the rest of the
 * range comes back, data kept, when the VMM unmaps it.
 */
TEST_F(gunyah, punch_hole_lent)
{
	const int punch = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;
	struct parcel p[4];
	__u64 i;

	ASSERT_EQ(0, map_mem(self->vm, self->gmem, 0, 8, RW));
	ASSERT_EQ(1, parcels(p, 4));
	ASSERT_EQ(0, ioctl(self->vm, GUNYAH_VM_START, 0));
	ASSERT_EQ(0, hold(SWRM "accept", p[0].handle));
	ASSERT_EQ(-1, fallocate(self->gmem, punch, 3 * self->page, self->page));
	ASSERT_EQ(EBUSY, errno);
	ASSERT_EQ(1, parcels(p, 4));

	ASSERT_EQ(0, hold(SWRM "release", p[0].handle));
	ASSERT_EQ(0, fallocate(self->gmem, punch, 3 * self->page, self->page));
	ASSERT_EQ(0, parcels(p, 4));
	/* Reclaimed but not unmapped: still not the host's. */
	ASSERT_TRUE(touch_bus(self->m, false, 0));
	ASSERT_EQ(0, unmap_mem(self->vm, 0, 8));
	for (i = 0; i < 8; i++)
		ASSERT_TRUE(page_is(self->m + i * self->page, self->page,
				    i == 3 ? 0 : 0x40 + i)) TH_LOG("page %llu", i);
}

/*
 * Closing the guest memory's descriptor and then the VM while it runs and
 * holds a lent parcel: the VM's destruction stops it, reclaims everything
 * and gives the lent pages back to the host, data kept (the host's
 * mapping, which outlives the descriptor, reads them again).
 */
TEST_F(gunyah, destroy_while_lent)
{
	struct parcel p[4];
	__u64 i;

	ASSERT_EQ(0, map_mem(self->vm, self->gmem, 0, 4, RW));
	ASSERT_EQ(0, map_mem(self->vm, self->gmem, 8, 2,
			     GUNYAH_MEM_FORCE_SHARE | GUNYAH_MEM_ALLOW_READ));
	ASSERT_EQ(2, parcels(p, 4));
	ASSERT_EQ(0, ioctl(self->vm, GUNYAH_VM_START, 0));
	ASSERT_EQ(0, hold(SWRM "accept", p[0].handle));
	ASSERT_EQ(0, close(self->gmem));
	self->gmem = -1;
	ASSERT_EQ(2, parcels(p, 4));
	ASSERT_TRUE(touch_bus(self->m, false, 0));
	ASSERT_EQ(0, close(self->vm));
	self->vm = -1;
	ASSERT_EQ(0, parcels(p, 4));
	for (i = 0; i < 4; i++)
		ASSERT_TRUE(page_is(self->m + i * self->page, self->page, 0x40 + i))
			TH_LOG("page %llu", i);
}

/* What the ioctls refuse, and with which errno. */
TEST_F(gunyah, refused)
{
	struct gunyah_create_mem_args args = { .size = 4096 };
	int memfd;

	args.flags = GHMF_ALLOW_HUGEPAGE;
	ASSERT_EQ(-1, ioctl(self->dev, GUNYAH_CREATE_GUEST_MEM, &args));
	ASSERT_EQ(EINVAL, errno);
	args.flags = 0;
	args.reserved[5] = 1;
	ASSERT_EQ(-1, ioctl(self->dev, GUNYAH_CREATE_GUEST_MEM, &args));
	ASSERT_EQ(EINVAL, errno);
	args.reserved[5] = 0;
	args.size = 100;
	ASSERT_EQ(-1, ioctl(self->dev, GUNYAH_CREATE_GUEST_MEM, &args));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ioctl(self->dev, GUNYAH_CREATE_VM, 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ioctl(self->dev, _IO(GUNYAH_IOCTL_TYPE, 0x3f), 0));
	ASSERT_EQ(ENOTTY, errno);

	ASSERT_EQ(-1, map_mem(self->vm, self->gmem, 0, 1, GUNYAH_MEM_ALLOW_WRITE));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, map_mem(self->vm, self->gmem, 0, 1, 3 | RW));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, map_mem(self->vm, self->gmem, NR_PAGES - 1, 2, RW));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, map_mem(self->vm, 1000, 0, 1, RW));
	ASSERT_EQ(EBADF, errno);
	memfd = memfd_create("not-guest-memory", MFD_CLOEXEC);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, ftruncate(memfd, self->size));
	ASSERT_EQ(-1, map_mem(self->vm, memfd, 0, 1, RW));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, close(memfd));

	ASSERT_EQ(0, map_mem(self->vm, self->gmem, 0, 2, RW));
	ASSERT_EQ(-1, map_mem(self->vm, self->gmem, 1, 1, RW));
	ASSERT_EQ(EEXIST, errno);
	ASSERT_EQ(-1, unmap_mem(self->vm, 0, 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ioctl(self->vm, GUNYAH_VM_START, 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, unmap_mem(self->vm, 0, 2));
}

TEST_HARNESS_MAIN
