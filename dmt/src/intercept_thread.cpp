// Threads and processes: create, join, detach, exit, cancel, once, fork, exec, _exit.
#include <alloca.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "dmt/src/real.h"
#include "dmt/src/runtime.h"

using namespace lockstep::dmt;

namespace {

void leave_on_exit(Thread* t) {
  if (!g.active || t == nullptr) return;
  if (t->state == TState::runnable) {
    thread_leaves(t, Op::thread_exit, true);
    return;
  }
  // Exiting from outside scheduling (detached or inside a nondet region): let a joiner know.
  if (t->state == TState::unscheduled) g.unscheduled.fetch_sub(1);
  if (t->state == TState::external) g.external.fetch_sub(1);
  t->left_scheduling = true;
  t->state = TState::exited;
  t->exited.store(1, std::memory_order_release);
  kick(t);
}

void* trampoline(void* p) {
  Thread* t = static_cast<Thread*>(p);
  t->stack_ref = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  set_self(t);
  begin_op(t);
  record(t, Op::thread_start, Kind::thread, t->index);
  end_op(t);
  void* result = t->start(t->arg);
  leave_on_exit(t);
  return result;
}

// Newest first: pthread_t values are reused once a thread has been joined.
Thread* find_thread(pthread_t th) {
  for (uint32_t i = g.nthreads; i-- > 0;) {
    Thread* t = &g.threads[i];
    if (t->state != TState::free && !t->joined && pthread_equal(t->handle, th)) return t;
  }
  return nullptr;
}

// Waits (under the turn) until thread C has left scheduling; false on timeout.
bool wait_exited(Thread* t, Thread* c, uint64_t deadline) {
  while (!c->exited.load(std::memory_order_acquire)) {
    if (wait_on(t, c, deadline) && !c->exited.load(std::memory_order_acquire)) return false;
  }
  return true;
}

}  // namespace

LOCKSTEP_DMT_EXPORT int pthread_create(pthread_t* th, const pthread_attr_t* attr, void* (*fn)(void*), void* arg) {
  Thread* t = current_scheduled();
  if (!t) return real.pthread_create(th, attr, fn, arg);
  start_watchdog();
  begin_op(t);
  if (g.nthreads >= kMaxThreads) fatal("pthread_create", "more threads than the runtime's table holds");
  Thread* c = &g.threads[g.nthreads];
  reset_thread(c);
  c->index = g.nthreads++;
  c->state = TState::runnable;
  c->start = fn;
  c->arg = arg;
  enqueue_thread(c);
  record(t, Op::thread_create, Kind::thread, c->index);
  int rc = real.pthread_create(th, attr, trampoline, c);
  if (rc != 0) {
    dequeue_thread(c);
    reset_thread(c);
    --g.nthreads;
  } else {
    c->handle = *th;
  }
  end_op(t);
  return rc;
}

LOCKSTEP_DMT_EXPORT int pthread_join(pthread_t th, void** ret) {
  Thread* t = current_scheduled();
  if (!t) return real.pthread_join(th, ret);
  begin_op(t);
  Thread* c = find_thread(th);
  if (!c || c->left_scheduling) {
    // A thread outside scheduling ends at a moment the runtime does not control: wait for it
    // like for a blocking call.
    const uint64_t id = c ? c->index : 0;
    const Kind kind = c ? Kind::thread : Kind::none;
    if (c) c->joined = true;
    end_op(t);
    if (!ext_begin(t, Op::thread_join, kind, id)) return real.pthread_join(th, ret);
    int rc = real.pthread_join(th, ret);
    ext_end(t, kind, id);
    return rc;
  }
  record(t, Op::thread_join, Kind::thread, c->index);
  wait_exited(t, c, kNoDeadline);
  c->joined = true;
  end_op(t);
  // The thread has left scheduling; the real join only waits for its last instructions.
  return real.pthread_join(th, ret);
}

LOCKSTEP_DMT_EXPORT int pthread_tryjoin_np(pthread_t th, void** ret) {
  Thread* t = current_scheduled();
  if (!t) return real.pthread_tryjoin_np(th, ret);
  begin_op(t);
  Thread* c = find_thread(th);
  record(t, Op::thread_join, Kind::thread, c ? c->index : 0);
  if (c && !c->exited.load(std::memory_order_acquire)) {
    end_op(t);
    return EBUSY;
  }
  if (c) c->joined = true;
  end_op(t);
  return c ? real.pthread_join(th, ret) : real.pthread_tryjoin_np(th, ret);
}

