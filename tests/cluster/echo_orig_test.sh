#!/usr/bin/env bash
# echo-mt in mode orig: byte-exact round trips (empty, tiny, 100 MB, many random sizes, many
# connections), all ending with a client half-close that must come back as EOF after the last
# byte; then kill/restart of the replica, status, and a double `down` that leaves nothing.
# Usage: echo_orig_test.sh LOCKSTEP ECHO_CLIENT
LOCKSTEP=$1 CLIENT=$2
CONFIG=$(dirname "$0")/echo.cfg DATA_DIR=/tmp/lockstep-test/tstecho
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

fresh_start
out=$("$LOCKSTEP" cluster up --config "$CONFIG" --app echo-mt --mode orig)
[[ $out == "service 10.78.1.1:9001" ]] || fail "unexpected up output: $out"
target=10.78.1.1:9001

"$CLIENT" --target $target --bytes 0
"$CLIENT" --target $target --bytes 1
"$CLIENT" --target $target --bytes 65537
"$CLIENT" --target $target --bytes 100000000 --timeout-s 300
"$CLIENT" --target $target --connections 40 --max-bytes 4000000 --seed 11 --timeout-s 300
# More connections than echo-mt has workers (64): the rest wait in the backlog and still finish.
"$CLIENT" --target $target --connections 200 --max-bytes 20000 --seed 12

status=$("$LOCKSTEP" cluster status --config "$CONFIG" --json)
grep -q '"serving":true' <<<"$status" || fail "status does not show the replica serving: $status"
grep -q '"cpu_quota":"50000 100000"' <<<"$status" || fail "status does not show the 50% quota: $status"

"$LOCKSTEP" cluster kill 1 --config "$CONFIG"
if "$CLIENT" --target $target --bytes 10 --timeout-s 5 2>/dev/null; then fail "echo still served after kill"; fi
"$LOCKSTEP" cluster status --config "$CONFIG" --json | grep -q '"server_running":false' || fail "status after kill"
"$LOCKSTEP" cluster restart 1 --config "$CONFIG"
"$CLIENT" --target $target --connections 8 --max-bytes 1000000 --seed 13

"$LOCKSTEP" cluster down --config "$CONFIG"
"$LOCKSTEP" cluster down --config "$CONFIG" | grep -q "nothing to remove" || fail "second down was not a no-op"
assert_nothing_left tstecho tstecho
echo PASS
