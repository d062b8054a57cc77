#include "paxos/node/node.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "paxos/node/clock.h"
#include "paxos/node/inbound_connection.h"
#include "paxos/node/peer_link.h"
#include "paxos/wire/message_codec.h"

namespace lockstep::node {
namespace {

// Plain (millisecond) libevent timers: the batching delay has a MicroTimer of its own.
event_base* new_event_base() {
  event_base* base = event_base_new();
  if (!base) throw std::runtime_error("cannot create the event loop");
  return base;
}

// The leader's Accepts (it counts itself towards a quorum only once durable) and Forwards
// (proposals held in memory, a promise of nothing) need not wait for this replica's write; every
// other message vouches for what this replica has on disk.
bool leaves_before_write(const paxos::Message& m) {
  return m.type == paxos::MessageType::Accept || m.type == paxos::MessageType::Forward;
}

int ticks(uint32_t ms, uint32_t tick_ms) { return std::max(1, static_cast<int>(ms / tick_ms)); }

paxos::LogStore open_store(const ClusterConfig& config, paxos::NodeId id) {
  paxos::StorageOptions options;
  options.directory = config.node_data_dir(id);
  options.durability = config.storage.durability;
  // Zero-filled BDB log files: a follower commit took 0.38-0.46 ms instead of 0.59-0.97 ms
  // (docs/perf/paxos.md, session 3).
  options.prefill_log_files = true;
  return paxos::LogStore::open(options);
}

}  // namespace

Node::Node(ClusterConfig config, paxos::NodeId id)
    : config_(std::move(config)),
      id_(id),
      codec_(config_.key, config_.batching.max_message_bytes + (64u << 10)),
      base_(new_event_base()),
      store_(open_store(config_, id)) {
  const NodeConfig& self = config_.node(id);  // throws for an unknown id
  const TimeoutConfig& t = config_.timeouts;
  paxos::ReplicaOptions options;
  options.id = id;
  for (const auto& n : config_.nodes) options.members.push_back(n.id);
  options.heartbeat_ticks = ticks(t.heartbeat_ms, t.tick_ms);
  options.election_ticks_min = ticks(t.election_timeout_min_ms, t.tick_ms);
  options.election_ticks_max = ticks(t.election_timeout_max_ms, t.tick_ms);
  options.proposal_retry_ticks = options.election_ticks_min;
  options.max_batch_bytes = config_.batching.max_batch_bytes;
  options.max_message_bytes = config_.batching.max_message_bytes;
  options.max_inflight_bytes = config_.batching.max_inflight_bytes;
  options.seed = wall_clock_ns() ^ (static_cast<uint64_t>(getpid()) << 20);
  paxos::RestoredState restored = store_.load();
  // Proposal ids must never repeat across restarts. The persisted incarnation guarantees that
  // only if its last bump reached the disk; with durability "none" it may not have, so never
  // start below the wall clock (in ms) either.
  restored.hard.incarnation = std::max<uint64_t>(restored.hard.incarnation, wall_clock_ns() / 1'000'000);
  log::info("restored view {} commit {} entries {}", restored.hard.view, restored.hard.commit, restored.log.size());
  replica_ = std::make_unique<paxos::Replica>(std::move(options), std::move(restored));
  writer_ = std::make_unique<StorageWriter>(store_, base_.get(), [this](uint64_t n) { on_writes_done(n); });

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(self.peer_port);
  inet_pton(AF_INET, self.host.c_str(), &addr.sin_addr);
  listener_.reset(evconnlistener_new_bind(base_.get(), &Node::on_accept, this,
                                          LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128,
                                          reinterpret_cast<sockaddr*>(&addr), sizeof addr));
  if (!listener_) {
    throw std::runtime_error(fmt::format("cannot listen on {}:{}: {}", self.host, self.peer_port,
                                         evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR())));
  }

