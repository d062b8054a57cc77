#!/usr/bin/env bash
# Mode proxy_only plumbing: three namespaces, each with a node process and echo-mt; status shows
# one leader and every replica serving; echo round trips through two different replicas' proxies;
# down leaves nothing. (Proxy semantics themselves are tested in the proxy's own tests.)
# Exits 77 (skipped) while `lockstep node` has no proxy (--app).
# Usage: proxy_only_up_test.sh LOCKSTEP ECHO_CLIENT
LOCKSTEP=$1 CLIENT=$2
CONFIG=$(dirname "$0")/proxy.cfg DATA_DIR=/tmp/lockstep-test/tstprx
source "$(dirname "$0")/lib.sh"
if ! "$LOCKSTEP" node --help 2>/dev/null | grep -q -- "--app"; then
  echo "SKIP: lockstep node has no --app (no proxy yet)"
  exit 77
fi
trap cleanup EXIT

fresh_start
out=$("$LOCKSTEP" cluster up --config "$CONFIG" --app echo-mt --mode proxy_only)
[[ $(grep -c '^service 10.78.6.[123]:8001$' <<<"$out") == 3 ]] || fail "unexpected up output: $out"
status=$("$LOCKSTEP" cluster status --config "$CONFIG" --json)
[[ $(grep -o '"serving":true' <<<"$status" | wc -l) == 3 ]] || fail "not all replicas serving: $status"
[[ $(grep -o '"node_running":true' <<<"$status" | wc -l) == 3 ]] || fail "not all nodes running: $status"
"$CLIENT" --target 10.78.6.1:8001 --connections 4 --max-bytes 200000 --seed 21 --timeout-s 60
"$CLIENT" --target 10.78.6.3:8001 --connections 4 --max-bytes 200000 --seed 22 --timeout-s 60
status=$("$LOCKSTEP" cluster status --config "$CONFIG" --json)
grep -q '"role":"leader"' <<<"$status" || fail "no leader in status: $status"
"$LOCKSTEP" cluster status --config "$CONFIG"

"$LOCKSTEP" cluster down --config "$CONFIG"
assert_nothing_left tstprx tstprx
echo PASS
