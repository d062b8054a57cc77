// A blocking one-shot HTTP/1.1 request with a deadline, for control-plane calls (health checks,
// leader lookup) made before and after a benchmark, never on its hot path.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace lockstep::eval {

struct HttpReply {
  int status = 0;
  std::string body;
};

// Sends METHOD PATH (with BODY as JSON if not empty) to 127.0.0.1:PORT. Returns nullopt and sets
// WHY on connection failure, timeout or a malformed reply.
std::optional<HttpReply> http_call(std::uint16_t port, const std::string& method,
                                   const std::string& path, const std::string& body,
                                   std::chrono::milliseconds timeout, std::string* why = nullptr);

}  // namespace lockstep::eval
