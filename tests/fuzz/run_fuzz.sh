#!/bin/bash
# Runs the frame fuzzer briefly from a fresh seed corpus; any crash, sanitizer report, hang or
# memory blow-up fails. A failing input is kept in ARTIFACT_DIR; replay it with `FUZZER FILE`.
# usage: run_fuzz.sh FUZZER SEED_GENERATOR ARTIFACT_DIR SECONDS
set -uo pipefail
fuzzer=$1
seeds=$2
artifacts=$3
seconds=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$artifacts"
mkdir -p "$work/corpus" "$artifacts"
"$seeds" "$work/corpus" || exit 1
# -timeout: one input taking over 10 s is a hang; -rss_limit_mb: decoders must not balloon.
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -max_len=8192 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" "$work/corpus" > "$work/log" 2>&1
status=$?
tail -n 30 "$work/log"
if [ $status -ne 0 ]; then
  echo "fuzzer failed (exit $status); failing input: $(ls "$artifacts")" >&2
  exit 1
fi
