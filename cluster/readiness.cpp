#include "cluster/readiness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fmt/format.h>
#include <thread>

#include "cluster/error.h"

namespace lockstep::cluster {
namespace {

constexpr int kProbeTimeoutMs = 1000;
constexpr auto kPollInterval = std::chrono::milliseconds(20);

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

bool wait_fd(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  int n;
  do {
    n = poll(&p, 1, timeout_ms);
  } while (n < 0 && errno == EINTR);
  return n == 1;
}

}  // namespace

std::string probe_once(const std::string& host, uint16_t port, const ReadyCheck& check) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return "bad address " + host;
  Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return fmt::format("socket: {}", std::strerror(errno));
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) return fmt::format("connect: {}", std::strerror(errno));
    if (!wait_fd(fd.get(), POLLOUT, kProbeTimeoutMs)) return "connect: timed out";
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return fmt::format("connect: {}", std::strerror(err));
  }
  if (check.http_path.empty()) return "";
  std::string request =
      fmt::format("GET {} HTTP/1.0\r\nHost: {}:{}\r\nConnection: close\r\n\r\n", check.http_path, host, port);
  if (send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
    return "sending GET failed";
  std::string reply;
  char buf[256];
  while (reply.find("\r\n") == std::string::npos) {
    if (!wait_fd(fd.get(), POLLIN, kProbeTimeoutMs)) return "GET: no reply";
    ssize_t n = recv(fd.get(), buf, sizeof buf, 0);
    if (n <= 0) return "GET: connection closed without a status line";
    reply.append(buf, static_cast<size_t>(n));
  }
  std::string status_line = reply.substr(0, reply.find("\r\n"));
  // "HTTP/1.x NNN reason"
  size_t sp = status_line.find(' ');
  if (sp == std::string::npos || status_line.size() < sp + 4) return "GET: bad status line: " + status_line;
  char klass = status_line[sp + 1];
  if (klass != '2' && klass != '3') return "GET " + check.http_path + ": " + status_line;
  return "";
}

void wait_ready(const std::string& what, const std::string& host, uint16_t port, const ReadyCheck& check,
                const std::function<bool()>& still_running) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(check.timeout_ms);
  std::string last;
  for (;;) {
    last = probe_once(host, port, check);
    if (last.empty()) return;
    if (!still_running())
      throw ClusterError(fmt::format("{} exited before becoming ready at {}:{} ({})", what, host, port, last));
    if (std::chrono::steady_clock::now() >= deadline)
      throw ClusterError(fmt::format("{} not ready at {}:{} after {} ms ({})", what, host, port,
                                     check.timeout_ms, last));
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace lockstep::cluster
