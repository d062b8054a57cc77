// The interface between the closed-loop driver and a system under test. A Target turns "client C
// sends this payload" into requests on its own connections and reports each operation's outcome
// back through Completions. etcd (HTTP/JSON) and lockstep (framed TCP) are both Targets, so every
// benchmark shares one driver, one histogram and one output format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

struct event_base;

namespace lockstep::eval {

// Global client number, 0 .. clients-1 across all driver threads.
using ClientId = std::uint32_t;

// Implemented by the driver. Called by a Target on the driver's loop thread, exactly once per
// started operation (succeeded or failed), possibly from inside Target::start itself.
class Completions {
 public:
  virtual void succeeded(ClientId client) = 0;
  // The operation failed; it is counted as an error and the client retries after a short pause.
  virtual void failed(ClientId client, std::string_view why) = 0;
  // The target cannot continue at all (e.g. no endpoint reachable): the run ends with WHY.
  virtual void fatal(std::string_view why) = 0;

 protected:
  ~Completions() = default;
};

// What one Target instance is given; it serves clients [first_client, first_client + clients).
struct TargetContext {
  event_base* base = nullptr;  // the loop every callback of this target must run on
  ClientId first_client = 0;
  std::uint32_t clients = 0;
  std::size_t payload_size = 0;
  Completions* completions = nullptr;
};

class Target {
 public:
  virtual ~Target() = default;  // must free every libevent object; runs before the loop is freed

  // Prepares connections for the context's clients (non-blocking connects are fine: the first
  // operation may queue behind them). Throwing ends the run with the exception's message.
  virtual void open(const TargetContext& context) = 0;

  // Starts one operation for CLIENT. The driver keeps at most one operation per client
  // outstanding, so a Target can keep one connection and one request buffer per client. SEQ
  // counts the client's operations from 0; PAYLOAD (payload_size bytes, first bytes encode
  // client and seq) is valid only during the call: copy it out.
  virtual void start(ClientId client, std::uint64_t seq, std::string_view payload) = 0;
};

// Makes the Target of driver thread WORKER (0-based); each thread has its own loop and Target.
using TargetFactory = std::function<std::unique_ptr<Target>(unsigned worker)>;

}  // namespace lockstep::eval
