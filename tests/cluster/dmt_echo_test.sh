#!/usr/bin/env bash
# echo-mt in mode dmt_only: `cluster up` starts it under liblockstep_dmt.so inside the LXC
# container (checked in /proc: mapped, with the runtime's environment), byte-exact round trips
# including more connections than workers, status, kill/restart, and at `down` (SIGTERM) the
# server's report in the replica's dmt/ directory.
# Usage: dmt_echo_test.sh LOCKSTEP ECHO_CLIENT DMT_LIB
LOCKSTEP=$1 CLIENT=$2 DMT_LIB=$3
CONFIG=$(dirname "$0")/dmt_echo.cfg DATA_DIR=/tmp/lockstep-test/dmecho
TRACE_DIR=$(mktemp -d /tmp/lockstep-test-dmecho-trace.XXXXXX)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dmt_lib.sh"
trap dmt_cleanup EXIT
export LOCKSTEP_DMT_TRACE=$TRACE_DIR/trace LOCKSTEP_DMT_LIB=$DMT_LIB

fresh_start
out=$("$LOCKSTEP" cluster up --config "$CONFIG" --app echo-mt --mode dmt_only)
[[ $out == "service 10.80.1.1:9001" ]] || fail "unexpected up output: $out"
target=10.80.1.1:9001
status=$("$LOCKSTEP" cluster status --config "$CONFIG" --json)
grep -q '"mode":"dmt_only"' <<<"$status" || fail "status does not show mode dmt_only: $status"
grep -q '"serving":true' <<<"$status" || fail "status does not show the replica serving: $status"
pid=$(sed -n 's/.*"server_pid":\([0-9]*\).*/\1/p' <<<"$status")
assert_runtime_loaded "$pid" "$DMT_LIB"

"$CLIENT" --target $target --bytes 0 --timeout-s 30
"$CLIENT" --target $target --bytes 1000000 --timeout-s 60
"$CLIENT" --target $target --connections 30 --max-bytes 200000 --seed 21 --timeout-s 60
# More connections than echo-mt has workers (64): the rest wait in the backlog.
"$CLIENT" --target $target --connections 150 --max-bytes 10000 --seed 22 --timeout-s 60

"$LOCKSTEP" cluster kill 1 --config "$CONFIG"
"$LOCKSTEP" cluster restart 1 --config "$CONFIG"
"$CLIENT" --target $target --connections 8 --max-bytes 100000 --seed 23 --timeout-s 60

"$LOCKSTEP" cluster down --config "$CONFIG"
assert_report "$DATA_DIR/node-1/dmt/report.json"
grep -q '"io_accept"' "$DATA_DIR/node-1/dmt/report.json" || fail "report counts no accept: $(cat "$DATA_DIR/node-1/dmt/report.json")"
[[ -s $TRACE_DIR/trace ]] || fail "LOCKSTEP_DMT_TRACE given to cluster up did not reach the server"
if grep -q "lockstep-dmt\[" "$DATA_DIR/node-1/logs/echo-mt-server.log"; then
  fail "the runtime complained: $(grep "lockstep-dmt\[" "$DATA_DIR/node-1/logs/echo-mt-server.log" | head -5)"
fi
assert_nothing_left dmecho dmecho
echo PASS
