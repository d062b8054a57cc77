// The proxy inside a node process: turns client connections on the node's proxy port into
// log events, and applies the committed events of every connection to the local server.
//
// Origin side (this replica accepted the client): the client's CONNECT, DATA, SHUTDOWN and
// CLOSE are batched per loop iteration into one proposal (Node::propose); a CONNECT waits
// briefly for the client's first bytes and digests for the next proposal (README "Batching").
// Nothing is written to the server before it is committed: the origin applies its own events
// from the log like every other replica, and forwards its server's reply bytes to the client.
// Apply side (every replica, in log order): CONNECT opens a TCP connection to the local server,
// DATA writes, SHUTDOWN half-closes, CLOSE closes (after the queued bytes, then waits briefly for
// the server's last bytes so the final digest covers them). Reply bytes are hashed (xxh3) on
// every replica; DIGEST events carry the hashes through the log and a mismatch is a divergence.
// ORIGIN_DOWN closes the connections of a failed origin everywhere at one log position.
//
// Everything runs on the node's libevent loop; no threads, no locks.
#pragma once

#include <xxh3.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "paxos/node/libevent_handles.h"
#include "paxos/node/node.h"
#include "proxy/digest_book.h"
#include "proxy/events.h"
#include "proxy/timing.h"

namespace lockstep::proxy {

struct ProxyOptions {
  std::string app;                              // informational: shown in the status JSON
  size_t conn_inflight_limit = 4u << 20;        // per client: proposed, not yet written to the server
  size_t global_inflight_limit = 64u << 20;     // all clients together
  size_t client_output_limit = 4u << 20;        // reply bytes queued for a client before pausing the server
  size_t read_chunk = 1u << 20;                 // most bytes taken from one socket per loop iteration
  size_t max_batch_bytes = 1u << 20;            // a proposal is cut when it grows past this
  uint64_t digest_interval = 4u << 20;          // a DIGEST every this many reply bytes
  std::chrono::milliseconds linger{5000};       // after CLOSE, how long to wait for the server's EOF
  std::chrono::milliseconds down_after{0};      // peer silent this long => ORIGIN_DOWN (0: 3x election max)
  std::chrono::milliseconds timer{50};          // housekeeping period
  // Events nobody is waiting for may wait for the next proposal instead of making their own
  // (see README "Batching"): a CONNECT waits up to connect_hold for the client's first bytes,
  // a DIGEST up to digest_hold. Any other event sends everything pending at the end of the loop
  // iteration. Zero: never hold.
  std::chrono::microseconds connect_hold{5000};
  std::chrono::microseconds digest_hold{20000};
  // A CLOSE after a complete exchange (the client closed after its whole reply) may wait this
  // long, so the server sees the close a little later in exchange for one commit round less.
  std::chrono::microseconds close_hold{5000};
};

struct ProxyCounters {
  uint64_t accepted = 0;            // client connections accepted here
  uint64_t batches_proposed = 0;
  uint64_t bytes_proposed = 0;
  uint64_t batches_applied = 0;
  uint64_t batches_rejected = 0;    // committed proxy batches that failed to decode
  uint64_t batches_held = 0;        // applied later because an earlier batch of the origin was missing
  uint64_t foreign_proposals = 0;   // committed proposals that are not proxy batches
  uint64_t events_applied = 0;
  uint64_t events_ignored = 0;      // for unknown / already closed connections
  uint64_t server_connect_failures = 0;
  uint64_t origin_down_proposed = 0;
  uint64_t origin_down_applied = 0;
  uint64_t digests_proposed = 0;
  uint64_t divergences = 0;
  uint64_t replay_skipped = 0;      // CONNECTs at or below the restart point, not re-applied
  uint64_t holds_expired = 0;       // proposals made because a held event's time was up
};

class Proxy {
 public:
  // Listens on the node's proxy_port and hooks into node's apply and status. Throws
  // std::runtime_error (one line) if the port cannot be bound.
  Proxy(node::Node& node, ProxyOptions options);
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  const ProxyCounters& counters() const { return counters_; }

 private:
  struct Client;
  struct ServerConn;
  struct XxhFree {
    void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
  };
  using HashState = std::unique_ptr<XXH3_state_t, XxhFree>;
  struct EvbufferFree {
    void operator()(evbuffer* b) const { evbuffer_free(b); }
  };
  using EvbufferPtr = std::unique_ptr<evbuffer, EvbufferFree>;

  // One client connection accepted here (origin side).
  struct Client {
    Proxy* owner = nullptr;
    ConnId id;
    node::BuffereventPtr bev;   // writes to the client (its input buffer is libevent's alone)
    EvbufferPtr input;          // read from the client, not yet in a batch
    size_t inflight = 0;        // DATA bytes proposed and not yet applied
    bool queued = false;        // in ops_ for its input already
    bool read_eof = false;      // client half-closed; SHUTDOWN proposed
    bool reading = true;
    bool server_eof = false;    // the server closed its side: pass it on once output is flushed
    bool write_shut = false;
    bool gone = false;          // error / done: CLOSE proposed, freed at the next flush
    bool data_seen = false;     // its first bytes went into a batch (timing)
    Clock::time_point accepted_at, server_eof_at;
    // Reading is our own event (one read() per wake-up, no FIONREAD); the bufferevent only
    // writes. Declared after bev so it goes first.
    node::EventPtr read_event;
  };
  // One connection to the local server (every replica), driven by committed events.
  struct ServerConn {
    Proxy* owner = nullptr;
    ConnId id;
    node::BuffereventPtr bev;
    HashState hash;
    uint64_t reply_bytes = 0;
    uint64_t next_digest = 0;
    bool connected = false;
    bool dead = false;          // refused / reset: further events are ignored
    bool shut_pending = false;  // SHUTDOWN applied: shut the write side once output drains
    bool write_shut = false;
    bool closing = false;       // CLOSE applied: lingering for the server's EOF
    bool server_eof = false;
    bool read_paused = false;   // the origin's client has too much output queued
    // Reading is our own event, not the bufferevent's (one read() of up to 256 KiB per wake-up
    // instead of FIONREAD plus 4 KiB readv calls); declared after bev so it goes first.
    node::EventPtr read_event;
    // Writability, watched only while the handshake is not known to be complete and something
    // waits for it (watch_connect); declared after bev for the same reason.
    node::EventPtr connect_event;
    std::chrono::steady_clock::time_point linger_until;
    Clock::time_point applied_at, first_data_at, first_reply_at;
  };
  // A pending entry of the next batch, in the order things happened.
  struct Op {
    EventType type;
    ConnId conn;
    uint32_t replica = 0;
    uint64_t offset = 0, hash = 0;
    bool final = false;
  };

