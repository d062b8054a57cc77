#include "common/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace lockstep {
namespace {

namespace fs = std::filesystem;

// Line numbers matter: errors below name them.
const std::vector<std::string> kBase = {
    R"(name = "t";)",
    R"(key = "secret";)",
    R"(nodes = ()",
    R"(  { id = 1; host = "10.0.0.1"; peer_port = 7000; proxy_port = 8000; server_port = 9000; },)",
    R"(  { id = 2; host = "10.0.0.2"; peer_port = 7000; proxy_port = 8000; server_port = 9000; },)",
    R"(  { id = 3; host = "10.0.0.3"; peer_port = 7000; proxy_port = 8000; server_port = 9000; })",
    R"();)",
    R"(timeouts = {)",
    R"(  tick_ms = 10;)",
    R"(  heartbeat_ms = 50;)",
    R"(  election_timeout_min_ms = 300;)",
    R"(  election_timeout_max_ms = 600;)",
    R"(};)",
    R"(batching = {)",
    R"(  max_batch_bytes = 262144;)",
    R"(  max_batch_delay_us = 200;)",
    R"(  max_message_bytes = 4194304;)",
    R"(  max_inflight_bytes = 67108864;)",
    R"(};)",
    R"(storage = {)",
    R"(  data_dir = "/tmp/x";)",
    R"(  durability = "fsync";)",
    R"(};)",
    R"(cpu_quota_percent = 50;)",
};

std::string join(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

// kBase with 1-based line `line` replaced.
std::string with(int line, const std::string& text) {
  auto lines = kBase;
  lines.at(static_cast<size_t>(line - 1)) = text;
  return join(lines);
}

std::string error_of(const std::string& text) {
  try {
    parse_config(text, "t.cfg");
  } catch (const ConfigError& e) {
    std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    return what;
  }
  return "(no error)";
}

std::string node_line(int id, const std::string& host, const std::string& rest) {
  return "  { id = " + std::to_string(id) + "; host = \"" + host + "\"; " + rest + " },";
}

TEST(Config, BaseParsesWithAllValues) {
  ClusterConfig c = parse_config(join(kBase), "t.cfg");
  EXPECT_EQ(c.source, "t.cfg");
  EXPECT_EQ(c.name, "t");
  EXPECT_EQ(c.key, "secret");
  ASSERT_EQ(c.nodes.size(), 3u);
  EXPECT_EQ(c.quorum(), 2u);
  for (uint32_t id = 1; id <= 3; ++id) {
    EXPECT_EQ(c.node(id).id, id);
    EXPECT_EQ(c.node(id).host, "10.0.0." + std::to_string(id));
    EXPECT_EQ(c.node(id).peer_port, 7000);
    EXPECT_EQ(c.node(id).proxy_port, 8000);
    EXPECT_EQ(c.node(id).server_port, 9000);
  }
  EXPECT_THROW(c.node(0), std::out_of_range);
  EXPECT_THROW(c.node(4), std::out_of_range);
  EXPECT_EQ(c.timeouts.heartbeat_ms, 50u);
  EXPECT_EQ(c.batching.max_message_bytes, 4194304u);
  EXPECT_EQ(c.storage.data_dir, "/tmp/x");
  EXPECT_EQ(c.node_data_dir(2), "/tmp/x/node-2");
  EXPECT_EQ(c.storage.durability, Durability::fsync);
  EXPECT_EQ(c.cpu_quota_percent, 50u);
}

TEST(Config, MinimalConfigGetsDefaults) {
  ClusterConfig c = parse_config(
      "name = \"m\"; key = \"hex:00ff10\";\n"
      "nodes = ( { id = 1; host = \"127.0.0.1\"; peer_port = 1; proxy_port = 2; server_port = 3; } );\n",
      "m.cfg");
  EXPECT_EQ(c.key, std::string("\x00\xff\x10", 3));
  ASSERT_EQ(c.nodes.size(), 1u);
  EXPECT_EQ(c.quorum(), 1u);
  EXPECT_EQ(c.timeouts.tick_ms, 10u);
  EXPECT_EQ(c.timeouts.heartbeat_ms, 50u);
  EXPECT_EQ(c.timeouts.election_timeout_min_ms, 300u);
  EXPECT_EQ(c.timeouts.election_timeout_max_ms, 600u);
  EXPECT_EQ(c.storage.durability, Durability::fsync);
  EXPECT_EQ(c.storage.data_dir, "/var/lib/lockstep/m");
  EXPECT_EQ(c.cpu_quota_percent, 0u);
  EXPECT_LE(c.batching.max_batch_bytes, c.batching.max_message_bytes);
  EXPECT_EQ(c.batching.max_batch_delay_us, 200u);
  EXPECT_EQ(c.batching.batch_quiet_us, 30u);
}

TEST(Config, BatchQuietTime) {
  auto lines = kBase;
  lines[15] = "  max_batch_delay_us = 400; batch_quiet_us = 0;";
  ClusterConfig c = parse_config(join(lines), "t.cfg");
  EXPECT_EQ(c.batching.max_batch_delay_us, 400u);
  EXPECT_EQ(c.batching.batch_quiet_us, 0u);
}

TEST(Config, NodesMayBeListedInAnyOrder) {
  auto lines = kBase;
  std::swap(lines[3], lines[5]);
  lines[3] += ",";
  lines[5].pop_back();
  ClusterConfig c = parse_config(join(lines), "t.cfg");
  EXPECT_EQ(c.nodes[0].host, "10.0.0.1");
  EXPECT_EQ(c.nodes[2].host, "10.0.0.3");
}

TEST(Config, LargeIntegersAndDurabilityNone) {
  auto lines = kBase;
  lines[17] = "  max_inflight_bytes = 100000000000L;";
  lines[21] = "  durability = \"none\";";
  ClusterConfig c = parse_config(join(lines), "t.cfg");
  EXPECT_EQ(c.batching.max_inflight_bytes, 100000000000ULL);
  EXPECT_EQ(c.storage.durability, Durability::none);
}

struct ErrorCase {
  int line;
  std::string text;
  std::string error;
};

TEST(ConfigErrors, NameFileLineAndField) {
  const std::string n1 = "peer_port = 7000; proxy_port = 8000; server_port = 9000;";
  const std::vector<ErrorCase> cases = {
      {1, R"(name = "a b";)", "t.cfg:1: name: expected 1-64 characters from [A-Za-z0-9._-]"},
      {1, R"(name = 5;)", "t.cfg:1: name: expected a string"},
      {1, "", "t.cfg: name: missing required setting"},
      {2, R"(key = "";)",
       "t.cfg:2: key: expected a non-empty string, or \"hex:\" followed by an even number of hex digits"},
      {2, R"(key = "hex:abc";)",
       "t.cfg:2: key: expected a non-empty string, or \"hex:\" followed by an even number of hex digits"},
      {2, R"(key = "hex:zz";)",
       "t.cfg:2: key: expected a non-empty string, or \"hex:\" followed by an even number of hex digits"},
      {4, node_line(1, "10.0.0.1", "peer_port = 70000; proxy_port = 8000; server_port = 9000;"),
       "t.cfg:4: nodes[0].peer_port: expected an integer 1..65535"},
      {4, node_line(1, "10.0.0.1", "peer_port = 0; proxy_port = 8000; server_port = 9000;"),
       "t.cfg:4: nodes[0].peer_port: expected an integer 1..65535"},
      {4, node_line(1, "10.0.0.1", "peer_port = \"7000\"; proxy_port = 8000; server_port = 9000;"),
       "t.cfg:4: nodes[0].peer_port: expected an integer 1..65535"},
      {4, node_line(1, "10.0.0.1", "peer_port = 7000; proxy_port = 7000; server_port = 9000;"),
       "t.cfg:4: nodes[0].proxy_port: 10.0.0.1:7000 is already used by nodes[0].peer_port"},
      {5, node_line(2, "10.0.0.1", n1),
       "t.cfg:5: nodes[1].peer_port: 10.0.0.1:7000 is already used by nodes[0].peer_port"},
      {5, node_line(2, "10.0.0.300", n1),
       "t.cfg:5: nodes[1].host: expected an IPv4 address like 10.77.0.1, got \"10.0.0.300\""},
      {5, node_line(2, "localhost", n1),
       "t.cfg:5: nodes[1].host: expected an IPv4 address like 10.77.0.1, got \"localhost\""},
      {5, "  { id = 2; host = 10; " + n1 + " },", "t.cfg:5: nodes[1].host: expected a string"},
      {5, node_line(2, "0.0.0.0", n1), "t.cfg:5: nodes[1].host: 0.0.0.0 is not the address of one machine"},
      {5, node_line(1, "10.0.0.2", n1), "t.cfg:5: nodes[1].id: duplicate node id 1"},
      {6, "  { id = 4; host = \"10.0.0.3\"; " + n1 + " }", "t.cfg:6: nodes[2].id: expected an integer 1..3"},
      {6, "  { id = 3; host = \"10.0.0.3\"; peer_port = 7000; proxy_port = 8000; }",
       "t.cfg:6: nodes[2].server_port: missing required setting"},
      {6, "  { id = 3; host = \"10.0.0.3\"; " + n1 + " colour = 1; }",
       "t.cfg:6: nodes[2].colour: unknown setting"},
      {6, "  5", "t.cfg:6: nodes[2]: expected a group { id = ...; host = ...; ... }"},
      {9, "  tick_ms = 0;", "t.cfg:9: timeouts.tick_ms: expected an integer 1..1000"},
      {9, "  tick_ms = 1.5;", "t.cfg:9: timeouts.tick_ms: expected an integer 1..1000"},
      {9, "  tick_ms = 100;", "t.cfg:10: timeouts.heartbeat_ms: must be at least tick_ms (100)"},
      {10, "  heartbeat_ms = 300;",
       "t.cfg:11: timeouts.election_timeout_min_ms: must be greater than heartbeat_ms (300)"},
      {10, "  heartbeat_ms = ;", "t.cfg:10: syntax error"},
      {12, "  election_timeout_max_ms = 200;",
       "t.cfg:12: timeouts.election_timeout_max_ms: must be at least election_timeout_min_ms (300)"},
      {15, "  max_batch_bytes = 4194304;", "t.cfg:15: batching.max_batch_bytes: expected an integer 1..4190208"},
      {17, "  max_message_bytes = 1000;",
       "t.cfg:17: batching.max_message_bytes: expected an integer 65536..1073741824"},
      {18, "  max_inflight_bytes = 1000;",
       "t.cfg:18: batching.max_inflight_bytes: expected an integer 262144..1099511627776"},
      {16, "  max_batch_delay_us = -1;", "t.cfg:16: batching.max_batch_delay_us: expected an integer 0..1000000"},
      {16, "  batch_quiet_us = 2000000;", "t.cfg:16: batching.batch_quiet_us: expected an integer 0..1000000"},
      {21, R"(  data_dir = "";)", "t.cfg:21: storage.data_dir: must not be empty"},
      {22, R"(  durability = "sometimes";)",
       "t.cfg:22: storage.durability: expected \"fsync\", \"write\" or \"none\", got \"sometimes\""},
      {22, R"(  durable = "fsync";)", "t.cfg:22: storage.durable: unknown setting"},
      {24, "cpu_quota_percent = -1;", "t.cfg:24: cpu_quota_percent: expected an integer 0..25600"},
      {24, "colour = 1;", "t.cfg:24: colour: unknown setting"},
  };
  for (const auto& c : cases) EXPECT_EQ(error_of(with(c.line, c.text)), c.error) << c.text;
}

TEST(ConfigErrors, StructuralProblems) {
  auto lines = kBase;
  lines.erase(lines.begin() + 5);  // node 3
  lines[4].pop_back();             // its comma
  EXPECT_EQ(error_of(join(lines)), "t.cfg:3: nodes: expected 1, 3, 5 or 7 nodes (an odd number), got 2");

  lines = kBase;
  lines[7] = "timeouts = 5;";
  for (int i = 8; i <= 12; ++i) lines[static_cast<size_t>(i)] = "";
  EXPECT_EQ(error_of(join(lines)), "t.cfg:8: timeouts: expected a group { ... }");

  lines = kBase;
  lines[2] = "nodes = 7;";
  for (int i = 3; i <= 6; ++i) lines[static_cast<size_t>(i)] = "";
  EXPECT_EQ(error_of(join(lines)), "t.cfg:3: nodes: expected a list ( { id = 1; ... }, ... )");

  EXPECT_EQ(error_of("name = \"x\"; key = \"k\";\n"), "t.cfg: nodes: missing required setting");
}

TEST(ConfigErrors, FieldAccessors) {
  try {
    parse_config(with(22, R"(  durability = "sometimes";)"), "t.cfg");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), "t.cfg");
    EXPECT_EQ(e.line(), 22);
    EXPECT_EQ(e.field(), "storage.durability");
  }
}

