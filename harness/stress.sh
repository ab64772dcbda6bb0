#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# stress.sh: `make stress`.  Builds the x86_64 stress kernel (the test
# flavour plus KASAN, UBSAN, KFENCE and kmemleak: configs/stress.config)
# and boots it once with the guestmem KUnit suites, our selftests, the
# upstream guest_memfd and private-memory KVM selftests (the lines marked
# "stress" in harness/kvm-selftests.conf) and the long runs of our tests
# that `make test` runs short.  The plan starts with harness/sanitizers,
# which fails unless every checker is live, and ends with
# harness/kmemleak-scan.  Any KASAN, UBSAN or KFENCE report in the log is
# a failure (harness/parse.py).
#
# The boot has debug_pagealloc=off: KASAN finds what DEBUG_PAGEALLOC
# would (an access to a freed page), and without it the direct map keeps
# its 2 MiB and 1 GiB entries, so removing a page from it must split one
# and allocate a page table: an allocation the fault-injection tests can
# then fail.
#
# Environment: STRESS_TIMEOUT_SCALE (default 4) multiplies each plan
# entry's timeout; BOOT_TIMEOUT_CAP (default 3600 s) caps the boot.
# Ends with "N passed, N failed, N skipped" and exits non-zero on any
# failure, like harness/test.sh.

. "$(dirname "$0")/lib.sh"

arch=x86_64
logs=$BUILD/logs
counts=$BUILD/logs/counts-stress
. "$TOP/harness/plan.sh"
plan_start

initrd=$BUILD/obj/initramfs-$arch-stress.cpio
run_stress() {
	phase "$arch: stress kernel" "$TOP/harness/build-kernel.sh" guestmem "$arch" stress >/dev/null ||
		{ harness_fail "$arch-stress" "kernel build failed"; return; }
	phase "$arch: selftests" "$TOP/harness/build-selftests.sh" "$arch" ||
		{ harness_fail "$arch-stress" "selftest build failed"; return; }
	phase "$arch: initramfs" env FLAVOUR=stress TIMEOUT_SCALE="${STRESS_TIMEOUT_SCALE:-4}" \
		"$TOP/harness/mkinitramfs.sh" "$arch" stress "$initrd" ||
		{ harness_fail "$arch-stress" "initramfs failed"; return; }
	arch_setup "$arch"
	local obj budget cap suites
	obj=$(obj_dir guestmem "$arch" stress)
	budget=$(awk -F'\t' '{ s += $2 } END { print s + 300 }' "$initrd.plan")
	cap=${BOOT_TIMEOUT_CAP:-3600}
	[ "$budget" -le "$cap" ] || budget=$cap
	suites=$(awk -v a="$arch" '!/^#/ && NF && (NF == 1 || $2 == a) {
		printf "--kunit-suite %s ", $1 }' "$TOP/harness/kunit-suites")
	boot_plan "$arch" "$obj/$KIMAGE" "$initrd" "$logs/$arch-stress-test.log" \
		"$budget" "debug_pagealloc=off"
	# shellcheck disable=SC2086
	parse_boot "$arch-stress" "$logs/$arch-stress-test.log" $suites
}
run_stress
closing_line
