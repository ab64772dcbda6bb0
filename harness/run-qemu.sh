#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-qemu.sh ARCH KERNEL-IMAGE INITRAMFS LOG TIMEOUT [EXTRA-CMDLINE]
# Boot one kernel under QEMU TCG, console to LOG (and to stdout when
# SHOW is set to a grep -E pattern: matching lines are shown live).
# QEMU is killed after TIMEOUT seconds; harness/parse.py then sees no
# end-of-plan marker and reports the hang.

. "$(dirname "$0")/lib.sh"

arch=$1 kernel=$2 initrd=$3 logf=$4 tmo=$5 extra=${6:-}
arch_setup "$arch"
case "$arch" in
x86_64)
	machine="-M q35 -cpu max"
	console=ttyS0 ;;
arm64)
	machine="-M virt,virtualization=on,gic-version=3 -cpu max"
	console=ttyAMA0 ;;
esac
cmdline="console=$console loglevel=5 panic=-1 $extra"

mkdir -p "$(dirname "$logf")"
set +e
# shellcheck disable=SC2086
timeout -k 10 "$tmo" $QEMU $machine -accel tcg,thread=multi -smp 2 -m 2G \
	-display none -monitor none -serial stdio -no-reboot \
	-kernel "$kernel" -initrd "$initrd" -append "$cmdline" \
	</dev/null 2>&1 | tee "$logf" | {
		if [ -n "${SHOW:-}" ]; then
			grep --line-buffered -E "$SHOW" || true
		else
			cat >/dev/null
		fi
	}
st=${PIPESTATUS[0]}
set -e
if [ "$st" = 124 ] || [ "$st" = 137 ]; then
	log "QEMU killed after ${tmo}s (timeout)"
fi
exit 0
