#!/usr/bin/env python3
# Runs the double-buffer demo on two devices (--devices SPEC0,SPEC1; on
# PoCL, POCL_DEVICES="pthread pthread" gives two) and checks what it
# reports: the chunks split into consecutive blocks, every output element
# of both runs checked on every device, the totals agreeing with the
# per-device figures, and one timeline with a track per device and queue
# whose commands keep each device's order on the shared time axis. Then
# what goes wrong: a hazard on one device in the middle of its pipeline
# (the error names that device, the other runs to its end, exit 1), and
# one device named twice (a warning; its clocks agree within the bound);
# output files; --start-at.
# usage: check-devices.py DEMO SPEC0,SPEC1 (two different devices)
import ctypes, json, os, re, signal, subprocess, sys, tempfile, time
import xml.etree.ElementTree as ET

demo, specs = sys.argv[1], sys.argv[2]
small = ["--devices", specs, "--chunk-mib", "0.0625", "--iters", "8"]


def run(args, rc=0, stderr=False):
    p = subprocess.run([demo, *args], capture_output=True, text=True)
    assert p.returncode == rc, (args, p.returncode, p.stdout, p.stderr)
    return (p.stdout, p.stderr) if stderr else p.stdout


def drop_root_reads():
    """Root (before exec): no reading files without the permission
    (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, by PR_CAPBSET_DROP; without
    CAP_SETPCAP, root keeps them and the check proves nothing)."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None)
        for cap in (1, 2):
            libc.prctl(24, cap, 0, 0, 0)


def close(a, b, rel=1e-6):
    return abs(a - b) <= rel * max(abs(a), abs(b)) + 1e-9


# JSON: 7 chunks as blocks of 4 and 3; the totals from the parts.
doc = json.loads(run(small + ["--chunks", "7", "--json"]))
devs = doc["devices"]
assert [d["spec"] for d in devs] == specs.split(","), devs
# two different devices, each said where it is (N, and P:D)
assert devs[0]["device_index"] != devs[1]["device_index"], devs
assert [(d["first_chunk"], d["chunks"]) for d in devs] == [(0, 4), (4, 3)]
assert doc["chunks"] == 7 and doc["total"]["mismatches"] == 0, doc
total = doc["total"]
for d in devs:
    for run_name in ("sequential", "pipelined"):
        r = d[run_name]
        assert r["mismatches"] == 0, d
        assert r["wall_s"] > 0 and r["device_span_s"] > 0, d
        gbs = d["chunks"] * doc["chunk_bytes"] / r["wall_s"] / 1e9
        key = "sequential_gb_s" if run_name == "sequential" else "pipelined_gb_s"
        assert close(d[key], gbs, 1e-5), (d[key], gbs)
    assert close(d["speedup"], d["sequential"]["wall_s"] /
                 d["pipelined"]["wall_s"], 1e-5), d
    assert d["verdict"] and d["reason"], d
# the sequential loops ran one after another; the pipelines at once, so
# the total is the span from the first start to the last end
assert close(total["sequential_s"],
             sum(d["sequential"]["wall_s"] for d in devs), 1e-6), total
starts = [d["pipelined_start_s"] for d in devs]
assert min(starts) == 0 and all(s >= 0 for s in starts), starts
ends = [d["pipelined_start_s"] + d["pipelined"]["wall_s"] for d in devs]
assert abs(total["pipelined_s"] - max(ends)) <= 1e-8 + 1e-6 * max(ends), \
    (ends, total)
assert close(total["speedup"], total["sequential_s"] / total["pipelined_s"],
             1e-5), total
assert close(total["pipelined_gb_s"],
             7 * doc["chunk_bytes"] / total["pipelined_s"] / 1e9, 1e-5)
# the same stream as on one device: each device's block of it, adding up
# to the one-device run's input
one = json.loads(run(["--device", specs.split(",")[0], "--chunk-mib",
                      "0.0625", "--iters", "8", "--chunks", "7", "--json"]))
assert total["input_sum"] == sum(d["input_sum"] for d in devs), devs
assert total["input_sum"] == one["input_sum"], (total, one["input_sum"])

# Text: a block per device, the totals, one check line.
text = run(small + ["--chunks", "5", "--queues", "2"])
for k, (spec, chunks) in enumerate(zip(specs.split(","), ("0-2", "3-4"))):
    assert re.search(rf"^device {k}: .* at \d+:\d+ \(spec '{re.escape(spec)}'\)"
                     rf", .*, chunks {chunks}$", text, re.M), text
assert text.count("verdict: ") == 2, text
assert re.search(r"^total pipelined \(all devices at once\): +\d+\.\d+ ms +"
                 r"\d+\.\d+ GB/s +\(speedup \d+\.\d\dx\)$", text, re.M), text
assert "check: both runs match the CPU reference on every device" in text

# The timeline: a track per device and queue on device 0's clock.
with tempfile.TemporaryDirectory() as tmp:
    trace, svg = os.path.join(tmp, "t.json"), os.path.join(tmp, "t.svg")
    out = run(small + ["--chunks", "7", "--trace", trace, "--svg", svg])
    m = re.search(r"^timeline: device 1's times on device 0's clock within "
                  r"(\d+\.\d) us$", out, re.M)
    assert m, out
    doc = json.load(open(trace))
    title = doc["otherData"]["title"]
    assert title.startswith("double-buffer: 7 chunks on 2 devices, 3 queues, "
                            "3 buffers each: 0: "), title
    names = {e["tid"]: e["args"]["name"] for e in doc["traceEvents"]
             if e["ph"] == "M" and e["name"] == "thread_name"}
    queues = ("upload queue", "kernel queue", "download queue")
    assert set(names.values()) == {f"device {k} {q}" for k in (0, 1)
                                   for q in queues}, names
    spans = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    assert len(spans) == 3 * 7, len(spans)
    by_track = {}
    for e in spans:
        assert e["dur"] >= 0 and e["ts"] >= 0, e
        # every device's the same: a transfer's bytes, none for a kernel
        want = 0 if e["name"] == "kernel scale" else 65536
        assert e["args"]["bytes"] == want, (names[e["tid"]], e)
        by_track.setdefault(names[e["tid"]], []).append(e)
    for k, chunks in ((0, 4), (1, 3)):
        stages = [sorted(by_track[f"device {k} {q}"], key=lambda e: e["ts"])
                  for q in queues]
        assert [len(s) for s in stages] == [chunks] * 3, stages
        assert [s[0]["name"] for s in stages] == ["write", "kernel scale",
                                                  "read"]
        # one offset per device: its commands keep their order exactly
        # (a kernel after its upload, a download after its kernel)
        for c in range(chunks):
            for s in (1, 2):
                before, after = stages[s - 1][c], stages[s][c]
                assert after["ts"] >= before["ts"] + before["dur"] - 0.002, \
                    (k, c, before, after)
    root = ET.parse(svg).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f"{ns}rect/{ns}title")) == 3 * 7
    assert root.find(f"{ns}title").text == title

# One device's pipeline fails in the middle: with 3 buffers, the first
# device's 4 chunks reuse a buffer and the second's 3 do not, so leaving
# out the reuse wait under CHECK refuses only the first device's fourth
# upload. The error says which device; the second runs to its end without
# an error; no report, exit 1.
spec0, spec1 = specs.split(",")
out, err = run(small + ["--chunks", "7", "--buffers", "3", "--ordering",
                        "check", "--no-reuse-wait"], rc=1, stderr=True)
assert out == "", out
assert err.count("hazard (write-after-read)") == 1, err
assert "this write on queue 1 ('device 0 upload')" in err, err
assert f"double-buffer: device 0 ('{spec0}'): running the pipeline: " \
    "CLQ_ERROR_HAZARD" in err, err
assert "device 1" not in err, err

# --numa: auto (the default) and off give the same data, checked; off
# says so per device, auto says the node and CPUs or that they are not
# known (PoCL's CPU devices have no PCI address: unknown, silently).
sums = {}
for mode in ("auto", "off"):
    out, err = run(small + ["--chunks", "5", "--numa", mode, "--json"],
                   stderr=True)
    doc = json.loads(out)
    assert doc["numa"] == mode and doc["total"]["mismatches"] == 0, doc
    sums[mode] = [d["input_sum"] for d in doc["devices"]]
    for d in doc["devices"]:
        assert d["sequential"]["mismatches"] == 0, d
        assert d["pipelined"]["mismatches"] == 0, d
        if mode == "off" or d["numa_node"] is None:
            assert d["numa_node"] is None and d["numa_cpus"] is None, d
        else:
            assert d["numa_node"] >= 0 and re.fullmatch(
                r"\d+(-\d+)?(,\d+(-\d+)?)*", d["numa_cpus"]), d
    assert "cl_khr_pci_bus_info" not in err, err
    text = run(small + ["--chunks", "5", "--numa", mode])
    lines = re.findall(r"^  NUMA: (.*)$", text, re.M)
    assert len(lines) == 2, text
    for line, d in zip(lines, doc["devices"]):
        if mode == "off":
            assert line.startswith("off (threads not bound"), line
        elif d["numa_node"] is None:
            assert line.startswith("unknown ("), line
        else:
            assert line.startswith(f"node {d['numa_node']}, CPUs "
                                   f"{d['numa_cpus']} "), line
    assert "check: both runs match the CPU reference on every device" in text
assert sums["auto"] == sums["off"], sums
err = run(small + ["--numa", "sometimes"], rc=2, stderr=True)[1]
assert "--numa wants auto or off, not 'sometimes'" in err, err

# A chunk too large for the kernel's 32-bit count is a bad option (exit 2,
# before opening a device), said as the chunk's size, not as the chunks a
# device would have had.
err = run(["--devices", specs, "--chunk-mib", "16384"], rc=2,
          stderr=True)[1]
assert "--chunk-mib 16384 is too large" in err and "16383.999 MiB" in err, \
    err

# One device named twice: it runs (a context each), with a warning that
# the totals are not those of two devices; the two contexts read one
# clock, so the measured offset between them is within its error bound.
out, err = run(["--devices", f"{spec0},{spec0}", "--chunk-mib", "0.0625",
                "--iters", "8", "--chunks", "4", "--json", "--trace",
                os.devnull], stderr=True)
assert f"warning: devices 0 ('{spec0}') and 1 ('{spec0}') are one device" \
    in err, err
same = json.loads(out)["devices"]
assert same[0]["device_index"] == same[1]["device_index"], same
assert abs(same[1]["clock_offset_ns"]) <= same[1]["clock_error_s"] * 1e9, \
    same[1]
assert "warning" not in run(small + ["--chunks", "2"], stderr=True)[1]

# The two shapes of --json say which they are.
assert doc["report"] == "devices", doc
one = json.loads(run(["--device", spec0, "--chunk-mib", "0.0625",
                      "--iters", "8", "--chunks", "2", "--json"]))
assert one["report"] == "device", one

# A malformed spec is a bad option (exit 2), as a well-formed one that
# matches nothing is not (exit 1).
for args in (["--device", "1:"], ["--devices", f"{spec0},1:"]):
    err = run(args + ["--chunks", "2"], rc=2, stderr=True)[1]
    assert "malformed device spec '1:'" in err, err

# --trace and --svg are opened before the run: a path that cannot be
# written is refused at once (exit 2); a run that fails leaves an old file
# as it was and makes no new one (nor a temporary file); a run that works
# writes both, with the old file's permissions or, new, those the umask
# leaves.
with tempfile.TemporaryDirectory() as tmp:
    nowhere = os.path.join(tmp, "no-such-dir", "run.json")
    err = run(small + ["--chunks", "2", "--trace", nowhere], rc=2,
              stderr=True)[1]
    assert f"cannot write {nowhere}: No such file or directory" in err, err
    assert "chosen" not in err and "CLQ_ERROR" not in err, err
    trace, svg = os.path.join(tmp, "run.json"), os.path.join(tmp, "run.svg")
    with open(trace, "w") as f:
        f.write("old")
    os.chmod(trace, 0o640)
    run(["--devices", f"{spec0},no-such-device", "--chunks", "2",
         "--trace", trace, "--svg", svg], rc=1, stderr=True)
    assert open(trace).read() == "old", open(trace).read()
    assert os.listdir(tmp) == ["run.json"], os.listdir(tmp)
    run(small + ["--chunks", "2", "--trace", trace, "--svg", svg])
    assert json.load(open(trace))["traceEvents"], trace
    ET.parse(svg)
    assert sorted(os.listdir(tmp)) == ["run.json", "run.svg"], os.listdir(tmp)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(trace).st_mode & 0o7777 == 0o640, oct(os.stat(trace).st_mode)
    assert os.stat(svg).st_mode & 0o7777 == 0o666 & ~umask, \
        oct(os.stat(svg).st_mode)
    # A file that cannot be written is refused, even where its directory
    # could take the temporary file (not as root, who may write it).
    if os.geteuid() != 0:
        os.chmod(trace, 0o440)
        err = run(small + ["--chunks", "2", "--trace", trace], rc=2,
                  stderr=True)[1]
        assert f"cannot write {trace}: Permission denied" in err, err
        os.chmod(trace, 0o640)
    # --trace and --svg naming one device (not a regular file) is fine.
    run(small + ["--chunks", "2", "--trace", os.devnull, "--svg",
                 os.devnull])
    # One file for both: each export would overwrite the other from its
    # start (exit 0, a file of neither format); refused as a bad option.
    os.remove(trace)
    same = os.path.join(tmp, ".", "run.json")
    err = run(small + ["--chunks", "2", "--trace", trace, "--svg", same],
              rc=2, stderr=True)[1]
    assert "name the same file" in err, err
    assert not os.path.exists(trace), os.listdir(tmp)
    assert os.listdir(tmp) == ["run.svg"], os.listdir(tmp)
    # A symbolic link (as /dev/stdout is, to where stdout goes) is written
    # in place, and only closed when the run fails: removing the path
    # removed the link (as root, /dev/stdout itself), and emptying it
    # when opened lost the old file it points to.
    target, link = os.path.join(tmp, "target"), os.path.join(tmp, "link")
    with open(target, "w") as f:
        f.write("old")
    os.symlink(target, link)
    run(["--devices", f"{spec0},no-such-device", "--chunks", "2",
         "--trace", link], rc=1, stderr=True)
    assert os.path.islink(link) and os.path.exists(target), os.listdir(tmp)
    assert open(target).read() == "old", open(target).read()
    run(small + ["--chunks", "2", "--trace", link])
    assert os.path.islink(link), os.listdir(tmp)
    assert json.load(open(target))["traceEvents"], target
    # A file with another name (a hard link) is written into, not
    # replaced: the rename parted it from its other names, which kept the
    # old trace; a failed run leaves both as they were.
    other = os.path.join(tmp, "other-name")
    os.link(target, other)
    with open(target, "w") as f:
        f.write("old")
    run(["--devices", f"{spec0},no-such-device", "--chunks", "2",
         "--trace", other], rc=1, stderr=True)
    assert os.path.samefile(target, other), os.listdir(tmp)
    assert open(target).read() == "old", open(target).read()
    run(small + ["--chunks", "2", "--trace", other])
    assert os.path.samefile(target, other), os.listdir(tmp)
    assert json.load(open(target))["traceEvents"], target
    # Write-only (mode 0200), as its user may write it: the copy read a
    # temporary file made with that mode (cannot write, exit 1). Root
    # runs it without its right to read any file.
    os.chmod(target, 0o200)
    p = subprocess.run([demo, *small, "--chunks", "2", "--trace", other],
                       capture_output=True, text=True,
                       preexec_fn=drop_root_reads)
    assert p.returncode == 0, (p.returncode, p.stderr)
    os.chmod(target, 0o600)
    assert json.load(open(target))["traceEvents"], target
    assert sorted(os.listdir(tmp)) == ["link", "other-name", "run.svg",
                                       "target"], os.listdir(tmp)
    os.remove(other)
    # /dev/stdout with stdout sent to a file: the trace goes through
    # stdout, before the report (a file of its own, at offset 0, was
    # written over by the report, and emptied at the export).
    out_path = os.path.join(tmp, "out.txt")
    with open(out_path, "w") as f:
        f.write("before\n")
    with open(out_path, "a") as f:
        p = subprocess.run([demo, *small, "--chunks", "2", "--trace",
                            "/dev/stdout"], stdout=f, text=True)
    assert p.returncode == 0, p.returncode
    text = open(out_path).read()
    assert text.startswith("before\n"), text[:200]
    trace_doc, end = json.JSONDecoder().raw_decode(text, len("before\n"))
    assert trace_doc["traceEvents"], text[:200]
    assert "check: " in text[end:], text[end:]
    os.remove(out_path)
    # stdout closed: the file opened for the path takes its number (1),
    # and is not stdout's file; it was taken for one, written through a
    # closed stdout (exit 1, the file left as it was).
    with open(out_path, "w") as f:
        f.write("old")
    p = subprocess.run([demo, *small, "--chunks", "2", "--trace",
                        out_path], capture_output=True, text=True,
                       preexec_fn=lambda: os.close(1))
    assert p.returncode == 0, (p.returncode, p.stderr)
    assert json.load(open(out_path))["traceEvents"], out_path
    os.remove(out_path)
    # A name too long for the temporary file's suffix (NAME_MAX) is
    # written in place: it was refused; a failed run leaves none.
    longname = os.path.join(tmp, "t" * 250)
    run(["--devices", f"{spec0},no-such-device", "--chunks", "2",
         "--trace", longname], rc=1, stderr=True)
    assert not os.path.exists(longname), os.listdir(tmp)
    run(small + ["--chunks", "2", "--trace", longname])
    assert json.load(open(longname))["traceEvents"], longname
    assert sorted(os.listdir(tmp)) == sorted(
        ["link", "run.svg", "target", "t" * 250]), os.listdir(tmp)

# --start-at T: the pipelined runs start at T (seconds since the epoch),
# with --devices and with one device, so that processes can start theirs
# together; a time already passed starts it at once, with a warning; a
# time that is not one is a bad option.
for args in (small, ["--device", specs.split(",")[1], "--chunk-mib",
                     "0.0625", "--iters", "8"]):
    before = time.time()
    at = before + 1.5
    doc = json.loads(run(args + ["--chunks", "4", "--json", "--start-at",
                                 f"{at:.6f}"]))
    for d in doc["devices"] if doc["report"] == "devices" else [doc]:
        start = d["pipelined"]["epoch_start_s"]
        assert at <= start < at + 1, (at, d["pipelined"])
        # the sequential run's too (it gave 0)
        seq = d["sequential"]
        assert before <= seq["epoch_start_s"] < at, (before, seq)
        assert seq["epoch_start_s"] + seq["wall_s"] <= start, (seq, start)
    out, err = run(args + ["--chunks", "2", "--start-at", "1000000000"],
                   stderr=True)
    assert "--start-at 1000000000.000000 passed" in err, err
# Further than a day ahead is a mistake, refused: past time_t the run
# started at once, silently; in milliseconds or nanoseconds (`date
# +%s%N`) it slept for ever.
for bad in ("soon", "0", "-5", "nan", "inf", "12x", "1e30",
            f"{time.time() * 1e3:.0f}", f"{time.time() * 1e9:.0f}"):
    err = run(small + ["--start-at", bad], rc=2, stderr=True)[1]
    assert "--start-at wants seconds since the epoch" in err, err

# Interrupted (Ctrl-C while --start-at waits): the temporary files go,
# and a path the run created, as when a run fails; an old file stays as
# it was. They were left behind.
with tempfile.TemporaryDirectory() as tmp:
    old, new = os.path.join(tmp, "old.json"), os.path.join(tmp, "new.svg")
    with open(old, "w") as f:
        f.write("old")
    p = subprocess.Popen([demo, *small, "--chunks", "2", "--trace", old,
                          "--svg", new, "--start-at",
                          f"{time.time() + 60:.6f}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    for _ in range(300):  # the temporary files made: the run has begun
        if len(os.listdir(tmp)) == 4:
            break
        time.sleep(0.1)
    assert len(os.listdir(tmp)) == 4, os.listdir(tmp)
    time.sleep(2)  # setup done: waiting for the start
    p.send_signal(signal.SIGINT)
    assert p.wait(timeout=30) == -signal.SIGINT, (p.returncode,
                                                  p.stderr.read())
    assert os.listdir(tmp) == ["old.json"], os.listdir(tmp)
    assert open(old).read() == "old", open(old).read()

# The pipe of one output closed by its reader (`| head`): SIGPIPE ends
# the run as Ctrl-C does, its temporary files and created paths gone.
# They were left behind (FILE.XXXXXX, an empty FILE).
with tempfile.TemporaryDirectory() as tmp:
    new = os.path.join(tmp, "new.json")
    p = subprocess.Popen([demo, *small, "--chunks", "2", "--trace", new,
                          "--svg", "/dev/stdout"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    p.stdout.close()  # before the export writes to it
    err = p.stderr.read()
    assert p.wait(timeout=120) == -signal.SIGPIPE, (p.returncode, err)
    assert os.listdir(tmp) == [], os.listdir(tmp)

print("devices:", ", ".join(d["device"] for d in devs),
      "; alignment within", m.group(1), "us")
