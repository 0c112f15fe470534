#!/usr/bin/env python3
# Runs the double-buffer demo without its buffer-reuse wait: under
# --ordering check it must stop at the first upload into a reused buffer
# with CLQ_ERROR_HAZARD, exit 1, and log a message naming the buffer and
# the two queues; under --ordering auto clq adds the wait and both runs
# match the CPU reference.
# usage: check-ordering.py DEMO
import os, re, subprocess, sys

demo = sys.argv[1]
# A kernel long enough that the first chunk's kernel and download are still
# pending when the fourth chunk's upload reuses their buffer: a command
# that has ended is ordered before anything enqueued after it.
small = ["--chunk-mib", "0.0625", "--chunks", "6", "--iters", "2000",
         "--no-reuse-wait"]
env = {k: v for k, v in os.environ.items() if k != "CLQ_ORDERING"}


def run(*args):
    return subprocess.run([demo, *small, *args], capture_output=True,
                          text=True, env=env)


p = run("--ordering", "check")
assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
assert "verdict" not in p.stdout, p.stdout
assert "running the pipeline: CLQ_ERROR_HAZARD" in p.stderr, p.stderr
m = re.search(r"^clq: clq_device_array_set_region: hazard "
              r"\((write-after-write|write-after-read)\) on buffer "
              r"'buffer 0': this write on queue (\d+) \('upload'\) "
              r"overwrites what the (kernel 'scale'|read) on queue (\d+) "
              r"\('(kernel|download)'\) (writes|reads), and "
              r"nothing orders the two\..*nothing was enqueued$",
              p.stderr, re.M)
assert m, p.stderr
assert m.group(2) != m.group(4), m.group(0)
print(m.group(0))

p = run("--ordering", "auto")
assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
assert "check: both runs match the CPU reference" in p.stdout, p.stdout
assert p.stderr == "", p.stderr
print("auto: both runs match the CPU reference")
