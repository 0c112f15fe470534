#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Downloads, with `apt-get download`, OpenMPI's Debian 12 packages and
# those of their run-time dependencies that a minimal Debian 12 lacks,
# into DIR, for a machine without OpenMPI or network access (the H200
# machine of tests/bench/mpi-devices.sh); install-openmpi-debs.sh installs
# them there.
#
# usage: fetch-openmpi-debs.sh DIR
#
# The packages: openmpi-bin (mpirun), libopenmpi3 (libmpi), and
# libopenmpi-dev (mpi.h and the pkg-config file, for building
# examples/mpi-stream there; its own dependencies are headers for linking
# statically and are left out: install-openmpi-debs.sh installs it without
# them); then, recursively, what they depend on (Depends and Pre-Depends;
# of alternatives or a virtual package's providers, the first unless one
# is in the minimal system) that is not in the minimal system. "Minimal"
# is every package of priority required or important and everything they
# depend on, recursively (libc6, zlib1g and libstdc++6 are of priority
# optional in Debian 12, but apt and dpkg need them). Recommends and
# Suggests are not followed. Needs apt's package lists (apt-get update)
# and python3; run where apt-cache describes Debian 12 (bookworm), amd64.
# Prints each package with its size and the total.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir=$1
mkdir -p "$dir"

# package name, version and size, one a line: what to download
# shellcheck disable=SC2016 # the program is Python, not shell
list=$(apt-cache dumpavail | python3 -c '
import sys

ROOTS = ["openmpi-bin", "libopenmpi3"]
DEV = ["libopenmpi-dev"]  # fetched, its dependencies not followed

pkgs, provides = {}, {}
for stanza in sys.stdin.read().split("\n\n"):
    f, key = {}, None
    for line in stanza.splitlines():
        if line[:1] in (" ", "\t") and key:
            f[key] += " " + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            f[key] = value.strip()
    name = f.get("Package")
    if not name or f.get("Architecture") not in ("amd64", "all"):
        continue
    pkgs[name] = f
    for p in f.get("Provides", "").split(","):
        p = p.split("(")[0].strip()
        if p:
            provides.setdefault(p, []).append(name)

def depends(name):
    """Each dependency of `name` as its list of alternatives."""
    f = pkgs[name]
    text = ", ".join(t for t in (f.get("Pre-Depends"), f.get("Depends")) if t)
    out = []
    for dep in text.split(","):
        alts = []
        for alt in dep.split("|"):
            alt = alt.split("(")[0].strip().split(":")[0]
            if alt:
                alts.append(alt)
        if alts:
            out.append(alts)
    return out

def candidates(alt):
    """Real packages that satisfy one alternative."""
    return ([alt] if alt in pkgs else []) + provides.get(alt, [])

def closure(start, stop):
    seen, todo = set(), list(start)
    while todo:
        name = todo.pop()
        if name in seen or name in stop:
            continue
        seen.add(name)
        for alts in depends(name):
            options = [c for a in alts for c in candidates(a)]
            if not options:
                sys.exit(f"no package satisfies {alts} (of {name})")
            if any(o in seen or o in stop for o in options):
                continue
            todo.append(options[0])
    return seen

base = [n for n, f in pkgs.items()
        if f.get("Priority") in ("required", "important")
        or f.get("Essential") == "yes"]
minimal = closure(base, set())
fetch = closure(ROOTS, minimal) | set(DEV)
for name in sorted(fetch):
    print(name, pkgs[name]["Version"], pkgs[name].get("Size", "0"))
')

total=0
names=()
while read -r name version size; do
    names+=("$name=$version")
    total=$((total + size))
    printf '%-28s %-24s %9d bytes\n' "$name" "$version" "$size"
done <<<"$list"
(cd "$dir" && apt-get download -q "${names[@]}" >/dev/null)
echo "${#names[@]} packages, $total bytes ($(awk -v b="$total" 'BEGIN { printf "%.1f", b / 1048576 }') MiB) in $dir"
