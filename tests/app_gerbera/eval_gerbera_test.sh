#!/usr/bin/env bash
# apps/gerbera end to end (root, real namespaces):
# 1. a server_port below 49152 is refused with prepare.sh's one-line reason, nothing left behind;
# 2. proxy_only: every replica has imported the library under the same object ids — each
#    replica's ContentDirectory lists the URLs the workloads request, and each URL (the transcoded
#    stream too) serves the same bytes on every replica and through every replica's proxy, also
#    after replica 2 was killed and restarted;
# 3. dmt_only: Gerbera under the DMT runtime serves the same bytes at every URL (the transcoded
#    stream comes from an ffmpeg forked under the runtime), no request held for libupnp's 5 s
#    idle timeout (before commit c5a449f each took 5-15 s), no runtime complaint in the server
#    log, and the reports written at `down` show libupnp's threads and the forked ffmpeg;
# 4. `lockstep eval --app gerbera --modes orig,proxy_only,dmt_only --rounds 1` completes with 0
#    failed requests and writes results.csv and summary.md; the cluster is gone afterwards.
# Usage: eval_gerbera_test.sh LOCKSTEP
LOCKSTEP=$1
here=$(cd "$(dirname "$0")" && pwd)
CONFIG=$here/gerbera.cfg DATA_DIR=/tmp/lockstep-test/gbev
LOW_CONFIG=$here/lowport.cfg LOW_DATA_DIR=/tmp/lockstep-test/gblow
APP_CFG=$here/../../apps/gerbera/app.cfg
source "$here/../eval_harness/lib.sh"
for tool in gerbera ffmpeg ab curl xmllint jq; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
RESULTS=$(mktemp -d /tmp/lockstep-gerbera-results.XXXXXX)
finish() {
  local rc=$?  # kept: cleanup exits with the status it finds in $?
  rm -rf "$RESULTS"
  "$LOCKSTEP" cluster down --config "$LOW_CONFIG" >/dev/null 2>&1 || true
  rm -rf "${LOW_DATA_DIR:?}"
  (exit $rc)
  cleanup
}
trap finish EXIT

hosts=(10.80.40.1 10.80.40.2 10.80.40.3)
server_port=49200 proxy_port=8001

