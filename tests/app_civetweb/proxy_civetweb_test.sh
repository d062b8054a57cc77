#!/usr/bin/env bash
# civetweb in proxy_only: `ab` on the CGI page via replica 1 and on the static page via replica 2
# at the same time, 0 failed; then every replica's CivetWeb answered the same requests: the
# three access logs hold the same request lines with the same status and size (sorted — requests
# in the server at the same moment may finish in another order on each replica; that is what the
# DMT is for), static responses are byte-identical on every replica (same ETag: prepare.sh keeps
# the pages' mtimes).
# Usage: proxy_civetweb_test.sh LOCKSTEP
LOCKSTEP=$1
here=$(cd "$(dirname "$0")" && pwd)
CONFIG=$here/proxy.cfg DATA_DIR=/tmp/lockstep-test/cvpx
source "$here/../eval_harness/lib.sh"
trap cleanup EXIT
DYN=300 STATIC=1000

fresh_start
"$LOCKSTEP" cluster up --config "$CONFIG" --app civetweb --mode proxy_only

ab -q -c 8 -n $DYN "http://10.80.36.1:8001/dyn.cgi?n=5000" >"$DATA_DIR/ab-dyn.txt" 2>&1 &
CHILDREN+=($!)
out=$(ab -q -c 8 -n $STATIC "http://10.80.36.2:8001/index.html?s=1" 2>&1) || fail "ab static failed: $out"
ab_clean "ab /index.html via replica 2" "$out" $STATIC
wait "${CHILDREN[0]}" || fail "ab dyn failed: $(cat "$DATA_DIR/ab-dyn.txt")"
ab_clean "ab /dyn.cgi via replica 1" "$(cat "$DATA_DIR/ab-dyn.txt")" $DYN
echo "civetweb proxy_only: dyn $(ab_field "Requests per second" "$(cat "$DATA_DIR/ab-dyn.txt")") req/s," \
  "static $(ab_field "Requests per second" "$out") req/s (concurrently)"

# Request line, status and size of what came through the log (the clients' URLs carry a query
# string; the readiness probes, GET /index.html straight to each server, do not).
requests_of() { grep -o '"GET /[^"?]*?[^"]*" [0-9]* [0-9]*' "$DATA_DIR/node-$1/civetweb/logs/access.log" || true; }
want=$((DYN + STATIC))
for id in 1 2 3; do
  for _ in $(seq 300); do
    (($(requests_of "$id" | wc -l) >= want)) && break
    sleep 0.1
  done
  requests_of "$id" | sort >"$DATA_DIR/r$id.txt"
  (($(wc -l <"$DATA_DIR/r$id.txt") == want)) ||
    fail "replica $id logged $(wc -l <"$DATA_DIR/r$id.txt") requests, expected $want"
done
if grep -vq '" 200 ' "$DATA_DIR/r1.txt"; then fail "non-200 answers: $(grep -v '" 200 ' "$DATA_DIR/r1.txt" | head -3)"; fi
cmp -s "$DATA_DIR/r1.txt" "$DATA_DIR/r2.txt" && cmp -s "$DATA_DIR/r1.txt" "$DATA_DIR/r3.txt" ||
  fail "replicas answered different requests: $(diff "$DATA_DIR/r1.txt" "$DATA_DIR/r2.txt" | head -5)"
etags=$(for id in 1 2 3; do curl -sI "http://10.80.36.$id:9001/index.html" | grep -i '^etag'; done | sort -u | wc -l)
((etags == 1)) || fail "the replicas' static pages have different ETags"
"$LOCKSTEP" cluster status --config "$CONFIG"
echo PASS
