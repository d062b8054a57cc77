#include "tests/sim/sim_run.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "tests/sim/sim_cluster.h"

namespace lockstep::sim {

using paxos::NodeId;

namespace {

struct Profile {
  NetworkFaults faults;
  double partition_rate = 0;  // per tick
  double isolate_leader_rate = 0;
  double oneway_rate = 0;
  double crash_rate = 0;      // per tick, one replica
  double crash_leader_bias = 0;
  size_t max_down = 0;
  int max_down_ticks = 1;
  double ready_crash = 0;
  double submit_rate = 0;     // proposals per tick
  double tick_skip = 0;       // a replica's clock sometimes misses a tick
  double eager_ready = 1;
  double restart_from_checkpoint = 0;
  double leader_append_crash = 0;
  paxos::ReplicaOptions replica;
};

Profile pick_profile(Rng& rng, size_t replicas) {
  Profile p;
  static constexpr double drops[] = {0, 0.01, 0.05, 0.15};
  static constexpr double dups[] = {0, 0.02, 0.1};
  static constexpr int delays[] = {1, 2, 4, 8};
  static constexpr double longs[] = {0, 0, 0.005, 0.02};
  static constexpr double partitions[] = {0, 0.01, 0.03};
  static constexpr double isolations[] = {0, 0.01, 0.03};
  static constexpr double oneways[] = {0, 0, 0.01};
  static constexpr double crashes[] = {0, 0.002, 0.006, 0.015, 0.05};
  static constexpr double ready_crashes[] = {0, 0, 0.002, 0.01};
  static constexpr double submits[] = {0.2, 1, 4};
  static constexpr double skips[] = {0, 0, 0.1};
  static constexpr double eagers[] = {0, 0.5, 1};
  p.faults.drop = rng.pick(drops);
  p.faults.duplicate = rng.pick(dups);
  p.faults.delay_min = rng.range(0, 1);
  p.faults.delay_max = rng.pick(delays);
  p.faults.long_delay = rng.pick(longs);
  p.faults.long_delay_max = 100;
  p.faults.reorder = rng.chance(0.5);  // else FIFO links, as over TCP
  p.partition_rate = rng.pick(partitions);
  p.isolate_leader_rate = rng.pick(isolations);
  p.oneway_rate = rng.pick(oneways);
  p.crash_rate = rng.pick(crashes);
  p.crash_leader_bias = rng.chance(0.5) ? 0.5 : 0;
  p.max_down = rng.chance(0.5) ? replicas / 2 : replicas;
  p.max_down_ticks = rng.range(5, 80);
  p.ready_crash = rng.pick(ready_crashes);
  p.submit_rate = rng.pick(submits);
  p.tick_skip = rng.pick(skips);
  p.eager_ready = rng.pick(eagers);
  p.restart_from_checkpoint = rng.chance(0.5) ? 0.3 : 0;
  static constexpr double append_crashes[] = {0, 0, 0.02, 0.1, 0.3};
  p.leader_append_crash = rng.pick(append_crashes);
  static constexpr int heartbeats[] = {1, 1, 2};
  static constexpr int retries[] = {20, 5};
  // (batch, message, in-flight) byte limits: the defaults, tiny entries, and small messages and
  // windows that force catch-up over many Accepts. An entry stays below the message limit, as
  // in any sane configuration.
  struct Limits {
    size_t batch, message, inflight;
  };
  static constexpr Limits limits[] = {
      {1 << 20, 4 << 20, 16 << 20}, {100, 4 << 20, 16 << 20}, {300, 2000, 64 << 10}, {100, 1000, 4000}};
  p.replica.heartbeat_ticks = rng.pick(heartbeats);
  p.replica.proposal_retry_ticks = rng.pick(retries);
  const Limits& l = rng.pick(limits);
  p.replica.max_batch_bytes = l.batch;
  p.replica.max_message_bytes = l.message;
  p.replica.max_inflight_bytes = l.inflight;
  return p;
}

std::string describe(const Profile& p) {
  return fmt::format(
      "drop={} dup={} delay={}..{} long={} reorder={} partition={} isolate={} oneway={} crash={} "
      "max_down={} down<={} ready_crash={} leader_append_crash={} checkpoint={} submit/tick={} skip={} eager={} hb={} retry={} "
      "batch={} msg={} inflight={}",
      p.faults.drop, p.faults.duplicate, p.faults.delay_min, p.faults.delay_max,
      p.faults.long_delay, p.faults.reorder, p.partition_rate, p.isolate_leader_rate, p.oneway_rate, p.crash_rate,
      p.max_down, p.max_down_ticks, p.ready_crash, p.leader_append_crash, p.restart_from_checkpoint, p.submit_rate, p.tick_skip, p.eager_ready,
      p.replica.heartbeat_ticks, p.replica.proposal_retry_ticks, p.replica.max_batch_bytes,
      p.replica.max_message_bytes, p.replica.max_inflight_bytes);
}

class Scenario {
 public:
  Scenario(const RunConfig& config, Trace& trace, const Profile& profile)
      : config_(config),
        profile_(profile),
        rng_(mix_seed(config.seed, 201)),
        down_until_(config.replicas + 1, 0),
        cluster_(make_options(config, profile), trace) {}

