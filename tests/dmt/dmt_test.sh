#!/bin/bash
# Test driver for the DMT runtime (registered with ctest by CMakeLists.txt here).
#
#   dmt_test.sh determinism --lib LIB --runs N [--native-runs M] [--expect-native-differs]
#               [--same-as-native] [--load] -- PROGRAM ARGS...
#       Runs PROGRAM N times under LIB (optionally while a busy loop loads the CPUs): every run
#       must exit 0 with identical stdout and identical schedule hashes in every process's
#       report. Then runs it M times natively: --expect-native-differs requires at least two
#       different outputs (so the runtime is what makes the runs agree), --same-as-native
#       requires the runtime's output to equal the native output.
#       --input GEN:SIZE runs GEN SIZE to make a fixed input file that replaces @INPUT@ in ARGS.
#       --profiled first runs PROGRAM once with LOCKSTEP_DMT_PROFILE (on a different input of half
#       the size when --input is given), then makes the N runs with that profile as
#       LOCKSTEP_DMT_WEIGHTS: the weighted schedule must be as deterministic, and must differ from
#       the round-robin one (else the weights did nothing).
#   dmt_test.sh bad-weights --lib LIB -- PROGRAM
#       A malformed weights file makes the runtime exit 2 with a one-line error naming the file.
#   dmt_test.sh server --lib LIB --server BIN --client BIN
#       Starts the echo server under LIB and serves the client's load with 0 failures.
#   dmt_test.sh cli --lib LIB --lockstep BIN -- PROGRAM
#       `lockstep dmt run` runs PROGRAM with a trace and a report, passes exit codes through,
#       rejects bad options with exit 2; the hand-off probe prints a latency.
#   dmt_test.sh block-beside-timer --lib LIB -- PROGRAM
#       PROGRAM blocks in read() while another thread has a 30 s timed wait: it must finish fast.
#   dmt_test.sh deadlock --lib LIB -- PROGRAM
#       PROGRAM deadlocks under LIB: the runtime must abort (not hang) and print the trace tail;
#       with LOCKSTEP_DMT_LOG=FILE that report goes to FILE and not to stderr.
set -u

die() { echo "FAIL: $*" >&2; exit 1; }

tmp=$(mktemp -d /tmp/dmt_test.XXXXXX)
loader_pids=()
server_pid=""
cleanup() {
  for p in "${loader_pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

mode=${1:-}; shift || true
gen=""; gen_size=0
lockstep=""
profiled=0
lib=""; runs=20; native_runs=0; expect_differs=0; same_as_native=0; load=0; server=""; client=""
while [ $# -gt 0 ]; do
  case "$1" in
    --lib) lib=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --native-runs) native_runs=$2; shift 2 ;;
    --expect-native-differs) expect_differs=1; shift ;;
    --same-as-native) same_as_native=1; shift ;;
    --load) load=1; shift ;;
    --profiled) profiled=1; shift ;;
    --server) server=$2; shift 2 ;;
    --input) gen=${2%%:*}; gen_size=${2##*:}; shift 2 ;;
    --client) client=$2; shift 2 ;;
    --lockstep) lockstep=$2; shift 2 ;;
    --) shift; break ;;
    *) die "unknown option $1" ;;
  esac
done
[ -f "$lib" ] || die "runtime library not found: $lib"

under_dmt() {  # under_dmt REPORT_PREFIX CMD... (stdout/stderr as given by the caller)
  local report=$1; shift
  timeout 90 env LD_PRELOAD="$lib" LOCKSTEP_DMT_REPORT="$report" LOCKSTEP_DMT_WATCHDOG_S=15 \
    LOCKSTEP_DMT_STALL_ABORT=1 "$@"
}

hashes_of() {  # every process's schedule hash of one run, by report file name suffix
  local prefix=$1
  for f in "$prefix" "$prefix".*; do
    [ -f "$f" ] || continue
    echo "${f#"$prefix"} $(sed -n 's/.*"schedule_hash": "\([0-9a-f]*\)".*/\1/p' "$f")"
  done
}

