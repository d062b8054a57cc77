// Writes Berkeley DB log files full of zeros before BDB needs them.
//
// BDB sizes a new log file (lg_max) but leaves it sparse, so every commit's fdatasync also
// allocates blocks, and on ext4 an allocation makes that fdatasync wait for a journal commit
// (a second device flush, shared with every other writer of the file system). Into blocks that
// are already written, fdatasync flushes the data and nothing else. So the first log file of a
// fresh environment is written before BDB opens it, and once BDB is a quarter into log file N,
// file N+1 is written on a thread of its own (temporary name, fdatasync, link into place; never
// over a file BDB made). BDB opens an existing log file without truncating it, and its recovery
// removes a zeroed file past the end of the log (both checked by tests/storage).
//
// Best effort: any failure (a full disk, say) leaves BDB to create the file itself, as without
// this class.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <thread>

namespace lockstep::paxos::storage {

// BDB's name for log file `number` in `dir`.
std::filesystem::path log_file_path(const std::filesystem::path& dir, uint32_t number);

// Writes log file `number` (`bytes` of zeros) unless a file of that name exists. Returns true if
// this call created it. With `stop`, the writing is paced (see the .cpp) and gives up once *stop
// is set. Never throws.
bool prefill_log_file(const std::filesystem::path& dir, uint32_t number, size_t bytes,
                      const std::atomic<bool>* stop = nullptr);

// True if `dir` holds no BDB log file (a fresh environment).
bool has_no_log_files(const std::filesystem::path& dir);

// Removes temporaries a killed process left half written. Never throws.
void remove_prefill_leftovers(const std::filesystem::path& dir);

class LogPrefiller {
 public:
  LogPrefiller(std::filesystem::path dir, size_t file_bytes);
  LogPrefiller(const LogPrefiller&) = delete;
  LogPrefiller& operator=(const LogPrefiller&) = delete;
  ~LogPrefiller();  // waits for a file being written

  // BDB writes log file `current` at `offset` now: once it is a quarter in, prepare the file
  // after it (not at once, so a node starting does not write two files). Cheap when nothing
  // changed.
  void current_file(uint32_t current, uint32_t offset);
  uint64_t files_written() const;

 private:
  void run();

  const std::filesystem::path dir_;
  const size_t file_bytes_;
  uint32_t requested_for_ = 0;  // caller's thread only
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  uint32_t wanted_ = 0;  // file number to write next, 0 if none
  bool stopping_ = false;
  uint64_t written_ = 0;
  std::atomic<bool> abort_{false};  // set by the destructor: a file being written is given up
  std::thread thread_;  // last: starts after the state above exists
};

}  // namespace lockstep::paxos::storage
