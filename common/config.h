// The cluster config: one libconfig file shared by every replica and by the tools that start
// them (configs/*.cfg). load_config() validates everything, so the rest of the code can trust
// the values: a bad file gives one ConfigError line naming the file, the line and the field.
//
//   name = "local-3";                        # cluster name, [A-Za-z0-9._-]{1,64}
//   key = "hex:00112233...";                 # cluster key: "hex:" + hex digits, or raw text
//   nodes = ( { id = 1; host = "10.77.0.1"; peer_port = 7000; proxy_port = 8000;
//               server_port = 9000; }, ... );  # 1, 3, 5 or 7 nodes, ids 1..n
//   timeouts = { tick_ms = 10; heartbeat_ms = 50;
//                election_timeout_min_ms = 300; election_timeout_max_ms = 600; };
//   batching = { max_batch_bytes = 262144; max_batch_delay_us = 200; batch_quiet_us = 30;
//                max_message_bytes = 4194304; max_inflight_bytes = 67108864; };
//   storage = { data_dir = "/var/lib/lockstep/local-3"; durability = "fsync"; };
//   cpu_quota_percent = 0;                   # per replica; 0 = no limit
//
// Every group and every field except name, key and nodes is optional (defaults below).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/durability.h"

namespace lockstep {

struct NodeConfig {
  uint32_t id = 0;          // 1..n
  std::string host;         // IPv4 dotted quad
  uint16_t peer_port = 0;   // replica <-> replica (paxos frames)
  uint16_t proxy_port = 0;  // clients of the replicated server connect here
  uint16_t server_port = 0; // where the local server listens (inside its container)
};

struct TimeoutConfig {
  uint32_t tick_ms = 10;
  uint32_t heartbeat_ms = 50;
  uint32_t election_timeout_min_ms = 300;
  uint32_t election_timeout_max_ms = 600;
};

struct BatchConfig {
  uint32_t max_batch_bytes = 256 * 1024;       // payload bytes the leader puts in one entry
  uint32_t max_batch_delay_us = 200;           // longest a submission waits for a batch to fill
  uint32_t batch_quiet_us = 30;  // cut sooner once no submission has arrived for this long; 0 = never
  uint32_t max_message_bytes = 4 * 1024 * 1024;  // largest frame payload sent or accepted
  uint64_t max_inflight_bytes = 64 * 1024 * 1024;  // proposed but not yet committed
};


struct StorageConfig {
  std::string data_dir;  // default /var/lib/lockstep/<name>; node N uses <data_dir>/node-N
  Durability durability = Durability::fsync;
};

struct ClusterConfig {
  std::string source;  // the file it was read from (for messages)
  std::string name;
  std::string key;     // raw key bytes (hex already decoded)
  std::vector<NodeConfig> nodes;  // sorted by id: nodes[i].id == i + 1
  TimeoutConfig timeouts;
  BatchConfig batching;
  StorageConfig storage;
  uint32_t cpu_quota_percent = 0;  // CPU share of one replica's server, 100 = one core; 0 = none

  // The node with this id; throws std::out_of_range if there is none.
  const NodeConfig& node(uint32_t id) const;
  size_t quorum() const { return nodes.size() / 2 + 1; }
  std::string node_data_dir(uint32_t id) const;
};

// what() is one line: "FILE:LINE: FIELD: MESSAGE" (LINE is omitted when no line applies, e.g. a
// required field that is missing from the top level; FIELD when the error is not about one field,
// e.g. a syntax error).
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, int line, std::string field, std::string message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  const std::string& field() const { return field_; }
  const std::string& message() const { return message_; }

 private:
  std::string file_;
  int line_;
  std::string field_;
  std::string message_;
};

// Reads and validates a config file. Throws ConfigError.
ClusterConfig load_config(const std::string& path);
// The same from text; `file` is only used in error messages.
ClusterConfig parse_config(const std::string& text, const std::string& file);

// Rewrites `path` with hosts[i] as the host of node i+1, through libconfig (comments in the file
// are not kept). Validates the file, the count and syntax of the addresses and the resulting
// config before writing; writes a temporary file in the same directory and renames it over the
// original, so on any error the file is untouched. Throws ConfigError.
void set_node_hosts(const std::string& path, const std::vector<std::string>& hosts);

// True for a dotted-quad IPv4 address (inet_pton syntax: no leading zeros, no shorthand).
bool is_ipv4(std::string_view text);

}  // namespace lockstep
