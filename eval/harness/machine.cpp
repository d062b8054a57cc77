#include "eval/harness/machine.h"

#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <sstream>

namespace lockstep::eval::harness {
namespace {

// The value after "KEY<spaces>:" on the first line of FILE starting with KEY.
std::string field(const char* file, const std::string& key) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) != 0) continue;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "" : line.substr(start);
  }
  return "";
}

}  // namespace

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  if (!(in >> a >> b >> c)) return "?";
  return a + " " + b + " " + c;
}

MachineInfo read_machine_info() {
  MachineInfo m;
  m.cpu = field("/proc/cpuinfo", "model name");
  if (m.cpu.empty()) m.cpu = "?";
  m.cores = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  std::istringstream mem(field("/proc/meminfo", "MemTotal"));
  double kib = 0;
  m.memory = (mem >> kib) ? fmt::format("{:.1f} GiB", kib / (1024 * 1024)) : "?";
  utsname u{};
  m.kernel = uname(&u) == 0 ? std::string(u.sysname) + " " + u.release : "?";
  m.load = load_average();
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char date[40];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", &tm);
  m.date = date;
  return m;
}

std::vector<std::pair<std::string, std::string>> machine_settings(const MachineInfo& m) {
  return {{"date", m.date},
          {"CPU", m.cpu},
          {"cores", std::to_string(m.cores)},
          {"memory", m.memory},
          {"kernel", m.kernel},
          {"load average at start (1/5/15 min)", m.load}};
}

}  // namespace lockstep::eval::harness
