#!/usr/bin/env python3
# Runs clq-time's commands with --json (and --trace/--svg) and checks what
# they print: the documents parse, carry the format version, hold sane
# numbers and give every time in seconds; traces and charts are titled
# with the command and the device; the help lists exactly the options
# each command takes; usage errors exit 2, device errors 1, each with a
# message.
# usage: check-clq-time.py CLQ-TIME CL-DIR OPTIONS.C
import collections, json, math, os, re, subprocess, sys, tempfile
import xml.etree.ElementTree as ET

tool, cl_dir, source = sys.argv[1], sys.argv[2], sys.argv[3]
SVG = "{http://www.w3.org/2000/svg}"
FORMAT = 2
scale = os.path.join(cl_dir, "scale.cl")


def run_full(*args, code=0, env=None):
    p = subprocess.run([tool, *args], capture_output=True, text=True,
                       env=None if env is None else {**os.environ, **env})
    assert p.returncode == code, (args, p.returncode, p.stdout, p.stderr)
    if code:
        assert p.stderr.startswith("clq"), (args, p.stderr)
    return p


def run(*args, code=0):
    return run_full(*args, code=code).stdout


def check_seconds(node, key=""):
    """Every time is in seconds, in a field whose name ends in _s."""
    if isinstance(node, dict):
        if {"n", "min", "median", "max"} <= node.keys():
            assert key.endswith(("_s", "_gbps")), key
        for k, v in node.items():
            assert not re.search(r"_(ns|us|ms)$", k), k
            check_seconds(v, k)
    elif isinstance(node, list):
        for v in node:
            check_seconds(v, key)


def document(command, *args, env=None):
    doc = json.loads(run_full(command, "--json", *args, env=env).stdout)
    assert doc["tool"] == "clq-time" and doc["format"] == FORMAT, doc
    assert doc["command"] == command
    check_seconds(doc)
    return doc


def check_stats(s, lo=0.0):
    assert s["n"] >= 3, s
    assert lo <= s["min"] <= s["median"] <= s["max"], s


def check_exports(trace, svg, names, title):
    doc = json.load(open(trace))
    events = doc["traceEvents"]
    assert doc["otherData"]["title"] == title, (doc["otherData"], title)
    spans = [e for e in events if e["ph"] == "X"]
    assert spans and all(e["dur"] >= 0 for e in spans)
    assert names <= {e["name"] for e in spans}, {e["name"] for e in spans}
    if svg:
        root = ET.parse(svg).getroot()
        assert root.tag == SVG + "svg"
        assert len(root.findall(f"{SVG}rect/{SVG}title")) == len(spans)
        # the picture's title, and the same text drawn above the chart
        assert root.find(f"{SVG}title").text == title, ET.tostring(root)
        assert title in [t.text for t in root.iter(f"{SVG}text")], title
    return collections.Counter(e["name"] for e in spans)


# devices: every device, each selectable by its index and P:D spec
doc = document("devices")
assert doc["devices"], doc
for d in doc["devices"]:
    assert d["name"] and d["opencl"] >= 120 and d["compute_units"] >= 1, d
    assert 0 < d["timer_resolution_s"] < 1, d
    for spec in (str(d["index"]), d["spec"]):
        one = document("devices", "--device", spec)["devices"]
        assert [x["index"] for x in one] == [d["index"]], (spec, one)
assert doc["default"] in [d["index"] for d in doc["devices"]]
default_device = str(doc["default"])
# what every timeline's title ends with: the device that ran the command
# (the default, which is CLQ_DEVICE's when that is set)
used = next(d for d in doc["devices"] if d["index"] == doc["default"])
on = f" on {used['name']} ({used['platform']})"

