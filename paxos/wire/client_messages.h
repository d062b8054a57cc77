// Payloads of the non-Paxos frame kinds. String fields are views: after decoding they point into
// the decoded payload (valid while the receive buffer is); for encoding they point at the caller's
// bytes. Copy what must outlive the buffer.
#pragma once

#include <cstdint>
#include <string_view>

#include "paxos/core/types.h"

namespace lockstep::wire {

enum class Role : uint8_t { Peer = 1, Client = 2 };

// First frame on every connection, in both directions. A peer names its node id; a client sends
// node_id 0. The receiver checks the cluster name and, for peers, that the id is in the config.
struct Hello {
  std::string_view cluster;
  Role role = Role::Peer;
  paxos::NodeId node_id = paxos::kNoNode;
  friend bool operator==(const Hello&, const Hello&) = default;
};

// client -> node: submit `data` to the replicated log. request_id is chosen by the client and
// echoed in the result; it need only be unique on that connection.
struct Submit {
  uint64_t request_id = 0;
  std::string_view data;
  friend bool operator==(const Submit&, const Submit&) = default;
};

enum class SubmitStatus : uint8_t {
  Ok = 0,                // committed at `index`
  NotLeaderUnknown = 1,  // no leader known right now (view change); retry later
  Overloaded = 2,        // in-flight limit reached; retry later
  Error = 3,             // failed; `detail` says why
};

// node -> client: outcome of one Submit.
struct SubmitResult {
  uint64_t request_id = 0;
  SubmitStatus status = SubmitStatus::Ok;
  paxos::Index index = 0;  // log index of the entry holding the submission (Ok only)
  std::string_view detail;
  friend bool operator==(const SubmitResult&, const SubmitResult&) = default;
};

}  // namespace lockstep::wire
