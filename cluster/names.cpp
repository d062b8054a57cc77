#include "cluster/names.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace lockstep::cluster {
namespace {

// A name of up to 7 lowercase letters/digits is its own tag; anything else becomes three of its
// characters plus a 4-hex-digit hash, keeping "lkh-<tag>-<id>" within 15 bytes for id <= 999.
std::string make_tag(const std::string& name) {
  bool simple = !name.empty() && name.size() <= 7 &&
                std::all_of(name.begin(), name.end(), [](unsigned char c) {
                  return std::islower(c) || std::isdigit(c);
                });
  if (simple) return name;
  uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  std::string head;
  for (unsigned char c : name) {
    if (head.size() == 3) break;
    if (std::isalnum(c)) head += static_cast<char>(std::tolower(c));
  }
  return fmt::format("{}{:04x}", head, h & 0xffffu);
}

std::optional<int> numeric_suffix(const std::string& name, const std::string& prefix) {
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  std::string rest = name.substr(prefix.size());
  if (rest.size() > 3 || !std::all_of(rest.begin(), rest.end(), ::isdigit)) return std::nullopt;
  return std::stoi(rest);
}

}  // namespace

ClusterNames::ClusterNames(std::string cluster) : cluster_(std::move(cluster)), tag_(make_tag(cluster_)) {}

std::string ClusterNames::netns(int id) const { return fmt::format("lkst-{}-{}", cluster_, id); }
std::string ClusterNames::bridge() const { return "lkb-" + tag_; }
std::string ClusterNames::veth_host(int id) const { return fmt::format("lkh-{}-{}", tag_, id); }
std::string ClusterNames::run_dir() const { return "/run/lockstep/" + cluster_; }
std::string ClusterNames::cgroup_rel() const { return "lockstep/" + cluster_; }

std::optional<int> ClusterNames::netns_id(const std::string& name) const {
  return numeric_suffix(name, fmt::format("lkst-{}-", cluster_));
}
std::optional<int> ClusterNames::veth_id(const std::string& name) const {
  return numeric_suffix(name, fmt::format("lkh-{}-", tag_));
}

}  // namespace lockstep::cluster
