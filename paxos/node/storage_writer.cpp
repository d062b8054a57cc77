#include "paxos/node/storage_writer.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "paxos/node/clock.h"

namespace lockstep::node {

WriteJob merge_jobs(std::deque<WriteJob>& jobs) {
  WriteJob merged;
  for (WriteJob& job : jobs) {
    if (job.truncate_after) {
      paxos::Index t = *job.truncate_after;
      // Entries this batch was going to append above t are superseded; entries already on
      // disk above t go through the transaction's truncation.
      while (!merged.append.empty() && merged.append.back()->index > t) merged.append.pop_back();
      merged.truncate_after = merged.truncate_after ? std::min(*merged.truncate_after, t) : t;
    }
    for (auto& e : job.append) merged.append.push_back(std::move(e));
    if (job.hard) merged.hard = job.hard;
  }
  return merged;
}

StorageWriter::StorageWriter(paxos::LogStore& store, event_base* base, std::function<void(uint64_t)> on_complete)
    : store_(store), on_complete_(std::move(on_complete)) {
  eventfd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (eventfd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  event_.reset(event_new(base, eventfd_, EV_READ | EV_PERSIST, &StorageWriter::on_eventfd, this));
  event_add(event_.get(), nullptr);
  thread_ = std::thread([this] { run(); });
}

StorageWriter::~StorageWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  event_.reset();
  ::close(eventfd_);
}

void StorageWriter::submit(WriteJob job) {
  job.submitted_ns = monotonic_ns();
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
}

std::optional<std::string> StorageWriter::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

StorageWriter::Timing StorageWriter::timing() const {
  std::lock_guard lock(mu_);
  return timing_;
}

void StorageWriter::on_eventfd(evutil_socket_t fd, short, void* self) {
  uint64_t count = 0;
  if (::read(fd, &count, sizeof count) != sizeof count) return;
  auto* writer = static_cast<StorageWriter*>(self);
  // The counter carries completed jobs; a failure is signalled as a huge count with error_ set.
  if (writer->error()) {
    writer->on_complete_(0);
    return;
  }
  writer->on_complete_(count);
}

void StorageWriter::run() {
  for (;;) {
    std::deque<WriteJob> batch;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left to write
      batch.swap(queue_);
    }
    uint64_t count = batch.size();
    uint64_t start = monotonic_ns(), queued = 0;
    for (const WriteJob& j : batch) queued += start - j.submitted_ns;
    WriteJob job = merge_jobs(batch);
    try {
      store_.write(job.hard, job.truncate_after, job.append);
      uint64_t took = monotonic_ns() - start;
      std::lock_guard lock(mu_);
      ++timing_.transactions;
      timing_.queued_ns += queued;
      timing_.write_ns += took;
      timing_.jobs += count;
    } catch (const std::exception& e) {
      {
        std::lock_guard lock(mu_);
        error_ = e.what();
      }
      uint64_t one = 1;
      ssize_t unused = ::write(eventfd_, &one, sizeof one);
      (void)unused;
      return;  // nothing after a failed write may be made durable out of order
    }
    ssize_t unused = ::write(eventfd_, &count, sizeof count);
    (void)unused;
  }
}

}  // namespace lockstep::node
