#!/bin/sh
# The shared library exports clq_ functions and nothing else: no internal
# clq__ helpers, no static helpers, no symbols of other libraries.
# usage: check-exports.sh LIBRARY
set -eu
lib=$1
symbols=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ { print $3 }')
[ -n "$symbols" ] || { echo "no exported symbols in $lib"; exit 1; }
bad=$(printf '%s\n' "$symbols" | grep -v '^clq_[a-z]' || true)
internal=$(printf '%s\n' "$symbols" | grep '^clq__' || true)
if [ -n "$bad$internal" ]; then
    echo "unexpected exports in $lib:"
    printf '%s\n' $bad $internal
    exit 1
fi
echo "$(printf '%s\n' "$symbols" | wc -l) exported symbols, all clq_"