with tempfile.TemporaryDirectory() as tmp:
    trace, svg = os.path.join(tmp, "t.json"), os.path.join(tmp, "t.svg")

    # transfer: five results per size, bandwidth = bytes / time
    doc = document("transfer", "--size", "64K,256KiB", "--budget", "0.02",
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
        # "pinned" only where the memory is: the field and the name agree
        assert r["pinned"] == {"pinned": True, "not pinned": False,
                               "pageable": False,
                               "device": None}[r["memory"]], r
    host_array = doc["results"][0]["memory"]
    assert host_array in ("pinned", "not pinned"), doc["results"][0]
    labels = check_exports(trace, svg, {f"write {host_array} 64 KiB",
                                        "read pageable 256 KiB",
                                        "copy device 256 KiB"},
                           "clq-time transfer" + on)
    # every timed run on the timeline under its label, the two warm-ups
    # of each under "warm-up LABEL"
    for r in doc["results"]:
        label = "%s %s %d KiB" % (
            {"host-to-device": "write", "device-to-host": "read",
             "device-to-device": "copy"}[r["direction"]],
            r["memory"], r["bytes"] // 1024)
        assert labels[label] == r["runs"], (label, labels)
        assert labels["warm-up " + label] == 2, (label, labels)
    assert sum(labels.values()) == sum(r["runs"] + 2 for r in doc["results"])

    # the host array's memory, named for what it is: forced pinned (mapped)
    # and forced not (aligned), in the JSON, the text and the timeline
    for strategy, memory in (("mapped", "pinned"), ("aligned", "not pinned")):
        env = {"CLQ_HOST_ARRAY_STRATEGY": strategy}
        doc = document("transfer", "--size", "4K", "--budget", "0.01",
                       "--memory", "pinned", env=env)
        assert [(r["memory"], r["pinned"]) for r in doc["results"]] == \
            [(memory, memory == "pinned")] * 2, doc["results"]
        text = run_full("transfer", "--size", "4K", "--budget", "0.01",
                        "--memory", "pinned", "--trace", trace,
                        env=env).stdout
        rows = [l for l in text.splitlines() if l.startswith("4 KiB")]
        assert len(rows) == 2, text
        for row in rows:
            assert " pinned " in row, row
            assert (" not pinned " in row) == (memory == "not pinned"), row
        assert ("not pinned:" in text) == (memory == "not pinned"), text
        check_exports(trace, None, {f"write {memory} 4 KiB",
                                    f"warm-up read {memory} 4 KiB"},
                      "clq-time transfer" + on)

    # --memory picks kinds: pageable only is two results per size
    doc = document("transfer", "--size", "4K", "--budget", "0.01",
                   "--memory", "pageable")
    assert [(r["direction"], r["memory"], r["pinned"])
            for r in doc["results"]] == [
        ("host-to-device", "pageable", False),
        ("device-to-host", "pageable", False)]

    # --memory registered (never in the default): caller memory registered
    # with clq_host_array_register(), its "pinned" what clq says of it
    doc = document("transfer", "--size", "4K", "--budget", "0.01",
                   "--memory", "registered")
    assert [(r["direction"], r["memory"]) for r in doc["results"]] == [
        ("host-to-device", "registered"),
        ("device-to-host", "registered")], doc["results"]
    assert all(isinstance(r["pinned"], bool) for r in doc["results"])

    # kernel: scale.cl, with GB/s and GFLOP/s from the given counts
    n = 4096
    doc = document("kernel", scale, "scale",
                   "--global", str(n), "--local", "64",
                   "--arg", f"buf:float32:{n}", "--arg", f"uint:{n}",
                   "--arg", "float:1", "--arg", "float:0.5",
                   "--arg", "uint:8", "--bytes", f"{8 * n // 1024}K",
                   "--flops", f"{16 * n // 1024}K", "--budget", "0.02",
                   "--trace", trace, "--svg", svg)
    check_stats(doc["device_s"])
    t = doc["device_s"]["median"]
    assert doc["global"] == [n] and doc["local"] == [64]
    assert doc["bytes"] == 8 * n and doc["flops"] == 16 * n, doc
    if t > 0:
        assert math.isclose(doc["gbps"], 8 * n / t * 1e-9, rel_tol=1e-6)
        assert math.isclose(doc["gflops"], 16 * n / t * 1e-9, rel_tol=1e-6)
    labels = check_exports(trace, svg, {"kernel scale", "upload --arg 1"},
                           f"clq-time kernel scale from {scale}" + on)
    assert labels["kernel scale"] == doc["device_s"]["n"], labels
    assert labels["warm-up kernel scale"] == 2, labels
    kernels = [e for e in json.load(open(trace))["traceEvents"]
               if e["name"].endswith("kernel scale")]
    assert all(e["args"]["bytes"] == 4 * n for e in kernels)

    # --flops and --bytes read counts alike: K, M, G are powers of 1024
    for flops, expect in (("2M", 2 << 20), ("2m", 2 << 20), ("1G", 1 << 30),
                          ("1.5K", 1536), ("2e6", 2000000), ("64", 64)):
        doc = document("kernel", scale, "scale", "--global", "64",
                       "--arg", "buf:float:64", "--arg", "uint:64",
                       "--arg", "float:1", "--arg", "float:0",
                       "--arg", "uint:1", "--budget", "0",
                       "--flops", flops, "--bytes", flops)
        assert doc["flops"] == expect and doc["bytes"] == expect, (flops, doc)

    # both spellings of every type: OpenCL C names and clq dtype names
    # give the same launch, and a short buffer draws a warning
    def kernel_run(buf, n_type, f_type, count=64):
        return run_full("kernel", scale, "scale", "--global", "64",
                        "--arg", f"buf:{buf}:{count}",
                        "--arg", f"{n_type}:{count}",
                        "--arg", f"{f_type}:2", "--arg", f"{f_type}:1",
                        "--arg", f"{n_type}:1", "--budget", "0", "--json")
    for spelling in (("float", "uint", "float"),
                     ("float32", "uint32", "float32"),
                     ("float", "uint32", "float32")):
        p = kernel_run(*spelling)
        assert "warning" not in p.stderr, (spelling, p.stderr)
        assert json.loads(p.stdout)["device_s"]["n"] >= 3
    # every scalar dtype spelling passes a value of the kernel's size
    # (a wrong size is CL_INVALID_ARG_SIZE, exit 1); half is left out:
    # PoCL's CPU device has no cl_khr_fp16
    every = os.path.join(tmp, "every.cl")
    open(every, "w").write(
        "__kernel void k(__global double2 *x, char a, uchar b, short c,\n"
        "    ushort d, int e, uint f, long g, ulong h, float i, double j)\n"
        "{ x[get_global_id(0)].x = a + b + c + d + e + f + g + h + i + j; }\n")
    p = run_full("kernel", every, "k", "--global", "16", "--budget", "0",
                 "--arg", "buf:complex128:16", "--arg", "int8:-128",
                 "--arg", "uint8:255", "--arg", "int16:-32768",
                 "--arg", "uint16:65535", "--arg", "int32:-1",
                 "--arg", "uint32:4294967295", "--arg", "int64:-1",
                 "--arg", "uint64:18446744073709551615",
                 "--arg", "float32:1.5", "--arg", "float64:2.5")
    assert "warning" not in p.stderr, p.stderr
    p = kernel_run("float32", "uint", "float", count=32)
    assert p.stderr.startswith("clq-time: warning: --arg 1 "), p.stderr
    assert "32 elements" in p.stderr and "64 work-items" in p.stderr, p.stderr
    p = run_full("kernel", scale, "scale", "--global", "8,8",
                 "--arg", "buf:float:48", "--arg", "uint:48",
                 "--arg", "float:2", "--arg", "float:1", "--arg", "uint:1",
                 "--budget", "0")
    assert "48 elements, fewer than the 64 work-items" in p.stderr, p.stderr

    # latency: every time in seconds; warm-ups labelled on the timeline
    doc = document("latency", "--budget", "0.02", "--trace", trace)
    for key in ("marker_round_trip_s", "launch_queued_to_start_s",
                "launch_submit_to_start_s", "enqueue_marker_s",
                "enqueue_kernel_s"):
        check_stats(doc[key])
    assert doc["enqueue_marker_s"]["median"] > 0
    assert doc["marker_round_trip_s"]["median"] < 1  # seconds, not us
    labels = check_exports(trace, None, {"marker"}, "clq-time latency" + on)
    assert labels["warm-up marker"] == 2, labels
    assert labels["warm-up kernel clq_time_noop"] == 2, labels

# The help: the commands, and for each command exactly the options it
# takes. Every option a command's help lists is run with that command;
# every other option is refused; all of them are in the main help, and
# nothing the program accepts (its option table) is missing from it.
OPTION = re.compile(r"^  (?:-h, )?--([a-z-]+)(?: (\S+))?(?:  |$)")


def help_options(text):
    return {m.group(1) for m in map(OPTION.match, text.splitlines()) if m}


main_help = run("--help")
assert run("-h") == main_help
assert main_help.startswith("Usage: clq-time COMMAND")
commands = re.search(r"\nCommands:\n(.*?)\n'", main_help, re.S).group(1)
commands = [l.split()[0] for l in commands.splitlines() if l[2] != " "]
assert commands == ["devices", "transfer", "kernel", "latency"], commands
table = set(re.findall(r'\[OPT_\w+\]\s*=\s*\{\s*"([a-z-]+)"',
                       open(source).read()))
assert table and help_options(main_help) == table, (table, main_help)
for line in main_help.splitlines():
    assert len(line) <= 80 and not line.endswith(" "), line

with tempfile.TemporaryDirectory() as tmp:
    base = {
        "devices": [],
        "transfer": ["--size", "4K", "--memory", "device", "--budget", "0"],
        "kernel": [scale, "scale", "--global", "64", "--arg", "buf:float:64",
                   "--arg", "uint:64", "--arg", "float:1", "--arg", "float:0",
                   "--arg", "uint:1", "--budget", "0"],
        "latency": ["--budget", "0"],
    }
    samples = {
        "device": [default_device], "json": [], "budget": ["0"],
        "trace": [os.path.join(tmp, "t.json")],
        "svg": [os.path.join(tmp, "t.svg")], "size": ["4K"],
        "memory": ["device"], "global": ["64"], "local": ["16"],
        "arg": None, "options": ["-DUNUSED=1"], "bytes": ["1K"],
        "flops": ["2M"],
    }
    listed = set()
    for command in commands:
        text = run(command, "--help")
        assert text.startswith(f"Usage: clq-time {command}"), text
        assert run(command, "-h") == text
        for line in text.splitlines():
            assert len(line) <= 80 and not line.endswith(" "), line
        options = help_options(text)
        listed |= options
        for option in sorted(options - {"help"}):
            assert option in samples, f"add a sample value for --{option}"
            args = list(base[command])
            if f"--{option}" not in args:
                args += [f"--{option}", *samples[option]]
            out = run(command, *args)
            if option == "json":
                assert json.loads(out)["command"] == command
        for option in sorted(help_options(main_help) - options):
            p = run_full(command, f"--{option}", "x", code=2)
            assert f"--{option} does not apply to {command}" in p.stderr, \
                p.stderr
    assert listed == table, (listed, table)

# --svg and latency: refused, with the reason and what to use instead
p = run_full("latency", "--svg", "x.svg", code=2)
assert "--svg does not apply to latency" in p.stderr, p.stderr
assert "--trace" in p.stderr, p.stderr

# an unknown type names the spellings it takes, both ways
for spec, lists in (("buf:f:4", ("float/float32", "double2/complex128")),
                    ("what:1", ("uint/uint32", "half/float16")),
                    ("complex64:1", ("for buffers only", "double/float64"))):
    p = run_full("kernel", scale, "scale", "--global", "4", "--arg", spec,
                 code=2)
    assert all(s in p.stderr for s in lists), (spec, p.stderr)

# mistakes: usage (2) and device-side (1), each with a message
for args, code in [
        ((), 2), (("frobnicate",), 2), (("transfer", "--size", "0"), 2),
        (("transfer", "--size", "1X"), 2), (("transfer", "--size", "4i"), 2),
        (("transfer", "--size", "-4K"), 2), (("devices", "--svg", "x"), 2),
        (("transfer", "--memory", "pinned,"), 2),
        (("transfer", "--memory", "disk"), 2),
        (("latency", "--memory", "pinned"), 2),
        (("latency", "--global", "4"), 2), (("latency", "--budget", "-1"), 2),
        (("kernel", scale), 2), (("kernel", scale, "scale"), 2),
        (("kernel", scale, "scale", "--global", "4,0"), 2),
        (("kernel", scale, "scale", "--global", "4", "--local", "2,2"), 2),
        (("kernel", scale, "scale", "--global", "4", "--arg", "buf:f:4"), 2),
        (("kernel", scale, "scale", "--global", "4", "--arg", "uchar:256"), 2),
        (("kernel", scale, "scale", "--global", "4", "--arg", "uint8:256"), 2),
        (("kernel", scale, "scale", "--global", "4", "--arg", "uint:-1"), 2),
        (("kernel", scale, "scale", "--global", "4", "--arg", "half:7e4"), 2),
        (("kernel", scale, "scale", "--global", "4", "--arg",
          "float16:1e5"), 2),
        (("kernel", scale, "scale", "--global", "4", "--arg", "float:1e39"), 2),
        (("kernel", scale, "scale", "--global", "4", "--arg", "what:1"), 2),
        (("kernel", scale, "scale", "--global", "4", "--arg",
          "buf:float:4KiB"), 2),  # elements, not bytes
        (("kernel", scale, "scale", "--global", "4", "--bytes", "1.5"), 2),
        (("kernel", scale, "scale", "--global", "4", "--flops", "x"), 2),
        (("kernel", scale, "scale", "--global", "4", "--flops", "1.5"), 2),
        (("kernel", scale, "scale", "--global", "4", "--flops", "0"), 2),
        (("kernel", scale, "scale", "--global", "4", "--flops", "2MiB"), 2),
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
# a scalar of the wrong type is refused by clq, naming the argument
err = subprocess.run([tool, "kernel", scale, "scale", "--global", "4",
                      "--arg", "buf:float32:4", "--arg", "uint:4",
                      "--arg", "int:1", "--arg", "float:1", "--arg", "uint:1",
                      "--budget", "0.01"], capture_output=True, text=True)
assert err.returncode == 1 and "CLQ_ERROR_TYPE_MISMATCH" in err.stderr, err
print("clq-time: every command, option and mistake checked")
