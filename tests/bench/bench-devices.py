#!/usr/bin/env python3
# The double-buffer demo on one device against the same demo on several
# (--devices), for issue 20's goal: two H200s at >= 1.9x the one-device
# pipelined throughput, every output element checked.
#
# usage: bench-devices.py BUILD_DIR [REPS] [DEMO ARGS...]
#   BUILD_DIR  a clq build (examples/hello and examples/double-buffer)
#   REPS       runs of each set-up, alternated (default 3); medians reported
#   DEMO ARGS  default: --chunk-mib 64 --chunks 32 (per device) and the
#              iterations --balance picks on the first device
# Devices: CLQ_BENCH_DEVICES (comma-separated specs), else the first two
# devices whose platform or name contains "NVIDIA", found in `hello`'s list.
# Writes JSON reports and one two-device SVG to $OUT (else ./bench-devices).
#
# Four set-ups, each from a fresh process:
#   one      --device D0, N chunks
#   weak     --devices D0,D1 --numa auto, 2N chunks (N per device, as two
#            processes with one GPU each would do; the 1.9x): each
#            device's host memory allocated and filled, and its pipeline
#            run, on the CPUs of its NUMA node
#   weak-off the same with --numa off: no thread bound, host memory
#            wherever the main thread ran (the placement before --numa)
#   strong   --devices D0,D1 --numa auto, N chunks (N/2 per device: the
#            pipeline fills and drains twice as often per chunk, so this is
#            lower)
# Throughput: input bytes / pipelined host seconds (first enqueue on any
# device to the last queue finished), decimal GB/s.
import json, os, re, statistics, subprocess, sys

build = sys.argv[1] if len(sys.argv) > 1 else "build"
reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
extra = sys.argv[3:]
demo = os.path.join(build, "examples", "double-buffer")
hello = os.path.join(build, "examples", "hello")
out = os.environ.get("OUT") or "bench-devices"
os.makedirs(out, exist_ok=True)


def devices():
    if os.environ.get("CLQ_BENCH_DEVICES"):
        return os.environ["CLQ_BENCH_DEVICES"].split(",")
    listing = subprocess.run([os.path.abspath(hello)], capture_output=True,
                             text=True,
                             cwd=os.path.dirname(hello)).stdout
    found = re.findall(r"^\s+\d+ \((\d+:\d+)\) (.*)$", listing, re.M)
    nvidia = [spec for spec, rest in found if "nvidia" in rest.lower()]
    if len(nvidia) < 2:
        sys.exit("bench-devices: fewer than two NVIDIA devices in:\n" +
                 listing + "\nset CLQ_BENCH_DEVICES=SPEC,SPEC")
    return nvidia[:2]


def run(args, name):
    # the demo finds scale.cl next to itself
    p = subprocess.run([os.path.abspath(demo), *args, "--json"],
                       capture_output=True, text=True,
                       cwd=os.path.dirname(demo))
    if p.returncode != 0:
        sys.exit(f"bench-devices: {args} exited {p.returncode}:\n"
                 f"{p.stdout}\n{p.stderr}")
    with open(os.path.join(out, name + ".json"), "w") as f:
        f.write(p.stdout)
    return json.loads(p.stdout)


specs = devices()
size = ["--chunk-mib", "64"]
chunks = 32
if extra:
    size = extra
    m = re.search(r"--chunks[ =](\d+)", " ".join(extra))
    chunks = int(m.group(1)) if m else 16  # the demo's default
else:
    size += ["--chunks", str(chunks)]


def with_chunks(args, n):
    args = list(args)
    if "--chunks" in args:
        args[args.index("--chunks") + 1] = str(n)
    else:
        args += ["--chunks", str(n)]
    return args


# the iterations: --balance once on the first device, then fixed for all
if "--iters" not in size and "--balance" not in size:
    doc = run(["--device", specs[0], "--balance"] + size, "balance")
    size += ["--iters", str(doc["iters"])]
print(f"devices {','.join(specs)}; per device: {' '.join(size)}")

weak = ["--devices", ",".join(specs)] + with_chunks(size,
                                                   chunks * len(specs))
setups = {
    "one": ["--device", specs[0]] + size,
    "weak": weak + ["--numa", "auto"],
    "weak-off": weak + ["--numa", "off"],
    "strong": ["--devices", ",".join(specs), "--numa", "auto"] + size,
}
gbs = {name: [] for name in setups}
numa = {}
per_dev = {name: [] for name in setups}
for rep in range(reps):
    for name, args in setups.items():
        if name == "weak" and rep == 0:
            args = args + ["--svg", os.path.abspath(
                os.path.join(out, "double-buffer-2gpu.svg"))]
        doc = run(args, f"{name}-{rep}")
        if name == "one":
            assert doc["pipelined"]["mismatches"] == 0
            n = doc["chunks"] * doc["chunk_bytes"]
            gbs[name].append(n / doc["pipelined"]["wall_s"] / 1e9)
            per_dev[name].append([gbs[name][-1]])
        else:
            assert doc["total"]["mismatches"] == 0
            # two specs that select one device do not make two devices
            index = [d["device_index"] for d in doc["devices"]]
            if len(set(index)) < len(index):
                sys.exit(f"bench-devices: {','.join(specs)} select devices "
                         f"{index}: give specs of different devices")
            gbs[name].append(doc["total"]["pipelined_gb_s"])
            per_dev[name].append([d["pipelined_gb_s"]
                                  for d in doc["devices"]])
            # where each device's host memory went (null: unknown/off)
            numa[name] = [("off" if doc["numa"] == "off" else "unknown")
                          if d["numa_node"] is None else
                          f"node {d['numa_node']} CPUs {d['numa_cpus']}"
                          for d in doc["devices"]]
        print(f"  {name:8} run {rep}: {gbs[name][-1]:7.2f} GB/s "
              f"(per device: "
              f"{', '.join(f'{x:.2f}' for x in per_dev[name][-1])})",
              flush=True)

one = statistics.median(gbs["one"])
print(f"medians of {reps} runs, pipelined throughput, ratio to one device:")
for name in setups:
    g = statistics.median(gbs[name])
    dev = [statistics.median(r[k] for r in per_dev[name])
           for k in range(len(per_dev[name][0]))]
    where = ""
    if name in numa:
        where = "; NUMA " + ", ".join(f"device {k}: {w}"
                                      for k, w in enumerate(numa[name]))
    print(f"  {name:8} {g:7.2f} GB/s = {g / one:.2f}x (per device "
          f"{', '.join(f'{x:.2f}' for x in dev)} GB/s; runs "
          f"{', '.join(f'{x / one:.2f}x' for x in gbs[name])}){where}")
print("goal: weak >= 1.9x (the same chunks per device as the one-device "
      "run); weak-off is the placement without --numa")
