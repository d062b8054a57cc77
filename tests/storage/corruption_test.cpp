// Damaged stores must fail loudly: load() names the directory and the index, never returns a
// log with a hole or a garbled entry in it.
#include <db_cxx.h>
#include <gtest/gtest.h>

#include <fstream>

#include "paxos/core/entry_codec.h"
#include "paxos/storage/log_store.h"
#include "paxos/storage/record_format.h"
#include "tests/storage/test_util.h"

namespace lockstep::paxos {
namespace {

using testing::make_entry;
using testing::TempDir;

// Direct access to the store's BDB files, bypassing LogStore's checks, to plant damage.
class RawStore {
 public:
  explicit RawStore(const std::filesystem::path& dir) : env_(DB_CXX_NO_EXCEPTIONS) {
    u_int32_t flags = DB_CREATE | DB_PRIVATE | DB_RECOVER | DB_INIT_TXN | DB_INIT_LOG |
                      DB_INIT_MPOOL | DB_INIT_LOCK;
    if (env_.open(dir.c_str(), flags, 0600) != 0) throw std::runtime_error("raw env open");
  }
  ~RawStore() { (void)env_.close(0); }

  void put(std::string_view file, std::string_view key, std::string_view value) {
    with_db(file, [&](Db& db) {
      Dbt k(const_cast<char*>(key.data()), key.size());
      Dbt v(const_cast<char*>(value.data()), value.size());
      return db.put(nullptr, &k, &v, DB_AUTO_COMMIT);
    });
  }
  void del(std::string_view file, std::string_view key) {
    with_db(file, [&](Db& db) {
      Dbt k(const_cast<char*>(key.data()), key.size());
      return db.del(nullptr, &k, DB_AUTO_COMMIT);
    });
  }

 private:
  template <typename F>
  void with_db(std::string_view file, F f) {
    Db db(&env_, DB_CXX_NO_EXCEPTIONS);
    std::string name(file);
    if (db.open(nullptr, name.c_str(), nullptr, DB_BTREE, DB_AUTO_COMMIT, 0) != 0)
      throw std::runtime_error("raw db open");
    int rc = f(db);
    (void)db.close(0);
    if (rc != 0) throw std::runtime_error("raw db op");
  }
  DbEnv env_;
};

std::string key_of(Index index) {
  auto key = storage::encode_index_key(index);
  return std::string(key.data(), key.size());
}

class Corruption : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.directory = dir_.path() / "store";
    auto store = LogStore::open(options_);
    std::vector<EntryPtr> entries;
    for (Index i = 1; i <= 5; ++i) entries.push_back(make_entry(i, 1));
    store.write(HardState{1, 1, 5, 1}, std::nullopt, entries);
  }

  // load() (or open(), if the damage is found there) must throw a StorageError mentioning the
  // directory and `needle`.
  void expect_error(std::string_view needle) {
    try {
      auto store = LogStore::open(options_);
      auto restored = store.load();
      FAIL() << "damaged store loaded " << restored.log.size() << " entries";
    } catch (const StorageError& e) {
      std::string what = e.what();
      EXPECT_NE(what.find(options_.directory.string()), std::string::npos) << what;
      EXPECT_NE(what.find(needle), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }

  TempDir dir_;
  StorageOptions options_;
};

TEST_F(Corruption, UndecodableRecord) {
  RawStore(options_.directory).put(storage::kLogFile, key_of(3), "garbage");
  expect_error("entry 3: undecodable record (7 bytes)");
}

TEST_F(Corruption, TruncatedRecord) {
  std::string bytes = encode_entry(*make_entry(4, 1));
  bytes.pop_back();
  RawStore(options_.directory).put(storage::kLogFile, key_of(4), bytes);
  expect_error("entry 4: undecodable record");
}

TEST_F(Corruption, Gap) {
  RawStore(options_.directory).del(storage::kLogFile, key_of(2));
  expect_error("entries 2..2 are missing");
}

TEST_F(Corruption, MissingFirstEntry) {
  RawStore(options_.directory).del(storage::kLogFile, key_of(1));
  expect_error("the log starts at entry 2, not 1");
}

TEST_F(Corruption, EntryUnderWrongIndex) {
  RawStore(options_.directory).put(storage::kLogFile, key_of(3), encode_entry(*make_entry(9, 1)));
  expect_error("entry 3: record holds index 9");
}

TEST_F(Corruption, MalformedKey) {
  RawStore(options_.directory).put(storage::kLogFile, "abc", encode_entry(*make_entry(6, 1)));
  expect_error("a key of 3 bytes");
}

TEST_F(Corruption, UndecodableHardState) {
  RawStore(options_.directory).put(storage::kMetaFile, storage::kHardKey, "xx");
  expect_error("undecodable hard state");
}

TEST_F(Corruption, UnknownFormatVersion) {
  std::string version;
  ByteWriter(version).u32(99);
  RawStore(options_.directory).put(storage::kMetaFile, storage::kFormatKey, version);
  expect_error("format version 99 is not supported");
}

TEST_F(Corruption, FlippedBytesInPageAreCaughtByChecksum) {
  // The store was closed cleanly (checkpointed), so log.db holds every entry. Damage the data
  // page after the metadata page.
  auto file = options_.directory / std::string(storage::kLogFile);
  auto size = std::filesystem::file_size(file);
  ASSERT_GE(size, 2 * options_.page_size);
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    for (uint32_t offset = options_.page_size + 64; offset < 2 * options_.page_size;
         offset += 512) {
      f.seekp(offset);
      f.put('\x5a');
    }
  }
  expect_error("checksum");
}

}  // namespace
}  // namespace lockstep::paxos
