#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""clq-tune end to end: run (progress, JSON, the database reused), list,
merge, forget, every mistake with its exit status and message, and the
manual against the tool (every option and JSON field documented, groff
clean). usage: check-clq-tune.py CLQ_TUNE MANPAGE sqlite|no-sqlite"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

tool, man, sqlite = sys.argv[1], sys.argv[2], sys.argv[3] == "sqlite"
failures = []


def run(*args, code=0, stderr_has=None):
    p = subprocess.run([tool, *args], capture_output=True, text=True,
                       timeout=240)
    if p.returncode != code:
        failures.append(f"{args}: exit {p.returncode}, expected {code}\n"
                        f"{p.stdout}\n{p.stderr}")
    if stderr_has and stderr_has not in p.stderr:
        failures.append(f"{args}: stderr lacks {stderr_has!r}:\n{p.stderr}")
    return p


def check(cond, what):
    if not cond:
        failures.append(what)


def fields(doc, out):
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.add(k)
            fields(v, out)
    elif isinstance(doc, list):
        for v in doc:
            fields(v, out)


page = open(man).read()
seen_fields = set()
tmp = tempfile.mkdtemp(prefix="clq-tune-check-")
try:
    def path(name):
        return os.path.join(tmp, name)

    def write(name, text):
        with open(path(name), "w") as f:
            f.write(text)
        return path(name)

    scale = write("scale.grid", "# two problems\ntunable scale\n"
                  "budget 0.002\nproblem n=4096 iters=2\n"
                  "  problem   iters=1 n=1000  \n")
    fill = write("fill.grid", "tunable fill\nproblem n=512\n")
    if not sqlite:
        run("list", path("none.db"), code=1,
            stderr_has="built without the feature this needs")
    else:
        p = run("run", "--json", "--db", path("a.db"), scale,
                stderr_has="left")
        doc = json.loads(p.stdout)
        fields(doc, seen_fields)
        check(doc["format"] == 1 and doc["command"] == "run", "run header")
        check(len(doc["results"]) == 2, "two results")
        for r in doc["results"]:
            check(re.fullmatch(r"wgs=\d+", r["params"]) is not None,
                  f"params {r['params']}")
            check(r["seconds"] > 0 and r["worst_s"] >= r["seconds"],
                  f"times {r}")
            check(not r["stored_before"] and r["candidates"] >= 1,
                  f"fresh {r}")
        check(re.search(r"problem 2/2, candidate \d+/\d+", p.stderr)
              is not None, "progress: " + p.stderr)
        again = json.loads(run("run", "--json", "--quiet", "--db",
                               path("a.db"), scale).stdout)
        check([r["params"] for r in again["results"]] ==
              [r["params"] for r in doc["results"]] and
              all(r["stored_before"] for r in again["results"]),
              "the second run reuses the database")
        text = run("run", "--quiet", "--force", "--budget", "0.001",
                   "--db", path("a.db"), scale).stdout
        check(text.count("candidates") == 2, "text output: " + text)

        ls = json.loads(run("list", "--json", path("a.db")).stdout)
        fields(ls, seen_fields)
        check(len(ls["entries"]) == 2, "list: two entries")
        check(all(e["name"] == "scale" and len(e["hash"]) == 16
                  for e in ls["entries"]), "list entries")
        check("scale v1" in run("list", path("a.db")).stdout, "list text")

        run("run", "--quiet", "--db", path("b.db"), fill)
        m = json.loads(run("merge", "--json", path("c.db"), path("a.db"),
                           path("b.db")).stdout)
        fields(m, seen_fields)
        check(m["copied"] == 3, f"merge copied {m}")
        check(len(json.loads(run("list", "--json", path("c.db")).stdout)
                  ["entries"]) == 3, "merged list")
        f = json.loads(run("forget", "--json", path("c.db"),
                           "scale").stdout)
        fields(f, seen_fields)
        check(f["removed"] == 2, f"forget {f}")
        check(len(json.loads(run("list", "--json", path("c.db")).stdout)
                  ["entries"]) == 1, "list after forget")

        # Databases that are not: refused, left as they were.
        bad = write("bad.db", "not a database\n")
        run("list", bad, code=1, stderr_has="not an SQLite database")
        run("merge", path("c.db"), bad, code=1,
            stderr_has="not an SQLite database")
        run("run", "--db", bad, fill, code=1,
            stderr_has="not an SQLite database")
        check(open(bad).read() == "not a database\n", "bad.db untouched")
        run("list", tmp, code=1, stderr_has="is a directory")
        run("list", path("none.db"), code=1)
        check(not os.path.exists(path("none.db")), "list made no file")
        run("forget", path("none.db"), "scale", code=1)
        check(not os.path.exists(path("none.db")), "forget made no file")
        run("forget", path("c.db"), 'bad name"', code=2,
            stderr_has="not a tunable name")

        # Another program's SQLite file is no source of results.
        import sqlite3
        other = sqlite3.connect(path("other.db"))
        other.execute("CREATE TABLE t (x)")
        other.commit()
        other.close()
        p = run("merge", "--json", path("c.db"), path("other.db"), code=1,
                stderr_has="not a clq tuning database")
        check(p.stdout == "", "merge --json printed on failure: " + p.stdout)
        # A catalog row clq never writes: list fails, and --json prints
        # no document that looks complete.
        shutil.copy(path("c.db"), path("corrupt.db"))
        bad_cat = sqlite3.connect(path("corrupt.db"))
        bad_cat.execute("INSERT INTO clq_tunables VALUES ('x', 'bad name', 1)")
        bad_cat.commit()
        bad_cat.close()
        p = run("list", "--json", path("corrupt.db"), code=1)
        check(p.stdout == "", "list --json printed on failure: " + p.stdout)

        # A database this user cannot write: refused before any tuning
        # (as nobody when root, who writes anything).
        os.mkdir(path("ro"))
        shutil.copy(path("b.db"), path("ro/b.db"))
        os.chmod(path("ro/b.db"), 0o444)
        os.chmod(path("ro"), 0o555)
        os.chmod(tmp, 0o755)
        drop = (lambda: (os.setgid(65534), os.setuid(65534))) \
            if os.geteuid() == 0 else None
        p = subprocess.run([tool, "run", "--db", path("ro/b.db"),
                            write("ro.grid", "tunable fill\n"
                                  "problem n=777\n")],
                           capture_output=True, text=True, timeout=240,
                           preexec_fn=drop)
        check(p.returncode == 1 and "read-only" in p.stderr and
              "candidate" not in p.stderr,
              f"run into a read-only database: {p.returncode} {p.stderr}")
        os.chmod(path("ro"), 0o755)

    # Grid files and usage mistakes: exit 2, the line named.
    for text, message in [
            ("tunable scale\nfrobnicate 1\nproblem n=1\n",
             "line 2: unknown directive"),
            ("tunable scale\n", "no 'problem"),
            ("problem n=1\n", "no 'tunable"),
            ("tunable scale\ntunable fill\nproblem n=1\n",
             "line 2: a second 'tunable'"),
            ("tunable scale\nbudget -1\nproblem n=1\n", "line 2: expected"),
            ("tunable scale\nproblem n=\n", "line 2: expected"),
            ("tunable nope\nproblem n=1\n", "unknown tunable 'nope'"),
            ("tunable fill\nproblem n=1 n=2\n",
             "line 2: a name given twice"),
            ("tunable fill\nproblem n=64\nproblem n=1 m=2\n",
             "problem 2 (m=2 n=1): fill takes n"),
            ("tunable scale\nproblem n=64\n", "scale takes n and iters")]:
        run("run", "--db", path("x.db"), write("bad.grid", text), code=2,
            stderr_has=message)
    run("run", path("missing.grid"), code=2,
        stderr_has="No such file or directory")
    run("run", tmp, code=2, stderr_has="Is a directory")
    check(not os.path.exists(path("x.db")), "bad grids made no database")
    run("frob", code=2, stderr_has="unknown command")
    run(code=2, stderr_has="no command")
    run("list", code=2, stderr_has="wrong number")
    run("list", "--bogus", "x", code=2, stderr_has="unknown option")
    run("run", "--budget", "-1", scale, code=2, stderr_has="--budget")
    run("run", "--db", code=2, stderr_has="needs a value")
    run("list", "--force", "x", code=2, stderr_has="options of 'run'")
    check("clq-tune" in run("--version").stdout, "--version")
    usage = run("--help").stdout

    # The manual: every option of the usage, every JSON field.
    for opt in set(re.findall(r"--[a-z]+", usage)):
        check(opt.replace("-", r"\-") in page, f"man page lacks {opt}")
    for name in seen_fields:
        check(re.search(r"\b" + re.escape(name) + r"\b", page) is not None,
              f"man page lacks JSON field {name}")
    if shutil.which("groff"):
        g = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", man],
                           capture_output=True, text=True)
        check(g.returncode == 0 and not g.stderr.strip(),
              "groff: " + g.stderr)
finally:
    shutil.rmtree(tmp)

for f in failures:
    print("FAIL:", f)
print(f"{len(failures)} failures")
sys.exit(1 if failures else 0)
