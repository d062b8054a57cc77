// Owning wrappers for Berkeley DB handles, so every path out of the storage code (including an
// exception halfway through open() or write()) closes or aborts what it opened. Internal to
// paxos/storage. All handles are created with DB_CXX_NO_EXCEPTIONS: errors come back as return
// codes and are turned into StorageError by the caller, which knows what it was doing.
#pragma once

#include <db_cxx.h>

#include <cstdlib>
#include <memory>
#include <utility>

namespace lockstep::paxos::bdb {

struct EnvCloser {
  void operator()(DbEnv* env) const {
    // BDB requires close() even after a failed open(); its result cannot be acted upon here.
    // After a panic (a checksum failure, an I/O error) close() would return early and leak the
    // DB_PRIVATE regions' heap memory; DB_NOPANIC lets it release them.
    (void)env->set_flags(DB_NOPANIC, 1);
    (void)env->close(0);
    delete env;
  }
};
struct DbCloser {
  void operator()(Db* db) const {
    (void)db->close(0);
    delete db;
  }
};
using EnvPtr = std::unique_ptr<DbEnv, EnvCloser>;
using DbPtr = std::unique_ptr<Db, DbCloser>;

// A transaction that aborts unless committed.
class Txn {
 public:
  Txn() = default;
  explicit Txn(DbTxn* txn) : txn_(txn) {}
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  ~Txn() {
    if (txn_) (void)txn_->abort();
  }
  DbTxn* get() const { return txn_; }
  // BDB frees the handle whatever commit() returns (a failed commit aborts).
  int commit(u_int32_t flags) { return std::exchange(txn_, nullptr)->commit(flags); }

 private:
  DbTxn* txn_ = nullptr;
};

// A cursor that closes itself.
class Cursor {
 public:
  Cursor() = default;
  explicit Cursor(Dbc* cursor) : cursor_(cursor) {}
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  ~Cursor() {
    if (cursor_) (void)cursor_->close();
  }
  Dbc* get() const { return cursor_; }

 private:
  Dbc* cursor_ = nullptr;
};

// A Dbt that BDB fills by realloc() into memory this object owns, as DB_THREAD handles
// require; reusing one across a cursor walk reallocates only when a record is larger.
class OutDbt : public Dbt {
 public:
  OutDbt() { set_flags(DB_DBT_REALLOC); }
  OutDbt(const OutDbt&) = delete;
  OutDbt& operator=(const OutDbt&) = delete;
  ~OutDbt() { std::free(get_data()); }
};

}  // namespace lockstep::paxos::bdb