  void run(RunResult& result) {
    for (int t = 0; t < config_.fault_ticks; ++t) fault_tick(t);
    heal(result);
  }

  const Cluster& cluster() const { return cluster_; }

 private:
  static ClusterOptions make_options(const RunConfig& config, const Profile& profile) {
    ClusterOptions o;
    o.replicas = config.replicas;
    o.seed = config.seed;
    o.replica = profile.replica;
    o.faults = profile.faults;
    o.ready_crash = profile.ready_crash;
    o.eager_ready = profile.eager_ready;
    o.restart_from_checkpoint = profile.restart_from_checkpoint;
    o.leader_append_crash = profile.leader_append_crash;
    return o;
  }

  NodeId random_node() { return static_cast<NodeId>(1 + rng_.below(config_.replicas)); }

  std::optional<NodeId> random_up_node() {
    size_t up = cluster_.up_count();
    if (up == 0) return std::nullopt;
    size_t k = rng_.below(up);
    for (NodeId id = 1; id <= config_.replicas; ++id) {
      if (cluster_.up(id) && k-- == 0) return id;
    }
    return std::nullopt;
  }

  void submit_random() {
    auto id = random_up_node();
    if (!id || cluster_.replica(*id).pending_proposals() > 400) return;
    int len = static_cast<int>(rng_.below(48));
    std::string data = fmt::format("{}:{}:", config_.seed, ++submitted_);
    for (int i = 0; i < len; ++i) data.push_back(static_cast<char>('a' + rng_.below(26)));
    cluster_.submit(*id, std::move(data));
  }

  void fault_tick(int t) {
    Trace& trace = cluster_.trace();
    for (NodeId id = 1; id <= config_.replicas; ++id) {
      if (!cluster_.up(id) && down_until_[id] <= t) cluster_.restart(id);
    }
    Network& net = cluster_.network();
    if (net.partitioned() && t >= heal_at_) {
      net.heal();
      trace.mix(0x4ea1);
      trace.line("network HEALED");
    } else if (!net.partitioned() && rng_.chance(profile_.partition_rate)) {
      int groups = config_.replicas > 3 ? 3 : 2;
      std::string text;
      for (NodeId id = 1; id <= config_.replicas; ++id) {
        int g = static_cast<int>(rng_.below(groups));
        net.set_group(id, g);
        text += fmt::format(" {}:{}", id, g);
      }
      heal_at_ = t + rng_.range(5, 60);
      trace.mix(0x9a47);
      trace.line("network PARTITION groups{} until tick {}", text, heal_at_);
    }
    if (rng_.chance(profile_.isolate_leader_rate)) {
      if (auto leader = cluster_.leader()) {
        net.set_group(*leader, 99);
        heal_at_ = std::max(heal_at_, t + rng_.range(5, 60));
        trace.mix(0x150 + *leader);
        trace.line("network ISOLATE leader {} until tick {}", *leader, heal_at_);
      }
    }
    if (rng_.chance(profile_.oneway_rate)) {
      NodeId a = random_node();
      NodeId b = random_node();
      if (a != b) {
        net.cut(a, b);
        heal_at_ = std::max(heal_at_, t + rng_.range(5, 60));
        trace.mix(0x1c0 + a * 16 + b);
        trace.line("network CUT {}->{} until tick {}", a, b, heal_at_);
      }
    }
    if (rng_.chance(profile_.crash_rate) &&
        config_.replicas - cluster_.up_count() < profile_.max_down) {
      std::optional<NodeId> victim;
      if (rng_.chance(profile_.crash_leader_bias)) victim = cluster_.leader();
      if (!victim) victim = random_up_node();
      if (victim) {
        cluster_.crash(*victim);
        down_until_[*victim] = t + rng_.range(1, profile_.max_down_ticks);
      }
    }

    double per_step = profile_.submit_rate / cluster_.steps_per_tick();
    for (int s = 0; s < cluster_.steps_per_tick(); ++s) {
      while (rng_.chance(per_step / (1 + per_step))) submit_random();
      cluster_.step();
    }
    for (NodeId id = 1; id <= config_.replicas; ++id) {
      if (cluster_.up(id) && !rng_.chance(profile_.tick_skip)) cluster_.tick(id);
    }
  }

