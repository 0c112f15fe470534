#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Where a pipeline on two devices in one process loses against two
# processes (issue 20's 1.9x goal on two H200s): the raw-OpenCL pipeline
# (bench-pipeline) and the double-buffer demo, each on one device, on two
# devices in one process (contexts made on each device's thread, and on
# the main thread), and as two processes at once; alternated twice; then
# every demo report's per-device wall time, device span and stage medians
# (a longer span with the same stages: gaps between commands; longer
# stages: slower transfers or kernels). Two processes start their
# pipelines together (CLQ_BENCH_START_AT, --start-at: a few seconds ahead,
# past each one's setup), and their figure is that of one process with
# two devices: every chunk of both over the span from the first pipeline's
# start to the last one's end (seconds since the epoch, the clock they
# share); started apart, their runs need not overlap at all.
#
# usage: scaling-devices.sh BUILD_DIR SPEC0 SPEC1 [CHUNK_MIB [CHUNKS]]
#   default 64 MiB x 32 chunks per device (on the H200s: 1 and 1:0 1:1
#   with PoCL as platform 0); the iterations come from the demo's
#   --balance on SPEC0. Reports go to $OUT (else ./scaling-devices).
#   CLQ_BENCH_LEAD (default 8 s) and CLQ_BENCH_SLOT (bench-pipeline's
#   seconds between repeats; default 2 s plus 1 s per GiB a device moves:
#   a repeat of 64 MiB x 32 took an H200 1.4-1.6 s, checks included): raise
#   them where setup or a repeat takes longer (a warning says a start time
#   had passed). Two processes' runs whose starts are further apart than
#   5% of the shorter run are not together: said, and left out.
set -euo pipefail

