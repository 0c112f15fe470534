#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Checks mpi-stream under mpirun with two ranks: which device each rank
chose (by its local index, CLQ_DEVICE or --devices), the JSON report,
that bad input stops every rank with a clear message and a non-zero
status instead of hanging, and that a failure in the middle of the stream
(--fail) aborts the job.

usage: check-mpi.py MPIRUN MPI_STREAM

Each rank runs inside `sh -c`, which prints the rank's exit status to
stderr ("rank-exit RANK STATUS"), and mpirun is told not to kill the
other ranks when one exits non-zero, so that the status of every rank,
not only the first that failed (what mpirun reports), is checked.
"""
import array
import json
import os
import subprocess
import sys
import tempfile

MPIRUN, EXE = sys.argv[1], sys.argv[2]
# Every case ends well within this; a hang is a failure, not a wait.
TIMEOUT = 120
failures = []


def run(args, env_extra, wrap=True, args1=None):
    """Two ranks with `args`; with `args1`, rank 1 gets those instead
    (mpirun's A : B form)."""
    env = dict(os.environ)
    env.pop("CLQ_DEVICE", None)
    env.pop("PYOPENCL_CTX", None)
    env.update(env_extra)
    wrapper = ('"$0" "$@"; rc=$?; '
               'echo "rank-exit $OMPI_COMM_WORLD_RANK $rc" >&2; exit $rc')
    # orte_abort_on_non_zero_status 0: mpirun would kill the other ranks
    # once one exits non-zero; each must be seen to exit on its own
    cmd = [MPIRUN, "--allow-run-as-root", "--oversubscribe",
           "--mca", "orte_abort_on_non_zero_status", "0", "-np", "2",
           "sh", "-c", wrapper, EXE] + args
    if args1 is not None:
        cmd[cmd.index("-np") + 1] = "1"
        cmd += [":", "-np", "1", "sh", "-c", wrapper, EXE] + args1
    if not wrap:
        cmd = [MPIRUN, "--allow-run-as-root", "--oversubscribe", "-np", "2",
               EXE] + args
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True,
                           timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        failures.append(f"{args}: still running after {TIMEOUT} s")
        return None
    exits = {}
    for line in p.stderr.splitlines():
        if line.startswith("rank-exit "):
            _, rank, rc = line.split()
            exits[int(rank)] = int(rc)
    return p, exits


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def expect_json(name, args, env, specs, chosen_by):
    got = run(args + ["--json"], env)
    if not got:
        return
    p, exits = got
    if not check(p.returncode == 0 and exits == {0: 0, 1: 0},
                 f"{name}: exit {p.returncode}, ranks {exits}:\n{p.stderr}"):
        return
    rep = json.loads(p.stdout)
    ranks = rep["ranks"]
    check(rep["n_ranks"] == 2 and len(ranks) == 2, f"{name}: not 2 ranks")
    check([r["spec"] for r in ranks] == specs,
          f"{name}: devices {[r['spec'] for r in ranks]}, want {specs}")
    for r in ranks:
        check(r["chosen_by"].startswith(chosen_by),
              f"{name}: rank {r['rank']} chosen by '{r['chosen_by']}', "
              f"want '{chosen_by}...'")
        check(r["chunks"] == rep["chunks_per_rank"] and r["gb_s"] > 0 and
              all(v > 0 for v in r["stage_s"].values()),
              f"{name}: rank {r['rank']}'s figures: {r}")
    total = rep["total"]
    check(total["mismatches"] == 0 and
          total["chunks"] == 2 * rep["chunks_per_rank"],
          f"{name}: total {total}")


def expect_failure(name, args, status, messages, every_rank_says=False,
                   args1=None):
    got = run(args, {"POCL_DEVICES": "pthread pthread"}, args1=args1)
    if not got:
        return
    p, exits = got
    # (mpirun's own status is 0 here, the job not being aborted: the
    # tests that run mpi-stream under mpirun alone check that)
    check(exits == {0: status, 1: status},
          f"{name}: ranks exited {exits}, want {status} on both:\n"
          f"{p.stderr}")
    for m in messages:
        check(m in p.stderr, f"{name}: no '{m}' in:\n{p.stderr}")
    if every_rank_says:
        check("rank 1: stopping" in p.stderr,
              f"{name}: rank 1 did not say why it stopped:\n{p.stderr}")


small = ["--chunk-mib", "0.03125", "--chunks", "3", "--iters", "4"]
# One device: both ranks share it; two: one each, by local index.
expect_json("one device", small, {"POCL_DEVICES": "pthread"},
            ["0:0", "0:0"], "local rank")
expect_json("two devices", small, {"POCL_DEVICES": "pthread pthread"},
            ["0:0", "0:1"], "local rank")
expect_json("CLQ_DEVICE", small,
            {"POCL_DEVICES": "pthread pthread", "CLQ_DEVICE": "0:1"},
            ["0:1", "0:1"], "CLQ_DEVICE")
expect_json("--devices", small + ["--devices", "0:1,0:0"],
            {"POCL_DEVICES": "pthread pthread"}, ["0:1", "0:0"],
            "--devices")

with tempfile.TemporaryDirectory() as tmp:
    def f32(name, values):
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            array.array("f", values).tofile(f)
        return path

    n = 2048  # floats in a chunk of 1/128 MiB
    chunk = ["--chunk-mib", "0.0078125"]
    good = f32("good.f32", [float(i % 1000) for i in range(4 * n)])
    expect_json("--input", chunk + ["--input", good],
                {"POCL_DEVICES": "pthread pthread"}, ["0:0", "0:1"],
                "local rank")
    half = f32("half.f32", [1.0] * (3 * n))
    frac = f32("frac.f32", [1.0] * 3 + [1.5] + [1.0] * (2 * n - 4))
    nan = f32("nan.f32", [float("nan")] + [1.0] * (2 * n - 1))
    big = f32("big.f32", [1048576.0] + [1.0] * (2 * n - 1))
    expect_failure("a missing file", chunk + ["--input", tmp + "/none"], 1,
                   ["cannot open --input"], every_rank_says=True)
    expect_failure("a file of 3 chunks for 2 ranks", chunk +
                   ["--input", half], 1,
                   [f"holds {12 * n} bytes: want a positive multiple of "
                    f"{8 * n} bytes"], every_rank_says=True)
    expect_failure("a fraction", chunk + ["--input", frac], 1,
                   ["element 3 is 1.5: want integers from 0 to 1048575"],
                   every_rank_says=True)
    expect_failure("a NaN", chunk + ["--input", nan], 1,
                   ["element 0 is nan"], every_rank_says=True)
    expect_failure("2^20", chunk + ["--input", big], 1,
                   ["element 0 is 1.04858e+06"], every_rank_says=True)
    expect_failure("--input and --chunks", ["--input", good, "--chunks",
                                            "2"], 2,
                   ["--input and --chunks exclude each other"])

expect_failure("one slot", ["--slots", "1"], 2,
               ["--slots wants a whole number from 2 to 64, not '1'"])
expect_failure("an unknown option", ["--frobnicate"], 2,
               ["Try 'mpi-stream --help'."])
# rank 1 alone fails to open its device; rank 0 stops with it
expect_failure("a rank without its device", small +
               ["--devices", "0,no-such-device"], 1,
               ["mpi-stream: rank 1: choosing the device --devices gives: "
                "CLQ_ERROR_NO_DEVICE",
                "stopping: a rank could not open its device"])
# a list that does not give one spec per rank is a bad option (2), as
# --fail beyond the ranks is, not a device that failed to open (1)
expect_failure("too few specs", small + ["--devices", "0"], 2,
               ["--devices gives 1 device spec for 2 ranks: give one per "
                "rank"])
expect_failure("too many specs", small + ["--devices", "0,0,0"], 2,
               ["--devices gives 3 device specs for 2 ranks"])
expect_failure("an empty spec", small + ["--devices", "0,"], 2,
               ["--devices wants a device spec of 1 to 255 characters per "
                "rank, comma-separated (such as 0:0,0:1), not '0,'"])

# A chunk failing on rank 1's device once the stream runs: rank 0 waits
# for its result, so rank 1 aborts the job (mpirun kills rank 0).
got = run(small + ["--fail", "1:2"], {"POCL_DEVICES": "pthread pthread"},
          wrap=False)
if got:
    p, _ = got
    check(p.returncode != 0 and
          "mpi-stream: rank 1: --fail: failing chunk 2's upload" in p.stderr
          and "mpi-stream: rank 1: aborting every rank" in p.stderr and
          "check:" not in p.stdout,
          f"--fail 1:2: exit {p.returncode}, want the job aborted by rank "
          f"1:\n{p.stdout}{p.stderr}")
# Rank 0's chunk 0 failing: chunk 3 reuses its buffer, its upload waiting
# for chunk 0's download, and fails too, before it is watched, so that
# the notifier may hand over chunk 3's download first: the message names
# chunk 0's upload as the first failure.
got = run(["--chunk-mib", "0.03125", "--chunks", "6", "--iters", "4",
           "--fail", "0:0"], {"POCL_DEVICES": "pthread pthread"},
          wrap=False)
if got:
    p, _ = got
    check(p.returncode != 0 and
          "chunk 0's upload failed first (status -1)" in p.stderr,
          f"--fail 0:0: want chunk 0's failure named first:\n{p.stderr}")
expect_failure("--fail beyond the ranks", small + ["--fail", "2:0"], 2,
               ["--fail 2:0: want a rank below 2 and a chunk below 3"])
expect_failure("--fail, not two numbers", ["--fail", "1:"], 2,
               ["--fail wants RANK:CHUNK, two whole numbers (such as 1:2), "
                "not '1:'"])

# Ranks given other options (mpirun's A : B form) stop with 2: they would
# compute other results (the check failed) or send messages of other
# sizes (MPI_ERR_TRUNCATE aborted the job). The same options pass.
expect_failure("other iterations on rank 1", small, 2,
               ["mpi-stream: rank 1 was given other options than rank 0"],
               args1=small[:-1] + ["5"])
expect_failure("other chunks on rank 1", small, 2,
               ["mpi-stream: rank 1 was given other options than rank 0"],
               args1=["--chunk-mib", "0.0625"] + small[2:])
# --help to rank 1 alone: it prints the usage and exits 0; rank 0 says
# why it stops (it exited 2 without a word).
got = run(small, {"POCL_DEVICES": "pthread pthread"}, args1=["--help"])
if got:
    p, exits = got
    check(exits == {0: 2, 1: 0} and
          "Usage: mpirun -np N mpi-stream" in p.stdout and
          "mpi-stream: rank 0: stopping, another rank was given --help or "
          "a bad option" in p.stderr,
          f"--help to rank 1 alone: ranks {exits}:\n{p.stderr}")
got = run(small, {"POCL_DEVICES": "pthread pthread"}, args1=small)
if got:
    p, exits = got
    check(exits == {0: 0, 1: 0} and "check: all" in p.stdout,
          f"A : B with the same options: ranks {exits}:\n{p.stderr}")

got = run(["--help"], {})
if got:
    p, exits = got
    check(p.returncode == 0 and exits == {0: 0, 1: 0} and
          p.stdout.count("Usage: mpirun -np N mpi-stream") == 1,
          f"--help: exit {p.returncode}, ranks {exits}, want the usage "
          f"once:\n{p.stdout}")

for f in failures:
    print("FAIL:", f)
print(f"{len(failures)} failure(s)" if failures else "all cases as expected")
sys.exit(1 if failures else 0)
