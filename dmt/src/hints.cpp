// The hints API of include/lockstep/dmt.h.
#include <climits>

#include "dmt/src/runtime.h"

using namespace lockstep::dmt;

LOCKSTEP_DMT_EXPORT int lockstep_dmt_active(void) {
  ensure_init();
  return g.active ? 1 : 0;
}

LOCKSTEP_DMT_EXPORT void lockstep_dmt_soft_barrier_init(const void* key, unsigned count) {
  Thread* t = current_scheduled();
  if (!t) return;
  begin_op(t);
  Object* o = object(key, Kind::soft);
  record(t, Op::object_init, Kind::soft, o->id);
  o->count = count;
  o->arrived = 0;
  end_op(t);
}

LOCKSTEP_DMT_EXPORT void lockstep_dmt_soft_barrier_wait(const void* key) {
  Thread* t = current_scheduled();
  if (!t) return;
  begin_op(t);
  Object* o = object(key, Kind::soft);
  record(t, Op::soft_barrier, Kind::soft, o->id);
  const uint32_t generation = o->generation;
  if (o->count <= 1 || ++o->arrived >= o->count) {
    o->arrived = 0;
    ++o->generation;
    wake(key, INT_MAX);
    end_op(t);
    return;
  }
  const uint64_t deadline = now_turns() + g.opt.soft_barrier_turns;
  while (object(key, Kind::soft)->generation == generation) {
    if (wait_on(t, key, deadline)) {
      Object* cur = object(key, Kind::soft);
      if (cur->generation == generation && cur->arrived > 0) --cur->arrived;
      break;
    }
  }
  end_op(t);
}

LOCKSTEP_DMT_EXPORT void lockstep_dmt_nondet_begin(void) {
  Thread* t = current_scheduled();
  if (!t) return;
  ext_begin(t, Op::nondet_begin, Kind::none, 0);
}

LOCKSTEP_DMT_EXPORT void lockstep_dmt_nondet_end(void) {
  ensure_init();
  Thread* t = self();
  if (!t || !g.active || t->state != TState::external) return;
  ext_end(t, Kind::none, 0, Op::nondet_end);
}

LOCKSTEP_DMT_EXPORT void lockstep_dmt_detach_thread(void) {
  Thread* t = current_scheduled();
  if (!t) return;
  thread_leaves(t, Op::sched_detach, false);
}
