#!/usr/bin/env bash
# apache (worker MPM: a parent and one child with 16 threads, apr pollsets, an accept mutex,
# condition variables) in mode dmt_only under the CPU quota: `ab -n 1000 -c 8` on the dynamic and
# the static page, 0 failed, every request in the access log; both processes run the runtime and
# each writes its report (report.json for the parent, report.json.1 for its first child) at down.
# Usage: dmt_apache_test.sh LOCKSTEP DMT_LIB
LOCKSTEP=$1 DMT_LIB=$2
CONFIG=$(dirname "$0")/dmt_apache.cfg DATA_DIR=/tmp/lockstep-test/dmapa
TRACE_DIR=$(mktemp -d /tmp/lockstep-test-dmapa-trace.XXXXXX)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dmt_lib.sh"
trap dmt_cleanup EXIT
export LOCKSTEP_DMT_TRACE=$TRACE_DIR/trace LOCKSTEP_DMT_LIB=$DMT_LIB

fresh_start
"$LOCKSTEP" cluster up --config "$CONFIG" --app apache --mode dmt_only
status=$("$LOCKSTEP" cluster status --config "$CONFIG" --json)
pid=$(sed -n 's/.*"server_pid":\([0-9]*\).*/\1/p' <<<"$status")
assert_runtime_loaded "$pid" "$DMT_LIB"

for page in dyn index.html; do
  out=$(timeout 120 ab -q -s 30 -c 8 -n 1000 "http://10.80.2.1:9001/$page" 2>&1) || fail "ab /$page failed: $out"
  complete=$(ab_field "Complete requests" "$out")
  failed=$(ab_field "Failed requests" "$out")
  non2xx=$(ab_field "Non-2xx responses" "$out")
  [[ $complete == 1000 && $failed == 0 && -z $non2xx ]] || fail "/$page: complete=$complete failed=$failed non-2xx=$non2xx"
  echo "apache dmt_only /$page: $(ab_field "Requests per second" "$out") req/s, $(ab_field "Time per request" "$out") ms mean"
done
log=$DATA_DIR/node-1/apache/logs/access.log
[[ $(grep -c '"GET /dyn HTTP/1.0" 200' "$log") == 1000 ]] || fail "access log lacks the 1000 /dyn requests"
[[ $(grep -c '"GET /index.html HTTP/1.0" 200' "$log") -ge 1000 ]] || fail "access log lacks the 1000 static requests"

"$LOCKSTEP" cluster down --config "$CONFIG"
assert_report "$DATA_DIR/node-1/dmt/report.json"
assert_report "$DATA_DIR/node-1/dmt/report.json.1"
grep -q '"fork"' "$DATA_DIR/node-1/dmt/report.json" || fail "the parent's report counts no fork: $(cat "$DATA_DIR/node-1/dmt/report.json")"
grep -Eq '"io_(e)?poll"' "$DATA_DIR/node-1/dmt/report.json.1" ||
  fail "the child's report counts no poll: $(cat "$DATA_DIR/node-1/dmt/report.json.1")"
if grep -q "lockstep-dmt\[" "$DATA_DIR/node-1/logs/apache-server.log"; then
  fail "the runtime complained: $(grep "lockstep-dmt\[" "$DATA_DIR/node-1/logs/apache-server.log" | head -5)"
fi
assert_nothing_left dmapa dmapa
echo PASS
