// Runs over several apps without a cluster: choosing apps and workloads, the progress estimate,
// run_suite against a fake cluster and client (a failed app and a failed mode kept in every
// rendering), the gnuplot charts (real gnuplot, PNG files checked) and the --doc page.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "eval/harness/charts.h"
#include "eval/harness/doc.h"
#include "eval/harness/error.h"
#include "eval/harness/machine.h"
#include "eval/harness/progress.h"
#include "eval/harness/report.h"
#include "eval/harness/runner.h"
#include "eval/harness/selection.h"
#include "eval/proc/signal_guard.h"
#include "eval/proc/temp_dir.h"

namespace lockstep::eval::harness {
namespace {

namespace fs = std::filesystem;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Selection, AllIsEveryAppButTestFixturesInNameOrder) {
  EXPECT_EQ(select_apps({"mysql", "echo-mt", "apache", "clamav"}, true, ""),
            (std::vector<std::string>{"apache", "clamav", "mysql"}));
  EXPECT_THROW(select_apps({"echo-mt"}, true, ""), UsageError);  // nothing left
  EXPECT_THROW(select_apps({"apache"}, true, "apache"), UsageError);
  EXPECT_THROW(select_apps({"apache"}, false, ""), UsageError);
}

TEST(Selection, ListKeepsItsOrderAndRefusesBadNames) {
  const std::vector<std::string> known = {"apache", "echo-mt", "mysql"};
  EXPECT_EQ(select_apps(known, false, "mysql, apache"), (std::vector<std::string>{"mysql", "apache"}));
  EXPECT_EQ(select_apps(known, false, "echo-mt"), (std::vector<std::string>{"echo-mt"}));  // explicitly asked
  for (const char* bad : {"apache,apache", "apache,,mysql", "apache,", "nginx"}) {
    EXPECT_THROW(select_apps(known, false, bad), UsageError) << bad;
  }
  try {
    select_apps(known, false, "nginx");
  } catch (const UsageError& e) {
    EXPECT_TRUE(has(e.what(), "known: apache, echo-mt, mysql")) << e.what();
  }
}

TEST(Selection, WorkloadsForAllAndPerApp) {
  using V = std::vector<std::string>;
  const V apps = {"apache", "mysql"};
  EXPECT_EQ(WorkloadChoice("", apps).for_app("apache"), V{""});
  WorkloadChoice mixed("static, mysql:ro", apps);
  EXPECT_EQ(mixed.for_app("apache"), V{"static"});
  EXPECT_EQ(mixed.for_app("mysql"), V{"ro"});
  EXPECT_EQ(WorkloadChoice("mysql:rw", apps).for_app("apache"), V{""});
  // Several workloads of one app, in the order given.
  WorkloadChoice both("dyn,static,mysql:rw,mysql:ro", apps);
  EXPECT_EQ(both.for_app("apache"), (V{"dyn", "static"}));
  EXPECT_EQ(both.for_app("mysql"), (V{"rw", "ro"}));
  for (const char* bad : {"a,a", "mysql:ro,mysql:ro", "clamav:x", "mysql:", ":ro", "static,"}) {
    EXPECT_THROW(WorkloadChoice(bad, apps), UsageError) << bad;
  }
}

TEST(Progress, EstimatesFromRoundsThenModesThenOtherApps) {
  double now = 0;
  std::ostringstream out;
  Progress p(out, 2, 2, 2, [&] { return now; });
  p.app_started("a");
  p.mode_started("orig");
  EXPECT_FALSE(p.seconds_left());  // nothing measured yet
  EXPECT_FALSE(has(p.position(), "left"));
  now = 5;
  p.round_done(4);
  // 1 round of this mode (4) + 1 mode of this app (2 rounds: 8) + 2 modes of app b (8 each).
  EXPECT_DOUBLE_EQ(*p.seconds_left(), 4 + 8 + 16);
  p.round_done(4);
  now = 12;
  p.mode_done(true);  // a mode of a took 12 s
  EXPECT_DOUBLE_EQ(*p.seconds_left(), 12 + 24);
  p.mode_started("proxy_only");
  now = 13;
  p.mode_done(false);  // failed modes do not count
  EXPECT_DOUBLE_EQ(*p.seconds_left(), 24);
  p.app_started("b");
  p.mode_started("orig");
  EXPECT_DOUBLE_EQ(*p.seconds_left(), 12 + 12);  // b is unmeasured: a's mode time
  EXPECT_EQ(p.position(), "app 2/2, mode 1/2, ~24s left");
  p.say("b", "orig", "hello");
  EXPECT_EQ(out.str(), "[eval    13.0s] b orig: hello\n");
  EXPECT_EQ(format_duration(75), "1m15s");
  EXPECT_EQ(format_duration(3900), "1h05m");
}

// Fake client: "throughput=T latency=L failed=0 p95=P", or a failure for target "bad".
fs::path write_client(const fs::path& dir) {
  fs::path c = dir / "fake-client";
  std::ofstream(c) << "#!/bin/sh\n[ \"$1\" = bad ] && { echo 'connect: refused'; exit 3; }\n"
                      "echo \"throughput=$2 latency=$3 failed=0 p95=9\"\n";
  fs::permissions(c, fs::perms::owner_all);
  return c;
}

std::vector<MetricRule> fake_rules() {
  return {{"throughput", R"(throughput=([0-9.]+))", "tps"},
          {"latency_ms", R"(latency=([0-9.]+))", "ms"},
          {"failed", R"(failed=([0-9]+))", "requests"},
          {"p95_ms", R"(p95=([0-9.]+))", "ms"}};
}

// Orig serves at 100/s, every other mode at half; latency the other way round.
class FakeCluster : public ClusterControl {
 public:
  explicit FakeCluster(std::string fail_mode, int* downs) : fail_mode_(std::move(fail_mode)), downs_(downs) {}
  std::string up(const std::string& mode) override {
    if (mode == fail_mode_) throw std::runtime_error("server did not start");
    return mode == "orig" ? "orig" : "other";
  }
  std::optional<std::map<int, int64_t>> divergences(const std::string& mode) override {
    if (mode == "orig") return std::map<int, int64_t>{};
    return std::map<int, int64_t>{{1, 0}, {2, 3}, {3, 1}};
  }
  void down() noexcept override { ++*downs_; }
  std::string log_hint(const std::string&) const override { return "/fake/node-1/logs/"; }

