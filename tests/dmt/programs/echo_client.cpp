// Load for echo_server: CONCURRENCY threads each open CONNECTIONS/CONCURRENCY connections and
// send REQUESTS lines per connection, checking every echo. Prints "failed N" and exits 1 if any
// request failed. Usage: echo_client PORT CONNECTIONS CONCURRENCY REQUESTS
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<int> failed{0}, ok{0};

bool one_connection(int port, int requests, int tag) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return false;
  }
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  bool good = true;
  for (int r = 0; r < requests && good; ++r) {
    std::string line = "request " + std::to_string(tag) + " " + std::to_string(r) + "\n";
    if (send(fd, line.data(), line.size(), 0) != static_cast<ssize_t>(line.size())) good = false;
    std::string got;
    while (good && got.size() < line.size()) {
      char buf[256];
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) good = false;
      else got.append(buf, static_cast<size_t>(n));
    }
    if (got != line) good = false;
  }
  close(fd);
  return good;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: echo_client PORT CONNECTIONS CONCURRENCY REQUESTS\n");
    return 2;
  }
  const int port = std::atoi(argv[1]), conns = std::atoi(argv[2]), conc = std::atoi(argv[3]),
            reqs = std::atoi(argv[4]);
  std::vector<std::thread> th;
  for (int c = 0; c < conc; ++c) {
    th.emplace_back([=] {
      for (int i = c; i < conns; i += conc) (one_connection(port, reqs, i) ? ok : failed)++;
    });
  }
  for (auto& t : th) t.join();
  std::printf("ok %d failed %d\n", ok.load(), failed.load());
  return failed.load() == 0 && ok.load() == conns ? 0 : 1;
}
