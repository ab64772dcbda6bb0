#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-qemu.sh ARCH KERNEL-IMAGE INITRAMFS LOG TIMEOUT [EXTRA-CMDLINE]
# Boot one kernel under QEMU TCG, console to LOG (and to stdout when
# SHOW is set to a grep -E pattern: matching lines are shown live).
#
# Two limits stop QEMU:
#  - the whole boot gets TIMEOUT seconds;
#  - a watchdog reads the console: when a plan entry ("# RUN N NAME
#    (timeout Ts)") has no result T + GRACE seconds after it started, the
#    guest's own per-test timeout has not fired, so the guest is hung.
# Either way harness/parse.py then sees no end-of-plan marker and reports
# the hang; harness/test.sh may boot again and resume after that entry,
# whose number LOG.running holds (empty when no entry was left running).

. "$(dirname "$0")/lib.sh"

arch=$1 kernel=$2 initrd=$3 logf=$4 tmo=$5 extra=${6:-}
grace=${WATCHDOG_GRACE:-60}
arch_setup "$arch"
case "$arch" in
x86_64)
	# Two NUMA nodes of 1 GiB, one CPU each: the placement selftests.
	# One socket per node, or the scheduler warns that the CPUs share a
	# cache across nodes.
	machine="-M q35 -cpu max
		-object memory-backend-ram,id=m0,size=1G
		-object memory-backend-ram,id=m1,size=1G
		-numa node,nodeid=0,cpus=0,memdev=m0
		-numa node,nodeid=1,cpus=1,memdev=m1"
	smp=2,sockets=2,cores=1,threads=1
	console=ttyS0 ;;
arm64)
	machine="-M virt,virtualization=on,gic-version=3 -cpu max"
	smp=2
	console=ttyAMA0 ;;
esac
cmdline="console=$console loglevel=5 panic=-1 $extra"

mkdir -p "$(dirname "$logf")"
: > "$logf"
# shellcheck disable=SC2086
$QEMU $machine -accel tcg,thread=multi -smp $smp -m 2G \
	-display none -monitor none -serial stdio -no-reboot \
	-kernel "$kernel" -initrd "$initrd" -append "$cmdline" \
	</dev/null >>"$logf" 2>&1 &
qpid=$!
if [ -n "${SHOW:-}" ]; then
	tail -n +1 -f --pid=$qpid "$logf" | grep --line-buffered -E "$SHOW" &
fi

# The plan entry running now: the last RUN line, unless a result follows.
running_entry() {
	tr -d '\r' < "$logf" | awk '/^# RUN [0-9]+ / { r = $0; next }
		/^(not )?ok [0-9]+ / { r = "" }
		END { print r }'
}

t0=$(now)
cur="" since=0 why=""
while kill -0 $qpid 2>/dev/null; do
	sleep 2
	if [ $(($(now) - t0)) -ge "$tmo" ]; then
		why="the boot's limit of ${tmo}s"
		break
	fi
	run=$(running_entry)
	if [ "$run" != "$cur" ]; then
		cur=$run
		since=$(now)
	fi
	[ -n "$cur" ] || continue
	lim=$(sed -n 's/.*(timeout \([0-9]*\)s).*/\1/p' <<<"$cur")
	if [ $(($(now) - since)) -gt $((${lim:-0} + grace)) ]; then
		why="watchdog: no result ${grace}s past the test's own limit (${cur#\# })"
		break
	fi
done
if [ -n "$why" ]; then
	kill "$qpid" 2>/dev/null || true
	for _ in 1 2 3 4 5; do
		kill -0 "$qpid" 2>/dev/null || break
		sleep 1
	done
	kill -9 "$qpid" 2>/dev/null || true
	log "QEMU killed: $why"
fi
wait "$qpid" 2>/dev/null || true
# Let the live view drain.
wait 2>/dev/null || true
# For harness/test.sh: the number of the entry that had no result when
# the boot ended (hung or killed its kernel), empty if none.
running_entry | awk '{ print $3 }' > "$logf.running"
exit 0
