#include "paxos/storage/space_guard.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "paxos/storage/log_store.h"

namespace lockstep::paxos::storage {

SpaceGuard::SpaceGuard(std::string directory, const std::filesystem::path& db_file,
                       size_t headroom, size_t min_free)
    : dir_(std::move(directory)), path_(db_file.string()), headroom_(headroom),
      min_free_(min_free) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd_ < 0)
    throw StorageError(fmt::format("storage {}: cannot open {}: {}", dir_, path_, std::strerror(errno)));
}

SpaceGuard::~SpaceGuard() {
  if (fd_ >= 0) ::close(fd_);
}

void SpaceGuard::ensure() {
  struct stat st;
  if (::fstat(fd_, &st) != 0)
    throw StorageError(fmt::format("storage {}: cannot stat {}: {}", dir_, path_, std::strerror(errno)));
  if (can_reserve_) {
    int rc = ::fallocate(fd_, FALLOC_FL_KEEP_SIZE, st.st_size, static_cast<off_t>(headroom_));
    if (rc != 0 && (errno == EOPNOTSUPP || errno == ENOSYS)) {
      can_reserve_ = false;
    } else if (rc != 0) {
      throw StorageError(fmt::format("storage {}: cannot reserve {} KiB for {}: {}", dir_,
                                     headroom_ >> 10, path_, std::strerror(errno)));
    }
  }
  struct statvfs fs;
  if (::fstatvfs(fd_, &fs) != 0)
    throw StorageError(fmt::format("storage {}: cannot statvfs {}: {}", dir_, path_, std::strerror(errno)));
  size_t free_bytes = static_cast<size_t>(fs.f_bavail) * fs.f_frsize;
  if (free_bytes < min_free_)
    throw StorageError(fmt::format("storage {}: {} ({} KiB free, {} KiB kept for BDB's log)",
                                   dir_, std::strerror(ENOSPC), free_bytes >> 10,
                                   min_free_ >> 10));
}

}  // namespace lockstep::paxos::storage
