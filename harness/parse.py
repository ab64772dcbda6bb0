#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge one console log of a guestmem test boot.

Reads the whole console log written by QEMU for one boot of harness/init
and prints one line per result:

    PASS|FAIL|SKIP  <label>  <name>  [detail]

A result is a KUnit test case, an entry of the test plan, or a kernel
problem found anywhere in the log: every "BUG:", "WARNING:", Oops, panic,
lockdep, KASAN, UBSAN or stall report is a failure of its own, and so are
a plan entry without a result and a log that lacks the end-of-plan marker
(the kernel died or hung).  The log may hold several boots, separated by
host markers: after a hang, the next boot resumes the plan after the
entry that hung, and the results of all boots are merged.  A skip never counts as a pass.

With --counts FILE, appends "passed failed skipped" to FILE.
Exit status: 0 when nothing failed, 1 otherwise.
"""

import argparse
import re
import sys

MARK = "GUESTMEM-HARNESS: "
# Written by harness/test.sh (not the guest) between the console logs of
# two boots, when a boot resumes the plan after a hang.
HOST_MARK = "GUESTMEM-HARNESS-HOST: "

# A kernel message: "[ seconds.micro] text", anywhere on a line, since a
# printk can land in the middle of a line userspace is writing.
KMSG = re.compile(r"\[\s*\d+\.\d+\]\s?(.*)")

SPLATS = [
    re.compile(p) for p in (
        r"^BUG: ",
        r"^WARNING: ",
        r"^kernel BUG at ",
        r"\bOops\b",
        r"^Kernel panic",
        r"^Unable to handle kernel",
        r"^general protection fault",
        r"^Internal error: ",
        r"^UBSAN: ",
        r"^KASAN: ",
        r"^INFO: task .* blocked for more than",
        r"^INFO: (possible|inconsistent|suspicious)",
        r"INFO: rcu.*stall",
        r"^rcu: .*stall",
        r"^watchdog: BUG: soft lockup",
        r"^DEBUG_LOCKS_WARN_ON",
    )
]

RESULT = re.compile(r"^(?P<indent> *)(?P<not>not )?ok (?P<num>\d+)(?: -)? (?P<name>[^#]*?)\s*(?:#\s*(?P<directive>.*))?$")
SUBTEST = re.compile(r"^(?P<indent> *)# Subtest: (?P<name>.*)$")


class Results:
    def __init__(self, label):
        self.label = label
        self.rows = []

    def add(self, status, name, detail=""):
        self.rows.append((status, name, detail))

    def count(self, status):
        return sum(1 for r in self.rows if r[0] == status)


def kernel_problems(lines, res):
    seen = set()
    for line in lines:
        m = KMSG.search(line)
        if not m:
            continue
        msg = m.group(1).rstrip()
        for pat in SPLATS:
            if pat.search(msg):
                # The same message appears on the console and again in
                # the dmesg dump: report it once.
                key = line[m.start():].strip()
                if key not in seen:
                    seen.add(key)
                    res.add("FAIL", "kernel", msg)
                break


def block(lines, begin, end):
    """Lines strictly between two markers; None when begin is absent."""
    try:
        start = lines.index(MARK + begin)
    except ValueError:
        return None
    out = []
    for line in lines[start + 1:]:
        if line == MARK + end:
            break
        out.append(line)
    return out


def kunit_results(lines, res, expect_suites):
    kblock = block(lines, "KUNIT BEGIN", "KUNIT END")
    if kblock is None:
        if expect_suites:
            res.add("FAIL", "kunit", "no KUnit results (kernel died before userspace?)")
        return
    # debugfs results of one suite: "    # Subtest: SUITE" and the case
    # lines at indent 4 (parameterised cases nest deeper, under their
    # case line), the suite's own line at indent 0.
    suites = set()
    suite = None
    case_failed = False
    for line in kblock:
        m = SUBTEST.match(line)
        if m and len(m.group("indent")) == 4:
            if suite is not None:
                res.add("FAIL", "kunit/" + suite, "suite ended without a result")
            suite, case_failed = m.group("name").strip(), False
            continue
        m = RESULT.match(line)
        if not m:
            continue
        indent = len(m.group("indent"))
        directive = (m.group("directive") or "").strip()
        skipped = directive.upper().startswith("SKIP")
        if indent == 4 and suite is not None:
            full = "kunit/%s.%s" % (suite, m.group("name").strip())
            if skipped:
                res.add("SKIP", full, directive)
            elif m.group("not"):
                res.add("FAIL", full, directive)
                case_failed = True
            else:
                res.add("PASS", full)
        elif indent == 0:
            name = m.group("name").strip()
            suites.add(name)
            # A suite can fail without a failing case (its init failed).
            if m.group("not") and not case_failed and not skipped:
                res.add("FAIL", "kunit/" + name, directive or "suite failed")
            suite = None
    if suite is not None:
        res.add("FAIL", "kunit/" + suite, "suite ended without a result")
    for s in expect_suites:
        if s not in suites:
            res.add("FAIL", "kunit/" + s, "expected KUnit suite did not report")


def plan_segment(lines):
    """The plan results of one boot.

    Returns (planned, names, results, running): results maps an entry's
    number to (status, name, detail); running is the number of the entry
    that had started but had no result when the log of this boot ended,
    or None.  planned is None when the boot never started the plan.
    """
    tblock = block(lines, "TAP BEGIN", "END OF PLAN")
    if tblock is None:
        return None, {}, {}, None
    planned = None
    names = {}
    results = {}
    running = None
    for line in tblock:
        if planned is None:
            m = re.match(r"^1\.\.(\d+)$", line)
            if m:
                planned = int(m.group(1))
                continue
        m = re.match(r"^# PLAN (\d+) (\S+)", line)
        if m:
            names[int(m.group(1))] = m.group(2)
            continue
        m = re.match(r"^# RUN (?:(\d+) )?(\S+)", line)
        if m:
            if m.group(1):
                running = int(m.group(1))
            else:
                running = next((n for n, v in names.items() if v == m.group(2)), None)
            continue
        m = RESULT.match(line)
        if not m or m.group("indent"):
            continue
        num = int(m.group("num"))
        name = m.group("name").strip()
        directive = (m.group("directive") or "").strip()
        running = None
        if m.group("not"):
            results[num] = ("FAIL", name, directive)
        elif directive.upper().startswith("SKIP"):
            results[num] = ("SKIP", name, directive)
        else:
            results[num] = ("PASS", name, directive)
    return planned, names, results, running


def plan_results(segments, res):
    """Merge the plan results of every boot: a boot after the first
    resumes the plan after the entry that hung the one before it."""
    planned = None
    names = {}
    results = {}
    hung = set()
    started = False
    for lines in segments:
        p, n, r, running = plan_segment(lines)
        if p is None:
            continue
        started = True
        planned = p
        names.update(n)
        results.update(r)
        if running is not None:
            hung.add(running)
    if not started:
        res.add("FAIL", "plan", "test plan never started (kernel died before userspace?)")
        return
    for num in range(1, planned + 1):
        if num in results:
            res.add(*results[num])
            continue
        name = names.get(num, "test %d" % num)
        why = "no result: never ran"
        if num in hung:
            why = "no result: running when the guest hung or died"
        res.add("FAIL", name, why)


def segments_of(lines):
    """Split a log at the host's markers between boots."""
    segs = [[]]
    for line in lines:
        if line.startswith(HOST_MARK):
            segs.append([])
            continue
        segs[-1].append(line)
    return segs


