# Shared by the dmt_only cluster tests (source after lib.sh). The runtime writes its messages
# (watchdog stall reports, deadlock reports with the last operations, fatal errors) into the
# server log, and with LOCKSTEP_DMT_TRACE set the server traces every operation: on failure both
# tails are printed before the cluster is taken down.

# A short watchdog, so a stall shows up in the server log well within the test's timeout.
export LOCKSTEP_DMT_WATCHDOG_S=3

dmt_failure_report() {
  local log trace
  for log in "$DATA_DIR"/node-1/logs/*-server.log; do
    [[ -f $log ]] || continue
    echo "---- last lines of $log (runtime messages are here) ----" >&2
    tail -n 80 "$log" >&2
  done
  # The trace is buffered in the server: take the cluster down first so that it is flushed.
  "$LOCKSTEP" cluster down --config "$CONFIG" >/dev/null 2>&1 || true
  for trace in "${LOCKSTEP_DMT_TRACE:-/nonexistent}"*; do
    [[ -f $trace ]] || continue
    echo "---- DMT trace tail $trace (logical time, thread, op, object) ----" >&2
    tail -n 40 "$trace" >&2
  done
}

dmt_cleanup() {
  local rc=$?
  ((rc == 0)) || dmt_failure_report
  "$LOCKSTEP" cluster down --config "$CONFIG" >/dev/null 2>&1 || true
  rm -rf "${DATA_DIR:?}" "${TRACE_DIR:?}"
  exit $rc
}

# Fails unless the server process tree of replica 1 has the runtime loaded and the environment
# the cluster gave it (checked in /proc, not only in `up`'s log).
assert_runtime_loaded() {
  local pid=$1 lib=$2 found=0 p
  for p in $pid $(pgrep -P "$pid") $(for c in $(pgrep -P "$pid"); do pgrep -P "$c"; done); do
    if grep -q "$lib" "/proc/$p/maps" 2>/dev/null; then
      found=1
      tr '\0' '\n' <"/proc/$p/environ" | grep -qx "LOCKSTEP_DMT_REPORT=$DATA_DIR/node-1/dmt/report.json" ||
        fail "pid $p runs the runtime without LOCKSTEP_DMT_REPORT in the replica's dmt dir"
    fi
  done
  ((found)) || fail "no process under server pid $pid has $lib mapped"
}

# The JSON report a process of the server wrote at exit (FILE), with a schedule hash.
assert_report() {
  local file=$1
  [[ -f $file ]] || fail "no DMT report $file (files: $(ls "$(dirname "$file")"))"
  grep -Eq '"schedule_hash": "[0-9a-f]{16}"' "$file" || fail "report $file has no schedule_hash: $(cat "$file")"
}
