// App definitions: apps/NAME/app.cfg (libconfig) says how to install, prepare, start, probe and
// load one server. Commands are argv lists whose elements may hold placeholders:
//   {host} {port} {id} {data_dir}   the replica the server runs as (port = server port)
//   {app_dir} {bin_dir}             the app's folder, the folder holding the lockstep binaries
//   {target}                        client commands only: host:port the client connects to
//   {requests} {concurrency}        client commands only: load size (defaults in app.cfg)
// An unknown placeholder is an error at load time, so a typo never reaches a running server.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lockstep::cluster {

using Vars = std::map<std::string, std::string>;

struct Workload {
  std::string name;
  std::vector<std::string> command;
};

struct Metric {
  std::string name;   // "throughput", "failed", "latency_ms", ...
  std::string regex;  // first capture group is the value
  std::string unit;
};

struct ReadyCheck {
  std::string http_path;  // empty: TCP connect only; else GET must answer 2xx/3xx
  int timeout_ms = 30000;
};

struct AppDef {
  std::string name;
  std::string dir;
  std::string description;
  std::vector<std::string> packages;    // Debian packages the app needs
  std::vector<std::string> prepare;     // run once per replica before the server (may be empty)
  std::vector<std::string> server;      // the server, in the foreground
  std::vector<std::string> server_env;  // "KEY=VALUE" (templated)
  ReadyCheck ready;
  std::vector<Workload> workloads;      // first one is the default
  Vars client_defaults;                 // {requests}, {concurrency}
  std::vector<Metric> metrics;
  // Non-empty: the app cannot run under the DMT runtime yet (modes dmt_only and joint), and this
  // says why. `cluster up` and `lockstep eval` refuse those modes for it with this reason.
  std::string dmt_unsupported;

  const Workload& workload(const std::string& name) const;  // "" = default; UsageError if unknown
};

// Loads APPS_DIR/NAME/app.cfg. Errors (UsageError) name file:line:field; an unknown app is one
// line listing the known ones.
AppDef load_app(const std::string& apps_dir, const std::string& name);

// Throws UsageError("app NAME cannot run under the DMT runtime (mode MODE): REASON") when MODE
// uses the DMT runtime (dmt_only, joint) and APP declares dmt_unsupported.
void check_dmt_supported(const AppDef& app, const std::string& mode);

// Names of the apps in APPS_DIR (folders with an app.cfg).
std::vector<std::string> list_apps(const std::string& apps_dir);

// Replaces {name} placeholders from VARS; throws UsageError for one missing from VARS.
std::string expand(const std::string& text, const Vars& vars);
std::vector<std::string> expand(const std::vector<std::string>& argv, const Vars& vars);

// The client command of WORKLOAD ("" = default) against TARGET (host:port), with REQUESTS and
// CONCURRENCY (0 = the app's client_defaults). For load drivers such as `lockstep eval`.
std::vector<std::string> client_argv(const AppDef& app, const std::string& workload, const std::string& target,
                                     int requests = 0, int concurrency = 0);

// Debian packages of APP not installed (dpkg-query), in order.
std::vector<std::string> missing_packages(const AppDef& app);

// Installs APP's missing Debian packages (apt-get, no recommends; one `apt-get update` and a retry
// if the first attempt fails). Nothing to do when all are installed, so it is cheap to call on
// every `up`. Throws ClusterError with one line when not root or when apt-get fails (its output
// is kept in a log file named in the message).
void ensure_packages(const AppDef& app);

// The value of METRIC in a client's OUTPUT, if its regex matches.
std::optional<double> read_metric(const Metric& metric, const std::string& output);

// Where apps live: $LOCKSTEP_APPS_DIR, else the source tree's apps/ (compile-time default).
std::string default_apps_dir();
// The folder of the running lockstep binary (other lockstep-* binaries sit beside it).
std::string bin_dir();

}  // namespace lockstep::cluster
