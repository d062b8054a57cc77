// Incremental parser of one HTTP/1.1 response (status line, headers, a body framed by
// Content-Length or chunked encoding). Reused across the responses of a keep-alive connection
// without reallocating: reset() keeps the body buffer's capacity.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace lockstep::eval {

class HttpResponseParser {
 public:
  enum class State { incomplete, done, error };

  explicit HttpResponseParser(std::size_t max_body = 1 << 20) : max_body_(max_body) {}

  // Consumes a prefix of DATA and returns how many bytes it used; never reads past the end of
  // the current response. Call again with the rest (plus new bytes) while incomplete.
  std::size_t feed(std::string_view data);
  void reset();

  State state() const { return state_; }
  int status() const { return status_; }
  const std::string& body() const { return body_; }
  // The server said "Connection: close" (or spoke HTTP/1.0 without keep-alive).
  bool close_after() const { return close_; }
  // Why the response was rejected (state() == error).
  const std::string& error() const { return error_; }

 private:
  enum class Phase { status_line, header, body, chunk_size, chunk_data, chunk_end, trailer, done };
  bool on_line(std::string_view line);
  bool fail(std::string why);

  std::size_t max_body_;
  State state_ = State::incomplete;
  Phase phase_ = Phase::status_line;
  int status_ = 0;
  bool close_ = false;
  bool chunked_ = false;
  bool have_length_ = false;
  std::size_t remaining_ = 0;
  std::string line_;   // a line split across feeds
  std::string body_;
  std::string error_;
};

// Standard base64 (RFC 4648, with padding), appended to OUT.
void base64_append(std::string& out, std::string_view data);

}  // namespace lockstep::eval
