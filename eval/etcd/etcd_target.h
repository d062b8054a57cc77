// The etcd Target: each client owns one persistent keep-alive HTTP/1.1 connection to one etcd
// member and PUTs key "lockstep/<client>/<seq>" with the payload as value through etcd's v3 JSON
// gateway (POST /v3/kv/put, base64 key and value). The HTTP client is a small hand-written one
// over a bufferevent: one write per request, no allocation per request once warmed up.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "eval/loadgen/target.h"

namespace lockstep::eval {

class EtcdTarget final : public Target {
 public:
  // Client c talks to CLIENT_PORTS[c % size] on 127.0.0.1. An operation that gets no reply
  // within REPLY_TIMEOUT fails and its connection is reopened.
  explicit EtcdTarget(std::vector<std::uint16_t> client_ports,
                      std::chrono::milliseconds reply_timeout = std::chrono::milliseconds(10000));
  ~EtcdTarget() override;

  void open(const TargetContext& context) override;
  void start(ClientId client, std::uint64_t seq, std::string_view payload) override;

 private:
  struct Connection;
  std::vector<std::uint16_t> ports_;
  std::chrono::milliseconds reply_timeout_;
  TargetContext ctx_;
  std::vector<std::unique_ptr<Connection>> conns_;
};

}  // namespace lockstep::eval
