#!/usr/bin/env bash
# Fuzzes for a bounded time, starting from the kept inputs, without
# writing into the source tree: new inputs go to a scratch directory,
# crash inputs to ARTIFACTS (keep them in tests/fuzz/corpus/ as
# regression inputs). Prints libFuzzer's final statistics.
# usage: run-fuzzer.sh FUZZER SEED_DIR SECONDS ARTIFACTS
set -u
fuzzer=$1 seeds=$2 seconds=$3 artifacts=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts" "$work/corpus"
"$fuzzer" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$work/corpus" "$seeds" >"$work/log" 2>&1
rc=$?
grep -E '^(stat::number_of_executed_units|stat::new_units_added|Done)|ERROR|SUMMARY' "$work/log"
[ $rc -eq 0 ] || tail -n 40 "$work/log"
exit $rc
