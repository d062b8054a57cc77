#!/usr/bin/env bash
# `lockstep eval --app civetweb --modes orig,proxy_only,dmt_only --rounds 1` in a fast
# configuration (300 requests of the CGI page, concurrency 8): every mode completes with 0 failed
# and no non-2xx answers, results.csv and summary.md are written, the cluster is down afterwards,
# and in dmt_only the server ran under the runtime (its report names the CGI forks).
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
out=$("$LOCKSTEP" eval --app civetweb --modes orig,proxy_only,dmt_only --rounds 1 --requests $REQUESTS --warmup 50 \
  --json --config "$CONFIG" --results "$RESULTS" --tag t) || fail "eval failed: $out"
echo "$out"
check_eval_output "$out" civetweb dyn orig,proxy_only,dmt_only throughput latency_ms p99_ms failed
dir=$EVAL_DIR
for mode in orig proxy_only dmt_only; do
  raw=$(cat "$dir/civetweb-$mode-round1.txt")
  ab_clean "$mode" "$raw" $REQUESTS
done
"$LOCKSTEP" cluster status --config "$CONFIG" | grep -q ': down' || fail "eval left the cluster up"
# dmt_only ran last, so its replica directory is still there: civetweb's report (written on
# SIGTERM) shows the scheduled threads and the forks of the CGI requests.
report=$DATA_DIR/node-1/dmt/report.json
jq -e '.threads > 16 and .ops.fork > 0 and .ops.io_accept > 0' "$report" >/dev/null ||
  fail "dmt_only: no runtime report with civetweb's threads and CGI forks: $(cat "$report" 2>&1)"
echo PASS
