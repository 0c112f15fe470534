#!/usr/bin/env python3
# Runs the double-buffer demo and checks its verdict: wrapped to $COLUMNS
# (else 80 columns when stdout is not a terminal), stating the thresholds
# that make a run "overlapped", and agreeing with the numbers it reports,
# a pipeline slower than the sequential loop said to be slower, and why.
# usage: check-double-buffer.py DEMO
import json, os, re, subprocess, sys

demo = sys.argv[1]
small = ["--chunk-mib", "0.0625", "--chunks", "6", "--iters", "8"]


def run(args, columns=None):
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns is not None:
        env["COLUMNS"] = columns
    p = subprocess.run([demo, *args], capture_output=True, text=True,
                       env=env)
    assert p.returncode == 0, (args, p.returncode, p.stdout, p.stderr)
    return p.stdout


def verdict_lines(text):
    lines = text.splitlines()
    first = next(i for i, l in enumerate(lines) if l.startswith("verdict: "))
    rest = lines[first + 1:]
    assert all(l.startswith("  ") and l[2] != " " for l in rest), rest
    return lines[first:]


# Wrapped to the width asked for, indented after the first line, words
# kept whole; the rule for "overlapped" stated with its thresholds.
for columns, width in (("60", 60), (None, 80), ("20", 40), ("x", 80)):
    lines = verdict_lines(run(small, columns))
    assert len(lines) >= 2, lines
    assert max(map(len, lines)) <= width, (columns, lines)
    assert max(map(len, lines)) > width - 20, (columns, lines)
    text = " ".join(l.strip() for l in lines)
    assert '"overlapped" means two or more commands together >= 25% of ' \
        "the device time and >= 1.10x the speed of the sequential loop" \
        in text, text

# The verdict agrees with the numbers, in several set-ups (2 queues on a
# CPU device is often slower than the sequential loop).
seen = set()
for args in (small, small + ["--queues", "2"],
             ["--chunk-mib", "0.25", "--chunks", "4", "--queues", "2"],
             small + ["--buffers", "1"]):
    doc = json.loads(run(args + ["--json"]))
    speedup, overlap = doc["speedup"], doc["overlap"]
    verdict, reason = doc["verdict"], doc["reason"]
    assert doc["overlap_threshold"] == 0.25, doc
    assert doc["speedup_threshold"] == 1.1, doc
    assert "25%" in reason and "1.10x" in reason, reason
    # figures truncated: a value under a threshold never prints as it
    x = float(re.search(r"(\d+\.\d\d)x", reason).group(1))
    assert speedup - 0.01 <= x <= speedup + 1e-6, (speedup, reason)
    x = float(re.search(r"(\d+\.\d)% of the device time", reason).group(1))
    assert 100 * overlap - 0.1 <= x <= 100 * overlap + 1e-4, (overlap, reason)
    if speedup < 1:
        expect = "slower than the sequential loop"
        assert re.search(r"took \d+\.\d% longer", reason), reason
        if "CPU device" in reason:
            assert "only add overhead" in reason, reason
    elif overlap >= 0.25 and speedup >= 1.1:
        expect = "overlapped"
    elif overlap >= 0.25:
        expect = "overlapped, but no faster"
    else:
        expect = "no overlap"
    assert verdict.startswith(expect), (speedup, overlap, verdict)
    assert "slower" not in reason or speedup < 1, reason
    seen.add(expect)
print("verdicts seen:", ", ".join(sorted(seen)))

# A chunk smaller than one float is refused, not rounded up to one.
p = subprocess.run([demo, "--chunk-mib", "1e-300"], capture_output=True,
                   text=True)
assert p.returncode == 2 and "--chunk-mib wants a number of MiB from one " \
    "float (4 bytes, 3.8147e-06 MiB) to 1048576, not '1e-300'" in p.stderr, p
