// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem_fuzz: random operations on guest_memfd files, VMs and their
 * memslots, checked after every step against a model of what each should
 * have done.
 *
 *	guestmem_fuzz [-s SEED] [-n STEPS] [-v]
 *
 * The operations: create and close a file (of each kind the VM offers:
 * MMAP, INIT_SHARED, NO_DIRECT_MAP, HUGEPAGE or none), fallocate() and
 * punch hole of a random range, mmap() and munmap(), a host read or write
 * through the mapping, conversion of a range to private or shared (with
 * or without ZERO), memslot add and remove, a guest load or store (x86_64),
 * fork() with a child that reads and writes the mapping, creation and
 * destruction of a VM, and calls that must be refused.  Several files and
 * up to two VMs live at once.
 *
 * The model keeps, for each file, the state of each page and the first
 * 32-bit word of each page (what host and guest wrote there; zero after a
 * punch hole or a conversion with ZERO), and for each VM its memslots.
 * After every step it checks the file's fdinfo (size, shared pages,
 * bindings) and the pages that step touched: a shared page reads its word
 * through the mapping, a private one raises SIGBUS, the guest reads the
 * word of any page, and a memslot whose file was closed fails the guest's
 * access with EFAULT and a KVM_EXIT_MEMORY_FAULT exit.  Every eighth step
 * and at the end it checks every page of every mapped file.  Each refused
 * call must fail with the errno the uAPI documents.
 *
 * The same seed gives the same operations: a failure prints the seed and
 * the step, and "-s SEED -n STEP -v" replays it, printing each operation.
 * Exit status 0 when every step held, 1 on a failure, 4 (skip) without
 * KVM or guest_memfd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/falloc.h>
#include <linux/kvm.h>

#include "guestmem_util.h"

#define KSFT_SKIP		4
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define DEFAULT_SEED		20261206ULL
#define DEFAULT_STEPS		10000
#define NR_VMS			2
#define NR_FILES		4
#define NR_SLOTS		4		/* per VM */
#define SMALL_PAGES		16
#define HUGE_PAGES		512		/* 2 MiB */
#define MAX_PAGES		HUGE_PAGES
#define SWEEP_EVERY		8
#define SLOT_GPA(s)		(((uint64_t)(s) + 1) << 24)

#ifdef __x86_64__
#define PRIVATE_VM		KVM_X86_SW_PROTECTED_VM
#else
#define PRIVATE_VM		0
#endif

struct mfile {
	bool open;
	int fd;
	int vm;				/* index of its VM, which it keeps */
	uint64_t flags;
	uint64_t pages;
	char *map;			/* the whole file, or NULL */
	bool shared[MAX_PAGES];
	uint32_t word[MAX_PAGES];
};

struct mslot {
	bool used;
	int file;			/* index, -1 once the file is closed */
	uint64_t first;			/* file page of the memslot's first page */
	uint64_t pages;
	bool gmem_only;			/* its file has MMAP: the file decides all */
};

/*
 * A VM whose fd is closed lives on while a file of it is open (each holds
 * it), with its memslots still bound; its entry is reused only after.
 */
struct mvm {
	bool live;			/* its fd is open */
	int fd;
	unsigned long type;
	uint64_t gmem_flags;		/* what KVM_CAP_GUEST_MEMFD_FLAGS offers */
	int vcpu;
	struct kvm_run *run;
	void *code;			/* memslot NR_SLOTS at 0: the guest's code */
	struct mslot slot[NR_SLOTS];
};

static int kvm_fd;
static int run_size;
static struct mvm vms[NR_VMS];
static struct mfile files[NR_FILES];
static uint64_t page;
static uint64_t seed, rng;
static long step;
static const char *op = "setup";
static bool verbose;
static long counts[16];

/* xorshift64*: the same seed, the same operations. */
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static void fail(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL seed=%llu step=%ld op=%s: ", (unsigned long long)seed, step, op);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\nreplay: guestmem_fuzz -s %llu -n %ld -v\n", (unsigned long long)seed, step);
	fflush(stdout);
	exit(1);
}

static void die(const char *what)
{
	fail("%s: %s", what, strerror(errno));
}