TEST(ConfigErrors, UnreadableFile) {
  try {
    load_config("/nonexistent/x.cfg");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/x.cfg: cannot read: No such file or directory");
  }
}

TEST(Ipv4, Syntax) {
  for (const char* ok : {"10.77.0.1", "127.0.0.1", "0.0.0.0", "255.255.255.255"}) EXPECT_TRUE(is_ipv4(ok)) << ok;
  for (const char* bad : {"", "10.77.0", "10.77.0.256", "10.77.0.01", "a.b.c.d", "::1", "10.77.0.1 ",
                          "10.77.0.1/24", "localhost"})
    EXPECT_FALSE(is_ipv4(bad)) << bad;
}

// A private directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "lockstep-config-test.XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string shipped(const char* name) { return std::string(LOCKSTEP_SOURCE_DIR) + "/configs/" + name; }

TEST(ShippedConfigs, LoadAndMatchTheirPurpose) {
  for (const char* name : {"local-3.cfg", "local-5.cfg"}) {
    ClusterConfig c = load_config(shipped(name));
    for (const auto& n : c.nodes) EXPECT_EQ(n.host, "10.77.0." + std::to_string(n.id)) << name;
    EXPECT_EQ(c.storage.durability, Durability::fsync);
    EXPECT_GE(c.key.size(), 16u);
  }
  EXPECT_EQ(load_config(shipped("local-3.cfg")).nodes.size(), 3u);
  EXPECT_EQ(load_config(shipped("local-5.cfg")).nodes.size(), 5u);
  ClusterConfig lo = load_config(shipped("loopback-3.cfg"));
  ASSERT_EQ(lo.nodes.size(), 3u);
  for (const auto& n : lo.nodes) EXPECT_EQ(n.host, "127.0.0.1");
}

