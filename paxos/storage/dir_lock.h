// An exclusive flock() on a file in the store's directory, held for the LogStore's lifetime.
// BDB's DB_PRIVATE environment keeps its regions in process memory, so two processes opening
// the same directory would corrupt it silently; the lock turns that into a clear error. The
// kernel drops the lock when the process dies, even by kill -9.
#pragma once

#include <filesystem>

namespace lockstep::paxos::storage {

class DirLock {
 public:
  // Throws StorageError if the directory is locked by another open store.
  explicit DirLock(const std::filesystem::path& directory);
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  ~DirLock();

 private:
  int fd_ = -1;
};

}  // namespace lockstep::paxos::storage
