#include "eval/etcd/simple_http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "eval/etcd/http_response.h"

namespace lockstep::eval {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// Waits for EVENTS on FD until DEADLINE; false on timeout.
bool wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    const int rc = poll(&p, 1, static_cast<int>(left.count()));
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return false;
  }
}

}  // namespace

std::optional<HttpReply> http_call(std::uint16_t port, const std::string& method,
                                   const std::string& path, const std::string& body,
                                   std::chrono::milliseconds timeout, std::string* why) {
  auto failed = [&](std::string reason) -> std::optional<HttpReply> {
    if (why) *why = fmt::format("{} 127.0.0.1:{}{}: {}", method, port, path, reason);
    return std::nullopt;
  };
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Fd s{socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
  if (s.fd < 0) return failed(std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    return failed(std::strerror(errno));
  }
  if (!wait_for(s.fd, POLLOUT, deadline)) return failed("connect timed out");
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return failed(std::strerror(err));

  std::string request = fmt::format("{} {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n",
                                    method, path, port);
  if (!body.empty()) {
    request += fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n", body.size());
  }
  request += "\r\n";
  request += body;
  for (std::size_t sent = 0; sent < request.size();) {
    if (!wait_for(s.fd, POLLOUT, deadline)) return failed("send timed out");
    const ssize_t n = send(s.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return failed(std::strerror(errno));
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  HttpResponseParser parser;
  char buf[4096];
  while (parser.state() == HttpResponseParser::State::incomplete) {
    if (!wait_for(s.fd, POLLIN, deadline)) return failed("reply timed out");
    const ssize_t n = recv(s.fd, buf, sizeof buf, 0);
    if (n == 0) return failed("connection closed before a complete reply");
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return failed(std::strerror(errno));
    }
    parser.feed(std::string_view(buf, static_cast<std::size_t>(n)));
  }
  if (parser.state() == HttpResponseParser::State::error) return failed(parser.error());
  return HttpReply{parser.status(), parser.body()};
}

}  // namespace lockstep::eval