TEST(SetIps, RoundTripKeepsEverythingElse) {
  TempDir dir;
  fs::path file = dir.path() / "c.cfg";
  fs::copy_file(shipped("local-5.cfg"), file);
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  ClusterConfig before = load_config(file.string());

  std::vector<std::string> ips = {"192.168.1.10", "192.168.1.11", "192.168.1.12", "192.168.1.13",
                                  "192.168.1.14"};
  set_node_hosts(file.string(), ips);
  ClusterConfig after = load_config(file.string());
  ASSERT_EQ(after.nodes.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(after.nodes[i].host, ips[i]);
    EXPECT_EQ(after.nodes[i].peer_port, before.nodes[i].peer_port);
    EXPECT_EQ(after.nodes[i].proxy_port, before.nodes[i].proxy_port);
    EXPECT_EQ(after.nodes[i].server_port, before.nodes[i].server_port);
  }
  EXPECT_EQ(after.name, before.name);
  EXPECT_EQ(after.key, before.key);
  EXPECT_EQ(after.timeouts.election_timeout_max_ms, before.timeouts.election_timeout_max_ms);
  EXPECT_EQ(after.batching.max_inflight_bytes, before.batching.max_inflight_bytes);
  EXPECT_EQ(after.storage.data_dir, before.storage.data_dir);
  EXPECT_EQ(after.cpu_quota_percent, before.cpu_quota_percent);
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);

  // And back again.
  set_node_hosts(file.string(), {"10.77.0.1", "10.77.0.2", "10.77.0.3", "10.77.0.4", "10.77.0.5"});
  for (const auto& n : load_config(file.string()).nodes) EXPECT_EQ(n.host, "10.77.0." + std::to_string(n.id));
}

