#!/usr/bin/env python3
# clq-time transfer against clpeak's transfer-bandwidth test on the same
# device (CLQ_DEVICE, or clq's default), alternating the tools ROUNDS
# times. Where they measure the same thing the table pairs them:
#   clpeak (wall clock, blocking loop)  ~ clq-time wall median, pageable
#   clpeak --use-event-timer            ~ clq-time device median, pageable
# clpeak copies between a pageable host block and one buffer created with
# CL_MEM_ALLOC_HOST_PTR, BYTES at a time (512 MiB on the devices we ran;
# give that size). Exits 77 (skipped) without clpeak.
# usage: compare-clpeak.py CLQ-TIME [ROUNDS [BYTES [BUDGET]]]
import json, re, shutil, statistics, subprocess, sys

tool = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
size = sys.argv[3] if len(sys.argv) > 3 else "512M"
budget = sys.argv[4] if len(sys.argv) > 4 else "1"
clpeak = shutil.which("clpeak")
if not clpeak:
    print("clpeak is not installed (Debian: apt-get install clpeak)")
    sys.exit(77)

devices = json.loads(subprocess.run([tool, "devices", "--json"], check=True,
                                    capture_output=True, text=True).stdout)
device = next(d for d in devices["devices"] if d["index"] == devices["default"])
platform, index = device["spec"].split(":")


def clpeak_run(event_timer):
    cmd = [clpeak, "-p", platform, "-d", index, "--transfer-bandwidth"]
    out = subprocess.run(cmd + (["--use-event-timer"] if event_timer else []),
                         check=True, capture_output=True, text=True).stdout
    found = {}
    for name, key in (("enqueueWriteBuffer", "write"),
                      ("enqueueReadBuffer", "read"),
                      ("enqueueWriteBuffer non-blocking", "write-nb"),
                      ("enqueueReadBuffer non-blocking", "read-nb")):
        m = re.search(r"^\s*" + re.escape(name) + r"\s*:\s*([0-9.]+)\s*$",
                      out, re.M)
        assert m, (name, out)
        found[key] = float(m.group(1))
    return found


def clq_run():
    out = subprocess.run([tool, "transfer", "--json", "--size", size,
                          "--budget", budget, "--memory", "pageable"],
                         check=True,
                         capture_output=True, text=True).stdout
    res = {}
    for r in json.loads(out)["results"]:
        res[(r["direction"], r["memory"])] = r
    return res


rows = {}  # label -> (clq-time figures, clpeak figures), one per round
for _ in range(rounds):
    clq = clq_run()
    wall = clpeak_run(False)
    event = clpeak_run(True)
    h2d, d2h = (clq[("host-to-device", "pageable")],
                clq[("device-to-host", "pageable")])
    for label, ours, theirs in (
            ("h2d pageable, wall: clpeak enqueueWriteBuffer", h2d["wall_gbps"]["median"], wall["write"]),
            ("d2h pageable, wall: clpeak enqueueReadBuffer", d2h["wall_gbps"]["median"], wall["read"]),
            ("h2d pageable, device: clpeak --use-event-timer write", h2d["device_gbps"]["median"], event["write"]),
            ("d2h pageable, device: clpeak --use-event-timer read", d2h["device_gbps"]["median"], event["read"]),
            ("h2d pageable, device: ... write non-blocking", h2d["device_gbps"]["median"], event["write-nb"]),
            ("d2h pageable, device: ... read non-blocking", d2h["device_gbps"]["median"], event["read-nb"])):
        rows.setdefault(label, ([], []))
        rows[label][0].append(ours)
        rows[label][1].append(theirs)

print(f"{device['name']} ({device['platform']}, {device['spec']}), "
      f"{size} per transfer, {rounds} rounds alternating; GB/s, median of rounds")
print(f"{'measurement':56} {'clq-time':>9} {'clpeak':>9} {'ratio':>7}"
      "   rounds: clq-time min-max / clpeak min-max")
worst = 0.0
for label, (ours, theirs) in rows.items():
    o, t = statistics.median(ours), statistics.median(theirs)
    worst = max(worst, abs(o / t - 1))
    print(f"{label:56} {o:9.2f} {t:9.2f} {o / t:7.3f}   "
          f"{min(ours):.2f}-{max(ours):.2f} / {min(theirs):.2f}-{max(theirs):.2f}")
print(f"largest difference where both measure: {100 * worst:.1f}%")
