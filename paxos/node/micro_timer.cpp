#include "paxos/node/micro_timer.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace lockstep::node {

MicroTimer::MicroTimer(event_base* base, std::function<void()> on_fire) : on_fire_(std::move(on_fire)) {
  fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error(std::string("timerfd_create: ") + std::strerror(errno));
  event_.reset(event_new(base, fd_, EV_READ | EV_PERSIST, &MicroTimer::on_readable, this));
  if (!event_ || event_add(event_.get(), nullptr) != 0) {
    ::close(fd_);
    throw std::runtime_error("cannot watch the batching timer");
  }
}

MicroTimer::~MicroTimer() {
  event_.reset();
  ::close(fd_);
}

void MicroTimer::arm(uint32_t delay_us) {
  itimerspec spec{};
  spec.it_value.tv_sec = delay_us / 1'000'000;
  spec.it_value.tv_nsec = static_cast<long>(delay_us % 1'000'000) * 1000;
  if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;  // 0 disarms
  if (::timerfd_settime(fd_, 0, &spec, nullptr) != 0)
    throw std::runtime_error(std::string("timerfd_settime: ") + std::strerror(errno));
  armed_ = true;
}

void MicroTimer::on_readable(evutil_socket_t fd, short, void* self) {
  uint64_t expirations = 0;
  if (::read(fd, &expirations, sizeof expirations) != sizeof expirations) return;  // disarmed meanwhile
  auto* timer = static_cast<MicroTimer*>(self);
  timer->armed_ = false;
  timer->on_fire_();
}

}  // namespace lockstep::node
