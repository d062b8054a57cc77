#!/usr/bin/env bash
# relay_ceiling.sh: how fast can apache's static page go through a plain TCP relay (haproxy,
# mode tcp, one thread) that shares the replica's CPU quota with apache, against apache alone
# under that quota (lockstep's orig mode)? See README.md beside this file.
#
# Usage: eval/relay_ceiling/relay_ceiling.sh [--rounds N] [--requests N] [--warmup N]
#            [--concurrency N] [--noquota-runs N] [--out DIR]
# Environment: LOCKSTEP_BIN (default <repo>/build/bin/lockstep), RELAY_NAME (cluster name,
# default "relay"), RELAY_NET (first three octets, default 10.81.9), RELAY_QUOTA (percent,
# default: the one in the base config), RELAY_BASE_CFG (default <repo>/configs/local-3.cfg).
# Needs root. Everything it creates (cluster, haproxy) is removed on any exit.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
rounds=7
requests=2000
warmup=300
concurrency=8
noquota_runs=3
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --noquota-runs) noquota_runs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "relay_ceiling: unknown argument $1" >&2; exit 2 ;;
  esac
done

lockstep=${LOCKSTEP_BIN:-$repo/build/bin/lockstep}
name=${RELAY_NAME:-relay}
net=${RELAY_NET:-10.81.9}
[[ -x "$lockstep" ]] || { echo "relay_ceiling: no lockstep binary at $lockstep (set LOCKSTEP_BIN)" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "relay_ceiling: needs root (namespaces, cgroups)" >&2; exit 2; }
command -v ab >/dev/null || { echo "relay_ceiling: ab missing (apt-get install apache2-utils)" >&2; exit 2; }
[[ -n "$out" ]] || out="$repo/results/relay_ceiling-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
work=$(mktemp -d /tmp/relay_ceiling.XXXXXX)

say() { echo "$(date +%H:%M:%S) relay_ceiling: $*" >&2; }

