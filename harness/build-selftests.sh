#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-selftests.sh ARCH: build, statically, the upstream KVM selftests of
# our tree and tools/testing/selftests/guestmem when it exists, against the
# uAPI headers of our kernel (headers_install into the build directory: an
# in-tree "make headers" would break the O= builds).

. "$(dirname "$0")/lib.sh"

arch=$1
arch_setup "$arch"
src=$(tree_dir guestmem)
obj=$(obj_dir guestmem "$arch" test)
hdr=$BUILD/obj/headers-$arch
out=$BUILD/obj/selftests-$arch
[ -f "$obj/.config" ] || die "build the $arch kernel first"

kmake "$obj" "$src" headers_install INSTALL_HDR_PATH="$hdr" >/dev/null
mkdir -p "$out/kvm"
log "building KVM selftests for $arch"
make -s -C "$src/tools/testing/selftests/kvm" OUTPUT="$out/kvm" \
	ARCH="$SARCH" CROSS_COMPILE="$CROSS" LDFLAGS=-static \
	KHDR_INCLUDES="-isystem $hdr/include" -j"$JOBS" all >&2
if [ -f "$src/tools/testing/selftests/guestmem/Makefile" ]; then
	mkdir -p "$out/guestmem"
	log "building guestmem selftests for $arch"
	make -s -C "$src/tools/testing/selftests/guestmem" OUTPUT="$out/guestmem" \
		ARCH="$SARCH" CROSS_COMPILE="$CROSS" LDFLAGS=-static \
		KHDR_INCLUDES="-isystem $hdr/include" -j"$JOBS" all >&2
fi
