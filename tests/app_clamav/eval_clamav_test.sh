#!/usr/bin/env bash
# `lockstep eval --app clamav --modes orig,proxy_only --rounds 1` in a fast configuration (32 files,
# 4 concurrent scans): both modes complete with 0 failed scans (every verdict as the manifest
# expects), results.csv and summary.md are written, and the cluster is down afterwards.
# dmt_only is refused up front (app.cfg dmt_unsupported: under the DMT runtime clamd accepts each
# connection only when its idle workers' 30 s timed wait expires; apps/clamav/README.md): one
# line, exit 2, nothing started — from eval and from cluster up.
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
for cmd in "eval --modes orig,dmt_only --results $RESULTS" "cluster up --mode dmt_only"; do
  rc=0
  # shellcheck disable=SC2086  # $cmd is a fixed list of words
  err=$("$LOCKSTEP" $cmd --app clamav --config "$CONFIG" 2>&1 >/dev/null) || rc=$?
  ((rc == 2)) || fail "$cmd exited $rc, expected 2: $err"
  [[ $(wc -l <<<"$err") == 1 && $err == *"app clamav cannot run under the DMT runtime (mode dmt_only): "*"IdleTimeout"* ]] ||
    fail "$cmd: expected the one-line dmt_unsupported refusal, got: $err"
done
[[ -z $(ls -A "$RESULTS") ]] || fail "the refused eval left results: $(ls "$RESULTS")"
"$LOCKSTEP" cluster status --config "$CONFIG" | grep -q ': down' || fail "the refused cluster up left something up"

out=$("$LOCKSTEP" eval --app clamav --modes orig,proxy_only --rounds 1 --requests $FILES --concurrency 4 \
  --warmup $WARMUP --json --config "$CONFIG" --results "$RESULTS" --tag t) || fail "eval failed: $out"
echo "$out"
json=$(tail -1 <<<"$out")
for mode in orig proxy_only; do
  jq -e --arg m "$mode" '.app == "clamav" and .modes[$m].ok and (.modes[$m].throughput > 0)
      and (.modes[$m].latency_ms > 0) and .modes[$m].failed == 0' <<<"$json" >/dev/null ||
    fail "JSON lacks a good $mode: $json"
done
dir=$(jq -r .results_dir <<<"$json")
[[ -s $dir/summary.md ]] || fail "no summary.md"
grep -q '^| proxy_only | ' "$dir/summary.md" || fail "summary.md lacks proxy_only: $(cat "$dir/summary.md")"
head -1 "$dir/results.csv" | grep -qx 'app,mode,round,metric,value' || fail "results.csv header"
for mode in orig proxy_only; do
  for metric in throughput latency_ms scan_s failed; do
    grep -q "^clamav,$mode,1,$metric," "$dir/results.csv" || fail "results.csv lacks $mode $metric"
  done
  raw=$dir/clamav-$mode-round1.txt
  grep -qx "files: $FILES" "$raw" || fail "$mode: raw output does not count $FILES files: $(cat "$raw")"
  found=$(sed -n 's/^found: //p' "$raw")
  expected=$(sed -n 's/^expected found: //p' "$raw")
  ((found > 0 && found == expected)) || fail "$mode: found $found infected files, expected $expected"
done
"$LOCKSTEP" cluster status --config "$CONFIG" | grep -q ': down' || fail "eval left the cluster up"

echo PASS
