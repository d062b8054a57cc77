// Messages exchanged by replicas. One struct for all kinds keeps the codec and the simulator
// simple; each kind uses the fields listed next to it and leaves the others at their defaults.
#pragma once

#include <string_view>

#include "paxos/core/types.h"

namespace lockstep::paxos {

enum class MessageType : uint8_t {
  // Phase 1, run only after a pre-vote showed the candidate could win, so a replica that was cut
  // off cannot disrupt a healthy leader when it returns.
  PreVote = 1,       // view = proposed view, log_index/log_view = candidate's last entry
  PreVoteReply = 2,  // view = proposed view, ok = would grant
  Prepare = 3,       // view, log_index/log_view = candidate's last entry
  PrepareReply = 4,  // view, ok = granted
  // Phase 2; an Accept with no entries is the heartbeat.
  Accept = 5,        // view, log_index/log_view = entry before `entries`, entries, commit
  AcceptReply = 6,   // view, ok; log_index = highest index known to match (ok) or a hint (!ok)
  // Submissions made at a follower travel to the leader.
  Forward = 7,       // view, proposals
};

std::string_view to_string(MessageType type);

struct Message {
  MessageType type = MessageType::Accept;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  View view = 0;
  Index log_index = 0;
  View log_view = 0;
  Index commit = 0;
  bool ok = false;
  std::vector<EntryPtr> entries;
  std::vector<Proposal> proposals;
};

}  // namespace lockstep::paxos
