// Runs a shell command (stderr folded into stdout) and returns its exit status, its output, and
// its last non-empty line parsed as JSON (discarded if it is not JSON): what the `lockstep bench`
// tests check.
#pragma once

#include <array>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace lockstep::test {

struct CommandOutput {
  int status = -1;
  std::string text;
  nlohmann::json last_json;
};

inline CommandOutput run_for_json(const std::string& command) {
  CommandOutput out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen((command + " 2>&1").c_str(), "r"), pclose);
  if (!pipe) return out;
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), buf.size(), pipe.get())) out.text += buf.data();
  out.status = pclose(pipe.release());
  std::string last;
  std::istringstream lines(out.text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) last = line;
  }
  out.last_json = nlohmann::json::parse(last, nullptr, false);
  return out;
}

}  // namespace lockstep::test
