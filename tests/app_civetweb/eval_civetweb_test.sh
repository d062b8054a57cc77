#!/usr/bin/env bash
# `lockstep eval --app civetweb --modes orig,proxy_only --rounds 1` in a fast configuration (300
# requests of the CGI page, concurrency 8): both modes complete with 0 failed and no non-2xx
# answers, results.csv and summary.md are written, and the cluster is down afterwards.
# Usage: eval_civetweb_test.sh LOCKSTEP
LOCKSTEP=$1
here=$(cd "$(dirname "$0")" && pwd)
CONFIG=$here/eval.cfg DATA_DIR=/tmp/lockstep-test/cvev
source "$here/../eval_harness/lib.sh"
trap cleanup EXIT
# Inside DATA_DIR (which cleanup removes) but beside the node-N dirs that `up` wipes.
RESULTS=$DATA_DIR/results
REQUESTS=300

fresh_start
mkdir -p "$RESULTS"
out=$("$LOCKSTEP" eval --app civetweb --modes orig,proxy_only --rounds 1 --requests $REQUESTS --warmup 50 \
  --json --config "$CONFIG" --results "$RESULTS" --tag t) || fail "eval failed: $out"
echo "$out"
json=$(tail -1 <<<"$out")
for mode in orig proxy_only; do
  jq -e --arg m "$mode" '.app == "civetweb" and .workload == "dyn" and .modes[$m].ok and (.modes[$m].throughput > 0)
      and (.modes[$m].latency_ms > 0) and (.modes[$m].p99_ms >= 0) and .modes[$m].failed == 0' <<<"$json" >/dev/null ||
    fail "JSON lacks a good $mode: $json"
done
dir=$(jq -r .results_dir <<<"$json")
[[ -s $dir/summary.md ]] || fail "no summary.md"
grep -q '^| proxy_only | ' "$dir/summary.md" || fail "summary.md lacks proxy_only: $(cat "$dir/summary.md")"
head -1 "$dir/results.csv" | grep -qx 'app,mode,round,metric,value' || fail "results.csv header"
for mode in orig proxy_only; do
  for metric in throughput latency_ms p99_ms failed; do
    grep -q "^civetweb,$mode,1,$metric," "$dir/results.csv" || fail "results.csv lacks $mode $metric"
  done
  raw=$(cat "$dir/civetweb-$mode-round1.txt")
  ab_clean "$mode" "$raw" $REQUESTS
done
"$LOCKSTEP" cluster status --config "$CONFIG" | grep -q ': down' || fail "eval left the cluster up"
echo PASS
