// A blocking client of one node: submit bytes, wait for the commit. For tests, readiness probes
// and tools; benchmarks use the asynchronous target in eval/paxos/ instead.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "paxos/core/types.h"
#include "paxos/wire/client_messages.h"
#include "paxos/wire/frame.h"

namespace lockstep::node {

class SyncClient {
 public:
  // Connects and sends Hello; throws std::runtime_error (one line) on failure.
  SyncClient(const std::string& host, uint16_t port, const std::string& cluster, const std::string& key,
             std::chrono::milliseconds timeout);
  ~SyncClient();
  SyncClient(const SyncClient&) = delete;
  SyncClient& operator=(const SyncClient&) = delete;

  struct Outcome {
    wire::SubmitStatus status;
    paxos::Index index;
  };
  // Submits and waits up to the timeout; nullopt on timeout or a closed connection.
  std::optional<Outcome> submit(std::string_view data);
  // The node's status JSON (see Node::status_json); nullopt on timeout.
  std::optional<std::string> status();

 private:
  bool read_frame(wire::FrameKind& kind, std::string& payload);

  int fd_ = -1;
  wire::FrameCodec codec_;
  std::chrono::milliseconds timeout_;
  uint64_t next_request_ = 1;
  std::string inbuf_;
  wire::RejectCounters rejects_;
};

}  // namespace lockstep::node
