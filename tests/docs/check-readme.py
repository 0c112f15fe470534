#!/usr/bin/env python3
"""Checks every fenced block of README.md, so the README cannot drift.

Each block is handled by its language, or by an HTML comment on the line
right before its opening fence:

  ```c                 a complete program: compiled against the built
                       library (its uninstalled pkg-config file) with
                       -std=c11 -Wall -Wextra -pedantic -Werror, then run
                       on the test device; it must exit 0.
  <!-- docs-test: file NAME -->
                       also saved as NAME in the directory the sh blocks
                       run in (a C block is still compiled and run; a
                       block of another language, e.g. an OpenCL kernel,
                       is only saved).
  <!-- docs-test: excerpt PATH -->
                       a C block that is part of PATH (relative to the
                       source root): each piece of it (pieces are separated
                       by a line that is only a comment with "...") must
                       appear in PATH in order, ignoring whitespace; PATH
                       is compiled and run as a complete program.
  <!-- docs-test: output COMMAND ARGS... -->
                       a block of sample output (no language) from
                       COMMAND (relative to the build root): the test runs
                       it and checks that the sample's lines are among
                       the lines it prints, in order, by their labels (the
                       text before a line's first ':' or digit); a sample
                       may leave lines out.
  <!-- docs-test: fails COMMAND ARGS... -->
                       a block of sample messages (no language) from
                       COMMAND (relative to the build root), which must
                       exit with a status other than 0: each line of the
                       sample must be a whole line of what it prints
                       (stdout and stderr), in order, runs of blanks
                       counting as one space.
  ```sh                commands, run in order as one bash session (set -e)
                       in a copy of the source tree, with HOME a temporary
                       directory (so $HOME/.local is a throwaway prefix),
                       the build's tools/clq-time/, tools/clq-tune/ and
                       examples/ on PATH
                       and CLQ_DEVICE the test device.
  <!-- docs-test: needs PROGRAM -->
                       an sh block that is skipped when PROGRAM is not
                       installed.
  <!-- docs-test: skip-line COMMAND (REASON) -->
                       an sh block of which the line COMMAND is not run
                       (one that matches no line fails: the line it meant
                       to skip, e.g. the test command, could recurse).
  <!-- docs-test: skip (REASON) -->
                       a block that is not checked, for a stated reason.

Any other block, or a directive this script does not know, fails the test.

usage: check-readme.py --kind programs|commands [--cc CC...]
           [--sanitize B_SANITIZE] -- README SOURCE_ROOT BUILD_ROOT
(CLQ_TEST_DEVICE names the device; CLQ_DOCS_KEEP=1 keeps the temporary
directory.)
"programs" checks C blocks, excerpts and sample output; "commands" runs the
sh blocks. Both check that every block is one they know how to check.
Exits 0 when all pass, 77 when there is no OpenCL device, 1 otherwise.
"""

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
DIRECTIVE = re.compile(r"^<!--\s*docs-test:\s*(.*?)\s*-->$")
REASON = re.compile(r"^(.*?)\s*\(([^()]+)\)$")


class Block:
    def __init__(self, line, lang, text, directive):
        self.line = line  # of the opening fence, 1-based
        self.lang = lang
        self.text = text
        self.verb, self.arg, self.reason = "", "", ""
        if directive is not None:
            parts = directive.split(None, 1)
            self.verb = parts[0]
            rest = parts[1] if len(parts) > 1 else ""
            m = REASON.match(rest)
            if m:
                self.arg, self.reason = m.group(1), m.group(2)
            else:
                self.arg = rest
            if len(self.arg) > 1 and self.arg[0] == self.arg[-1] == '"':
                self.arg = self.arg[1:-1]

    def where(self):
        return f"README.md:{self.line}"


