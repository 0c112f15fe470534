#!/usr/bin/env python3
# Runs the double-buffer demo with --trace and --svg, then parses both back:
# the trace must be JSON with one "X" event per command (3 per chunk) on
# the three queue tracks, the SVG well-formed XML with a bar per command;
# both carry the demo's title (its settings and the device).
# usage: check-timeline.py DEMO CHUNKS [DEMO ARGS...]
import json, os, subprocess, sys, tempfile
import xml.etree.ElementTree as ET

demo, chunks, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
with tempfile.TemporaryDirectory() as tmp:
    trace, svg = os.path.join(tmp, "t.json"), os.path.join(tmp, "t.svg")
    subprocess.run([demo, "--chunks", str(chunks), "--trace", trace,
                    "--svg", svg] + args, check=True, stdout=subprocess.DEVNULL)
    doc = json.load(open(trace))
    events = doc["traceEvents"]
    title = doc["otherData"]["title"]
    assert title.startswith(f"double-buffer: {chunks} chunks, 3 queues"), title
    spans = [e for e in events if e["ph"] == "X"]
    names = {e["args"]["name"] for e in events if e["ph"] == "M"}
    assert len(spans) == 3 * chunks, len(spans)
    assert names == {"upload queue", "kernel queue", "download queue"}, names
    assert all(e["dur"] >= 0 and e["ts"] >= 0 for e in spans)
    assert {e["name"] for e in spans} == {"write", "kernel scale", "read"}
    root = ET.parse(svg).getroot()
    bars = root.findall("{http://www.w3.org/2000/svg}rect/{http://www.w3.org/2000/svg}title")
    assert len(bars) == 3 * chunks, len(bars)
    assert root.find("{http://www.w3.org/2000/svg}title").text == title
print(f"trace: {len(spans)} commands; svg: {len(bars)} bars")
