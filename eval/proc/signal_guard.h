// Turns SIGINT/SIGTERM/SIGHUP into a readable fd for the lifetime of a benchmark, so Ctrl-C ends
// the run through ordinary control flow and every RAII owner (child processes, temp dirs) cleans
// up. Create it on the main thread before any other thread starts: threads inherit the mask.
#pragma once

#include <signal.h>

namespace lockstep::eval {

class SignalGuard {
 public:
  SignalGuard();  // throws std::system_error
  ~SignalGuard();
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

  // Readable once one of the signals is pending; pass to LoadOptions::stop_fd.
  int fd() const { return fd_; }
  bool pending() const;  // non-blocking check
  // Consumes one pending signal and returns its number (0 if none), so it is not delivered
  // again when the guard restores the old mask.
  int take();
  // The set to unblock in a forked child before exec.
  const sigset_t& blocked() const { return set_; }

 private:
  sigset_t set_{};
  sigset_t old_{};
  int fd_ = -1;
};

}  // namespace lockstep::eval
