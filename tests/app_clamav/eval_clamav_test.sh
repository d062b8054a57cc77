#!/usr/bin/env bash
# `lockstep eval --app clamav --modes orig,proxy_only,dmt_only --rounds 1`, fast (32 files,
# 4 concurrent scans): every mode completes with 0 failed scans (every verdict as the manifest
# expects), results.csv and summary.md are written, and the cluster is down afterwards.
# dmt_only too: clamd under the DMT runtime scans with the same verdicts, and its runtime report
# (written on SIGTERM at cluster down) shows the scanning threads.
# Usage: eval_clamav_test.sh LOCKSTEP
LOCKSTEP=$1
here=$(cd "$(dirname "$0")" && pwd)
CONFIG=$here/eval.cfg DATA_DIR=/tmp/lockstep-test/clev
source "$here/../eval_harness/lib.sh"
trap cleanup EXIT
# Inside DATA_DIR (which cleanup removes) but beside the node-N dirs that `up` wipes.
RESULTS=$DATA_DIR/results
FILES=32 WARMUP=4

fresh_start
mkdir -p "$RESULTS"
out=$("$LOCKSTEP" eval --app clamav --modes orig,proxy_only,dmt_only --rounds 1 --requests $FILES --concurrency 4 \
  --warmup $WARMUP --json --config "$CONFIG" --results "$RESULTS" --tag t) || fail "eval failed: $out"
echo "$out"
check_eval_output "$out" clamav scan orig,proxy_only,dmt_only throughput latency_ms scan_s failed
dir=$EVAL_DIR
for mode in orig proxy_only dmt_only; do
  raw=$dir/clamav-$mode-round1.txt
  grep -qx "files: $FILES" "$raw" || fail "$mode: raw output does not count $FILES files: $(cat "$raw")"
  found=$(sed -n 's/^found: //p' "$raw")
  expected=$(sed -n 's/^expected found: //p' "$raw")
  ((found > 0 && found == expected)) || fail "$mode: found $found infected files, expected $expected"
done
"$LOCKSTEP" cluster status --config "$CONFIG" | grep -q ': down' || fail "eval left the cluster up"
# dmt_only ran last, so its replica directory is still there.
report=$DATA_DIR/node-1/dmt/report.json
jq -e '.threads > 1 and .ops.io_accept > 0 and .ops.cond_signal > 0' "$report" >/dev/null ||
  fail "dmt_only: no runtime report with clamd's threads: $(cat "$report" 2>&1)"

echo PASS
