# Shared by the cluster tests: cleanup that runs even when a test fails, and checks that a
# cluster left nothing behind. Source it after setting LOCKSTEP and CONFIG.
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Name of the cluster in $CONFIG (the `name = "...";` line of our own test configs).
cluster_name() {
  sed -n 's/^name = "\([^"]*\)";.*/\1/p' "$CONFIG"
}

# Removes what an earlier run of the same test may have left (its cluster and its data).
fresh_start() {
  "$LOCKSTEP" cluster down --config "$CONFIG" >/dev/null
  rm -rf "${DATA_DIR:?}"
}

cleanup() {
  local rc=$?
  "$LOCKSTEP" cluster down --config "$CONFIG" >/dev/null 2>&1 || true
  rm -rf "${DATA_DIR:?}"
  exit $rc
}

# Fails unless no namespace, link, cgroup or state of cluster $1 exists.
assert_nothing_left() {
  local name=$1 tag=$2
  if ip netns list | grep -q "^lkst-$name-"; then fail "namespace left: $(ip netns list | grep "^lkst-$name-")"; fi
  if ip -o link show | grep -Eq ": lk[bh]-$tag[-:@]"; then fail "link left: $(ip -o link show | grep -E ": lk[bh]-$tag")"; fi
  local cg
  for cg in /sys/fs/cgroup/cpu/lockstep/"$name" /sys/fs/cgroup/lockstep/"$name" /sys/fs/cgroup/unified/lockstep/"$name"; do
    [[ -e $cg ]] && fail "cgroup left: $cg"
  done
  [[ -e /run/lockstep/$name ]] && fail "state left: /run/lockstep/$name"
  return 0
}

# Value of "KEY: VALUE" in ab output.
ab_field() {
  sed -n "s/^$1:[[:space:]]*\([0-9.]*\).*/\1/p" <<<"$2" | head -1
}