case "$mode" in
determinism)
  [ $# -gt 0 ] || die "no program"
  command -v "$1" >/dev/null || { echo "SKIP: $1 is not installed"; exit 77; }
  if [ -n "$gen" ]; then
    # --input GEN:SIZE generates a fixed input file that replaces the argument @INPUT@.
    "$gen" "$gen_size" >"$tmp/input.txt" || die "cannot generate the input"
    args=()
    for a in "$@"; do [ "$a" = "@INPUT@" ] && args+=("$tmp/input.txt") || args+=("$a"); done
    set -- "${args[@]}"
  fi
  if [ "$profiled" = 1 ]; then
    # Train on another input when there is one, as `lockstep bench dmt` does.
    train=("$@")
    if [ -n "$gen" ]; then
      "$gen" $((gen_size / 2)) >"$tmp/train.txt" || die "cannot generate the training input"
      train=()
      for a in "$@"; do [ "$a" = "$tmp/input.txt" ] && train+=("$tmp/train.txt") || train+=("$a"); done
    fi
    LOCKSTEP_DMT_PROFILE="$tmp/profile" under_dmt "$tmp/report.plain" "${train[@]}" >/dev/null 2>"$tmp/err.train" ||
      { tail -n 40 "$tmp/err.train" >&2; die "profiling run failed"; }
    grep -qv '^#' "$tmp/profile" || die "the profile has no sites"
    echo "profile: $(grep -cv '^#' "$tmp/profile") sites"
    under_dmt "$tmp/report.plain" "$@" >/dev/null 2>&1 || die "round-robin run failed"
    hashes_of "$tmp/report.plain" >"$tmp/hash.plain"
    export LOCKSTEP_DMT_WEIGHTS="$tmp/profile"
  fi
  if [ "$load" = 1 ]; then
    for _ in 1 2; do (while :; do :; done) & loader_pids+=($!); done
  fi
  for i in $(seq 1 "$runs"); do
    under_dmt "$tmp/report.$i" "$@" >"$tmp/out.$i" 2>"$tmp/err.$i"
    rc=$?
    if [ $rc -ne 0 ]; then
      tail -n 60 "$tmp/err.$i" >&2
      die "run $i under the runtime exited with $rc"
    fi
    hashes_of "$tmp/report.$i" >"$tmp/hash.$i"
    [ -s "$tmp/hash.$i" ] || die "run $i wrote no report"
    if [ "$i" -gt 1 ]; then
      cmp -s "$tmp/out.1" "$tmp/out.$i" || { diff "$tmp/out.1" "$tmp/out.$i" | head -20 >&2; die "output of run $i differs from run 1"; }
      cmp -s "$tmp/hash.1" "$tmp/hash.$i" || { paste "$tmp/hash.1" "$tmp/hash.$i" >&2; die "schedule hash of run $i differs from run 1"; }
    fi
  done
  echo "under the runtime: $runs runs, identical output and schedule hashes:"
  sed 's/^/  process/' "$tmp/hash.1"
  if [ "$profiled" = 1 ]; then
    cmp -s "$tmp/hash.plain" "$tmp/hash.1" && die "the weighted schedule is the round-robin one: the weights had no effect"
    echo "weighted schedule differs from round-robin ($(head -c 40 "$tmp/hash.plain" | tr '\n' ' '))"
    unset LOCKSTEP_DMT_WEIGHTS
  fi
  for p in "${loader_pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  loader_pids=()
  if [ "$native_runs" -gt 0 ]; then
    for j in $(seq 1 "$native_runs"); do
      timeout 90 "$@" >"$tmp/native.$j" 2>/dev/null || die "native run $j failed"
    done
    distinct=$(md5sum "$tmp"/native.* | awk '{print $1}' | sort -u | wc -l)
    echo "natively: $native_runs runs, $distinct different outputs"
    if [ "$expect_differs" = 1 ] && [ "$distinct" -lt 2 ]; then
      die "native runs all gave the same output; the test cannot show that the runtime makes the difference"
    fi
    if [ "$same_as_native" = 1 ]; then
      cmp -s "$tmp/native.1" "$tmp/out.1" || die "output under the runtime differs from the native output"
      echo "output identical to the native output"
    fi
  fi
  ;;
bad-weights)
  [ $# -gt 0 ] || die "no program"
  printf '# a comment\n0 mutex_unlock m@12 3 1000\n0 no_such_op m@12 3 1000\n' >"$tmp/weights"
  LOCKSTEP_DMT_WEIGHTS="$tmp/weights" under_dmt "$tmp/report" "$@" >/dev/null 2>"$tmp/err"
  rc=$?
  [ $rc -eq 2 ] || die "a malformed weights file gave exit code $rc, expected 2"
  grep -q "LOCKSTEP_DMT_WEIGHTS $tmp/weights: unknown operation (line 3)" "$tmp/err" || { cat "$tmp/err" >&2; die "no clear error naming file and line"; }
  printf '0 mutex_unlock m@12 3\n' >"$tmp/weights"
  LOCKSTEP_DMT_WEIGHTS="$tmp/weights" under_dmt "$tmp/report" "$@" >/dev/null 2>"$tmp/err"
  [ $? -eq 2 ] && grep -q "line 1" "$tmp/err" || { cat "$tmp/err" >&2; die "a short line was not rejected"; }
  LOCKSTEP_DMT_WEIGHTS="$tmp/missing" under_dmt "$tmp/report" "$@" >/dev/null 2>"$tmp/err"
  [ $? -eq 2 ] && grep -q "cannot open LOCKSTEP_DMT_WEIGHTS" "$tmp/err" || { cat "$tmp/err" >&2; die "a missing file was not rejected"; }
  echo "malformed, short and missing weights files: exit 2 with a clear error"
  ;;
server)
  [ -x "$server" ] && [ -x "$client" ] || die "need --server and --client"
  under_dmt "$tmp/report" "$server" "$tmp/port" 200 4 >"$tmp/server.out" 2>"$tmp/server.err" &
  server_pid=$!
  for _ in $(seq 1 100); do [ -f "$tmp/port" ] && break; sleep 0.1; done
  [ -f "$tmp/port" ] || { cat "$tmp/server.err" >&2; die "server did not start"; }
  timeout 60 "$client" "$(cat "$tmp/port")" 200 8 5 || { tail -n 40 "$tmp/server.err" >&2; die "client saw failures"; }
  wait "$server_pid"; rc=$?; server_pid=""
  [ $rc -eq 0 ] || { tail -n 40 "$tmp/server.err" >&2; die "server exited with $rc"; }
  grep -q '"schedule_hash"' "$tmp/report" || die "server wrote no report"
  cat "$tmp/server.out"
  ;;
