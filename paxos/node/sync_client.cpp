#include "paxos/node/sync_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "paxos/wire/message_codec.h"

namespace lockstep::node {
namespace {
using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}
}  // namespace

SyncClient::SyncClient(const std::string& host, uint16_t port, const std::string& cluster,
                       const std::string& key, std::chrono::milliseconds timeout)
    : codec_(key, 64u << 20), timeout_(timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(fmt::format("socket: {}", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    ::close(fd_);
    throw std::runtime_error(fmt::format("bad address '{}'", host));
  }
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    int err = errno;
    ::close(fd_);
    throw std::runtime_error(fmt::format("connect {}:{}: {}", host, port, std::strerror(err)));
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::string out;
  wire::append_frame(codec_, wire::Hello{.cluster = cluster, .role = wire::Role::Client}, out);
  if (::send(fd_, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) {
    ::close(fd_);
    throw std::runtime_error(fmt::format("send to {}:{} failed", host, port));
  }
}

SyncClient::~SyncClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool SyncClient::read_frame(wire::FrameKind& kind, std::string& payload) {
  auto deadline = Clock::now() + timeout_;
  for (;;) {
    wire::DecodeResult r = codec_.decode(inbuf_, rejects_);
    if (r.frame()) {
      kind = r.kind;
      payload.assign(r.payload);
      inbuf_.erase(0, r.consumed);
      return true;
    }
    if (r.failed()) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) return false;
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    inbuf_.append(buf, static_cast<size_t>(n));
  }
}

std::optional<std::string> SyncClient::status() {
  std::string out;
  codec_.encode(wire::FrameKind::StatusRequest, {}, out);
  if (::send(fd_, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) return std::nullopt;
  wire::FrameKind kind{};
  std::string payload;
  while (read_frame(kind, payload)) {
    if (kind == wire::FrameKind::Status) return payload;
  }
  return std::nullopt;
}

std::optional<SyncClient::Outcome> SyncClient::submit(std::string_view data) {
  uint64_t request = next_request_++;
  std::string out;
  wire::append_frame(codec_, wire::Submit{.request_id = request, .data = data}, out);
  size_t sent = 0;
  while (sent < out.size()) {
    ssize_t n = ::send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return std::nullopt;
    sent += static_cast<size_t>(n);
  }
  wire::FrameKind kind{};
  std::string payload;
  while (read_frame(kind, payload)) {
    if (kind != wire::FrameKind::SubmitResult) return std::nullopt;
    auto result = wire::decode_submit_result(payload);
    if (!result) return std::nullopt;
    if (result->request_id != request) continue;  // answer to an earlier, timed-out request
    return Outcome{result->status, result->index};
  }
  return std::nullopt;
}

}  // namespace lockstep::node
