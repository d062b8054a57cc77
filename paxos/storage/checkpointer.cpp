#include "paxos/storage/checkpointer.h"

#include <utility>

namespace lockstep::paxos::storage {

Checkpointer::Checkpointer(DbEnv& env) : env_(env), thread_([this] { run(); }) {}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Checkpointer::request() {
  {
    std::lock_guard lock(mutex_);
    requested_ = true;
  }
  wake_.notify_one();
}

std::optional<int> Checkpointer::take_error() {
  std::lock_guard lock(mutex_);
  return std::exchange(error_, std::nullopt);
}

void Checkpointer::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return requested_ || stopping_; });
    if (stopping_) return;
    requested_ = false;
    lock.unlock();
    int rc = env_.txn_checkpoint(0, 0, 0);
    lock.lock();
    if (rc != 0) error_ = rc;
  }
}

}  // namespace lockstep::paxos::storage
