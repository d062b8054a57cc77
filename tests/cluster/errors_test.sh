#!/usr/bin/env bash
# Bad input to `lockstep cluster`: one line on stderr, exit 2 for usage/config errors (unknown
# app, malformed app.cfg, bad config, unknown mode/launcher), exit 1 for proxy_only without a
# node and for a server that dies at start. Nothing is left behind by any of them.
# Usage: errors_test.sh LOCKSTEP
LOCKSTEP=$1
dir=$(cd "$(dirname "$0")" && pwd)
CONFIG=$dir/err.cfg DATA_DIR=/tmp/lockstep-test/tsterr
source "$dir/lib.sh"
trap cleanup EXIT
fresh_start

# expect CODE PATTERN -- command...
expect() {
  local code=$1 pattern=$2
  shift 3
  local err rc=0
  err=$("$@" 2>&1 >/dev/null) || rc=$?
  [[ $rc == "$code" ]] || fail "'$*' exited $rc, expected $code (stderr: $err)"
  # Progress lines are timestamped log lines; the error itself is exactly one "lockstep: " line.
  local errors
  errors=$(grep '^lockstep: ' <<<"$err" || true)
  [[ -n $errors && $(wc -l <<<"$errors") == 1 ]] || fail "'$*' did not print exactly one error line: $err"
  grep -Eq "$pattern" <<<"$errors" || fail "'$*' said '$errors', expected /$pattern/"
}

expect 2 "unknown app 'nope' \(apps in .*echo-mt" -- "$LOCKSTEP" cluster up --config "$CONFIG" --app nope
expect 2 "bad-field/app.cfg:[0-9]+: server\[1\]: unknown placeholder \{prot\}" -- \
  "$LOCKSTEP" cluster up --config "$CONFIG" --app bad-field --apps-dir "$dir/apps"
expect 2 "unknown mode 'fast'" -- "$LOCKSTEP" cluster up --config "$CONFIG" --app echo-mt --mode fast
expect 2 "no-such.cfg" -- "$LOCKSTEP" cluster up --config "$dir/no-such.cfg" --app echo-mt
expect 2 "loopback" -- "$LOCKSTEP" cluster up --config "$dir/../../configs/loopback-3.cfg" --app echo-mt
# Until `lockstep node` has its proxy (an --app option), proxy_only refuses to start.
if ! "$LOCKSTEP" node --help 2>/dev/null | grep -q -- "--app"; then
  expect 1 "mode proxy_only: node process not available yet" -- \
    "$LOCKSTEP" cluster up --config "$CONFIG" --app echo-mt --mode proxy_only
fi
# A server that dies at once: exit 1, its own last words in the line, and everything undone.
for launcher in lxc plain; do
  expect 1 "replica 1 server .*exited before becoming ready.*its log ends: exits-at-once: cannot listen on 10.78.5.1:9001" -- \
    "$LOCKSTEP" cluster up --config "$CONFIG" --app exits-at-once --apps-dir "$dir/apps" --launcher $launcher
  assert_nothing_left tsterr tsterr
done
# Data that `up` did not create is never wiped.
rm -rf "$DATA_DIR" && mkdir -p "$DATA_DIR/node-1" && echo precious >"$DATA_DIR/node-1/file"
expect 1 "data directory $DATA_DIR/node-1 exists and was not created by" -- \
  "$LOCKSTEP" cluster up --config "$CONFIG" --app echo-mt
[[ -f $DATA_DIR/node-1/file ]] || fail "foreign data was removed"
assert_nothing_left tsterr tsterr
rm -rf "$DATA_DIR"
expect 2 "unknown launcher 'docker'" -- "$LOCKSTEP" cluster up --config "$CONFIG" --app echo-mt --launcher docker
assert_nothing_left tsterr tsterr
echo PASS
