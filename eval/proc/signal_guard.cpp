#include "eval/proc/signal_guard.h"

#include <poll.h>
#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace lockstep::eval {

SignalGuard::SignalGuard() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGHUP);
  if (int rc = pthread_sigmask(SIG_BLOCK, &set_, &old_); rc != 0) {
    throw std::system_error(rc, std::generic_category(), "pthread_sigmask");
  }
  fd_ = signalfd(-1, &set_, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd_ < 0) {
    const int err = errno;
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    throw std::system_error(err, std::generic_category(), "signalfd");
  }
}

SignalGuard::~SignalGuard() {
  close(fd_);
  // A signal that arrived meanwhile stays pending and is delivered here, with its default
  // action (terminate), after everything the guard protected has been cleaned up. That is the
  // conventional outcome of Ctrl-C; callers that handled it already consumed it via fd().
  pthread_sigmask(SIG_SETMASK, &old_, nullptr);
}

bool SignalGuard::pending() const {
  pollfd p{fd_, POLLIN, 0};
  return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

int SignalGuard::take() {
  signalfd_siginfo info{};
  if (read(fd_, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) return 0;
  return static_cast<int>(info.ssi_signo);
}

}  // namespace lockstep::eval
