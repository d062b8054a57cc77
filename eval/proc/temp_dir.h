// A private directory removed with everything in it when the owner goes away.
#pragma once

#include <filesystem>
#include <string_view>

namespace lockstep::eval {

class TempDir {
 public:
  // Creates PARENT/PREFIX-XXXXXX (parent defaults to $TMPDIR or /tmp); throws on failure.
  explicit TempDir(std::string_view prefix, const std::filesystem::path& parent = {});
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace lockstep::eval
