// A small TCP server for the proxy tests, run on its own libevent loop in a thread of the test
// process: echo (every byte back, the half-close passed on once everything is echoed), or
// tagged echo (the same, preceded by "replica N\n", so replicas answer differently on purpose).
// It counts open connections, so a test can see connections being closed by the proxy.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <unordered_set>

struct event_base;

namespace lockstep::test {

class TestServer {
 public:
  enum class Mode { Echo, Tagged };
  TestServer(uint16_t port, Mode mode, uint32_t tag);  // throws if the port cannot be bound
  // Stops the thread and closes every connection still open.
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  int open_connections() const { return open_.load(); }
  uint64_t accepted() const { return accepted_.load(); }

  // Internal, used by the connection callbacks.
  struct Shared {
    Mode mode;
    uint32_t tag;
    std::atomic<int>* open;
    std::atomic<uint64_t>* accepted;
    std::unordered_set<void*> live;  // open connections, touched only by the server thread
  };

 private:
  void run();
  Shared shared_;
  std::atomic<int> open_{0};
  std::atomic<uint64_t> accepted_{0};
  std::atomic<bool> stop_{false};
  event_base* base_ = nullptr;
  int listen_fd_ = -1;
  std::thread thread_;
};

}  // namespace lockstep::test