static void say(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	printf("# %ld %s: ", step, op);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* A call that must fail with @err; @r is its return value. */
static void refused(long r, int err, const char *what)
{
	if (r != -1 || errno != err)
		fail("%s: returned %ld (%s), expected -1 and %s", what, r,
		     r == -1 ? strerror(errno) : "no error", strerror(err));
}

static void ok(long r, const char *what)
{
	if (r < 0)
		fail("%s: %s", what, strerror(errno));
}

static int pick_file(bool want_open)
{
	int i = below(NR_FILES), n;

	for (n = 0; n < NR_FILES; n++, i = (i + 1) % NR_FILES)
		if (files[i].open == want_open)
			return i;
	return -1;
}

static bool vm_kept(int v)
{
	int i;

	for (i = 0; i < NR_FILES; i++)
		if (files[i].open && files[i].vm == v)
			return true;
	return false;
}

/* A live VM, or (!@want_live) an entry free for a new one. */
static int pick_vm(bool want_live)
{
	int i = below(NR_VMS), n;

	for (n = 0; n < NR_VMS; n++, i = (i + 1) % NR_VMS)
		if (want_live ? vms[i].live : !vms[i].live && !vm_kept(i))
			return i;
	return -1;
}

/* A random page-aligned range [*first, *first + *nr) of @f, not empty. */
static void pick_range(struct mfile *f, uint64_t *first, uint64_t *nr)
{
	*first = below(f->pages);
	*nr = 1 + below(f->pages - *first);
	/* Mostly short ranges: they leave more mixed state behind. */
	if (*nr > 4 && below(4))
		*nr = 1 + below(4);
}

static long shared_pages(struct mfile *f)
{
	long n = 0;
	uint64_t i;

	for (i = 0; i < f->pages; i++)
		n += f->shared[i];
	return n;
}

/* The memslots of its VM, closed or not, that bind file @fi. */
static int bindings_of(int fi)
{
	struct mvm *m = &vms[files[fi].vm];
	int s, n = 0;

	for (s = 0; s < NR_SLOTS; s++)
		if (m->slot[s].used && m->slot[s].file == fi)
			n++;
	return n;
}

/* Page @i of mapped file @f is as the model says, seen from the host. */
static void check_host_page(struct mfile *f, uint64_t i)
{
	char *p = f->map + i * page;
	bool bus = touch_bus(p, false, 0);

	if (bus == f->shared[i])
		fail("file fd %d page %llu: host access %s, but the page is %s", f->fd,
		     (unsigned long long)i, bus ? "raised SIGBUS" : "worked",
		     f->shared[i] ? "shared" : "private");
	if (!bus && *(uint32_t *)p != f->word[i])
		fail("file fd %d page %llu: host reads %#x, expected %#x", f->fd,
		     (unsigned long long)i, *(uint32_t *)p, f->word[i]);
}

/* The fdinfo lines the model checks, read in one pass; -1 when absent. */
struct fdinfo {
	long size, pages, shared, nodm, bindings;
};

static void read_fdinfo(int fd, struct fdinfo *fdi)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "guestmem-size:", offsetof(struct fdinfo, size) },
		{ "guestmem-pages:", offsetof(struct fdinfo, pages) },
		{ "guestmem-pages-shared:", offsetof(struct fdinfo, shared) },
		{ "guestmem-pages-no-direct-map:", offsetof(struct fdinfo, nodm) },
		{ "guestmem-bindings:", offsetof(struct fdinfo, bindings) },
	};
	char path[64], line[128];
	unsigned int k;
	FILE *f;

	memset(fdi, 0xff, sizeof(*fdi));
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		die(path);
	while (fgets(line, sizeof(line), f))
		for (k = 0; k < ARRAY_SIZE(keys); k++)
			if (!strncmp(line, keys[k].key, strlen(keys[k].key)))
				*(long *)((char *)fdi + keys[k].off) =
					strtol(line + strlen(keys[k].key), NULL, 10);
	fclose(f);
}

/*
 * The file's fdinfo agrees with the model; with @sweep, so does every
 * page of its mapping (of a huge-backed file, 64 of them: its first 32 and
 * 32 chosen at random).
 */