def parse(path):
    """The fenced blocks of a Markdown file, with their directives."""
    blocks = []
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^(```+|~~~+)\s*([\w+-]*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        fence, lang = m.group(1), m.group(2)
        directive = None
        j = i - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        if j >= 0:
            d = DIRECTIVE.match(lines[j].strip())
            if d:
                directive = d.group(1)
        start = i
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith(fence):
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise SystemExit(f"README.md:{start + 1}: unterminated block")
        blocks.append(Block(start + 1, lang, "\n".join(body) + "\n", directive))
        i += 1
    return blocks


def classify(block):
    """What to do with a block, or an error message."""
    verb, lang = block.verb, block.lang
    if verb == "skip":
        return "skip" if block.reason else "a skip needs a (reason)"
    if verb == "file":
        if not re.fullmatch(r"[\w.-]+", block.arg):
            return f"bad file name {block.arg!r}"
        return "c" if lang == "c" else "file"
    if verb == "excerpt":
        return "excerpt" if lang == "c" else "an excerpt must be a C block"
    if verb in ("output", "fails"):
        return verb if lang in ("", "text") and block.arg else \
            f"{verb} needs a command and a block without a language"
    if verb in ("needs", "skip-line"):
        if lang != "sh":
            return f"{verb} applies to sh blocks only"
        if verb == "skip-line" and not block.reason:
            return "a skip-line needs a (reason)"
        return "sh"
    if verb:
        return f"unknown docs-test directive {verb!r}"
    if lang == "c":
        return "c"
    if lang == "sh":
        return "sh"
    return (f"no check for a block of {lang or 'plain text'}: give it a "
            "docs-test directive")


class Checker:
    def __init__(self, opts):
        self.opts = opts
        self.src = os.path.abspath(opts.source_root)
        self.build = os.path.abspath(opts.build_root)
        self.tmp = tempfile.mkdtemp(prefix="clq-docs-")
        self.failed = 0
        self.ran = set()
        self.device = os.environ.get("CLQ_TEST_DEVICE", "")
        env = dict(os.environ)
        env["CLQ_DEVICE"] = self.device
        env["PKG_CONFIG_PATH"] = os.path.join(self.build, "meson-uninstalled")
        env.pop("PKG_CONFIG_DISABLE_UNINSTALLED", None)
        lib = env.get("LD_LIBRARY_PATH")
        env["LD_LIBRARY_PATH"] = self.build + (":" + lib if lib else "")
        self.env = env
        flags = subprocess.run(
            ["pkg-config", "--cflags", "--libs", "clq"], env=env,
            capture_output=True, text=True)
        if flags.returncode != 0:
            raise SystemExit("pkg-config cannot find clq-uninstalled.pc in "
                             f"{env['PKG_CONFIG_PATH']}: {flags.stderr}")
        self.flags = shlex.split(flags.stdout)
        self.cflags = ["-std=c11", "-Wall", "-Wextra", "-pedantic", "-Werror"]
        if opts.sanitize and opts.sanitize != "none":
            # The library was built with these; the program must be too.
            self.cflags += [f"-fsanitize={opts.sanitize}",
                            "-fno-omit-frame-pointer"]

    def fail(self, block, message, output=""):
        self.failed += 1
        print(f"FAIL {block.where()}: {message}")
        if output:
            print(output.rstrip())

    def compile_and_run(self, block, source, name):
        exe = os.path.join(self.tmp, name)
        cmd = self.opts.cc + [source, "-o", exe] + self.cflags + self.flags
        r = subprocess.run(cmd, capture_output=True, text=True, env=self.env)
        if r.returncode != 0:
            self.fail(block, "does not compile: " + shlex.join(cmd),
                      r.stdout + r.stderr)
            return
        # Run from an empty directory: a program must not depend on what
        # lies in the current one.
        rundir = tempfile.mkdtemp(dir=self.tmp)
        try:
            r = subprocess.run([exe], capture_output=True, text=True,
                               env=self.env, cwd=rundir, timeout=300)
        except subprocess.TimeoutExpired:
            self.fail(block, f"{name} ran for more than 300 s")
            return
        if r.returncode != 0:
            self.fail(block, f"{name} exited {r.returncode}",
                      r.stdout + r.stderr)
            return
        print(f"ok   {block.where()}: {name} compiles and runs")
        for line in (r.stdout + r.stderr).splitlines()[:10]:
            print("       | " + line)

    def check_program(self, block):
        name = f"readme-{block.line}"
        source = os.path.join(self.tmp, name + ".c")
        with open(source, "w", encoding="utf-8") as f:
            f.write(block.text)
        self.compile_and_run(block, source, name)

    def check_excerpt(self, block):
        path = os.path.join(self.src, block.arg)
        if not block.arg.endswith(".c") or not os.path.isfile(path):
            self.fail(block, f"excerpt of {block.arg}: not a C file of the "
                      "source tree")
            return
        text = "".join(open(path, encoding="utf-8").read().split())
        pieces, piece = [], []
        for line in block.text.splitlines():
            if re.fullmatch(r"\s*/\*.*\.\.\..*\*/\s*", line):
                pieces.append(piece)
                piece = []
            else:
                piece.append(line)
        pieces.append(piece)
        at = 0
        for p in pieces:
            want = "".join("".join(p).split())
            if not want:
                continue
            found = text.find(want, at)
            if found < 0:
                self.fail(block, f"this part of the excerpt is not in "
                          f"{block.arg} (in order, ignoring whitespace):",
                          "\n".join(p))
                return
            at = found + len(want)
        print(f"ok   {block.where()}: excerpt found in {block.arg}")
        if path not in self.ran:  # several excerpts of one file
            self.ran.add(path)
            self.compile_and_run(block, path,
                                 os.path.splitext(os.path.basename(path))[0])

    @staticmethod
    def labels(text):
        out = []
        for line in text.splitlines():
            line = line.strip()
            if line:
                out.append(re.split(r"[:0-9]", line, maxsplit=1)[0].strip())
        return out

    def check_output(self, block):
        argv = shlex.split(block.arg)
        argv[0] = os.path.join(self.build, argv[0])
        try:
            r = subprocess.run(argv, capture_output=True, text=True,
                               env=self.env, cwd=self.tmp, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as e:
            self.fail(block, f"cannot run {block.arg}: {e}")
            return
        if r.returncode != 0:
            self.fail(block, f"{block.arg} exited {r.returncode}",
                      r.stdout + r.stderr)
            return
        want, got = self.labels(block.text), self.labels(r.stdout)
        rest = iter(got)
        if not all(label in rest for label in want):
            self.fail(block, f"the sample's lines are not among those "
                      f"{block.arg} prints now, in order:\n"
                      f"  README: {want}\n  now:    {got}", r.stdout)
            return
        print(f"ok   {block.where()}: sample output has the lines "
              f"{block.arg} prints")

    def check_fails(self, block):
        argv = shlex.split(block.arg)
        argv[0] = os.path.join(self.build, argv[0])
        try:
            r = subprocess.run(argv, capture_output=True, text=True,
                               env=self.env, cwd=self.tmp, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as e:
            self.fail(block, f"cannot run {block.arg}: {e}")
            return
        if r.returncode == 0:
            self.fail(block, f"{block.arg} exited 0, not with a failure",
                      r.stdout + r.stderr)
            return

        def lines(text):
            return [" ".join(l.split()) for l in text.splitlines()
                    if l.strip()]

        rest = iter(lines(r.stdout) + lines(r.stderr))
        for want in lines(block.text):
            if want not in rest:
                self.fail(block, f"this line of the sample is not among "
                          f"those {block.arg} prints now (after the "
                          f"sample's earlier lines):\n  {want}",
                          r.stdout + r.stderr)
                return
        print(f"ok   {block.where()}: {block.arg} fails with the "
              f"sample's lines (exit {r.returncode})")

    def copy_tree(self, dest):
        """The source tree as a checkout has it: tracked and untracked
        files that git does not ignore (no build directories)."""
        r = subprocess.run(["git", "-C", self.src, "ls-files", "-z",
                            "--cached", "--others", "--exclude-standard"],
                           capture_output=True)
        if r.returncode == 0:
            for rel in r.stdout.decode().split("\0"):
                path = os.path.join(self.src, rel)
                if not rel or not os.path.lexists(path):
                    continue
                os.makedirs(os.path.dirname(os.path.join(dest, rel)),
                            exist_ok=True)
                shutil.copy2(path, os.path.join(dest, rel),
                             follow_symlinks=False)
        else:
            shutil.copytree(self.src, dest, dirs_exist_ok=True, symlinks=True,
                            ignore=shutil.ignore_patterns("build*", ".git"))

    def run_commands(self, blocks):
        """The sh blocks, in order, as one bash session."""
        tree = os.path.join(self.tmp, "checkout")
        home = os.path.join(self.tmp, "home")
        os.makedirs(home)
        self.copy_tree(tree)
        script = ["set -e -o pipefail"]
        ran = []
        for block, what in blocks:
            if block.verb == "file":  # a C program or another file
                with open(os.path.join(tree, block.arg), "w") as f:
                    f.write(block.text)
                continue
            if what != "sh":
                continue
            if block.verb == "needs" and not shutil.which(block.arg):
                print(f"skip {block.where()}: needs {block.arg}, which is "
                      "not installed")
                continue
            lines = []
            for line in block.text.splitlines():
                if block.verb == "skip-line" and \
                        line.split("#")[0].strip() == block.arg:
                    print(f"skip {block.where()}: {block.arg!r} "
                          f"({block.reason})")
                    continue
                lines.append(line)
            if block.verb == "skip-line" and \
                    len(lines) == len(block.text.splitlines()):
                # Running the line it meant to skip could recurse.
                self.fail(block, f"skip-line {block.arg!r}: no such line")
                return
            script.append(f"echo '==> {block.where()}' >&2")
            script.append("set -x")
            script += lines
            script.append("{ set +x; } 2>/dev/null")
            ran.append(block)
        env = dict(self.env)
        env["HOME"] = home
        env["PATH"] = ":".join([os.path.join(self.build, "tools", "clq-time"),
                                os.path.join(self.build, "tools", "clq-tune"),
                                os.path.join(self.build, "examples"),
                                env["PATH"]])
        # What a user's shell would not have.
        for var in ("PKG_CONFIG_PATH", "LD_LIBRARY_PATH", "MESON_TESTTHREADS",
                    "MALLOC_PERTURB_", "ASAN_OPTIONS", "UBSAN_OPTIONS",
                    "LSAN_OPTIONS"):
            env.pop(var, None)
        script.append("echo '==> all blocks ran' >&2")
        r = subprocess.run(["bash", "-c", "\n".join(script) + "\n"],
                           cwd=tree, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        print(r.stdout.rstrip())
        if r.returncode != 0:
            last = re.findall(r"^==> (README\.md:\d+)$", r.stdout, re.M)
            self.failed += 1
            print(f"FAIL {last[-1] if last else 'README.md'}: a command "
                  f"exited {r.returncode} (see above)")
        else:
            for block in ran:
                print(f"ok   {block.where()}: commands ran")

    def have_device(self):
        probe = os.path.join(self.tmp, "probe.c")
        with open(probe, "w") as f:
            f.write("#include <clq/clq.h>\nint main(void)\n{\n\tsize_t n "
                    "= 0;\n\treturn clq_device_count(&n) == 0 && n > 0 ? 0 "
                    ": 77;\n}\n")
        exe = os.path.join(self.tmp, "probe")
        subprocess.run(self.opts.cc + [probe, "-o", exe] + self.cflags +
                       self.flags, check=True, env=self.env)
        return subprocess.run([exe], env=self.env).returncode == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kind", choices=["programs", "commands"],
                    required=True)
    ap.add_argument("--cc", nargs="+", default=["cc"])
    ap.add_argument("--sanitize", default="none")
    ap.add_argument("readme")
    ap.add_argument("source_root")
    ap.add_argument("build_root")
    opts = ap.parse_args()

    blocks = parse(opts.readme)
    plan, bad = [], 0
    for block in blocks:
        what = classify(block)
        if what in ("skip", "c", "file", "excerpt", "output", "fails",
                    "sh"):
            plan.append((block, what))
        else:
            print(f"FAIL {block.where()}: {what}")
            bad += 1
    if bad:
        return 1

    checker = Checker(opts)
    try:
        if not checker.have_device():
            print("no OpenCL device: skipped")
            return SKIP
        for block, what in plan:
            if what == "skip":
                print(f"skip {block.where()}: {block.reason}")
        if opts.kind == "programs":
            for block, what in plan:
                if what == "c":
                    checker.check_program(block)
                elif what == "excerpt":
                    checker.check_excerpt(block)
                elif what == "output":
                    checker.check_output(block)
                elif what == "fails":
                    checker.check_fails(block)
        else:
            checker.run_commands(plan)
    finally:
        if not os.environ.get("CLQ_DOCS_KEEP"):
            shutil.rmtree(checker.tmp, ignore_errors=True)
        else:
            print(f"kept {checker.tmp}")
    print(f"{len(blocks)} blocks, {checker.failed} failed")
    return 1 if checker.failed else 0


if __name__ == "__main__":
    sys.exit(main())
