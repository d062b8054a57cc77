#!/usr/bin/env bash
# apps/mysql in a fast configuration (4 tables x 2,000 rows, 300 transactions per round):
#  1. prepare.sh builds the database once into a cache and copies it: two replicas' data
#     directories are byte-identical, and the second copy does not rebuild;
#  2. dmt_only: while apps/mysql/app.cfg declares dmt_unsupported, `cluster up` and `eval` refuse
#     it with one line naming the reason (exit 2, nothing created); without that declaration
#     MODES must include dmt_only, which then has to pass like the others;
#  3. `lockstep eval --app mysql --modes MODES --rounds 1 --json` completes with 0 failed with
#     the default workload (oltp_read_write); results.csv and summary.md hold throughput and
#     p95_ms of every mode; proxy_only reports its divergences (the handshake's random salt makes
#     every connection's replies differ, so there must be some: they are counted, not hidden);
#     dmt_only leaves the runtime's report of mariadbd (its threads, the locks it scheduled);
#  4. the cluster is down afterwards.
# Usage: eval_mysql_test.sh LOCKSTEP [MODES]   (MODES default orig,proxy_only,dmt_only)
LOCKSTEP=$1
MODES=${2:-orig,proxy_only,dmt_only}
CONFIG=$(dirname "$0")/eval.cfg DATA_DIR=/tmp/lockstep-test/myev
APP_DIR=$(cd "$(dirname "$0")/../../apps/mysql" && pwd)
source "$(dirname "$0")/../eval_harness/lib.sh"
RESULTS=$(mktemp -d /tmp/lockstep-mysql-results.XXXXXX)
trap 'rm -rf "$RESULTS"; cleanup' EXIT

# The eval uses the same apps/ as the prepare steps, whichever tree the binary was built from.
export LOCKSTEP_APPS_DIR=${APP_DIR%/mysql}
export LOCKSTEP_MYSQL_TABLES=4 LOCKSTEP_MYSQL_TABLE_SIZE=2000
# A private cache, so the build is exercised; it lives in DATA_DIR and goes with it.
export LOCKSTEP_MYSQL_CACHE=$DATA_DIR/cache
fresh_start

# 1. The cache and byte-identical copies.
out1=$("$APP_DIR/prepare.sh" "$DATA_DIR/copy1" 10.80.20.1 9001) || fail "prepare 1: $out1"
grep -q "building the sbtest database" <<<"$out1" || fail "first prepare did not build: $out1"
out2=$("$APP_DIR/prepare.sh" "$DATA_DIR/copy2" 10.80.20.2 9001) || fail "prepare 2: $out2"
grep -q "building" <<<"$out2" && fail "second prepare rebuilt the cache: $out2"
diff -r "$DATA_DIR/copy1/db" "$DATA_DIR/copy2/db" >/dev/null || fail "replica data directories differ"
[[ $(stat -c %U "$DATA_DIR/copy1/db/ibdata1") == mysql ]] || fail "ibdata1 not owned by mysql"
grep -qx "bind-address = 10.80.20.2" "$DATA_DIR/copy2/my.cnf" || fail "my.cnf does not bind the host"
rm -rf "$DATA_DIR/copy1" "$DATA_DIR/copy2"
# Bad sizes are one line and exit 2.
rc=0
err=$(LOCKSTEP_MYSQL_TABLE_SIZE=0 "$APP_DIR/prepare.sh" "$DATA_DIR/copy3" 10.80.20.1 9001 2>&1) || rc=$?
((rc == 2)) && [[ $err == *LOCKSTEP_MYSQL_TABLE_SIZE* ]] || fail "bad size: exit $rc: $err"

# 2. dmt_only refused up front while app.cfg says why.
reason=$(sed -n 's/^dmt_unsupported = "\(.*\)";$/\1/p' "$APP_DIR/app.cfg")
if [[ -n $reason ]]; then
  [[ ,$MODES, != *,dmt_only,* ]] || fail "MODES has dmt_only but app.cfg declares dmt_unsupported"
  want="app mysql cannot run under the DMT runtime (mode dmt_only): $reason"
  rc=0
  err=$("$LOCKSTEP" cluster up --config "$CONFIG" --app mysql --mode dmt_only 2>&1 >/dev/null) || rc=$?
  ((rc == 2)) && [[ $err == "lockstep: $want" ]] || fail "cluster up dmt_only: exit $rc: $err"
  rc=0
  err=$("$LOCKSTEP" eval --app mysql --modes orig,dmt_only --config "$CONFIG" --results "$RESULTS" 2>&1 >/dev/null) || rc=$?
  ((rc == 2)) && [[ $(wc -l <<<"$err") == 1 && $err == *"$want" ]] || fail "eval dmt_only: exit $rc: $err"
  "$LOCKSTEP" cluster status --config "$CONFIG" | grep -q ': down' || fail "refused dmt_only left a cluster"
  [[ -z $(ls -A "$RESULTS") ]] || fail "refused eval left results: $(ls "$RESULTS")"
else
  [[ ,$MODES, == *,dmt_only,* ]] || fail "app.cfg declares no dmt_unsupported: run this test with dmt_only in MODES"
fi

# 3. The eval.
out=$("$LOCKSTEP" eval --app mysql --modes "$MODES" --rounds 1 --requests 300 --json \
  --config "$CONFIG" --results "$RESULTS" --tag t) || fail "eval failed: $out"
echo "$out"
check_eval_output "$out" mysql oltp_read_write "$MODES" throughput latency_ms p95_ms failed
json=$EVAL_JSON dir=$EVAL_DIR
[[ $dir == "$RESULTS"/*-t ]] || fail "results dir $dir not under $RESULTS"
IFS=, read -ra modes <<<"$MODES"
for mode in "${modes[@]}"; do
  grep -Eq "transactions: +300 " "$dir/mysql-$mode-round1.txt" || fail "$mode did not run 300 transactions"
done
if [[ ,$MODES, == *,proxy_only,* ]]; then
  jq -e '.modes.proxy_only.divergences > 0' <<<"$json" >/dev/null ||
    fail "proxy_only saw no divergence although every MariaDB handshake carries its own salt: $json"
fi

# dmt_only really ran mariadbd under the runtime: its report (written when `down` SIGTERMs the
# server) names the server's threads and the locks it scheduled.
if [[ ,$MODES, == *,dmt_only,* ]]; then
  [[ $MODES == *,dmt_only ]] || fail "put dmt_only last in MODES: the next mode's up wipes its report"
  report=$DATA_DIR/node-1/dmt/report.json
  [[ -s $report ]] || fail "dmt_only left no runtime report ($report)"
  jq -e '.threads > 8 and .ops.mutex_lock > 0' "$report" >/dev/null || fail "runtime report: $(cat "$report")"
fi

# 4. Nothing left up.
"$LOCKSTEP" cluster status --config "$CONFIG" | grep -q ': down' || fail "eval left the cluster up"
echo PASS
