#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Instructions per enqueue, clq against raw OpenCL, under callgrind.

    callgrind-overhead.py BENCH-OVERHEAD [CALLS [GOAL]]

Runs each loop of bench-overhead (kernel, marker, write, wwrite; clq- and
raw-) alone under `valgrind --tool=callgrind`, counting only the function
measured_loop (a warm-up batch and a measured batch of CALLS each), and
prints instructions per call and clq/raw. Instruction counts repeat from
run to run, unlike wall time on a shared machine. Exits 1 if a ratio is
above GOAL (default 1.10), 77 (skipped) without valgrind.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

OPS = ["kernel", "marker", "write", "wwrite"]


def instructions(bench, name, calls, scratch):
    out = os.path.join(scratch, name + ".callgrind")
    subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
         "--collect-atstart=no", "--toggle-collect=measured_loop*",
         bench, "--only", name, str(calls)],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as f:
        for line in f:
            m = re.match(r"(?:summary|totals):\s*(\d+)", line)
            if m:
                return int(m.group(1)) / (2 * calls)
    raise RuntimeError(name + ": no totals in the callgrind output")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    bench = sys.argv[1]
    calls = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    goal = float(sys.argv[3]) if len(sys.argv) > 3 else 1.10
    if not shutil.which("valgrind"):
        print("valgrind not found: skipped")
        sys.exit(77)
    worst = 0.0
    print(f"instructions per call (callgrind, {calls} calls after "
          f"{calls} warm-up calls)")
    print(f"{'op':8} {'clq':>8} {'raw':>8} {'clq/raw':>8}")
    with tempfile.TemporaryDirectory() as scratch:
        for op in OPS:
            clq = instructions(bench, "clq-" + op, calls, scratch)
            raw = instructions(bench, "raw-" + op, calls, scratch)
            worst = max(worst, clq / raw)
            print(f"{op:8} {clq:8.0f} {raw:8.0f} {clq / raw:8.3f}")
    print(f"worst clq/raw {worst:.3f}, goal {goal:.2f}: "
          f"{'met' if worst <= goal else 'MISSED'}")
    sys.exit(0 if worst <= goal else 1)


if __name__ == "__main__":
    main()
