#include "eval/harness/client_output.h"

#include "eval/harness/error.h"

namespace lockstep::eval::harness {

OutputParser::OutputParser(std::vector<MetricRule> rules, bool count_ab_non2xx)
    : rules_(std::move(rules)), ab_non2xx_(count_ab_non2xx) {
  compiled_.reserve(rules_.size());
  for (const auto& r : rules_) {
    try {
      compiled_.emplace_back(r.regex);
    } catch (const std::regex_error& e) {
      throw UsageError("metric " + r.name + ": bad regex '" + r.regex + "': " + e.what());
    }
  }
}

ClientNumbers OutputParser::parse(const std::string& output) const {
  ClientNumbers out;
  for (size_t i = 0; i < rules_.size(); ++i) {
    std::smatch m;
    bool found = false;
    if (std::regex_search(output, m, compiled_[i]) && m.size() >= 2) {
      try {
        out.values[rules_[i].name] = std::stod(m[1].str());
        found = true;
      } catch (const std::exception&) {
      }
    }
    if (!found) out.missing.push_back(rules_[i].name);
  }
  if (auto it = out.values.find("failed"); it != out.values.end()) out.failed = it->second;
  if (ab_non2xx_) {
    static const std::regex non2xx(R"(Non-2xx responses:\s+([0-9]+))");
    std::smatch m;
    if (std::regex_search(output, m, non2xx)) out.failed += std::stod(m[1].str());
  }
  // The total is what the report calls failed; the CSV keeps it under the same name.
  if (out.values.count("failed")) out.values["failed"] = out.failed;
  return out;
}

}  // namespace lockstep::eval::harness
