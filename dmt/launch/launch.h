// Starting a program under the DMT runtime: where liblockstep_dmt.so is, the LOCKSTEP_DMT_*
// environment, and a child process that is always reaped. Header-only so that the `lockstep`
// CLI (cmd_dmt.cpp, cmd_bench_dmt.cpp) can use it without linking anything of dmt/.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace lockstep::dmt::launch {

// Options that become LOCKSTEP_DMT_* variables.
struct Options {
  std::string library;  // empty: default_library()
  std::string trace;
  std::string report;
  std::string weights;  // LOCKSTEP_DMT_WEIGHTS: a profile to schedule by
  std::string profile;  // LOCKSTEP_DMT_PROFILE: write one at exit
  std::string clock;  // "", "logical" or "real"
  long long ns_per_turn = 0;
  long long spin = -1;
  long long watchdog_s = -1;
};

// build/bin/lockstep -> build/lib/liblockstep_dmt.so; LOCKSTEP_DMT_LIB overrides.
inline std::string default_library() {
  if (const char* env = std::getenv("LOCKSTEP_DMT_LIB"); env && *env) return env;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto lib = exe.parent_path().parent_path() / "lib" / "liblockstep_dmt.so";
    if (std::filesystem::exists(lib, ec)) return lib.string();
  }
  throw std::runtime_error("cannot find liblockstep_dmt.so next to the lockstep binary; pass --lib or set LOCKSTEP_DMT_LIB");
}

// NAME=VALUE entries to add to the environment.
inline std::vector<std::string> environment(const Options& o) {
  std::string lib = o.library.empty() ? default_library() : o.library;
  if (!std::filesystem::exists(lib)) throw std::runtime_error("runtime library not found: " + lib);
  lib = std::filesystem::absolute(lib).string();
  std::string preload = lib;
  if (const char* old = std::getenv("LD_PRELOAD"); old && *old) preload += std::string(":") + old;
  std::vector<std::string> env{"LD_PRELOAD=" + preload};
  if (!o.trace.empty()) env.push_back("LOCKSTEP_DMT_TRACE=" + o.trace);
  if (!o.report.empty()) env.push_back("LOCKSTEP_DMT_REPORT=" + o.report);
  if (!o.weights.empty()) env.push_back("LOCKSTEP_DMT_WEIGHTS=" + o.weights);
  if (!o.profile.empty()) env.push_back("LOCKSTEP_DMT_PROFILE=" + o.profile);
  if (!o.clock.empty()) env.push_back("LOCKSTEP_DMT_CLOCK=" + o.clock);
  if (o.ns_per_turn > 0) env.push_back("LOCKSTEP_DMT_NS_PER_TURN=" + std::to_string(o.ns_per_turn));
  if (o.spin >= 0) env.push_back("LOCKSTEP_DMT_SPIN=" + std::to_string(o.spin));
  if (o.watchdog_s >= 0) env.push_back("LOCKSTEP_DMT_WATCHDOG_S=" + std::to_string(o.watchdog_s));
  return env;
}

struct Outcome {
  int exit_code = 0;  // 128 + signal if killed
  double seconds = 0;
};

// A started child; the destructor kills (SIGKILL) and reaps it if wait() was not called.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
        const std::string& stdout_path = "") {
    if (argv.empty()) throw std::runtime_error("no program given");
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    start_ = std::chrono::steady_clock::now();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid_ == 0) {
      for (const auto& e : extra_env) ::putenv(const_cast<char*>(e.c_str()));
      if (!stdout_path.empty()) {
        int fd = ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || ::dup2(fd, 1) < 0) ::_exit(126);
        ::close(fd);
      }
      ::execvp(args[0], args.data());
      const char* msg = "lockstep: cannot execute the program\n";
      (void)!::write(2, msg, std::strlen(msg));
      ::_exit(127);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st;
      while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
      }
    }
  }
  pid_t pid() const { return pid_; }
  Outcome wait() {
    int st = 0;
    while (::waitpid(pid_, &st, 0) < 0) {
      if (errno != EINTR) throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
    }
    pid_ = -1;
    Outcome o;
    o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    o.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return o;
  }

 private:
  pid_t pid_ = -1;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace lockstep::dmt::launch
