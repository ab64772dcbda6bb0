# SPDX-License-Identifier: GPL-2.0
# Common definitions for the guestmem harness scripts; sourced, never run.

set -eu

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
JOBS=${JOBS:-3}
TARBALL=/usr/src/linux-source-6.12.tar.xz

# The directories and files of this repository that are laid over the
# kernel tree at the same path.
OVERLAY_PATHS="mm include virt arch drivers tools/testing/selftests/guestmem Documentation Kconfig.guestmem"

log() { printf '[harness] %s\n' "$*" >&2; }
die() { printf '[harness] ERROR: %s\n' "$*" >&2; exit 1; }

debian_version() {
	dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null ||
		die "linux-source-6.12 is not installed: run 'make deps'"
}

# The Debian version as used in directory names (no '~' or '+').
debian_tag() {
	debian_version | tr '~+:' '___'
}

# Which kernel tree: "guestmem" (ours) or "stock" (pristine 6.12).
tree_dir() {
	echo "$BUILD/src/$1-$(debian_tag)"
}

pristine_dir() {
	echo "$BUILD/src/pristine-$(debian_tag)"
}

# kernel ARCH and the cross-compiler prefix for an architecture name.
arch_setup() {
	case "$1" in
	x86_64)
		KARCH=x86_64; SARCH=x86_64; CROSS=; QEMU=qemu-system-x86_64
		KIMAGE=arch/x86/boot/bzImage ;;
	arm64)
		KARCH=arm64; SARCH=arm64; CROSS=aarch64-linux-gnu-; QEMU=qemu-system-aarch64
		KIMAGE=arch/arm64/boot/Image ;;
	*) die "unknown ARCH '$1' (x86_64 or arm64)" ;;
	esac
}

# Build directory of one kernel: tree (guestmem|stock), arch, flavour.
obj_dir() {
	echo "$BUILD/obj/$1-$2-$3${LLVM:+-llvm}"
}

# Source tree of a kernel: ours or the pristine one.
src_dir() {
	if [ "$1" = stock ]; then pristine_dir; else tree_dir guestmem; fi
}

# Config fragments of a flavour, in merge order; for our tree (TREE
# guestmem) also configs/guestmem-ARCH.config, with what stock 6.12 does
# not have (its symbols would be lost there).
fragments() {
	local arch=$1 flavour=$2 tree=${3:-guestmem}
	local ours=
	if [ "$tree" = guestmem ] && [ -f "$TOP/configs/guestmem-$arch.config" ]; then
		ours=" $TOP/configs/guestmem-$arch.config"
	fi
	case "$flavour" in
	test) echo "$TOP/configs/base.config $TOP/configs/debug.config $TOP/configs/$arch.config$ours" ;;
	bench) echo "$TOP/configs/base.config $TOP/configs/$arch.config$ours" ;;
	# The sanitizers go before the arch fragment, which may switch off
	# what an architecture cannot carry.
	stress) echo "$TOP/configs/base.config $TOP/configs/debug.config $TOP/configs/stress.config $TOP/configs/$arch.config$ours" ;;
	*) die "unknown flavour '$flavour' (test, bench or stress)" ;;
	esac
}

kmake() {
	local obj=$1 src=$2
	shift 2
	local ccache=
	command -v ccache >/dev/null && ccache="ccache "
	if [ "${LLVM:-}" = 1 ]; then
		make -s -C "$src" O="$obj" ARCH="$KARCH" LLVM=1 \
			CC="${ccache}clang" HOSTCC="${ccache}clang" -j"$JOBS" "$@"
	else
		make -s -C "$src" O="$obj" ARCH="$KARCH" CROSS_COMPILE="$CROSS" \
			CC="$ccache${CROSS}gcc" HOSTCC="${ccache}gcc" -j"$JOBS" "$@"
	fi
}

now() { date +%s; }

# The patch files of patches/series, in order: "NAME.patch" lines and the
# patch of "squash NAME.patch" lines (see patches/series).
series_patches() {
	awk '$1 == "squash" { print $2; next }
	     $1 ~ /^#/ || $1 == "overlay" || NF == 0 { next }
	     { print $1 }' "$TOP/patches/series"
}

# The scripts pick their own -j and variables; nothing from an outer make.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