LOCKSTEP_DMT_EXPORT int pthread_timedjoin_np(pthread_t th, void** ret, const struct timespec* abstime) {
  Thread* t = current_scheduled();
  if (!t) return real.pthread_timedjoin_np(th, ret, abstime);
  begin_op(t);
  Thread* c = find_thread(th);
  if (!c) {
    end_op(t);
    return real.pthread_timedjoin_np(th, ret, abstime);
  }
  record(t, Op::thread_join, Kind::thread, c->index);
  const uint64_t deadline = abstime ? deadline_at(CLOCK_REALTIME, abstime) : kNoDeadline;
  if (!wait_exited(t, c, deadline)) {
    end_op(t);
    return ETIMEDOUT;
  }
  c->joined = true;
  end_op(t);
  return real.pthread_join(th, ret);
}

LOCKSTEP_DMT_EXPORT int pthread_detach(pthread_t th) {
  Thread* t = current_scheduled();
  if (!t) return real.pthread_detach(th);
  begin_op(t);
  Thread* c = find_thread(th);
  record(t, Op::thread_detach, Kind::thread, c ? c->index : 0);
  if (c) c->joined = true;  // its handle may be reused from now on
  end_op(t);
  return real.pthread_detach(th);
}

LOCKSTEP_DMT_EXPORT void pthread_exit(void* value) {
  ensure_init();
  leave_on_exit(self());
  real.pthread_exit(value);
  __builtin_unreachable();
}

// A signal to a thread blocked in sigwait for it makes that thread return at a moment that
// depends on the kernel. The sender waits (under its turn) until the target is back and puts it
// in the run queue right away, so the return lands at the same point of the schedule each run.
LOCKSTEP_DMT_EXPORT int pthread_kill(pthread_t th, int sig) {
  Thread* t = current_scheduled();
  if (!t || sig == 0) return real.pthread_kill(th, sig);
  begin_op(t);
  Thread* c = find_thread(th);
  record(t, Op::thread_kill, Kind::thread, c ? c->index : 0);
  const bool awaited = c && c->state == TState::external && c->in_sigwait && sigismember(&c->sigwait_set, sig) == 1;
  int rc = real.pthread_kill(th, sig);
  if (rc == 0 && awaited) {
    struct timespec start;
    real.clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
      g.lock.lock();
      const bool back = c->state != TState::external;
      g.lock.unlock();
      if (back) {
        take_arrival(c);
        break;
      }
      struct timespec now;
      real.clock_gettime(CLOCK_MONOTONIC, &now);
      if (now.tv_sec - start.tv_sec > 2) break;  // not delivered after all; stay non-blocking
      struct timespec pause{0, 20000};
      real.nanosleep(&pause, nullptr);
    }
  }
  end_op(t);
  return rc;
}

LOCKSTEP_DMT_EXPORT int pthread_cancel(pthread_t th) {
  if (current_scheduled()) {
    fatal("pthread_cancel", "cancellation of a scheduled thread is not supported by the DMT runtime");
  }
  return real.pthread_cancel(th);
}

LOCKSTEP_DMT_EXPORT int pthread_once(pthread_once_t* once, void (*init)(void)) {
  Thread* t = current_scheduled();
  if (!t) return real.pthread_once(once, init);
  auto* word = reinterpret_cast<std::atomic<int>*>(once);
  begin_op(t);
  record(t, Op::once, Kind::once, object_id(once, Kind::once));
  for (;;) {
    Object* o = object(once, Kind::once);
    if (o->once_state == 2 || (word->load(std::memory_order_acquire) & 2) != 0) {
      end_op(t);
      return 0;
    }
    if (o->once_state == 0) {
      o->once_state = 1;
      break;
    }
    wait_on(t, once, kNoDeadline);
  }
  end_op(t);
  init();
  begin_op(t);
  object(once, Kind::once)->once_state = 2;
  word->store(2, std::memory_order_release);  // glibc's "done" value, for callers outside us
  wake(once, INT_MAX);
  end_op(t);
  return 0;
}

