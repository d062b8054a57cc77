// Collects the detail lines BDB passes to its error callback (which file, which page) before it
// returns a bare error code, so a StorageError can say what actually happened. Shared by the
// writing thread and the checkpoint thread, hence the mutex.
#pragma once

#include <db_cxx.h>

#include <mutex>
#include <string>

namespace lockstep::paxos::storage {

class ErrorSink {
 public:
  // Install on an environment before opening it; the sink must outlive the environment.
  void attach(DbEnv& env);
  void add(const char* message);
  // The collected details, emptied.
  std::string take();

 private:
  std::mutex mutex_;
  std::string text_;
};

}  // namespace lockstep::paxos::storage
