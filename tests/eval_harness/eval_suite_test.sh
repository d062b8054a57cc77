#!/usr/bin/env bash
# Two apps in one run: `lockstep eval --app apache,echo-mt --modes orig,proxy_only --rounds 1
# --json --doc DOC`. The last stdout line is a JSON array with both apps, 0 failed requests;
# one results.csv, summary.md with the overview, PNG charts (gnuplot), the doc page with its
# charts copied beside it; progress on stderr with the estimate; the cluster is down afterwards.
# Usage: eval_suite_test.sh LOCKSTEP
LOCKSTEP=$1
CONFIG=$(dirname "$0")/suite.cfg DATA_DIR=/tmp/lockstep-test/evsuite
source "$(dirname "$0")/lib.sh"
RESULTS=$(mktemp -d /tmp/lockstep-evalsuite-results.XXXXXX)
# The status must reach cleanup (which exits with it), so it is kept across the rm.
trap 'rc=$?; rm -rf "$RESULTS"; (exit $rc); cleanup' EXIT

png() { [[ $(head -c 8 "$1" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] || fail "$1 is not a PNG"; }

[[ -x $(dirname "$LOCKSTEP")/lockstep-echo-mt ]] || fail "build lockstep-echo-mt and lockstep-echo-client beside $LOCKSTEP"
fresh_start
"$LOCKSTEP" eval --app apache,echo-mt --modes orig,proxy_only --rounds 1 --requests 200 --warmup 20 --json \
  --config "$CONFIG" --results "$RESULTS" --doc "$RESULTS/doc/apps.md" >"$RESULTS/out" 2>"$RESULTS/err" ||
  fail "eval failed: $(cat "$RESULTS/out" "$RESULTS/err")"
cat "$RESULTS/out"
json=$(tail -1 "$RESULTS/out")
jq -e 'type == "array" and length == 2 and .[0].app == "apache" and .[1].app == "echo-mt"' <<<"$json" >/dev/null ||
  fail "not an array of apache, echo-mt: $json"
for i in 0 1; do
  jq -e --argjson i "$i" '.[$i].ok and ([.[$i].modes[] | .failed == 0 and .throughput > 0] | all)' <<<"$json" \
    >/dev/null || fail "app $i not clean: $json"
done
dir=$(jq -r '.[0].results_dir' <<<"$json")
[[ $dir == "$RESULTS"/*-apache-echo-mt ]] || fail "results dir $dir"
[[ $(grep -c '^app,mode,round,metric,value$' "$dir/results.csv") == 1 ]] || fail "results.csv header"
for app in apache echo-mt; do
  for mode in orig proxy_only; do
    grep -q "^$app,$mode,1,throughput," "$dir/results.csv" || fail "results.csv lacks $app $mode"
    grep -q "^| $app | [a-z]* | $mode | " "$dir/summary.md" || fail "summary.md lacks $app $mode"
    [[ -s $dir/$app-$mode-round1.txt ]] || fail "no raw output of $app $mode"
  done
done
png "$dir/throughput.png"
png "$dir/latency.png"
png "$RESULTS/doc/apps-throughput.png"
grep -q '(apps-throughput.png)' "$RESULTS/doc/apps.md" || fail "doc lacks the chart"
grep -q '^- load average at start' "$RESULTS/doc/apps.md" || fail "doc lacks the machine"
grep -q 'echo-mt proxy_only: round 1/1 (.*app 2/2, mode 2/2, ~' "$RESULTS/err" || fail "no estimate: $(cat "$RESULTS/err")"
status=$("$LOCKSTEP" cluster status --config "$CONFIG" 2>&1) || true
[[ $status == *": down"* ]] || fail "eval left the cluster up: $status; eval said: $(grep -iE "warn|error" "$RESULTS/err" | tail -5)"
echo PASS
