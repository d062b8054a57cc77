#!/usr/bin/env bash
# Kill -9 the leader's replica under load (apache, proxy_only): ab against a surviving replica
# keeps being served across the view change with 0 failed; a client connected to the killed
# replica sees its connection closed; another replica becomes leader; `cluster restart` brings
# the killed one back and it serves again.
# Usage: apache_kill_test.sh LOCKSTEP
LOCKSTEP=$1
CONFIG=$(dirname "$0")/kill.cfg DATA_DIR=/tmp/lockstep-test/evhkl
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

fresh_start
"$LOCKSTEP" cluster up --config "$CONFIG" --app apache --mode proxy_only
leader=$(leader_id 15) || fail "no leader"
survivor=$((leader % 3 + 1))
echo "leader $leader, load through $survivor"

# A client of the doomed replica: an unfinished request on an open connection. It must end
# with the connection closed, not hang.
python3 - "10.79.3.$leader" 8001 >"$DATA_DIR/doomed.txt" 2>&1 <<'PY' &
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.sendall(b"GET /dyn HTTP/1.1\r\nHost: x\r\n")  # headers not finished: apache waits
print("connected", flush=True)
s.settimeout(30)
try:
    data = s.recv(65536)
    print("closed" if not data else "data %r" % data[:80], flush=True)
except ConnectionResetError:
    print("closed (reset)", flush=True)
except socket.timeout:
    print("still open after 30 s", flush=True)
PY
doomed=$!
CHILDREN+=($doomed)

ab -q -c 4 -n 1200 "http://10.79.3.$survivor:8001/dyn" >"$DATA_DIR/ab.txt" 2>&1 &
ab_pid=$!
CHILDREN+=($ab_pid)
# Kill once the load is flowing (the survivor's node has committed some of it).
for _ in $(seq 100); do
  [[ -s $DATA_DIR/node-$survivor/apache/logs/access.log ]] && (($(grep -c '"GET /dyn' "$DATA_DIR/node-$survivor/apache/logs/access.log") >= 100)) && break
  sleep 0.1
done
for _ in $(seq 100); do
  grep -qx connected "$DATA_DIR/doomed.txt" && break
  sleep 0.1
done
grep -qx connected "$DATA_DIR/doomed.txt" || fail "client of replica $leader did not connect: $(cat "$DATA_DIR/doomed.txt")"
"$LOCKSTEP" cluster kill "$leader" --config "$CONFIG"
t_kill=$SECONDS

wait "$doomed" || true
grep -q '^closed' "$DATA_DIR/doomed.txt" || fail "client of the killed replica: $(cat "$DATA_DIR/doomed.txt")"
wait "$ab_pid" || fail "ab through replica $survivor failed: $(tail -3 "$DATA_DIR/ab.txt")"
ab_clean "ab through replica $survivor across the kill" "$(cat "$DATA_DIR/ab.txt")" 1200
new_leader=$(leader_id 15) || fail "no new leader after the kill"
[[ $new_leader != "$leader" ]] || fail "killed replica $leader still reported as leader"
echo "new leader $new_leader; load finished $((SECONDS - t_kill)) s after the kill, 0 failed"
for id in 1 2 3; do
  [[ $id == "$leader" ]] && continue
  out=$(ab -q -c 4 -n 100 "http://10.79.3.$id:8001/index.html?after-kill" 2>&1) || fail "replica $id after the kill: $out"
  ab_clean "replica $id after the kill" "$out" 100
done

"$LOCKSTEP" cluster restart "$leader" --config "$CONFIG"
out=$(ab -q -c 4 -n 100 "http://10.79.3.$leader:8001/index.html?after-restart" 2>&1) || fail "restarted replica: $out"
ab_clean "restarted replica $leader" "$out" 100
log=$DATA_DIR/node-$leader/apache/logs/access.log
(($(grep -c 'after-restart' "$log") == 100)) || fail "restarted replica's apache logged $(grep -c 'after-restart' "$log") of 100 requests"
echo "replica $leader restarted and serves"
# Catching up: the requests committed while it was down reach its apache too (the log is
# applied in order), so its access log gains the survivors' after-kill requests.
caught=0
for _ in $(seq 100); do
  caught=$(grep -c 'after-kill' "$log" || true)
  ((caught >= 200)) && break
  sleep 0.1
done
((caught == 200)) || fail "restarted replica applied $caught of the 200 requests committed while it was down"
echo "replica $leader caught up: its apache answered the 200 requests committed while it was down"
echo PASS
