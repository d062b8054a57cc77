// Keeps Berkeley DB away from a full disk. BDB does not survive ENOSPC well: measured on a full
// tmpfs, a page write that fails halfway leaves a torn page in log.db (the next open then fails
// with "checksum error ... catastrophic recovery required"). So the store makes sure the space
// exists before BDB needs it:
//   - log.db has `headroom` bytes reserved past its end (fallocate KEEP_SIZE), so extending it by
//     page writes cannot fail for lack of space;
//   - the file system keeps at least `min_free` bytes free, room for BDB's next log files.
// When either cannot be had, ensure() throws a StorageError before the write begins.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace lockstep::paxos::storage {

class SpaceGuard {
 public:
  // `directory` is only for messages.
  SpaceGuard(std::string directory, const std::filesystem::path& db_file, size_t headroom,
             size_t min_free);
  SpaceGuard(const SpaceGuard&) = delete;
  SpaceGuard& operator=(const SpaceGuard&) = delete;
  ~SpaceGuard();

  void ensure();

 private:
  std::string dir_;
  std::string path_;
  size_t headroom_;
  size_t min_free_;
  int fd_ = -1;
  bool can_reserve_ = true;  // false on file systems without fallocate
};

}  // namespace lockstep::paxos::storage
