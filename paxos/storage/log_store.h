// The durable replicated log: Paxos entries and the hard state in a transactional Berkeley DB
// environment in one directory. Each write() is one transaction, so one fsync covers every
// entry the node persists in an event-loop iteration (group commit).
//
// Not thread-safe: one thread calls a LogStore at a time (internally a second thread runs BDB
// checkpoints, off the commit path). One process owns a directory at a time (enforced by a lock
// file); a second open() of the same directory fails. A moved-from LogStore may only be
// destroyed or assigned to.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "common/durability.h"
#include "paxos/core/replica.h"
#include "paxos/core/types.h"

namespace lockstep::paxos {

// The durability vocabulary is shared with the config (common/durability.h).
using ::lockstep::Durability;

struct StorageOptions {
  std::filesystem::path directory;            // created if missing
  Durability durability = Durability::fsync;
  size_t cache_bytes = 32u << 20;             // BDB page cache
  uint32_t page_size = 16u << 10;             // btree page size of the entry database
  uint32_t log_buffer_bytes = 4u << 20;       // BDB in-memory log buffer; one batch should fit
  uint32_t log_file_bytes = 32u << 20;        // size of each BDB log file
  // A BDB checkpoint (flush dirty pages, let BDB delete log files no longer needed) starts on
  // the store's background thread after this much entry data; it bounds recovery time and the
  // disk used by BDB log files.
  size_t checkpoint_bytes = 16u << 20;
  // Write each BDB log file full of zeros before BDB uses it (see storage/log_prefill.h), so a
  // commit's fdatasync does not also commit the file system's journal. Costs one log file of
  // disk ahead, and writing it; only with durability fsync.
  bool prefill_log_files = false;
};

// Any failure of the storage: I/O error, full disk, corruption, misuse. what() is one line
// naming the directory. After a StorageError from write() the node must stop: nothing it
// wrote in that call may be acknowledged.
class StorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class LogStore {
 public:
  // Opens (creating if needed) the store in options.directory and runs BDB recovery, so a store
  // left behind by a killed process opens with every committed write intact.
  static LogStore open(const StorageOptions& options);

  LogStore(LogStore&&) noexcept;
  LogStore& operator=(LogStore&&) noexcept;
  ~LogStore();

  // Hard state (default if never written) and every entry, contiguous from index 1. A gap, an
  // undecodable record or an entry stored under the wrong index is a StorageError naming the
  // directory and the index.
  RestoredState load();

  // One transaction: delete entries above *truncate_after (if set), append `append` (which must
  // continue the log without a gap), then store `hard` (if set). Returns once durable per
  // options.durability. The call is atomic: after a crash or a StorageError it is found applied
  // whole or not at all. After a StorageError whether it was applied is unknown (a failed fsync
  // may still have reached the disk), so nothing of it may be acknowledged.
  void write(const std::optional<HardState>& hard, std::optional<Index> truncate_after,
             const std::vector<EntryPtr>& append);
  // Persists what the protocol core asks for in one Ready.
  void write(const Ready& ready) { write(ready.hard_state, ready.truncate_after, ready.append); }

  // Runs a BDB checkpoint now, on the calling thread (the background thread also runs them
  // every options.checkpoint_bytes).
  void checkpoint();

  Index last_index() const;
  const std::filesystem::path& directory() const;

 private:
  struct Impl;
  explicit LogStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lockstep::paxos
