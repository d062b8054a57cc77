// Helpers shared by the storage tests and benchmark: a scratch directory and entry builders.
#pragma once

#include <filesystem>
#include <string>

#include "paxos/core/types.h"

namespace lockstep::paxos::testing {

// A fresh directory under $TMPDIR (on disk: fsync timings mean something there), removed with
// everything in it when this goes out of scope.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "lockstep-storage");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// An entry whose content is a function of (index, view), so a reader can check it.
EntryPtr make_entry(Index index, View view, size_t proposals = 2, size_t bytes = 64);
bool same_entry(const Entry& a, const Entry& b);

}  // namespace lockstep::paxos::testing

#include <functional>
#include <sys/types.h>

namespace lockstep::paxos::testing {

// A forked child running `body` (its return value is the exit code; an exception exits 99).
// The destructor SIGKILLs and reaps it if the test did not, so no child outlives a failing test.
class Child {
 public:
  explicit Child(const std::function<int()>& body);
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();
  pid_t pid() const { return pid_; }
  void kill_hard();  // SIGKILL
  // Waits for the child; returns its exit code, or 128+signal if it was killed.
  int wait();

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

// Both ends of a pipe, closed on destruction.
struct Pipe {
  Pipe();
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe();
  void close_read();
  void close_write();
  int read_fd = -1;
  int write_fd = -1;
};

}  // namespace lockstep::paxos::testing
