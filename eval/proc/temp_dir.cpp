#include "eval/proc/temp_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "common/log.h"

namespace lockstep::eval {

TempDir::TempDir(std::string_view prefix, const std::filesystem::path& parent) {
  const auto base = parent.empty() ? std::filesystem::temp_directory_path() : parent;
  std::string pattern = (base / (std::string(prefix) + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  if (ec) log::warn("cannot remove {}: {}", path_.string(), ec.message());
}

}  // namespace lockstep::eval
