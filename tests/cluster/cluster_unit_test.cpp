// Pieces of cluster/ on their own: names, the cluster spec, app definitions, and (as root) real
// namespaces, veths, bridges, cgroup quotas and the plain launcher. Every kernel object is made
// under the test cluster name "tstunit" (10.78.4.0/24) and removed by the fixture even on failure.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "cluster/app.h"
#include "cluster/cgroup.h"
#include "cluster/error.h"
#include "cluster/launcher.h"
#include "cluster/manager.h"
#include "cluster/netns.h"
#include "cluster/proc.h"
#include "cluster/readiness.h"
#include "cluster/spec.h"
#include "cluster/subprocess.h"

namespace lockstep::cluster {
namespace {

namespace fs = std::filesystem;

// The config files the tests write; removed once every test has run.
std::vector<std::string>& temp_files() {
  static std::vector<std::string> files;
  return files;
}

class RemoveTempFiles : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    for (const auto& f : temp_files()) fs::remove(f, ec);
  }
};
[[maybe_unused]] ::testing::Environment* const remove_temp_files =
    ::testing::AddGlobalTestEnvironment(new RemoveTempFiles);

std::string write_temp(const std::string& name, const std::string& text) {
  std::string path = fs::temp_directory_path() / ("lockstep-cluster-unit-" + name);
  std::ofstream(path) << text;
  temp_files().push_back(path);
  return path;
}