cli)
  [ -x "$lockstep" ] || die "need --lockstep"
  timeout 60 "$lockstep" dmt run --lib "$lib" --report "$tmp/r.json" --trace "$tmp/t.txt" -- "$@" >/dev/null \
    || die "dmt run failed"
  grep -q '"schedule_hash"' "$tmp/r.json" || die "no report"
  [ -s "$tmp/t.txt" ] || die "no trace"
  head -n 3 "$tmp/t.txt"
  timeout 60 "$lockstep" dmt run --lib "$lib" --profile "$tmp/p.txt" -- "$@" >/dev/null || die "dmt run --profile failed"
  grep -qv '^#' "$tmp/p.txt" || die "--profile wrote no sites"
  timeout 60 "$lockstep" dmt run --lib "$lib" --weights "$tmp/p.txt" --report "$tmp/w.json" -- "$@" >/dev/null \
    || die "dmt run --weights failed"
  grep -q '"schedule_hash"' "$tmp/w.json" || die "no report with --weights"
  timeout 60 "$lockstep" dmt run --lib "$lib" --weights "$tmp/none.txt" -- true 2>/dev/null; [ $? -eq 2 ] || die "missing --weights file not rejected"
  timeout 60 "$lockstep" dmt run --lib "$lib" -- false; [ $? -eq 1 ] || die "exit code not passed through"
  timeout 60 "$lockstep" dmt run --lib /nonexistent/lib.so -- true 2>/dev/null; [ $? -eq 2 ] || die "missing library not rejected"
  timeout 60 "$lockstep" dmt run --lib "$lib" --clock bogus -- true 2>/dev/null; [ $? -eq 2 ] || die "bad --clock not rejected"
  LOCKSTEP_DMT_NS_PER_TURN=abc timeout 60 "$lockstep" dmt run --lib "$lib" -- true 2>"$tmp/err"
  [ $? -eq 2 ] && grep -q LOCKSTEP_DMT_NS_PER_TURN "$tmp/err" || die "bad LOCKSTEP_DMT_NS_PER_TURN not rejected"
  out=$(timeout 60 "$lockstep" dmt run --lib "$lib" -- "$lockstep" dmt handoff-probe --iterations 5000) || die "probe failed"
  echo "$out" | grep -q '^handoff_ns [0-9.]*$' || die "probe printed: $out"
  echo "$out"
  ;;
