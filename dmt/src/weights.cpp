// Gap weights: how long a thread computes between two operations, used to place it in the run
// queue (sched.cpp), and the profiler that measures them.
//
// Round-robin makes every thread wait for every other thread's next operation: a thread that
// compresses a block for 3 ms between two operations holds up all the others for those 3 ms.
// Kendo avoids that by ordering threads by a deterministic count of the instructions each has
// run; this machine (a VM) has no instruction counters, so the estimate comes from a profile. A
// profiling run (LOCKSTEP_DMT_PROFILE=FILE) measures, for every thread and *site*, the real time
// the thread spent outside the scheduler after an operation there, and writes the means. Later
// runs read the file (LOCKSTEP_DMT_WEIGHTS=FILE) and, after an operation at that site, place the
// thread mean / ns-per-turn turns ahead, so threads that really compute get out of the way of
// those that only pass work along. The weights come from the file and nothing else, so the
// schedule is a function of the program, its inputs and the file: the same on every run. A wrong
// or stale file (another program, another build of this library) costs speed, never correctness.
//
// A site is what the runtime can tell, the same way on every run, about where in the program an
// operation comes from: the operation, its object's kind, the depth of the stack below the
// thread's start (a call path's fingerprint; addresses move with ASLR, depths do not) and, with
// LOCKSTEP_DMT_WEIGHT_CONTEXT=1 (default), a hash of the thread's previous site. Object names are
// not used: objects created per work item get new names on every run.
//
// Weights are per site, pooled over threads: which worker thread picks up which work item is
// itself a product of the schedule, and a thread with few samples gives a noisy mean (pigz -p 4:
// ratio 1.40 with per-thread weights, 1.14-1.23 pooled); threads the profiling run did not have
// (xz starts its encoders lazily) are covered too.
//
// File format, one line per (thread, site), kept per thread for diagnosis; the profile is
// written in it and read back as is:
//   <thread index> <operation> <kind letter>@<depth>[:<context>] <samples> <mean ns>
// e.g. "2 mutex_unlock m@57:9672 178 2509722". '#' starts a comment.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "dmt/src/real.h"
#include "dmt/src/runtime.h"

