#!/usr/bin/env bash
# apache in mode orig under the CPU quota: `ab -n 2000 -c 8` on the dynamic and the static page
# from the root namespace to the replica's namespace address, 0 failed; the access log holds
# every request. Prints the throughput (the orig baseline).
# Usage: apache_orig_test.sh LOCKSTEP
LOCKSTEP=$1
CONFIG=$(dirname "$0")/apache.cfg DATA_DIR=/tmp/lockstep-test/tstapa
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

fresh_start
"$LOCKSTEP" cluster up --config "$CONFIG" --app apache --mode orig
for page in dyn index.html; do
  out=$(ab -q -c 8 -n 2000 "http://10.78.2.1:9001/$page" 2>&1) || fail "ab failed: $out"
  complete=$(ab_field "Complete requests" "$out")
  failed=$(ab_field "Failed requests" "$out")
  non2xx=$(ab_field "Non-2xx responses" "$out")
  [[ $complete == 2000 && $failed == 0 && -z $non2xx ]] || fail "/$page: complete=$complete failed=$failed non-2xx=$non2xx"
  echo "apache orig /$page: $(ab_field "Requests per second" "$out") req/s, $(ab_field "Time per request" "$out") ms mean"
done
log=$DATA_DIR/node-1/apache/logs/access.log
lines=$(grep -c '" 200 ' "$log")
# +1 for the readiness probe
((lines >= 4000)) || fail "access log has $lines successful requests, expected >= 4000"
[[ $(grep -c '"GET /dyn HTTP/1.0" 200' "$log") == 2000 ]] || fail "access log lacks the 2000 /dyn requests"

"$LOCKSTEP" cluster down --config "$CONFIG"
assert_nothing_left tstapa tstapa
echo PASS
