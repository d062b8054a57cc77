// Which apps and workloads one `lockstep eval` runs: `--all` or `--app A,B`, and `--workload`.
// Pure functions over names, so they are tested without app folders.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace lockstep::eval::harness {

// Apps `--all` leaves out: fixtures of the cluster tests (apps/echo-mt), not servers lockstep is
// evaluated with. One list here rather than a flag in app.cfg, whose format belongs to cluster/;
// `--app echo-mt` still runs it.
const std::vector<std::string>& test_only_apps();

// ALL: every name of AVAILABLE (the folders with an app.cfg) except the test-only ones, sorted.
// Else LIST, comma-separated, in the order given. UsageError for both or neither, an empty
// name, a name given twice, a name not in AVAILABLE (listing the known ones), or --all finding
// nothing.
std::vector<std::string> select_apps(const std::vector<std::string>& available, bool all, const std::string& list);

// `--workload`: comma-separated items, "NAME" (every app runs workload NAME) or "APP:NAME" (only
// APP; APP's items replace the plain names for it). Several items may name workloads of the same
// app (`dyn,static`, `mysql:rw,mysql:ro`): each is measured as its own entry of the run.
// "" = every app its default (first) workload.
class WorkloadChoice {
 public:
  // UsageError for an empty item, an item given twice, or an APP not in APPS.
  WorkloadChoice(const std::string& spec, const std::vector<std::string>& apps);
  // The workloads for APP, in the order given; {""} = its default.
  std::vector<std::string> for_app(const std::string& app) const;

 private:
  std::vector<std::string> for_all_;
  std::map<std::string, std::vector<std::string>> per_app_;
};

}  // namespace lockstep::eval::harness