  std::string hello;
  wire::append_frame(codec_, wire::Hello{.cluster = config_.name, .role = wire::Role::Peer, .node_id = id}, hello);
  for (const auto& n : config_.nodes) {
    if (n.id == id) continue;
    peers_[n.id] = std::make_unique<PeerLink>(base_.get(), codec_, n, hello,
                                              config_.batching.max_inflight_bytes * 2, flush_list_);
  }

  batch_timer_ = std::make_unique<MicroTimer>(base_.get(), [this] { on_batch_delay(); });
  tick_timer_.reset(event_new(base_.get(), -1, EV_PERSIST, &Node::on_tick, this));
  timeval tv{static_cast<time_t>(t.tick_ms / 1000), static_cast<suseconds_t>((t.tick_ms % 1000) * 1000)};
  event_add(tick_timer_.get(), &tv);
  sigterm_.reset(evsignal_new(base_.get(), SIGTERM, &Node::on_signal, this));
  sigint_.reset(evsignal_new(base_.get(), SIGINT, &Node::on_signal, this));
  event_add(sigterm_.get(), nullptr);
  event_add(sigint_.get(), nullptr);
  signal(SIGPIPE, SIG_IGN);
}

Node::~Node() = default;

void Node::run() {
  log::info("node {} serving on {}:{}", id_, config_.node(id_).host, config_.node(id_).peer_port);
  process_ready();  // persists the new incarnation before anything else leaves
  while (!stopping_) {
    event_base_loop(base_.get(), EVLOOP_ONCE);
    ++counters_.loop_turns;
    closing_.clear();
    if (!stopping_) process_ready();
    flush_list_.flush();
  }
  log::info("node {} stopping", id_);
  if (storage_failed_) throw paxos::StorageError(writer_->error().value_or("storage failed"));
}

void Node::stop() {
  stopping_ = true;
  event_base_loopbreak(base_.get());
}

void Node::on_signal(evutil_socket_t, short, void* self) { static_cast<Node*>(self)->stop(); }

void Node::on_tick(evutil_socket_t, short, void* self) { static_cast<Node*>(self)->replica_->tick(); }

// The batch is cut when no submission has arrived for batch_quiet_us (the burst that followed
// the last answers is over), or max_batch_delay_us after the first one waited, whichever comes
// first. The timer is re-armed here rather than at every arrival: one timerfd_settime per
// wake-up, none per submission.
void Node::on_batch_delay() {
  const uint32_t quiet_us = config_.batching.batch_quiet_us;
  const uint32_t limit_us = config_.batching.max_batch_delay_us;
  if (quiet_us > 0 && quiet_us < limit_us) {
    const uint64_t now = monotonic_ns();
    const uint64_t since_last_us = (now - last_arrival_ns_) / 1000;
    const uint64_t since_first_us = (now - hold_started_ns_) / 1000;
    if (since_last_us < quiet_us && since_first_us < limit_us) {
      batch_timer_->arm(static_cast<uint32_t>(std::min(quiet_us - since_last_us, limit_us - since_first_us)));
      return;
    }
  }
  batch_released_ = true;
  replica_->hold_batches(false);  // process_ready() after this callback cuts the batch
}

void Node::on_accept(evconnlistener*, evutil_socket_t fd, sockaddr* address, int, void* self) {
  auto* node = static_cast<Node*>(self);
  char text[INET_ADDRSTRLEN] = "?";
  auto* in = reinterpret_cast<sockaddr_in*>(address);
  inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
  uint64_t id = node->next_connection_id_++;
  node->connections_[id] = std::make_unique<InboundConnection>(
      *node, id, fd, fmt::format("{}:{}", text, ntohs(in->sin_port)), node->flush_list_);
}

void Node::on_connection_closed(uint64_t connection_id) {
  auto it = connections_.find(connection_id);
  if (it == connections_.end()) return;
  // Called from the connection's own callbacks: free it after they return.
  closing_.push_back(std::move(it->second));
  connections_.erase(it);
}

