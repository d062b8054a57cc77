// Writes the log on a thread of its own, so the event loop keeps receiving, forwarding and
// sending while the disk works. Jobs complete in the order they were submitted. Jobs queued
// behind a write in progress are merged into one transaction when the writer gets to them:
// one fsync then covers the entries of several loop iterations (group commit).
//
// The loop learns of completions through an eventfd registered on its event_base; the writer
// thread touches nothing of the loop but that fd.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "paxos/core/types.h"
#include "paxos/node/libevent_handles.h"
#include "paxos/storage/log_store.h"

namespace lockstep::node {

struct WriteJob {
  std::optional<paxos::HardState> hard;
  std::optional<paxos::Index> truncate_after;
  std::vector<paxos::EntryPtr> append;
  uint64_t submitted_ns = 0;  // monotonic_ns(), set by submit()
};

// Folds a sequence of jobs into one with the same effect on the log.
WriteJob merge_jobs(std::deque<WriteJob>& jobs);

class StorageWriter {
 public:
  // on_complete(n) runs on the loop when n more jobs are durable, or with n = 0 after a failure
  // (then error() says what failed; nothing more will complete).
  StorageWriter(paxos::LogStore& store, event_base* base, std::function<void(uint64_t)> on_complete);
  ~StorageWriter();
  StorageWriter(const StorageWriter&) = delete;
  StorageWriter& operator=(const StorageWriter&) = delete;

  void submit(WriteJob job);
  std::optional<std::string> error() const;
  // Write transactions so far, and where their time went, summed over the run (ns): waiting in
  // the queue for the thread, and inside LogStore::write (the transaction and its fsync); the
  // jobs folded into them.
  struct Timing {
    uint64_t transactions = 0;
    uint64_t queued_ns = 0;
    uint64_t write_ns = 0;
    uint64_t jobs = 0;
  };
  Timing timing() const;
  uint64_t transactions() const { return timing().transactions; }

 private:
  static void on_eventfd(evutil_socket_t fd, short, void* self);
  void run();

  paxos::LogStore& store_;
  std::function<void(uint64_t)> on_complete_;
  int eventfd_ = -1;
  EventPtr event_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<WriteJob> queue_;
  Timing timing_;
  bool stopping_ = false;
  std::optional<std::string> error_;
  std::thread thread_;
};

}  // namespace lockstep::node
