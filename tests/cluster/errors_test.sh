#!/usr/bin/env bash
# Bad input to `lockstep cluster`: one line on stderr, exit 2 for usage/config errors (unknown
# app, malformed app.cfg, bad config, unknown mode), exit 1 for proxy_only without a node.
# Nothing is created by any of them.
# Usage: errors_test.sh LOCKSTEP
LOCKSTEP=$1
dir=$(cd "$(dirname "$0")" && pwd)
CONFIG=$dir/err.cfg DATA_DIR=/tmp/lockstep-test/tsterr
source "$dir/lib.sh"
trap cleanup EXIT

# expect CODE PATTERN -- command...
expect() {
  local code=$1 pattern=$2
  shift 3
  local err rc=0
  err=$("$@" 2>&1 >/dev/null) || rc=$?
  [[ $rc == "$code" ]] || fail "'$*' exited $rc, expected $code (stderr: $err)"
  [[ $(wc -l <<<"$err") == 1 ]] || fail "'$*' printed more than one line: $err"
  grep -Eq "$pattern" <<<"$err" || fail "'$*' said '$err', expected /$pattern/"
}

expect 2 "unknown app 'nope' \(apps in .*echo-mt" -- "$LOCKSTEP" cluster up --config "$CONFIG" --app nope
expect 2 "bad-field/app.cfg:[0-9]+: server\[1\]: unknown placeholder \{prot\}" -- \
  "$LOCKSTEP" cluster up --config "$CONFIG" --app bad-field --apps-dir "$dir/apps"
expect 2 "unknown mode 'fast'" -- "$LOCKSTEP" cluster up --config "$CONFIG" --app echo-mt --mode fast
expect 2 "no-such.cfg" -- "$LOCKSTEP" cluster up --config "$dir/no-such.cfg" --app echo-mt
expect 2 "loopback" -- "$LOCKSTEP" cluster up --config "$dir/../../configs/loopback-3.cfg" --app echo-mt
if ! "$LOCKSTEP" node --help >/dev/null 2>&1; then
  expect 1 "mode proxy_only: node process not available yet" -- \
    "$LOCKSTEP" cluster up --config "$CONFIG" --app echo-mt --mode proxy_only
fi
assert_nothing_left tsterr tsterr
echo PASS
