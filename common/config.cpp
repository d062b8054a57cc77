#include "common/config.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <initializer_list>
#include <map>
#include <memory>

#include "common/config_validate.h"

namespace lockstep {


ConfigError::ConfigError(std::string file, int line, std::string field, std::string message)
    : std::runtime_error([&] {
        std::string s = file;
        if (line > 0) s += fmt::format(":{}", line);
        s += ": ";
        if (!field.empty()) s += field + ": ";
        return s + message;
      }()),
      file_(std::move(file)),
      line_(line),
      field_(std::move(field)),
      message_(std::move(message)) {}

const NodeConfig& ClusterConfig::node(uint32_t id) const {
  if (id == 0 || id > nodes.size())
    throw std::out_of_range(fmt::format("no node {} in cluster {} ({} nodes)", id, name, nodes.size()));
  return nodes[id - 1];
}

std::string ClusterConfig::node_data_dir(uint32_t id) const {
  return fmt::format("{}/node-{}", storage.data_dir, node(id).id);
}

bool is_ipv4(std::string_view text) {
  if (text.empty() || text.size() > 15) return false;
  std::string s(text);
  in_addr addr;
  return inet_pton(AF_INET, s.c_str(), &addr) == 1;
}

namespace config_detail {
namespace {

// Bounds shared with the wire format (paxos/wire/frame.h kMaxFramePayloadLimit); common/ may not
// include paxos/, so the number is repeated here.
constexpr uint64_t kMaxMessageBytesLimit = uint64_t{1} << 30;
constexpr uint64_t kMinMessageBytes = 64 * 1024;
// Room for the message and entry headers around a full batch.
constexpr uint64_t kMessageHeadroom = 4096;

using libconfig::Setting;

// Reads one group of the tree, remembering which fields were consumed so that anything else
// (a typo, a field of another version) is reported instead of silently ignored.
class Group {
 public:
  Group(const Setting& setting, std::string path, const std::string& file)
      : s_(setting), path_(std::move(path)), file_(file) {}

  [[noreturn]] void fail(const Setting& at, const std::string& field, const std::string& msg) const {
    throw ConfigError(file_, static_cast<int>(at.getSourceLine()), field, msg);
  }
  [[noreturn]] void fail_here(const std::string& field, const std::string& msg) const {
    throw ConfigError(file_, line(), field, msg);
  }
  int line() const { return static_cast<int>(s_.getSourceLine()); }
  std::string field(const char* name) const { return path_.empty() ? name : path_ + "." + name; }
  const Setting& setting() const { return s_; }

  const Setting* find(const char* name) const {
    return s_.exists(name) ? &s_[name] : nullptr;
  }
  const Setting& require(const char* name) const {
    if (const Setting* s = find(name)) return *s;
    fail_here(field(name), "missing required setting");
  }

  // An integer in [lo, hi]; `fallback` when absent and optional.
  uint64_t integer(const char* name, uint64_t lo, uint64_t hi, const uint64_t* fallback) const {
    const Setting* s = find(name);
    if (!s) {
      if (fallback) return *fallback;
      fail_here(field(name), "missing required setting");
    }
    auto bad = [&] { fail(*s, field(name), fmt::format("expected an integer {}..{}", lo, hi)); };
    long long v = 0;
    if (s->getType() == Setting::TypeInt) {
      v = static_cast<int>(*s);
    } else if (s->getType() == Setting::TypeInt64) {
      v = static_cast<long long>(*s);
    } else {
      bad();
    }
    if (v < 0 || static_cast<uint64_t>(v) < lo || static_cast<uint64_t>(v) > hi) bad();
    return static_cast<uint64_t>(v);
  }
  uint64_t integer(const char* name, uint64_t lo, uint64_t hi, uint64_t fallback) const {
    return integer(name, lo, hi, &fallback);
  }
  uint64_t required_integer(const char* name, uint64_t lo, uint64_t hi) const {
    return integer(name, lo, hi, nullptr);
  }

  std::string string(const char* name, const std::string* fallback) const {
    const Setting* s = find(name);
    if (!s) {
      if (fallback) return *fallback;
      fail_here(field(name), "missing required setting");
    }
    if (s->getType() != Setting::TypeString) fail(*s, field(name), "expected a string");
    return static_cast<const char*>(*s);
  }

  // Anything in the group not named in `known` is an error.
  void only(std::initializer_list<const char*> known) const {
    for (int i = 0; i < s_.getLength(); ++i) {
      const Setting& child = s_[i];
      const char* n = child.getName();
      if (!n) continue;
      bool ok = std::any_of(known.begin(), known.end(),
                            [&](const char* k) { return std::strcmp(k, n) == 0; });
      if (!ok) fail(child, field(n), "unknown setting");
    }
  }

