#include "paxos/storage/error_sink.h"

#include <algorithm>
#include <utility>

namespace lockstep::paxos::storage {

namespace {
void on_bdb_error(const DbEnv* env, const char* /*prefix*/, const char* message) {
  if (auto* sink = static_cast<ErrorSink*>(env->get_app_private())) sink->add(message);
}
}  // namespace

void ErrorSink::attach(DbEnv& env) {
  env.set_app_private(this);
  env.set_errcall(on_bdb_error);
}

void ErrorSink::add(const char* message) {
  if (!message) return;
  std::string line(message);
  std::replace(line.begin(), line.end(), '\n', ' ');
  std::lock_guard lock(mutex_);
  if (text_.size() > 240) return;        // the first lines are the specific ones
  if (text_.ends_with(line)) return;     // BDB often reports one failure twice
  if (!text_.empty()) text_.append("; ");
  text_.append(line);
}

std::string ErrorSink::take() {
  std::lock_guard lock(mutex_);
  return std::exchange(text_, {});
}

}  // namespace lockstep::paxos::storage
