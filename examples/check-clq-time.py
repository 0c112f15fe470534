#!/usr/bin/env python3
# Runs clq-time's commands with --json (and --trace/--svg) and checks what
# they print: the documents parse, carry the format version, and hold
# sane numbers; usage errors exit 2, device errors 1, each with a message.
# usage: check-clq-time.py CLQ-TIME CL-DIR
import json, math, os, subprocess, sys, tempfile
import xml.etree.ElementTree as ET

tool, cl_dir = sys.argv[1], sys.argv[2]
SVG = "{http://www.w3.org/2000/svg}"


def run(*args, code=0):
    p = subprocess.run([tool, *args], capture_output=True, text=True)
    assert p.returncode == code, (args, p.returncode, p.stdout, p.stderr)
    if code:
        assert p.stderr.startswith("clq"), (args, p.stderr)
    return p.stdout


def document(command, *args):
    doc = json.loads(run(command, "--json", *args))
    assert doc["tool"] == "clq-time" and doc["format"] == 1, doc
    assert doc["command"] == command
    return doc


def check_stats(s, lo=0.0):
    assert s["n"] >= 3, s
    assert lo <= s["min"] <= s["median"] <= s["max"], s


def check_exports(trace, svg, names):
    events = json.load(open(trace))["traceEvents"]
    spans = [e for e in events if e["ph"] == "X"]
    assert spans and all(e["dur"] >= 0 for e in spans)
    assert names <= {e["name"] for e in spans}, {e["name"] for e in spans}
    root = ET.parse(svg).getroot()
    assert root.tag == SVG + "svg"
    assert len(root.findall(f"{SVG}rect/{SVG}title")) == len(spans)
    return spans


# devices: every device, each selectable by its index and P:D spec
doc = document("devices")
assert doc["devices"], doc
for d in doc["devices"]:
    assert d["name"] and d["opencl"] >= 120 and d["compute_units"] >= 1, d
    for spec in (str(d["index"]), d["spec"]):
        one = document("devices", "--device", spec)["devices"]
        assert [x["index"] for x in one] == [d["index"]], (spec, one)
assert doc["default"] in [d["index"] for d in doc["devices"]]

with tempfile.TemporaryDirectory() as tmp:
    trace, svg = os.path.join(tmp, "t.json"), os.path.join(tmp, "t.svg")

    # transfer: five results per size, bandwidth = bytes / time
    doc = document("transfer", "--size", "64K,256K", "--budget", "0.02",
                   "--trace", trace, "--svg", svg)
    kinds = {(r["direction"], r["memory"]) for r in doc["results"]}
    assert len(doc["results"]) == 10 and len(kinds) == 5, doc["results"]
    for r in doc["results"]:
        assert r["bytes"] in (65536, 262144)
        check_stats(r["device_s"])
        check_stats(r["wall_s"])
        assert r["runs"] == r["device_s"]["n"]
        if r["device_s"]["median"] > 0:
            expect = r["bytes"] / r["device_s"]["median"] * 1e-9
            assert math.isclose(r["device_gbps"]["median"], expect,
                                rel_tol=1e-6), r
        assert r["wall_gbps"]["median"] > 0
    spans = check_exports(trace, svg, {"write pinned 64 KiB",
                                       "read pageable 256 KiB",
                                       "copy device 256 KiB"})
    # every timed run (and the warm-ups) is on the timeline
    assert len(spans) == sum(r["runs"] + 2 for r in doc["results"])

    # --memory picks kinds: pageable only is two results per size
    doc = document("transfer", "--size", "4K", "--budget", "0.01",
                   "--memory", "pageable")
    assert [(r["direction"], r["memory"]) for r in doc["results"]] == [
        ("host-to-device", "pageable"), ("device-to-host", "pageable")]

    # kernel: scale.cl, with GB/s and GFLOP/s from the given counts
    n = 4096
    doc = document("kernel", os.path.join(cl_dir, "scale.cl"), "scale",
                   "--global", str(n), "--local", "64",
                   "--arg", f"buf:float32:{n}", "--arg", f"uint:{n}",
                   "--arg", "float:1", "--arg", "float:0.5",
                   "--arg", "uint:8", "--bytes", f"{8 * n // 1024}K",
                   "--flops", str(16 * n), "--budget", "0.02",
                   "--trace", trace, "--svg", svg)
    check_stats(doc["device_s"])
    t = doc["device_s"]["median"]
    assert doc["global"] == [n] and doc["local"] == [64]
    if t > 0:
        assert math.isclose(doc["gbps"], 8 * n / t * 1e-9, rel_tol=1e-6)
        assert math.isclose(doc["gflops"], 16 * n / t * 1e-9, rel_tol=1e-6)
    spans = check_exports(trace, svg, {"kernel scale", "write"})
    kernels = [e for e in spans if e["name"] == "kernel scale"]
    assert len(kernels) == doc["device_s"]["n"] + 2
    assert all(e["args"]["bytes"] == 4 * n for e in kernels)

    # latency
    doc = document("latency", "--budget", "0.02")
    for key in ("marker_round_trip_us", "launch_queued_to_start_us",
                "enqueue_marker_us", "enqueue_kernel_us"):
        check_stats(doc[key])
    assert doc["enqueue_marker_us"]["median"] > 0

