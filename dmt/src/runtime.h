// The deterministic scheduler shared by every interposed function.
//
// One global turn passes round-robin through a FIFO run queue of the program's threads. A thread
// performs a synchronization operation only while it holds the turn, so the order of operations
// is a function of the program and its inputs, not of the machine's timing. A thread that must
// wait (mutex held, condition not signalled, sleep, blocking I/O) leaves the run queue; it
// re-enters at its tail when another operation, the logical clock, or (for external calls) the
// outside world wakes it. All scheduler state is mutated by the turn holder only, except the
// arrival list and the idle flag, which are guarded by `Global::lock`.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <ctime>

#include <pthread.h>
#include <signal.h>

#include "dmt/src/ops.h"

// Exported interposers and hints; everything else in the library is hidden.
#define LOCKSTEP_DMT_EXPORT extern "C" __attribute__((visibility("default")))

namespace lockstep::dmt {

inline constexpr uint32_t kMaxThreads = 32768;  // thread records are not reused
inline constexpr uint32_t kObjectSlots = 1u << 16;  // power of two
inline constexpr uint64_t kNoDeadline = UINT64_MAX;

enum class TState : uint8_t { free, runnable, waiting, external, exited, unscheduled };

// A futex-based lock for the few paths that run without the turn. Raw syscalls only.
class RawLock {
 public:
  void lock();
  void unlock();
  void reset() { word_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<uint32_t> word_{0};
};

struct Thread {
  std::atomic<uint32_t> go{0};  // 0 waiting, 1 turn handed over, 2 sleeping in futex
  std::atomic<uint32_t> exited{0};
  uint32_t index = 0;
  TState state = TState::free;
  bool joined = false;
  bool left_scheduling = false;  // detached by hint or exited outside scheduling
  bool timed_out = false;
  int depth = 0;  // > 0 while this thread holds the turn inside an operation
  int held = 0;   // locks this thread acquired through the scheduler and still holds
  int kept = 0;   // consecutive operations done without passing the turn
  pthread_t handle{};
  void* (*start)(void*) = nullptr;
  void* arg = nullptr;
  // Place in the run queue, ordered by `at`, the virtual time (g.vclock units) at which the
  // thread is due for its next operation; ties in insertion order.
  uint64_t at = 0;
  uint64_t last_key = 0;      // weight key of the last operation's site (weights.cpp)
  uint64_t prev_site = 0;     // the site before it (the context of the next key)
  uintptr_t stack_ref = 0;    // a frame address near the bottom of this thread's stack
  uint64_t gap_key = 0;       // profiling: key of the operation that began the current gap
  int64_t gap_start_ns = 0;   // profiling: when that operation released the turn
  int64_t turn_wait_ns = 0;   // profiling: real time spent waiting for the turn
  Thread* rq_next = nullptr;   // run queue
  Thread* wq_next = nullptr;   // wait queue of the object at wait_addr
  Thread* tm_next = nullptr;   // timer list, sorted by (deadline, index)
  Thread* arr_next = nullptr;  // arrivals from external calls
  uintptr_t wait_addr = 0;
  uint64_t deadline = 0;  // valid when timed
  bool timed = false;     // on the timer list
  uint32_t bitset = 0;
  bool in_sigwait = false;  // blocked in sigwait*; the set is below
  sigset_t sigwait_set{};
};

// A synchronization object, identified in the trace by the order of its first use (addresses
// change with ASLR). Looked up by address; entries may move, so threads keep addresses, not
// pointers.
struct Object {
  uintptr_t addr = 0;
  uint64_t id = 0;
  Kind kind = Kind::none;
  Thread* wq_head = nullptr;
  Thread* wq_tail = nullptr;
  uint32_t count = 0;       // barrier size, soft barrier size
  uint32_t arrived = 0;     // barrier arrivals in this generation
  uint32_t generation = 0;  // barrier generation
  uint8_t once_state = 0;   // 0 new, 1 running, 2 done
};

// Filled from LOCKSTEP_DMT_* at start-up (defaults in init.cpp). Zero-initialized here so the
// whole Global lives in .bss rather than in the library file.
struct Options {
  uint64_t ns_per_turn = 0;
  uint32_t spin = 0;
  uint32_t watchdog_s = 0;
  bool stall_abort = false;
  bool logical_clock = false;
  bool keep_in_cs = false;
  bool disabled = false;
  bool idle_real = false;  // LOCKSTEP_DMT_IDLE=real: an idle process waits out its timers in real time
  uint32_t soft_barrier_turns = 0;
  bool weight_context = false;  // LOCKSTEP_DMT_WEIGHT_CONTEXT: a site includes the previous one
  char weights_path[512] = {};  // LOCKSTEP_DMT_WEIGHTS: gap weights to schedule by
  char profile_path[512] = {};  // LOCKSTEP_DMT_PROFILE: measure gaps and write them at exit
  char trace_path[512] = {};
  char report_path[512] = {};
  char log_path[512] = {};  // LOCKSTEP_DMT_LOG: the runtime's messages (empty: stderr)
  char process_index[128] = {};
};

// Recent operations, kept even without a trace file, printed when the program stalls.
struct TailRecord {
  uint64_t clock;
  uint32_t thread;
  Op op;
  Kind kind;
  uint64_t id;
};
inline constexpr uint32_t kTailSize = 64;

struct Global {
  Options opt;
  std::atomic<int> init_state{0};  // 0 none, 1 running, 2 done
  bool active = false;             // scheduling on (false: everything passes through)
  bool shutdown = false;           // process exit recorded; the last turn is never released