static void check_file(int fi, bool sweep)
{
	struct mfile *f = &files[fi];
	struct fdinfo fdi;
	uint64_t i;

	read_fdinfo(f->fd, &fdi);
	if (fdi.size != (long)(f->pages * page))
		fail("file %d: fdinfo size %ld, expected %llu", fi, fdi.size,
		     (unsigned long long)(f->pages * page));
	if ((f->flags & GUEST_MEMFD_FLAG_MMAP) && fdi.shared != shared_pages(f))
		fail("file %d: fdinfo shared pages %ld, model %ld", fi, fdi.shared,
		     shared_pages(f));
	if (fdi.bindings != bindings_of(fi))
		fail("file %d: fdinfo bindings %ld, model %d", fi, fdi.bindings, bindings_of(fi));
	if (fdi.pages < 0 || fdi.pages > (long)f->pages)
		fail("file %d: fdinfo pages %ld of %llu", fi, fdi.pages,
		     (unsigned long long)f->pages);
	if ((f->flags & GUEST_MEMFD_FLAG_NO_DIRECT_MAP) && fdi.nodm != fdi.pages)
		fail("file %d: %ld pages but %ld out of the direct map", fi, fdi.pages, fdi.nodm);
	if (!sweep || !f->map)
		return;
	for (i = 0; i < f->pages && i < 64; i++)
		check_host_page(f, i < 32 || f->pages <= 64 ? i : below(f->pages));
}

static void check_all(bool sweep)
{
	int i;

	for (i = 0; i < NR_FILES; i++)
		if (files[i].open)
			check_file(i, sweep);
}

/* ------------------------------------------------------------------ */

static void vm_create(void)
{
	int v = pick_vm(false);
	struct mvm *m;
	unsigned long type = 0;
	int types;

	if (v < 0)
		return;
	m = &vms[v];
	types = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
	if (PRIVATE_VM && types > 0 && (types & (1 << PRIVATE_VM)) && below(3))
		type = PRIVATE_VM;
	m->fd = ioctl(kvm_fd, KVM_CREATE_VM, type);
	ok(m->fd, "KVM_CREATE_VM");
	m->type = type;
	m->gmem_flags = gmu_gmem_flags(m->fd);
	m->live = true;
	memset(m->slot, 0, sizeof(m->slot));
	m->vcpu = -1;
#ifdef __x86_64__
	m->code = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (m->code == MAP_FAILED)
		die("mmap guest code");
	memcpy(m->code, gmu_x86_rm_code, sizeof(gmu_x86_rm_code));
	ok(gmu_set_region(m->fd, NR_SLOTS, 0, 0, 0x10000, m->code, 0, 0), "code memslot");
	m->vcpu = gmu_create_vcpu(kvm_fd, m->fd, 0, &m->run, die);
#endif
	say("VM %d type %lu, gmem flags %#llx", v, type, (unsigned long long)m->gmem_flags);
}

static void vm_destroy(void)
{
	int v = pick_vm(true);
	struct mvm *m;

	if (v < 0)
		return;
	m = &vms[v];
	if (m->vcpu >= 0) {
		ok(munmap(m->run, run_size), "munmap kvm_run");
		ok(close(m->vcpu), "close vCPU");
		ok(munmap(m->code, 0x10000), "munmap guest code");
	}
	ok(close(m->fd), "close VM");
	m->live = false;
	/*
	 * Its files keep it, and it keeps its memslots, until the last of
	 * them is closed; no other VM can bind them.
	 */
	say("VM %d%s", v, vm_kept(v) ? ", kept by its files" : "");
}

static void file_create(void)
{
	static const uint64_t kinds[] = {
		GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED,
		GUEST_MEMFD_FLAG_MMAP,
		GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED |
			GUEST_MEMFD_FLAG_NO_DIRECT_MAP,
		GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED |
			GUEST_MEMFD_FLAG_HUGEPAGE,
		0,
	};
	int fi = pick_file(false), v = pick_vm(true);
	struct mfile *f;
	uint64_t flags, i;

	if (fi < 0 || v < 0)
		return;
	f = &files[fi];
	flags = kinds[below(ARRAY_SIZE(kinds))];
	if ((flags & vms[v].gmem_flags) != flags)
		flags &= GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;
	if ((flags & vms[v].gmem_flags) != flags)
		flags = 0;
	f->pages = flags & GUEST_MEMFD_FLAG_HUGEPAGE ? HUGE_PAGES : SMALL_PAGES;
	f->fd = gmu_create_gmem(vms[v].fd, f->pages * page, flags);
	ok(f->fd, "KVM_CREATE_GUEST_MEMFD");
	f->open = true;
	f->vm = v;
	f->flags = flags;
	f->map = NULL;
	for (i = 0; i < f->pages; i++) {
		/* Without MMAP every page is private. */
		f->shared[i] = flags & GUEST_MEMFD_FLAG_INIT_SHARED;
		f->word[i] = 0;
	}
	say("file %d on VM %d, flags %#llx", fi, v, (unsigned long long)flags);
}

