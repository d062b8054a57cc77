#include "eval/harness/modes.h"

#include <algorithm>
#include <sstream>

#include "eval/harness/error.h"

namespace lockstep::eval::harness {

const std::vector<ModeInfo>& known_modes() {
  static const std::vector<ModeInfo> modes = {
      {"orig", true, ""},
      {"proxy_only", true, ""},
      {"dmt_only", true, ""},
      {"joint", false, "the proxy does not drive the DMT runtime yet (a later issue)"},
  };
  return modes;
}

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string names_of_available() {
  std::string out;
  for (const auto& m : known_modes()) {
    if (!m.available) continue;
    if (!out.empty()) out += ", ";
    out += m.name;
  }
  return out;
}

}  // namespace

std::vector<std::string> parse_modes(const std::string& list) {
  std::vector<std::string> modes;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    const std::string name = trim(item);
    if (name.empty()) throw UsageError("--modes: empty mode name in '" + list + "'");
    const auto& known = known_modes();
    const auto it = std::find_if(known.begin(), known.end(), [&](const ModeInfo& m) { return name == m.name; });
    if (it == known.end())
      throw UsageError("unknown mode '" + name + "' (available: " + names_of_available() + ")");
    if (!it->available)
      throw UsageError("mode " + name + " is not implemented yet: " + it->missing + " (available: " +
                       names_of_available() + ")");
    if (std::find(modes.begin(), modes.end(), name) != modes.end())
      throw UsageError("--modes: " + name + " given twice");
    modes.push_back(name);
  }
  if (modes.empty()) throw UsageError("--modes: no mode given (available: " + names_of_available() + ")");
  return modes;
}

void check_modes_for_app(const std::vector<std::string>& modes, const std::string& app,
                         const std::string& dmt_unsupported) {
  if (dmt_unsupported.empty()) return;
  for (const auto& m : modes)
    if (uses_dmt(m)) throw UsageError("app " + app + " cannot run under the DMT runtime (mode " + m + "): " + dmt_unsupported);
}

bool uses_dmt(const std::string& mode) { return mode == "dmt_only" || mode == "joint"; }

}  // namespace lockstep::eval::harness
