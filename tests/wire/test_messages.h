// Sample messages of every kind and a deep equality for paxos::Message, shared by the wire tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "paxos/core/message.h"

namespace lockstep::wire::testing {

inline paxos::EntryPtr make_entry(paxos::Index index, paxos::View view, int proposals) {
  auto e = std::make_shared<paxos::Entry>();
  e->index = index;
  e->view = view;
  e->stamp_ns = 1'700'000'000'123'456'789ULL + index;
  for (int i = 0; i < proposals; ++i) {
    paxos::Proposal p;
    p.id = {static_cast<paxos::NodeId>(1 + i % 3), 0xdeadbeefcafeULL, index * 100 + i};
    p.data = std::string(static_cast<size_t>(i) * 7, static_cast<char>('a' + i));
    p.data.push_back('\0');
    p.data.push_back('\xff');
    e->proposals.push_back(std::move(p));
  }
  return e;
}

// One message of each type, with every field the type uses set to something non-default.
inline std::vector<paxos::Message> sample_messages() {
  using paxos::MessageType;
  std::vector<paxos::Message> out;
  for (auto type : {MessageType::PreVote, MessageType::PreVoteReply, MessageType::Prepare,
                    MessageType::PrepareReply, MessageType::Accept, MessageType::AcceptReply,
                    MessageType::Forward}) {
    paxos::Message m;
    m.type = type;
    m.from = 2;
    m.to = 3;
    m.view = 0x0102030405060708ULL;
    m.log_index = 41;
    m.log_view = 6;
    m.commit = 40;
    m.ok = type == MessageType::PreVoteReply || type == MessageType::AcceptReply;
    if (type == MessageType::Accept) {
      m.entries = {make_entry(42, 7, 3), make_entry(43, 7, 0), make_entry(44, 7, 1)};
    }
    if (type == MessageType::Forward) {
      m.proposals = make_entry(1, 1, 4)->proposals;
    }
    out.push_back(std::move(m));
  }
  paxos::Message heartbeat;  // an Accept without entries
  heartbeat.type = MessageType::Accept;
  heartbeat.from = 1;
  heartbeat.view = 9;
  heartbeat.commit = 1000;
  out.push_back(heartbeat);
  return out;
}

inline bool same_entry(const paxos::Entry& a, const paxos::Entry& b) {
  if (a.index != b.index || a.view != b.view || a.stamp_ns != b.stamp_ns ||
      a.proposals.size() != b.proposals.size())
    return false;
  for (size_t i = 0; i < a.proposals.size(); ++i) {
    if (!(a.proposals[i].id == b.proposals[i].id) || a.proposals[i].data != b.proposals[i].data)
      return false;
  }
  return true;
}

inline bool same_message(const paxos::Message& a, const paxos::Message& b) {
  if (a.type != b.type || a.from != b.from || a.to != b.to || a.view != b.view ||
      a.log_index != b.log_index || a.log_view != b.log_view || a.commit != b.commit ||
      a.ok != b.ok || a.entries.size() != b.entries.size() ||
      a.proposals.size() != b.proposals.size())
    return false;
  for (size_t i = 0; i < a.entries.size(); ++i)
    if (!same_entry(*a.entries[i], *b.entries[i])) return false;
  for (size_t i = 0; i < a.proposals.size(); ++i)
    if (!(a.proposals[i].id == b.proposals[i].id) || a.proposals[i].data != b.proposals[i].data)
      return false;
  return true;
}

}  // namespace lockstep::wire::testing