 private:
  std::string fail_mode_;
  int* downs_;
};

PlannedApp planned(const std::string& app, const fs::path& dir, const fs::path& client) {
  PlannedApp p;
  p.options.app = app;
  p.options.workload = "w";
  p.options.modes = {"orig", "proxy_only"};
  p.options.rounds = 2;
  p.options.requests = 10;
  p.options.concurrency = 2;
  p.options.results_dir = dir;
  p.options.client_argv = [client](const std::string& target, int) {
    const bool orig = target == "orig";
    return std::vector<std::string>{client.string(), target, orig ? "100" : "50", orig ? "2" : "4"};
  };
  p.parser.emplace(fake_rules(), false);
  return p;
}

struct SuiteRun {
  SuiteReport suite;
  std::string progress;
  int downs = 0;
};

// Three apps: alpha runs fine, broken could not be prepared, gamma's proxy_only does not come up.
SuiteRun run_three(const fs::path& dir) {
  const fs::path client = write_client(dir);
  std::vector<PlannedApp> plan = {planned("alpha", dir, client), planned("broken", dir, client),
                                  planned("gamma", dir, client)};
  plan[1].parser.reset();
  plan[1].error = "needs Debian packages not installed: nosuchpkg";
  SuiteRun run;
  ClusterFactory factory = [&run](const RunOptions& o) {
    return std::make_unique<FakeCluster>(o.app == "gamma" ? "proxy_only" : "", &run.downs);
  };
  SignalGuard signals;
  std::ostringstream progress;
  Progress p(progress, 3, 2, 2);
  run.suite = run_suite(plan, factory, signals, p);
  run.suite.several = true;
  run.suite.results_dir = dir.string();
  run.progress = progress.str();
  return run;
}

TEST(Suite, EveryAppAndModeIsReportedFailedOnesWithTheirReason) {
  TempDir dir("eval-suite");
  SuiteRun run = run_three(dir.path());
  const SuiteReport& s = run.suite;
  EXPECT_EQ(run.downs, 4);  // every mode that was tried, also the one whose up failed
  ASSERT_EQ(s.apps.size(), 3u);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.apps[0].ok());
  EXPECT_DOUBLE_EQ(*s.apps[0].mode("proxy_only")->median("throughput"), 50);
  ASSERT_EQ(s.apps[1].modes.size(), 2u);
  EXPECT_EQ(s.apps[1].modes[0].error, "needs Debian packages not installed: nosuchpkg");
  EXPECT_TRUE(s.apps[2].mode("orig")->ok);
  EXPECT_TRUE(has(s.apps[2].mode("proxy_only")->error, "server did not start"));
  EXPECT_EQ(s.apps[2].mode("proxy_only")->log, "/fake/node-1/logs/");
  EXPECT_TRUE(fs::exists(dir.path() / "gamma-orig-round2.txt"));

