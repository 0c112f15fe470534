#!/usr/bin/env python3
# clq-time(1) against clq-time itself: groff reads the page without a
# warning; it has the usual sections; it describes every command and
# every option that the help lists, every exit status, the JSON format
# number and every field of each command's JSON document; and each of its
# examples runs (with --budget 0, files in a temporary directory and the
# test device); its header names the tool's version. Exits 77 without
# groff.
# usage: check-man.py CLQ-TIME.1 CLQ-TIME CL-DIR
import json, os, re, shlex, shutil, subprocess, sys, tempfile

page, cl_dir = sys.argv[1], sys.argv[3]
tool = os.path.abspath(sys.argv[2])
groff = shutil.which("groff")
if not groff:
    print("groff is not installed (Debian: groff-base)")
    sys.exit(77)

# groff -ww: every warning; -z: no output, only the diagnostics
r = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-z", page],
                   capture_output=True, text=True)
assert r.returncode == 0 and not r.stderr, r.stderr

source = open(page, encoding="utf-8").read()
assert "\t" not in source and not re.search(r" $", source, re.M)


def plain(line):
    """A roff line with its escapes undone, as far as this check needs."""
    line = re.sub(r"\\f[BIRP]", "", line)
    for esc, char in (("\\-", "-"), ("\\e", "\\"), ("\\(dq", '"'),
                      ("\\(lq", '"'), ("\\(rq", '"'), ("\\&", "")):
        line = line.replace(esc, char)
    return line


lines = [plain(l) for l in source.splitlines()]
sections, current = {}, None
for line in lines:
    m = re.match(r'^\.SH "?(.*?)"?$', line)
    if m:
        current = m.group(1)
        sections[current] = []
    elif current:
        sections[current].append(line)
for name in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS",
             "JSON OUTPUT", "ENVIRONMENT", "EXIT STATUS", "EXAMPLES",
             "SEE ALSO"):
    assert name in sections, f"no {name} section"


def items(section):
    """The heads of the .TP items of a section, without the macro name."""
    body = sections[section]
    return [re.sub(r"^\.\w+\s*", "", body[i + 1]).replace('"', "")
            for i, l in enumerate(body[:-1]) if l == ".TP"]


def bold_words(section):
    words = set()
    for line in sections[section]:
        if re.match(r"^\.(B|BR|BI|IB|RB) ", line):
            words |= set(re.findall(r"[\w.-]+", line[3:]))
    return words


# The commands and the options of the help, each an item of the page.
main_help = subprocess.run([tool, "--help"], capture_output=True, text=True,
                           check=True).stdout
block = re.search(r"\nCommands:\n(.*?)\n'", main_help, re.S).group(1)
commands = [l.split()[0] for l in block.splitlines() if l[2] != " "]
heads = [h.split()[0] for h in items("COMMANDS")]
assert heads == commands, (heads, commands)
options = set(re.findall(r"^  (?:-h, )?(--[a-z-]+)", main_help, re.M))
for command in commands:
    text = subprocess.run([tool, command, "--help"], capture_output=True,
                          text=True, check=True).stdout
    options |= set(re.findall(r"^  (?:-h, )?(--[a-z-]+)", text, re.M))
documented = {w for h in items("OPTIONS") for w in re.findall(r"--?[a-z-]+", h)}
assert options <= documented, options - documented
assert "-h" in documented and "--help" in documented

# Exit statuses: those the help names, each an item.
codes = re.findall(r"(\d) (?:success|a device|bad usage)",
                   " ".join(main_help.split()))
assert codes == ["0", "1", "2"], codes
assert [h.split()[0] for h in items("EXIT STATUS")] == codes

# JSON: the format number and every field of every command's document.
scale = os.path.join(cl_dir, "scale.cl")
runs = {
    "devices": [],
    "transfer": ["--size", "4K", "--budget", "0"],
    "kernel": [scale, "scale", "--global", "64", "--local", "16",
               "--arg", "buf:float:64", "--arg", "uint:64", "--arg",
               "float:1", "--arg", "float:0", "--arg", "uint:1",
               "--bytes", "512", "--flops", "128", "--budget", "0"],
    "latency": ["--budget", "0"],
}
assert sorted(runs) == sorted(commands)


def keys(node):
    if isinstance(node, dict):
        for k, v in node.items():
            yield k
            yield from keys(v)
    elif isinstance(node, list):
        for v in node:
            yield from keys(v)


fields = bold_words("JSON OUTPUT")
formats, versions = set(), set()
default = None
for command, args in runs.items():
    doc = json.loads(subprocess.run([tool, command, "--json", *args],
                                    capture_output=True, text=True,
                                    check=True).stdout)
    formats.add(doc["format"])
    versions.add(doc["clq_version"])
    if command == "devices":
        default = next(d["spec"] for d in doc["devices"]
                       if d["index"] == doc["default"])
    missing = set(keys(doc)) - fields
    assert not missing, f"{command} --json: {sorted(missing)} not in the page"
described = re.search(r"describes format (\d+)",
                      " ".join(sections["JSON OUTPUT"]))
assert described and formats == {int(described.group(1))}, formats
# the header names the version of clq that the tool is (meson writes it)
header = re.search(r'^\.TH \S+ 1 "[^"]*" "clq ([^"]+)"', source, re.M)
assert header and versions == {header.group(1)}, (header, versions)

# The examples, each run: --budget 0, output files and the kernel file in
# a temporary directory, the test device for --device.
examples, inside = [], False
for line in sections["EXAMPLES"]:
    if line in (".EX", ".EE"):
        inside = line == ".EX"
    elif inside:
        examples.append(line)
commands_run = shlex.split(" ".join(examples).replace("\\ ", " "),
                           comments=True)
with tempfile.TemporaryDirectory() as tmp:
    open(os.path.join(tmp, "mykernels.cl"), "w").write(
        "__kernel void saxpy(__global float *y, __global const float *x,\n"
        "                    float a)\n"
        "{ size_t i = get_global_id(0); y[i] = a * x[i] + y[i]; }\n")
    argv, ran = [], 0
    for word in commands_run + ["clq-time"]:
        if word != "clq-time":
            argv.append(word)
            continue
        if argv:
            if "--device" in argv:
                argv[argv.index("--device") + 1] = default
            if argv[0] != "devices":
                argv += ["--budget", "0"]
            p = subprocess.run([tool, *argv], cwd=tmp, capture_output=True,
                               text=True)
            assert p.returncode == 0, (argv, p.stdout, p.stderr)
            ran += 1
        argv = []
    assert ran >= 4, ran
print(f"clq-time(1): {len(commands)} commands, {len(options)} options, "
      f"{len(codes)} exit statuses, JSON format {formats.pop()}, "
      f"{ran} examples run")
