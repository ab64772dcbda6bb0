#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-demo.sh ARCH: build the demo VMM of ARCH (harness/demo/) statically
# against our kernel's uAPI headers, as build/obj/demo-ARCH/gmem-demo:
# gmem-demo.c on x86_64 (a software-protected VM), pkvm-demo.c on arm64
# (a protected VM, for a host in kvm-arm.mode=protected).

. "$(dirname "$0")/lib.sh"

arch=$1
arch_setup "$arch"
case "$arch" in
x86_64) demo=gmem-demo.c ;;
arm64) demo=pkvm-demo.c ;;
*) exit 0 ;;
esac
src=$(tree_dir guestmem)
obj=$(obj_dir guestmem "$arch" test)
hdr=$BUILD/obj/headers-$arch
out=$BUILD/obj/demo-$arch
mkdir -p "$out"
# Installed each time (a few seconds): the demo needs the current uAPI.
kmake "$obj" "$src" headers_install INSTALL_HDR_PATH="$hdr" >/dev/null
${CROSS}gcc -static -O2 -Wall -Werror -isystem "$hdr/include" \
	-I "$TOP/tools/testing/selftests/guestmem" \
	-o "$out/gmem-demo" "$TOP/harness/demo/$demo"
