# Shared by the eval harness tests: cleanup that runs even when a test fails (the cluster
# manager's `down` and the test's data), small readers of ab's output and cluster status, and a
# checker of `lockstep eval --json` results shared by the app tests.
# Source it after setting LOCKSTEP, CONFIG and DATA_DIR.
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# PIDs of background clients this test started; stopped by PID on exit.
CHILDREN=()

cleanup() {
  local rc=$?
  local pid
  for pid in "${CHILDREN[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${CHILDREN[@]}"; do wait "$pid" 2>/dev/null || true; done
  "$LOCKSTEP" cluster down --config "$CONFIG" >/dev/null 2>&1 || true
  rm -rf "${DATA_DIR:?}"
  exit $rc
}

# Removes what an earlier run of the same test may have left.
fresh_start() {
  "$LOCKSTEP" cluster down --config "$CONFIG" >/dev/null
  rm -rf "${DATA_DIR:?}"
}

# Value of "KEY: VALUE" in ab output (empty when ab printed no such line).
ab_field() {
  sed -n "s/^$1:[[:space:]]*\([0-9.]*\).*/\1/p" <<<"$2" | head -1
}

# Fails unless ab output $2 (label $1) has $3 complete requests, none failed and none non-2xx.
ab_clean() {
  local complete failed non2xx
  complete=$(ab_field "Complete requests" "$2")
  failed=$(ab_field "Failed requests" "$2")
  non2xx=$(ab_field "Non-2xx responses" "$2")
  [[ $complete == "$3" && $failed == 0 && -z $non2xx ]] ||
    fail "$1: complete=$complete failed=$failed non-2xx=$non2xx"
}

# Id of the replica whose node says it leads, waiting up to $1 seconds (default 10).
leader_id() {
  local deadline=$((SECONDS + ${1:-10})) id
  while ((SECONDS < deadline)); do
    id=$("$LOCKSTEP" cluster status --config "$CONFIG" --json |
      jq -r '[.replicas[] | select(.node.role == "leader") | .id] | first // empty')
    [[ -n $id ]] && { echo "$id"; return 0; }
    sleep 0.2
  done
  return 1
}

# Checks what `lockstep eval --json` printed ($1) for app $2 and workload $3, whose modes are
# the comma-separated $4: each mode ok with throughput and latency and 0 failed in the JSON (its
# last line), a summary.md row for each, and results.csv holding round 1 of each metric named
# after that ($5...) for each mode. Sets EVAL_JSON and EVAL_DIR (results folder) for the caller's
# own checks. Not in a subshell: `fail` must end the test.
check_eval_output() {
  local out=$1 app=$2 workload=$3 modes_csv=$4
  shift 4
  local mode metric modes
  EVAL_JSON=$(tail -1 <<<"$out")
  EVAL_DIR=$(jq -r .results_dir <<<"$EVAL_JSON")
  [[ -s $EVAL_DIR/summary.md ]] || fail "no summary.md in $EVAL_DIR"
  head -1 "$EVAL_DIR/results.csv" | grep -qx 'app,mode,round,metric,value' || fail "results.csv header"
  IFS=, read -ra modes <<<"$modes_csv"
  for mode in "${modes[@]}"; do
    jq -e --arg m "$mode" --arg a "$app" --arg w "$workload" '.app == $a and .workload == $w and .modes[$m].ok
        and (.modes[$m].throughput > 0) and (.modes[$m].latency_ms > 0) and .modes[$m].failed == 0
        and (.modes[$m].divergences | type == "number")' <<<"$EVAL_JSON" >/dev/null ||
      fail "JSON lacks a good $mode: $EVAL_JSON"
    grep -q "^| $mode | " "$EVAL_DIR/summary.md" || fail "summary.md lacks $mode: $(cat "$EVAL_DIR/summary.md")"
    for metric in "$@"; do
      grep -Eq "^$app,$mode,1,$metric,[0-9.]+$" "$EVAL_DIR/results.csv" || fail "results.csv lacks $mode $metric"
    done
  done
}
