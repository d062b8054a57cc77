// Synchronization objects by address: open addressing with linear probing and backward-shift
// deletion, in a fixed table (no allocation inside interposed calls).
#include "dmt/src/runtime.h"

namespace lockstep::dmt {

namespace {

inline uint32_t slot_of(uintptr_t addr) {
  return static_cast<uint32_t>(((addr >> 3) * 0x9E3779B97F4A7C15ull) >> 48) & (kObjectSlots - 1);
}

}  // namespace

Object* object(const void* p, Kind kind) {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(p);
  uint32_t i = slot_of(addr);
  for (;;) {
    Object* o = &g.objects[i];
    if (o->addr == addr) {
      if (o->kind == Kind::none) o->kind = kind;
      return o;
    }
    if (o->addr == 0) break;
    i = (i + 1) & (kObjectSlots - 1);
  }
  if (g.object_count >= kObjectSlots - kObjectSlots / 8) {
    fatal("too many live synchronization objects", "raise kObjectSlots in dmt/src/runtime.h");
  }
  Object* o = &g.objects[i];
  *o = Object{};
  o->addr = addr;
  o->id = g.next_object_id++;
  o->kind = kind;
  ++g.object_count;
  return o;
}

Object* find_object(const void* p) {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(p);
  for (uint32_t i = slot_of(addr);; i = (i + 1) & (kObjectSlots - 1)) {
    Object* o = &g.objects[i];
    if (o->addr == addr) return o;
    if (o->addr == 0) return nullptr;
  }
}

void clear_objects() {
  if (g.object_count == 0) return;
  for (uint32_t i = 0; i < kObjectSlots; ++i) {
    if (g.objects[i].addr) g.objects[i] = Object{};
  }
  g.object_count = 0;
}

void forget_object(const void* p) {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(p);
  uint32_t i = slot_of(addr);
  for (;;) {
    Object* o = &g.objects[i];
    if (o->addr == 0) return;
    if (o->addr == addr) break;
    i = (i + 1) & (kObjectSlots - 1);
  }
  if (g.objects[i].wq_head) return;  // destroying an object with waiters is undefined; keep it
  // Backward-shift: move later entries of the probe chain into the hole.
  uint32_t hole = i;
  uint32_t j = i;
  for (;;) {
    j = (j + 1) & (kObjectSlots - 1);
    if (g.objects[j].addr == 0) break;
    const uint32_t home = slot_of(g.objects[j].addr);
    const bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
    if (movable) {
      g.objects[hole] = g.objects[j];
      hole = j;
    }
  }
  g.objects[hole] = Object{};
  --g.object_count;
}

}  // namespace lockstep::dmt
