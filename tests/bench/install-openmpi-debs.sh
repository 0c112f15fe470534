#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Installs the OpenMPI packages that fetch-openmpi-debs.sh put in DIR, on
# a Debian 12 machine without network access.
#
# usage: install-openmpi-debs.sh DIR [PREFIX]
#
# As root, without PREFIX: `dpkg -i`, leaving out the packages already
# installed (any version) and ocl-icd-libopencl1 where a libOpenCL.so.1
# is already there (a GPU machine's own OpenCL loader stays untouched);
# the dependencies left out that way, and libopenmpi-dev's (headers for
# linking statically, not needed to build against libmpi), are forced
# with --force-depends. mpirun, mpicc and pkg-config's ompi-c then work as
# on any Debian machine.
#
# With PREFIX (or when not root): `dpkg -x` of every package into PREFIX
# (but ocl-icd-libopencl1 where a libOpenCL.so.1 is installed), nothing
# else touched; then source PREFIX/openmpi.env, written here,
# which sets PATH, LD_LIBRARY_PATH, PKG_CONFIG_PATH, OPAL_PREFIX (so
# OpenMPI finds its components and help files under PREFIX/usr, where it
# looks under /usr otherwise) and PMIX_INSTALL_PREFIX (the same for
# PMIx). Its /etc/openmpi defaults are not read; none is needed on one
# machine.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 DIR [PREFIX]" >&2
    exit 2
fi
dir=$(cd "$1" && pwd)
shopt -s nullglob
debs=("$dir"/*.deb)
if [ ${#debs[@]} -eq 0 ]; then
    echo "$0: no .deb files in $dir: run fetch-openmpi-debs.sh DIR first" >&2
    exit 1
fi

if [ $# -eq 1 ] && [ "$(id -u)" -eq 0 ]; then
    install=()
    for deb in "${debs[@]}"; do
        name=$(dpkg-deb -f "$deb" Package)
        if dpkg-query -W -f='${Status}' "$name" 2>/dev/null |
            grep -q 'install ok installed'; then
            echo "kept: $name (installed)"
        elif [ "$name" = ocl-icd-libopencl1 ] &&
            ldconfig -p | grep -q 'libOpenCL\.so\.1 '; then
            echo "kept: the OpenCL loader already installed"
        else
            install+=("$deb")
        fi
    done
    if [ ${#install[@]} -gt 0 ]; then
        dpkg -i --force-depends "${install[@]}"
    fi
    mpirun --version | head -n 1
    exit 0
fi

prefix=${2:-$HOME/openmpi-debs}
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
for deb in "${debs[@]}"; do
    # LD_LIBRARY_PATH would put this loader before the machine's own
    if [ "$(dpkg-deb -f "$deb" Package)" = ocl-icd-libopencl1 ] &&
        ldconfig -p | grep -q 'libOpenCL\.so\.1 '; then
        echo "left out: ocl-icd-libopencl1 (an OpenCL loader is installed)"
        continue
    fi
    dpkg -x "$deb" "$prefix"
done
ompi=$prefix/usr/lib/x86_64-linux-gnu/openmpi
# OpenMPI was configured with prefix /usr: the .pc files name it
for f in "$ompi"/lib/pkgconfig/*.pc; do
    sed -i "s|^prefix=.*|prefix=$prefix/usr|" "$f"
done
# the commands' plain names, which dpkg's alternatives would make
for f in "$prefix"/usr/bin/*.openmpi; do
    ln -sf "$(basename "$f")" "${f%.openmpi}"
done
cat >"$prefix/openmpi.env" <<EOF
# OpenMPI extracted by install-openmpi-debs.sh: source this file.
export PATH="$prefix/usr/bin:\$PATH"
export LD_LIBRARY_PATH="$prefix/usr/lib/x86_64-linux-gnu:$ompi/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export PKG_CONFIG_PATH="$ompi/lib/pkgconfig\${PKG_CONFIG_PATH:+:\$PKG_CONFIG_PATH}"
export OPAL_PREFIX="$prefix/usr"
export PMIX_INSTALL_PREFIX="$prefix/usr/lib/x86_64-linux-gnu/pmix2"
EOF
# shellcheck disable=SC1091
. "$prefix/openmpi.env"
echo "OpenMPI in $prefix: source $prefix/openmpi.env"
mpirun --version | head -n 1
