#include "eval/harness/selection.h"

#include <algorithm>
#include <sstream>

#include "eval/harness/error.h"

namespace lockstep::eval::harness {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) out.push_back(trim(item));
  if (!list.empty() && list.back() == ',') out.emplace_back();
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string joined(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

const std::vector<std::string>& test_only_apps() {
  static const std::vector<std::string> apps = {"echo-mt"};
  return apps;
}

std::vector<std::string> select_apps(const std::vector<std::string>& available, bool all, const std::string& list) {
  if (all && !list.empty()) throw UsageError("give either --app or --all, not both");
  if (all) {
    std::vector<std::string> out;
    for (const auto& a : available)
      if (!contains(test_only_apps(), a)) out.push_back(a);
    std::sort(out.begin(), out.end());
    if (out.empty()) throw UsageError("--all: no app found (known: " + joined(available) + ")");
    return out;
  }
  if (list.empty()) throw UsageError("give --app NAME[,NAME...] or --all");
  std::vector<std::string> out;
  for (const auto& name : split(list)) {
    if (name.empty()) throw UsageError("--app: empty app name in '" + list + "'");
    if (!contains(available, name)) throw UsageError("unknown app '" + name + "' (known: " + joined(available) + ")");
    if (contains(out, name)) throw UsageError("--app: " + name + " given twice");
    out.push_back(name);
  }
  return out;
}

WorkloadChoice::WorkloadChoice(const std::string& spec, const std::vector<std::string>& apps) {
  if (spec.empty()) return;
  for (const auto& item : split(spec)) {
    if (item.empty()) throw UsageError("--workload: empty item in '" + spec + "'");
    const auto colon = item.find(':');
    if (colon == std::string::npos) {
      if (contains(for_all_, item)) throw UsageError("--workload: " + item + " given twice");
      for_all_.push_back(item);
      continue;
    }
    const std::string app = trim(item.substr(0, colon)), name = trim(item.substr(colon + 1));
    if (app.empty() || name.empty()) throw UsageError("--workload: '" + item + "' is not APP:NAME");
    if (!contains(apps, app)) throw UsageError("--workload " + item + ": app " + app + " is not part of this run");
    auto& mine = per_app_[app];
    if (contains(mine, name)) throw UsageError("--workload: " + item + " given twice");
    mine.push_back(name);
  }
}

std::vector<std::string> WorkloadChoice::for_app(const std::string& app) const {
  auto it = per_app_.find(app);
  if (it != per_app_.end()) return it->second;
  if (!for_all_.empty()) return for_all_;
  return {""};
}

}  // namespace lockstep::eval::harness