  Thread threads[kMaxThreads];
  uint32_t nthreads = 0;

  // Turn-holder state.
  Thread* rq_head = nullptr;
  Thread* rq_tail = nullptr;
  uint32_t rq_len = 0;
  Thread* timers = nullptr;
  std::atomic<uint64_t> clock{0};
  // Virtual time of the run queue: the `at` of the thread that last took the turn. It orders
  // threads only; logical time for timers and clock reads stays `clock` (turns).
  uint64_t vclock = 0;
  uint64_t next_object_id = 0;
  Object objects[kObjectSlots];
  uint32_t object_count = 0;

  // Shared with threads outside the turn; guarded by lock.
  RawLock lock;
  Thread* arrivals_head = nullptr;
  Thread* arrivals_tail = nullptr;
  std::atomic<bool> arrivals_pending{false};
  bool idle = false;
  std::atomic<uint32_t> idle_epoch{0};  // futex word for the idle waiter
  // LOCKSTEP_DMT_IDLE=real: when the current idle period began (real ns) and the timer it waits
  // for (0: none), so that an arrival ending it early still moves logical time on.
  int64_t idle_since_ns = 0;
  uint64_t idle_deadline = 0;
  // The idle helper: a thread outside scheduling that waits out an idle period's timer for a
  // thread that cannot (one entering a blocking call or exiting). seq is its futex word.
  std::atomic<uint32_t> helper_seq{0};
  uint32_t helper_epoch = 0;      // guarded by lock
  uint64_t helper_deadline = 0;   // guarded by lock
  bool helper_started = false;    // guarded by lock
  std::atomic<int> external{0};         // threads inside blocking calls or nondet regions
  std::atomic<int> unscheduled{0};      // live threads detached from scheduling
  static constexpr uint32_t kKickSlots = 256;
  uintptr_t kicks[kKickSlots] = {};
  uint32_t nkicks = 0;
  bool kick_overflow = false;
  std::atomic<bool> kicks_pending{false};

  // Record keeping (turn holder only).
  uint64_t hash = 0;  // seeded at init
  uint64_t op_counts[kOpCount] = {};
  TailRecord tail[kTailSize] = {};
  uint64_t tail_pos = 0;
  int log_fd = 0;     // -1 or LOCKSTEP_DMT_LOG, kept open on a high fd (see message_fd)
  uint64_t log_dev = 0, log_ino = 0;
  int trace_fd = 0;  // -1 or the trace file once initialized (zero here keeps Global in .bss)
  char trace_buf[1 << 16] = {};
  size_t trace_len = 0;
  uint32_t forks = 0;
  bool report_written = false;

  // Logical time origin for clock reads (ns).
  int64_t base_realtime_ns = 0;
  int64_t base_monotonic_ns = 0;

