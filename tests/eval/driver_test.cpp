// The closed-loop driver against fake in-process targets that answer after a libevent timer.
#include <event2/event.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "eval/loadgen/driver.h"

namespace lockstep::eval {
namespace {

using Clock = std::chrono::steady_clock;

// What the fake targets observed, shared across driver threads.
struct Observed {
  std::atomic<int> outstanding{0};
  std::atomic<int> max_outstanding{0};
  std::atomic<int> double_start{0};  // a client started while it had an operation in flight
  std::atomic<int> bad_payload{0};
  std::mutex mu;
  std::vector<Clock::time_point> successes;  // guarded by mu
  std::vector<std::uint32_t> clients_seen;   // ops per client, guarded by mu
};

// Answers each operation after LATENCY(now since run start); fails it if FAIL(...) says so.
class FakeTarget final : public Target {
 public:
  using LatencyFn = std::function<std::chrono::microseconds(Clock::duration since_start)>;
  using FailFn = std::function<bool(Clock::duration since_start)>;

  FakeTarget(Observed& obs, Clock::time_point t0, LatencyFn latency, FailFn fail = {})
      : obs_(obs), t0_(t0), latency_(std::move(latency)), fail_(std::move(fail)) {}

  ~FakeTarget() override {
    for (auto& s : slots_) {
      if (s.ev) event_free(s.ev);
    }
  }

  void open(const TargetContext& ctx) override {
    ctx_ = ctx;
    slots_.resize(ctx.clients);
    for (auto& s : slots_) {
      s.owner = this;
      s.ev = event_new(ctx.base, -1, 0, &FakeTarget::fire, &s);
    }
  }

  void start(ClientId client, std::uint64_t seq, std::string_view payload) override {
    Slot& s = slots_.at(client - ctx_.first_client);
    if (s.busy) ++obs_.double_start;
    s.busy = true;
    s.client = client;
    if (payload.size() != ctx_.payload_size || !payload_ok(client, seq, payload)) ++obs_.bad_payload;
    const int now_out = ++obs_.outstanding;
    int prev = obs_.max_outstanding.load();
    while (now_out > prev && !obs_.max_outstanding.compare_exchange_weak(prev, now_out)) {
    }
    const auto since = Clock::now() - t0_;
    s.fail = fail_ && fail_(since);
    const auto lat = latency_(since);
    const timeval tv{static_cast<time_t>(lat.count() / 1000000),
                     static_cast<suseconds_t>(lat.count() % 1000000)};
    event_add(s.ev, &tv);
  }

 private:
  struct Slot {
    FakeTarget* owner = nullptr;
    event* ev = nullptr;
    ClientId client = 0;
    bool busy = false;
    bool fail = false;
  };

  static bool payload_ok(ClientId client, std::uint64_t seq, std::string_view p) {
    if (p.size() < 12) return true;
    std::uint32_t c = 0;
    std::uint64_t s = 0;
    for (int i = 0; i < 4; ++i) c |= std::uint32_t{static_cast<unsigned char>(p[i])} << (8 * i);
    for (int i = 0; i < 8; ++i) s |= std::uint64_t{static_cast<unsigned char>(p[4 + i])} << (8 * i);
    return c == client && s == seq;
  }

  static void fire(evutil_socket_t, short, void* arg) {
    auto* s = static_cast<Slot*>(arg);
    FakeTarget& t = *s->owner;
    s->busy = false;
    --t.obs_.outstanding;
    if (s->fail) {
      t.ctx_.completions->failed(s->client, "fake failure");
      return;
    }
    {
      std::lock_guard lock(t.obs_.mu);
      t.obs_.successes.push_back(Clock::now());
    }
    t.ctx_.completions->succeeded(s->client);
  }

