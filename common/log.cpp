#include "common/log.h"

#include <time.h>
#include <unistd.h>

#include <atomic>
#include <string>

namespace lockstep::log {
namespace {
// Logging configuration is the one piece of process-wide state outside the DMT runtime: it is
// written once in main() and only read afterwards.
std::atomic<int> g_level{static_cast<int>(Level::info)};
std::string g_tag;  // NOLINT: set before any thread starts

const char* level_name(Level level) {
  switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "?";
}
}  // namespace

void set_level(Level level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }
void set_tag(std::string_view tag) { g_tag = tag; }
bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view message) {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  // One write() per line keeps lines whole when several processes share a terminal.
  std::string line = fmt::format("{}.{:06} {} {}: {}\n", ts.tv_sec, ts.tv_nsec / 1000,
                                 g_tag.empty() ? "lockstep" : g_tag, level_name(level), message);
  ssize_t unused = ::write(STDERR_FILENO, line.data(), line.size());
  (void)unused;
}

}  // namespace lockstep::log
