// The closed-loop load options every `lockstep bench` target shares, so the benchmarks that are
// meant to be compared side by side take the same flags with the same defaults.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <string>

#include "eval/loadgen/driver.h"

namespace lockstep::cli {

struct LoadArgs {
  std::uint32_t clients = 64;
  std::size_t size = 64;
  double seconds = 10;
  double warmup = 2;
  unsigned threads = 1;
  std::string endpoints = "all";  // all | leader
  bool json = false;

  eval::LoadOptions options(int stop_fd) const {
    eval::LoadOptions lo;
    lo.clients = clients;
    lo.payload_size = size;
    lo.duration = std::chrono::duration<double>(seconds);
    lo.warmup = std::chrono::duration<double>(warmup);
    lo.threads = threads;
    lo.stop_fd = stop_fd;
    return lo;
  }
};

// `servers` names what the clients talk to ("member", "node") in the help texts.
inline void add_load_args(CLI::App& cmd, LoadArgs& a, const std::string& servers) {
  cmd.add_option("--clients", a.clients, "Concurrent clients, one outstanding operation each")
      ->capture_default_str()->check(CLI::Range(1, 100000));
  cmd.add_option("--size", a.size, "Payload bytes per operation")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd.add_option("--seconds", a.seconds, "Measured seconds")->capture_default_str()->check(CLI::Range(0.1, 86400.0));
  cmd.add_option("--warmup", a.warmup, "Warm-up seconds, not measured")->capture_default_str()->check(CLI::Range(0.0, 3600.0));
  cmd.add_option("--threads", a.threads, "Load generator threads (one libevent loop each)")
      ->capture_default_str()->check(CLI::Range(1, 64));
  cmd.add_option("--endpoints", a.endpoints,
                 "all: spread clients over every " + servers + " (followers forward to the leader); "
                 "leader: send everything to the leader")
      ->capture_default_str()->check(CLI::IsMember({"all", "leader"}));
  cmd.add_flag("--json", a.json, "Also print one JSON object as the last line");
}

}  // namespace lockstep::cli
