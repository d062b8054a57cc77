#!/usr/bin/env bash
# `lockstep eval --app apache --modes orig,proxy_only --rounds 1 --requests 500 --json`
# completes; its last line is JSON with both modes, 0 failed; results.csv and summary.md exist;
# the cluster is gone afterwards. Also: bad input is one line and exit 2, before anything starts.
# Usage: eval_apache_test.sh LOCKSTEP
LOCKSTEP=$1
CONFIG=$(dirname "$0")/eval.cfg DATA_DIR=/tmp/lockstep-test/evhev
source "$(dirname "$0")/lib.sh"
RESULTS=$(mktemp -d /tmp/lockstep-evalh-results.XXXXXX)
# The status must reach cleanup (which exits with it), so it is kept across the rm.
trap 'rc=$?; rm -rf "$RESULTS"; (exit $rc); cleanup' EXIT

expect_usage() {  # expect_usage MESSAGE-PART ARGS...
  local want=$1 rc=0 err
  shift
  err=$("$LOCKSTEP" eval --config "$CONFIG" --results "$RESULTS" "$@" 2>&1 >/dev/null) || rc=$?
  ((rc == 2)) || fail "eval $* exited $rc, expected 2: $err"
  [[ $(wc -l <<<"$err") == 1 && $err == *"$want"* ]] || fail "eval $*: expected one line with '$want', got: $err"
}
expect_usage "not implemented yet" --app apache --modes joint
expect_usage "unknown mode" --app apache --modes orig,turbo
expect_usage "apache" --app no-such-app
expect_usage "static" --app apache --page nope
expect_usage "static" --app apache --workload nope
expect_usage "either --app or --all" --app apache --all
expect_usage "given twice" --app apache,apache
[[ -z $(ls -A "$RESULTS") ]] || fail "refused runs left results: $(ls "$RESULTS")"

fresh_start
out=$("$LOCKSTEP" eval --app apache --modes orig,proxy_only --rounds 1 --requests 500 --json \
  --config "$CONFIG" --results "$RESULTS" --tag t) || fail "eval failed: $out"
echo "$out"
json=$(tail -1 <<<"$out")
for mode in orig proxy_only; do
  jq -e --arg m "$mode" '.app == "apache" and (.modes[$m].throughput > 0) and (.modes[$m].latency_ms > 0)
      and (.modes[$m].p99_ms >= 0) and .modes[$m].failed == 0 and (.modes[$m].divergences | type == "number")' \
    <<<"$json" >/dev/null || fail "JSON lacks a good $mode: $json"
done
jq -e '.modes.proxy_only.ratio_to_orig > 0' <<<"$json" >/dev/null || fail "no ratio: $json"
dir=$(jq -r .results_dir <<<"$json")
[[ $dir == "$RESULTS"/*-t ]] || fail "results dir $dir not under $RESULTS"
[[ -s $dir/summary.md ]] || fail "no summary.md"
grep -q '^| proxy_only | ' "$dir/summary.md" || fail "summary.md lacks proxy_only: $(cat "$dir/summary.md")"
head -1 "$dir/results.csv" | grep -qx 'app,mode,round,metric,value' || fail "results.csv header"
for mode in orig proxy_only; do
  grep -q "^apache,$mode,1,throughput," "$dir/results.csv" || fail "results.csv lacks $mode throughput"
  grep -Eq "Complete requests: +500" "$dir/apache-$mode-round1.txt" || fail "raw output of $mode missing"
done
"$LOCKSTEP" cluster status --config "$CONFIG" | grep -q ': down' || fail "eval left the cluster up"
echo PASS
