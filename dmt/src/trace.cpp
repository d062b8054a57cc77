// Recording: the schedule hash, per-op counters, the in-memory tail, the trace file and the
// exit report. Runs under the turn; writes through the real libc functions only.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dmt/src/real.h"
#include "dmt/src/runtime.h"

namespace lockstep::dmt {

namespace {

inline uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 33);
}

char* put_u64(char* p, uint64_t v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) *p++ = tmp[--n];
  return p;
}

char* put_str(char* p, const char* s) {
  while (*s) *p++ = *s++;
  return p;
}

char* put_object(char* p, Kind kind, uint64_t id) {
  *p++ = kKindLetters[static_cast<int>(kind)];
  if (kind != Kind::none) p = put_u64(p, id);
  return p;
}

// FILE for the root process, FILE.<index> for forked ones.
void process_path(const char* base, char* out, size_t size) {
  if (std::strcmp(g.opt.process_index, "0") == 0) {
    std::snprintf(out, size, "%s", base);
  } else {
    std::snprintf(out, size, "%s.%s", base, g.opt.process_index);
  }
}

}  // namespace

void raw_write_all(int fd, const char* data, size_t len) {
  while (len > 0) {
    ssize_t n = real.write(fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    len -= static_cast<size_t>(n);
  }
}

// The log is opened once at start-up, before a server changes its user (apache's child runs as
// www-data and could not open a root-owned log), and moved to a high descriptor so that programs
// dup2-ing over 0..2 or their own low fds leave it alone.
void open_log() {
  if (!g.opt.log_path[0]) return;
  int fd = real.open(g.opt.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    errmsg("cannot open LOCKSTEP_DMT_LOG ", g.opt.log_path, " (messages go to stderr)");
    return;
  }
  int high = fcntl(fd, F_DUPFD_CLOEXEC, 1000);
  if (high >= 0) {
    real.close(fd);
    fd = high;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    real.close(fd);
    return;
  }
  g.log_dev = st.st_dev;
  g.log_ino = st.st_ino;
  g.log_fd = fd;
}

// A program may close every descriptor it does not know (daemons do) and reuse the number: the
// descriptor is trusted only while it still refers to the file opened at start-up.
int message_fd() {
  if (g.log_fd < 0) return 2;
  struct stat st;
  if (fstat(g.log_fd, &st) == 0 && st.st_dev == g.log_dev && st.st_ino == g.log_ino) return g.log_fd;
  g.log_fd = -1;
  return 2;
}

void errmsg(const char* a, const char* b, const char* c) {
  char buf[1024];
  int n = std::snprintf(buf, sizeof buf, "lockstep-dmt[%s]: %s%s%s\n", g.opt.process_index, a,
                        b ? b : "", c ? c : "");
  if (n > 0)
    raw_write_all(message_fd(), buf, static_cast<size_t>(n) < sizeof buf ? static_cast<size_t>(n) : sizeof buf - 1);
}

void open_trace() {
  if (!g.opt.trace_path[0]) return;
  char path[700];
  process_path(g.opt.trace_path, path, sizeof path);
  const bool after_exec = getenv("LOCKSTEP_DMT_EXECED") != nullptr;
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (after_exec ? O_APPEND : O_TRUNC);
  g.trace_fd = real.open(path, flags, 0644);
  if (g.trace_fd < 0) errmsg("cannot open trace file ", path);
}

void record(Thread* t, Op op, Kind kind, uint64_t id) {
  const uint64_t clock = g.clock.load(std::memory_order_relaxed);
  uint64_t h = g.hash;
  h = mix(h, clock);
  h = mix(h, t->index);
  h = mix(h, static_cast<uint64_t>(op));
  h = mix(h, (static_cast<uint64_t>(kind) << 56) ^ id);
  g.hash = h;
  ++g.op_counts[static_cast<int>(op)];
  g.tail[g.tail_pos++ % kTailSize] = TailRecord{clock, t->index, op, kind, id};
  note_site(t, op, kind);
  if (g.trace_fd < 0) return;
  if (g.trace_len + 128 > sizeof g.trace_buf) flush_trace();
  char* p = g.trace_buf + g.trace_len;
  p = put_u64(p, clock);
  *p++ = ' ';
  p = put_u64(p, t->index);
  *p++ = ' ';
  p = put_str(p, kOpNames[static_cast<int>(op)]);
  *p++ = ' ';
  p = put_object(p, kind, id);
  *p++ = '\n';
  g.trace_len = static_cast<size_t>(p - g.trace_buf);
}

void flush_trace() {
  if (g.trace_fd >= 0 && g.trace_len > 0) raw_write_all(g.trace_fd, g.trace_buf, g.trace_len);
  g.trace_len = 0;
}

void write_report() {
  if (g.report_written || !g.opt.report_path[0]) return;
  g.report_written = true;
  char path[700];
  process_path(g.opt.report_path, path, sizeof path);
  static char buf[8192];
  int n = std::snprintf(buf, sizeof buf,
                        "{\"process\": \"%s\", \"schedule_hash\": \"%016llx\", \"turns\": %llu, "
                        "\"threads\": %u, \"ns_per_turn\": %llu, \"ops\": {",
                        g.opt.process_index, static_cast<unsigned long long>(g.hash),
                        static_cast<unsigned long long>(g.clock.load()), g.nthreads,
                        static_cast<unsigned long long>(g.opt.ns_per_turn));
  bool first = true;
  for (int i = 0; i < kOpCount && n > 0 && static_cast<size_t>(n) < sizeof buf - 64; ++i) {
    if (g.op_counts[i] == 0) continue;
    n += std::snprintf(buf + n, sizeof buf - n, "%s\"%s\": %llu", first ? "" : ", ", kOpNames[i],
                       static_cast<unsigned long long>(g.op_counts[i]));
    first = false;
  }
  if (n > 0 && static_cast<size_t>(n) < sizeof buf - 4) n += std::snprintf(buf + n, sizeof buf - n, "}}\n");
  int fd = real.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    errmsg("cannot write report ", path);
    return;
  }
  raw_write_all(fd, buf, static_cast<size_t>(n));
  real.close(fd);
}