static void file_close(void)
{
	int fi = pick_file(true), v, s;
	struct mfile *f;

	if (fi < 0)
		return;
	f = &files[fi];
	if (f->map)
		ok(munmap(f->map, f->pages * page), "munmap");
	ok(close(f->fd), "close");
	f->open = false;
	/* Its memslots stay, detached: the guest's access to them fails. */
	for (v = 0; v < NR_VMS; v++)
		for (s = 0; s < NR_SLOTS; s++)
			if (vms[v].slot[s].used && vms[v].slot[s].file == fi)
				vms[v].slot[s].file = -1;
	say("file %d", fi);
}

static void file_fallocate(bool punch)
{
	int fi = pick_file(true);
	uint64_t first, nr, i;
	struct mfile *f;
	int mode = FALLOC_FL_KEEP_SIZE | (punch ? FALLOC_FL_PUNCH_HOLE : 0);

	if (fi < 0)
		return;
	f = &files[fi];
	pick_range(f, &first, &nr);
	say("file %d pages %llu+%llu", fi, (unsigned long long)first, (unsigned long long)nr);
	ok(fallocate(f->fd, mode, first * page, nr * page), punch ? "punch hole" : "fallocate");
	if (punch)
		for (i = first; i < first + nr; i++)
			f->word[i] = 0;
	if (f->map)
		for (i = first; i < first + nr; i++)
			check_host_page(f, i);
}

static void do_fallocate(void)
{
	file_fallocate(false);
}

static void do_punch(void)
{
	file_fallocate(true);
}

