#include "eval/paxos/lockstep_target.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <fmt/format.h>

#include "paxos/node/stream.h"
#include "paxos/wire/message_codec.h"

namespace lockstep::eval {

// One client's connection. The request is sent with one send() from start() and the reply read
// with one read() per readiness event (node::Stream without a flush list): the load generator
// shares the two cores with the nodes, so what it spends per operation is taken from them.
struct LockstepTarget::Connection final : node::Stream::Handler {
  LockstepTarget* target = nullptr;
  ClientId client = 0;
  uint16_t port = 0;
  std::unique_ptr<node::Stream> stream;
  std::unique_ptr<node::Stream> retired;  // closed from its own callback; freed at reconnect
  bool busy = false;
  uint64_t request = 0;
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

  void fail(std::string_view why) {
    if (stream) {
      stream->close();
      retired = std::move(stream);
    }
    if (busy) {
      busy = false;
      target->ctx_.completions->failed(client, why);
    }
  }

  void on_closed(node::Stream&, std::string_view why) override {
    fail(fmt::format("connection to port {} closed: {}", port, why));
  }

  void on_input(node::Stream& s) override {
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
      if (!result || !busy || result->request_id != request) continue;
      busy = false;
      // May start the next operation at once, appending to this stream's output.
      if (result->status == wire::SubmitStatus::Ok) {
        target->ctx_.completions->succeeded(client);
      } else {
        target->ctx_.completions->failed(client, fmt::format("status {}", static_cast<int>(result->status)));
      }
      if (!s.is_open()) return;
    }
  }
};

LockstepTarget::LockstepTarget(std::vector<uint16_t> ports, std::string cluster, std::string key)
    : ports_(std::move(ports)), cluster_(std::move(cluster)), codec_(key, 64u << 20) {}

LockstepTarget::~LockstepTarget() = default;

void LockstepTarget::open(const TargetContext& context) {
  ctx_ = context;
  for (uint32_t i = 0; i < context.clients; ++i) {
    auto c = std::make_unique<Connection>();
    c->target = this;
    c->client = context.first_client + i;
    c->port = ports_[c->client % ports_.size()];
    c->connect();
    conns_.push_back(std::move(c));
  }
}

void LockstepTarget::start(ClientId client, std::uint64_t, std::string_view payload) {
  Connection& c = *conns_[client - ctx_.first_client];
  c.busy = true;
  if (!c.stream) c.connect();
  if (!c.stream) return;  // fail() has reported the operation
  c.request++;
  wire::append_frame(codec_, wire::Submit{.request_id = c.request, .data = payload}, c.stream->output());
  c.stream->queue_output();
}

}  // namespace lockstep::eval