  void heal(RunResult& result) {
    Trace& trace = cluster_.trace();
    trace.mix(0x4ea1a11);
    trace.line("=== HEAL: network reliable, every replica running ===");
    cluster_.network().heal();
    // Links are FIFO from here on, as the node's TCP connections are.
    cluster_.network().set_faults(NetworkFaults{.delay_min = 1, .delay_max = 2, .reorder = false});
    cluster_.stop_ready_crashes();
    for (NodeId id = 1; id <= config_.replicas; ++id) cluster_.restart(id);
    for (NodeId id = 1; id <= config_.replicas; ++id) {
      cluster_.submit(id, fmt::format("{}:heal:{}", config_.seed, id));
    }
    // From here on no replica crashes, so everything submitted in a replica's current
    // incarnation must commit.
    std::vector<paxos::ProposalId> required;
    for (const auto& [id, sub] : cluster_.checker().submissions()) {
      if (sub.incarnation == cluster_.replica(sub.node).incarnation()) required.push_back(id);
    }
    std::string why;
    for (int h = 1; h <= config_.heal_ticks; ++h) {
      cluster_.run_ticks(1);
      why = unconverged(required);
      if (why.empty()) {
        result.heal_ticks_used = h;
        check_final_logs();
        return;
      }
    }
    throw SimFailure(fmt::format("liveness: not converged {} ticks after healing: {}",
                                 config_.heal_ticks, why));
  }

  // Empty when converged; otherwise the first unmet condition.
  std::string unconverged(const std::vector<paxos::ProposalId>& required) const {
    auto leader = cluster_.leader();
    if (!leader) return "no leader";
    const paxos::Replica& l = cluster_.replica(*leader);
    for (NodeId id = 1; id <= config_.replicas; ++id) {
      const paxos::Replica& r = cluster_.replica(id);
      if (r.view() != l.view() || r.leader() != *leader) {
        return fmt::format("node {} is {} in view {} following {}, leader {} is in view {}", id,
                           paxos::to_string(r.role()), r.view(), r.leader(), *leader, l.view());
      }
      if (r.commit_index() != l.last_index() || r.last_index() != l.last_index()) {
        return fmt::format("node {} has commit {} last {}, leader {} has last {}", id,
                           r.commit_index(), r.last_index(), *leader, l.last_index());
      }
      if (r.pending_proposals() != 0) {
        return fmt::format("node {} still has {} pending proposals", id, r.pending_proposals());
      }
    }
    for (const paxos::ProposalId& id : required) {
      if (!cluster_.checker().committed(id)) {
        return fmt::format("proposal {}/{}/{} submitted to a replica that never crashed "
                           "afterwards did not commit", id.origin, id.incarnation, id.seq);
      }
    }
    return {};
  }

  void check_final_logs() const {
    const Checker& checker = cluster_.checker();
    for (NodeId id = 1; id <= config_.replicas; ++id) {
      const paxos::Replica& r = cluster_.replica(id);
      if (r.commit_index() < checker.committed_max()) {
        throw SimFailure(fmt::format("durability: node {} ends with commit {} below the committed "
                                     "{}", id, r.commit_index(), checker.committed_max()));
      }
      for (paxos::Index i = 1; i <= checker.committed_max(); ++i) {
        paxos::EntryPtr e = r.entry(i);
        if (!e || !same_value(*e, *checker.chosen(i))) {
          throw SimFailure(fmt::format("durability: node {} ends without committed index {}", id, i));
        }
      }
    }
  }

  const RunConfig& config_;
  const Profile& profile_;
  Rng rng_;
  std::vector<int> down_until_;  // by node id: restart at this tick
  int heal_at_ = 0;
  uint64_t submitted_ = 0;
  Cluster cluster_;
};

}  // namespace

RunResult run_simulation(const RunConfig& config) {
  RunResult result;
  Trace trace(config.trace);
  Rng profile_rng(mix_seed(config.seed, 200));
  Profile profile = pick_profile(profile_rng, config.replicas);
  result.profile = describe(profile);
  trace.line("seed {} replicas {} profile: {}", config.seed, config.replicas, result.profile);
  std::optional<Scenario> scenario;
  try {
    scenario.emplace(config, trace, profile);
    scenario->run(result);
  } catch (const SimFailure& failure) {
    result.ok = false;
    result.failure = failure.what();
    trace.line("FAILURE: {}", result.failure);
  }
  if (scenario) {
    const Cluster& c = scenario->cluster();
    result.committed_entries = c.checker().committed_max();
    result.submitted = c.stats().submits;
    result.committed_proposals = 0;
    for (const auto& [id, sub] : c.checker().submissions()) result.committed_proposals += c.checker().committed(id);
    result.committed_copies = c.checker().committed_copies();
    result.crashes = c.stats().crashes;
    result.messages = c.stats().sent;
    result.leader_views = c.checker().views_with_leader();
  }
  result.hash = trace.hash();
  return result;
}

}  // namespace lockstep::sim