static void file_map(void)
{
	int fi = pick_file(true);
	struct mfile *f;
	void *m;

	if (fi < 0)
		return;
	f = &files[fi];
	if (f->map) {
		ok(munmap(f->map, f->pages * page), "munmap");
		f->map = NULL;
		say("file %d unmapped", fi);
		return;
	}
	m = mmap(NULL, f->pages * page, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
	if (!(f->flags & GUEST_MEMFD_FLAG_MMAP)) {
		refused(m == MAP_FAILED ? -1 : 0, ENODEV, "mmap without MMAP");
		return;
	}
	if (m == MAP_FAILED)
		die("mmap");
	f->map = m;
	say("file %d mapped", fi);
}

static void host_touch(void)
{
	int fi = pick_file(true);
	struct mfile *f;
	uint64_t i;
	uint32_t w;

	if (fi < 0 || !files[fi].map)
		return;
	f = &files[fi];
	i = below(f->pages);
	check_host_page(f, i);
	if (f->shared[i] && below(2)) {
		w = (uint32_t)rnd() | 1;
		*(uint32_t *)(f->map + i * page) = w;
		f->word[i] = w;
		say("file %d page %llu := %#x", fi, (unsigned long long)i, w);
	}
}

static void file_convert(void)
{
	int fi = pick_file(true);
	bool to_private = below(2), zero = !below(4);
	uint64_t first, nr, i, err_off = 0;
	struct kvm_memory_attributes2 a = { 0 };
	struct mfile *f;
	int r;

	if (fi < 0)
		return;
	f = &files[fi];
	pick_range(f, &first, &nr);
	a.offset = first * page;
	a.size = nr * page;
	a.attributes = to_private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0;
	a.flags = zero ? KVM_SET_MEMORY_ATTRIBUTES2_ZERO : 0;
	r = ioctl(f->fd, KVM_SET_MEMORY_ATTRIBUTES2, &a);
	err_off = a.error_offset;
	say("file %d pages %llu+%llu to %s%s", fi, (unsigned long long)first,
	    (unsigned long long)nr, to_private ? "private" : "shared", zero ? ", zero" : "");
	if (!(f->flags & GUEST_MEMFD_FLAG_MMAP)) {
		refused(r, EINVAL, "conversion without MMAP");
		return;
	}
	if (r)
		fail("conversion: %s (error_offset %#llx)", strerror(errno),
		     (unsigned long long)err_off);
	for (i = first; i < first + nr; i++) {
		f->shared[i] = !to_private;
		if (zero)
			f->word[i] = 0;
	}
	if (f->map)
		for (i = first; i < first + nr; i++)
			check_host_page(f, i);
}

static void slot_add(void)
{
	int v = pick_vm(true), fi = pick_file(true), s, s2;
	uint64_t first, nr;
	struct mfile *f;
	int r, want = 0;

	if (v < 0 || fi < 0)
		return;
	for (s = 0; s < NR_SLOTS && vms[v].slot[s].used; s++)
		;
	if (s == NR_SLOTS)
		return;
	f = &files[fi];
	pick_range(f, &first, &nr);
	r = gmu_set_region(vms[v].fd, s, KVM_MEM_GUEST_MEMFD, SLOT_GPA(s), nr * page, NULL,
			   f->fd, first * page);
	say("VM %d slot %d: file %d pages %llu+%llu", v, s, fi, (unsigned long long)first,
	    (unsigned long long)nr);
	/*
	 * A file binds to its own VM only, and a VM without private memory
	 * binds only files with MMAP (gmem-only memslots).
	 */
	if (f->vm != v || (!(PRIVATE_VM && vms[v].type == PRIVATE_VM) &&
			   !(f->flags & GUEST_MEMFD_FLAG_MMAP))) {
		want = EINVAL;
	} else {
		for (s2 = 0; s2 < NR_SLOTS; s2++) {
			struct mslot *o = &vms[v].slot[s2];

			if (o->used && o->file == fi &&
			    o->first < first + nr && first < o->first + o->pages)
				want = EEXIST;
		}
	}
	if (want) {
		refused(r, want, "memslot add");
		return;
	}
	ok(r, "memslot add");
	vms[v].slot[s] = (struct mslot){
		.used = true,
		.file = fi,
		.first = first,
		.pages = nr,
		.gmem_only = f->flags & GUEST_MEMFD_FLAG_MMAP,
	};
}

static void slot_remove(void)
{
	int v = pick_vm(true), s;

	if (v < 0)
		return;
	s = below(NR_SLOTS);
	say("VM %d slot %d", v, s);
	if (!vms[v].slot[s].used) {
		refused(gmu_delete_region(vms[v].fd, s), EINVAL, "delete of no memslot");
		return;
	}
	ok(gmu_delete_region(vms[v].fd, s), "memslot delete");
	vms[v].slot[s].used = false;
}

#ifdef __x86_64__
static void guest_access(void)
{
	int v = pick_vm(true), s;
	struct mslot *sl;
	struct mfile *f;
	uint64_t i;
	uint32_t w = (uint32_t)rnd() | 2, got = 0;
	bool store = below(2);
	int r;

	if (v < 0)
		return;
	s = below(NR_SLOTS);
	sl = &vms[v].slot[s];
	if (!sl->used)
		return;
	i = below(sl->pages);
	/*
	 * Without MMAP, the VM's attributes say which pages are private, and
	 * shared ones are the memslot's userspace_addr (none here): only
	 * gmem-only memslots, whose file decides, are accessed.
	 */
	if (!sl->gmem_only)
		return;
	r = gmu_x86_run(vms[v].vcpu, vms[v].run, store ? GMU_X86_STORE : GMU_X86_LOAD,
			SLOT_GPA(s) + i * page, w, &got);
	say("VM %d slot %d page %llu %s %#x", v, s, (unsigned long long)i,
	    store ? "store" : "load", store ? w : got);
	if (sl->file < 0) {
		refused(r, EFAULT, "guest access to a closed file");
		if (vms[v].run->exit_reason != KVM_EXIT_MEMORY_FAULT ||
		    vms[v].run->memory_fault.gpa != SLOT_GPA(s) + i * page)
			fail("closed file: exit %u gpa %#llx", vms[v].run->exit_reason,
			     (unsigned long long)vms[v].run->memory_fault.gpa);
		return;
	}
	f = &files[sl->file];
	ok(r, "guest access");
	if (store)
		f->word[sl->first + i] = w;
	else if (got != f->word[sl->first + i])
		fail("guest reads %#x at page %llu of file %d, expected %#x", got,
		     (unsigned long long)(sl->first + i), sl->file, f->word[sl->first + i]);
	if (f->map)
		check_host_page(f, sl->first + i);
}
#else
/* The guest above is x86's; elsewhere the host side is fuzzed alone. */
static void guest_access(void)
{
}
#endif

/*
 * A child reads a page of each mapped file (shared: the word, private:
 * SIGBUS) and writes a new word into one shared page; the parent then sees
 * that word.  The child uses no KVM file descriptor.
 */
static void fork_child(void)
{
	int fi = pick_file(true), st;
	uint32_t w = (uint32_t)rnd() | 4;
	struct mfile *f;
	uint64_t i;
	pid_t pid;

	if (fi < 0 || !files[fi].map)
		return;
	f = &files[fi];
	i = below(f->pages);
	say("file %d page %llu, child writes %#x if shared", fi, (unsigned long long)i, w);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		char *p = f->map + i * page;
		bool bus = touch_bus(p, false, 0);

		if (bus == f->shared[i])
			_exit(10);
		if (!bus && *(uint32_t *)p != f->word[i])
			_exit(11);
		if (!bus)
			*(uint32_t *)p = w;
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid)
		die("waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail("child: %s %d on page %llu (%s)",
		     WIFEXITED(st) ? "exit" : "signal",
		     WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), (unsigned long long)i,
		     f->shared[i] ? "shared" : "private");
	if (f->shared[i])
		f->word[i] = w;
	check_host_page(f, i);
}