LOCKSTEP_DMT_EXPORT pid_t fork(void) {
  Thread* t = current_scheduled();
  if (!t) return real.fork();
  begin_op(t);
  const uint32_t n = ++g.forks;
  record(t, Op::fork, Kind::none, n);
  flush_trace();
  const int64_t realtime_now = logical_ns(CLOCK_REALTIME);
  const int64_t monotonic_now = logical_ns(CLOCK_MONOTONIC);
  pid_t pid = real.fork();
  if (pid != 0) {
    end_op(t);
    return pid;
  }
  // Child: its own scheduler, its own deterministic index ("<parent>.<n>", root children "<n>").
  char index[sizeof g.opt.process_index + 16];
  if (std::strcmp(g.opt.process_index, "0") == 0) {
    std::snprintf(index, sizeof index, "%u", n);
  } else {
    std::snprintf(index, sizeof index, "%s.%u", g.opt.process_index, n);
  }
  index[sizeof g.opt.process_index - 1] = '\0';
  std::memcpy(g.opt.process_index, index, sizeof g.opt.process_index);
  setenv("LOCKSTEP_DMT_PROCESS_INDEX", index, 1);
  reinit_after_fork(t);
  t = self();
  g.clock.store(0);
  g.hash = 0xcbf29ce484222325ull;
  std::memset(g.op_counts, 0, sizeof g.op_counts);
  g.tail_pos = 0;
  clear_objects();
  g.next_object_id = 0;
  g.forks = 0;
  g.base_realtime_ns = realtime_now;
  g.base_monotonic_ns = monotonic_now;
  if (g.trace_fd >= 0) real.close(g.trace_fd);
  g.trace_fd = -1;
  g.trace_len = 0;
  open_trace();
  g.report_written = false;
  record(t, Op::fork_child, Kind::none, 0);
  end_op(t);
  return 0;
}

namespace {

// Records the exec and keeps the turn: if exec succeeds no other thread of this image runs again.
template <typename F>
int exec_common(F call) {
  Thread* t = current_scheduled();
  if (!t) return call();
  begin_op(t);
  record(t, Op::exec, Kind::none, 0);
  flush_trace();
  setenv("LOCKSTEP_DMT_EXECED", "1", 1);
  int rc = call();
  const int saved = errno;
  end_op(t);
  errno = saved;
  return rc;
}

char** collect_args(const char* arg0, va_list ap, char** out) {
  int i = 0;
  out[i++] = const_cast<char*>(arg0);
  if (!arg0) return out;
  while ((out[i++] = va_arg(ap, char*)) != nullptr) {
  }
  return out;
}

int count_args(const char* arg0, va_list ap) {
  int n = 1;
  if (arg0) {
    while (va_arg(ap, char*) != nullptr) ++n;
  }
  return n + 1;
}

}  // namespace

LOCKSTEP_DMT_EXPORT int execve(const char* path, char* const argv[], char* const envp[]) {
  return exec_common([&] { return real.execve(path, argv, envp); });
}
LOCKSTEP_DMT_EXPORT int execv(const char* path, char* const argv[]) {
  return exec_common([&] { return real.execv(path, argv); });
}
LOCKSTEP_DMT_EXPORT int execvp(const char* file, char* const argv[]) {
  return exec_common([&] { return real.execvp(file, argv); });
}
LOCKSTEP_DMT_EXPORT int execvpe(const char* file, char* const argv[], char* const envp[]) {
  return exec_common([&] { return real.execvpe(file, argv, envp); });
}

LOCKSTEP_DMT_EXPORT int execl(const char* path, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  int n = count_args(arg, ap);
  va_end(ap);
  char** argv = static_cast<char**>(alloca(sizeof(char*) * (n + 1)));
  va_start(ap, arg);
  collect_args(arg, ap, argv);
  va_end(ap);
  return execv(path, argv);
}

LOCKSTEP_DMT_EXPORT int execlp(const char* file, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  int n = count_args(arg, ap);
  va_end(ap);
  char** argv = static_cast<char**>(alloca(sizeof(char*) * (n + 1)));
  va_start(ap, arg);
  collect_args(arg, ap, argv);
  va_end(ap);
  return execvp(file, argv);
}

LOCKSTEP_DMT_EXPORT int execle(const char* path, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  int n = count_args(arg, ap);
  va_end(ap);
  char** argv = static_cast<char**>(alloca(sizeof(char*) * (n + 1)));
  va_start(ap, arg);
  collect_args(arg, ap, argv);
  char* const* envp = va_arg(ap, char* const*);
  va_end(ap);
  return execve(path, argv, envp);
}

LOCKSTEP_DMT_EXPORT void _exit(int status) {
  if (g.init_state.load() == 2) {
    flush_trace();
    write_report();
  }
  real._exit(status);
  __builtin_unreachable();
}
