#include "eval/loadgen/driver.h"

#include <event2/event.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace lockstep::eval {
namespace {

using Clock = std::chrono::steady_clock;

struct EventBaseDeleter {
  void operator()(event_base* b) const { event_base_free(b); }
};
struct EventDeleter {
  void operator()(event* e) const { event_free(e); }
};
using EventBasePtr = std::unique_ptr<event_base, EventBaseDeleter>;
using EventPtr = std::unique_ptr<event, EventDeleter>;

timeval to_timeval(std::chrono::duration<double> d) {
  const auto us = std::max<long long>(0, std::chrono::duration_cast<std::chrono::microseconds>(d).count());
  return timeval{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
}

double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// State shared by all driver threads: the schedule and the first reason to stop early.
struct Shared {
  Clock::time_point window_start;
  Clock::time_point window_end;
  std::atomic<bool> abort{false};
  std::mutex mu;
  std::string abort_reason;  // guarded by mu

  void fail(std::string_view why) {
    std::lock_guard lock(mu);
    if (abort_reason.empty()) abort_reason = why;
    abort.store(true, std::memory_order_release);
  }
};

class Worker final : public Completions {
 public:
  Worker(const LoadOptions& options, Shared& shared, unsigned index, ClientId first,
         std::uint32_t count)
      : options_(options), shared_(shared), index_(index), first_(first), clients_(count) {
    pending_.reserve(count);
    retry_.reserve(count);
    retry_batch_.reserve(count);
    resume_batch_.reserve(count);
  }

  // Runs this worker's loop to the end of the window (or an abort). Never throws.
  void run(const TargetFactory& make_target) {
    try {
      base_.reset(event_base_new());
      if (!base_) throw std::runtime_error("event_base_new failed");
      target_ = make_target(index_);
      if (!target_) throw std::runtime_error("target factory returned nothing");
      for (auto& c : clients_) c.payload.assign(options_.payload_size, 'x');
      target_->open(TargetContext{base_.get(), first_, static_cast<std::uint32_t>(clients_.size()),
                                  options_.payload_size, this});
      arm_timers();
      for (std::uint32_t i = 0; i < clients_.size(); ++i) issue(first_ + i);
      if (!stopped_) event_base_dispatch(base_.get());
    } catch (const std::exception& e) {
      shared_.fail(e.what());
    }
    stopped_ = true;
    target_.reset();  // frees the target's events before the loop they belong to
    timers_.clear();
    resume_.reset();
    base_.reset();
  }

  const Histogram& latency() const { return latency_; }
  std::uint64_t ops() const { return ops_; }
  std::uint64_t errors() const { return errors_; }
  std::uint64_t warmup_errors() const { return warmup_errors_; }
  const std::string& last_error() const { return last_error_; }
  std::optional<double> cpu_window_s() const {
    if (!cpu_at_start_ || !cpu_at_end_) return std::nullopt;
    return *cpu_at_end_ - *cpu_at_start_;
  }

  void succeeded(ClientId client) override { done(client, true, {}); }
  void failed(ClientId client, std::string_view why) override { done(client, false, why); }
  void fatal(std::string_view why) override { stop_with(why); }

 private:
  struct Client {
    std::string payload;
    std::uint64_t seq = 0;
    Clock::time_point started;
    bool outstanding = false;
  };

  void arm_timers() {
    const auto now = Clock::now();
    add_timer(shared_.window_start - now, &Worker::on_window_start, false);
    add_timer(shared_.window_end - now, &Worker::on_window_end, false);
    add_timer(std::chrono::milliseconds(50), &Worker::on_tick, true);
    add_timer(options_.retry_pause, &Worker::on_retry, true);
    resume_.reset(event_new(base_.get(), -1, 0,
                            [](evutil_socket_t, short, void* self) {
                              static_cast<Worker*>(self)->on_resume();
                            },
                            this));
    if (!resume_) throw std::runtime_error("cannot create driver event");
    if (options_.stop_fd >= 0 && index_ == 0) {
      event* e = event_new(base_.get(), options_.stop_fd, EV_READ,
                           [](evutil_socket_t, short, void* self) {
                             static_cast<Worker*>(self)->stop_with("interrupted");
                           },
                           this);
      if (!e || event_add(e, nullptr) != 0) throw std::runtime_error("cannot watch stop fd");
      timers_.emplace_back(e);
    }
  }

  void add_timer(std::chrono::duration<double> after, void (Worker::*fn)(), bool persist) {
    struct Thunk {
      static void call(evutil_socket_t, short, void* arg) {
        auto* bound = static_cast<Bound*>(arg);
        (bound->self->*(bound->fn))();
      }
    };
    bound_.push_back(std::make_unique<Bound>(Bound{this, fn}));
    event* e = event_new(base_.get(), -1, persist ? EV_PERSIST : 0, &Thunk::call, bound_.back().get());
    const timeval tv = to_timeval(after);
    if (!e || event_add(e, &tv) != 0) throw std::runtime_error("cannot add driver timer");
    timers_.emplace_back(e);
  }

  void on_window_start() {
    if (index_ == 0) cpu_at_start_ = process_cpu_seconds();
  }

  void on_window_end() {
    if (index_ == 0) cpu_at_end_ = process_cpu_seconds();
    stopped_ = true;
    event_base_loopbreak(base_.get());
  }

  void on_tick() {
    if (shared_.abort.load(std::memory_order_acquire)) {
      stopped_ = true;
      event_base_loopbreak(base_.get());
      return;
    }
    // A target that only fails ends the run rather than reporting zero throughput.
    if (failing_since_ && Clock::now() - *failing_since_ >= options_.give_up_after) {
      stop_with(fmt_failure());
    }
  }

  std::string fmt_failure() const {
    return "every operation failed for " +
           std::to_string(static_cast<int>(options_.give_up_after.count())) +
           " s; last error: " + (last_error_.empty() ? "(none given)" : last_error_);
  }

  void on_retry() {
    if (retry_.empty() || stopped_) return;
    // Swap out first: issue() may push straight back onto retry_ via a synchronous failure.
    retry_batch_.swap(retry_);
    for (ClientId c : retry_batch_) issue(c);
    retry_batch_.clear();
  }

  void stop_with(std::string_view why) {
    shared_.fail(why);
    stopped_ = true;
    if (base_) event_base_loopbreak(base_.get());
  }

  Client& client(ClientId id) { return clients_[id - first_]; }
  bool owns(ClientId id) const { return id >= first_ && id - first_ < clients_.size(); }

  // Starts the next operation of ID. A completion that arrives synchronously inside
  // Target::start is queued and started from the next loop iteration, so neither the stack nor
  // an always-synchronous target can starve the loop's timers.
  void issue(ClientId id) {
    if (stopped_) return;
    if (starting_) {
      pending_.push_back(id);
      return;
    }
    starting_ = true;
    start_one(id);
    starting_ = false;
    if (!pending_.empty()) {
      // A zero timeout, not event_active: libevent runs events activated during a callback in
      // the same pass, which would never let the loop reach its timers.
      static constexpr timeval kNow{0, 0};
      event_add(resume_.get(), &kNow);
    }
  }

  void on_resume() {
    resume_batch_.swap(pending_);
    for (ClientId c : resume_batch_) issue(c);
    resume_batch_.clear();
  }

  void start_one(ClientId id) {
    Client& c = client(id);
    c.outstanding = true;
    const std::uint64_t seq = c.seq++;
    // The first bytes make each payload distinct: client id then sequence, little-endian.
    unsigned char tag[12];
    for (int i = 0; i < 4; ++i) tag[i] = static_cast<unsigned char>(id >> (8 * i));
    for (int i = 0; i < 8; ++i) tag[4 + i] = static_cast<unsigned char>(seq >> (8 * i));
    std::memcpy(c.payload.data(), tag, std::min(sizeof tag, c.payload.size()));
    c.started = Clock::now();
    target_->start(id, seq, c.payload);
  }

  void done(ClientId id, bool ok, std::string_view why) {
    if (!owns(id) || !client(id).outstanding) {
      stop_with("target completed an operation of client " + std::to_string(id) +
                " that was not outstanding");
      return;
    }
    Client& c = client(id);
    c.outstanding = false;
    const auto now = Clock::now();
    // Decided by the clock, not by the timers, which may fire a little late.
    const bool in_window = now >= shared_.window_start && now < shared_.window_end;
    if (ok) {
      failing_since_.reset();
      if (in_window) {
        ++ops_;
        latency_.record(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - c.started).count()));
      }
      issue(id);
      return;
    }
    if (in_window) {
      ++errors_;
    } else if (now < shared_.window_start) {
      ++warmup_errors_;
    }
    last_error_.assign(why);
    if (!failing_since_) failing_since_ = now;
    if (!stopped_) retry_.push_back(id);
  }

