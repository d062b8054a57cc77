// Waiting for a server to serve: poll a TCP connect (and optionally an HTTP GET) until it
// succeeds, instead of sleeping a fixed time and hoping.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "cluster/app.h"

namespace lockstep::cluster {

// One probe: connect to HOST:PORT (and GET CHECK.http_path expecting 2xx/3xx). Returns "" on
// success, else why not.
std::string probe_once(const std::string& host, uint16_t port, const ReadyCheck& check);

// Probes every few milliseconds until success, CHECK.timeout_ms, or STILL_RUNNING() is false.
// Throws ClusterError naming WHAT and the last probe failure.
void wait_ready(const std::string& what, const std::string& host, uint16_t port, const ReadyCheck& check,
                const std::function<bool()>& still_running);

}  // namespace lockstep::cluster