deadlock)
  timeout 60 env LD_PRELOAD="$lib" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  cat "$tmp/err"
  [ $rc -ne 124 ] || die "the deadlocked program hung until the test timeout"
  [ $rc -ne 0 ] || die "the deadlocked program exited 0"
  grep -q "deadlock" "$tmp/err" || die "no deadlock message"
  grep -q "last .* operations" "$tmp/err" || die "no trace tail"
  echo "deadlock detected and reported (exit $rc)"
  # With LOCKSTEP_DMT_LOG the report goes to that file, whatever the program's stderr is (a
  # server such as apache redirects its stderr to its own log).
  LOCKSTEP_DMT_LOG="$tmp/log" timeout 60 env LD_PRELOAD="$lib" "$@" >/dev/null 2>"$tmp/err2"
  rc=$?
  [ $rc -ne 124 ] && [ $rc -ne 0 ] || die "the deadlocked program exited $rc with LOCKSTEP_DMT_LOG"
  grep -q "deadlock" "$tmp/log" && grep -q "last .* operations" "$tmp/log" ||
    die "no deadlock report in LOCKSTEP_DMT_LOG: $(cat "$tmp/log" 2>/dev/null)"
  ! grep -q "lockstep-dmt" "$tmp/err2" || die "runtime messages went to stderr despite LOCKSTEP_DMT_LOG: $(cat "$tmp/err2")"
  echo "deadlock report written to LOCKSTEP_DMT_LOG"
  ;;
block-beside-timer)
  # Default idle rule and LOCKSTEP_DMT_IDLE=real: the read must start at once, not after the
  # other thread's 30 s timeout.
  for idle in jump real; do
    out=$( (sleep 0.3; echo x) | LOCKSTEP_DMT_IDLE=$idle timeout 20 env LD_PRELOAD="$lib" "$@")
    rc=$?
    [ $rc -eq 0 ] || die "LOCKSTEP_DMT_IDLE=$idle: exit $rc ($out)"
    secs=$(echo "$out" | sed -n 's/^ok \([0-9.]*\) s$/\1/p')
    [ -n "$secs" ] || die "LOCKSTEP_DMT_IDLE=$idle: printed: $out"
    awk -v s="$secs" 'BEGIN { exit !(s < 10) }' || die "LOCKSTEP_DMT_IDLE=$idle: took $secs s: the blocking call waited for the timer"
    echo "LOCKSTEP_DMT_IDLE=$idle: $out"
  done
  ;;
*) die "usage: dmt_test.sh determinism|bad-weights|server|deadlock|block-beside-timer ..." ;;
esac
exit 0