# --- cleanup on any exit ----------------------------------------------------------------------
hp_pid=""
cluster_started=0
haproxy_bin=/usr/sbin/haproxy
cfg=""
stop_haproxy() {
  [[ -n "$hp_pid" ]] || return 0
  if [[ "$(readlink /proc/"$hp_pid"/exe 2>/dev/null)" == "$haproxy_bin" ]]; then
    kill "$hp_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$hp_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$hp_pid" 2>/dev/null || true
  fi
  wait "$hp_pid" 2>/dev/null || true
  hp_pid=""
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_haproxy
  if [[ $cluster_started -eq 1 ]]; then
    if "$lockstep" cluster down --config "$cfg" >"$work/down.log" 2>&1; then
      rm -rf "/var/tmp/lockstep/$name"   # the replica's data dir, which down keeps
    else
      echo "relay_ceiling: cluster down failed, see $out/down.log" >&2
    fi
  fi
  cp -f "$cfg" "$work"/*.log "$out"/ 2>/dev/null || true
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- haproxy: install if missing; stop only a service the package itself started -------------
if ! command -v haproxy >/dev/null; then
  had_pidfile=0; [[ -e /run/haproxy.pid ]] && had_pidfile=1
  say "installing haproxy"
  DEBIAN_FRONTEND=noninteractive apt-get install -y haproxy >"$work/apt.log" 2>&1 ||
    { apt-get update >>"$work/apt.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y haproxy >>"$work/apt.log" 2>&1; } ||
    { echo "relay_ceiling: apt-get install haproxy failed (see $work/apt.log)" >&2; exit 1; }
  if [[ $had_pidfile -eq 0 && -s /run/haproxy.pid ]]; then
    while read -r p; do
      if [[ "$(readlink /proc/"$p"/exe 2>/dev/null)" == /usr/sbin/haproxy ]]; then
        say "stopping the haproxy service the package started (pid $p)"
        kill "$p" 2>/dev/null || true
      fi
    done </run/haproxy.pid
  fi
fi
haproxy_bin=$(command -v haproxy)

# --- private config: local-3 with another name, subnet and data dir --------------------------
cfg="$work/$name.cfg"
sed -e "s/^name = \"local-3\";/name = \"$name\";/" \
    -e "s/10\\.77\\.0\\./$net./g" \
    -e "s#/var/tmp/lockstep/local-3#/var/tmp/lockstep/$name#" \
    "${RELAY_BASE_CFG:-$repo/configs/local-3.cfg}" >"$cfg"
if [[ -n "${RELAY_QUOTA:-}" ]]; then
  sed -i -e "s/^cpu_quota_percent = [0-9]*;/cpu_quota_percent = $RELAY_QUOTA;/" "$cfg"
fi
grep -q "name = \"$name\"" "$cfg" || { echo "relay_ceiling: could not rename the cluster in $cfg" >&2; exit 1; }
"$lockstep" config check "$cfg" >/dev/null

host="$net.1"
server_port=$(sed -n 's/.*id = 1;.*server_port = \([0-9]*\);.*/\1/p' "$cfg")
relay_port=$(sed -n 's/.*id = 1;.*proxy_port = \([0-9]*\);.*/\1/p' "$cfg")
quota=$(sed -n 's/^cpu_quota_percent = \([0-9]*\);.*/\1/p' "$cfg")
page=/index.html


# --- cluster: orig mode, replica 1 only --------------------------------------------------------
say "cluster $name up (apache, orig, quota $quota%)"
cluster_started=1
"$lockstep" cluster up --config "$cfg" --app apache --mode orig --apps-dir "$repo/apps" >"$work/up.log" 2>&1 ||
  { tail -5 "$work/up.log" >&2; exit 1; }
state=/run/lockstep/$name/state.json
cg_root=$(sed -n 's/.*"cgroup": "\(.*\)",/\1/p' "$state")
cg_version=$(sed -n 's/.*"cgroup_version": "\(.*\)",/\1/p' "$state")
netns="lkst-$name-1"
replica_cg="$cg_root/r1"
[[ -d "$replica_cg/server" && -d "$replica_cg/node" ]] || { echo "relay_ceiling: no cgroup $replica_cg/{server,node}" >&2; exit 1; }
grep -q "^$netns\b" <<<"$(ip netns list)" || { echo "relay_ceiling: no namespace $netns" >&2; exit 1; }
say "apache at $host:$server_port in netns $netns, cgroup $replica_cg ($cg_version)"

# haproxy: TCP mode, one thread, no logging; listens on the replica's proxy port (where the
# lockstep node listens in proxy_only) and forwards to apache on the same address.
cat >"$work/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 4000
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend relay
  bind $host:$relay_port
  default_backend apache
backend apache
  server apache1 $host:$server_port
EOF
"$haproxy_bin" -c -q -f "$work/haproxy.cfg"

# start_haproxy quota|noquota: quota puts it into the replica's node leaf (before exec, so it
# never runs outside), noquota leaves it in this script's own cpu cgroup.
start_haproxy() {
  local procs="$replica_cg/node/cgroup.procs"
  if [[ $1 == quota ]]; then
    sh -c 'echo $$ >"$1" && shift && exec "$@"' sh "$procs" \
      ip netns exec "$netns" "$haproxy_bin" -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
  else
    ip netns exec "$netns" "$haproxy_bin" -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
  fi
  hp_pid=$!
  for _ in $(seq 50); do
    if (exec 3<>"/dev/tcp/$host/$relay_port") 2>/dev/null; then break; fi
    sleep 0.1
  done
  kill -0 "$hp_pid" 2>/dev/null || { cat "$work/haproxy.log" >&2; echo "relay_ceiling: haproxy did not start" >&2; exit 1; }
  [[ "$(readlink /proc/"$hp_pid"/exe)" == "$haproxy_bin" ]] || { echo "relay_ceiling: pid $hp_pid is not haproxy" >&2; exit 1; }
  if [[ $1 == quota ]]; then
    grep -qx "$hp_pid" "$procs" || { echo "relay_ceiling: haproxy $hp_pid not in $procs" >&2; exit 1; }
  fi
}

# CPU time (ns) of every thread in a cgroup subtree (v1 "tasks"; v2 "cgroup.threads").
cg_cpu_ns() {
  local f tid run total=0 list=tasks
  [[ $cg_version == v2 ]] && list=cgroup.threads
  while read -r f; do
    while read -r tid; do
      read -r run _ <"/proc/$tid/schedstat" 2>/dev/null || continue
      total=$((total + run))
    done <"$f"
  done < <(find "$1" -name "$list")
  echo $total
}
pid_cpu_ns() {
  local t run total=0
  [[ -n "$1" ]] || { echo 0; return; }
  for t in /proc/"$1"/task/*/schedstat; do
    read -r run _ <"$t" 2>/dev/null || continue
    total=$((total + run))
  done
  echo $total
}
# user and system clock ticks of processes: "utime stime" (fields 14 and 15 of /proc/PID/stat)
ticks_of() {
  local p u=0 k=0 rest
  for p in "$@"; do
    [[ -n "$p" ]] || continue
    rest=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    rest=${rest##*) }
    read -r -a f <<<"$rest"
    u=$((u + f[11])); k=$((k + f[12]))
  done
  echo "$u $k"
}
cg_procs() { find "$1" -name cgroup.procs -exec cat {} + | tr '\n' ' '; }
# throttling counters of the replica cgroup: "periods throttled throttled_us"
cg_throttle() {
  local s=$replica_cg/cpu.stat
  if [[ $cg_version == v2 ]]; then
    awk '$1=="nr_periods"{p=$2} $1=="nr_throttled"{t=$2} $1=="throttled_usec"{u=$2} END{print p+0, t+0, u+0}' "$s"
  else
    awk '$1=="nr_periods"{p=$2} $1=="nr_throttled"{t=$2} $1=="throttled_time"{u=int($2/1000)} END{print p+0, t+0, u+0}' "$s"
  fi
}

csv="$out/runs.csv"
echo "run,round,mode,target,req_per_s,failed,load1,apache_us_per_req,haproxy_us_per_req,apache_user_pct,haproxy_user_pct,periods,throttled,throttled_ms" >"$csv"
run_no=0

# measure MODE ROUND: MODE is orig (ab -> apache), relay (ab -> haproxy in the quota) or
# relay_noquota (ab -> haproxy outside the quota).
measure() {
  local mode=$1 round=$2 port=$server_port
  case $mode in
    relay) start_haproxy quota; port=$relay_port ;;
    relay_noquota) start_haproxy noquota; port=$relay_port ;;
  esac
  local url="http://$host:$port$page"
  run_no=$((run_no + 1))
  local log
  log="$out/run$(printf %02d $run_no)-$mode.txt"
  ab -q -c "$concurrency" -n "$warmup" "$url" >"$out/warmup.txt" 2>&1 ||
    { cat "$out/warmup.txt" >&2; exit 1; }
  local load1 a0 h0 a1 h1 p0 t0 u0 p1 t1 u1
  load1=$(cut -d' ' -f1 /proc/loadavg)
  read -r p0 t0 u0 < <(cg_throttle)
  local procs au0 ak0 au1 ak1 hu0 hk0 hu1 hk1
  procs=$(cg_procs "$replica_cg/server")
  # shellcheck disable=SC2086
  read -r au0 ak0 < <(ticks_of $procs); read -r hu0 hk0 < <(ticks_of "$hp_pid")
  a0=$(cg_cpu_ns "$replica_cg/server"); h0=$(pid_cpu_ns "$hp_pid")
  ab -c "$concurrency" -n "$requests" "$url" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  a1=$(cg_cpu_ns "$replica_cg/server"); h1=$(pid_cpu_ns "$hp_pid")
  # shellcheck disable=SC2086
  read -r au1 ak1 < <(ticks_of $procs); read -r hu1 hk1 < <(ticks_of "$hp_pid")
  read -r p1 t1 u1 < <(cg_throttle)
  { echo; echo "uptime: $(uptime)"; } >>"$log"
  local rps failed
  rps=$(sed -n 's/^Requests per second: *\([0-9.]*\).*/\1/p' "$log")
  failed=$(sed -n 's/^Failed requests: *\([0-9]*\).*/\1/p' "$log")
  local a_us h_us
  a_us=$(awk -v d=$((a1 - a0)) -v n="$requests" 'BEGIN{printf "%.1f", d/1000/n}')
  h_us=$(awk -v d=$((h1 - h0)) -v n="$requests" 'BEGIN{printf "%.1f", d/1000/n}')
  local a_user h_user
  a_user=$(awk -v u=$((au1 - au0)) -v k=$((ak1 - ak0)) 'BEGIN{if(u+k>0) printf "%.0f", 100*u/(u+k)}')
  h_user=$(awk -v u=$((hu1 - hu0)) -v k=$((hk1 - hk0)) 'BEGIN{if(u+k>0) printf "%.0f", 100*u/(u+k)}')
  [[ $mode == orig ]] && h_us="" && h_user=""
  echo "$run_no,$round,$mode,$host:$port,$rps,$failed,$load1,$a_us,$h_us,$a_user,$h_user,$((p1 - p0)),$((t1 - t0)),$(((u1 - u0) / 1000))" >>"$csv"
  say "run $run_no round $round $mode: $rps req/s, failed $failed, load $load1, apache ${a_us} us/req${h_us:+, haproxy ${h_us} us/req}, throttled $((t1 - t0))/$((p1 - p0)) periods"
  case $mode in relay|relay_noquota) stop_haproxy ;; esac
}

