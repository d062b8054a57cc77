// Runs BDB checkpoints on a thread of its own. A checkpoint writes every dirty page of the
// databases and syncs them (hundreds of ms on a slow disk, measured), which must not stall the
// node's event loop and so its commit latency; it runs beside the writing thread instead
// (the environment is opened with DB_THREAD for this). A failed checkpoint is kept and reported
// by the next LogStore::write().
#pragma once

#include <db_cxx.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

namespace lockstep::paxos::storage {

// A BDB checkpoint, then removal of the log files it made unnecessary. Returns a BDB code.
int checkpoint_and_remove_logs(DbEnv& env);

class Checkpointer {
 public:
  explicit Checkpointer(DbEnv& env);
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;
  ~Checkpointer();  // waits for a running checkpoint, then stops the thread

  // Asks for a checkpoint soon; requests while one is pending collapse into one.
  void request();
  // The BDB error code of the latest failed checkpoint, if any (cleared by the call).
  std::optional<int> take_error();

 private:
  void run();

  DbEnv& env_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool stopping_ = false;
  std::optional<int> error_;
  std::thread thread_;  // last: starts after the state above exists
};

}  // namespace lockstep::paxos::storage
