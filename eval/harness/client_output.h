// Reading a client's raw output into numbers. The rules come from the app definition (name +
// regex whose first group is the value); the harness only knows the conventional names:
// throughput, latency_ms, p99_ms and failed. Regexes are compiled once per run, not per round.
#pragma once

#include <map>
#include <regex>
#include <string>
#include <vector>

namespace lockstep::eval::harness {

struct MetricRule {
  std::string name;
  std::string regex;
  std::string unit;
};

struct ClientNumbers {
  std::map<std::string, double> values;  // every metric whose regex matched
  std::vector<std::string> missing;      // metrics whose regex did not match
  double failed = 0;                     // "failed" + (for ab) Non-2xx responses
};

class OutputParser {
 public:
  // COUNT_AB_NON2XX: the client is ab, whose "Non-2xx responses: N" line (absent when 0) counts
  // as failed requests too — a 500 is a failed request even when ab calls it complete.
  // Throws UsageError naming a metric whose regex does not compile.
  OutputParser(std::vector<MetricRule> rules, bool count_ab_non2xx);

  ClientNumbers parse(const std::string& output) const;
  const std::vector<MetricRule>& rules() const { return rules_; }

 private:
  std::vector<MetricRule> rules_;
  std::vector<std::regex> compiled_;
  bool ab_non2xx_;
};

}  // namespace lockstep::eval::harness
