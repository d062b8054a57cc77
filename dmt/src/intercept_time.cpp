// Sleeps, yields, clock reads and futexes issued through syscall().
//
// Time is logical: a sleep or timeout of N ns lasts ceil(N / ns_per_turn) turns, and (with
// LOCKSTEP_DMT_CLOCK=logical, the default) clock reads return the start time plus turns times
// ns_per_turn, each read taking a turn. Programs that compute deadlines from the clock therefore
// compute the same deadlines on every run.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <dlfcn.h>

#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdio>

#include "dmt/src/real.h"
#include "dmt/src/runtime.h"

using namespace lockstep::dmt;

namespace {

bool logical_clock_id(clockid_t c) {
  switch (c) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_TAI:
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_BOOTTIME:
      return true;
    default:
      return false;
  }
}

int64_t ts_ns(const struct timespec* ts) { return ts->tv_sec * 1000000000ll + ts->tv_nsec; }

// Sleeps DEADLINE (logical turns) in the scheduler; the thread leaves the run queue meanwhile.
void logical_sleep(Thread* t, uint64_t deadline) {
  begin_op(t);
  record(t, Op::sleep, Kind::none, 0);
  wait_on(t, nullptr, deadline);
  end_op(t);
}

void sleep_ns(Thread* t, int64_t ns) {
  begin_op(t);
  const uint64_t deadline = deadline_after_ns(ns);
  record(t, Op::sleep, Kind::none, 0);
  wait_on(t, nullptr, deadline);
  end_op(t);
}

// Under the turn, from the clock of the logical time line.
int64_t read_clock(Thread* t, clockid_t c) {
  begin_op(t);
  record(t, Op::clock_read, Kind::none, 0);
  const int64_t ns = logical_ns(c);
  end_op(t);
  return ns;
}

long futex_op(Thread* t, long* a) {
  auto* uaddr = reinterpret_cast<std::atomic<uint32_t>*>(a[0]);
  const int op = static_cast<int>(a[1]);
  const int cmd = op & FUTEX_CMD_MASK;
  const uint32_t val = static_cast<uint32_t>(a[2]);
  const auto* timeout = reinterpret_cast<const struct timespec*>(a[3]);
  uint32_t bitset = ~0u;
  switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      if (cmd == FUTEX_WAIT_BITSET) bitset = static_cast<uint32_t>(a[5]);
      if (bitset == 0 || (timeout && (timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000))) {
        errno = EINVAL;
        return -1;
      }
      begin_op(t);
      record(t, Op::futex_wait, Kind::futex, object_id(uaddr, Kind::futex));
      if (uaddr->load(std::memory_order_acquire) != val) {
        end_op(t);
        errno = EAGAIN;
        return -1;
      }
      uint64_t deadline = kNoDeadline;
      if (timeout) {
        if (cmd == FUTEX_WAIT) {
          deadline = deadline_after_ns(ts_ns(timeout));
        } else {
          deadline = deadline_at((op & FUTEX_CLOCK_REALTIME) ? CLOCK_REALTIME : CLOCK_MONOTONIC, timeout);
        }
      }
      const bool timed_out = wait_on(t, uaddr, deadline, bitset);
      end_op(t);
      if (timed_out) {
        errno = ETIMEDOUT;
        return -1;
      }
      return 0;
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      if (cmd == FUTEX_WAKE_BITSET) bitset = static_cast<uint32_t>(a[5]);
      const int n = static_cast<int>(val > INT_MAX ? INT_MAX : val);
      begin_op(t);
      record(t, Op::futex_wake, Kind::futex, object_id(uaddr, Kind::futex));
      long woken = wake(uaddr, n, bitset);
      // Threads outside scheduling may wait on the same word in the kernel.
      if (g.external.load() > 0 || g.unscheduled.load() > 0) {
        real.syscall(SYS_futex, a[0], a[1], a[2], a[3], a[4], a[5]);
      }
      end_op(t);
      return woken;
    }
    default: {
      char msg[96];
      std::snprintf(msg, sizeof msg, "futex command %d issued through syscall() is not supported", cmd);
      fatal("syscall(SYS_futex)", msg);
    }
  }
}

}  // namespace

LOCKSTEP_DMT_EXPORT int nanosleep(const struct timespec* req, struct timespec* rem) {
  Thread* t = current_scheduled();
  if (!t) return real.nanosleep(req, rem);
  if (!req || req->tv_nsec < 0 || req->tv_nsec >= 1000000000 || req->tv_sec < 0) {
    errno = EINVAL;
    return -1;
  }
  sleep_ns(t, ts_ns(req));
  if (rem) *rem = timespec{0, 0};
  return 0;
}

