#!/bin/sh
# The pkg-config consumer against an installed clq (suite 'build'):
# installs this build into a temporary directory (meson install --destdir),
# builds consumer.c there with build.sh, which uses nothing but
# `pkg-config --cflags --libs clq`, and runs it. Checks that the installed
# library carries the ABI version's soname, that the program loads that
# library (not the build's), and that it prints the project's version.
# Skips (77) without pkg-config or a C compiler.
#
# usage: check-install.sh MESON BUILD_ROOT VERSION ABI_VERSION CFLAGS CC...
# (CFLAGS is one word list, e.g. "-Wall -Werror"; CC may be several words)
set -eu
meson=$1
build=$2
version=$3
abi=$4
cflags=$5
shift 5
here=$(cd "$(dirname "$0")" && pwd)

command -v pkg-config >/dev/null || { echo "pkg-config not found"; exit 77; }
command -v "$1" >/dev/null || { echo "no C compiler ($1)"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
	echo "FAIL: $*"
	exit 1
}

# The build as `meson install` would put it under its prefix, staged.
dest=$tmp/dest
"$meson" install -C "$build" --no-rebuild --destdir "$dest" \
	>"$tmp/install.log" 2>&1 || {
	cat "$tmp/install.log"
	fail "meson install --destdir failed"
}

# clq.pc is in <prefix>/<libdir>/pkgconfig, whatever libdir is (lib,
# lib64, or Debian's lib/<triplet>).
pc=$(find "$dest" -path '*/pkgconfig/clq.pc' | head -n 1)
[ -n "$pc" ] || fail "no pkgconfig/clq.pc under the installed tree"
pcdir=$(dirname "$pc")
libdir=$(dirname "$pcdir")
echo "installed: ${pc#"$dest"}"

# The library file is named for the ABI version, its soname for the
# ABI's first number.
soname=libclq.so.${abi%%.*}
[ -f "$libdir/libclq.so.$abi" ] || fail "no $libdir/libclq.so.$abi"
[ "$(readlink "$libdir/$soname")" = "libclq.so.$abi" ] ||
	fail "$soname does not point at libclq.so.$abi"
if command -v readelf >/dev/null; then
	readelf -d "$libdir/libclq.so.$abi" | grep -q "SONAME.*\[$soname\]" ||
		fail "the soname of libclq.so.$abi is not $soname"
fi

# clq.pc says where the headers and library are under its prefix: the
# sysroot puts that prefix inside the staging directory. Only the
# installed clq.pc is visible (no -uninstalled variant, no other copy
# ahead of it).
export PKG_CONFIG_PATH="$pcdir"
export PKG_CONFIG_SYSROOT_DIR="$dest"
export PKG_CONFIG_DISABLE_UNINSTALLED=1
export LD_LIBRARY_PATH="$libdir"
unset PKG_CONFIG_LIBDIR
[ "$(pkg-config --variable=pcfiledir clq)" = "$pcdir" ] ||
	fail "pkg-config reads clq.pc from" \
		"$(pkg-config --variable=pcfiledir clq), not $pcdir"
echo "pkg-config --cflags --libs clq: $(pkg-config --cflags --libs clq)"

# CFLAGS is split into words on purpose.
# shellcheck disable=SC2086
CC="$*" CFLAGS="$cflags" "$here/build.sh" "$tmp/consumer" ||
	fail "build.sh could not build the consumer"

if command -v ldd >/dev/null; then
	loaded=$(ldd "$tmp/consumer" | awk '$1 ~ /^libclq\.so/ { print $3 }')
	case $loaded in
	"$libdir"/*) ;;
	*) fail "the consumer loads libclq from '$loaded', not $libdir" ;;
	esac
fi

rc=0
"$tmp/consumer" >"$tmp/out" 2>&1 || rc=$?
cat "$tmp/out"
[ "$rc" -eq 0 ] || fail "the consumer exited $rc"
grep -q "^clq headers $version, library $version\$" "$tmp/out" ||
	fail "the consumer does not print clq $version"
echo "ok: built with pkg-config alone against the installed clq, and ran"
