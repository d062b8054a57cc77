#include "cluster/subprocess.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "cluster/error.h"

extern char** environ;

namespace lockstep::cluster {
namespace {

// Everything the child needs is prepared before fork: after fork only async-signal-safe calls.
struct CStrings {
  explicit CStrings(const std::vector<std::string>& strings) {
    ptrs.reserve(strings.size() + 1);
    for (const auto& s : strings) ptrs.push_back(const_cast<char*>(s.c_str()));
    ptrs.push_back(nullptr);
  }
  std::vector<char*> ptrs;
};

std::string find_executable(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  throw ClusterError(fmt::format("{}: not found in PATH", name));
}

std::vector<std::string> merged_environment(const std::vector<std::string>& additions) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    std::string_view key = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& a : additions) {
      if (a.size() > key.size() && a.compare(0, key.size(), key) == 0 && a[key.size()] == '=') {
        replaced = true;
        break;
      }
    }
    if (!replaced) env.emplace_back(entry);
  }
  env.insert(env.end(), additions.begin(), additions.end());
  return env;
}

// Steps the child reports through the error pipe when they fail.
enum Step : int { kStepNetns = 1, kStepCgroup, kStepCwd, kStepLog, kStepExec };

const char* step_name(int step) {
  switch (step) {
    case kStepNetns: return "joining network namespace";
    case kStepCgroup: return "joining cgroup";
    case kStepCwd: return "changing directory";
    case kStepLog: return "opening log";
    case kStepExec: return "exec";
  }
  return "?";
}

[[noreturn]] void child_fail(int fd, int step) {
  int msg[2] = {step, errno};
  [[maybe_unused]] auto n = write(fd, msg, sizeof msg);
  _exit(127);
}

// The caller may block SIGINT/SIGTERM while it works (cluster up does); its children must not
// inherit that, or `down` could not stop them with SIGTERM.
void reset_signals() {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
}

bool write_all_fd(int fd, const char* data, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::string argv_to_string(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

RunResult run_capture(const std::vector<std::string>& argv) {
  if (argv.empty()) throw ClusterError("run_capture: empty command");
  std::string exe = find_executable(argv[0]);
  CStrings args(argv);
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw ClusterError(fmt::format("pipe: {}", std::strerror(errno)));
  pid_t pid = fork();
  if (pid < 0) {
    close(out[0]);
    close(out[1]);
    throw ClusterError(fmt::format("fork: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    reset_signals();
    dup2(out[1], STDOUT_FILENO);
    dup2(out[1], STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    execv(exe.c_str(), args.ptrs.data());
    const char* msg = "exec failed\n";
    write_all_fd(STDERR_FILENO, msg, std::strlen(msg));
    _exit(127);
  }
  close(out[1]);
  RunResult result;
  char buf[4096];
  for (;;) {
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buf, static_cast<size_t>(n));
  }
  close(out[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

void run_checked(const std::vector<std::string>& argv, const std::string& what) {
  RunResult r = run_capture(argv);
  if (r.exit_code == 0) return;
  std::string line = r.output.substr(0, r.output.find('\n'));
  if (line.empty()) line = fmt::format("`{}` exited with {}", argv_to_string(argv), r.exit_code);
  throw ClusterError(fmt::format("{}: {}", what, line));
}

pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  if (argv.empty()) throw ClusterError("spawn: empty command");
  std::string exe = find_executable(argv[0]);
  CStrings args(argv);
  std::vector<std::string> env_strings = merged_environment(options.env);
  CStrings env(env_strings);
  std::string netns_path = options.netns.empty() ? "" : "/run/netns/" + options.netns;

  int err[2];
  if (pipe2(err, O_CLOEXEC) != 0) throw ClusterError(fmt::format("pipe: {}", std::strerror(errno)));
  pid_t pid = fork();
  if (pid < 0) {
    close(err[0]);
    close(err[1]);
    throw ClusterError(fmt::format("fork: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    close(err[0]);
    reset_signals();
    setsid();
    // The cgroup first, so everything the child does from here on is accounted to it.
    char pidbuf[16] = "0\n";  // "0" means "the writing process" in cgroup.procs
    for (const auto& procs : options.cgroup_procs) {
      int fd = open(procs.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || !write_all_fd(fd, pidbuf, 2)) child_fail(err[1], kStepCgroup);
      close(fd);
    }
    if (!netns_path.empty()) {
      int fd = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) child_fail(err[1], kStepNetns);
      close(fd);
    }
    if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) child_fail(err[1], kStepCwd);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    int logfd = options.log_path.empty()
                    ? devnull
                    : open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (logfd < 0) child_fail(err[1], kStepLog);
    dup2(logfd, STDOUT_FILENO);
    dup2(logfd, STDERR_FILENO);
    execve(exe.c_str(), args.ptrs.data(), env.ptrs.data());
    child_fail(err[1], kStepExec);
  }
  close(err[1]);
  int msg[2] = {0, 0};
  ssize_t n;
  do {
    n = read(err[0], msg, sizeof msg);
  } while (n < 0 && errno == EINTR);
  close(err[0]);
  if (n == static_cast<ssize_t>(sizeof msg)) {
    int status;
    waitpid(pid, &status, 0);
    throw ClusterError(fmt::format("starting {}: {} failed: {}", argv[0], step_name(msg[0]),
                                   std::strerror(msg[1])));
  }
  return pid;
}

}  // namespace lockstep::cluster
