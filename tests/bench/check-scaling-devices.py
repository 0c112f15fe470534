#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# scaling-devices.sh against stand-ins for the demo and bench-pipeline
# (shell scripts printing fixed figures, in a build directory of their
# own): the two-process figures it computes, and a failure of either
# process, which stops it with a message (the one started in the
# background was ignored), and a bench-pipeline that gives no start and
# end times (said; nothing was printed). Then bench-pipeline's
# CLQ_BENCH_START_AT: a time more than a day ahead is refused (exit 2), as
# is a bad CLQ_BENCH_SLOT; a real run starts repeat R's pipeline no
# earlier than T + R x CLQ_BENCH_SLOT.
# usage: check-scaling-devices.py SCALING_DEVICES_SH BENCH_PIPELINE
import os, re, shutil, stat, subprocess, sys, tempfile, time

script, bench = sys.argv[1], os.path.abspath(sys.argv[2])

# Device "A" starts at 100.000 s, "B" 0.2 ms later, but 50 ms later in
# raw repeat 4, and in every raw repeat (STUB_APART=raw) or the demo's
# run (STUB_APART=demo);
# STUB_FAIL=bench:DEV or demo:DEV fails that one's two-process run.
BENCH = r"""#!/bin/sh
if [ -n "$CLQ_BENCH_START_AT" ] && [ "$STUB_FAIL" != old-bench ]; then
    [ "$STUB_FAIL" = "bench:$CLQ_DEVICE" ] && exit 1
    for r in 0 1 2 3 4; do
        if [ "$CLQ_DEVICE" = A ]; then
            echo "raw OpenCL epoch $r: 100.000000 100.010000"
        elif [ $r = 4 ] || [ "$STUB_APART" = raw ]; then
            echo "raw OpenCL epoch $r: 100.050000 100.060000"
        else
            echo "raw OpenCL epoch $r: 100.000200 100.010200"
        fi
    done
fi
echo "raw OpenCL median of 5: sequential 1 ms, pipelined 1 ms"
"""
DEMO = r"""#!/bin/sh
dev= at= devices= chunks=
while [ $# -gt 0 ]; do
    case $1 in
    --device) dev=$2; shift ;;
    --devices) devices=$2; shift ;;
    --start-at) at=$2; shift ;;
    --balance) echo '{"iters": 3}'; exit 0 ;;
    --chunks) chunks=$2; shift ;;
    esac
    shift
done
run='"pipelined": {"wall_s": 0.010, "device_span_s": 0.009,
  "stage_s": {"upload": 0.001}, "epoch_start_s": START}'
if [ -n "$devices" ]; then
    r=$(echo "$run" | sed s/START/100/)
    echo "{\"report\": \"devices\", \"chunk_bytes\": 1048576,
      \"devices\": [{\"chunks\": 8, $r}, {\"chunks\": 8, $r}],
      \"total\": {\"pipelined_gb_s\": 1}}"
    exit 0
fi
if [ -n "$at" ]; then
    [ "$STUB_FAIL" = "demo:$dev" ] && exit 1
    if [ "$dev" = A ]; then start=100.000
    elif [ "$STUB_APART" = demo ]; then start=100.050
    else start=100.0002; fi
else
    start=100
fi
r=$(echo "$run" | sed s/START/$start/)
echo "{\"report\": \"device\", \"chunk_bytes\": 1048576, \"chunks\": $chunks,
  $r}"
"""

