#include "paxos/storage/dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "paxos/storage/log_store.h"

namespace lockstep::paxos::storage {

DirLock::DirLock(const std::filesystem::path& directory) {
  auto path = directory / "LOCK";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0)
    throw StorageError(fmt::format("storage {}: cannot open lock file: {}", directory.string(),
                                   std::strerror(errno)));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      throw StorageError(
          fmt::format("storage {}: already in use by another process", directory.string()));
    throw StorageError(
        fmt::format("storage {}: cannot lock: {}", directory.string(), std::strerror(err)));
  }
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

}  // namespace lockstep::paxos::storage
