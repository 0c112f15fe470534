#!/bin/sh
# The C sources are formatted as .clang-format says.
# usage: check-format.sh SOURCE_ROOT
set -eu
cd "$1"
command -v clang-format >/dev/null || { echo "clang-format not found"; exit 77; }
files=$(git ls-files '*.c' '*.h' '*.cpp' '*.cl' 2>/dev/null || find include lib tests examples cl -name '*.[ch]' -o -name '*.cl')
[ -n "$files" ] || { echo "no sources found"; exit 1; }
clang-format --dry-run -Werror $files
echo "$(echo $files | wc -w) files formatted"
