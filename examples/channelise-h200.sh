#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The channeliser at GPU sizes (meant for an NVIDIA H200): each run times
# the stages one at a time (--serial) and then as the pipelined sequence,
# checks both against the CPU reference, and reports samples/s, the
# speedup and the timeline's overlap.
#
#   examples/channelise-h200.sh [BUILD_DIR [OUT_DIR]]
#
# BUILD_DIR (default build) holds examples/channelise; OUT_DIR (default
# channelise-h200) receives a JSON report and an SVG timeline per run, and
# summary.txt, the table printed at the end. CLQ_DEVICE chooses the device
# as for every clq program (by default a GPU). Each chunk is 2^24 complex
# samples (32 MiB of 8-bit input); 32 chunks a run.
#
# The lead's command on the H200 machine, from the source tree:
#   meson setup build-h200 --buildtype=release && ninja -C build-h200 &&
#   examples/channelise-h200.sh build-h200 channelise-h200
set -eu
build=${1:-build}
out=${2:-channelise-h200}
exe=$build/examples/channelise
[ -x "$exe" ] || { echo "no $exe: build clq first (meson setup $build && ninja -C $build)" >&2; exit 1; }
mkdir -p "$out"

# name, then options
run() {
	name=$1
	shift
	echo "==> channelise $* --json --svg $out/$name.svg" >&2
	"$exe" "$@" --json --svg "$out/$name.svg" >"$out/$name.json"
}

# per chunk and per run; smaller values (CHANNELISE_SAMPLES=262144
# CHANNELISE_CHUNKS=4) try the script out on a CPU device
samples=${CHANNELISE_SAMPLES:-16777216}
chunks=${CHANNELISE_CHUNKS:-32}
status=0
# --prefill: the device's throughput alone (the host writes no samples
# while timed); 3 queues (upload, compute, download) and the FFT, the
# defaults
for n in 64 256 1024; do
	run "prefill-n$n" --channels $n --taps 8 --spectra $((samples / n)) \
		--accumulate 256 --chunks $chunks --prefill || status=1
done
# the direct DFT (N^2 multiply-adds a spectrum): compute-bound
run prefill-n1024-direct --dft direct --channels 1024 --taps 8 \
	--spectra $((samples / 1024)) --accumulate 256 --chunks $chunks \
	--prefill || status=1
# a queue per stage, with and without the alias
run prefill-n256-6q --queues 6 --channels 256 --taps 8 \
	--spectra $((samples / 256)) --accumulate 256 --chunks $chunks --prefill ||
	status=1
run prefill-n256-6q-no-alias --queues 6 --no-alias --channels 256 --taps 8 \
	--spectra $((samples / 256)) --accumulate 256 --chunks $chunks --prefill ||
	status=1
# the host writes every chunk's samples into a pooled pinned array
run hostfed-n256 --channels 256 --taps 8 --spectra $((samples / 256)) \
	--accumulate 256 --chunks $chunks || status=1

python3 - "$out" <<'EOF' | tee "$out/summary.txt"
import glob, json, os, sys
out = sys.argv[1]
print(f"{'run':28} {'serial GS/s':>11} {'pipe GS/s':>10} {'speedup':>8} "
      f"{'overlap':>8} {'checked':>9}  verdict")
for path in sorted(glob.glob(os.path.join(out, '*.json'))):
    try:
        r = json.load(open(path))
    except ValueError:
        print(f"{os.path.basename(path)[:-5]:28} (no report)")
        continue
    s, p = r['serial'], r['pipelined']
    checked = f"{p['checked']}/{p['outputs']}"
    print(f"{os.path.basename(path)[:-5]:28} {s['samples_per_s'] / 1e9:11.3f} "
          f"{p['samples_per_s'] / 1e9:10.3f} {r['speedup']:8.2f} "
          f"{100 * r['overlap']:7.1f}% {checked:>9}  {r['verdict']}")
print(f"device: {r['device']} ({r['platform']})")
EOF
exit $status
