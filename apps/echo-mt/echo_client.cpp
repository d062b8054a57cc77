// lockstep-echo-client: load and correctness check for any echo service (echo-mt directly, or
// through the lockstep proxy).
//
// Each connection sends a pseudo-random byte stream (reproducible from --seed and the connection
// number), reading the echo while it writes so large transfers never deadlock on full buffers,
// then half-closes and reads until EOF. It fails unless every byte comes back exactly and EOF
// arrives after the last one (i.e. the server passed the half-close on).
//
// Usage: lockstep-echo-client --target HOST:PORT [--connections C] [--bytes N | --max-bytes M]
//                             [--seed S] [--timeout-s T]
// Prints one line: echo-client: connections=C ok=K failed=F bytes=B seconds=S MB/s=X
// (MB/s counts the bytes in both directions.) Exit status 0 only when failed=0.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr size_t kChunk = 64 * 1024;

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr,
               "lockstep-echo-client: %s\nusage: lockstep-echo-client --target HOST:PORT [--connections C] "
               "[--bytes N | --max-bytes M] [--seed S] [--timeout-s T]\n",
               message.c_str());
  std::exit(2);
}

uint64_t mix(uint64_t x) {  // splitmix64 finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Byte I of connection stream KEY, computed 8 bytes at a time so any window can be regenerated.
void fill(uint64_t key, uint64_t offset, char* out, size_t len) {
  for (size_t i = 0; i < len;) {
    uint64_t pos = offset + i;
    uint64_t word = mix(key ^ (pos / 8));
    size_t in_word = pos % 8;
    size_t n = std::min<size_t>(8 - in_word, len - i);
    std::memcpy(out + i, reinterpret_cast<const char*>(&word) + in_word, n);
    i += n;
  }
}

struct Options {
  sockaddr_in addr{};
  int connections = 1;
  uint64_t bytes = 1 << 20;
  uint64_t max_bytes = 0;  // > 0: random size per connection in [0, max_bytes]
  uint64_t seed = 1;
  int timeout_s = 120;
};

// Returns "" on success, else what went wrong.
std::string run_connection(const Options& o, int index, uint64_t size) {
  uint64_t key = mix(o.seed * 1000003ULL + static_cast<uint64_t>(index));
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket: ") + std::strerror(errno);
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  if (connect(fd, reinterpret_cast<const sockaddr*>(&o.addr), sizeof o.addr) != 0)
    return std::string("connect: ") + std::strerror(errno);
  fcntl(fd, F_SETFL, O_NONBLOCK);
  std::vector<char> out(kChunk), in(kChunk), expect(kChunk);
  uint64_t sent = 0, received = 0;
  size_t out_len = 0, out_pos = 0;
  bool shut = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s);
  for (;;) {
    if (sent == size && out_pos == out_len && !shut) {
      if (shutdown(fd, SHUT_WR) != 0) return std::string("shutdown: ") + std::strerror(errno);
      shut = true;
    }
    pollfd p{fd, static_cast<short>(POLLIN | (shut ? 0 : POLLOUT)), 0};
    int left_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       deadline - std::chrono::steady_clock::now())
                                       .count());
    if (left_ms <= 0 || poll(&p, 1, left_ms) == 0)
      return "timed out after " + std::to_string(received) + " of " + std::to_string(size) + " bytes echoed";
    if (!shut && (p.revents & POLLOUT)) {
      if (out_pos == out_len) {
        out_len = static_cast<size_t>(std::min<uint64_t>(kChunk, size - sent));
        fill(key, sent, out.data(), out_len);
        out_pos = 0;
      }
      ssize_t n = send(fd, out.data() + out_pos, out_len - out_pos, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EINTR) return std::string("send: ") + std::strerror(errno);
      if (n > 0) {
        out_pos += static_cast<size_t>(n);
        sent += static_cast<uint64_t>(n);
      }
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = recv(fd, in.data(), in.size(), 0);
      if (n < 0 && errno != EAGAIN && errno != EINTR) return std::string("recv: ") + std::strerror(errno);
      if (n == 0) {
        if (received != size || !shut)
          return "EOF after " + std::to_string(received) + " of " + std::to_string(size) + " bytes";
        return "";
      }
      if (n > 0) {
        if (received + static_cast<uint64_t>(n) > sent)
          return "received more bytes than sent (" + std::to_string(received + n) + " > " + std::to_string(sent) + ")";
        fill(key, received, expect.data(), static_cast<size_t>(n));
        if (std::memcmp(expect.data(), in.data(), static_cast<size_t>(n)) != 0) {
          size_t i = 0;
          while (expect[i] == in[i]) ++i;
          return "wrong byte at offset " + std::to_string(received + i);
        }
        received += static_cast<uint64_t>(n);
      }
    }
  }
}

uint64_t parse_u64(const char* s, const std::string& what) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s, &end, 10);
  if (*s == '\0' || *end != '\0' || errno != 0) usage_error(what + " must be a number");
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string target;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage_error(a + " needs a value");
    const char* v = argv[++i];
    if (a == "--target") target = v;
    else if (a == "--connections") o.connections = static_cast<int>(std::clamp<uint64_t>(parse_u64(v, a), 1, 100000));
    else if (a == "--bytes") o.bytes = parse_u64(v, a);
    else if (a == "--max-bytes") o.max_bytes = parse_u64(v, a);
    else if (a == "--seed") o.seed = parse_u64(v, a);
    else if (a == "--timeout-s") o.timeout_s = static_cast<int>(std::clamp<uint64_t>(parse_u64(v, a), 1, 86400));
    else usage_error("unknown argument " + a);
  }
  size_t colon = target.rfind(':');
  if (colon == std::string::npos) usage_error("--target HOST:PORT is required");
  o.addr.sin_family = AF_INET;
  o.addr.sin_port = htons(static_cast<uint16_t>(parse_u64(target.c_str() + colon + 1, "port")));
  if (inet_pton(AF_INET, target.substr(0, colon).c_str(), &o.addr.sin_addr) != 1)
    usage_error("bad IPv4 address in --target " + target);
  signal(SIGPIPE, SIG_IGN);

  std::vector<uint64_t> sizes(static_cast<size_t>(o.connections), o.bytes);
  if (o.max_bytes > 0)
    for (int i = 0; i < o.connections; ++i) sizes[static_cast<size_t>(i)] = mix(o.seed ^ (0xabcdefULL + i)) % (o.max_bytes + 1);
  uint64_t total = 0;
  for (uint64_t s : sizes) total += s;

  std::atomic<int> failed{0};
  std::mutex report_mu;
  std::string first_error;
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  threads.reserve(sizes.size());
  for (int i = 0; i < o.connections; ++i) {
    threads.emplace_back([&, i] {
      std::string err = run_connection(o, i, sizes[static_cast<size_t>(i)]);
      if (err.empty()) return;
      failed.fetch_add(1);
      std::lock_guard<std::mutex> lock(report_mu);
      if (first_error.empty()) first_error = "connection " + std::to_string(i) + ": " + err;
    });
  }
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("echo-client: connections=%d ok=%d failed=%d bytes=%llu seconds=%.3f MB/s=%.2f\n", o.connections,
              o.connections - failed.load(), failed.load(), static_cast<unsigned long long>(total), seconds,
              seconds > 0 ? 2.0 * static_cast<double>(total) / seconds / 1e6 : 0.0);
  if (!first_error.empty()) std::fprintf(stderr, "lockstep-echo-client: %s\n", first_error.c_str());
  return failed.load() == 0 ? 0 : 1;
}
