#!/usr/bin/env bash
# clamav in proxy_only: scans through two replicas at once (32 files via replica 1, 16 via
# replica 2), 0 failed and every verdict as expected; then every replica's clamd must have scanned
# the same streams — each log holds the same detections (signature names, sorted: the scanning
# threads finish in their own order), as many as the clients were told.
# Usage: proxy_clamav_test.sh LOCKSTEP
LOCKSTEP=$1
here=$(cd "$(dirname "$0")" && pwd)
CONFIG=$here/proxy.cfg DATA_DIR=/tmp/lockstep-test/clpx
source "$here/../eval_harness/lib.sh"
trap cleanup EXIT
client=$here/../../apps/clamav/scan_client.py
cache=/var/tmp/lockstep-cache/clamav

fresh_start
"$LOCKSTEP" cluster up --config "$CONFIG" --app clamav --mode proxy_only

"$client" --target 10.80.31.1:8001 --cache "$cache" --files 32 --concurrency 4 >"$DATA_DIR/c1.txt" &
CHILDREN+=($!)
"$client" --target 10.80.31.2:8001 --cache "$cache" --files 16 --concurrency 2 >"$DATA_DIR/c2.txt" ||
  fail "client via replica 2 failed: $(cat "$DATA_DIR/c2.txt")"
wait "${CHILDREN[0]}" || fail "client via replica 1 failed: $(cat "$DATA_DIR/c1.txt")"
want=0
for c in c1 c2; do
  cat "$DATA_DIR/$c.txt"
  grep -qx 'failed: 0' "$DATA_DIR/$c.txt" || fail "$c: failed scans"
  found=$(sed -n 's/^found: //p' "$DATA_DIR/$c.txt")
  ((found > 0)) || fail "$c: no detections"
  want=$((want + found))
done

# Replicas apply the log at their own pace: wait (bounded) until each has logged every detection.
for id in 1 2 3; do
  log=$DATA_DIR/node-$id/clamav/log/clamd.log
  for _ in $(seq 300); do
    (($(grep -c ' FOUND$' "$log") >= want)) && break
    sleep 0.1
  done
  grep -o 'Lockstep[^ ]* FOUND$' "$log" | sort >"$DATA_DIR/found-$id.txt" || true
  (($(wc -l <"$DATA_DIR/found-$id.txt") == want)) ||
    fail "replica $id's clamd logged $(wc -l <"$DATA_DIR/found-$id.txt") detections, expected $want ($log)"
done
cmp -s "$DATA_DIR/found-1.txt" "$DATA_DIR/found-2.txt" && cmp -s "$DATA_DIR/found-1.txt" "$DATA_DIR/found-3.txt" ||
  fail "the replicas' clamd detected different signatures"
"$LOCKSTEP" cluster status --config "$CONFIG"
echo "PASS ($want detections on every replica)"