/* Calls that must be refused, with the errno of the uAPI. */
static void refusals(void)
{
	int fi = pick_file(true);
	struct mfile *f;
	char buf[8];

	if (fi < 0)
		return;
	f = &files[fi];
	switch (below(5)) {
	case 0:
		op = "refused: fallocate past the end";
		refused(fallocate(f->fd, FALLOC_FL_KEEP_SIZE, f->pages * page, page), EINVAL, op);
		break;
	case 1:
		op = "refused: fallocate without KEEP_SIZE";
		refused(fallocate(f->fd, 0, 0, page), EOPNOTSUPP, op);
		break;
	case 2:
		op = "refused: conversion past the end";
		if (f->flags & GUEST_MEMFD_FLAG_MMAP) {
			struct kvm_memory_attributes2 a = {
				.offset = (f->pages - 1) * page,
				.size = 2 * page,
			};

			refused(ioctl(f->fd, KVM_SET_MEMORY_ATTRIBUTES2, &a), EINVAL, op);
		}
		break;
	case 3:
		op = "refused: read";
		refused(read(f->fd, buf, sizeof(buf)), EINVAL, op);
		break;
	default:
		op = "refused: private mapping";
		if (f->flags & GUEST_MEMFD_FLAG_MMAP) {
			void *m = mmap(NULL, page, PROT_READ, MAP_PRIVATE, f->fd, 0);

			refused(m == MAP_FAILED ? -1 : 0, EINVAL, op);
		}
		break;
	}
	say("file %d", fi);
}

static const struct {
	const char *name;
	void (*fn)(void);
	int weight;
} ops[] = {
	{ "vm_create",		vm_create,	2 },
	{ "vm_destroy",		vm_destroy,	1 },
	{ "file_create",	file_create,	4 },
	{ "file_close",		file_close,	2 },
	{ "fallocate",		do_fallocate,	5 },
	{ "punch_hole",		do_punch,	4 },
	{ "mmap_munmap",	file_map,	5 },
	{ "host_touch",		host_touch,	12 },
	{ "convert",		file_convert,	12 },
	{ "memslot_add",	slot_add,	5 },
	{ "memslot_remove",	slot_remove,	3 },
	{ "guest_access",	guest_access,	12 },
	{ "fork",		fork_child,	2 },
	{ "refused",		refusals,	3 },
};

#define NR_OPS	ARRAY_SIZE(ops)

int main(int argc, char **argv)
{
	long steps = DEFAULT_STEPS;
	int total = 0, c, w;
	unsigned int i;

	seed = DEFAULT_SEED;
	while ((c = getopt(argc, argv, "s:n:v")) != -1) {
		switch (c) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			steps = strtol(optarg, NULL, 0);
			break;
		case 'v':
			verbose = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-s SEED] [-n STEPS] [-v]\n", argv[0]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	rng = seed ? seed : 1;
	page = sysconf(_SC_PAGESIZE);

	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0 || ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD) <= 0) {
		printf("SKIP: no /dev/kvm or no guest_memfd\n");
		return KSFT_SKIP;
	}
	run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	printf("guestmem_fuzz: seed %llu, %ld steps\n", (unsigned long long)seed, steps);

	for (i = 0; i < NR_OPS; i++)
		total += ops[i].weight;
	for (step = 1; step <= steps; step++) {
		w = below(total);
		for (i = 0; w >= ops[i].weight; i++)
			w -= ops[i].weight;
		op = ops[i].name;
		ops[i].fn();
		counts[i]++;
		check_all(!(step % SWEEP_EVERY));
	}
	op = "final sweep";
	check_all(true);

	printf("ok seed=%llu steps=%ld:", (unsigned long long)seed, steps);
	for (i = 0; i < NR_OPS; i++)
		printf(" %s=%ld", ops[i].name, counts[i]);
	printf("\n");
	return 0;
}