def judge(text, label, expect_suites):
    lines = [l.rstrip("\r\n") for l in text.splitlines()]
    res = Results(label)
    segs = segments_of(lines)
    for i, seg in enumerate(segs):
        if not any(l.startswith(MARK + "BOOTED") for l in seg):
            res.add("FAIL", "boot", "boot %d never reached userspace" % (i + 1))
    seen = set()
    for line in lines:
        if line.startswith(MARK + "MODULE FAILED") and line not in seen:
            seen.add(line)
            res.add("FAIL", "modules", line[len(MARK):])
    # Every boot runs KUnit again; the first boot's results are judged.
    kunit_results(segs[0], res, expect_suites)
    plan_results(segs, res)
    kernel_problems(lines, res)
    if (MARK + "END OF PLAN") not in segs[-1]:
        res.add("FAIL", "end-of-plan", "marker missing: the kernel died or hung before the plan ended")
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("log")
    ap.add_argument("--label", default="")
    ap.add_argument("--kunit-suite", action="append", default=[],
                    help="a KUnit suite that must report (repeatable)")
    ap.add_argument("--counts", help="append 'passed failed skipped' here")
    ap.add_argument("--quiet", action="store_true", help="print failures only")
    args = ap.parse_args()

    with open(args.log, errors="replace") as f:
        text = f.read()
    res = judge(text, args.label, args.kunit_suite)
    for status, name, detail in res.rows:
        if args.quiet and status != "FAIL":
            continue
        print("%-4s  %s  %s%s" % (status, args.label, name,
                                  ("  (" + detail + ")") if detail else ""))
    p, f, s = res.count("PASS"), res.count("FAIL"), res.count("SKIP")
    if args.counts:
        with open(args.counts, "a") as c:
            c.write("%d %d %d\n" % (p, f, s))
    return 1 if f else 0


if __name__ == "__main__":
    sys.exit(main())