LOCKSTEP_DMT_EXPORT int clock_nanosleep(clockid_t clock, int flags, const struct timespec* req, struct timespec* rem) {
  Thread* t = current_scheduled();
  if (!t || !logical_clock_id(clock)) return real.clock_nanosleep(clock, flags, req, rem);
  if (!req || req->tv_nsec < 0 || req->tv_nsec >= 1000000000) return EINVAL;
  if (flags & TIMER_ABSTIME) {
    begin_op(t);
    const uint64_t deadline = deadline_at(clock, req);
    logical_sleep(t, deadline);
    end_op(t);
  } else {
    sleep_ns(t, ts_ns(req));
    if (rem) *rem = timespec{0, 0};
  }
  return 0;
}

LOCKSTEP_DMT_EXPORT int usleep(useconds_t us) {
  Thread* t = current_scheduled();
  if (!t) return real.usleep(us);
  sleep_ns(t, static_cast<int64_t>(us) * 1000);
  return 0;
}

LOCKSTEP_DMT_EXPORT unsigned sleep(unsigned s) {
  Thread* t = current_scheduled();
  if (!t) return real.sleep(s);
  sleep_ns(t, static_cast<int64_t>(s) * 1000000000ll);
  return 0;
}

LOCKSTEP_DMT_EXPORT int sched_yield(void) {
  Thread* t = current_scheduled();
  if (!t) return real.sched_yield();
  begin_op(t);
  record(t, Op::yield, Kind::none, 0);
  end_op(t, false);  // a yield always passes the turn
  return 0;
}

LOCKSTEP_DMT_EXPORT int clock_gettime(clockid_t c, struct timespec* ts) {
  Thread* t = current_scheduled();
  if (!t || !g.opt.logical_clock || !logical_clock_id(c)) return real.clock_gettime(c, ts);
  const int64_t ns = read_clock(t, c);
  ts->tv_sec = ns / 1000000000ll;
  ts->tv_nsec = ns % 1000000000ll;
  return 0;
}

LOCKSTEP_DMT_EXPORT int gettimeofday(struct timeval* tv, void* tz) {
  Thread* t = current_scheduled();
  if (!t || !g.opt.logical_clock) return real.gettimeofday(tv, tz);
  const int64_t ns = read_clock(t, CLOCK_REALTIME);
  tv->tv_sec = ns / 1000000000ll;
  tv->tv_usec = (ns % 1000000000ll) / 1000;
  return 0;
}

LOCKSTEP_DMT_EXPORT time_t time(time_t* out) {
  Thread* t = current_scheduled();
  if (!t || !g.opt.logical_clock) return real.time(out);
  const time_t s = static_cast<time_t>(read_clock(t, CLOCK_REALTIME) / 1000000000ll);
  if (out) *out = s;
  return s;
}

namespace {

// The system call itself, for the moment before libc's syscall() is resolved.
long raw_syscall6(long nr, const long* a) {
#if defined(__x86_64__)
  long ret;
  register long r10 __asm__("r10") = a[3];
  register long r8 __asm__("r8") = a[4];
  register long r9 __asm__("r9") = a[5];
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a[0]), "S"(a[1]), "d"(a[2]), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  if (ret < 0 && ret > -4096) {
    errno = static_cast<int>(-ret);
    return -1;
  }
  return ret;
#else
  using fn = long (*)(long, ...);
  auto f = reinterpret_cast<fn>(dlsym(RTLD_NEXT, "syscall"));
  if (!f) fatal("syscall", "called before the runtime resolved libc's syscall()");
  return f(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
#endif
}

}  // namespace

LOCKSTEP_DMT_EXPORT long syscall(long nr, ...) {
  // Other libraries' constructors may call syscall() before ours ran (mariadbd: libnuma's
  // numa_init -> numa_sched_getaffinity): resolve the real functions first.
  ensure_init();
  va_list ap;
  va_start(ap, nr);
  long a[6];
  for (long& x : a) x = va_arg(ap, long);
  va_end(ap);
  // Still unresolved only while our own start-up is running (a call made from inside dlsym).
  if (!real.syscall) return raw_syscall6(nr, a);
  if (nr == SYS_futex) {
    if (Thread* t = current_scheduled()) return futex_op(t, a);
    long rc = real.syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    // A thread outside scheduling may wake scheduled waiters of the same word.
    const int cmd = static_cast<int>(a[1]) & FUTEX_CMD_MASK;
    if (cmd == FUTEX_WAKE || cmd == FUTEX_WAKE_BITSET) {
      const int saved = errno;
      kick(reinterpret_cast<void*>(a[0]));
      errno = saved;
    }
    return rc;
  }
  return real.syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
