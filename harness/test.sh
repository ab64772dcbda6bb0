#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test.sh [ARCH...]: the whole suite (default: x86_64 arm64).
# Per architecture: build the test kernel and the selftests, boot the plan
# under QEMU, judge the console log with harness/parse.py.  Before that,
# the parser is tested against recorded logs.  Ends with one line
# "N passed, N failed, N skipped" and exits non-zero on any failure.

. "$(dirname "$0")/lib.sh"

arches=${*:-x86_64 arm64}
logs=$BUILD/logs
counts=$BUILD/logs/counts
. "$TOP/harness/plan.sh"
plan_start

# test-parser.sh adds its own counts, failures included.
phase "parser self-test" "$TOP/harness/test-parser.sh" "$counts" || true

for arch in $arches; do
	if ! phase "$arch: kernel" "$TOP/harness/build-kernel.sh" guestmem "$arch" test >/dev/null; then
		harness_fail "$arch" "kernel build failed"
		continue
	fi
	if ! phase "$arch: selftests" "$TOP/harness/build-selftests.sh" "$arch"; then
		harness_fail "$arch" "selftest build failed"
		continue
	fi
	if ! phase "$arch: demo" "$TOP/harness/build-demo.sh" "$arch"; then
		harness_fail "$arch" "demo build failed"
		continue
	fi
	initrd=$BUILD/obj/initramfs-$arch-test.cpio
	if ! phase "$arch: initramfs" "$TOP/harness/mkinitramfs.sh" "$arch" test "$initrd"; then
		harness_fail "$arch" "initramfs failed"
		continue
	fi
	arch_setup "$arch"
	obj=$(obj_dir guestmem "$arch" test)
	# All boots of this architecture share one limit: every entry's
	# timeout, capped so that hangs cannot hold CI for long; what did
	# not run then shows as failed.
	budget=$(awk -F'\t' '{ s += $2 } END { print s + 120 }' "$initrd.plan")
	cap=${BOOT_TIMEOUT_CAP:-1200}
	[ "$budget" -le "$cap" ] || budget=$cap
	suites=$(awk -v a="$arch" '!/^#/ && NF && (NF == 1 || $2 == a) {
		printf "--kunit-suite %s ", $1 }' "$TOP/harness/kunit-suites")
	# arm64 runs the whole plan once per KVM mode: nVHE, and protected
	# (pKVM), each a label of its own.  x86_64 runs it once, then boots
	# again without debug_pagealloc for KUnit only: debug_pagealloc maps
	# the direct map with 4 KiB entries, so only that boot can check
	# that a huge folio leaves and returns as one 2 MiB entry.
	case "$arch" in
	x86_64) variants="- nodpa" ;;
	arm64) variants=${ARM64_KVM_MODES:-nvhe protected} ;;
	*) variants=- ;;
	esac
	for v in $variants; do
		label=$arch extra='' limit=$budget
		case "$v" in
		-) ;;
		# KUnit runs before /init: a hang there has no plan entry for
		# the host's watchdog to time, only this limit.
		nodpa) label=$arch-nodpa extra="debug_pagealloc=off gmkunitonly" limit=300 ;;
		*) label=$arch-$v extra="kvm-arm.mode=$v" ;;
		esac
		boot_plan "$arch" "$obj/$KIMAGE" "$initrd" "$logs/$label-test.log" \
			"$limit" "$extra"
		# shellcheck disable=SC2086
		parse_boot "$label" "$logs/$label-test.log" $suites
	done
done

closing_line
