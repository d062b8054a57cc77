#!/usr/bin/env bash
# `cluster down` after `cluster up` was SIGKILLed halfway (its server started, readiness still
# pending): every process, namespace, veth, bridge, cgroup and the state go away. Then a SIGTERMed
# `cluster up` removes everything itself.
# Usage: crash_down_test.sh LOCKSTEP
LOCKSTEP=$1
dir=$(cd "$(dirname "$0")" && pwd)
CONFIG=$dir/crash.cfg DATA_DIR=/tmp/lockstep-test/tstcrs
source "$dir/lib.sh"
trap cleanup EXIT

fresh_start
"$LOCKSTEP" cluster up --config "$CONFIG" --app never-ready --apps-dir "$dir/apps" --mode orig --launcher plain \
  >/dev/null 2>&1 &
up_pid=$!
state=/run/lockstep/tstcrs/state.json
server_pid=
for _ in $(seq 1 500); do  # poll, up to ~10 s
  if [[ -f $state ]]; then
    server_pid=$(grep -A2 '"server"' "$state" | sed -n 's/.*"pid": \([0-9]*\).*/\1/p' | head -1)
    [[ -n $server_pid && $server_pid != 0 ]] && break
  fi
  sleep 0.02
done
[[ -n $server_pid && $server_pid != 0 ]] || fail "cluster up never recorded its server"
kill -KILL $up_pid
wait $up_pid 2>/dev/null || true

# The crash left everything in place...
ip netns list | grep -q '^lkst-tstcrs-1' || fail "namespace missing before down"
kill -0 "$server_pid" 2>/dev/null || fail "server not running before down"
# ...and down removes it all.
"$LOCKSTEP" cluster down --config "$CONFIG"
if kill -0 "$server_pid" 2>/dev/null && [[ $(ps -o stat= -p "$server_pid") != Z* ]]; then
  fail "server $server_pid survived down"
fi
assert_nothing_left tstcrs tstcrs
"$LOCKSTEP" cluster down --config "$CONFIG" | grep -q "nothing to remove" || fail "second down was not a no-op"

# SIGTERM (unlike SIGKILL) lets `up` undo its own work: exit 1, nothing left, no down needed.
"$LOCKSTEP" cluster up --config "$CONFIG" --app never-ready --apps-dir "$dir/apps" --mode orig \
  >/dev/null 2>/tmp/lockstep-test-tstcrs-up.err &
up_pid=$!
for _ in $(seq 1 500); do
  [[ -f $state ]] && grep -q '"pid": [1-9]' "$state" && break
  sleep 0.02
done
grep -q '"pid": [1-9]' "$state" || fail "cluster up never recorded its server (2nd run)"
kill -TERM $up_pid
rc=0
wait $up_pid || rc=$?
[[ $rc == 1 ]] || fail "cluster up exited $rc after SIGTERM, expected 1"
grep -q "^lockstep: interrupted" /tmp/lockstep-test-tstcrs-up.err || fail "no interrupted message: $(cat /tmp/lockstep-test-tstcrs-up.err)"
rm -f /tmp/lockstep-test-tstcrs-up.err
assert_nothing_left tstcrs tstcrs
echo PASS
