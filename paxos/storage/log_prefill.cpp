#include "paxos/storage/log_prefill.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <system_error>
#include <vector>

namespace lockstep::paxos::storage {
namespace {

// Closes on every path out of prefill_log_file.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Paced: each 1 MiB chunk is written back before the next one (and a short pause follows), so
// the device sees a trickle the commits' fdatasyncs interleave with, not a 32 MiB burst at the
// final fdatasync. `stop` ends the work early (the caller then discards the file).
bool write_all_zeros(int fd, size_t bytes, const std::atomic<bool>* stop) {
  constexpr size_t kChunk = 1u << 20;
  auto zeros = std::make_unique<char[]>(kChunk);  // value-initialised: zeros
  size_t done = 0;
  while (done < bytes) {
    if (stop && stop->load(std::memory_order_relaxed)) return false;
    size_t n = std::min(kChunk, bytes - done);
    ssize_t w = ::pwrite(fd, zeros.get(), n, static_cast<off_t>(done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    if (::sync_file_range(fd, static_cast<off_t>(done), w,
                          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) != 0)
      return false;
    done += static_cast<size_t>(w);
    if (stop) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

void sync_directory(const std::filesystem::path& dir) {
  Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd >= 0) (void)::fsync(d.fd);
}

}  // namespace

std::filesystem::path log_file_path(const std::filesystem::path& dir, uint32_t number) {
  return dir / fmt::format("log.{:010}", number);
}

bool has_no_log_files(const std::filesystem::path& dir) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().starts_with("log.0")) return false;
  }
  return !ec;
}

void remove_prefill_leftovers(const std::filesystem::path& dir) {
  std::error_code ec;
  std::vector<std::filesystem::path> stale;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().starts_with("prefill.")) stale.push_back(it->path());
  }
  for (const auto& p : stale) std::filesystem::remove(p, ec);
}

bool prefill_log_file(const std::filesystem::path& dir, uint32_t number, size_t bytes,
                      const std::atomic<bool>* stop) {
  std::filesystem::path final_path = log_file_path(dir, number);
  std::error_code ec;
  if (std::filesystem::exists(final_path, ec) || ec) return false;
  // BDB only looks at names of the form log.NNNNNNNNNN, so it never sees the temporary.
  std::filesystem::path temp = dir / fmt::format("prefill.{:010}.tmp", number);
  bool linked = false;
  {
    Fd f{::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)};
    // link() refuses to replace an existing name: a file BDB created meanwhile wins.
    linked = f.fd >= 0 && write_all_zeros(f.fd, bytes, stop) && ::fdatasync(f.fd) == 0 &&
             ::link(temp.c_str(), final_path.c_str()) == 0;
  }
  ::unlink(temp.c_str());
  if (linked) sync_directory(dir);
  return linked;
}

LogPrefiller::LogPrefiller(std::filesystem::path dir, size_t file_bytes)
    : dir_(std::move(dir)), file_bytes_(file_bytes), thread_([this] { run(); }) {}

LogPrefiller::~LogPrefiller() {
  abort_.store(true);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void LogPrefiller::current_file(uint32_t current, uint32_t offset) {
  if (current == 0 || current == requested_for_ || offset < file_bytes_ / 4) return;
  requested_for_ = current;
  {
    std::lock_guard lock(mutex_);
    wanted_ = current + 1;
  }
  wake_.notify_one();
}

uint64_t LogPrefiller::files_written() const {
  std::lock_guard lock(mutex_);
  return written_;
}

void LogPrefiller::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return wanted_ != 0 || stopping_; });
    if (stopping_) return;
    uint32_t number = wanted_;
    wanted_ = 0;
    lock.unlock();
    bool wrote = prefill_log_file(dir_, number, file_bytes_, &abort_);
    lock.lock();
    if (wrote) ++written_;
  }
}

}  // namespace lockstep::paxos::storage