  // origin side (proxy_side.cpp)
  static void on_accept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* self);
  static void on_accept_error(evconnlistener*, void* self);
  static void on_client_readable(evutil_socket_t fd, short, void* self);
  void client_eof(Client& c);
  static void on_client_write(bufferevent*, void* self);
  static void on_client_event(bufferevent*, short what, void* self);
  static void on_flush(evutil_socket_t, short, void* self);
  static void on_timer(evutil_socket_t, short, void* self);
  static void on_hold(evutil_socket_t, short, void* self);
  // HOLD: how long the event may wait for the next proposal (CONNECT and DIGEST have their own).
  void queue(Op op, std::chrono::microseconds hold = {});
  void flush(bool force = false);
  void take_input(Client& c);
  void update_reading(Client& c);
  void client_gone(Client& c, bool finished = false);  // FINISHED: a complete exchange
  void maybe_finish_client(Client& c);
  void propose_batch();
  void check_down_peers();
  static void send_or_queue(bufferevent* bev, const char* p, size_t n);

  // apply side (apply_side.cpp)
  void apply(const paxos::CommittedProposal& committed);
  void apply_decoded();  // decoded_, whose views point into the proposal being applied
  void apply_event(const Event& e);
  void apply_connect(const ConnId& id);
  void apply_data(const Event& e);
  void apply_shutdown(const ConnId& id);
  void apply_close(ServerConn& s);
  void apply_digest(const Event& e);
  void apply_origin_down(const ConnId& bound);
  static void on_server_readable(evutil_socket_t fd, short, void* self);
  void server_bytes(ServerConn& s, const char* p, size_t n);
  void pause_server_reading(ServerConn& s);
  void resume_server_reading(ServerConn& s);
  static void on_server_write(bufferevent*, void* self);
  static void on_server_connect(evutil_socket_t fd, short, void* self);
  void server_connected(ServerConn& s);
  void watch_connect(ServerConn& s);
  bool server_write(ServerConn& s, const char* p, size_t n);
  void after_server_progress(ServerConn& s);
  static void on_server_event(bufferevent*, short what, void* self);
  void hash_reply(ServerConn& s, const char* p, size_t len);
  void server_eof(ServerConn& s);
  void server_failed(ServerConn& s, const char* why);
  void free_server(const ConnId& id);
  void try_shut_server(ServerConn& s);
  Client* origin_client(const ConnId& id);
  bool is_mine(const ConnId& id) const;
  void status(nlohmann::json& j) const;

  node::Node& node_;
  ProxyOptions options_;
  uint32_t self_;
  uint64_t incarnation_;
  sockaddr_storage server_addr_{};
  int server_addrlen_ = 0;
  node::ListenerPtr listener_;
  node::EventPtr flush_event_;
  node::EventPtr timer_;
  bool flush_scheduled_ = false;
  node::EventPtr hold_timer_;
  bool hold_armed_ = false;
  Clock::time_point hold_timer_at_;             // when the armed hold timer fires
  bool urgent_pending_ = false;                 // ops_ holds an event that must go out now
  Clock::time_point hold_until_ = Clock::time_point::max();  // when the held ops_ must go out

  // origin side
  uint64_t next_counter_ = 1;
  uint64_t next_seq_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Client>> clients_;  // by counter
  std::vector<Op> ops_;
  BatchWriter writer_;
  size_t inflight_total_ = 0;
  std::map<uint32_t, ConnId> down_proposed_;  // per peer: the bound last proposed

  // apply side
  paxos::Index restart_point_ = 0;  // commit index restored from disk at start (see README)
  paxos::Index applying_ = 0;       // index of the entry being applied
  std::unordered_map<ConnId, std::unique_ptr<ServerConn>, ConnIdHash> servers_;
  std::map<std::pair<uint32_t, uint64_t>, uint64_t> next_batch_;  // per origin incarnation
  std::map<std::pair<uint32_t, uint64_t>, std::map<uint64_t, std::string>> held_;
  std::map<uint32_t, ConnId> down_floor_;  // per node: connections up to here are closed for good
  DecodedBatch decoded_;
  // Every socket read lands here first (one loop, one reader at a time); also the most one
  // read() or write takes from a socket.
  static constexpr size_t kMaxSingleRead = 256 * 1024;
  std::unique_ptr<char[]> read_buffer_;
  DigestBook digests_;
  ProxyCounters counters_;
  Timings timings_;
  std::deque<std::pair<uint64_t, Clock::time_point>> proposed_at_;  // own batches not yet applied, by seq
};

}  // namespace lockstep::proxy