with tempfile.TemporaryDirectory() as tmp:
    build = os.path.join(tmp, "build")
    for path, text in (("examples/double-buffer", DEMO),
                       ("tests/bench/bench-pipeline", BENCH)):
        path = os.path.join(build, path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, stat.S_IRWXU)

    def scaling(fail="", apart=""):
        env = dict(os.environ, CLQ_BENCH_LEAD="0", STUB_FAIL=fail,
                   STUB_APART=apart,
                   OUT=os.path.join(tmp, "out-" + fail.replace(":", "-")))
        return subprocess.run(["bash", script, build, "A", "B", "1", "8"],
                              capture_output=True, text=True, env=env,
                              timeout=120)

    p = scaling()
    assert p.returncode == 0, (p.stdout, p.stderr)
    # raw: 2 x 8 MiB over 100.000 .. 100.0102 s; repeat 4 is left out
    for r in range(4):
        assert (f"raw, two processes, repeat {r}: starts 0.200 ms apart, "
                f"together 10.200 ms, 1.64 GB/s\n") in p.stdout, p.stdout
    assert ("raw, two processes, repeat 4: starts 50.000 ms apart, "
            "together 60.000 ms, 0.28 GB/s (not together: left out)\n") \
        in p.stdout, p.stdout
    assert ("raw OpenCL, 2 processes at once, median of 4: pipelined "
            "10.200 ms, 1.64 GB/s") in p.stdout, p.stdout
    # the demo: 2 x 8 MiB over 100.000 .. 100.0102 s
    both = re.findall(r"both processes: .*", p.stdout)
    assert both == ["both processes: starts 0.200 ms apart, together "
                    "10.20 ms, 1.64 GB/s"] * 2, p.stdout
    # No repeat together: said, and the script fails; a demo run apart
    # is flagged.
    p = scaling(apart="raw")
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert "no repeat of the two processes started together" in p.stderr, \
        p.stderr
    p = scaling(apart="demo")
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    both = re.findall(r"both processes: .*", p.stdout)
    assert both == ["both processes: starts 50.000 ms apart, together "
                    "60.00 ms, 0.28 GB/s (not together: raise "
                    "CLQ_BENCH_LEAD)"] * 2, p.stdout
    # A failed process stops the script, the one in the background too.
    for fail, name, codes in (("bench:A", "bench-pipeline", "1, on B 0"),
                              ("bench:B", "bench-pipeline", "0, on B 1"),
                              ("demo:A", "double-buffer", "1, on B 0"),
                              ("demo:B", "double-buffer", "0, on B 1")):
        p = scaling(fail)
        assert p.returncode == 1, (fail, p.returncode, p.stdout, p.stderr)
        assert (f"scaling-devices: {name} on A exited {codes} (two "
                f"processes at once)") in p.stderr, (fail, p.stderr)
        assert "== the demo's reports" not in p.stdout, (fail, p.stdout)

    # A bench-pipeline without the epoch lines: said, not left out.
    p = scaling("old-bench")
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert "scaling-devices: no repeat with both processes' times" in \
        p.stderr, p.stderr

    # CLQ_BENCH_START_AT more than a day ahead: refused before any work
    # (1e30 started at once, silently; milliseconds slept for ever).
    # CLQ_BENCH_SLOT: seconds between repeats' starts, (0, 3600].
    refused = [("CLQ_BENCH_START_AT", bad, "wants seconds since the epoch")
               for bad in ("1e30", f"{time.time() * 1e3:.0f}",
                           f"{time.time() + 2 * 86400:.3f}", "soon", "0")]
    refused += [("CLQ_BENCH_SLOT", bad, "wants seconds between repeats")
                for bad in ("0", "-1", "3601", "nan", "1s")]
    for var, bad, says in refused:
        p = subprocess.run([bench, "0.0625", "2", "2", "1", "1"],
                           capture_output=True, text=True, cwd=tmp,
                           env=dict(os.environ, **{var: bad}), timeout=60)
        assert p.returncode == 2, (var, bad, p.returncode, p.stdout,
                                   p.stderr)
        assert f"{var} {says}" in p.stderr, (var, bad, p.stderr)

    # A real run: repeat R's pipeline starts at T + R x slot, not before
    # (the sleep's promise; no upper bound is checked).
    shutil.copy(os.path.join(os.path.dirname(script), "..", "..", "cl",
                             "scale.cl"), tmp)
    at, slot = time.time() + 1.0, 0.25
    # In an ASan build, ASan fails to unmap the signal stack of
    # bench-pipeline's device thread as it exits ("unable to unmap",
    # exit 3): PoCL builds the program on that thread, and its LLVM
    # seems to set a signal stack of its own there. ASan's own signal
    # stack off avoids it (PoCL 3.1, GCC 12's ASan).
    asan = os.environ.get("ASAN_OPTIONS", "")
    p = subprocess.run([bench, "0.0625", "2", "2", "1", "3"],
                       capture_output=True, text=True, cwd=tmp,
                       env=dict(os.environ, CLQ_BENCH_START_AT=f"{at:.6f}",
                                CLQ_BENCH_SLOT=str(slot),
                                ASAN_OPTIONS=asan + (":" if asan else "") +
                                "use_sigaltstack=0"),
                       timeout=120)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    starts = {int(m[1]): float(m[2]) for m in re.finditer(
        r"raw OpenCL epoch (\d+): ([\d.]+) ([\d.]+)", p.stdout)}
    assert sorted(starts) == [0, 1, 2], p.stdout
    for r, start in starts.items():
        # 10 ms for the printed time's clock: the monotonic clock plus
        # an offset to the epoch's read once (a slot ignored starts the
        # next repeat at once, not 0.24 s later)
        assert start >= at + r * slot - 0.01, (r, start, at, p.stdout)
print("scaling-devices.sh: figures and failures as expected")
