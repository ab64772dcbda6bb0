#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh [ARCH]: build the kernel of ARCH (x86_64 by default) if needed,
# boot it and show the demo: on x86_64 a KVM guest running on private
# guest_memfd memory, on arm64 a protected VM (the host in
# kvm-arm.mode=protected) sharing a page with its VMM and taking it back.

. "$(dirname "$0")/lib.sh"

arch=${1:-x86_64}
extra=
[ "$arch" = arm64 ] && extra=kvm-arm.mode=protected
arch_setup $arch
t0=$(now)
"$TOP/harness/build-kernel.sh" guestmem $arch test >/dev/null
"$TOP/harness/build-demo.sh" $arch
initrd=$BUILD/obj/initramfs-$arch-run.cpio
"$TOP/harness/mkinitramfs.sh" $arch run "$initrd"
log "booting $arch under QEMU (console log: build/logs/$arch-run.log)"
SHOW='^ *demo:|GUESTMEM-HARNESS: (BOOTED|MODULE)|^(not )?ok [0-9]+ demo/' "$TOP/harness/run-qemu.sh" $arch \
	"$(obj_dir guestmem $arch test)/$KIMAGE" "$initrd" "$BUILD/logs/$arch-run.log" 300 "$extra"
rc=0
python3 "$TOP/harness/parse.py" --quiet --label $arch "$BUILD/logs/$arch-run.log" || rc=$?
if [ $rc = 0 ]; then
	log "demo passed; kernel clean ($(($(now) - t0)) s)"
else
	log "demo FAILED (see above and build/logs/$arch-run.log)"
fi
exit $rc
