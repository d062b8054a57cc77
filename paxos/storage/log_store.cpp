#include "paxos/storage/log_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <system_error>

#include "common/bytes.h"
#include "paxos/core/entry_codec.h"
#include "paxos/storage/bdb_handles.h"
#include "paxos/storage/checkpointer.h"
#include "paxos/storage/dir_lock.h"
#include "paxos/storage/error_sink.h"
#include "paxos/storage/log_prefill.h"
#include "paxos/storage/record_format.h"
#include "paxos/storage/space_guard.h"

namespace lockstep::paxos {

using namespace storage;


namespace {

// A Dbt over bytes BDB only reads (keys and values we put).
Dbt input_dbt(const void* data, size_t size) {
  Dbt dbt(const_cast<void*>(data), static_cast<u_int32_t>(size));
  return dbt;
}

std::string_view view_of(const Dbt& dbt) {
  return {static_cast<const char*>(dbt.get_data()), dbt.get_size()};
}

}  // namespace

struct LogStore::Impl {
  StorageOptions options;
  std::string dir;  // for messages
  ErrorSink errors;  // handed to BDB by address, so Impl never moves (LogStore holds a pointer)
  std::optional<DirLock> lock;
  bdb::EnvPtr env;
  bdb::DbPtr log;
  bdb::DbPtr meta;
  bool env_open = false;
  std::optional<Checkpointer> checkpointer;
  std::optional<SpaceGuard> space;
  std::optional<LogPrefiller> prefiller;
  size_t bytes_since_prefill_check = 0;
  size_t bytes_since_space_check = 0;
  Index last_index = 0;
  size_t bytes_since_checkpoint = 0;
  std::string buffer;  // reused encode buffer: write() allocates only when an entry outgrows it

  explicit Impl(const StorageOptions& o) : options(o), dir(o.directory.string()) {}
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  ~Impl() {
    checkpointer.reset();  // joins its thread before the handles it uses close
    prefiller.reset();
    // A clean close leaves nothing for the next open to recover, and lets BDB drop old log
    // files. If the environment is broken (say after an I/O error) this fails; recovery at the
    // next open covers it.
    if (env_open) (void)checkpoint_and_remove_logs(*env);
  }

  [[noreturn]] void fail(std::string_view what, int rc) {
    std::string message = fmt::format("storage {}: {}: {}", dir, what, DbEnv::strerror(rc));
    if (auto details = errors.take(); !details.empty()) message += fmt::format(" ({})", details);
    throw StorageError(message);
  }
  void check(int rc, std::string_view what) {
    if (rc != 0) fail(what, rc);
  }
  [[noreturn]] void corrupt(std::string_view what) {
    throw StorageError(fmt::format("storage {}: corrupt log: {}", dir, what));
  }

