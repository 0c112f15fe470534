#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Instructions per enqueue, clq against raw OpenCL, under callgrind.

    callgrind-overhead.py BENCH-OVERHEAD [CALLS [GOAL [ORDERED-GOAL]]]

Runs each loop of bench-overhead (kernel, marker, write, wwrite, xwrite;
clq- and raw-) alone under `valgrind --tool=callgrind`, counting only the
function measured_loop (a warm-up batch and a measured batch of CALLS
each), and prints instructions per call: raw OpenCL, then clq in each
ordering mode (CLQ_ORDERING=manual, check, auto; see clq/order.h) with its
ratio to raw. Instruction counts repeat from run to run, unlike wall time
on a shared machine. Exits 1 if a single-queue loop's ratio is above GOAL
(default 1.10) in manual mode or above ORDERED-GOAL (default 1.15) in check
or auto mode (xwrite, two queues, is reported only); 77 (skipped) without
valgrind.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

OPS = ["kernel", "marker", "write", "wwrite", "xwrite"]
SINGLE_QUEUE = OPS[:4]
MODES = ["manual", "check", "auto"]


def instructions(bench, name, calls, scratch, mode="manual"):
    out = os.path.join(scratch, name + "." + mode + ".callgrind")
    env = dict(os.environ, CLQ_ORDERING=mode)
    subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
         "--collect-atstart=no", "--toggle-collect=measured_loop*",
         bench, "--only", name, str(calls)],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=env)
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
    ordered_goal = float(sys.argv[4]) if len(sys.argv) > 4 else 1.15
    if not shutil.which("valgrind"):
        print("valgrind not found: skipped")
        sys.exit(77)
    missed = []
    print(f"instructions per call (callgrind, {calls} calls after "
          f"{calls} warm-up calls)")
    print(f"{'op':8} {'raw':>7}" +
          "".join(f" {m:>7} {'/raw':>6}" for m in MODES))
    with tempfile.TemporaryDirectory() as scratch:
        for op in OPS:
            raw = instructions(bench, "raw-" + op, calls, scratch)
            row = f"{op:8} {raw:7.0f}"
            for mode in MODES:
                clq = instructions(bench, "clq-" + op, calls, scratch, mode)
                ratio = clq / raw
                row += f" {clq:7.0f} {ratio:6.3f}"
                limit = goal if mode == "manual" else ordered_goal
                if op in SINGLE_QUEUE and ratio > limit:
                    missed.append(f"{op} {mode} {ratio:.3f} > {limit:.2f}")
            print(row)
    print(f"goals: manual <= {goal:.2f}, check and auto <= "
          f"{ordered_goal:.2f} (single-queue loops): "
          f"{'MISSED: ' + '; '.join(missed) if missed else 'met'}")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
