# SPDX-License-Identifier: GPL-2.0
#
# plan.sh: sourced by harness/test.sh and harness/stress.sh, after lib.sh.
# Timed phases, harness failures that count as failed tests, and the
# booting of a test plan with resumption after a hang.  The caller sets
# "logs" (the log directory) and "counts" (the file of "passed failed
# skipped" lines), then calls plan_start.

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

# The opening of a run: an empty counts file, the start time, then the
# packages and the kernel tree, as phases so that a cold run shows where
# its time went.
plan_start() {
	mkdir -p "$logs"
	: > "$counts"
	t_start=$(now)
	phase "deps (apt-get)" "$TOP/harness/deps.sh" || die "could not install the packages"
	phase "source tree" "$TOP/harness/prepare-tree.sh" || die "could not prepare the kernel tree"
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

# parse_boot LABEL LOG SUITES...: judge one boot's console log, adding its
# counts; SUITES are the KUnit suites that must report.
parse_boot() {
	local label=$1 logf=$2
	shift 2
	python3 "$TOP/harness/parse.py" --label "$label" --counts "$counts" "$@" \
		"$logf" || true
	log "$label console log: $logf"
}

# closing_line: the phase timings and "N passed, N failed, N skipped";
# fails when anything failed.
closing_line() {
	local p f s
	printf '\nphase timings:\n%b%-32s %4ss\n\n' "$phases" total $(($(now) - t_start))
	read -r p f s < <(awk '{ p += $1; f += $2; s += $3 } END { print p+0, f+0, s+0 }' "$counts")
	echo "$p passed, $f failed, $s skipped"
	[ "$f" = 0 ]
}
