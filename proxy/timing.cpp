#include "proxy/timing.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace lockstep::proxy {

void Stage::add(Clock::time_point from, Clock::time_point to) {
  if (from.time_since_epoch().count() == 0 || to < from) return;  // stage never started
  auto ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count());
  ++count;
  total_ns += ns;
  max_ns = std::max(max_ns, ns);
}

namespace {
nlohmann::json stage_json(const Stage& s) {
  return {{"count", s.count},
          {"mean", s.count ? static_cast<double>(s.total_ns) / 1000.0 / static_cast<double>(s.count) : 0.0},
          {"max", static_cast<double>(s.max_ns) / 1000.0}};
}
}  // namespace

void Timings::to_json(nlohmann::json& j) const {
  j = {{"accept_to_data", stage_json(accept_to_data)},   {"commit", stage_json(commit)},
       {"connect_to_server", stage_json(connect_to_server)}, {"data_to_reply", stage_json(data_to_reply)},
       {"reply_to_eof", stage_json(reply_to_eof)},       {"accept_to_eof", stage_json(accept_to_eof)},
       {"eof_to_close", stage_json(eof_to_close)}};
}

}  // namespace lockstep::proxy