TEST(SetIps, RefusesBadInputAndLeavesTheFileUntouched) {
  TempDir dir;
  fs::path file = dir.path() / "c.cfg";
  fs::copy_file(shipped("local-3.cfg"), file);
  const std::string original = slurp(file);
  auto refused = [&](const std::vector<std::string>& ips, const std::string& want) {
    try {
      set_node_hosts(file.string(), ips);
      ADD_FAILURE() << "accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
    EXPECT_EQ(slurp(file), original);
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
  };
  refused({"10.0.0.1", "10.0.0.2"}, "3 nodes but 2 addresses given");
  refused({"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"}, "3 nodes but 4 addresses given");
  refused({"10.0.0.1", "10.0.0.2", "10.0.0.999"}, "node 3: \"10.0.0.999\" is not an IPv4 address");
  refused({"10.0.0.1", "host2", "10.0.0.3"}, "node 2: \"host2\" is not an IPv4 address");
  // Same address twice with the same ports: the result would be invalid.
  refused({"10.0.0.1", "10.0.0.1", "10.0.0.3"}, "nodes[1].peer_port: 10.0.0.1:7000 is already used by nodes[0].peer_port");

  // An invalid file is not rewritten either.
  std::string broken = original;
  broken.replace(broken.find("durability = \"fsync\""), 20, "durability = \"maybe\"");
  { std::ofstream(file) << broken; }
  try {
    set_node_hosts(file.string(), {"10.0.0.1", "10.0.0.2", "10.0.0.3"});
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("storage.durability"), std::string::npos) << e.what();
  }
  EXPECT_EQ(slurp(file), broken);
}

}  // namespace
}  // namespace lockstep
