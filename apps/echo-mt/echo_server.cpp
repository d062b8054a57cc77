// lockstep-echo-mt: a small multi-threaded TCP echo server, the simplest real server to replicate.
//
// A fixed pool of worker threads each block in accept() on the shared listening socket and then
// serve one connection at a time with blocking reads and writes: every byte read is written
// back, in order. When the client half-closes (read returns 0) the worker has already echoed
// everything it read, so it shuts down its write side — the client sees EOF after the last byte —
// and closes. With N workers at most N connections are served at once; others wait in the
// listen backlog until a worker is free.
//
// Usage: lockstep-echo-mt --listen HOST:PORT [--threads N]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr size_t kBufferSize = 64 * 1024;
constexpr int kBacklog = 4096;

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "lockstep-echo-mt: %s\nusage: lockstep-echo-mt --listen HOST:PORT [--threads N]\n",
               message.c_str());
  std::exit(2);
}

bool write_all(int fd, const char* data, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

void serve(int fd, std::vector<char>& buffer) {
  for (;;) {
    ssize_t n = read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // reset by the peer: nothing more to echo
    if (n == 0) {
      shutdown(fd, SHUT_WR);  // everything read has been echoed: pass the half-close on
      break;
    }
    if (!write_all(fd, buffer.data(), static_cast<size_t>(n))) break;
  }
  close(fd);
}

void worker(int listen_fd) {
  std::vector<char> buffer(kBufferSize);  // one per worker, reused for every connection
  for (;;) {
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE) continue;
      std::fprintf(stderr, "lockstep-echo-mt: accept: %s\n", std::strerror(errno));
      std::exit(1);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    serve(fd, buffer);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen;
  int threads = 8;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "--listen" || a == "--threads") && i + 1 >= argc) usage_error(a + " needs a value");
    if (a == "--listen") {
      listen = argv[++i];
    } else if (a == "--threads") {
      char* end = nullptr;
      long v = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || v < 1 || v > 4096) usage_error("--threads must be in [1, 4096]");
      threads = static_cast<int>(v);
    } else {
      usage_error("unknown argument " + a);
    }
  }
  size_t colon = listen.rfind(':');
  if (listen.empty() || colon == std::string::npos) usage_error("--listen HOST:PORT is required");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  std::string host = listen.substr(0, colon);
  char* end = nullptr;
  long port = std::strtol(listen.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || port < 1 || port > 65535) usage_error("bad port in --listen " + listen);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) usage_error("bad IPv4 address in --listen " + listen);

  signal(SIGPIPE, SIG_IGN);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, kBacklog) != 0) {
    std::fprintf(stderr, "lockstep-echo-mt: listening on %s: %s\n", listen.c_str(), std::strerror(errno));
    return 1;
  }
  std::fprintf(stderr, "lockstep-echo-mt: listening on %s with %d threads\n", listen.c_str(), threads);
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) pool.emplace_back(worker, fd);
  for (auto& t : pool) t.join();
  return 0;
}
