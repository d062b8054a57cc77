#!/usr/bin/env bash
# apache in proxy_only.
# 1. `ab -n 2000 -c 8` on /dyn against replica 1: 0 failed; the three access logs hold the same
#    2000 requests in the same order (request line + status; the time and client address
#    columns legitimately differ between replicas).
# 2. Distinct requests through all three replicas at once (ab on replica 1, one sequential curl
#    client each on replicas 2 and 3): every replica's apache answered the same set of requests,
#    and each sequential client's requests are in order at its origin replica. The log records
#    when apache's threads *finished* requests, which in proxy_only may differ between replicas
#    for requests in apache at the same time (that is what the DMT is for): printed, not failed.
# Usage: apache_proxy_test.sh LOCKSTEP
LOCKSTEP=$1
CONFIG=$(dirname "$0")/proxy.cfg DATA_DIR=/tmp/lockstep-test/evhpx
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

fresh_start
"$LOCKSTEP" cluster up --config "$CONFIG" --app apache --mode proxy_only

# Request line + status of the requests that came through the log (the readiness probes went to
# each apache directly and are not replicated).
requests_of() { grep -o '"GET /[^"]*" [0-9]*' "$DATA_DIR/node-$1/apache/logs/access.log" | grep -v '"GET /index.html HTTP/' || true; }
# Replicas apply the log at their own pace: wait (bounded) until each has logged N requests.
wait_logged() {
  local id n=$1
  for id in 1 2 3; do
    for _ in $(seq 600); do  # up to 60 s: a loaded follower may lag the origin by many seconds
      (($(requests_of "$id" | wc -l) >= n)) && break
      sleep 0.1
    done
    requests_of "$id" >"$DATA_DIR/r$id.txt"
  done
}

out=$(ab -q -c 8 -n 2000 "http://10.79.1.1:8001/dyn" 2>&1) || fail "ab failed: $out"
ab_clean "ab /dyn via replica 1" "$out" 2000
echo "apache proxy_only /dyn: $(ab_field "Requests per second" "$out") req/s"
wait_logged 2000
(($(wc -l <"$DATA_DIR/r1.txt") == 2000)) || fail "replica 1 logged $(wc -l <"$DATA_DIR/r1.txt") requests, expected 2000"
if grep -vq '" 200$' "$DATA_DIR/r1.txt"; then fail "replica 1 logged non-200 answers: $(grep -v '" 200$' "$DATA_DIR/r1.txt" | head -3)"; fi
for id in 2 3; do
  cmp -s "$DATA_DIR/r1.txt" "$DATA_DIR/r$id.txt" ||
    fail "replica $id's access log differs from replica 1's: $(diff "$DATA_DIR/r1.txt" "$DATA_DIR/r$id.txt" | head -5 | tr '\n' ' ')"
done
echo "phase 1: 2000 requests, same lines in the same order on all three replicas"

seq_client() {  # sequential distinct requests through replica $1
  local i
  for i in $(seq 60); do
    curl -sf -o /dev/null "http://10.79.1.$1:8001/index.html?r$1-$i" || { echo "curl r$1-$i failed" >&2; return 1; }
  done
}
ab -q -c 4 -n 300 "http://10.79.1.1:8001/dyn?ab" >"$DATA_DIR/ab2.txt" 2>&1 &
CHILDREN+=($!)
ab_pid=$!
seq_client 2 &
CHILDREN+=($!)
s2=$!
seq_client 3 &
CHILDREN+=($!)
s3=$!
wait "$ab_pid" || fail "concurrent ab failed: $(tail -3 "$DATA_DIR/ab2.txt")"
wait "$s2" || fail "sequential client via replica 2 failed"
wait "$s3" || fail "sequential client via replica 3 failed"
ab_clean "concurrent ab /dyn?ab via replica 1" "$(cat "$DATA_DIR/ab2.txt")" 300
wait_logged $((2000 + 300 + 120))
for id in 1 2 3; do
  (($(wc -l <"$DATA_DIR/r$id.txt") == 2420)) || fail "replica $id logged $(wc -l <"$DATA_DIR/r$id.txt") requests, expected 2420"
  sort "$DATA_DIR/r$id.txt" >"$DATA_DIR/s$id.txt"
  for c in 2 3; do grep -o "?r$c-[0-9]*" "$DATA_DIR/r$id.txt" >"$DATA_DIR/seq$c-$id.txt"; done
done
for id in 2 3; do
  cmp -s "$DATA_DIR/s1.txt" "$DATA_DIR/s$id.txt" || fail "replica $id answered other requests than replica 1"
done
# A sequential client's requests follow each other only at its origin replica (the next one is
# sent after the origin's reply); elsewhere two of them may be in apache at once and finish in
# either order. So: in order at the origin (else a bug), counted elsewhere.
for c in 2 3; do
  seq 60 | sed "s/^/?r$c-/" | cmp -s - "$DATA_DIR/seq$c-$c.txt" || fail "origin replica $c logged its client's requests out of order"
done
same_seq=0 same=0
for id in 1 2 3; do
  for c in 2 3; do [[ $id != "$c" ]] && cmp -s "$DATA_DIR/seq$c-$c.txt" "$DATA_DIR/seq$c-$id.txt" && same_seq=$((same_seq + 1)); done
done
for id in 2 3; do cmp -s "$DATA_DIR/r1.txt" "$DATA_DIR/r$id.txt" && same=$((same + 1)); done
echo "phase 2: 420 concurrent distinct requests: the same set on every replica; sequential clients in order at" \
  "their origin, and elsewhere in $same_seq of 4 cases; full log order identical to replica 1 on $same of 2 replicas" \
  "(completion order of concurrent requests: not deterministic in proxy_only)"
echo PASS