# The content paths the workloads request, read from app.cfg so the test follows it.
mapfile -t paths < <(grep -o 'http://{target}/content/[^"]*' "$APP_CFG" | sed 's#http://{target}##')
((${#paths[@]} == 3)) || fail "expected 3 workload URLs in $APP_CFG, found ${#paths[@]}"

# DIDL-Lite of a ContentDirectory Browse (direct children of OBJECT_ID) at HOST:PORT.
browse() {
  local body
  body="<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:Browse xmlns:u=\"urn:schemas-upnp-org:service:ContentDirectory:1\"><ObjectID>$2</ObjectID><BrowseFlag>BrowseDirectChildren</BrowseFlag><Filter>*</Filter><StartingIndex>0</StartingIndex><RequestedCount>0</RequestedCount><SortCriteria></SortCriteria></u:Browse></s:Body></s:Envelope>"
  curl -sf -m 10 -H 'Content-Type: text/xml; charset="utf-8"' \
    -H 'SOAPACTION: "urn:schemas-upnp-org:service:ContentDirectory:1#Browse"' \
    --data "$body" "http://$1/upnp/control/cds" | xmllint --xpath 'string(//Result)' -
}

# md5 of the body of GET URL; fails unless the status is 200.
body_md5() {
  local tmp code
  tmp=$(mktemp)
  code=$(curl -s -m 30 -o "$tmp" -w '%{http_code}' "$1") || code="curl exit $?"
  [[ $code == 200 ]] || { rm -f "$tmp"; fail "GET $1: $code"; }
  md5sum <"$tmp" | cut -d' ' -f1
  rm -f "$tmp"
}

# 1. A port libupnp would not use: refused before the server starts, one line, nothing left.
rc=0
err=$("$LOCKSTEP" cluster up --config "$LOW_CONFIG" --app gerbera --mode orig 2>&1 >/dev/null) || rc=$?
((rc == 1)) || fail "up with server_port 9001 exited $rc, expected 1: $err"
last=$(tail -1 <<<"$err")
[[ $last == *"needs server_port in 49152..65535"* ]] || fail "up with server_port 9001: $last"
"$LOCKSTEP" cluster status --config "$LOW_CONFIG" | grep -q ': down' || fail "refused up left the cluster up"

# 2. proxy_only: the same library, ids and bytes on every replica.
fresh_start
"$LOCKSTEP" cluster up --config "$CONFIG" --app gerbera --mode proxy_only >/dev/null || fail "cluster up proxy_only failed"
declare -A first_md5
for h in "${hosts[@]}"; do
  didl="$(browse "$h:$server_port" 6)$(browse "$h:$server_port" 9)" || fail "$h: Browse failed"
  for t in tone-440.mp3 tone-660.flac testsrc.mp4; do
    grep -q "<dc:title>$t</dc:title>" <<<"$didl" || fail "$h: $t not in the ContentDirectory: $didl"
  done
  for p in "${paths[@]}"; do
    grep -q "http://$h:$server_port$p/ext/" <<<"$didl" || fail "$h: the ContentDirectory lists no $p: $didl"
    m=$(body_md5 "http://$h:$server_port$p")
    [[ -z ${first_md5[$p]:-} ]] && first_md5[$p]=$m
    [[ $m == "${first_md5[$p]}" ]] || fail "$h serves other bytes at $p"
    m=$(body_md5 "http://$h:$proxy_port$p")
    [[ $m == "${first_md5[$p]}" ]] || fail "the proxy of $h serves other bytes at $p"
  done
done
# A crashed replica comes back with the same ids (run.sh starts on a fresh database).
"$LOCKSTEP" cluster kill 2 --config "$CONFIG" >/dev/null || fail "cluster kill 2 failed"
"$LOCKSTEP" cluster restart 2 --config "$CONFIG" >/dev/null || fail "cluster restart 2 failed"
for p in "${paths[@]}"; do
  m=$(body_md5 "http://${hosts[1]}:$server_port$p")
  [[ $m == "${first_md5[$p]}" ]] || fail "restarted replica 2 serves other bytes at $p"
done
"$LOCKSTEP" cluster down --config "$CONFIG" >/dev/null

# 3. dmt_only: the same bytes from one replica under the runtime, none held for 5 s.
"$LOCKSTEP" cluster up --config "$CONFIG" --app gerbera --mode dmt_only >/dev/null || fail "cluster up dmt_only failed"
for p in "${paths[@]}"; do
  start=$(date +%s%N)
  m=$(body_md5 "http://${hosts[0]}:$server_port$p")
  ms=$((($(date +%s%N) - start) / 1000000))
  [[ $m == "${first_md5[$p]}" ]] || fail "dmt_only serves other bytes at $p"
  # Stored files take milliseconds, the transcoded stream ~1.3 s (Gerbera sleeps 1 s after
  # ffmpeg); 5 s is the idle workers' timed wait that used to hold every request.
  ((ms < 4500)) || fail "dmt_only: GET $p took $ms ms"
done
"$LOCKSTEP" cluster down --config "$CONFIG" >/dev/null
log=$DATA_DIR/node-1/logs/gerbera-server.log
if grep -q "lockstep-dmt\[" "$log"; then
  fail "dmt_only: the runtime complained: $(grep "lockstep-dmt\[" "$log" | head -5)"
fi
report=$DATA_DIR/node-1/dmt/report.json
jq -e '.threads > 1 and .ops.io_accept > 0 and .ops.io_select > 0 and .ops.cond_timedwait > 0 and .ops.fork > 0' \
  "$report" >/dev/null || fail "dmt_only: no runtime report with libupnp's threads and a fork: $(cat "$report" 2>&1)"
[[ -s $report.1 ]] || fail "dmt_only: no runtime report of the forked ffmpeg ($report.1)"

# 4. The eval: every mode, 0 failed, CSV and summary.
out=$("$LOCKSTEP" eval --app gerbera --modes orig,proxy_only,dmt_only --rounds 1 --requests 500 --json \
  --config "$CONFIG" --results "$RESULTS" --tag t) || fail "eval failed: $out"
echo "$out"
check_eval_output "$out" gerbera video orig,proxy_only,dmt_only throughput latency_ms failed
dir=$EVAL_DIR
for mode in orig proxy_only dmt_only; do
  raw=$(cat "$dir/gerbera-$mode-round1.txt")
  ab_clean "$mode" "$raw" 500
done
"$LOCKSTEP" cluster status --config "$CONFIG" | grep -q ': down' || fail "eval left the cluster up"
echo PASS
