// A one-shot timer with microsecond resolution on its own timerfd, watched by the event loop
// like any descriptor.
//
// libevent's own timers round up to whole milliseconds unless the event_base is created with
// EVENT_BASE_FLAG_PRECISE_TIMER, and that flag makes every loop iteration call timerfd_settime
// (measured: one extra syscall per iteration, as many as epoll_wait itself). The batching delay
// (default 200 us) is the only timer that needs the precision, and it is armed once per batch,
// so it gets this timer and the loop keeps libevent's cheap coarse timers for everything else.
#pragma once

#include <cstdint>
#include <functional>

#include "paxos/node/libevent_handles.h"

namespace lockstep::node {

class MicroTimer {
 public:
  // `on_fire` runs on the loop when an armed delay expires. Throws std::runtime_error.
  MicroTimer(event_base* base, std::function<void()> on_fire);
  ~MicroTimer();
  MicroTimer(const MicroTimer&) = delete;
  MicroTimer& operator=(const MicroTimer&) = delete;

  // (Re)starts the one-shot delay.
  void arm(uint32_t delay_us);
  bool armed() const { return armed_; }

 private:
  static void on_readable(evutil_socket_t fd, short, void* self);

  int fd_ = -1;
  EventPtr event_;
  std::function<void()> on_fire_;
  bool armed_ = false;
};

}  // namespace lockstep::node
