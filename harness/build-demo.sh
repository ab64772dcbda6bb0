#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-demo.sh ARCH: build the demo VMM (harness/demo/) statically against
# our kernel's uAPI headers.  Only x86_64 has a demo so far.

. "$(dirname "$0")/lib.sh"

arch=$1
arch_setup "$arch"
[ "$arch" = x86_64 ] || exit 0
src=$(tree_dir guestmem)
obj=$(obj_dir guestmem "$arch" test)
hdr=$BUILD/obj/headers-$arch
out=$BUILD/obj/demo-$arch
mkdir -p "$out"
[ -d "$hdr/include/linux" ] ||
	kmake "$obj" "$src" headers_install INSTALL_HDR_PATH="$hdr" >/dev/null
${CROSS}gcc -static -O2 -Wall -Werror -isystem "$hdr/include" \
	-I "$TOP/tools/testing/selftests/guestmem" \
	-o "$out/gmem-demo" "$TOP/harness/demo/gmem-demo.c"