  bool watchdog_started = false;
  uint32_t max_spinners = 0;  // one per CPU (at least 2: a hand-off overlaps two spinners)
};

extern Global g;

// The calling thread's record; null for threads the runtime does not know.
Thread* self();
void set_self(Thread* t);

// Makes sure options are read and real functions resolved; cheap after the first call.
void ensure_init();

// True when the calling thread takes part in scheduling (so the operation must take a turn).
inline bool scheduled(Thread* t) {
  return t != nullptr && g.active && t->state == TState::runnable;
}
Thread* current_scheduled();  // ensure_init + self() if scheduled, else null

// Turn protocol. begin_op waits for the turn (or nests); end_op releases it. While the thread
// holds a lock it acquired through the scheduler, end_op keeps the turn for its next operation
// (up to kMaxKept in a row, and never when MAY_KEEP is false): critical sections are short, and
// their operations then cost one turn instead of one round of the run queue each. The rule
// depends only on the operation sequence, so it is as deterministic as plain round-robin.
inline constexpr int kMaxKept = 64;
void begin_op(Thread* t);
void end_op(Thread* t, bool may_keep = true);
inline void lock_acquired(Thread* t) { ++t->held; }
inline void lock_released(Thread* t) {
  if (t->held > 0) --t->held;
}

// Gap weights (weights.cpp). After each operation a thread goes back into the run queue at
// vclock + weight, where the weight estimates, in turns of LOCKSTEP_DMT_NS_PER_TURN, how long the
// thread computes before its next operation (from a profile, LOCKSTEP_DMT_WEIGHTS). Without a
// weights file every weight is 1 and the queue is plain round-robin.
void note_site(Thread* t, Op op, Kind kind);  // under the turn: sets t->last_key
uint64_t weight_of(uint64_t key);              // 1 when unknown
void load_weights();                           // at start-up, from LOCKSTEP_DMT_WEIGHTS
bool profiling();
int64_t profile_now_ns();
void profile_gap_begin(Thread* t);                    // as an operation releases the turn
void profile_gap_end(Thread* t, int64_t arrived_ns);  // once the next operation holds it
void write_profile();

// Under the turn: records one operation in the hash, counters, tail and trace.
void record(Thread* t, Op op, Kind kind, uint64_t id);

// Under the turn: the object at ADDR, created on first use.
Object* object(const void* addr, Kind kind);
void forget_object(const void* addr);
Object* find_object(const void* addr);  // null if unknown; never creates
void clear_objects();
inline uint64_t object_id(const void* addr, Kind kind) { return object(addr, kind)->id; }

// Under the turn: leaves the run queue until woken (or DEADLINE passes, in turns) and holds the
// turn again on return. Returns true if it timed out. ADDR 0 waits on the clock alone.
bool wait_on(Thread* t, const void* addr, uint64_t deadline, uint32_t bitset = ~0u);
// Under the turn: moves up to N waiters of ADDR (matching BITSET) to the run queue tail.
int wake(const void* addr, int n, uint32_t bitset = ~0u);

// Blocking calls: leave the run queue (recording OP on the object) and re-enter afterwards.
// ext_begin returns false if the caller holds the turn inside another operation, in which case
// the call must run without leaving.
bool ext_begin(Thread* t, Op op, Kind kind, uint64_t id);
void ext_end(Thread* t, Kind kind, uint64_t id, Op op = Op::unblock);

// Under the turn: a new thread joins the run queue tail; a failed creation takes it out again.
void enqueue_thread(Thread* t);
// A thread just back from a blocking call joins the run queue now rather than at a later drain
// (used when the program itself caused the return, e.g. pthread_kill to a sigwait thread).
void take_arrival(Thread* t);
void dequeue_thread(Thread* t);

// A thread ends its part in scheduling (exit, detach hint).
void thread_leaves(Thread* t, Op op, bool exiting);

// Wakes waiters of ADDR on behalf of a thread outside scheduling (non-deterministic by nature).
void kick(const void* addr);

// Logical time.
uint64_t now_turns();
uint64_t deadline_after_ns(int64_t ns);
uint64_t deadline_at(clockid_t clock, const struct timespec* abstime);
int64_t logical_ns(clockid_t clock);  // base + turns * ns_per_turn for the clock

// Reporting.
void open_trace();
void open_log();
// Where messages go: the LOCKSTEP_DMT_LOG file if its descriptor is still that file, else stderr.
int message_fd();
void flush_trace();
void write_report();
void dump_tail(const char* why);
[[noreturn]] void fatal(const char* what, const char* detail = nullptr);

// Raw helpers that never go through interposed symbols.
long futex_wait(std::atomic<uint32_t>* addr, uint32_t val, const struct timespec* rel);
long futex_wake(std::atomic<uint32_t>* addr, int n);
void raw_write_all(int fd, const char* data, size_t len);
void errmsg(const char* a, const char* b = nullptr, const char* c = nullptr);

// Fork support: rebuild the scheduler in a child process around its only thread.
void reset_thread(Thread* t);
void reinit_after_fork(Thread* t);
void start_watchdog();
// Starts one of the runtime's own detached threads (watchdog, idle helper) with a small stack,
// unscheduled and with every signal blocked; returns pthread_create's result.
int start_runtime_thread(void* (*main)(void*));
void process_exit();

}  // namespace lockstep::dmt