  void open_env();
  void check_log_file();
  bdb::DbPtr open_db(std::string_view file, uint32_t page_size);
  void check_format();
  Index find_last_index();
  void delete_after(DbTxn* txn, Index from);
};

void LogStore::Impl::delete_after(DbTxn* txn, Index from) {
  // One cursor walking forward: a fresh btree search per key was measured at 270 µs per entry
  // in a large transaction (8 s for 30k entries, against 0.46 s this way).
  Dbc* raw = nullptr;
  check(log->cursor(txn, &raw, 0), "open cursor");
  bdb::Cursor cursor(raw);
  // DB_THREAD handles return into caller memory: an 8-byte key buffer (a longer key fails with
  // DB_BUFFER_SMALL, which is corruption anyway) and no value bytes at all.
  IndexKey key_bytes = encode_index_key(from + 1);
  Dbt key(key_bytes.data(), static_cast<u_int32_t>(key_bytes.size()));
  key.set_ulen(static_cast<u_int32_t>(key_bytes.size()));
  key.set_flags(DB_DBT_USERMEM);
  char none = 0;
  Dbt value(&none, 0);
  value.set_ulen(1);
  value.set_flags(DB_DBT_USERMEM | DB_DBT_PARTIAL);
  value.set_dlen(0);
  int rc = cursor.get()->get(&key, &value, DB_SET_RANGE);
  for (; rc == 0; rc = cursor.get()->get(&key, &value, DB_NEXT)) {
    if (int del = cursor.get()->del(0); del != 0)
      fail(fmt::format("delete entries after {}", from), del);
  }
  if (rc != DB_NOTFOUND) fail(fmt::format("delete entries after {}", from), rc);
}

// Tells the prefiller which log file BDB writes now, so the next one is ready before BDB needs it.
void LogStore::Impl::check_log_file() {
  bytes_since_prefill_check = 0;
  DB_LOG_STAT* stat = nullptr;
  if (env->log_stat(&stat, 0) != 0 || !stat) return;  // best effort, like the prefill itself
  uint32_t current = stat->st_cur_file, offset = stat->st_cur_offset;
  std::free(stat);
  prefiller->current_file(current, offset);
}

void LogStore::Impl::open_env() {
  env.reset(new DbEnv(DB_CXX_NO_EXCEPTIONS));
  errors.attach(*env);
  check(env->set_cachesize(static_cast<u_int32_t>(options.cache_bytes >> 30),
                           static_cast<u_int32_t>(options.cache_bytes & ((1u << 30) - 1)), 1),
        "set cache size");
  check(env->set_lg_bsize(options.log_buffer_bytes), "set log buffer size");
  check(env->set_lg_max(options.log_file_bytes), "set log file size");
  // Log files older than the last checkpoint are deleted (by BDB at log switches, and by the
  // checkpointer), so the directory holds about checkpoint_bytes of BDB log, not the history. (This rules out
  // catastrophic recovery from old logs, which a replica does not need: peers have the data.)
  check(env->log_set_config(DB_LOG_AUTO_REMOVE, 1), "configure log removal");
  if (options.durability == Durability::write)
    check(env->set_flags(DB_TXN_WRITE_NOSYNC, 1), "configure durability");
  if (options.durability == Durability::none)
    check(env->set_flags(DB_TXN_NOSYNC, 1), "configure durability");
  // DB_PRIVATE: regions live in this process's memory, so nothing stale survives a kill -9 and
  // no other process can attach (the DirLock makes that an error instead of corruption).
  // DB_RECOVER: every open replays the BDB log, restoring exactly the committed transactions.
  // DB_THREAD and DB_INIT_LOCK: checkpoints run on a thread of their own (see checkpointer.h).
  u_int32_t flags = DB_CREATE | DB_PRIVATE | DB_RECOVER | DB_INIT_TXN | DB_INIT_LOG |
                    DB_INIT_MPOOL | DB_INIT_LOCK | DB_THREAD;
  check(env->open(dir.c_str(), flags, 0600), "open environment");
  env_open = true;
}

bdb::DbPtr LogStore::Impl::open_db(std::string_view file, uint32_t page_size) {
  bdb::DbPtr db(new Db(env.get(), DB_CXX_NO_EXCEPTIONS));
  std::string name(file);
  // Page checksums: a torn or bit-flipped page is reported, never read as data.
  check(db->set_flags(DB_CHKSUM), fmt::format("configure {}", name));
  if (page_size != 0) check(db->set_pagesize(page_size), fmt::format("set page size of {}", name));
  check(db->open(nullptr, name.c_str(), nullptr, DB_BTREE,
                 DB_CREATE | DB_AUTO_COMMIT | DB_THREAD, 0600),
        fmt::format("open {}", name));
  return db;
}

void LogStore::Impl::check_format() {
  Dbt key = input_dbt(kFormatKey.data(), kFormatKey.size());
  bdb::OutDbt value;
  int rc = meta->get(nullptr, &key, &value, 0);
  if (rc == DB_NOTFOUND) {
    std::string bytes;
    ByteWriter(bytes).u32(kFormatVersion);
    Dbt stored = input_dbt(bytes.data(), bytes.size());
    check(meta->put(nullptr, &key, &stored, DB_AUTO_COMMIT), "write format version");
    return;
  }
  check(rc, "read format version");
  ByteReader r(view_of(value));
  uint32_t version = r.u32();
  if (!r.ok() || !r.at_end()) corrupt("unreadable format record");
  if (version != kFormatVersion)
    throw StorageError(fmt::format("storage {}: format version {} is not supported (expected {})",
                                   dir, version, kFormatVersion));
}

Index LogStore::Impl::find_last_index() {
  Dbc* raw = nullptr;
  check(log->cursor(nullptr, &raw, 0), "open cursor");
  bdb::Cursor cursor(raw);
  bdb::OutDbt key, value;
  value.set_flags(DB_DBT_PARTIAL | DB_DBT_REALLOC);  // key only
  value.set_dlen(0);
  int rc = cursor.get()->get(&key, &value, DB_LAST);
  if (rc == DB_NOTFOUND) return 0;
  check(rc, "read last entry");
  auto index = decode_index_key(view_of(key));
  if (!index) corrupt(fmt::format("a key of {} bytes in {}", key.get_size(), kLogFile));
  return *index;
}

LogStore::LogStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LogStore::LogStore(LogStore&&) noexcept = default;
LogStore& LogStore::operator=(LogStore&&) noexcept = default;
LogStore::~LogStore() = default;

LogStore LogStore::open(const StorageOptions& options) {
  if (options.directory.empty()) throw StorageError("storage: no directory given");
  auto impl = std::make_unique<Impl>(options);
  std::error_code ec;
  std::filesystem::create_directories(options.directory, ec);
  if (ec)
    throw StorageError(fmt::format("storage {}: cannot create directory: {}", impl->dir,
                                   ec.message()));
  impl->lock.emplace(options.directory);
  remove_prefill_leftovers(options.directory);
  bool prefill = options.prefill_log_files && options.durability == Durability::fsync;
  // BDB creates the first log file inside DbEnv::open: write it first in a fresh directory.
  if (prefill && has_no_log_files(options.directory))
    (void)prefill_log_file(options.directory, 1, options.log_file_bytes);
  impl->open_env();
  impl->meta = impl->open_db(kMetaFile, 0);
  impl->log = impl->open_db(kLogFile, options.page_size);
  impl->check_format();
  impl->last_index = impl->find_last_index();
  impl->checkpointer.emplace(*impl->env);
  if (prefill) {
    impl->prefiller.emplace(options.directory, options.log_file_bytes);
    impl->check_log_file();
  }
  // Reserve room for the pages written before the next checkpoint (and whatever the cache
  // holds), and keep two BDB log files' worth free.
  impl->space.emplace(impl->dir, options.directory / kLogFile,
                      2 * options.checkpoint_bytes + options.cache_bytes,
                      2 * size_t{options.log_file_bytes});
  impl->space->ensure();
  return LogStore(std::move(impl));
}

RestoredState LogStore::load() {
  Impl& s = *impl_;
  RestoredState restored;

  Dbt hard_key = input_dbt(kHardKey.data(), kHardKey.size());
  bdb::OutDbt hard_value;
  int rc = s.meta->get(nullptr, &hard_key, &hard_value, 0);
  if (rc != DB_NOTFOUND) {
    s.check(rc, "read hard state");
    auto hard = decode_hard_state(view_of(hard_value));
    if (!hard) s.corrupt(fmt::format("undecodable hard state ({} bytes)", hard_value.get_size()));
    restored.hard = *hard;
  }

  Dbc* raw = nullptr;
  s.check(s.log->cursor(nullptr, &raw, 0), "open cursor");
  bdb::Cursor cursor(raw);
  restored.log.reserve(s.last_index);
  bdb::OutDbt key, value;
  Index expected = 1;
  while ((rc = cursor.get()->get(&key, &value, DB_NEXT)) == 0) {
    auto index = decode_index_key(view_of(key));
    if (!index)
      s.corrupt(fmt::format("a key of {} bytes after entry {}", key.get_size(), expected - 1));
    if (*index != expected) {
      if (expected == 1) s.corrupt(fmt::format("the log starts at entry {}, not 1", *index));
      s.corrupt(fmt::format("entries {}..{} are missing", expected, *index - 1));
    }
    auto entry = decode_entry(view_of(value));
    if (!entry)
      s.corrupt(fmt::format("entry {}: undecodable record ({} bytes)", *index, value.get_size()));
    if (entry->index != *index)
      s.corrupt(fmt::format("entry {}: record holds index {}", *index, entry->index));
    restored.log.push_back(std::make_shared<const Entry>(std::move(*entry)));
    ++expected;
  }
  if (rc != DB_NOTFOUND) s.fail(fmt::format("read entry {}", expected), rc);
  return restored;
}

void LogStore::write(const std::optional<HardState>& hard, std::optional<Index> truncate_after,
                     const std::vector<EntryPtr>& append) {
  Impl& s = *impl_;
  if (!hard && !truncate_after && append.empty()) return;

  // Refuse anything that would leave a gap or silently overwrite: load() could not read it back.
  Index from = truncate_after ? std::min(*truncate_after, s.last_index) : s.last_index;
  Index next = from + 1;
  for (const auto& entry : append) {
    if (!entry) throw StorageError(fmt::format("storage {}: null entry to append", s.dir));
    if (entry->index != next)
      throw StorageError(fmt::format("storage {}: entry {} appended where entry {} belongs", s.dir,
                                     entry->index, next));
    ++next;
  }

  // A failed background checkpoint (a full disk, typically) is reported here, by a call that
  // then changes nothing.
  if (auto rc = s.checkpointer->take_error()) s.fail("checkpoint", *rc);
  // Often enough that the reservation never runs out between checks.
  if (s.bytes_since_space_check >= s.options.checkpoint_bytes / 8) {
    s.space->ensure();
    s.bytes_since_space_check = 0;
  }

  DbTxn* raw = nullptr;
  s.check(s.env->txn_begin(nullptr, &raw, 0), "begin transaction");
  bdb::Txn txn(raw);

  if (from < s.last_index) s.delete_after(txn.get(), from);

  size_t bytes = 0;
  for (const auto& entry : append) {
    s.buffer.clear();
    ByteWriter writer(s.buffer);
    encode_entry(*entry, writer);
    auto key_bytes = encode_index_key(entry->index);
    Dbt key = input_dbt(key_bytes.data(), key_bytes.size());
    Dbt value = input_dbt(s.buffer.data(), s.buffer.size());
    int rc = s.log->put(txn.get(), &key, &value, 0);
    if (rc != 0) s.fail(fmt::format("write entry {}", entry->index), rc);
    bytes += s.buffer.size();
  }

  if (hard) {
    encode_hard_state(*hard, s.buffer);
    Dbt key = input_dbt(kHardKey.data(), kHardKey.size());
    Dbt value = input_dbt(s.buffer.data(), s.buffer.size());
    s.check(s.meta->put(txn.get(), &key, &value, 0), "write hard state");
  }

  s.check(txn.commit(0), "commit");
  s.last_index = next - 1;
  s.bytes_since_checkpoint += bytes;
  s.bytes_since_space_check += bytes;
  s.bytes_since_prefill_check += bytes;
  // BDB's log grows faster than the entries (page images, headers): checking every 1/16 of a
  // log file's worth of entries leaves the prefiller most of a file's time to write the next.
  if (s.prefiller && s.bytes_since_prefill_check >= s.options.log_file_bytes / 16) s.check_log_file();
  if (s.bytes_since_checkpoint >= s.options.checkpoint_bytes) {
    s.checkpointer->request();
    s.bytes_since_checkpoint = 0;
  }
}

void LogStore::checkpoint() {
  Impl& s = *impl_;
  s.check(checkpoint_and_remove_logs(*s.env), "checkpoint");
  s.bytes_since_checkpoint = 0;
}

Index LogStore::last_index() const { return impl_->last_index; }
const std::filesystem::path& LogStore::directory() const { return impl_->options.directory; }

}  // namespace lockstep::paxos
