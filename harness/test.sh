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
mkdir -p "$logs"
: > "$counts"
t_start=$(now)
phases=

phase() {
	local name=$1 t0 rc=0
	shift
	t0=$(now)
	log "== $name"
	"$@" || rc=$?
	phases="$phases$(printf '%-32s %4ss' "$name" $(($(now) - t0)))\n"
	return $rc
}

# Failures of the harness itself (a build that breaks, a missing tool)
# count as failed tests, so the closing line never hides them.
harness_fail() {
	printf 'FAIL  %s  %s\n' "$1" "$2"
	echo "0 1 0" >> "$counts"
}

# boot_plan ARCH KERNEL INITRD LOG BUDGET [CMDLINE]: boot and run the plan.  When
# a plan entry hangs the guest or kills its kernel, the watchdog of
# run-qemu.sh stops QEMU and the next boot resumes after that entry
# (gmfrom=N), up to MAX_BOOTS boots within BUDGET seconds.  LOG gets the
# console of every boot, separated by host markers parse.py knows.
boot_plan() {
	local arch=$1 kernel=$2 initrd=$3 logf=$4 budget=$5 extra=${6:-}
	local deadline=$(($(now) + budget)) boot=1 from=1 hung total seg label
	label=$(basename "$logf" -test.log)
	total=$(grep -c . "$initrd.plan")
	: > "$logf"
	while :; do
		seg=$logf.boot$boot
		phase "$label: boot $boot + tests" "$TOP/harness/run-qemu.sh" "$arch" \
			"$kernel" "$initrd" "$seg" $((deadline - $(now))) \
			"$extra$([ "$from" = 1 ] || echo " gmfrom=$from")"
		[ "$boot" = 1 ] ||
			echo "GUESTMEM-HARNESS-HOST: boot $boot resumes the plan at entry $from" >> "$logf"
		cat "$seg" >> "$logf"
		# The entry that was running when the boot ended, if any.
		hung=$(cat "$seg.running" 2>/dev/null || true)
		rm -f "$seg" "$seg.running"
		[ -n "$hung" ] || return 0
		log "$label: plan entry $hung did not finish; resuming after it"
		from=$((hung + 1))
		boot=$((boot + 1))
		[ "$from" -le "$total" ] && [ "$boot" -le "${MAX_BOOTS:-4}" ] &&
			[ $((deadline - $(now))) -gt 60 ] || return 0
	done
}

# Installing what is missing and laying out the tree are phases too, so a
# cold run shows where its time went.
phase "deps (apt-get)" "$TOP/harness/deps.sh" || die "could not install the packages"
phase "source tree" "$TOP/harness/prepare-tree.sh" || die "could not prepare the kernel tree"

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
		python3 "$TOP/harness/parse.py" --label "$label" --counts "$counts" $suites \
			"$logs/$label-test.log" || true
		log "$label console log: $logs/$label-test.log"
	done
done

printf '\nphase timings:\n%b%-32s %4ss\n\n' "$phases" total $(($(now) - t_start))
read -r p f s < <(awk '{ p += $1; f += $2; s += $3 } END { print p+0, f+0, s+0 }' "$counts")
echo "$p passed, $f failed, $s skipped"
[ "$f" = 0 ]
