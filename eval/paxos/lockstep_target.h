// The lockstep Target: each client owns one TCP connection to one node (client c to node
// c % n, so followers forward to the leader as they would for real clients) and submits its
// payload with a Submit frame; the operation succeeds when the node answers that the bytes are
// committed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "eval/loadgen/target.h"
#include "paxos/wire/frame.h"

namespace lockstep::eval {

class LockstepTarget final : public Target {
 public:
  LockstepTarget(std::vector<uint16_t> ports, std::string cluster, std::string key);
  ~LockstepTarget() override;
  void open(const TargetContext& context) override;
  void start(ClientId client, std::uint64_t seq, std::string_view payload) override;

 private:
  struct Connection;
  std::vector<uint16_t> ports_;
  std::string cluster_;
  wire::FrameCodec codec_;
  TargetContext ctx_;
  std::vector<std::unique_ptr<Connection>> conns_;
};

}  // namespace lockstep::eval
