// Leveled logging to stderr. One line per message, prefixed with a monotonic timestamp and the
// component name the process set at start (e.g. "node1"), so interleaved logs of a cluster can
// be told apart.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace lockstep::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

// Process-wide settings, set once at start-up before threads exist.
void set_level(Level level);
void set_tag(std::string_view tag);
bool enabled(Level level);
void write(Level level, std::string_view message);

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::debug)) write(Level::debug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::info)) write(Level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::warn)) write(Level::warn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::error)) write(Level::error, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace lockstep::log