if [ $# -lt 3 ]; then
    echo "usage: $0 BUILD_DIR SPEC0 SPEC1 [CHUNK_MIB [CHUNKS]]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
d0=$2
d1=$3
mib=${4:-64}
chunks=${5:-32}
# seconds from a two-process run's launch to its common start: past
# context creation, warm-up and the sequential loop (about 1 s on an H200)
lead=${CLQ_BENCH_LEAD:-8}
export CLQ_BENCH_SLOT=${CLQ_BENCH_SLOT:-$(awk -v m="$mib" -v c="$chunks" \
    'BEGIN { print 2 + m * c / 1024 }')}
out=${OUT:-scaling-devices}
mkdir -p "$out"
out=$(cd "$out" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
demo=$build/examples/double-buffer
bench=$build/tests/bench/bench-pipeline
unset CLQ_DEVICE PYOPENCL_CTX
# bench-pipeline reads scale.cl from its working directory
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/../../cl/scale.cl" "$work/"
cd "$work"

# The end of two processes run at once: NAME, the first one's process id
# (in the background) and the second one's exit status. A failure of
# either stops the script (a plain `wait` ignored the first one's, whose
# figures were then left out or read from an empty report; set -e left
# the first one running when the second failed).
both() {
    local rc0=0
    wait "$2" || rc0=$?
    if [ "$rc0" -ne 0 ] || [ "$3" -ne 0 ]; then
        echo "scaling-devices: $1 on $d0 exited $rc0, on $d1 $3" \
            "(two processes at once)" >&2
        exit 1
    fi
}

iters=$("$demo" --device "$d0" --chunk-mib "$mib" --chunks "$chunks" \
    --balance --json | python3 -c \
    'import json, sys; print(json.load(sys.stdin)["iters"])')
args=("$mib" "$chunks" 3 "$iters" 5)
demo_args=(--chunk-mib "$mib" --iters "$iters" --json --chunks)
echo "per device: $mib MiB x $chunks chunks, $iters iterations;" \
    "devices $d0 and $d1"
for rep in 1 2; do
    echo "== run $rep"
    echo "raw, one device:"
    CLQ_DEVICE=$d0 "$bench" "${args[@]}" | tail -n 1
    echo "raw, two devices in one process (contexts on their threads):"
    CLQ_BENCH_DEVICES=$d0,$d1 "$bench" "${args[@]}" | tail -n 3
    echo "raw, two devices in one process (contexts on the main thread):"
    CLQ_BENCH_CONTEXTS=main CLQ_BENCH_DEVICES=$d0,$d1 "$bench" \
        "${args[@]}" | tail -n 3
    echo "raw, two processes at once:"
    at=$(date -d "+$lead sec" +%s.%N)
    CLQ_BENCH_START_AT=$at CLQ_DEVICE=$d0 "$bench" "${args[@]}" \
        >"$work/p0" &
    pid=$!
    rc=0
    CLQ_BENCH_START_AT=$at CLQ_DEVICE=$d1 "$bench" "${args[@]}" \
        >"$work/p1" || rc=$?
    both "bench-pipeline" "$pid" "$rc"
    tail -n 1 "$work/p0"
    tail -n 1 "$work/p1"
    python3 - "$work/p0" "$work/p1" "$mib" "$chunks" <<'EOF'
import re, statistics, sys

runs = [dict((int(r), (float(a), float(b))) for r, a, b in re.findall(
    r"^raw OpenCL epoch (\d+): (\S+) (\S+)$", open(f).read(), re.M))
    for f in sys.argv[1:3]]
gb = 2 * float(sys.argv[3]) * 1048576 * int(sys.argv[4]) / 1e9
spans = []
common = sorted(set(runs[0]) & set(runs[1]))
for r in common:
    (a0, b0), (a1, b1) = runs[0][r], runs[1][r]
    span = max(b0, b1) - min(a0, a1)
    # apart by more than 5% of the shorter run: one ran mostly alone
    together = abs(a1 - a0) <= 0.05 * min(b0 - a0, b1 - a1)
    if together:
        spans.append(span)
    print(f"raw, two processes, repeat {r}: starts {abs(a1 - a0) * 1e3:.3f}"
          f" ms apart, together {span * 1e3:.3f} ms, {gb / span:.2f} GB/s"
          + ("" if together else " (not together: left out)"))
if not common:  # it said nothing
    sys.exit("scaling-devices: no repeat with both processes' times (lines "
             "'raw OpenCL epoch R: START END'): is bench-pipeline older "
             "than CLQ_BENCH_START_AT?")
if not spans:
    sys.exit("scaling-devices: no repeat of the two processes started "
             "together: raise CLQ_BENCH_LEAD or CLQ_BENCH_SLOT")
print(f"raw OpenCL, 2 processes at once, median of {len(spans)}: "
      f"pipelined {statistics.median(spans) * 1e3:.3f} ms, "
      f"{gb / statistics.median(spans):.2f} GB/s")
EOF
    "$demo" --device "$d0" "${demo_args[@]}" "$chunks" >"$out/one-$rep.json"
    "$demo" --devices "$d0,$d1" "${demo_args[@]}" $((2 * chunks)) \
        >"$out/two-$rep.json"
    at=$(date -d "+$lead sec" +%s.%N)
    "$demo" --device "$d0" --start-at "$at" "${demo_args[@]}" "$chunks" \
        >"$out/proc0-$rep.json" &
    pid=$!
    rc=0
    "$demo" --device "$d1" --start-at "$at" "${demo_args[@]}" "$chunks" \
        >"$out/proc1-$rep.json" || rc=$?
    both "double-buffer" "$pid" "$rc"
done
echo "== the demo's reports (pipelined run)"
python3 - "$out" <<'EOF'
import glob, json, os, sys

for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    doc = json.load(open(f))
    devs = [doc] if doc.get("report") == "device" else doc["devices"]
    for k, d in enumerate(devs):
        p = d["pipelined"]
        gb = d["chunks"] * doc["chunk_bytes"] / p["wall_s"] / 1e9
        stages = ", ".join(f"{s} {t * 1e3:.3f}"
                           for s, t in p["stage_s"].items())
        print(f"{os.path.basename(f):14} device {k}: wall "
              f"{p['wall_s'] * 1e3:8.2f} ms ({gb:6.2f} GB/s), device span "
              f"{p['device_span_s'] * 1e3:8.2f} ms, stage medians (ms) "
              f"{stages}")
    if doc.get("report") == "devices":
        print(f"{'':14} total {doc['total']['pipelined_gb_s']:.2f} GB/s")
    # the two processes of a run together, as one process would count them
    name = os.path.basename(f)
    if name.startswith("proc1-"):
        p0 = json.load(open(os.path.join(sys.argv[1], "proc0-" + name[6:])))
        runs = [p0["pipelined"], doc["pipelined"]]
        first = min(r["epoch_start_s"] for r in runs)
        last = max(r["epoch_start_s"] + r["wall_s"] for r in runs)
        apart = abs(runs[1]["epoch_start_s"] - runs[0]["epoch_start_s"])
        together = apart <= 0.05 * min(r["wall_s"] for r in runs)
        gb = (p0["chunks"] + doc["chunks"]) * doc["chunk_bytes"] / 1e9
        print(f"{'':14} both processes: starts {apart * 1e3:.3f} ms apart,"
              f" together {(last - first) * 1e3:.2f} ms, "
              f"{gb / (last - first):.2f} GB/s"
              + ("" if together else " (not together: raise "
                 "CLQ_BENCH_LEAD)"))
EOF
