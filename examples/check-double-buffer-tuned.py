#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The double-buffer demo takes the scale kernel's work-group size from
the tuning database when it has one (tuned by clq-tune), and runs as
before, silently, when there is none.
usage: check-double-buffer-tuned.py CLQ_TUNE DOUBLE_BUFFER"""
import json
import os
import re
import subprocess
import sys
import tempfile

tune, demo = sys.argv[1], sys.argv[2]
args = ["--chunk-mib", "0.0625", "--chunks", "4", "--iters", "8"]
with tempfile.TemporaryDirectory() as tmp:
    db = os.path.join(tmp, "tune.db")
    grid = os.path.join(tmp, "scale.grid")
    with open(grid, "w") as f:
        # 0.0625 MiB of floats: the demo's chunk
        f.write("tunable scale\nbudget 0.005\nproblem n=16384 iters=8\n")
    out = subprocess.run([tune, "run", "--quiet", "--json", "--db", db,
                          grid], check=True, capture_output=True, text=True)
    wgs = re.fullmatch(r"wgs=(\d+)",
                       json.loads(out.stdout)["results"][0]["params"])[1]

    env = dict(os.environ, CLQ_TUNE_DB=db)
    p = subprocess.run([demo, *args], env=env, capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    line = f"scale work-group size {wgs}, from the tuning database {db}"
    assert line in p.stderr, f"expected {line!r} in:\n{p.stderr}"

    env["CLQ_TUNE_DB"] = os.path.join(tmp, "none.db")
    p = subprocess.run([demo, *args], env=env, capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    assert "tuning database" not in p.stderr, p.stderr
    assert not os.path.exists(env["CLQ_TUNE_DB"]), "the demo made a file"
print("ok: work-group size", wgs)