  Observed& obs_;
  Clock::time_point t0_;
  LatencyFn latency_;
  FailFn fail_;
  TargetContext ctx_;
  std::vector<Slot> slots_;
};

LoadOptions quick(std::uint32_t clients, double warmup_s, double duration_s) {
  LoadOptions o;
  o.clients = clients;
  o.payload_size = 32;
  o.warmup = std::chrono::duration<double>(warmup_s);
  o.duration = std::chrono::duration<double>(duration_s);
  return o;
}

TEST(Driver, ClosedLoopRespectsConcurrencyAndCountsOps) {
  Observed obs;
  const auto t0 = Clock::now();
  const auto opts = quick(8, 0.2, 1.0);
  const Result r = run_closed_loop(opts, [&](unsigned) {
    return std::make_unique<FakeTarget>(obs, t0, [](auto) { return std::chrono::microseconds(2000); });
  });
  EXPECT_EQ(obs.double_start.load(), 0);
  EXPECT_EQ(obs.bad_payload.load(), 0);
  EXPECT_EQ(obs.max_outstanding.load(), 8);  // every client busy, never more
  EXPECT_EQ(r.errors, 0u);
  EXPECT_EQ(r.clients, 8u);
  EXPECT_NEAR(r.seconds, 1.0, 1e-6);
  // Successes the target saw inside the window (t0 is taken just before the run, so the window
  // starts within microseconds of t0 + warm-up); boundary ops may differ by a few.
  std::size_t in_window = 0;
  for (auto t : obs.successes) {
    if (t >= t0 + std::chrono::milliseconds(200) && t < t0 + std::chrono::milliseconds(1200)) ++in_window;
  }
  EXPECT_NEAR(static_cast<double>(r.ops), static_cast<double>(in_window), 8.0);
  EXPECT_LT(r.ops, obs.successes.size());  // warm-up completions were excluded
  // Little's law for a closed loop: clients = throughput x mean latency.
  EXPECT_NEAR(r.ops_per_s * r.mean_us / 1e6, 8.0, 0.4);
  EXPECT_GE(r.p50_us, 2000.0);
  EXPECT_LT(r.p50_us, 10000.0);
  EXPECT_LE(r.p50_us, r.p99_us);
  EXPECT_LE(r.p99_us, r.p999_us);
  EXPECT_LE(r.p999_us, r.max_us);
}

TEST(Driver, WarmUpIsExcluded) {
  Observed obs;
  const auto t0 = Clock::now();
  // Slow (80 ms) and failing while warming up, fast (1 ms) and healthy afterwards.
  const auto opts = quick(4, 0.4, 0.6);
  const Result r = run_closed_loop(opts, [&](unsigned) {
    return std::make_unique<FakeTarget>(
        obs, t0,
        [](Clock::duration since) {
          return since < std::chrono::milliseconds(250) ? std::chrono::microseconds(80000)
                                                        : std::chrono::microseconds(1000);
        },
        [](Clock::duration since) { return since < std::chrono::milliseconds(100); });
  });
  EXPECT_EQ(r.errors, 0u);
  EXPECT_GT(r.warmup_errors, 0u);
  EXPECT_LT(r.max_us, 40000.0);  // no warm-up latency leaked into the window
  EXPECT_GT(r.ops, 500u);
}

TEST(Driver, ErrorsInsideTheWindowAreCounted) {
  Observed obs;
  const auto t0 = Clock::now();
  std::atomic<int> n{0};
  const Result r = run_closed_loop(quick(4, 0.1, 0.5), [&](unsigned) {
    return std::make_unique<FakeTarget>(
        obs, t0, [](auto) { return std::chrono::microseconds(1000); },
        [&](auto) { return ++n % 5 == 0; });  // every fifth operation fails
  });
  EXPECT_GT(r.errors, 0u);
  EXPECT_GT(r.ops, r.errors);
  EXPECT_EQ(r.last_error, "fake failure");
}

TEST(Driver, TargetThatAlwaysFailsEndsTheRun) {
  Observed obs;
  const auto t0 = Clock::now();
  auto opts = quick(4, 0.1, 30.0);
  opts.give_up_after = std::chrono::duration<double>(0.5);
  const auto start = Clock::now();
  try {
    run_closed_loop(opts, [&](unsigned) {
      return std::make_unique<FakeTarget>(
          obs, t0, [](auto) { return std::chrono::microseconds(1000); }, [](auto) { return true; });
    });
    FAIL() << "expected LoadError";
  } catch (const LoadError& e) {
    EXPECT_NE(std::string(e.what()).find("fake failure"), std::string::npos) << e.what();
  }
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
}

TEST(Driver, FatalFromTargetEndsTheRun) {
  struct Broken final : Target {
    void open(const TargetContext& ctx) override { ctx_ = ctx; }
    void start(ClientId, std::uint64_t, std::string_view) override {
      ctx_.completions->fatal("no endpoint reachable");
    }
    TargetContext ctx_;
  };
  try {
    run_closed_loop(quick(2, 0.0, 10.0), [](unsigned) { return std::make_unique<Broken>(); });
    FAIL() << "expected LoadError";
  } catch (const LoadError& e) {
    EXPECT_STREQ(e.what(), "no endpoint reachable");
  }
}

TEST(Driver, OpenThrowingEndsTheRun) {
  struct Unopenable final : Target {
    void open(const TargetContext&) override { throw std::runtime_error("cannot connect"); }
    void start(ClientId, std::uint64_t, std::string_view) override {}
  };
  EXPECT_THROW(run_closed_loop(quick(2, 0.0, 10.0), [](unsigned) { return std::make_unique<Unopenable>(); }),
               LoadError);
}

// A target that answers inside start() must neither recurse nor starve the loop's timers.
TEST(Driver, SynchronousCompletionsDoNotStarveTheLoop) {
  struct Instant final : Target {
    void open(const TargetContext& ctx) override { ctx_ = ctx; }
    void start(ClientId c, std::uint64_t, std::string_view) override { ctx_.completions->succeeded(c); }
    TargetContext ctx_;
  };
  const auto start = Clock::now();
  const Result r = run_closed_loop(quick(3, 0.05, 0.3), [](unsigned) { return std::make_unique<Instant>(); });
  EXPECT_GT(r.ops, 1000u);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
}

TEST(Driver, CompletingTwiceIsAProtocolError) {
  struct Twice final : Target {
    void open(const TargetContext& ctx) override { ctx_ = ctx; }
    void start(ClientId c, std::uint64_t, std::string_view) override {
      ctx_.completions->succeeded(c);
      ctx_.completions->succeeded(c);
    }
    TargetContext ctx_;
  };
  EXPECT_THROW(run_closed_loop(quick(1, 0.0, 5.0), [](unsigned) { return std::make_unique<Twice>(); }),
               LoadError);
}

TEST(Driver, StopFdInterrupts) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  Observed obs;
  const auto t0 = Clock::now();
  auto opts = quick(2, 0.0, 30.0);
  opts.stop_fd = fds[0];
  std::thread poke([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ASSERT_EQ(write(fds[1], "x", 1), 1);
  });
  try {
    run_closed_loop(opts, [&](unsigned) {
      return std::make_unique<FakeTarget>(obs, t0, [](auto) { return std::chrono::microseconds(1000); });
    });
    ADD_FAILURE() << "expected LoadError";
  } catch (const LoadError& e) {
    EXPECT_STREQ(e.what(), "interrupted");
  }
  poke.join();
  close(fds[0]);
  close(fds[1]);
}

TEST(Driver, SeveralThreadsShareTheClients) {
  Observed obs;
  const auto t0 = Clock::now();
  auto opts = quick(10, 0.1, 0.5);
  opts.threads = 3;
  std::atomic<int> made{0};
  const Result r = run_closed_loop(opts, [&](unsigned) {
    ++made;
    return std::make_unique<FakeTarget>(obs, t0, [](auto) { return std::chrono::microseconds(1000); });
  });
  EXPECT_EQ(made.load(), 3);
  EXPECT_EQ(r.threads, 3u);
  EXPECT_EQ(obs.max_outstanding.load(), 10);
  EXPECT_EQ(obs.double_start.load(), 0);
  EXPECT_EQ(obs.bad_payload.load(), 0);
  EXPECT_NEAR(r.ops_per_s * r.mean_us / 1e6, 10.0, 0.6);
}

TEST(Driver, BadOptionsAreRejected) {
  auto make = [](unsigned) -> std::unique_ptr<Target> { return nullptr; };
  EXPECT_THROW(run_closed_loop(quick(0, 0, 1), make), std::invalid_argument);
  EXPECT_THROW(run_closed_loop(quick(1, 0, 0), make), std::invalid_argument);
}

TEST(Result, JsonLineHasTheRequiredFields) {
  Result r;
  r.target = "x";
  r.ops = 10;
  r.extra["endpoints"] = "all";
  Histogram h;
  for (int i = 1; i <= 10; ++i) h.record(i * 1000);
  r.summarize(h, 2.0);
  const auto j = nlohmann::json::parse(to_json_line(r));
  EXPECT_EQ(j["ops_per_s"], 5.0);
  EXPECT_NEAR(j["p50_us"].get<double>(), 5.0, 0.05);
  EXPECT_NEAR(j["p99_us"].get<double>(), 10.0, 0.1);
  EXPECT_NEAR(j["p999_us"].get<double>(), 10.0, 0.1);
  EXPECT_EQ(j["endpoints"], "all");
  EXPECT_EQ(to_json_line(r).find('\n'), std::string::npos);
}

}  // namespace
}  // namespace lockstep::eval
