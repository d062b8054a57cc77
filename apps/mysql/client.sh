#!/usr/bin/env bash
# The mysql app's client (app.cfg workloads): one sysbench OLTP run against HOST:PORT, its report
# on stdout, followed by one line the harness reads as the `failed` metric:
#   lockstep-mysql: failed=N transactions=T of EVENTS
# where N = sysbench's "ignored errors" + "reconnects" (see README.md: what counts as failed).
# The exit status is sysbench's (non-zero after a fatal SQL error or a lost server).
#
# Usage: client.sh oltp_read_write|oltp_read_only HOST:PORT THREADS EVENTS MAX_SECONDS
# The database size comes from LOCKSTEP_MYSQL_TABLES / LOCKSTEP_MYSQL_TABLE_SIZE (sizes.sh), as
# in prepare.sh.
set -euo pipefail
if (($# != 5)); then
  echo "usage: client.sh oltp_read_write|oltp_read_only HOST:PORT THREADS EVENTS MAX_SECONDS" >&2
  exit 2
fi
workload=$1 target=$2 threads=$3 events=$4 max_seconds=$5
source "$(cd "$(dirname "$0")" && pwd)/sizes.sh"
case $workload in
  oltp_read_write | oltp_read_only) ;;
  *) echo "client.sh: unknown workload '$workload' (oltp_read_write, oltp_read_only)" >&2; exit 2 ;;
esac
[[ $target == *:* ]] || { echo "client.sh: target must be HOST:PORT, got '$target'" >&2; exit 2; }
for n in "$threads" "$events" "$max_seconds"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "client.sh: THREADS, EVENTS and MAX_SECONDS must be positive integers" >&2; exit 2; }
done

out=$(mktemp /tmp/lockstep-mysql-client.XXXXXX)
pid=""
# The harness stops its client by PID (SIGTERM to this script): pass it on to sysbench.
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -f "$out"' EXIT
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null' TERM INT

# Empty password: see prepare.sh (the proxy replays one challenge's answer on every replica).
# --events bounds the run, --time caps it; ids are drawn uniformly so the rows touched are spread
# over the tables instead of a hot spot.
sysbench "$workload" --db-driver=mysql --mysql-host="${target%:*}" --mysql-port="${target##*:}" \
  --mysql-user=sbtest --mysql-password= --mysql-db=sbtest --mysql-ssl=off \
  --tables="$tables" --table-size="$table_size" --threads="$threads" \
  --events="$events" --time="$max_seconds" --rand-type=uniform --percentile=95 run >"$out" 2>&1 &
pid=$!
rc=0
while true; do
  wait "$pid" && rc=0 || rc=$?
  # wait returns early (>128) when a trapped signal arrives; sysbench then exits soon after.
  kill -0 "$pid" 2>/dev/null || break
done
pid=""
cat "$out"

field() {  # the count after "NAME:" in sysbench's SQL statistics, empty if absent
  sed -n "s/^[[:space:]]*$1:[[:space:]]*\([0-9][0-9]*\).*/\1/p" "$out" | head -1
}
errors=$(field "ignored errors")
reconnects=$(field "reconnects")
done_tx=$(field "transactions")
if [[ -n $errors && -n $reconnects ]]; then
  echo "lockstep-mysql: failed=$((errors + reconnects)) transactions=${done_tx:-0} of $events"
else
  echo "lockstep-mysql: sysbench printed no statistics (exit $rc)"
  ((rc != 0)) || rc=1
fi
exit "$rc"