void dump_tail(const char* why) {
  errmsg(why);
  const int out = message_fd();
  char buf[256];
  const uint64_t end = g.tail_pos;
  const uint64_t begin = end > kTailSize ? end - kTailSize : 0;
  int n = std::snprintf(buf, sizeof buf, "  last %llu operations (logical time, thread, op, object):\n",
                        static_cast<unsigned long long>(end - begin));
  raw_write_all(out, buf, static_cast<size_t>(n));
  for (uint64_t i = begin; i < end; ++i) {
    const TailRecord& r = g.tail[i % kTailSize];
    char* p = buf;
    p = put_str(p, "    ");
    p = put_u64(p, r.clock);
    *p++ = ' ';
    p = put_u64(p, r.thread);
    *p++ = ' ';
    p = put_str(p, kOpNames[static_cast<int>(r.op)]);
    *p++ = ' ';
    p = put_object(p, r.kind, r.id);
    *p++ = '\n';
    raw_write_all(out, buf, static_cast<size_t>(p - buf));
  }
  static const char* const states[] = {"free", "runnable", "waiting", "in-blocking-call", "exited", "unscheduled"};
  for (uint32_t i = 0; i < g.nthreads && i < 256; ++i) {
    const Thread& t = g.threads[i];
    if (t.state == TState::exited || t.state == TState::free) continue;
    char on[48] = "";
    if (t.state == TState::waiting) {
      const Object* o = t.wait_addr ? find_object(reinterpret_cast<void*>(t.wait_addr)) : nullptr;
      if (o) {
        std::snprintf(on, sizeof on, " on %c%llu", kKindLetters[static_cast<int>(o->kind)],
                      static_cast<unsigned long long>(o->id));
      } else if (!t.wait_addr) {
        std::snprintf(on, sizeof on, " on the clock");
      }
      if (t.timed) std::snprintf(on + strlen(on), sizeof on - strlen(on), " until %llu", static_cast<unsigned long long>(t.deadline));
    }
    n = std::snprintf(buf, sizeof buf, "  thread %u: %s%s%s\n", t.index, states[static_cast<int>(t.state)], on,
                      g.rq_head == &t ? " (turn is here)" : "");
    raw_write_all(out, buf, static_cast<size_t>(n));
  }
}

void fatal(const char* what, const char* detail) {
  char line[512];
  std::snprintf(line, sizeof line, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
  errmsg("fatal: ", line);
  flush_trace();
  abort();
}

}  // namespace lockstep::dmt
