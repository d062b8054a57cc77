// The modes `lockstep eval` knows, and which of them can run today. One table, so a mode that
// becomes available (dmt_only, joint) is switched on in one place.
#pragma once

#include <string>
#include <vector>

namespace lockstep::eval::harness {

struct ModeInfo {
  const char* name;
  bool available;
  const char* missing;  // why it cannot run yet (empty when available)
};

const std::vector<ModeInfo>& known_modes();

// Parses "orig,proxy_only": trims, refuses empty lists, duplicates, unknown modes and modes that
// do not exist yet, each with one line (UsageError). Keeps the order given.
std::vector<std::string> parse_modes(const std::string& list);

// True for the modes whose server runs under the DMT runtime (dmt_only, joint).
bool uses_dmt(const std::string& mode);

// UsageError("app APP cannot run under the DMT runtime (mode M): REASON") if one of MODES uses the
// DMT runtime and the app's app.cfg declares dmt_unsupported = REASON (AppDef::dmt_unsupported);
// call it after parse_modes so such an app is refused before any mode runs.
void check_modes_for_app(const std::vector<std::string>& modes, const std::string& app,
                         const std::string& dmt_unsupported);

}  // namespace lockstep::eval::harness
