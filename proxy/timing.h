// Where a request's time goes on this replica: per-stage durations, accumulated (count, total,
// max) and shown as means in the node's status JSON (`proxy.timing_us`). A few clock reads per
// connection (vDSO, no syscall), so it is always on.
#pragma once

#include <chrono>
#include <cstdint>

#include <nlohmann/json_fwd.hpp>

namespace lockstep::proxy {

using Clock = std::chrono::steady_clock;

struct Stage {
  uint64_t count = 0;
  uint64_t total_ns = 0;
  uint64_t max_ns = 0;
  void add(Clock::time_point from, Clock::time_point to);
};

struct Timings {
  Stage accept_to_data;      // origin: client accepted -> its first bytes taken into a batch
  Stage commit;              // origin: own batch proposed -> applied here (the commit round)
  Stage connect_to_server;   // CONNECT applied -> server connection established
  Stage data_to_reply;       // first DATA applied -> first reply byte read
  Stage reply_to_eof;        // first reply byte -> server EOF
  Stage accept_to_eof;       // origin: client accepted -> server EOF (reply complete)
  Stage eof_to_close;        // origin: server EOF -> the client's close seen
  void to_json(nlohmann::json& j) const;
};

}  // namespace lockstep::proxy
