// What a benchmark result needs to say about where it ran: CPU, cores, memory, kernel, load and
// date (the machine is shared and noisy; a number without its load average means little).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace lockstep::eval::harness {

struct MachineInfo {
  std::string cpu;      // /proc/cpuinfo "model name"
  int cores = 0;        // online CPUs
  std::string memory;   // "7.8 GiB"
  std::string kernel;   // "Linux 6.1.0-27-amd64"
  std::string load;     // /proc/loadavg: 1, 5 and 15 minute averages
  std::string date;     // UTC, "2026-11-21 12:34:56 UTC"
};

MachineInfo read_machine_info();

// The 1/5/15-minute load average now ("1.03 1.81 2.57"), "?" if unreadable.
std::string load_average();

// As settings lines: machine, cores, memory, kernel, date, load average.
std::vector<std::pair<std::string, std::string>> machine_settings(const MachineInfo& m);

}  // namespace lockstep::eval::harness