for r in $(seq "$rounds"); do
  measure orig "$r"
  measure relay "$r"
done
for r in $(seq "$noquota_runs"); do
  measure orig "nq$r"
  measure relay_noquota "nq$r"
done

# --- summary: medians and ratio --------------------------------------------------------------
median() { # median of CSV column NAME over the runs of MODE; orig: only the alternated rounds
  awk -F, -v m="$1" -v c="$2" 'NR==1{for(i=1;i<=NF;i++) if($i==c) k=i; next}
    $3==m && $k!="" && (m!="orig" || $2 ~ /^[0-9]+$/){print $k}' "$csv" |
    sort -g | awk '{v[NR]=$1} END{if(NR==0){print "-"; exit} if(NR%2) print v[(NR+1)/2]; else printf "%.1f\n", (v[NR/2]+v[NR/2+1])/2}'
}
{
  echo "# relay ceiling: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, quota $quota% per replica"
  echo "ab -c $concurrency -n $requests http://$host:PORT$page (warm-up $warmup), haproxy $("$haproxy_bin" -v | head -1 | awk '{print $3}')"
  echo
  printf "%-14s %5s %12s %6s %13s %14s %11s %12s %10s\n" mode runs "median req/s" load "apache us/req" "haproxy us/req" "apache user%" "haproxy user%" throttled
  for m in orig relay relay_noquota; do
    n=$(awk -F, -v m=$m 'NR>1 && $3==m && (m!="orig" || $2 ~ /^[0-9]+$/)' "$csv" | wc -l)
    [[ $n -gt 0 ]] || continue
    printf "%-14s %5s %12s %6s %13s %14s %11s %12s %10s\n" $m "$n" "$(median $m req_per_s)" "$(median $m load1)" \
      "$(median $m apache_us_per_req)" "$(median $m haproxy_us_per_req)" "$(median $m apache_user_pct)" \
      "$(median $m haproxy_user_pct)" "$(median $m throttled)"
  done
  o=$(median orig req_per_s); q=$(median relay req_per_s)
  echo
  echo "relay/orig (medians, quota): $(awk -v a="$q" -v b="$o" 'BEGIN{printf "%.1f%%", 100*a/b}')"
  # paired: each relay run against the orig run just before it
  echo "relay/orig per round: $(awk -F, 'NR>1 && $3=="orig"{o[$2]=$5} NR>1 && $3=="relay"{printf "%.0f%% ", 100*$5/o[$2]}' "$csv")"
  echo "relay_noquota/orig per pair: $(awk -F, 'NR>1 && $3=="orig"{o[$2]=$5} NR>1 && $3=="relay_noquota"{printf "%.0f%% ", 100*$5/o[$2]}' "$csv")"
  echo "orig runs paired with relay_noquota are not in the orig median."
} | tee "$out/summary.txt"
say "results in $out"
