#!/bin/sh
# The C sources are formatted as .clang-format says: every tracked file
# and every new one git does not ignore (tools/ included), so a file is
# checked before its first commit; outside git, those under the source
# directories.
# usage: check-format.sh SOURCE_ROOT
set -eu
cd "$1"
command -v clang-format >/dev/null || { echo "clang-format not found"; exit 77; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# a tracked file deleted from the working tree is not a source any more
	files=$(git ls-files --cached --others --exclude-standard \
		'*.c' '*.h' '*.cpp' '*.cl' | while read -r f; do
		if [ -e "$f" ]; then echo "$f"; fi
	done)
else
	files=$(find include lib tests examples tools cl -name '*.[ch]' -o -name '*.cpp' -o -name '*.cl')
fi
[ -n "$files" ] || { echo "no sources found"; exit 1; }
clang-format --dry-run -Werror $files
echo "$(echo $files | wc -w) files formatted"
