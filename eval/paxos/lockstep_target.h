// The lockstep Target: clients submit their payload with a Submit frame over TCP connections to
// the nodes (connection i to node i % n, so followers forward to the leader as they would for
// real clients); the operation succeeds when the node answers that the bytes are committed. By
// default each client owns its connection; with fewer connections than clients, client c
// shares connection c % connections, its requests told apart by request id, as a client
// library multiplexes its callers over a few connections.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "eval/loadgen/target.h"
#include "paxos/wire/frame.h"

namespace lockstep::eval {

class LockstepTarget final : public Target {
 public:
  // connections: per load generator thread; 0 = one per client.
  LockstepTarget(std::vector<uint16_t> ports, std::string cluster, std::string key, uint32_t connections = 0);
  ~LockstepTarget() override;
  void open(const TargetContext& context) override;
  void start(ClientId client, std::uint64_t seq, std::string_view payload) override;

 private:
  struct Connection;
  struct Client {
    Connection* connection = nullptr;  // the one its requests go over
    bool busy = false;
    uint32_t operation = 0;  // numbers this client's operations; the low half of its request ids
  };
  Client& client(ClientId id) { return clients_[id - ctx_.first_client]; }
  std::vector<uint16_t> ports_;
  std::string cluster_;
  wire::FrameCodec codec_;
  TargetContext ctx_;
  uint32_t connections_;
  std::vector<Client> clients_;  // by client id - first_client
  std::vector<std::unique_ptr<Connection>> conns_;
};

}  // namespace lockstep::eval
