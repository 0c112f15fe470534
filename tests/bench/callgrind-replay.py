#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Instructions per stage of a sequence run again, against plain enqueues.

    callgrind-replay.py BENCH-REPLAY [RUNS [K]]

Runs each loop of bench-replay (seq, clqev, clq, raw) alone under
`valgrind --tool=callgrind`, counting only the function measured_loop (a
warm-up batch and a measured batch of RUNS runs of 3 K stages each), and
prints instructions per stage and each loop's ratio to raw OpenCL.
Instruction counts repeat from run to run, unlike wall time on a shared
machine. Reports only (no goal); 77 (skipped) without valgrind.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

LOOPS = ["seq", "clqev", "clq", "raw"]


def instructions(bench, name, runs, k, scratch):
    out = os.path.join(scratch, name + ".callgrind")
    subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
         "--collect-atstart=no", "--toggle-collect=measured_loop*",
         bench, "--only", name, str(runs), str(k)],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as f:
        for line in f:
            m = re.match(r"(?:summary|totals):\s*(\d+)", line)
            if m:
                return int(m.group(1)) / (2 * runs * 3 * k)
    raise RuntimeError(name + ": no totals in the callgrind output")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    bench = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    k = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    if not shutil.which("valgrind"):
        print("valgrind not found: skipped")
        sys.exit(77)
    print(f"instructions per stage (callgrind, {runs} runs of {3 * k} "
          f"stages after {runs} warm-up runs)")
    print(f"{'loop':6} {'instr':>9} {'/raw':>7}")
    with tempfile.TemporaryDirectory() as scratch:
        counts = {name: instructions(bench, name, runs, k, scratch)
                  for name in LOOPS}
    for name in LOOPS:
        print(f"{name:6} {counts[name]:9.0f} "
              f"{counts[name] / counts['raw']:7.3f}")


if __name__ == "__main__":
    main()
