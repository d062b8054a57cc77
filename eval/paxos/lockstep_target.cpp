#include "eval/paxos/lockstep_target.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <fmt/format.h>

#include "paxos/node/stream.h"
#include "paxos/wire/message_codec.h"

namespace lockstep::eval {

// A submission's request id names its client (high 32 bits) and the client's operation number
// (low 32 bits), so one connection can carry the operations of several clients.
namespace {
constexpr uint64_t request_id_for(ClientId client, uint32_t operation) {
  return (static_cast<uint64_t>(client) << 32) | operation;
}
}  // namespace

// One TCP connection, shared by the clients whose `connection` it is (client i of a worker uses
// connection i % connections). Requests go
// out with one send() per loop turn (answers that arrive together start their clients' next
// operations together) and replies are read with one read() per readiness event (node::Stream
// without a flush list): the load generator shares the two cores with the nodes, so what it
// spends per operation is taken from them.
struct LockstepTarget::Connection final : node::Stream::Handler {
  LockstepTarget* target = nullptr;
  uint16_t port = 0;
  std::unique_ptr<node::Stream> stream;
  std::unique_ptr<node::Stream> retired;  // closed from its own callback; freed at reconnect
  bool reading = false;                   // inside on_input: requests wait for its end
  wire::RejectCounters rejects;

  void connect() {
    retired.reset();
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    std::string error;
    stream = node::Stream::connect(target->ctx_.base, addr, *this, nullptr, error);
    if (!stream) {
      fail(fmt::format("connection to port {}: {}", port, error));
      return;
    }
    wire::append_frame(target->codec_, wire::Hello{.cluster = target->cluster_, .role = wire::Role::Client},
                       stream->output());
    stream->queue_output();
  }

  // Every operation waiting on this connection fails (each client reconnects at its next one).
  void fail(std::string_view why) {
    if (stream) {
      stream->close();
      retired = std::move(stream);
    }
    for (ClientId i = 0; i < target->clients_.size(); ++i) {
      Client& c = target->clients_[i];
      if (c.connection != this || !c.busy) continue;
      c.busy = false;
      target->ctx_.completions->failed(target->ctx_.first_client + i, why);
    }
  }

  void on_closed(node::Stream&, std::string_view why) override {
    fail(fmt::format("connection to port {} closed: {}", port, why));
  }

  void on_input(node::Stream& s) override {
    reading = true;
    read_results(s);
    reading = false;
    if (s.is_open() && s.pending_output() > 0) s.queue_output();
  }

  void read_results(node::Stream& s) {
    for (;;) {
      std::string_view in = s.input();
      if (in.empty()) return;
      wire::DecodeResult r = target->codec_.decode(in, rejects);
      if (r.need_more()) {
        s.expect(r.need);
        return;
      }
      if (r.failed()) {
        target->ctx_.completions->fatal("node sent a bad frame: " + r.error);
        s.close();
        return;
      }
      std::optional<wire::SubmitResult> result;
      if (r.kind == wire::FrameKind::SubmitResult) result = wire::decode_submit_result(r.payload);
      s.consume(r.consumed);
      if (!result) continue;
      const ClientId id = static_cast<ClientId>(result->request_id >> 32);
      if (id < target->ctx_.first_client || id - target->ctx_.first_client >= target->clients_.size()) continue;
      Client& c = target->client(id);
      if (!c.busy || result->request_id != request_id_for(id, c.operation)) continue;
      c.busy = false;
      // May start the client's next operation at once, appending to this stream's output.
      if (result->status == wire::SubmitStatus::Ok) {
        target->ctx_.completions->succeeded(id);
      } else {
        target->ctx_.completions->failed(id, fmt::format("status {}", static_cast<int>(result->status)));
      }
      if (!s.is_open()) return;
    }
  }
};

LockstepTarget::LockstepTarget(std::vector<uint16_t> ports, std::string cluster, std::string key,
                               uint32_t connections)
    : ports_(std::move(ports)), cluster_(std::move(cluster)), codec_(key, 64u << 20), connections_(connections) {}

LockstepTarget::~LockstepTarget() = default;

void LockstepTarget::open(const TargetContext& context) {
  ctx_ = context;
  clients_.assign(context.clients, Client{});
  const uint32_t n = connections_ == 0 ? context.clients : std::min(connections_, context.clients);
  for (uint32_t i = 0; i < n; ++i) {
    auto c = std::make_unique<Connection>();
    c->target = this;
    // Connection i of this worker; numbered from first_client so that workers spread over the
    // nodes as one-connection-per-client did (client c to node c % nodes).
    c->port = ports_[(context.first_client + i) % ports_.size()];
    conns_.push_back(std::move(c));
  }
  for (uint32_t i = 0; i < context.clients; ++i) clients_[i].connection = conns_[i % n].get();
  for (auto& c : conns_) c->connect();
}

void LockstepTarget::start(ClientId client, std::uint64_t, std::string_view payload) {
  Client& c = this->client(client);
  Connection& conn = *c.connection;
  c.busy = true;
  if (!conn.stream) conn.connect();
  if (!conn.stream) return;  // fail() has reported the operation
  c.operation++;
  wire::append_frame(codec_, wire::Submit{.request_id = request_id_for(client, c.operation), .data = payload},
                     conn.stream->output());
  if (!conn.reading) conn.stream->queue_output();
}

}  // namespace lockstep::eval
