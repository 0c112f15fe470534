#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# One MPI rank on one GPU against two ranks on a GPU each, same work per
# rank: examples/mpi-stream under mpirun, the two alternated three times,
# each run's throughput printed, then the ratio of the two-rank to the
# one-rank throughput (the median of the three).
#
# usage: mpi-devices.sh BUILD_DIR [MPI-STREAM OPTION...]
#
# The options (default --chunk-mib 64 --chunks 16: 1 GiB per rank) go to
# every run; --chunks counts each rank's chunks. Each rank takes the GPU
# of its local index (CLQ_DEVICE and PYOPENCL_CTX are unset here, which
# would put both on one device): give --devices 0:0 ... to choose, though
# the same list then serves both runs (the one-rank run wants one spec:
# better leave it out). Throughput is mpi-stream's total: input bytes
# over rank 0's time from the start to the last result gathered, so the
# two-rank figure pays for moving rank 1's data through MPI. mpirun runs
# with --bind-to none (OpenMPI binds each rank to one core by default,
# where the driver's threads would compete with the rank's loop), and
# with --allow-run-as-root as root. MPIRUN names another mpirun command
# (words split at blanks: "mpirun --oversubscribe" for PoCL's two devices
# on a small machine). Exits 1
# when a run fails or its check does, or when two ranks share a device.
set -euo pipefail

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [MPI-STREAM OPTION...]" >&2
    exit 2
fi
exe=$1/examples/mpi-stream
shift
if [ ! -x "$exe" ]; then
    echo "$0: no $exe: build with MPI (meson feature mpi; see" \
        "tests/bench/install-openmpi-debs.sh)" >&2
    exit 1
fi
opts=(--chunk-mib 64 --chunks 16 "$@")
read -ra mpirun <<<"${MPIRUN:-mpirun}"
flags=(--bind-to none)
[ "$(id -u)" -ne 0 ] || flags+=(--allow-run-as-root)
unset CLQ_DEVICE PYOPENCL_CTX

# One run of N ranks: prints "GB/s DEVICES PER-RANK-GB/S"
run() {
    local json
    json=$("${mpirun[@]}" "${flags[@]}" -np "$1" "$exe" "${opts[@]}" --json) || {
        echo "$0: mpirun -np $1 failed" >&2
        return 1
    }
    python3 -c '
import json, sys
r = json.loads(sys.argv[1])
specs = [k["spec"] for k in r["ranks"]]
if r["total"]["mismatches"]:
    sys.exit("mismatches: %d" % r["total"]["mismatches"])
if len(set(specs)) != len(specs):
    sys.exit("ranks share a device: %s" % ",".join(specs))
print("%.3f %s %s" % (r["total"]["gb_s"], ",".join(specs),
      ",".join("%.3f" % k["gb_s"] for k in r["ranks"])))
' "$json"
}

echo "mpi-stream ${opts[*]} (later options win), per rank;" \
    "$("${mpirun[0]}" --version | head -n 1)"
ones=()
twos=()
for i in 1 2 3; do
    out=$(run 1) || exit 1
    read -r gb specs per <<<"$out"
    echo "run $i, 1 rank:  $gb GB/s (device $specs)"
    ones+=("$gb")
    out=$(run 2) || exit 1
    read -r gb specs per <<<"$out"
    echo "run $i, 2 ranks: $gb GB/s (devices $specs; per rank $per GB/s)"
    twos+=("$gb")
done
python3 -c '
import statistics, sys
one = [float(x) for x in sys.argv[1].split()]
two = [float(x) for x in sys.argv[2].split()]
ratios = [b / a for a, b in zip(one, two)]
print("median: 1 rank %.3f GB/s, 2 ranks %.3f GB/s; ratio %.2fx "
      "(runs: %s)" % (statistics.median(one), statistics.median(two),
                      statistics.median(ratios),
                      ", ".join("%.2fx" % r for r in ratios)))
' "${ones[*]}" "${twos[*]}"
