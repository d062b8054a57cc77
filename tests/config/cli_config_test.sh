#!/bin/sh
# `lockstep config check` and `set-ips` as a user runs them: exit codes and one-line errors.
# usage: cli_config_test.sh LOCKSTEP_BINARY CONFIGS_DIR
set -u
bin=$1
configs=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for f in "$configs"/*.cfg; do
  out=$("$bin" config check "$f") || fail "config check $f exited $?"
  case $out in *": ok: "*) ;; *) fail "unexpected output for $f: $out" ;; esac
done

cp "$configs/local-3.cfg" "$dir/c.cfg"
sed 's/heartbeat_ms = 50/heartbeat_ms = 500/' "$dir/c.cfg" > "$dir/bad.cfg"
"$bin" config check "$dir/bad.cfg" > "$dir/out" 2> "$dir/err"; rc=$?
[ $rc -eq 2 ] || fail "bad config exited $rc, want 2"
[ "$(wc -l < "$dir/err")" -eq 1 ] || fail "error is not one line: $(cat "$dir/err")"
grep -q "bad.cfg:[0-9]*: timeouts.election_timeout_min_ms: " "$dir/err" || fail "error lacks file:line: field: $(cat "$dir/err")"

"$bin" config set-ips "$dir/c.cfg" 10.1.0.1 10.1.0.2 > "$dir/out" 2> "$dir/err"; rc=$?
[ $rc -eq 2 ] || fail "set-ips with too few addresses exited $rc, want 2"
cmp -s "$dir/c.cfg" "$configs/local-3.cfg" || fail "refused set-ips changed the file"

"$bin" config set-ips "$dir/c.cfg" 10.1.0.1 10.1.0.2 10.1.0.3 > "$dir/out" || fail "set-ips exited $?"
grep -q '^node 3: 10.1.0.3$' "$dir/out" || fail "set-ips output: $(cat "$dir/out")"
"$bin" config check "$dir/c.cfg" > /dev/null || fail "rewritten config does not check"
grep -q '"10.1.0.2"' "$dir/c.cfg" || fail "address not written"
echo ok
