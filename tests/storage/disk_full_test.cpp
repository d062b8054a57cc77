// A full disk makes write() throw one clear StorageError, never crash, and never lose a write
// that returned. The disk is a small tmpfs mounted in a private mount namespace of a child
// process, so the mount disappears with the child whatever happens.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "paxos/storage/log_store.h"
#include "tests/storage/test_util.h"

namespace lockstep::paxos {
namespace {

using testing::Child;
using testing::make_entry;
using testing::Pipe;
using testing::TempDir;

constexpr int kNoNamespace = 77;

void send_line(int fd, const std::string& line) {
  std::string l = line + "\n";
  (void)!::write(fd, l.data(), l.size());
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

// Who fills the disk: the store itself, slowly (its space guard must stop it before BDB runs
// out), or another process, all at once (BDB's own writes then fail with ENOSPC).
enum class Filler { store, other };

// Writes a file of `bytes` (or until the disk is full when bytes is 0).
bool write_file(const std::filesystem::path& path, size_t bytes) {
  std::ofstream f(path, std::ios::binary);
  std::string chunk(64 << 10, 'r');
  for (size_t done = 0; bytes == 0 || done < bytes; done += chunk.size())
    if (!f.write(chunk.data(), static_cast<std::streamsize>(chunk.size())) || !f.flush())
      return bytes == 0;
  return true;
}

// Runs in the child: fills a 12 MiB tmpfs, then frees space and checks the store.
int fill_disk(const std::filesystem::path& mount_point, Filler filler, int report) {
  if (::unshare(CLONE_NEWNS) != 0 ||
      ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      ::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=12m") != 0) {
    send_line(report, std::string("skip: ") + std::strerror(errno));
    return kNoNamespace;
  }
  // Freed before reopening, as an operator would free space before restarting the node: BDB's
  // recovery redoes the writes since the last checkpoint, which needs a little room.
  auto reserve = mount_point / "reserve";
  if (!write_file(reserve, 4 << 20)) return 4;
  StorageOptions options;
  options.directory = mount_point / "store";
  options.log_file_bytes = 1 << 20;
  options.cache_bytes = 1 << 20;
  options.checkpoint_bytes = 1 << 20;

  Index acked = 0;
  {
    auto store = LogStore::open(options);
    try {
      for (int batch = 0; batch < 100000; ++batch) {
        if (filler == Filler::other && batch == 50 && !write_file(mount_point / "hog", 0))
          return 7;
        std::vector<EntryPtr> append;
        for (int i = 0; i < 4; ++i)
          append.push_back(make_entry(store.last_index() + 1 + i, 1, 8, 256));
        store.write(HardState{1, 1, acked, 1}, std::nullopt, append);
        acked = store.last_index();
      }
      send_line(report, "never filled the disk");
      return 5;
    } catch (const StorageError& e) {
      send_line(report, std::string("error: ") + e.what());
    }
    // Writing on fails cleanly again (possibly after a few more writes fit) rather than crash.
    try {
      for (int i = 0; i < 10000; ++i)
        store.write(std::nullopt, std::nullopt, {make_entry(store.last_index() + 1, 1, 8, 256)});
      send_line(report, "note: writes after the error kept succeeding");
    } catch (const StorageError& e) {
      send_line(report, std::string("again: ") + e.what());
    }
  }  // closing a store in this state must not crash either

  std::filesystem::remove(reserve);
  std::filesystem::remove(mount_point / "hog");
  auto store = LogStore::open(options);
  auto restored = store.load();
  send_line(report, "acked " + std::to_string(acked) + " restored " +
                        std::to_string(restored.log.size()));
  return restored.log.size() >= acked ? 0 : 6;
}

void run_disk_full(Filler filler) {
  TempDir dir;
  auto mount_point = dir.path() / "disk";
  std::filesystem::create_directory(mount_point);
  Pipe report;
  Child child([&] {
    report.close_read();
    return fill_disk(mount_point, filler, report.write_fd);
  });
  report.close_write();
  std::string out = read_all(report.read_fd);
  int code = child.wait();
  if (code == kNoNamespace) GTEST_SKIP() << "needs root for a private tmpfs: " << out;
  EXPECT_EQ(code, 0) << out;
  auto error_line = out.substr(0, out.find('\n'));
  EXPECT_TRUE(error_line.starts_with("error: storage " + (mount_point / "store").string()))
      << out;
  EXPECT_NE(error_line.find("No space left on device"), std::string::npos) << out;
  EXPECT_NE(out.find("\nagain: storage"), std::string::npos) << out;
  // The mount lived only in the child's namespace.
  EXPECT_FALSE(std::filesystem::exists(mount_point / "reserve"));
  std::cout << out;
}

TEST(DiskFull, SpaceGuardStopsWritesBeforeBdbRunsOut) { run_disk_full(Filler::store); }

TEST(DiskFull, AnotherProcessFillingTheDiskGivesCleanError) { run_disk_full(Filler::other); }

}  // namespace
}  // namespace lockstep::paxos