namespace lockstep::dmt {

namespace {

constexpr uint32_t kSlots = 1u << 14;  // power of two
constexpr uint64_t kMinSamples = 2;
constexpr uint32_t kAnyThread = 0x7fff;

// Key layout: bit 63 set (0 means an empty slot), thread in bits 44-58, operation 36-43, kind
// 32-35, stack depth 16-31, context 0-15.
uint64_t make_key(uint32_t thread, uint32_t op, uint32_t kind, uint64_t depth, uint64_t context) {
  return (1ull << 63) | (static_cast<uint64_t>(thread & 0x7fff) << 44) | (static_cast<uint64_t>(op & 0xff) << 36) |
         (static_cast<uint64_t>(kind & 0xf) << 32) | ((depth & 0xffff) << 16) | (context & 0xffff);
}
uint32_t key_thread(uint64_t k) { return static_cast<uint32_t>((k >> 44) & 0x7fff); }
uint32_t key_op(uint64_t k) { return static_cast<uint32_t>((k >> 36) & 0xff); }
uint32_t key_kind(uint64_t k) { return static_cast<uint32_t>((k >> 32) & 0xf); }
uint64_t key_depth(uint64_t k) { return (k >> 16) & 0xffff; }
uint64_t key_context(uint64_t k) { return k & 0xffff; }
uint64_t any_thread(uint64_t k) { return (k & ~(0x7fffull << 44)) | (static_cast<uint64_t>(kAnyThread) << 44); }

struct WeightSlot {
  uint64_t key = 0;
  uint64_t turns = 0;
};

struct ProfileSlot {
  uint64_t key = 0;
  uint64_t samples = 0;
  uint64_t total_ns = 0;
};

// Runtime state like Global: filled at start-up (weights) or under the turn (profile).
WeightSlot weights[kSlots];
uint32_t weight_count = 0;
ProfileSlot profile[kSlots];
bool profile_full = false;
ProfileSlot pooled[kSlots];  // start-up only: samples pooled per key before they become weights

inline uint32_t slot_of(uint64_t key) { return static_cast<uint32_t>((key * 0x9E3779B97F4A7C15ull) >> 50) & (kSlots - 1); }

// Adds samples to KEY in TABLE; false when the table is too full to take a new key.
bool add_samples(ProfileSlot* table, uint64_t key, uint64_t samples, uint64_t total_ns) {
  for (uint32_t i = slot_of(key), probes = 0; probes < kSlots / 4; i = (i + 1) & (kSlots - 1), ++probes) {
    ProfileSlot& s = table[i];
    if (s.key != key && s.key != 0) continue;
    s.key = key;
    s.samples += samples;
    s.total_ns += total_ns;
    return true;
  }
  return false;
}

void put_weight(uint64_t key, uint64_t turns) {
  if (weight_count >= kSlots - kSlots / 8) return;
  for (uint32_t i = slot_of(key);; i = (i + 1) & (kSlots - 1)) {
    if (weights[i].key == key || weights[i].key == 0) {
      if (weights[i].key == 0) ++weight_count;
      weights[i] = WeightSlot{key, turns};
      return;
    }
  }
}

uint64_t find_weight(uint64_t key) {
  for (uint32_t i = slot_of(key);; i = (i + 1) & (kSlots - 1)) {
    if (weights[i].key == key) return weights[i].turns;
    if (weights[i].key == 0) return 0;
  }
}

// Parsing without the heap or stdio: this runs in the library's constructor.
const char* skip_spaces(const char* p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\t')) ++p;
  return p;
}

const char* parse_u64(const char* p, const char* end, uint64_t* out, bool* ok) {
  uint64_t v = 0;
  const char* start = p;
  while (p < end && *p >= '0' && *p <= '9' && p - start < 19) v = v * 10 + static_cast<uint64_t>(*p++ - '0');
  *ok = *ok && p > start;
  *out = v;
  return p;
}

const char* parse_word(const char* p, const char* end, const char** word, size_t* len) {
  *word = p;
  while (p < end && *p != ' ' && *p != '\t') ++p;
  *len = static_cast<size_t>(p - *word);
  return p;
}

bool op_by_name(const char* name, size_t len, uint32_t* op) {
  for (int i = 0; i < kOpCount; ++i) {
    if (strlen(kOpNames[i]) == len && memcmp(kOpNames[i], name, len) == 0) {
      *op = static_cast<uint32_t>(i);
      return true;
    }
  }
  return false;
}

// "<kind letter>@<depth>[:<context>]", e.g. "m@57:9672".
bool site_by_name(const char* name, size_t len, uint32_t* kind, uint64_t* depth, uint64_t* context) {
  if (len < 3 || name[1] != '@' || name[0] == '\0') return false;
  const char* letter = strchr(kKindLetters, name[0]);
  if (!letter) return false;
  *kind = static_cast<uint32_t>(letter - kKindLetters);
  bool ok = true;
  const char* end = parse_u64(name + 2, name + len, depth, &ok);
  *context = 0;
  if (ok && end < name + len && *end == ':') end = parse_u64(end + 1, name + len, context, &ok);
  return ok && end == name + len && *depth <= 0xffff && *context <= 0xffff;
}

[[noreturn]] void bad_weights(const char* why, uint64_t line) {
  char detail[256];
  std::snprintf(detail, sizeof detail, ": %s (line %llu)", why, static_cast<unsigned long long>(line));
  errmsg("LOCKSTEP_DMT_WEIGHTS ", g.opt.weights_path, detail);
  _exit(2);
}

}  // namespace

int64_t profile_now_ns() {
  struct timespec ts;
  real.clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

void note_site(Thread* t, Op op, Kind kind) {
  if (weight_count == 0 && !profiling()) return;  // every weight is 1: no site needed
  const uintptr_t here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  const uint64_t depth = t->stack_ref == 0 || here > t->stack_ref ? 0 : ((t->stack_ref - here) / 16) & 0xffff;
  const uint64_t site = (static_cast<uint64_t>(op) << 24) ^ (static_cast<uint64_t>(kind) << 20) ^ depth;
  const uint64_t context = g.opt.weight_context ? ((t->prev_site * 0x9E3779B97F4A7C15ull) >> 48) & 0xffff : 0;
  t->prev_site = site;
  t->last_key = make_key(t->index, static_cast<uint32_t>(op), static_cast<uint32_t>(kind), depth, context);
}

uint64_t weight_of(uint64_t key) {
  if (weight_count == 0) return 1;
  const uint64_t turns = find_weight(any_thread(key));
  return turns == 0 ? 1 : turns;
}

void load_weights() {
  if (!g.opt.weights_path[0]) return;
  static char buf[4 << 20];
  const int fd = real.open(g.opt.weights_path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) {
    errmsg("cannot open LOCKSTEP_DMT_WEIGHTS ", g.opt.weights_path);
    _exit(2);
  }
  size_t len = 0;
  for (;;) {
    const ssize_t n = real.read(fd, buf + len, sizeof buf - len);
    if (n <= 0) break;
    len += static_cast<size_t>(n);
    if (len == sizeof buf) {
      real.close(fd);
      bad_weights("file too large (limit 4 MiB)", 0);
    }
  }
  real.close(fd);
  const char* p = buf;
  const char* end = buf + len;
  uint64_t line = 0;
  while (p < end) {
    ++line;
    const char* eol = static_cast<const char*>(memchr(p, '\n', static_cast<size_t>(end - p)));
    if (!eol) eol = end;
    const char* q = skip_spaces(p, eol);
    if (q < eol && *q != '#') {
      bool ok = true;
      uint64_t thread = 0, samples = 0, mean_ns = 0, depth = 0, context = 0;
      uint32_t op = 0, kind = 0;
      const char* word;
      size_t wlen;
      q = skip_spaces(parse_u64(q, eol, &thread, &ok), eol);
      q = skip_spaces(parse_word(q, eol, &word, &wlen), eol);
      if (ok && !op_by_name(word, wlen, &op)) bad_weights("unknown operation", line);
      q = skip_spaces(parse_word(q, eol, &word, &wlen), eol);
      if (ok && !site_by_name(word, wlen, &kind, &depth, &context)) {
        bad_weights("bad site (expected <kind>@<depth>[:<context>], e.g. m@57:9672)", line);
      }
      q = skip_spaces(parse_u64(q, eol, &samples, &ok), eol);
      q = skip_spaces(parse_u64(q, eol, &mean_ns, &ok), eol);
      if (!ok || q != eol || thread >= kAnyThread) {
        bad_weights("expected: <thread> <operation> <kind>@<depth>[:<context>] <samples> <mean ns>", line);
      }
      const uint64_t key = make_key(static_cast<uint32_t>(thread), op, kind, depth, context);
      add_samples(pooled, any_thread(key), samples, samples * mean_ns);
    }
    p = eol + 1;
  }
  for (ProfileSlot& s : pooled) {
    if (s.key != 0 && s.samples >= kMinSamples) {
      const uint64_t turns = s.total_ns / s.samples / g.opt.ns_per_turn;
      if (turns > 1) put_weight(s.key, turns);
    }
    s = ProfileSlot{};
  }
}

bool profiling() { return g.opt.profile_path[0] != '\0'; }

void profile_gap_begin(Thread* t) {
  t->gap_key = t->last_key;
  t->gap_start_ns = profile_now_ns();
}

void profile_gap_end(Thread* t, int64_t arrived_ns) {
  const int64_t gap = arrived_ns - t->gap_start_ns;
  const uint64_t key = t->gap_key;
  t->gap_key = 0;
  if (key == 0 || gap < 0) return;
  if (!add_samples(profile, key, 1, static_cast<uint64_t>(gap))) profile_full = true;
}

void write_profile() {
  if (!profiling()) return;
  char path[700];
  if (std::strcmp(g.opt.process_index, "0") == 0) {
    std::snprintf(path, sizeof path, "%s", g.opt.profile_path);
  } else {
    std::snprintf(path, sizeof path, "%s.%s", g.opt.profile_path, g.opt.process_index);
  }
  const int fd = real.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    errmsg("cannot write profile ", path);
    return;
  }
  static const char header[] =
      "# lockstep dmt profile: <thread> <operation> <kind>@<stack depth>[:<context>] <samples> "
      "<mean ns outside the scheduler after it>\n";
  raw_write_all(fd, header, sizeof header - 1);
  if (profile_full) {
    static const char full[] = "# the table was full: some sites were not measured\n";
    raw_write_all(fd, full, sizeof full - 1);
  }
  char line[160];
  for (uint32_t i = 0; i < g.nthreads; ++i) {
    const int n = std::snprintf(line, sizeof line, "# thread %u waited %lld us for the turn\n", i,
                                static_cast<long long>(g.threads[i].turn_wait_ns / 1000));
    if (n > 0) raw_write_all(fd, line, static_cast<size_t>(n));
  }
  for (const ProfileSlot& s : profile) {
    if (s.key == 0 || s.samples == 0) continue;
    const int op = static_cast<int>(key_op(s.key));
    const int kind = static_cast<int>(key_kind(s.key));
    const unsigned long long depth = key_depth(s.key);
    const unsigned long long context = key_context(s.key);
    if (op >= kOpCount || kind >= static_cast<int>(sizeof kKindLetters) - 1) continue;
    int n = std::snprintf(line, sizeof line, "%u %s %c@%llu", key_thread(s.key), kOpNames[op], kKindLetters[kind], depth);
    if (context) n += std::snprintf(line + n, sizeof line - n, ":%llu", context);
    n += std::snprintf(line + n, sizeof line - n, " %llu %llu\n", static_cast<unsigned long long>(s.samples),
                       static_cast<unsigned long long>(s.total_ns / s.samples));
    raw_write_all(fd, line, static_cast<size_t>(n));
  }
  real.close(fd);
}

}  // namespace lockstep::dmt
