#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test-parser.sh [COUNTS]: the harness tests itself.  Each recorded console
# log in harness/testdata/ is judged by harness/parse.py, the parser that
# `make test` uses, and must get the verdict its name announces:
#   pass-*.log   nothing failed
#   fail-*.log   at least one failure
# and every line of the matching NAME.expect, if there is one, appears
# in one of the parser's result lines ("FAIL  t  kernel  (WARNING: ..."),
# except lines starting with "! ", which must appear in none.
# Each log is one test; COUNTS gets "passed failed skipped".

. "$(dirname "$0")/lib.sh"

counts=${1:-/dev/null}
p=0 f=0
for logf in "$TOP"/harness/testdata/*.log; do
	[ -f "$logf" ] || continue
	name=$(basename "$logf" .log)
	out=$(python3 "$TOP/harness/parse.py" --label t --kunit-suite list-kunit-test "$logf") && rc=0 || rc=$?
	ok=1
	case "$name" in
	pass-*)
		[ $rc = 0 ] || ok=0 ;;
	fail-*)
		[ $rc = 1 ] || ok=0 ;;
	*) ok=0; echo "    $name.log: name must start with pass- or fail-" ;;
	esac
	[ -f "${logf%.log}.expect" ] || [ "${name#fail-}" = "$name" ] || {
		echo "    $name.log: a fail- log needs its $name.expect"
		ok=0
	}
	if [ -f "${logf%.log}.expect" ]; then
		while IFS= read -r want; do
			[ -n "$want" ] || continue
			if [ "${want#! }" != "$want" ]; then
				if printf '%s\n' "$out" | grep -qF -- "${want#! }"; then
					echo "    expected no result line with: ${want#! }"
					ok=0
				fi
			elif ! printf '%s\n' "$out" | grep -qF -- "$want"; then
				echo "    expected a result line with: $want"
				ok=0
			fi
		done < "${logf%.log}.expect"
	fi
	if [ $ok = 1 ]; then
		echo "PASS  harness  parser/$name"
		p=$((p + 1))
	else
		printf '%s\n' "$out" | grep -v '^PASS' | sed 's/^/    /'
		echo "FAIL  harness  parser/$name"
		f=$((f + 1))
	fi
done
[ $((p + f)) -gt 0 ] || { echo "FAIL  harness  parser: no recorded logs"; f=1; }
echo "$p $f 0" >> "$counts"
[ $f = 0 ]
