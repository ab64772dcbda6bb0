#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install, with apt-get, whatever the harness needs and is missing; silent
# when everything is present.  Runs as root on Debian 12 without prompts.
# coccinelle needs ocaml-nox for the rules written as OCaml scripts.

. "$(dirname "$0")/lib.sh"

PKGS="make gcc libc6-dev binutils patch perl git rsync xz-utils cpio bc bison
flex libelf-dev libssl-dev dwarves kmod ccache python3 linux-source-6.12
qemu-system-x86 qemu-system-arm gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu
libc6-dev-arm64-cross busybox-static sparse coccinelle ocaml-nox clang lld llvm
codespell"

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
updated=
if [ -n "$missing" ]; then
	log "installing:$missing"
	mkdir -p "$BUILD/logs"
	aptlog=$BUILD/logs/apt.log
	$SUDO apt-get update -q > "$aptlog" 2>&1 ||
		{ tail -20 "$aptlog"; die "apt-get update failed"; }
	updated=1
	$SUDO apt-get install -y -q --no-install-recommends $missing >> "$aptlog" 2>&1 ||
		{ tail -20 "$aptlog"; die "apt-get install failed for:$missing"; }
fi

# The arm64 initramfs needs an arm64 busybox: Debian's busybox-static for
# arm64, unpacked (not installed) into build/.
bb=$BUILD/busybox-arm64/bin/busybox
if [ ! -x "$bb" ]; then
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		$SUDO dpkg --add-architecture arm64
		updated=
	fi
	[ -n "$updated" ] || $SUDO apt-get update -q >/dev/null
	mkdir -p "$BUILD/debs"
	(cd "$BUILD/debs" && rm -f busybox-static_*_arm64.deb &&
		apt-get download -q busybox-static:arm64 >/dev/null 2>&1) ||
		die "could not download busybox-static:arm64"
	rm -rf "$BUILD/busybox-arm64"
	dpkg-deb -x "$BUILD"/debs/busybox-static_*_arm64.deb "$BUILD/busybox-arm64"
	[ -x "$bb" ] || die "busybox-static:arm64 has no bin/busybox"
	log "unpacked $(basename "$BUILD"/debs/busybox-static_*_arm64.deb)"
fi
