#include "tests/sim/sim_trace.h"

namespace lockstep::sim {

void Trace::mix_message(const paxos::Message& m) {
  mix(static_cast<uint64_t>(m.type) | (uint64_t{m.from} << 8) | (uint64_t{m.to} << 40));
  mix(m.view);
  mix(m.log_index);
  mix(m.log_view);
  mix(m.commit);
  mix(m.ok ? 1 : 0);
  mix(m.entries.size());
  if (!m.entries.empty()) mix(m.entries.front()->index);
  mix(m.proposals.size());
}

std::string describe(const paxos::Message& m) {
  std::string s = fmt::format("{} {}->{} view={}", paxos::to_string(m.type), m.from, m.to, m.view);
  switch (m.type) {
    case paxos::MessageType::PreVote:
    case paxos::MessageType::Prepare:
      s += fmt::format(" last={}@v{}", m.log_index, m.log_view);
      break;
    case paxos::MessageType::PreVoteReply:
    case paxos::MessageType::PrepareReply:
      s += m.ok ? " granted" : " refused";
      break;
    case paxos::MessageType::Accept:
      s += fmt::format(" prev={}@v{} commit={}", m.log_index, m.log_view, m.commit);
      if (!m.entries.empty()) {
        s += fmt::format(" entries=[{}..{}]", m.entries.front()->index, m.entries.back()->index);
      }
      break;
    case paxos::MessageType::AcceptReply:
      s += fmt::format(" {} index={}", m.ok ? "ok" : "REJECT", m.log_index);
      break;
    case paxos::MessageType::Forward:
      s += fmt::format(" proposals={}", m.proposals.size());
      break;
  }
  return s;
}

}  // namespace lockstep::sim