# mistakes: usage (2) and device-side (1), each with a message
scale = os.path.join(cl_dir, "scale.cl")
for args, code in [
        ((), 2), (("frobnicate",), 2), (("transfer", "--size", "0"), 2),
        (("transfer", "--size", "1X"), 2), (("devices", "--svg", "x"), 2),
        (("transfer", "--memory", "pinned,"), 2),
        (("transfer", "--memory", "disk"), 2),
        (("latency", "--memory", "pinned"), 2),
        (("latency", "--global", "4"), 2), (("latency", "--budget", "-1"), 2),
        (("kernel", scale), 2), (("kernel", scale, "scale"), 2),
        (("kernel", scale, "scale", "--global", "4,0"), 2),
        (("kernel", scale, "scale", "--global", "4", "--local", "2,2"), 2),
        (("kernel", scale, "scale", "--global", "4", "--arg", "buf:f:4"), 2),
        (("kernel", scale, "scale", "--global", "4", "--arg", "uchar:256"), 2),
        (("kernel", scale, "scale", "--global", "4", "--arg", "uint:-1"), 2),
        (("kernel", scale, "scale", "--global", "4", "--arg", "what:1"), 2),
        (("kernel", scale, "scale", "--global", "4", "--bytes", "1.5"), 2),
        (("kernel", scale, "scale", "--global", "4", "--flops", "x"), 2),
        (("devices", "--device", "no such device"), 1),
        (("kernel", "no-such-file.cl", "k", "--global", "4"), 1),
        (("kernel", scale, "nosuch", "--global", "4"), 1),
        (("kernel", scale, "scale", "--global", "4"), 1),  # argument count
        (("kernel", scale, "scale", "--global", "5", "--local", "2",
          "--arg", "buf:float32:4", "--arg", "uint:4", "--arg", "float:1",
          "--arg", "float:1", "--arg", "uint:1"), 1),  # 5 % 2
]:
    run(*args, code=code)
with tempfile.TemporaryDirectory() as tmp:
    broken = os.path.join(tmp, "broken.cl")
    open(broken, "w").write("__kernel void k(void) { this is not C; }\n")
    err = subprocess.run([tool, "kernel", broken, "k", "--global", "4"],
                         capture_output=True, text=True)
    assert err.returncode == 1 and "CL_BUILD_PROGRAM_FAILURE" in err.stderr, err
assert "Usage: clq-time" in run("--help")
print("clq-time: every command and mistake checked")