  const std::string table = render_table(s);
  EXPECT_TRUE(has(table, "FAILED broken orig: needs Debian packages")) << table;
  EXPECT_TRUE(has(table, "FAILED gamma proxy_only: cluster up failed: server did not start (log: /fake/node-1/logs/)"))
      << table;
  EXPECT_TRUE(has(table, "alpha      proxy_only")) << table;
  EXPECT_TRUE(has(table, "50%")) << table;

  const std::string csv = render_csv(s);
  EXPECT_EQ(csv.rfind("app,mode,round,metric,value\n", 0), 0u);
  EXPECT_EQ(csv.find("app,mode", 1), std::string::npos) << "one header";
  EXPECT_TRUE(has(csv, "alpha,proxy_only,2,throughput,50\n")) << csv;
  EXPECT_TRUE(has(csv, "alpha,proxy_only,1,p95_ms,9\n")) << csv;
  EXPECT_TRUE(has(csv, "broken,orig,all,ok,0\nbroken,proxy_only,all,ok,0\n")) << csv;
  EXPECT_TRUE(has(csv, "gamma,proxy_only,all,ok,0\n")) << csv;
  EXPECT_TRUE(has(csv, "gamma,orig,all,ok,1\n")) << csv;

  const std::string md = render_summary(s);
  EXPECT_TRUE(has(md, "| broken | w | orig | - |")) << md;
  EXPECT_TRUE(has(md, "**FAILED**: needs Debian packages not installed: nosuchpkg")) << md;
  EXPECT_TRUE(has(md, "| alpha | w | proxy_only | 50.0 | tps | 50.0..50.0 | 4.00 | 4.00..4.00 | - | 9 | 0 | 3 | 50% | 2.00x | ok |"))
      << md;
  EXPECT_TRUE(has(md, "## gamma (workload w)")) << md;
  EXPECT_TRUE(has(md, "Divergences per replica (proxy_only): r1=0 r2=3 r3=1")) << md;

  nlohmann::json j = nlohmann::json::parse(render_json(s).dump());
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[1]["app"], "broken");
  EXPECT_EQ(j[1]["ok"], false);
  EXPECT_EQ(j[1]["modes"]["orig"]["error"], "needs Debian packages not installed: nosuchpkg");
  EXPECT_DOUBLE_EQ(j[0]["modes"]["proxy_only"]["ratio_to_orig"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j[0]["modes"]["proxy_only"]["latency_ratio_to_orig"].get<double>(), 2);
  EXPECT_DOUBLE_EQ(j[0]["modes"]["proxy_only"]["p95_ms"].get<double>(), 9);
  EXPECT_EQ(j[0]["units"]["throughput"], "tps");
  EXPECT_EQ(j[2]["modes"]["proxy_only"]["ok"], false);

  // One app asked for alone keeps the proxy issue's shape: an object, not an array.
  SuiteReport one;
  one.apps.push_back(s.apps[0]);
  EXPECT_TRUE(render_json(one).is_object());
  one.several = true;  // --all that found one app
  EXPECT_TRUE(render_json(one).is_array());
}

