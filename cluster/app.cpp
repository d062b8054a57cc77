#include "cluster/app.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <libconfig.h++>
#include <regex>

#include "cluster/error.h"
#include "cluster/subprocess.h"
#include "common/log.h"

#ifndef LOCKSTEP_SOURCE_APPS_DIR
#define LOCKSTEP_SOURCE_APPS_DIR "apps"
#endif

namespace lockstep::cluster {
namespace fs = std::filesystem;
namespace {

const std::vector<std::string> kServerVars = {"host", "port", "id", "data_dir", "app_dir", "bin_dir"};
const std::vector<std::string> kClientVars = {"host",    "port",     "id",     "data_dir",   "app_dir",
                                              "bin_dir", "target",   "requests", "concurrency"};

class AppReader {
 public:
  explicit AppReader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const libconfig::Setting& s, const std::string& field, const std::string& what) const {
    throw UsageError(fmt::format("{}:{}: {}: {}", file_, s.getSourceLine(), field, what));
  }

  std::string str(const libconfig::Setting& g, const char* name, bool required,
                  const std::string& field_prefix = "") const {
    std::string field = field_prefix + name;
    if (!g.exists(name)) {
      if (required) fail(g, field, "missing");
      return "";
    }
    const libconfig::Setting& s = g[name];
    if (s.getType() != libconfig::Setting::TypeString) fail(s, field, "must be a string");
    return s.c_str();
  }

  std::vector<std::string> strings(const libconfig::Setting& g, const char* name, bool required,
                                   const std::vector<std::string>* allowed,
                                   const std::string& field_prefix = "") const {
    std::string field = field_prefix + name;
    std::vector<std::string> out;
    if (!g.exists(name)) {
      if (required) fail(g, field, "missing");
      return out;
    }
    const libconfig::Setting& s = g[name];
    if (!s.isArray() && !s.isList()) fail(s, field, "must be a list of strings, e.g. [\"a\", \"b\"]");
    for (int i = 0; i < s.getLength(); ++i) {
      if (s[i].getType() != libconfig::Setting::TypeString)
        fail(s[i], fmt::format("{}[{}]", field, i), "must be a string");
      out.emplace_back(s[i].c_str());
      if (allowed) check_placeholders(s[i], fmt::format("{}[{}]", field, i), out.back(), *allowed);
    }
    if (required && out.empty()) fail(s, field, "must not be empty");
    return out;
  }

  void check_placeholders(const libconfig::Setting& s, const std::string& field, const std::string& text,
                          const std::vector<std::string>& allowed) const {
    Vars vars;
    for (const auto& a : allowed) vars.emplace(a, std::string(1, 'x'));
    try {
      expand(text, vars);
    } catch (const UsageError& e) {
      fail(s, field, e.what());
    }
  }

 private:
  std::string file_;
};

}  // namespace

const Workload& AppDef::workload(const std::string& wanted) const {
  if (wanted.empty()) return workloads.front();
  std::string known;
  for (const auto& w : workloads) {
    if (w.name == wanted) return w;
    known += (known.empty() ? "" : ", ") + w.name;
  }
  throw UsageError(fmt::format("app {} has no workload '{}' (known: {})", name, wanted, known));
}

std::string expand(const std::string& text, const Vars& vars) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text[i] != '{') {
      out += text[i++];
      continue;
    }
    size_t close = text.find('}', i);
    if (close == std::string::npos) throw UsageError(fmt::format("unclosed '{{' in \"{}\"", text));
    std::string key = text.substr(i + 1, close - i - 1);
    auto it = vars.find(key);
    if (it == vars.end()) throw UsageError(fmt::format("unknown placeholder {{{}}} in \"{}\"", key, text));
    out += it->second;
    i = close + 1;
  }
  return out;
}

std::vector<std::string> expand(const std::vector<std::string>& argv, const Vars& vars) {
  std::vector<std::string> out;
  out.reserve(argv.size());
  for (const auto& a : argv) out.push_back(expand(a, vars));
  return out;
}

void check_dmt_supported(const AppDef& app, const std::string& mode) {
  if (app.dmt_unsupported.empty() || (mode != "dmt_only" && mode != "joint")) return;
  throw UsageError(fmt::format("app {} cannot run under the DMT runtime (mode {}): {}", app.name, mode,
                               app.dmt_unsupported));
}