void Node::on_peer_message(const paxos::Message& message) {
  last_heard_[message.from] = std::chrono::steady_clock::now();
  if (message.type == paxos::MessageType::Forward) last_arrival_ns_ = monotonic_ns();
  replica_->step(message);
}

std::chrono::milliseconds Node::since_heard(paxos::NodeId peer) const {
  auto it = last_heard_.find(peer);
  auto last = it == last_heard_.end() ? started_ : it->second;
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - last);
}

paxos::ProposalId Node::propose(std::string data) {
  last_arrival_ns_ = monotonic_ns();
  return replica_->submit(std::move(data));
}

void Node::on_submit(uint64_t connection_id, uint64_t request_id, std::string_view data) {
  ++counters_.submissions;
  if (replica_->pending_proposals() >= max_pending_) {
    auto it = connections_.find(connection_id);
    if (it != connections_.end())
      it->second->send_result({.request_id = request_id, .status = wire::SubmitStatus::Overloaded});
    return;
  }
  paxos::ProposalId pid = replica_->submit(std::string(data));
  last_arrival_ns_ = monotonic_ns();
  waiters_.push_back(Waiter{.seq = pid.seq, .connection_id = connection_id, .request_id = request_id,
                            .submitted_ns = wall_clock_ns()});
}

void Node::answer(const Waiter& waiter, paxos::Index index) {
  auto it = connections_.find(waiter.connection_id);
  if (it == connections_.end()) return;  // the client left; the entry is committed regardless
  it->second->send_result({.request_id = waiter.request_id, .status = wire::SubmitStatus::Ok, .index = index});
  ++counters_.commits_acknowledged;
}

void Node::send(const paxos::Message& message) {
  auto it = peers_.find(message.to);
  if (it != peers_.end()) it->second->send(message);
}

void Node::process_ready() {
  // Bounded so that a disk much slower than the network cannot queue unbounded work.
  constexpr size_t kMaxInFlight = 256;
  // The first submission to wait for a batch arms the batch timer; on_batch_delay() decides when
  // the batch is cut (a full batch is cut at once by the core).
  uint32_t delay_us = config_.batching.max_batch_delay_us;
  if (batch_released_) {
    batch_released_ = false;  // this pass cuts what waited; the next submission starts a new clock
  } else if (delay_us > 0 && !batch_timer_->armed() && replica_->batch_waiting()) {
    const uint32_t quiet_us = config_.batching.batch_quiet_us;
    hold_started_ns_ = monotonic_ns();
    batch_timer_->arm(quiet_us > 0 ? std::min(quiet_us, delay_us) : delay_us);
    replica_->hold_batches(true);
  }
  while (replica_->has_ready() && in_flight_.size() < kMaxInFlight) {
    replica_->set_time(wall_clock_ns());
    InFlight job{replica_->take_ready()};
    paxos::Ready& ready = job.ready;
    // Accepts and Forwards leave before this replica's write completes (so the leader's disk
    // and the followers' work in parallel, and a follower's submissions do not wait for its
    // disk); every other message waits for the write.
    for (const auto& m : ready.messages) {
      if (leaves_before_write(m)) send(m);
    }
    answer_committed(ready);
    job.writes = ready.hard_state || ready.truncate_after || !ready.append.empty();
    if (job.writes) {
      counters_.entries_written += ready.append.size();
      if (replica_->role() == paxos::Role::Leader) {
        for (const auto& e : ready.append) {
          counters_.max_batch = std::max<uint64_t>(counters_.max_batch, e->proposals.size());
          counters_.leader_proposals += e->proposals.size();
        }
        counters_.leader_entries += ready.append.size();
      }
      writer_->submit(WriteJob{ready.hard_state, ready.truncate_after, ready.append});
    }
    if (in_flight_.empty() && !job.writes) {
      finish(ready);
    } else {
      in_flight_.push_back(std::move(job));
    }
  }
}

