#!/usr/bin/env bash
# The tuning figures of the README on a GPU (written for the H200): the
# transpose tile tuned for three shapes (the PoCL shapes, then three 64
# times larger), the best and worst candidates, the speedup over the
# default tile, the tuning time and the cost of a cached lookup
# (bench-tune), and clq-tune's own run over the same grid, from a
# clean build of this checkout.
#   usage: tests/bench/tune-h200.sh [DEVICE_SPEC]   (default: NVIDIA)
# Prints text and JSON; leaves build-tune-bench/ and /tmp/clq-tune-h200*.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CLQ_DEVICE=${1:-NVIDIA}
build=build-tune-bench
if [ -f "$build/build.ninja" ]; then
    meson setup --reconfigure "$build" -Dtests=enabled -Dsqlite=enabled >/dev/null
else
    meson setup "$build" -Dtests=enabled -Dsqlite=enabled \
        -Dbuildtype=release >/dev/null
fi
ninja -C "$build" tests/bench/bench-tune tools/clq-tune/clq-tune >/dev/null
rm -f /tmp/clq-tune-h200.db /tmp/clq-tune-h200-tool.db
for shapes in "1024x1024 4096x256 256x4096" "8192x8192 32768x2048 2048x32768"; do
    # shellcheck disable=SC2086
    "$build/tests/bench/bench-tune" --budget 0.2 /tmp/clq-tune-h200.db $shapes
    # shellcheck disable=SC2086
    "$build/tests/bench/bench-tune" --json --budget 0.2 --lookups 20000 \
        /tmp/clq-tune-h200.db $shapes
done
cat >/tmp/clq-tune-h200.grid <<GRID
tunable transpose
budget 0.2
problem rows=8192 cols=8192
problem rows=32768 cols=2048
problem rows=2048 cols=32768
GRID
time "$build/tools/clq-tune/clq-tune" run --quiet --db /tmp/clq-tune-h200-tool.db \
    /tmp/clq-tune-h200.grid
