#include "paxos/node/stream.h"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace lockstep::node {
namespace {

// Free room asked of every read: a burst of small frames from many loop turns fits in one
// read(), and a large frame grows the buffer once to its size (expect()).
constexpr size_t kReadRoom = 64u << 10;
// Sent output is dropped from the front of the string once it is this large and at least half
// of it, so a peer that drains slowly does not make every append move the whole backlog.
constexpr size_t kCompactSent = 64u << 10;

void set_socket_options(int fd) {
  int flags = ::fcntl(fd, F_GETFL, 0);
  if (flags >= 0 && !(flags & O_NONBLOCK)) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

void FlushList::flush() {
  // Streams only set error_ here (never call back), so none is destroyed while we iterate; a
  // stream destroyed before the flush removed itself from dirty_ already.
  flushing_.swap(dirty_);
  for (Stream* s : flushing_) {
    s->queued_ = false;
    if (!s->write_out()) event_active(s->read_event_.get(), EV_READ, 0);
  }
  flushing_.clear();
}

Stream::Stream(event_base* base, int fd, Handler& handler, FlushList* flush_list)
    : Stream(base, fd, handler, flush_list, false) {}

Stream::Stream(event_base* base, int fd, Handler& handler, FlushList* flush_list, bool connecting)
    : base_(base), fd_(fd), handler_(handler), flush_list_(flush_list), connecting_(connecting) {
  set_socket_options(fd_);
  read_event_.reset(event_new(base_, fd_, EV_READ | EV_PERSIST, &Stream::on_read, this));
  write_event_.reset(event_new(base_, fd_, EV_WRITE | EV_PERSIST, &Stream::on_write, this));
  if (!read_event_ || !write_event_) {
    ::close(fd_);
    throw std::runtime_error("cannot create stream events");
  }
  event_add(read_event_.get(), nullptr);
  if (connecting_) {
    event_add(write_event_.get(), nullptr);
    write_armed_ = true;
  }
}

std::unique_ptr<Stream> Stream::connect(event_base* base, const sockaddr_in& address, Handler& handler,
                                        FlushList* flush_list, std::string& error) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return nullptr;
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 && errno != EINPROGRESS) {
    error = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<Stream>(new Stream(base, fd, handler, flush_list, true));
}

Stream::~Stream() { close(); }

void Stream::close() {
  unqueue();
  if (fd_ < 0) return;
  read_event_.reset();
  write_event_.reset();
  write_armed_ = false;
  ::close(fd_);
  fd_ = -1;
}

void Stream::unqueue() {
  if (!queued_) return;
  queued_ = false;
  auto& dirty = flush_list_->dirty_;
  dirty.erase(std::find(dirty.begin(), dirty.end(), this));
}

void Stream::consume(size_t bytes) {
  in_begin_ += std::min(bytes, in_end_ - in_begin_);
  if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;  // the common case: no bytes to move
}

void Stream::queue_output() {
  if (fd_ < 0) {
    out_.clear();
    out_sent_ = 0;
    return;
  }
  if (out_sent_ >= kCompactSent && out_sent_ * 2 >= out_.size()) {
    out_.erase(0, out_sent_);
    out_sent_ = 0;
  }
  if (connecting_ || write_armed_) return;  // the write event sends it
  if (flush_list_) {
    if (!queued_) {
      queued_ = true;
      flush_list_->dirty_.push_back(this);
    }
    return;
  }
  if (!write_out()) event_active(read_event_.get(), EV_READ, 0);
}

bool Stream::write_out() {
  if (fd_ < 0) return true;
  if (connecting_) return true;
  while (out_sent_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + out_sent_, out_.size() - out_sent_, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      out_sent_ += static_cast<size_t>(n);
      if (out_sent_ < out_.size()) break;  // the send buffer is full: a retry would only fail
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    error_ = std::strerror(errno);
    return false;
  }
  if (out_sent_ < out_.size()) {
    if (!write_armed_) {
      event_add(write_event_.get(), nullptr);
      write_armed_ = true;
    }
    return true;
  }
  out_.clear();
  out_sent_ = 0;
  if (write_armed_) {
    event_del(write_event_.get());
    write_armed_ = false;
  }
  return true;
}

void Stream::on_write(evutil_socket_t, short, void* self) {
  auto* s = static_cast<Stream*>(self);
  if (s->connecting_) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(s->fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) {
      s->fail(std::string("connect: ") + std::strerror(err));
      return;
    }
    s->connecting_ = false;
    set_socket_options(s->fd_);
    s->handler_.on_connected(*s);
    if (s->fd_ < 0) return;  // the handler closed it
  }
  if (!s->write_out()) s->fail(s->error_);
}

void Stream::on_read(evutil_socket_t, short, void* self) {
  auto* s = static_cast<Stream*>(self);
  if (!s->error_.empty()) {
    s->fail(s->error_);
    return;
  }
  size_t have = s->in_end_ - s->in_begin_;
  size_t want = std::max(kReadRoom, s->expect_ > have ? s->expect_ - have : 0);
  if (s->in_cap_ - s->in_end_ < want) {
    if (s->in_begin_ > 0 && have > 0) std::memmove(s->in_.get(), s->in_.get() + s->in_begin_, have);
    s->in_begin_ = 0;
    s->in_end_ = have;
    if (s->in_cap_ - have < want) {
      size_t cap = std::max(have + want, 2 * s->in_cap_);
      auto bigger = std::make_unique_for_overwrite<char[]>(cap);
      if (have > 0) std::memcpy(bigger.get(), s->in_.get(), have);
      s->in_ = std::move(bigger);
      s->in_cap_ = cap;
    }
  }
  ssize_t n = ::read(s->fd_, s->in_.get() + s->in_end_, s->in_cap_ - s->in_end_);
  if (n > 0) {
    s->in_end_ += static_cast<size_t>(n);
    s->expect_ = 0;
    s->handler_.on_input(*s);
    return;
  }
  if (n == 0) {
    s->fail("closed by peer");
    return;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
  s->fail(std::strerror(errno));
}

void Stream::fail(std::string_view why) {
  std::string reason(why);  // `why` may point into error_
  close();
  handler_.on_closed(*this, reason);
}

}  // namespace lockstep::node