void Node::on_writes_done(uint64_t count) {
  if (count == 0) {
    // Nothing written in a failed call may be acknowledged; stopping is the only safe answer.
    log::error("storage failed, stopping: {}", writer_->error().value_or("unknown error"));
    storage_failed_ = true;
    stop();
    return;
  }
  writes_done_ += count;
  while (!in_flight_.empty()) {
    InFlight& front = in_flight_.front();
    if (front.writes) {
      if (writes_done_ == 0) break;
      --writes_done_;
    }
    finish(front.ready);
    in_flight_.pop_front();
  }
}

// Committed means durable on a majority, whatever this replica's own pending write: a client
// may learn of its commit as soon as the Ready that carries it is taken, instead of waiting
// behind the unrelated write in flight (under load there nearly always is one, so that wait
// cost every operation about half a flush).
void Node::answer_committed(const paxos::Ready& ready) {
  uint64_t now = ready.unique.empty() ? 0 : wall_clock_ns();
  for (const paxos::CommittedProposal& c : ready.unique) {
    const paxos::ProposalId& pid = c.proposal->id;
    if (pid.origin != id_ || pid.incarnation != replica_->incarnation()) continue;
    auto it = std::lower_bound(waiters_.begin(), waiters_.end(), pid.seq,
                               [](const Waiter& w, uint64_t seq) { return w.seq < seq; });
    if (it != waiters_.end() && it->seq == pid.seq && !it->answered) {
      answer(*it, c.index);
      if (c.stamp_ns >= it->submitted_ns) {
        ++counters_.answered;
        counters_.batch_wait_ns += c.stamp_ns - it->submitted_ns;
        counters_.commit_wait_ns += now > c.stamp_ns ? now - c.stamp_ns : 0;
      }
      it->answered = true;
      while (!waiters_.empty() && waiters_.front().answered) waiters_.pop_front();
    }
  }
}

void Node::finish(paxos::Ready& ready) {
  for (const auto& m : ready.messages) {
    if (!leaves_before_write(m)) send(m);
  }
  if (apply_) {
    for (const paxos::CommittedProposal& c : ready.unique) apply_(c);
  }
  replica_->advance(ready);
}

std::string Node::status_json() const {
  nlohmann::json j;
  j["id"] = id_;
  j["role"] = std::string(paxos::to_string(replica_->role()));
  j["view"] = replica_->view();
  j["leader"] = replica_->leader();
  j["commit"] = replica_->commit_index();
  j["last_index"] = replica_->last_index();
  j["pending"] = replica_->pending_proposals();
  j["frames_rejected"] = counters_.frames_rejected;
  const StorageWriter::Timing w = writer_->timing();
  j["writes"] = w.transactions;
  j["entries_written"] = counters_.entries_written;
  j["max_batch"] = counters_.max_batch;
  j["leader_entries"] = counters_.leader_entries;
  j["leader_proposals"] = counters_.leader_proposals;
  j["loop_turns"] = counters_.loop_turns;
  if (counters_.answered > 0) {
    j["answered"] = counters_.answered;
    j["batch_wait_us_mean"] = counters_.batch_wait_ns / counters_.answered / 1000.0;
    j["commit_wait_us_mean"] = counters_.commit_wait_ns / counters_.answered / 1000.0;
  }
  if (w.jobs > 0 && w.transactions > 0) {
    j["write_queue_us_mean"] = w.queued_ns / w.jobs / 1000.0;
    j["write_us_mean"] = w.write_ns / w.transactions / 1000.0;
    j["jobs_per_write"] = static_cast<double>(w.jobs) / w.transactions;
  }
  size_t clients = 0;
  for (const auto& [id, c] : connections_) clients += c->is_client();
  j["clients"] = clients;
  if (status_extra_) status_extra_(j);
  return j.dump();
}

}  // namespace lockstep::node
