// A non-blocking TCP connection on a libevent loop, written for the per-operation hot path.
//
// bufferevent costs, per small request/reply, an ioctl(FIONREAD) and a readv to read, and a
// writev plus two epoll_ctl calls to write (it enables EV_WRITE for every write and disables it
// when the buffer drains): five syscalls where two do. A Stream instead
//   - reads with one read() per readiness event into a reusable buffer, sized for the frame the
//     caller says it is waiting for (expect());
//   - lets the caller append whole frames to its output string in place, and writes them with
//     one send() — at the end of the loop turn when a FlushList is given (so everything queued
//     for one peer or client in a turn leaves in one segment), at once otherwise;
//   - registers EV_WRITE only while the kernel's send buffer is full (and while connecting).
//
// Lifetime: a handler may close() a stream from on_input and may destroy it from on_closed (the
// stream touches nothing after calling on_closed). Errors found while flushing are reported from
// the next loop turn, never from inside FlushList::flush().
#pragma once

#include <netinet/in.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "paxos/node/libevent_handles.h"

namespace lockstep::node {

class Stream;

// Streams with output waiting for the end of the loop turn; the loop's owner calls flush() once
// per turn. Must outlive every stream registered with it.
class FlushList {
 public:
  FlushList() = default;
  FlushList(const FlushList&) = delete;
  FlushList& operator=(const FlushList&) = delete;
  void flush();
  bool empty() const { return dirty_.empty(); }

 private:
  friend class Stream;
  std::vector<Stream*> dirty_;
  std::vector<Stream*> flushing_;
};

class Stream {
 public:
  class Handler {
   public:
    // New bytes arrived; read them with input() and consume().
    virtual void on_input(Stream& stream) = 0;
    // The connection ended (EOF, error, failed connect); `why` is one line. The stream is
    // closed already and may be destroyed here.
    virtual void on_closed(Stream& stream, std::string_view why) = 0;
    // An outbound connect() completed.
    virtual void on_connected(Stream&) {}

   protected:
    ~Handler() = default;
  };

  // Adopts a connected socket (made non-blocking, TCP_NODELAY). flush_list may be null.
  Stream(event_base* base, int fd, Handler& handler, FlushList* flush_list);
  // Starts a non-blocking connect; on_connected or on_closed follows. Returns null (and sets
  // `error`) if the connect fails at once.
  static std::unique_ptr<Stream> connect(event_base* base, const sockaddr_in& address, Handler& handler,
                                         FlushList* flush_list, std::string& error);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Received bytes not consumed yet, and dropping them once handled.
  std::string_view input() const { return {in_.get() + in_begin_, in_end_ - in_begin_}; }
  void consume(size_t bytes);
  // The next frame needs `total` bytes of input: size the next read for it.
  void expect(size_t total) { expect_ = total; }

  // Append whole frames to output(), then call queue_output().
  std::string& output() { return out_; }
  void queue_output();
  size_t pending_output() const { return out_.size() - out_sent_; }

  // Stops all I/O and closes the socket; no callback follows. Idempotent.
  void close();
  bool is_open() const { return fd_ >= 0; }
  bool connecting() const { return connecting_; }

 private:
  friend class FlushList;
  Stream(event_base* base, int fd, Handler& handler, FlushList* flush_list, bool connecting);
  static void on_read(evutil_socket_t, short, void* self);
  static void on_write(evutil_socket_t, short, void* self);
  void fail(std::string_view why);  // closes, then on_closed (last thing it does)
  // Sends what is queued; false on a broken connection (error_ says why).
  bool write_out();
  void unqueue();

  event_base* base_;
  int fd_;
  Handler& handler_;
  FlushList* flush_list_;
  EventPtr read_event_;
  EventPtr write_event_;
  bool write_armed_ = false;
  bool queued_ = false;
  bool connecting_ = false;
  std::string error_;  // a failure seen while flushing, reported from the read callback

  std::unique_ptr<char[]> in_;
  size_t in_cap_ = 0, in_begin_ = 0, in_end_ = 0;
  size_t expect_ = 0;

  std::string out_;
  size_t out_sent_ = 0;
};

}  // namespace lockstep::node
