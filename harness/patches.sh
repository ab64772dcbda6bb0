#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# patches.sh [--verify]: turn patches/series (upstream-file patches plus
# overlay groups) into a kernel-style series against pristine
# linux-source-6.12 in build/patches/: a cover letter and one patch per
# logical change.  With --verify, also apply the series with git am to a
# pristine copy, check the result equals our tree, and build it.

. "$(dirname "$0")/lib.sh"

verify=
[ "${1:-}" = --verify ] && verify=1
pristine=$(pristine_dir)
tree=$(tree_dir guestmem)
repo=$BUILD/src/series-$(debian_tag)
outdir=$BUILD/patches
ver=$(debian_version)

export GIT_AUTHOR_NAME="guestmem developers" GIT_AUTHOR_EMAIL="guestmem@localhost"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
g() { git -C "$repo" -c core.autocrlf=false -c advice.detachedHead=false "$@"; }

# A git repository of the pristine tree, made once.
if ! g rev-parse -q --verify refs/tags/base >/dev/null 2>&1; then
	log "making a git repository of the pristine tree (once)"
	rm -rf "$repo"
	cp -a "$pristine" "$repo"
	rm -f "$repo/.extracted"
	g init -q
	# Debian's top-level .gitignore ignores "/*" (everything not under
	# debian/): add with -f, here and below.
	g add -A -f
	g commit -q -m "Debian linux-source-6.12 $ver"
	g tag base
fi

# Build the series on a fresh branch.
g checkout -q -f base
g clean -qfdx
g checkout -q -B series base
covered=$(mktemp)
trap 'rm -f "$covered"' EXIT
while read -r kind rest; do
	case "$kind" in ''|'#'*) continue ;; esac
	if [ "$kind" = overlay ]; then
		set -- $rest
		msg=$TOP/patches/$1
		shift
		[ -f "$msg" ] || die "patches/series: no message file $msg"
		for p in "$@"; do
			[ -e "$TOP/$p" ] || die "patches/series: overlay path $p does not exist"
			(cd "$TOP" && find "$p" -type f) >> "$covered"
			(cd "$TOP" && find "$p" -type f | rsync -rl --files-from=- . "$repo/")
		done
		g add -A -f
		g commit -q -s -F "$msg" || die "overlay group $1 changed nothing"
	elif [ "$kind" = squash ]; then
		# Folded into the commit before: a change to upstream
		# files that the overlay files of that commit need.
		[ "$(g rev-list --count base..HEAD)" != 0 ] ||
			die "patches/series: squash $rest has no commit to fold into"
		g apply --whitespace=nowarn "$TOP/patches/$rest" ||
			die "patches/$rest does not apply"
		g add -A -f
		g commit -q --amend --no-edit
	else
		g am -q --whitespace=nowarn "$TOP/patches/$kind" ||
			{ g am --abort; die "patches/$kind does not apply with git am"; }
	fi
done < "$TOP/patches/series"

# Every overlay file must belong to a patch.
sort -u "$covered" -o "$covered"
missing=$(LC_ALL=C comm -23 "$tree/.guestmem-overlay" <(LC_ALL=C sort "$covered"))
[ -z "$missing" ] || die "overlay files in no patch of patches/series: $missing"

rm -rf "$outdir"
mkdir -p "$outdir"
n=$(g rev-list --count base..series)
if [ "$n" = 0 ]; then
	log "the series is empty (no overlay files or patches yet)"
	[ -z "$verify" ] && exit 0
else
	g format-patch -q --cover-letter -o "$outdir" base..series
	# Fill in the cover letter.
	subj=$(head -1 "$TOP/patches/cover-letter.txt")
	body=$(tail -n +3 "$TOP/patches/cover-letter.txt")
	python3 - "$outdir"/0000-cover-letter.patch "$subj" "$body" <<'PY'
import sys
p, subj, body = sys.argv[1:4]
s = open(p).read()
s = s.replace("*** SUBJECT HERE ***", subj).replace("*** BLURB HERE ***", body)
open(p, "w").write(s)
PY
	log "series: $outdir ($n patches + cover letter)"
	ls "$outdir" | sed 's/^/    /' >&2
fi
[ -n "$verify" ] || exit 0

# Verify: git am the generated files on a pristine branch, compare, build.
g checkout -q -f -B verify base
if [ "$n" != 0 ]; then
	g am -q $(ls "$outdir"/*.patch | grep -v 0000-cover-letter) ||
		{ g am --abort; die "the generated series does not apply with git am"; }
fi
# "generated" directories are what the selftest builds write in the tree.
if ! diff -r -q -x .git -x '.guestmem-*' -x generated "$repo" "$tree" >&2; then
	die "the series does not reproduce build/src/guestmem (see above)"
fi
log "series applies with git am and reproduces our tree; building it"
obj=$BUILD/obj/series-x86_64-test
arch_setup x86_64
mkdir -p "$obj"
cp "$(obj_dir guestmem x86_64 test)/.config" "$obj/.config"
kmake "$obj" "$repo" olddefconfig >/dev/null
kmake "$obj" "$repo" bzImage modules >&2
log "series builds (x86_64)"
