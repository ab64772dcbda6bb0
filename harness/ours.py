#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Keep the compiler, sparse or coccinelle findings that are ours.

Reads a build log on stdin and prints the lines that name, with
FILE:LINE, either a file of the overlay (any line) or a line that our
patches add to an upstream file (the new side of a diff between the
pristine tree and ours).  A finding on an untouched line of a patched
upstream file is upstream's, not ours.  Exits 0 when it printed something (as grep
does), 1 when nothing was ours.

    ours.py TREE PRISTINE OVERLAY-LIST PATCHED-LIST < LOG
"""

import os
import re
import subprocess
import sys

LOC = re.compile(r"(?P<path>[^\s:\"'()]+?\.(?:c|h|S|rst)):(?P<line>\d+)(?::\d+)?")


def added_lines(tree, pristine, rel):
    """Line numbers (new side) that diff pristine/rel -> tree/rel adds."""
    out = subprocess.run(["diff", "-U0", os.path.join(pristine, rel),
                          os.path.join(tree, rel)],
                         capture_output=True, text=True).stdout
    lines = set()
    for m in re.finditer(r"^@@ -\S+ \+(\d+)(?:,(\d+))? @@", out, re.M):
        start, count = int(m.group(1)), int(m.group(2) or 1)
        lines.update(range(start, start + count))
    return lines


def main():
    tree, pristine, overlay_list, patched_list = sys.argv[1:5]
    with open(overlay_list) as f:
        overlay = {l.strip() for l in f if l.strip()}
    with open(patched_list) as f:
        patched = {l.strip(): None for l in f if l.strip()}
    found = False
    for line in sys.stdin:
        for m in LOC.finditer(line):
            # Logs name files relative to the tree, to the build
            # directory or absolutely: take the longest tail of the
            # path that is one of our files.
            parts = os.path.normpath(m.group("path")).split(os.sep)
            path = next((os.sep.join(parts[i:]) for i in range(len(parts))
                         if os.sep.join(parts[i:]) in overlay or
                         os.sep.join(parts[i:]) in patched), None)
            if path in overlay:
                hit = True
            elif path in patched:
                if patched[path] is None:
                    patched[path] = added_lines(tree, pristine, path)
                hit = int(m.group("line")) in patched[path]
            else:
                hit = False
            if hit:
                sys.stdout.write(line)
                found = True
                break
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main())