  struct Bound {
    Worker* self;
    void (Worker::*fn)();
  };

  const LoadOptions& options_;
  Shared& shared_;
  const unsigned index_;
  const ClientId first_;
  std::vector<Client> clients_;
  EventBasePtr base_;
  std::unique_ptr<Target> target_;
  std::vector<std::unique_ptr<Bound>> bound_;
  std::vector<EventPtr> timers_;
  std::vector<ClientId> pending_;
  std::vector<ClientId> retry_;
  std::vector<ClientId> retry_batch_;
  std::vector<ClientId> resume_batch_;
  EventPtr resume_;
  bool starting_ = false;
  bool stopped_ = false;
  std::optional<Clock::time_point> failing_since_;
  Histogram latency_;
  std::uint64_t ops_ = 0, errors_ = 0, warmup_errors_ = 0;
  std::string last_error_;
  std::optional<double> cpu_at_start_, cpu_at_end_;
};

}  // namespace

Result run_closed_loop(const LoadOptions& options, const TargetFactory& make_target) {
  if (options.clients == 0) throw std::invalid_argument("clients must be at least 1");
  if (options.threads == 0) throw std::invalid_argument("threads must be at least 1");
  if (options.duration.count() <= 0) throw std::invalid_argument("duration must be positive");
  if (options.warmup.count() < 0) throw std::invalid_argument("warm-up must not be negative");
  const unsigned threads = std::min<unsigned>(options.threads, options.clients);

  Shared shared;
  shared.window_start = Clock::now() + std::chrono::duration_cast<Clock::duration>(options.warmup);
  shared.window_end = shared.window_start + std::chrono::duration_cast<Clock::duration>(options.duration);

  std::vector<std::unique_ptr<Worker>> workers;
  ClientId next = 0;
  for (unsigned w = 0; w < threads; ++w) {
    const std::uint32_t count = options.clients / threads + (w < options.clients % threads ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(options, shared, w, next, count));
    next += count;
  }
  {
    std::vector<std::jthread> running;
    for (unsigned w = 1; w < threads; ++w) {
      running.emplace_back([&, w] { workers[w]->run(make_target); });
    }
    workers[0]->run(make_target);
  }  // joins the other workers

  if (shared.abort.load()) {
    std::lock_guard lock(shared.mu);
    throw LoadError(shared.abort_reason);
  }

  Result result;
  result.clients = options.clients;
  result.size = options.payload_size;
  result.threads = threads;
  result.warmup_s = options.warmup.count();
  Histogram merged;
  for (const auto& w : workers) {
    merged.merge(w->latency());
    result.ops += w->ops();
    result.errors += w->errors();
    result.warmup_errors += w->warmup_errors();
    if (!w->last_error().empty()) result.last_error = w->last_error();
  }
  if (result.ops == 0) {
    throw LoadError(result.last_error.empty()
                        ? std::string("no operation completed during the measured window")
                        : "no operation succeeded; last error: " + result.last_error);
  }
  const double window = std::chrono::duration<double>(shared.window_end - shared.window_start).count();
  result.summarize(merged, window);
  if (auto cpu = workers[0]->cpu_window_s()) result.loadgen_cpu_pct = 100.0 * *cpu / window;
  return result;
}

}  // namespace lockstep::eval