 private:
  const Setting& s_;
  std::string path_;
  const std::string& file_;
};

// A group-valued setting, or an empty optional group when absent.
const Setting* subgroup(const Group& parent, const char* name) {
  const Setting* s = parent.find(name);
  if (s && !s->isGroup()) parent.fail(*s, parent.field(name), "expected a group { ... }");
  return s;
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
  });
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "hex:..." is decoded; any other string is used as it is.
bool decode_key(const std::string& text, std::string& key) {
  constexpr std::string_view kHex = "hex:";
  if (text.rfind(kHex, 0) != 0) {
    key = text;
    return !key.empty();
  }
  std::string_view digits = std::string_view(text).substr(kHex.size());
  if (digits.empty() || digits.size() % 2 != 0) return false;
  key.clear();
  for (size_t i = 0; i < digits.size(); i += 2) {
    int hi = hex_digit(digits[i]), lo = hex_digit(digits[i + 1]);
    if (hi < 0 || lo < 0) return false;
    key.push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

void read_nodes(const Group& root, ClusterConfig& cfg) {
  const Setting& list = root.require("nodes");
  if (!list.isList() && !list.isArray())
    root.fail(list, "nodes", "expected a list ( { id = 1; ... }, ... )");
  const int n = list.getLength();
  if (n != 1 && n != 3 && n != 5 && n != 7)
    root.fail(list, "nodes", fmt::format("expected 1, 3, 5 or 7 nodes (an odd number), got {}", n));

  std::vector<NodeConfig> nodes(static_cast<size_t>(n));
  // host:port -> the field that claimed it, so a clash names both.
  std::map<std::string, std::string> endpoints;
  std::vector<bool> seen(static_cast<size_t>(n) + 1, false);
  for (int i = 0; i < n; ++i) {
    const Setting& s = list[i];
    std::string path = fmt::format("nodes[{}]", i);
    if (!s.isGroup()) root.fail(s, path, "expected a group { id = ...; host = ...; ... }");
    Group g(s, path, cfg.source);
    g.only({"id", "host", "peer_port", "proxy_port", "server_port"});
    NodeConfig node;
    node.id = static_cast<uint32_t>(g.required_integer("id", 1, static_cast<uint64_t>(n)));
    if (seen[node.id]) g.fail(g.require("id"), g.field("id"), fmt::format("duplicate node id {}", node.id));
    seen[node.id] = true;
    node.host = g.string("host", nullptr);
    if (!is_ipv4(node.host))
      g.fail(g.require("host"), g.field("host"),
             fmt::format("expected an IPv4 address like 10.77.0.1, got \"{}\"", node.host));
    if (node.host == "0.0.0.0" || node.host == "255.255.255.255")
      g.fail(g.require("host"), g.field("host"),
             fmt::format("{} is not the address of one machine", node.host));
    auto port = [&](const char* name) {
      auto p = static_cast<uint16_t>(g.required_integer(name, 1, 65535));
      std::string endpoint = fmt::format("{}:{}", node.host, p);
      auto [it, fresh] = endpoints.emplace(endpoint, g.field(name));
      if (!fresh)
        g.fail(g.require(name), g.field(name),
               fmt::format("{} is already used by {}", endpoint, it->second));
      return p;
    };
    node.peer_port = port("peer_port");
    node.proxy_port = port("proxy_port");
    node.server_port = port("server_port");
    nodes[node.id - 1] = std::move(node);
  }
  cfg.nodes = std::move(nodes);
}

void read_timeouts(const Group& root, ClusterConfig& cfg) {
  const Setting* s = subgroup(root, "timeouts");
  if (!s) return;
  Group g(*s, "timeouts", cfg.source);
  g.only({"tick_ms", "heartbeat_ms", "election_timeout_min_ms", "election_timeout_max_ms"});
  TimeoutConfig& t = cfg.timeouts;
  t.tick_ms = static_cast<uint32_t>(g.integer("tick_ms", 1, 1000, t.tick_ms));
  t.heartbeat_ms = static_cast<uint32_t>(g.integer("heartbeat_ms", 1, 10000, t.heartbeat_ms));
  t.election_timeout_min_ms =
      static_cast<uint32_t>(g.integer("election_timeout_min_ms", 1, 60000, t.election_timeout_min_ms));
  t.election_timeout_max_ms =
      static_cast<uint32_t>(g.integer("election_timeout_max_ms", 1, 60000, t.election_timeout_max_ms));
  auto line_of = [&](const char* name) { return g.find(name) ? g.find(name) : &g.setting(); };
  if (t.heartbeat_ms < t.tick_ms)
    g.fail(*line_of("heartbeat_ms"), g.field("heartbeat_ms"),
           fmt::format("must be at least tick_ms ({})", t.tick_ms));
  if (t.election_timeout_min_ms <= t.heartbeat_ms)
    g.fail(*line_of("election_timeout_min_ms"), g.field("election_timeout_min_ms"),
           fmt::format("must be greater than heartbeat_ms ({})", t.heartbeat_ms));
  if (t.election_timeout_max_ms < t.election_timeout_min_ms)
    g.fail(*line_of("election_timeout_max_ms"), g.field("election_timeout_max_ms"),
           fmt::format("must be at least election_timeout_min_ms ({})", t.election_timeout_min_ms));
}

void read_batching(const Group& root, ClusterConfig& cfg) {
  const Setting* s = subgroup(root, "batching");
  if (!s) return;
  Group g(*s, "batching", cfg.source);
  g.only({"max_batch_bytes", "max_batch_delay_us", "batch_quiet_us", "max_message_bytes", "max_inflight_bytes"});
  BatchConfig& b = cfg.batching;
  b.max_message_bytes = static_cast<uint32_t>(
      g.integer("max_message_bytes", kMinMessageBytes, kMaxMessageBytesLimit, b.max_message_bytes));
  uint64_t batch_default = std::min<uint64_t>(b.max_batch_bytes, b.max_message_bytes - kMessageHeadroom);
  b.max_batch_bytes = static_cast<uint32_t>(
      g.integer("max_batch_bytes", 1, b.max_message_bytes - kMessageHeadroom, batch_default));
  b.max_batch_delay_us =
      static_cast<uint32_t>(g.integer("max_batch_delay_us", 0, 1'000'000, b.max_batch_delay_us));
  b.batch_quiet_us = static_cast<uint32_t>(g.integer("batch_quiet_us", 0, 1'000'000, b.batch_quiet_us));
  b.max_inflight_bytes = g.integer("max_inflight_bytes", b.max_batch_bytes, uint64_t{1} << 40,
                                   std::max<uint64_t>(b.max_inflight_bytes, b.max_batch_bytes));
}

void read_storage(const Group& root, ClusterConfig& cfg) {
  cfg.storage.data_dir = "/var/lib/lockstep/" + cfg.name;
  const Setting* s = subgroup(root, "storage");
  if (!s) return;
  Group g(*s, "storage", cfg.source);
  g.only({"data_dir", "durability"});
  cfg.storage.data_dir = g.string("data_dir", &cfg.storage.data_dir);
  if (cfg.storage.data_dir.empty()) g.fail(g.require("data_dir"), g.field("data_dir"), "must not be empty");
  std::string fsync = "fsync";
  std::string d = g.string("durability", &fsync);
  if (auto parsed = parse_durability(d)) {
    cfg.storage.durability = *parsed;
  } else {
    g.fail(g.require("durability"), g.field("durability"),
           fmt::format("expected \"fsync\", \"write\" or \"none\", got \"{}\"", d));
  }
}

}  // namespace

ClusterConfig validate(const libconfig::Config& tree, const std::string& file) {
  ClusterConfig cfg;
  cfg.source = file;
  Group root(tree.getRoot(), "", file);
  root.only({"name", "key", "nodes", "timeouts", "batching", "storage", "cpu_quota_percent"});

  cfg.name = root.string("name", nullptr);
  if (!valid_name(cfg.name))
    root.fail(root.require("name"), "name", "expected 1-64 characters from [A-Za-z0-9._-]");
  std::string key_text = root.string("key", nullptr);
  if (!decode_key(key_text, cfg.key))
    root.fail(root.require("key"), "key",
              "expected a non-empty string, or \"hex:\" followed by an even number of hex digits");

  read_nodes(root, cfg);
  read_timeouts(root, cfg);
  read_batching(root, cfg);
  read_storage(root, cfg);
  cfg.cpu_quota_percent = static_cast<uint32_t>(root.integer("cpu_quota_percent", 0, 25600, uint64_t{0}));
  return cfg;
}

void parse_into(libconfig::Config& tree, const std::string& text, const std::string& file) {
  try {
    tree.readString(text);
  } catch (const libconfig::ParseException& e) {
    throw ConfigError(file, e.getLine(), "", e.getError());
  }
}

std::string read_file(const std::string& path) {
  auto fail = [&] { return ConfigError(path, 0, "", fmt::format("cannot read: {}", std::strerror(errno))); };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw fail();
  std::unique_ptr<int, void (*)(int*)> guard(&fd, [](int* f) { ::close(*f); });
  std::string text;
  char chunk[16384];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw fail();
    if (n == 0) break;
    text.append(chunk, static_cast<size_t>(n));
  }
  return text;
}

}  // namespace config_detail

ClusterConfig parse_config(const std::string& text, const std::string& file) {
  libconfig::Config tree;
  config_detail::parse_into(tree, text, file);
  return config_detail::validate(tree, file);
}

ClusterConfig load_config(const std::string& path) {
  return parse_config(config_detail::read_file(path), path);
}

}  // namespace lockstep
