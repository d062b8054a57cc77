#include "cluster/proc.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace lockstep::cluster {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(10);

// Reaps PID if it is our child and has exited; harmless otherwise.
void reap_if_child(pid_t pid) {
  int status;
  waitpid(pid, &status, WNOHANG);
}

bool wait_gone(const ProcessRef& ref, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    reap_if_child(ref.pid);
    if (!process_alive(ref)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace

uint64_t process_start_time(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return 0;
  // comm (field 2) may contain spaces and parentheses: parse after the last ')'.
  size_t close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  char state = '?';
  rest >> state;
  if (state == 'Z' || state == 'X') return 0;
  // Fields 4..21 precede starttime (field 22); we have consumed field 3.
  for (int i = 4; i < 22; ++i) rest >> field;
  uint64_t start = 0;
  rest >> start;
  return start;
}

ProcessRef process_ref(pid_t pid) { return ProcessRef{pid, process_start_time(pid)}; }

bool process_alive(const ProcessRef& ref) {
  if (ref.pid <= 0) return false;
  uint64_t now = process_start_time(ref.pid);
  return now != 0 && now == ref.start_time;
}

bool stop_process(const ProcessRef& ref, std::chrono::milliseconds timeout) {
  if (!process_alive(ref)) {
    reap_if_child(ref.pid);
    return false;
  }
  bool leads_group = getpgid(ref.pid) == ref.pid;
  if (leads_group) kill(-ref.pid, SIGTERM);
  kill(ref.pid, SIGTERM);
  if (wait_gone(ref, timeout)) return false;
  if (process_alive(ref)) {
    if (leads_group) kill(-ref.pid, SIGKILL);
    kill(ref.pid, SIGKILL);
  }
  wait_gone(ref, std::chrono::seconds(5));
  return true;
}

std::vector<pid_t> child_pids(pid_t pid) {
  std::vector<pid_t> out;
  std::error_code ec;
  const std::string task_dir = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(task_dir, ec)) {
    std::ifstream in(task.path() / "children");
    pid_t child;
    while (in >> child) out.push_back(child);
  }
  return out;
}

bool stop_container_payload(const ProcessRef& launcher, std::chrono::milliseconds timeout) {
  if (!process_alive(launcher)) return true;
  std::vector<pid_t> payload;
  for (pid_t init : child_pids(launcher.pid))
    for (pid_t p : child_pids(init)) payload.push_back(p);
  if (payload.empty()) return false;
  for (pid_t p : payload) kill(p, SIGTERM);
  return wait_gone(launcher, timeout);
}

std::vector<pid_t> read_pids(const std::string& procs_file) {
  std::vector<pid_t> pids;
  std::ifstream in(procs_file);
  pid_t pid;
  while (in >> pid) pids.push_back(pid);
  return pids;
}

void kill_all(const std::vector<pid_t>& pids, std::chrono::milliseconds timeout) {
  std::vector<ProcessRef> refs;
  for (pid_t pid : pids) {
    ProcessRef ref = process_ref(pid);
    if (ref.start_time == 0) continue;
    kill(pid, SIGKILL);
    refs.push_back(ref);
  }
  for (const auto& ref : refs) wait_gone(ref, timeout);
}

}  // namespace lockstep::cluster