// Two workloads of one app in one run: each entry goes by its label in files, CSV and table;
// the JSON keeps the app's name and adds the label.
TEST(Suite, SeveralWorkloadsOfOneAppAreTheirOwnEntries) {
  TempDir dir("eval-suite");
  const fs::path client = write_client(dir.path());
  std::vector<PlannedApp> plan = {planned("alpha", dir.path(), client), planned("alpha", dir.path(), client)};
  plan[0].options.label = "alpha-dyn";
  plan[1].options.label = "alpha-static";
  int downs = 0;
  ClusterFactory factory = [&downs](const RunOptions&) { return std::make_unique<FakeCluster>("", &downs); };
  SignalGuard signals;
  std::ostringstream progress;
  Progress p(progress, 2, 2, 2);
  SuiteReport s = run_suite(plan, factory, signals, p);
  s.several = true;
  EXPECT_TRUE(s.ok());
  EXPECT_TRUE(fs::exists(dir.path() / "alpha-static-proxy_only-round2.txt"));
  EXPECT_TRUE(has(render_csv(s), "\nalpha-dyn,orig,1,throughput,100\n")) << render_csv(s);
  EXPECT_TRUE(has(render_csv(s), "\nalpha-static,orig,1,throughput,100\n"));
  EXPECT_TRUE(has(render_table(s), "alpha-static proxy_only")) << render_table(s);
  EXPECT_TRUE(has(progress.str(), "alpha-static orig: round 1/2")) << progress.str();
  EXPECT_EQ(chart_data(s, "throughput"), "app orig proxy_only\nalpha-dyn 1.0000 0.5000\nalpha-static 1.0000 0.5000\n");
  nlohmann::json j = render_json(s);
  EXPECT_EQ(j[1]["app"], "alpha");
  EXPECT_EQ(j[1]["label"], "alpha-static");
}

TEST(Suite, ProgressNamesAppModeRoundAndEstimatesWhatIsLeft) {
  TempDir dir("eval-suite");
  SuiteRun run = run_three(dir.path());
  const std::string& p = run.progress;
  EXPECT_TRUE(has(p, "alpha orig: round 1/2 (10 requests, concurrency 2, against orig; app 1/3, mode 1/2)")) << p;
  EXPECT_TRUE(has(p, "alpha orig: round 2/2 (10 requests, concurrency 2, against orig; app 1/3, mode 1/2, ~")) << p;
  EXPECT_TRUE(has(p, "broken all: FAILED, not run: needs Debian packages")) << p;
  EXPECT_TRUE(has(p, "gamma orig: cluster up (app 3/3, mode 1/2, ~")) << p;
  EXPECT_TRUE(has(p, "round 1/2 done in")) << p;
  EXPECT_TRUE(has(p, "50.0 tps, 0 failed")) << p;
  EXPECT_TRUE(has(p, "all apps: done in")) << p;
}

// Ctrl-C during the second app: the first app's results stay, the second is "interrupted", the
// third "not run"; the cluster is down.
TEST(Suite, InterruptKeepsWhatFinishedAndNamesTheRest) {
  TempDir dir("eval-suite");
  const fs::path client = write_client(dir.path());
  std::vector<PlannedApp> plan = {planned("alpha", dir.path(), client), planned("beta", dir.path(), client),
                                  planned("gamma", dir.path(), client)};
  int downs = 0;
  class InterruptingCluster : public FakeCluster {
   public:
    using FakeCluster::FakeCluster;
    std::string up(const std::string& mode) override {
      raise(SIGINT);  // blocked by the SignalGuard: pending, as after a Ctrl-C
      return FakeCluster::up(mode);
    }
  };
  ClusterFactory factory = [&downs](const RunOptions& o) -> std::unique_ptr<ClusterControl> {
    if (o.app == "beta") return std::make_unique<InterruptingCluster>("", &downs);
    return std::make_unique<FakeCluster>("", &downs);
  };
  SignalGuard signals;
  std::ostringstream progress;
  Progress p(progress, 3, 2, 2);
  SuiteReport s = run_suite(plan, factory, signals, p);
  EXPECT_EQ(signals.take(), SIGINT);
  EXPECT_TRUE(s.interrupted);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(downs, 3);  // alpha's two modes, beta's first
  ASSERT_EQ(s.apps.size(), 3u);
  EXPECT_TRUE(s.apps[0].ok());
  EXPECT_TRUE(has(s.apps[1].modes[0].error, "interrupted"));
  EXPECT_TRUE(has(s.apps[2].modes[1].error, "not run"));
  EXPECT_TRUE(has(render_summary(s), "**The run was interrupted**"));
  EXPECT_TRUE(has(progress.str(), "all apps: interrupted after"));
}

