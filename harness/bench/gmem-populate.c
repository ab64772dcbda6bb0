// SPDX-License-Identifier: GPL-2.0
/*
 * gmem-populate: time fallocate() population and PUNCH_HOLE release of a
 * 256 MiB guest_memfd of a software-protected VM.  Prints
 *   BENCH <name> <median> <unit>
 * lines for harness/bench.sh, which runs the same binary on the stock and
 * on our kernel in one invocation and prints the ratios.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/kvm.h>

#define SIZE	(256ul << 20)
#define ROUNDS	7

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return v[n / 2];
}

int main(void)
{
	struct kvm_create_guest_memfd gmem = { .size = SIZE };
	double pop[ROUNDS], punch[ROUNDS], t;
	int kvm, vm, fd, i;

	kvm = open("/dev/kvm", O_RDWR);
	if (kvm < 0) {
		perror("open /dev/kvm");
		return 1;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, KVM_X86_SW_PROTECTED_VM);
	if (vm < 0) {
		perror("KVM_CREATE_VM");
		return 1;
	}
	fd = ioctl(vm, KVM_CREATE_GUEST_MEMFD, &gmem);
	if (fd < 0) {
		perror("KVM_CREATE_GUEST_MEMFD");
		return 1;
	}
	for (i = 0; i < ROUNDS; i++) {
		t = now_ms();
		if (fallocate(fd, 0, 0, SIZE)) {
			perror("fallocate");
			return 1;
		}
		pop[i] = now_ms() - t;
		t = now_ms();
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, SIZE)) {
			perror("fallocate(PUNCH_HOLE)");
			return 1;
		}
		punch[i] = now_ms() - t;
	}
	printf("BENCH gmem_populate_256MiB %.2f ms\n", median(pop, ROUNDS));
	printf("BENCH gmem_punch_hole_256MiB %.2f ms\n", median(punch, ROUNDS));
	return 0;
}
