#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: the static gates, on the files this repository adds or patches.
#   checkpatch --strict --codespell  every overlay file, demos, benchmarks, patches/
#   sparse (C=1) and W=1             our objects, in build/obj/*-check
#   clang (LLVM=1)                   the x86_64 test config, own O= dir
#   coccicheck MODE=report           our directories
#   kernel-doc -Wall                 include/linux/guestmem.h
#   module symbols                   kvm.ko, kvm-amd.ko, arm64 KVM built-in.a vs
#                                    stock (harness/modsyms.sh)
#   patch series                     `make patches`, git am on pristine, build
# Findings in upstream files we do not touch are ignored.  Exits non-zero
# when any gate finds anything.

. "$(dirname "$0")/lib.sh"

tree=$(tree_dir guestmem)
pristine=$(pristine_dir)
out=$BUILD/logs/check
mkdir -p "$out"
fail=0
# CHECK_GATES="checkpatch sparse ..." runs only the gates whose name
# contains one of those words (a developer's shortcut; make check runs all).
gate() {
	local name=$1 rc=0 t0 w
	shift
	if [ -n "${CHECK_GATES:-}" ]; then
		for w in $CHECK_GATES; do
			case "$name" in *"$w"*) break ;; esac
			w=
		done
		[ -n "$w" ] || return 0
	fi
	t0=$(now)
	"$@" || rc=$?
	if [ $rc = 0 ]; then
		printf 'PASS  check  %s (%ss)\n' "$name" $(($(now) - t0))
	else
		printf 'FAIL  check  %s (%ss)\n' "$name" $(($(now) - t0))
		fail=1
	fi
}

# Our kernel files (overlay) and the upstream files our patches touch.
ours=$(cat "$tree/.guestmem-overlay")
patched=$(for p in $(series_patches); do
	sed -n 's|^+++ b/||p' "$TOP/patches/$p"; done | sort -u)
ours_c=$(printf '%s\n' $ours $patched | grep -E '\.c$' || true)
# A finding "belongs to us" when it names a line of one of our files, or
# a line our patches add to an upstream file (harness/ours.py); succeeds,
# like grep, when it printed any.
printf '%s\n' $ours > "$out/overlay-files"
printf '%s\n' $patched > "$out/patched-files"
filter_ours() {
	python3 "$TOP/harness/ours.py" "$tree" "$pristine" \
		"$out/overlay-files" "$out/patched-files"
}

do_checkpatch() {
	local rc=0 f dict
	dict=$(dpkg -L codespell 2>/dev/null | grep '/dictionary\.txt$' | head -1)
	# codespell's generic dictionary "corrects" a few kernel
	# identifiers (iput -> input); harness/codespell-kernel-words
	# lists them, and only them, one per line.
	awk -F'->' 'NR == FNR { skip[$1]; next } !($1 in skip)' \
		"$TOP/harness/codespell-kernel-words" "$dict" > "$out/codespell-dictionary.txt"
	dict=$out/codespell-dictionary.txt
	: > "$out/checkpatch.log"
	local cp="$tree/scripts/checkpatch.pl --strict --codespell --codespellfile=$dict --no-tree --show-types --terse"
	for f in $ours; do
		case "$f" in
		*.c|*.h|*Kconfig*|*Makefile|*.rst|*.S) ;;
		*) continue ;;
		esac
		(cd "$tree" && $cp -f "$f") >> "$out/checkpatch.log" 2>&1 || rc=1
	done
	# The demos and benchmarks are userspace programs: stdint types and
	# the externs that name guest code are what selftests use too.
	for f in "$TOP"/harness/demo/*.c "$TOP"/harness/bench/*.c \
		 "$TOP"/harness/bench/arm64/*.c; do
		$cp --ignore PREFER_KERNEL_TYPES,AVOID_EXTERNS -f "$f" >> "$out/checkpatch.log" 2>&1 || rc=1
	done
	for p in $(series_patches); do
		(cd "$tree" && $cp "$TOP/patches/$p") >> "$out/checkpatch.log" 2>&1 || rc=1
	done
	[ $rc = 0 ] || grep -E '(ERROR|WARNING|CHECK)' "$out/checkpatch.log" | head -50
	return $rc
}

# W=1 and sparse on our objects: a build directory of its own (W=1 changes
# every command line), our sources touched so that C=1 checks exactly them.
do_sparse_w1() {
	local arch=$1 obj log
	log=$out/sparse-w1-$arch.log
	arch_setup "$arch"
	obj=$(obj_dir guestmem "$arch" check)
	mkdir -p "$obj"
	# Same configuration as the test kernel.
	cp "$(obj_dir guestmem "$arch" test)/.config" "$obj/.config"
	kmake "$obj" "$tree" olddefconfig >/dev/null
	for f in $ours_c; do touch "$tree/$f"; done
	: > "$log"
	kmake "$obj" "$tree" W=1 C=1 CHECK="sparse" > "$log" 2>&1 || {
		tail -30 "$log"
		return 1
	}
	if filter_ours < "$log" > "$log.ours"; then
		cat "$log.ours"
		return 1
	fi
	return 0
}

do_clang() {
	local log=$out/clang.log obj
	LLVM=1 "$TOP/harness/build-kernel.sh" guestmem x86_64 test > /dev/null 2> "$log" || {
		tail -30 "$log"
		return 1
	}
	if filter_ours < "$log" > "$log.ours"; then
		cat "$log.ours"
		return 1
	fi
}

do_cocci() {
	local d log=$out/coccicheck.log dirs
	: > "$log"
	dirs=$(for f in $ours_c; do dirname "$f"; done | sort -u)
	[ -n "$dirs" ] || { echo "coccicheck: no C files of ours yet" >> "$log"; return 0; }
	arch_setup x86_64
	for d in $dirs; do
		make -s -C "$tree" coccicheck MODE=report M="$d" J="$JOBS" >> "$log" 2>&1 || {
			tail -20 "$log"
			return 1
		}
	done
	if filter_ours < "$log" > "$log.ours"; then
		cat "$log.ours"
		return 1
	fi
}

do_kerneldoc() {
	local h=include/linux/guestmem.h
	[ -f "$tree/$h" ] || { echo "kernel-doc: $h does not exist yet"; return 0; }
	(cd "$tree" && scripts/kernel-doc -Wall -none "$h") > "$out/kernel-doc.log" 2>&1
	if [ -s "$out/kernel-doc.log" ]; then
		cat "$out/kernel-doc.log"
		return 1
	fi
}

gate "checkpatch --strict --codespell" do_checkpatch
gate "sparse C=1 + W=1 (x86_64)" do_sparse_w1 x86_64
if printf '%s\n' $ours $patched | grep -q '^arch/arm64/'; then
	gate "sparse C=1 + W=1 (arm64)" do_sparse_w1 arm64
fi
gate "clang LLVM=1 build (x86_64)" do_clang
gate "coccicheck MODE=report" do_cocci
gate "kernel-doc -Wall guestmem.h" do_kerneldoc
if [ -x "$TOP/harness/modsyms.sh" ]; then
	gate "module symbols" "$TOP/harness/modsyms.sh"
fi
gate "patch series (git am + build)" "$TOP/harness/patches.sh" --verify

if [ $fail = 0 ]; then
	log "make check: clean"
else
	log "make check: FAILED (logs in build/logs/check/)"
fi
exit $fail
