// Blocking calls: sockets, pipes and terminals, poll/select/epoll, signal and child waits.
//
// Input calls (accept, connect, read/recv on sockets, pipes and terminals, the poll family) take
// a turn and record the fd. If the call may block, the thread leaves the run queue for its
// duration and re-enters at the tail when it returns; in joint mode the input queue (see
// include/lockstep/dmt_input_queue.h) will decide that moment instead. Non-blocking calls run
// inside the turn. Regular files never block and never take a turn. Output calls do not take
// turns (their order cannot change what the program reads); a send that would block on a full
// socket leaves the run queue for the time it blocks.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "dmt/src/real.h"
#include "dmt/src/runtime.h"

using namespace lockstep::dmt;

namespace {

enum class FdClass { plain, nonblocking, blocking };

FdClass classify(int fd) {
  struct stat st;
  if (real.fstat(fd, &st) != 0) return FdClass::plain;
  const bool sock = S_ISSOCK(st.st_mode);
  if (!sock && !S_ISFIFO(st.st_mode) && !(S_ISCHR(st.st_mode) && isatty(fd))) return FdClass::plain;
  const int fl = real.fcntl(fd, F_GETFL);
  return (fl >= 0 && (fl & O_NONBLOCK)) ? FdClass::nonblocking : FdClass::blocking;
}

bool is_blocking_socket(int fd) {
  struct stat st;
  if (real.fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  const int fl = real.fcntl(fd, F_GETFL);
  return fl >= 0 && !(fl & O_NONBLOCK);
}

// Runs CALL inside a turn (it will not block).
template <typename F>
auto in_turn(Thread* t, Op op, Kind kind, uint64_t id, F call) -> decltype(call()) {
  begin_op(t);
  record(t, op, kind, id);
  auto r = call();
  const int saved = errno;
  end_op(t);
  errno = saved;
  return r;
}

// Runs CALL outside the run queue (it may block).
template <typename F>
auto outside(Thread* t, Op op, Kind kind, uint64_t id, F call) -> decltype(call()) {
  if (!ext_begin(t, op, kind, id)) return call();
  auto r = call();
  const int saved = errno;
  ext_end(t, kind, id);
  errno = saved;
  return r;
}

template <typename F>
auto input(int fd, Op op, bool dontwait, F call) -> decltype(call()) {
  Thread* t = current_scheduled();
  if (!t) return call();
  const FdClass c = classify(fd);
  if (c == FdClass::plain) return call();
  if (c == FdClass::nonblocking || dontwait) return in_turn(t, op, Kind::fd, static_cast<uint64_t>(fd), call);
  return outside(t, op, Kind::fd, static_cast<uint64_t>(fd), call);
}

// Output: try without blocking first; only a send that would block leaves the run queue.
template <typename Try, typename F>
ssize_t output(int fd, Try try_nonblocking, F call) {
  Thread* t = current_scheduled();
  if (!t || !is_blocking_socket(fd)) return call();
  ssize_t r = try_nonblocking();
  if (r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return r;
  return outside(t, Op::io_write, Kind::fd, static_cast<uint64_t>(fd), call);
}

// A timeout of zero polls without blocking; no fds and a timeout is a sleep.
template <typename F>
int wait_many(Op op, uint64_t id, bool zero_timeout, F call) {
  Thread* t = current_scheduled();
  if (!t) return call();
  if (zero_timeout) return in_turn(t, op, Kind::fd, id, call);
  return outside(t, op, Kind::fd, id, call);
}

int sleep_for(Thread* t, int64_t ns) {
  begin_op(t);
  const uint64_t deadline = deadline_after_ns(ns);
  record(t, Op::sleep, Kind::none, 0);
  wait_on(t, nullptr, deadline);
  end_op(t);
  return 0;
}

}  // namespace

LOCKSTEP_DMT_EXPORT int accept(int fd, struct sockaddr* addr, socklen_t* len) {
  return input(fd, Op::io_accept, false, [&] { return real.accept(fd, addr, len); });
}
LOCKSTEP_DMT_EXPORT int accept4(int fd, struct sockaddr* addr, socklen_t* len, int flags) {
  return input(fd, Op::io_accept, false, [&] { return real.accept4(fd, addr, len, flags); });
}
LOCKSTEP_DMT_EXPORT int connect(int fd, const struct sockaddr* addr, socklen_t len) {
  return input(fd, Op::io_connect, false, [&] { return real.connect(fd, addr, len); });
}
LOCKSTEP_DMT_EXPORT ssize_t read(int fd, void* buf, size_t n) {
  return input(fd, Op::io_read, false, [&] { return real.read(fd, buf, n); });
}
LOCKSTEP_DMT_EXPORT ssize_t readv(int fd, const struct iovec* iov, int n) {
  return input(fd, Op::io_read, false, [&] { return real.readv(fd, iov, n); });
}
LOCKSTEP_DMT_EXPORT ssize_t recv(int fd, void* buf, size_t n, int flags) {
  return input(fd, Op::io_read, (flags & MSG_DONTWAIT) != 0, [&] { return real.recv(fd, buf, n, flags); });
}
LOCKSTEP_DMT_EXPORT ssize_t recvfrom(int fd, void* buf, size_t n, int flags, struct sockaddr* addr, socklen_t* len) {
  return input(fd, Op::io_read, (flags & MSG_DONTWAIT) != 0,
               [&] { return real.recvfrom(fd, buf, n, flags, addr, len); });
}
LOCKSTEP_DMT_EXPORT ssize_t recvmsg(int fd, struct msghdr* msg, int flags) {
  return input(fd, Op::io_read, (flags & MSG_DONTWAIT) != 0, [&] { return real.recvmsg(fd, msg, flags); });
}

LOCKSTEP_DMT_EXPORT ssize_t write(int fd, const void* buf, size_t n) {
  return output(
      fd, [&] { return real.send(fd, buf, n, MSG_DONTWAIT); }, [&] { return real.write(fd, buf, n); });
}
LOCKSTEP_DMT_EXPORT ssize_t writev(int fd, const struct iovec* iov, int n) {
  return output(
      fd,
      [&] {
        struct msghdr msg{};
        msg.msg_iov = const_cast<struct iovec*>(iov);
        msg.msg_iovlen = static_cast<size_t>(n);
        return real.sendmsg(fd, &msg, MSG_DONTWAIT);
      },
      [&] { return real.writev(fd, iov, n); });
}
LOCKSTEP_DMT_EXPORT ssize_t send(int fd, const void* buf, size_t n, int flags) {
  return output(
      fd, [&] { return real.send(fd, buf, n, flags | MSG_DONTWAIT); }, [&] { return real.send(fd, buf, n, flags); });
}
LOCKSTEP_DMT_EXPORT ssize_t sendto(int fd, const void* buf, size_t n, int flags, const struct sockaddr* addr,
                                   socklen_t len) {
  return output(
      fd, [&] { return real.sendto(fd, buf, n, flags | MSG_DONTWAIT, addr, len); },
      [&] { return real.sendto(fd, buf, n, flags, addr, len); });
}
LOCKSTEP_DMT_EXPORT ssize_t sendmsg(int fd, const struct msghdr* msg, int flags) {
  return output(
      fd, [&] { return real.sendmsg(fd, msg, flags | MSG_DONTWAIT); }, [&] { return real.sendmsg(fd, msg, flags); });
}
LOCKSTEP_DMT_EXPORT ssize_t sendfile(int out, int in, off_t* offset, size_t n) {
  // No non-blocking variant to try first; a full socket leaves the run queue for the whole call.
  Thread* t = current_scheduled();
  if (!t || !is_blocking_socket(out)) return real.sendfile(out, in, offset, n);
  return outside(t, Op::io_write, Kind::fd, static_cast<uint64_t>(out), [&] { return real.sendfile(out, in, offset, n); });
}

LOCKSTEP_DMT_EXPORT int poll(struct pollfd* fds, nfds_t n, int timeout) {
  Thread* t = current_scheduled();
  if (t && n == 0 && timeout > 0) return sleep_for(t, static_cast<int64_t>(timeout) * 1000000);
  const uint64_t id = n > 0 ? static_cast<uint64_t>(fds[0].fd) : 0;
  return wait_many(Op::io_poll, id, timeout == 0, [&] { return real.poll(fds, n, timeout); });
}
LOCKSTEP_DMT_EXPORT int ppoll(struct pollfd* fds, nfds_t n, const struct timespec* ts, const sigset_t* mask) {
  Thread* t = current_scheduled();
  if (t && n == 0 && ts && !mask) return sleep_for(t, ts->tv_sec * 1000000000ll + ts->tv_nsec);
  const bool zero = ts && ts->tv_sec == 0 && ts->tv_nsec == 0;
  const uint64_t id = n > 0 ? static_cast<uint64_t>(fds[0].fd) : 0;
  return wait_many(Op::io_poll, id, zero, [&] { return real.ppoll(fds, n, ts, mask); });
}
LOCKSTEP_DMT_EXPORT int select(int n, fd_set* r, fd_set* w, fd_set* e, struct timeval* tv) {
  Thread* t = current_scheduled();
  if (t && n == 0 && tv) return sleep_for(t, tv->tv_sec * 1000000000ll + tv->tv_usec * 1000ll);
  const bool zero = tv && tv->tv_sec == 0 && tv->tv_usec == 0;
  return wait_many(Op::io_select, static_cast<uint64_t>(n), zero, [&] { return real.select(n, r, w, e, tv); });
}
LOCKSTEP_DMT_EXPORT int pselect(int n, fd_set* r, fd_set* w, fd_set* e, const struct timespec* ts,
                                const sigset_t* mask) {
  Thread* t = current_scheduled();
  if (t && n == 0 && ts && !mask) return sleep_for(t, ts->tv_sec * 1000000000ll + ts->tv_nsec);
  const bool zero = ts && ts->tv_sec == 0 && ts->tv_nsec == 0;
  return wait_many(Op::io_select, static_cast<uint64_t>(n), zero, [&] { return real.pselect(n, r, w, e, ts, mask); });
}
LOCKSTEP_DMT_EXPORT int epoll_wait(int epfd, struct epoll_event* ev, int max, int timeout) {
  return wait_many(Op::io_epoll, static_cast<uint64_t>(epfd), timeout == 0,
                   [&] { return real.epoll_wait(epfd, ev, max, timeout); });
}
LOCKSTEP_DMT_EXPORT int epoll_pwait(int epfd, struct epoll_event* ev, int max, int timeout, const sigset_t* mask) {
  return wait_many(Op::io_epoll, static_cast<uint64_t>(epfd), timeout == 0,
                   [&] { return real.epoll_pwait(epfd, ev, max, timeout, mask); });
}

namespace {

// Remembers the awaited set so that pthread_kill from inside the program can make the return
// deterministic (see intercept_thread.cpp).
template <typename F>
int sig_wait(const sigset_t* set, bool zero_timeout, F call) {
  Thread* t = current_scheduled();
  if (!t) return call();
  if (zero_timeout) return in_turn(t, Op::io_sigwait, Kind::none, 0, call);
  t->sigwait_set = *set;
  t->in_sigwait = true;
  int rc = outside(t, Op::io_sigwait, Kind::none, 0, call);
  t->in_sigwait = false;
  return rc;
}

}  // namespace

LOCKSTEP_DMT_EXPORT int sigwait(const sigset_t* set, int* sig) {
  return sig_wait(set, false, [&] { return real.sigwait(set, sig); });
}
LOCKSTEP_DMT_EXPORT int sigwaitinfo(const sigset_t* set, siginfo_t* info) {
  return sig_wait(set, false, [&] { return real.sigwaitinfo(set, info); });
}
LOCKSTEP_DMT_EXPORT int sigtimedwait(const sigset_t* set, siginfo_t* info, const struct timespec* ts) {
  const bool zero = ts && ts->tv_sec == 0 && ts->tv_nsec == 0;
  return sig_wait(set, zero, [&] { return real.sigtimedwait(set, info, ts); });
}
LOCKSTEP_DMT_EXPORT pid_t waitpid(pid_t pid, int* status, int options) {
  return wait_many(Op::io_waitpid, 0, (options & WNOHANG) != 0, [&] { return real.waitpid(pid, status, options); });
}
LOCKSTEP_DMT_EXPORT pid_t wait(int* status) {
  return wait_many(Op::io_waitpid, 0, false, [&] { return real.wait(status); });
}
LOCKSTEP_DMT_EXPORT pid_t wait4(pid_t pid, int* status, int options, struct rusage* ru) {
  return wait_many(Op::io_waitpid, 0, (options & WNOHANG) != 0, [&] { return real.wait4(pid, status, options, ru); });
}
LOCKSTEP_DMT_EXPORT int waitid(idtype_t type, id_t id, siginfo_t* info, int options) {
  return wait_many(Op::io_waitpid, 0, (options & WNOHANG) != 0, [&] { return real.waitid(type, id, info, options); });
}
LOCKSTEP_DMT_EXPORT int pause(void) {
  return wait_many(Op::io_pause, 0, false, [&] { return real.pause(); });
}
LOCKSTEP_DMT_EXPORT int sigsuspend(const sigset_t* mask) {
  return wait_many(Op::io_pause, 0, false, [&] { return real.sigsuspend(mask); });
}
