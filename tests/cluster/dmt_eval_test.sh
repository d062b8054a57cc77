#!/usr/bin/env bash
# `lockstep eval --app apache --modes orig,dmt_only --rounds 1` with a small request count: both
# modes run with 0 failed requests and land in the JSON, the table, results.csv and summary.md;
# the cluster is down afterwards. An app that declares dmt_unsupported is refused with one line.
# Usage: dmt_eval_test.sh LOCKSTEP DMT_LIB
LOCKSTEP=$1 DMT_LIB=$2
CONFIG=$(dirname "$0")/dmt_eval.cfg DATA_DIR=/tmp/lockstep-test/dmeval
TRACE_DIR=$(mktemp -d /tmp/lockstep-test-dmeval.XXXXXX)
RESULTS=$TRACE_DIR/results
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dmt_lib.sh"
trap dmt_cleanup EXIT
export LOCKSTEP_DMT_LIB=$DMT_LIB

fresh_start
out=$("$LOCKSTEP" eval --app apache --modes orig,dmt_only --rounds 1 --requests 300 --warmup 0 --json \
  --config "$CONFIG" --results "$RESULTS" --tag dmt) || fail "eval failed: $out"
echo "$out"
json=$(tail -1 <<<"$out")
for mode in orig dmt_only; do
  jq -e --arg m "$mode" '.app == "apache" and (.modes[$m].throughput > 0) and .modes[$m].failed == 0' \
    <<<"$json" >/dev/null || fail "JSON lacks a good $mode: $json"
  grep -q "dmt_only" <<<"$out" || fail "the table lacks dmt_only"
done
jq -e '.modes.dmt_only.ratio_to_orig > 0' <<<"$json" >/dev/null || fail "no dmt_only ratio to orig: $json"
dir=$(jq -r .results_dir <<<"$json")
for mode in orig dmt_only; do
  grep -q "^apache,$mode,1,throughput," "$dir/results.csv" || fail "results.csv lacks $mode throughput"
  grep -Eq "Complete requests: +300" "$dir/apache-$mode-round1.txt" || fail "raw output of $mode missing"
done
grep -q '| dmt_only | ' "$dir/summary.md" || fail "summary.md lacks dmt_only: $(cat "$dir/summary.md")"
[[ -f $DATA_DIR/node-1/dmt/report.json ]] || fail "dmt_only left no runtime report in the replica's dmt dir"
"$LOCKSTEP" cluster status --config "$CONFIG" | grep -q ': down' || fail "eval left the cluster up"

# An app that cannot run under the runtime says so, in one line, before anything starts.
apps=$TRACE_DIR/apps
mkdir -p "$apps"
cp -r "$(dirname "$0")/../../apps/echo-mt" "$apps/"
echo 'dmt_unsupported = "waits in io_getevents";' >>"$apps/echo-mt/app.cfg"
want="app echo-mt cannot run under the DMT runtime (mode dmt_only): waits in io_getevents"
rc=0
err=$(LOCKSTEP_APPS_DIR=$apps "$LOCKSTEP" cluster up --mode dmt_only --config "$CONFIG" --app echo-mt 2>&1 >/dev/null) || rc=$?
((rc == 2)) || fail "cluster up of an app with dmt_unsupported exited $rc: $err"
[[ $(wc -l <<<"$err") == 1 && $err == *"$want"* ]] || fail "cluster up: expected one line '$want', got: $err"
# eval refuses it before starting (exit 2) once cli/cmd_eval.cpp calls check_modes_for_app;
# until then the mode fails at its `cluster up` with the same reason (exit 1).
rc=0
err=$(LOCKSTEP_APPS_DIR=$apps "$LOCKSTEP" eval --modes dmt_only --apps-dir "$apps" --results "$RESULTS" \
  --config "$CONFIG" --app echo-mt --warmup 0 --rounds 1 2>&1 >/dev/null) || rc=$?
((rc == 1 || rc == 2)) || fail "eval of an app with dmt_unsupported exited $rc: $err"
grep -qF "$want" <<<"$err" || fail "eval: expected '$want', got: $err"
"$LOCKSTEP" cluster status --config "$CONFIG" | grep -q ': down' || fail "a refused run left the cluster up"
assert_nothing_left dmeval dmeval
echo PASS
