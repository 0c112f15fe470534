#!/bin/sh
# clq as a meson subproject: a parent project that uses dependency('clq')
# gets the library and none of clq's tests or examples, unless it enables
# them with -Dclq:tests=enabled. Configures only (a few seconds).
# usage: check-subproject.sh MESON SOURCE_ROOT
set -eu
meson=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/parent/subprojects"
ln -s "$src" "$tmp/parent/subprojects/clq"
cat >"$tmp/parent/meson.build" <<'MESON'
project('parent', 'c', meson_version: '>= 1.0')
clq_dep = dependency('clq', fallback: ['clq', 'clq_dep'])
test('parent-app', executable('app', 'app.c', dependencies: clq_dep))
MESON
cat >"$tmp/parent/app.c" <<'C'
#include <clq/clq.h>

int
main(void)
{
	return clq_version() != NULL ? 0 : 1;
}
C

# Prints the tests a parent build directory registers, one per line.
tests() {
	dir=$1
	shift
	"$meson" setup "$tmp/$dir" "$tmp/parent" "$@" >"$tmp/$dir.log" 2>&1 ||
		{ cat "$tmp/$dir.log" >&2; exit 1; }
	"$meson" test -C "$tmp/$dir" --list --no-rebuild 2>/dev/null
}

list=$(tests default)
if echo "$list" | grep -q "^clq:" || ! echo "$list" | grep -q "parent-app"; then
	echo "a parent project should register only its own test; it has:"
	echo "$list"
	exit 1
fi
echo "default: the parent registers only its own test"

list=$(tests with-tests -Dclq:tests=enabled)
if ! echo "$list" | grep -q "^clq:"; then
	echo "-Dclq:tests=enabled should register clq's tests; the list is:"
	echo "$list"
	exit 1
fi
echo "-Dclq:tests=enabled: $(echo "$list" | grep -c "^clq:") clq tests"