std::string config_text(const std::string& host1, int quota_percent) {
  return "name = \"tstunit\";\nkey = \"hex:00112233445566778899aabbccddeeff\";\nnodes = (\n"
         "  { id = 1; host = \"" + host1 + "\"; peer_port = 7000; proxy_port = 8000; server_port = 9000; },\n"
         "  { id = 2; host = \"10.78.4.2\"; peer_port = 7000; proxy_port = 8000; server_port = 9000; },\n"
         "  { id = 3; host = \"10.78.4.3\"; peer_port = 7000; proxy_port = 8000; server_port = 9000; }\n);\n"
         "storage = { data_dir = \"/tmp/lockstep-test/tstunit\"; };\ncpu_quota_percent = " +
         std::to_string(quota_percent) + ";\n";
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(ClusterStatus, LeaderServiceIsTheRunningNodeThatSaysLeader) {
  ClusterStatus st;
  auto replica = [](int id, bool running, const char* role) {
    ReplicaStatus r;
    r.id = id;
    r.service = "10.0.0." + std::to_string(id) + ":8000";
    r.node_running = running;
    r.node_pid = running ? 100 + id : 0;
    if (role) r.node["role"] = role;
    return r;
  };
  EXPECT_EQ(leader_service(st), std::nullopt);
  st.replicas = {replica(1, true, "follower"), replica(2, true, nullptr), replica(3, true, "candidate")};
  EXPECT_EQ(leader_service(st), std::nullopt);  // no leader yet: the caller falls back or waits
  st.replicas.push_back(replica(4, false, "leader"));  // a dead node's last word does not count
  EXPECT_EQ(leader_service(st), std::nullopt);
  st.replicas[2].node["role"] = "leader";
  EXPECT_EQ(leader_service(st), "10.0.0.3:8000");
}

TEST(ClusterNames, ShortNamesAreTheirOwnTagAndLongOnesFitInterfaceNames) {
  ClusterNames shortn("local3");
  EXPECT_EQ(shortn.bridge(), "lkb-local3");
  EXPECT_EQ(shortn.veth_host(12), "lkh-local3-12");
  for (const char* name : {"local-3", "a-very-long-cluster-name.with.dots", "UPPER"}) {
    ClusterNames n(name);
    EXPECT_LE(n.veth_host(999).size(), 15u) << name;
    EXPECT_LE(n.bridge().size(), 15u) << name;
  }
  EXPECT_NE(ClusterNames("local-3").tag(), ClusterNames("local-4").tag());
}

TEST(ClusterNames, RecognisesOnlyItsOwnObjects) {
  ClusterNames local("local");
  EXPECT_EQ(local.netns_id("lkst-local-2"), 2);
  EXPECT_FALSE(local.netns_id("lkst-local-3-1"));  // replica 1 of cluster "local-3"
  EXPECT_FALSE(local.netns_id("lkst-local-"));
  EXPECT_EQ(local.veth_id(local.veth_host(7)), 7);
  EXPECT_FALSE(local.veth_id(local.bridge()));
}

TEST(ClusterSpec, ConvertsTheSharedConfig) {
  ClusterSpec spec = load_cluster_spec(write_temp("ok.cfg", config_text("10.78.4.1", 50)));
  EXPECT_EQ(spec.name, "tstunit");
  EXPECT_DOUBLE_EQ(spec.cpu_quota, 0.5);
  EXPECT_EQ(spec.gateway, "10.78.4.254");
  ASSERT_EQ(spec.nodes.size(), 3u);
  EXPECT_EQ(spec.nodes[1].data_dir, "/tmp/lockstep-test/tstunit/node-2");
  EXPECT_EQ(spec.node(3).host, "10.78.4.3");
  EXPECT_THROW(spec.node(4), UsageError);
}

TEST(ClusterSpec, RejectsAddressesNamespacesCannotUse) {
  std::string loopback = write_temp("lo.cfg", config_text("127.0.0.1", 50));
  EXPECT_NE(error_of([&] { load_cluster_spec(loopback); }).find("loopback"), std::string::npos);
  std::string gateway = write_temp("gw.cfg", config_text("10.78.4.254", 50));
  // node 1 at .254 makes the gateway .254 too
  EXPECT_NE(error_of([&] { load_cluster_spec(gateway); }).find("used twice"), std::string::npos);
  std::string missing = write_temp("missing.cfg", "name = \"x\";\n");
  EXPECT_THROW(load_cluster_spec(missing), UsageError);
}

TEST(AppDef, LoadsTheShippedApps) {
  AppDef apache = load_app(default_apps_dir(), "apache");
  EXPECT_EQ(apache.workload("").name, "dyn");
  EXPECT_EQ(apache.workload("static").name, "static");
  EXPECT_FALSE(apache.ready.http_path.empty());
  Vars vars{{"host", "10.0.0.1"}, {"port", "80"}, {"id", "1"}, {"data_dir", "/d"}, {"app_dir", "/a"},
            {"bin_dir", "/b"}, {"target", "10.0.0.1:80"}, {"requests", "5"}, {"concurrency", "2"}};
  std::vector<std::string> cmd = expand(apache.workload("dyn").command, vars);
  EXPECT_EQ(cmd.back(), "http://10.0.0.1:80/dyn");
  EXPECT_EQ(client_argv(apache, "static", "10.0.0.9:81", 100, 4),
            (std::vector<std::string>{"ab", "-q", "-c", "4", "-n", "100", "http://10.0.0.9:81/index.html"}));
  EXPECT_EQ(client_argv(apache, "", "10.0.0.9:81")[4], "-n");
  EXPECT_EQ(client_argv(apache, "", "10.0.0.9:81")[5], "2000");  // client_defaults
  EXPECT_THROW(client_argv(apache, "nope", "10.0.0.9:81"), UsageError);
  AppDef echo = load_app(default_apps_dir(), "echo-mt");
  EXPECT_EQ(expand(echo.server, vars).front(), "/b/lockstep-echo-mt");
}

TEST(AppDef, ErrorsAreOneLineWithFileLineField) {
  std::string unknown = error_of([] { load_app(default_apps_dir(), "no-such-app"); });
  EXPECT_NE(unknown.find("unknown app 'no-such-app'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("apache"), std::string::npos) << unknown;
  EXPECT_EQ(unknown.find('\n'), std::string::npos);

  std::string dir = fs::temp_directory_path() / "lockstep-cluster-unit-apps";
  fs::create_directories(dir + "/typo");
  std::ofstream(dir + "/typo/app.cfg") << "server = [\"x\"];\nready = { http_path = \"nope\"; };\n"
                                          "workloads = ( { name = \"w\"; command = [\"c\"]; } );\n";
  std::string bad = error_of([&] { load_app(dir, "typo"); });
  EXPECT_NE(bad.find("typo/app.cfg:2: ready.http_path: must start with '/'"), std::string::npos) << bad;
  fs::remove_all(dir);

  EXPECT_THROW(expand("{nope}", Vars{}), UsageError);
  EXPECT_EQ(expand("{a}-{a}", Vars{{"a", "x"}}), "x-x");
}

TEST(AppDef, ReadsMetricsFromAbOutput) {
  AppDef apache = load_app(default_apps_dir(), "apache");
  std::string ab =
      "Complete requests:      2000\nFailed requests:        3\n"
      "Requests per second:    233.62 [#/sec] (mean)\nTime per request:       34.243 [ms] (mean)\n"
      "Time per request:       4.280 [ms] (mean, across all concurrent requests)\n"
      "  98%     90\n  99%    105\n 100%    200 (longest request)\n";
  std::map<std::string, double> got;
  for (const auto& m : apache.metrics)
    if (auto v = read_metric(m, ab)) got[m.name] = *v;
  EXPECT_DOUBLE_EQ(got["throughput"], 233.62);
  EXPECT_DOUBLE_EQ(got["latency_ms"], 4.280);  // the seed's figure: across all concurrent requests
  EXPECT_DOUBLE_EQ(got["request_ms"], 34.243);
  EXPECT_DOUBLE_EQ(got["failed"], 3);
  EXPECT_DOUBLE_EQ(got["p99_ms"], 105);
}

// Real kernel objects: needs root and iproute2.
class ClusterKernel : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    cleanup();
  }
  void TearDown() override { cleanup(); }
  void cleanup() {
    remove_cluster_network(names_);
    if (auto cpu = hierarchy()) remove_cgroup_tree(cluster_cgroup_path(*cpu, names_));
  }
  static std::optional<CpuHierarchy> hierarchy() {
    try {
      return find_cpu_hierarchy();
    } catch (const ClusterError&) {
      return std::nullopt;
    }
  }
  ClusterNames names_{"tstunit"};
};

uint64_t inode_of(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

TEST_F(ClusterKernel, NamespacesVethsAndBridgeComeAndGo) {
  {
    Bridge bridge(names_.bridge(), "10.78.4.254", 24);
    ReplicaNamespace ns1(names_.netns(1), names_.veth_host(1), bridge.name(), "10.78.4.1", 24, "10.78.4.254",
                         {7000, 49152});
    ReplicaNamespace ns2(names_.netns(2), names_.veth_host(2), bridge.name(), "10.78.4.2", 24, "10.78.4.254", {});
    EXPECT_TRUE(netns_exists(names_.netns(1)));
    // The replica's ports are kept out of the namespace's ephemeral range, and only there.
    EXPECT_EQ(run_capture({"ip", "netns", "exec", names_.netns(1), "cat", "/proc/sys/net/ipv4/ip_local_reserved_ports"}).output,
              "7000,49152\n");
    EXPECT_EQ(run_capture({"ip", "netns", "exec", names_.netns(2), "cat", "/proc/sys/net/ipv4/ip_local_reserved_ports"}).output,
              "\n");
    EXPECT_TRUE(link_exists(names_.veth_host(2)));
    EXPECT_TRUE(link_exists(names_.bridge()));
    // A second cluster object of the same name is refused, not merged.
    EXPECT_THROW(Bridge(names_.bridge(), "10.78.4.254", 24), ClusterError);

    // A process started by the plain launcher lives in the namespace and is reachable from the
    // root namespace through the bridge.
    auto launcher = make_plain_launcher();
    LaunchRequest req;
    req.name = "tstunit-echo";
    req.argv = {(fs::path(bin_dir()) / "lockstep-echo-mt").string(), "--listen", "10.78.4.1:9000", "--threads", "2"};
    if (!fs::exists(req.argv[0])) req.argv[0] = LOCKSTEP_ECHO_MT;
    req.netns = names_.netns(1);
    req.cwd = "/";
    ProcessRef echo = process_ref(launcher->start(req));
    EXPECT_EQ(inode_of("/proc/" + std::to_string(echo.pid) + "/ns/net"), inode_of("/run/netns/" + names_.netns(1)));
    wait_ready("echo", "10.78.4.1", 9000, ReadyCheck{"", 10000}, [&] { return process_alive(echo); });
    EXPECT_NE(probe_once("10.78.4.2", 9000, ReadyCheck{}), "");  // nothing listens in replica 2
    stop_process(echo, std::chrono::seconds(5));
    EXPECT_FALSE(process_alive(echo));
  }
  EXPECT_FALSE(netns_exists(names_.netns(1)));
  EXPECT_FALSE(netns_exists(names_.netns(2)));
  EXPECT_FALSE(link_exists(names_.bridge()));
}

TEST_F(ClusterKernel, ReleasedObjectsAreFoundByNameAfterACrash) {
  {
    Bridge bridge(names_.bridge(), "10.78.4.254", 24);
    ReplicaNamespace ns(names_.netns(3), names_.veth_host(3), bridge.name(), "10.78.4.3", 24, "10.78.4.254", {});
    ns.release();
    bridge.release();
  }
  ASSERT_TRUE(netns_exists(names_.netns(3)));
  std::vector<std::string> removed = remove_cluster_network(names_);
  EXPECT_GE(removed.size(), 2u);
  EXPECT_FALSE(netns_exists(names_.netns(3)));
  EXPECT_FALSE(link_exists(names_.veth_host(3)));
  EXPECT_FALSE(link_exists(names_.bridge()));
  EXPECT_TRUE(remove_cluster_network(names_).empty());
}

TEST_F(ClusterKernel, CpuQuotaLimitsABusyLoop) {
  auto cpu = hierarchy();
  if (!cpu) GTEST_SKIP() << "no cpu cgroup controller here";
  ReplicaCgroup cg(*cpu, names_, 1, 0.05);
  EXPECT_EQ(read_cpu_quota(*cpu, cg.path()), "5000 100000");
  SpawnOptions opt;
  opt.cgroup_procs = {cg.procs_file(ReplicaCgroup::Leaf::server)};
  ProcessRef loop = process_ref(spawn({"/bin/sh", "-c", "while :; do :; done"}, opt));
  auto cgroup_pids = cgroup_subtree_pids(cg.path());
  EXPECT_NE(std::find(cgroup_pids.begin(), cgroup_pids.end(), loop.pid), cgroup_pids.end());
  std::this_thread::sleep_for(std::chrono::seconds(3));  // measuring CPU use over a fixed time
  std::ifstream stat("/proc/" + std::to_string(loop.pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::string f;
  for (int i = 3; i < 14; ++i) fields >> f;  // fields 3..13
  long utime = 0, stime = 0;
  fields >> utime >> stime;
  double cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  stop_process(loop, std::chrono::seconds(2));
  // 5% of a CPU for 3 s is 0.15 s; an unlimited loop gets far more even on a busy machine.
  EXPECT_LT(cpu_seconds, 0.3) << "quota not enforced";
  EXPECT_GT(cpu_seconds, 0.0);
}

}  // namespace
}  // namespace lockstep::cluster