void expect_png(const fs::path& p) {
  const std::string bytes = slurp(p);
  ASSERT_GT(bytes.size(), 1000u) << p;
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << p;
}

TEST(Charts, DataNormalizedToOrigFailedModesWithoutBar) {
  TempDir dir("eval-suite");
  SuiteRun run = run_three(dir.path());
  EXPECT_EQ(chart_data(run.suite, "throughput"),
            "app orig proxy_only\nalpha 1.0000 0.5000\nbroken - -\ngamma 1.0000 -\n");
  EXPECT_EQ(chart_data(run.suite, "latency_ms"),
            "app orig proxy_only\nalpha 1.0000 2.0000\nbroken - -\ngamma 1.0000 -\n");
  SuiteReport nothing;
  nothing.apps.push_back(run.suite.apps[1]);
  EXPECT_EQ(chart_data(nothing, "throughput"), "");
}

TEST(Charts, GnuplotWritesPngs) {
  TempDir dir("eval-suite");
  SuiteRun run = run_three(dir.path());
  ChartResult c = write_charts(run.suite, dir.path());
  EXPECT_EQ(c.error, "");
  EXPECT_EQ(c.files, (std::vector<std::string>{"throughput.png", "latency.png"}));
  expect_png(dir.path() / "throughput.png");
  expect_png(dir.path() / "latency.png");
  const std::string script = slurp(dir.path() / "charts.gp");
  EXPECT_TRUE(has(script, "columnheader")) << script;
  // gamma (third group) proxy_only (second of two bars) failed; broken's bars too.
  EXPECT_TRUE(has(script, "'failed' at 2.1667, graph 0.02")) << script;
  EXPECT_TRUE(has(script, "'failed' at 0.8333, graph 0.02")) << script;
}

TEST(Charts, MissingGnuplotIsReportedNotThrown) {
  TempDir dir("eval-suite");
  SuiteRun run = run_three(dir.path());
  ChartResult c = write_charts(run.suite, dir.path(), "no-such-gnuplot-lockstep");
  EXPECT_TRUE(c.files.empty());
  EXPECT_TRUE(has(c.error, "not found")) << c.error;
  run.suite.charts_error = c.error;
  EXPECT_TRUE(has(render_summary(run.suite), "No charts: client program 'no-such-gnuplot-lockstep'"));
}

TEST(Doc, PageWithMachineTableChartsAndKeptNotes) {
  TempDir dir("eval-suite");
  SuiteRun run = run_three(dir.path());
  ChartResult c = write_charts(run.suite, dir.path());
  run.suite.charts = c.files;
  for (auto& kv : machine_settings(read_machine_info())) run.suite.settings.push_back(kv);
  const fs::path doc = dir.path() / "docs" / "perf" / "apps.md";
  write_doc(doc, run.suite, dir.path());
  expect_png(dir.path() / "docs" / "perf" / "apps-throughput.png");
  expect_png(dir.path() / "docs" / "perf" / "apps-latency.png");
  std::string page = slurp(doc);
  EXPECT_TRUE(has(page, "![throughput](apps-throughput.png)")) << page;
  EXPECT_TRUE(has(page, "- cores: ")) << page;
  EXPECT_TRUE(has(page, "- kernel: Linux ")) << page;
  EXPECT_TRUE(has(page, "- load average at start (1/5/15 min): ")) << page;
  EXPECT_TRUE(has(page, "| gamma | w | proxy_only | - |")) << page;
  EXPECT_TRUE(has(page, "### alpha (workload w)")) << page;
  EXPECT_TRUE(has(page, kDocNotesMarker)) << page;

  // Hand-written notes after the marker survive the next run; the rest is regenerated.
  std::ofstream(doc, std::ios::app) << "## What limits each mode\n\nproxy_only: the log's latency.\n";
  run.suite.apps.pop_back();
  write_doc(doc, run.suite, dir.path());
  page = slurp(doc);
  EXPECT_TRUE(has(page, "proxy_only: the log's latency.\n")) << page;
  EXPECT_FALSE(has(page, "| gamma |")) << page;
  EXPECT_EQ(page.find(kDocNotesMarker), page.rfind(kDocNotesMarker));
}

}  // namespace
}  // namespace lockstep::eval::harness
