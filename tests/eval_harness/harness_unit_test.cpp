// The eval harness without a cluster: mode parsing, reading ab's output, the renderings, and the
// run loop against a fake cluster and a fake client (a shell script printing ab-like output).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "eval/harness/client_output.h"
#include "eval/harness/error.h"
#include "eval/harness/modes.h"
#include "eval/harness/report.h"
#include "eval/harness/runner.h"
#include "eval/proc/signal_guard.h"
#include "eval/proc/temp_dir.h"

namespace lockstep::eval::harness {
namespace {

// The parts of a real `ab -q -c 8 -n 500` report the apache app's metrics read.
constexpr const char* kAbOutput = R"(This is ApacheBench, Version 2.3 <$Revision: 1903618 $>

Server Software:        Apache/2.4.62
Document Path:          /dyn
Concurrency Level:      8
Time taken for tests:   2.061 seconds
Complete requests:      500
Failed requests:        3
   (Connect: 0, Receive: 0, Length: 3, Exceptions: 0)
Non-2xx responses:      2
Requests per second:    242.61 [#/sec] (mean)
Time per request:       32.974 [ms] (mean)
Time per request:       4.122 [ms] (mean, across all concurrent requests)

Percentage of the requests served within a certain time (ms)
  50%     31
  66%     33
  95%     45
  98%     52
  99%     58
 100%     71 (longest request)
)";

std::vector<MetricRule> apache_rules() {
  return {{"throughput", R"(Requests per second:\s+([0-9.]+))", "req/s"},
          {"latency_ms", R"(Time per request:\s+([0-9.]+) \[ms\] \(mean\))", "ms"},
          {"failed", R"(Failed requests:\s+([0-9]+))", "requests"},
          {"p99_ms", R"(\s99%\s+([0-9]+))", "ms"}};
}

TEST(Modes, AvailableModesKeepTheirOrder) {
  EXPECT_EQ(parse_modes("proxy_only, orig"), (std::vector<std::string>{"proxy_only", "orig"}));
}

TEST(Modes, RefusesMissingUnknownDuplicateAndEmpty) {
  for (const char* bad : {"orig,fast", "orig,orig", "", "orig,,proxy_only"}) {
    EXPECT_THROW(parse_modes(bad), UsageError) << bad;
  }
  // Whichever modes are not switched on yet in modes.cpp (joint until its issue) are refused.
  int unavailable = 0;
  for (const auto& m : known_modes()) {
    if (m.available) {
      EXPECT_NO_THROW(parse_modes(m.name)) << m.name;
      continue;
    }
    ++unavailable;
    try {
      parse_modes(std::string("orig,") + m.name);
      FAIL() << m.name;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("not implemented yet"), std::string::npos) << e.what();
    }
  }
  EXPECT_GE(unavailable, 1);  // joint
}

TEST(OutputParser, ReadsAbAndCountsNon2xxAsFailed) {
  OutputParser p(apache_rules(), true);
  ClientNumbers n = p.parse(kAbOutput);
  EXPECT_TRUE(n.missing.empty());
  EXPECT_DOUBLE_EQ(n.values.at("throughput"), 242.61);
  EXPECT_DOUBLE_EQ(n.values.at("latency_ms"), 32.974);  // the mean, not "across all"
  EXPECT_DOUBLE_EQ(n.values.at("p99_ms"), 58);
  EXPECT_DOUBLE_EQ(n.failed, 5);
  EXPECT_DOUBLE_EQ(n.values.at("failed"), 5);
  OutputParser plain(apache_rules(), false);
  EXPECT_DOUBLE_EQ(plain.parse(kAbOutput).failed, 3);
}

TEST(OutputParser, ReportsMissingMetricsAndBadRegex) {
  OutputParser p(apache_rules(), true);
  ClientNumbers n = p.parse("apr_socket_recv: Connection reset by peer (104)\n");
  EXPECT_EQ(n.missing.size(), 4u);
  EXPECT_THROW(OutputParser({{"x", "([0-9]", ""}}, false), UsageError);
}

ModeRecord mode_with(const std::string& name, std::vector<double> throughputs) {
  ModeRecord m;
  m.mode = name;
  m.ok = true;
  int i = 0;
  for (double t : throughputs) {
    RoundRecord r;
    r.round = ++i;
    r.ok = true;
    r.metrics = {{"throughput", t}, {"latency_ms", 800 / t}, {"p99_ms", 10}, {"failed", 1}};
    m.rounds.push_back(r);
  }
  return m;
}

TEST(Report, MediansRatiosFailuresInEveryRendering) {
  EvalReport r;
  r.app = "apache";
  r.workload = "dyn";
  r.rounds = 3;
  r.metric_order = {"throughput", "latency_ms", "failed", "p99_ms"};
  r.modes.push_back(mode_with("orig", {100, 300, 200}));
  r.modes.back().divergences = std::map<int, int64_t>{};
  r.modes.push_back(mode_with("proxy_only", {150, 90, 180}));
  r.modes.back().divergences = std::map<int, int64_t>{{1, 0}, {2, 2}, {3, 1}};
  ModeRecord broken;
  broken.mode = "other";
  broken.error = "cluster up failed: boom";
  broken.log = "/x/logs/";
  r.modes.push_back(broken);

  nlohmann::json j = nlohmann::json::parse(render_json(r).dump());
  EXPECT_EQ(j["app"], "apache");
  EXPECT_DOUBLE_EQ(j["modes"]["orig"]["throughput"].get<double>(), 200);
  EXPECT_DOUBLE_EQ(j["modes"]["proxy_only"]["throughput"].get<double>(), 150);
  EXPECT_DOUBLE_EQ(j["modes"]["proxy_only"]["ratio_to_orig"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(j["modes"]["proxy_only"]["failed"].get<double>(), 3);  // summed, not a median
  EXPECT_EQ(j["modes"]["proxy_only"]["divergences"], 2);  // the most any replica counted
  EXPECT_EQ(j["modes"]["orig"]["divergences"], 0);
  EXPECT_EQ(j["modes"]["other"]["ok"], false);
  EXPECT_EQ(j["modes"]["other"]["error"], "cluster up failed: boom");
  EXPECT_TRUE(j["modes"]["other"]["throughput"].is_null());
  EXPECT_EQ(j["ok"], false);

  const std::string table = render_table(r);
  EXPECT_NE(table.find("75%"), std::string::npos) << table;
  EXPECT_NE(table.find("FAILED apache other: cluster up failed: boom (log: /x/logs/)"), std::string::npos) << table;
  const std::string csv = render_csv(r);
  EXPECT_NE(csv.find("apache,proxy_only,2,throughput,90\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("apache,proxy_only,all,divergences,2\n"), std::string::npos) << csv;
  const std::string md = render_summary(r);
  EXPECT_NE(md.find("| proxy_only | 150.0 | 90.0..180.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("r2=2"), std::string::npos) << md;
  EXPECT_NE(md.find("**other FAILED**"), std::string::npos) << md;
  EXPECT_NE(md.find("| proxy_only | 150.0 (90.0..180.0) |"), std::string::npos) << md;  // every metric
  EXPECT_NE(csv.find("apache,other,all,ok,0\n"), std::string::npos) << csv;  // failed before any round
  EXPECT_NE(csv.find("apache,proxy_only,all,divergences_r2,2\n"), std::string::npos) << csv;
}

class FakeCluster : public ClusterControl {
 public:
  std::string up(const std::string& mode) override {
    ++ups;
    if (mode == fail_mode) throw std::runtime_error("no namespace for you");
    return "127.0.0.1:1";
  }
  std::optional<std::map<int, int64_t>> divergences(const std::string& mode) override {
    if (mode == "orig") return std::map<int, int64_t>{};
    return std::map<int, int64_t>{{1, 4}};
  }
  void down() noexcept override { ++downs; }
  std::string log_hint(const std::string&) const override { return "/fake/logs/"; }
  std::string fail_mode;
  int ups = 0;
  int downs = 0;
};

// A client that prints the ab report, or fails when its target says so.
std::filesystem::path write_fake_client(const std::filesystem::path& dir) {
  std::filesystem::path ab = dir / "fake-ab";
  {
    std::ofstream out(ab);
    out << "#!/bin/sh\nif [ \"$1\" = bad ]; then echo 'apr_socket_recv: Connection reset by peer (104)'; exit 1; fi\n"
           "cat <<'EOF'\n"
        << kAbOutput << "EOF\n";
  }
  std::filesystem::permissions(ab, std::filesystem::perms::owner_all);
  return ab;
}

RunOptions fake_options(const std::filesystem::path& dir, const std::filesystem::path& client, const std::string& arg) {
  RunOptions o;
  o.app = "fake";
  o.workload = "w";
  o.modes = {"orig", "proxy_only"};
  o.rounds = 2;
  o.requests = 10;
  o.concurrency = 2;
  o.warmup_requests = 1;
  o.results_dir = dir;
  o.client_argv = [client, arg](const std::string&, int) { return std::vector<std::string>{client.string(), arg}; };
  return o;
}

TEST(Runner, RunsEveryModeAndRoundAndAlwaysTakesTheClusterDown) {
  TempDir dir("eval-harness");
  auto client = write_fake_client(dir.path());
  FakeCluster cluster;
  SignalGuard signals;
  std::ostringstream progress;
  EvalReport r = run_eval(cluster, fake_options(dir.path(), client, "good"), OutputParser(apache_rules(), true),
                          signals, progress);
  EXPECT_EQ(cluster.ups, 2);
  EXPECT_EQ(cluster.downs, 2);
  ASSERT_EQ(r.modes.size(), 2u);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.modes[1].rounds.size(), 2u);
  EXPECT_EQ(*r.modes[1].divergence_total(), 4);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "fake-proxy_only-round2.txt"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "fake-orig-warmup.txt"));
  EXPECT_NE(progress.str().find("fake proxy_only: round 2/2"), std::string::npos) << progress.str();
}

TEST(Runner, FailedUpAndFailedClientAreReportedNotDropped) {
  TempDir dir("eval-harness");
  auto client = write_fake_client(dir.path());
  FakeCluster cluster;
  cluster.fail_mode = "orig";
  SignalGuard signals;
  std::ostringstream progress;
  RunOptions o = fake_options(dir.path(), client, "bad");
  o.warmup_requests = 0;
  EvalReport r = run_eval(cluster, o, OutputParser(apache_rules(), true), signals, progress);
  EXPECT_EQ(cluster.downs, 2);  // also after the failed up
  ASSERT_EQ(r.modes.size(), 2u);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.modes[0].error.find("no namespace for you"), std::string::npos);
  EXPECT_EQ(r.modes[0].log, "/fake/logs/");
  ASSERT_EQ(r.modes[1].rounds.size(), 1u);  // the first failed round ends the mode
  EXPECT_NE(r.modes[1].error.find("exited with status 1"), std::string::npos) << r.modes[1].error;
  EXPECT_NE(r.modes[1].error.find("Connection reset"), std::string::npos) << r.modes[1].error;
  EXPECT_EQ(r.modes[1].log, (dir.path() / "fake-proxy_only-round1.txt").string());
}

TEST(Runner, RefusedModeIsReportedFailedWithoutAnUp) {
  TempDir dir("eval-harness");
  auto client = write_fake_client(dir.path());
  FakeCluster cluster;
  SignalGuard signals;
  std::ostringstream progress;
  RunOptions o = fake_options(dir.path(), client, "good");
  o.refused_modes["proxy_only"] = "app fake cannot run under the DMT runtime (mode proxy_only): why";
  EvalReport r = run_eval(cluster, o, OutputParser(apache_rules(), true), signals, progress);
  EXPECT_EQ(cluster.ups, 1);
  ASSERT_EQ(r.modes.size(), 2u);
  EXPECT_TRUE(r.modes[0].ok);
  EXPECT_FALSE(r.modes[1].ok);
  EXPECT_TRUE(r.modes[1].rounds.empty());
  EXPECT_EQ(r.modes[1].error, o.refused_modes["proxy_only"]);
  EXPECT_NE(render_table(r).find("FAILED fake proxy_only: app fake cannot run"), std::string::npos);
}

TEST(Runner, LongRoundsSayTheyAreStillRunning) {
  TempDir dir("eval-harness");
  const std::filesystem::path slow = dir.path() / "slow-client";
  {
    std::ofstream out(slow);
    out << "#!/bin/sh\nsleep 0.4\ncat <<'EOF'\n" << kAbOutput << "EOF\n";
  }
  std::filesystem::permissions(slow, std::filesystem::perms::owner_all);
  FakeCluster cluster;
  SignalGuard signals;
  std::ostringstream progress;
  RunOptions o = fake_options(dir.path(), slow, "good");
  o.modes = {"orig"};
  o.rounds = 1;
  o.warmup_requests = 0;
  o.progress_interval = std::chrono::milliseconds(100);
  EvalReport r = run_eval(cluster, o, OutputParser(apache_rules(), true), signals, progress);
  EXPECT_TRUE(r.ok());
  EXPECT_NE(progress.str().find("fake orig: round 1/1 running for 0s"), std::string::npos) << progress.str();
}

TEST(Runner, ResolvesClientsThroughPath) {
  EXPECT_EQ(resolve_executable("sh").substr(0, 1), "/");
  EXPECT_EQ(resolve_executable("/x/y"), "/x/y");
  EXPECT_THROW(resolve_executable("no-such-client-lockstep"), UsageError);
}

}  // namespace
}  // namespace lockstep::eval::harness