std::vector<std::string> list_apps(const std::string& apps_dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(apps_dir, ec))
    if (fs::exists(e.path() / "app.cfg", ec)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

AppDef load_app(const std::string& apps_dir, const std::string& name) {
  static const std::regex name_re("[A-Za-z0-9_.-]+");
  std::string file = apps_dir + "/" + name + "/app.cfg";
  std::error_code ec;
  if (!std::regex_match(name, name_re) || !fs::exists(file, ec)) {
    std::string known;
    for (const auto& a : list_apps(apps_dir)) known += (known.empty() ? "" : ", ") + a;
    throw UsageError(fmt::format("unknown app '{}' (apps in {}: {})", name, apps_dir,
                                 known.empty() ? "none" : known));
  }
  libconfig::Config cfg;
  try {
    cfg.readFile(file.c_str());
  } catch (const libconfig::FileIOException&) {
    throw UsageError(fmt::format("{}: cannot read", file));
  } catch (const libconfig::ParseException& e) {
    throw UsageError(fmt::format("{}:{}: {}", file, e.getLine(), e.getError()));
  }
  AppReader r(file);
  const libconfig::Setting& root = cfg.getRoot();
  AppDef app;
  app.name = name;
  app.dir = fs::absolute(apps_dir + "/" + name).lexically_normal().string();
  app.description = r.str(root, "description", false);
  app.packages = r.strings(root, "packages", false, nullptr);
  app.prepare = r.strings(root, "prepare", false, &kServerVars);
  app.server = r.strings(root, "server", true, &kServerVars);
  app.server_env = r.strings(root, "server_env", false, &kServerVars);
  if (root.exists("dmt_unsupported")) {
    app.dmt_unsupported = r.str(root, "dmt_unsupported", false);
    if (app.dmt_unsupported.empty())
      r.fail(root["dmt_unsupported"], "dmt_unsupported", "must say why the app cannot run under the DMT runtime");
  }
  for (size_t i = 0; i < app.server_env.size(); ++i) {
    if (app.server_env[i].find('=') == std::string::npos || app.server_env[i][0] == '=')
      r.fail(root["server_env"][static_cast<int>(i)], fmt::format("server_env[{}]", i), "must be KEY=VALUE");
  }

  if (!root.exists("ready")) r.fail(root, "ready", "missing (e.g. ready = { http_path = \"/\"; })");
  const libconfig::Setting& ready = root["ready"];
  if (!ready.isGroup()) r.fail(ready, "ready", "must be a group");
  app.ready.http_path = r.str(ready, "http_path", false, "ready.");
  if (!app.ready.http_path.empty() && app.ready.http_path[0] != '/')
    r.fail(ready["http_path"], "ready.http_path", "must start with '/'");
  if (ready.exists("timeout_ms")) {
    const libconfig::Setting& t = ready["timeout_ms"];
    if (t.getType() != libconfig::Setting::TypeInt || static_cast<int>(t) <= 0)
      r.fail(t, "ready.timeout_ms", "must be a positive integer");
    app.ready.timeout_ms = t;
  }

  if (!root.exists("workloads")) r.fail(root, "workloads", "missing");
  const libconfig::Setting& workloads = root["workloads"];
  if (!workloads.isList() || workloads.getLength() == 0)
    r.fail(workloads, "workloads", "must be a non-empty list of groups ( { name = ...; command = [...]; } )");
  for (int i = 0; i < workloads.getLength(); ++i) {
    const libconfig::Setting& w = workloads[i];
    std::string prefix = fmt::format("workloads[{}].", i);
    if (!w.isGroup()) r.fail(w, prefix, "must be a group");
    app.workloads.push_back({r.str(w, "name", true, prefix), r.strings(w, "command", true, &kClientVars, prefix)});
  }
  app.client_defaults = {{"requests", "2000"}, {"concurrency", "8"}};
  if (root.exists("client_defaults")) {
    const libconfig::Setting& d = root["client_defaults"];
    for (const char* key : {"requests", "concurrency"}) {
      if (!d.exists(key)) continue;
      if (d[key].getType() != libconfig::Setting::TypeInt || static_cast<int>(d[key]) <= 0)
        r.fail(d[key], std::string("client_defaults.") + key, "must be a positive integer");
      app.client_defaults[key] = std::to_string(static_cast<int>(d[key]));
    }
  }
  if (root.exists("metrics")) {
    const libconfig::Setting& metrics = root["metrics"];
    if (!metrics.isList()) r.fail(metrics, "metrics", "must be a list of groups");
    for (int i = 0; i < metrics.getLength(); ++i) {
      const libconfig::Setting& m = metrics[i];
      std::string prefix = fmt::format("metrics[{}].", i);
      Metric metric{r.str(m, "name", true, prefix), r.str(m, "regex", true, prefix), r.str(m, "unit", false, prefix)};
      try {
        std::regex re(metric.regex);
        if (re.mark_count() < 1) r.fail(m["regex"], prefix + "regex", "needs one capture group for the value");
      } catch (const std::regex_error& e) {
        r.fail(m["regex"], prefix + "regex", fmt::format("invalid regex: {}", e.what()));
      }
      app.metrics.push_back(metric);
    }
  }
  return app;
}

std::vector<std::string> client_argv(const AppDef& app, const std::string& workload, const std::string& target,
                                     int requests, int concurrency) {
  Vars vars = app.client_defaults;
  if (requests > 0) vars["requests"] = std::to_string(requests);
  if (concurrency > 0) vars["concurrency"] = std::to_string(concurrency);
  size_t colon = target.rfind(':');
  vars["target"] = target;
  vars["host"] = target.substr(0, colon);
  vars["port"] = colon == std::string::npos ? "" : target.substr(colon + 1);
  vars["id"] = "0";
  vars["data_dir"] = "";
  vars["app_dir"] = app.dir;
  vars["bin_dir"] = bin_dir();
  return expand(app.workload(workload).command, vars);
}

std::vector<std::string> missing_packages(const AppDef& app) {
  std::vector<std::string> missing;
  for (const auto& p : app.packages) {
    RunResult r = run_capture({"dpkg-query", "-W", "-f=${Status}", p});
    if (r.exit_code != 0 || r.output.find("install ok installed") == std::string::npos) missing.push_back(p);
  }
  return missing;
}

void ensure_packages(const AppDef& app) {
  std::vector<std::string> missing = missing_packages(app);
  if (missing.empty()) return;
  std::string list;
  for (const auto& p : missing) list += (list.empty() ? "" : " ") + p;
  if (::geteuid() != 0)
    throw ClusterError(fmt::format("app {} needs Debian packages that are not installed: {} (run as root to "
                                   "install them, or scripts/setup, or apt-get install {})", app.name, list, list));
  log::info("app {}: installing Debian packages {}", app.name, list);
  std::vector<std::string> install = {"env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq",
                                      "--no-install-recommends"};
  install.insert(install.end(), missing.begin(), missing.end());
  RunResult r = run_capture(install);
  if (r.exit_code != 0) {  // often a stale package index on a fresh machine
    run_capture({"apt-get", "update", "-qq"});
    r = run_capture(install);
  }
  if (r.exit_code != 0 || !missing_packages(app).empty()) {
    const fs::path log_path = fs::temp_directory_path() / fmt::format("lockstep-apt-{}.log", app.name);
    std::ofstream(log_path) << r.output;
    throw ClusterError(fmt::format("app {}: installing Debian packages {} failed (apt-get exit {}); see {}", app.name,
                                   list, r.exit_code, log_path.string()));
  }
}

std::optional<double> read_metric(const Metric& metric, const std::string& output) {
  std::smatch m;
  if (!std::regex_search(output, m, std::regex(metric.regex)) || m.size() < 2) return std::nullopt;
  try {
    return std::stod(m[1].str());
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string default_apps_dir() {
  if (const char* env = std::getenv("LOCKSTEP_APPS_DIR"); env && *env) return env;
  return LOCKSTEP_SOURCE_APPS_DIR;
}

std::string bin_dir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return ".";
  return exe.parent_path().string();
}

}  // namespace lockstep::cluster
