#include "eval/etcd/http_response.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace lockstep::eval {
namespace {

constexpr std::size_t kMaxLine = 8192;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool contains_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const auto comma = value.find(',');
    if (iequals(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

void HttpResponseParser::reset() {
  state_ = State::incomplete;
  phase_ = Phase::status_line;
  status_ = 0;
  close_ = chunked_ = have_length_ = false;
  remaining_ = 0;
  line_.clear();
  body_.clear();
  error_.clear();
}

bool HttpResponseParser::fail(std::string why) {
  state_ = State::error;
  error_ = std::move(why);
  return false;
}

std::size_t HttpResponseParser::feed(std::string_view data) {
  std::size_t used = 0;
  while (state_ == State::incomplete && used < data.size()) {
    const std::string_view rest = data.substr(used);
    if (phase_ == Phase::body || phase_ == Phase::chunk_data) {
      const std::size_t n = std::min(remaining_, rest.size());
      body_.append(rest.data(), n);
      used += n;
      remaining_ -= n;
      if (remaining_ == 0) {
        if (phase_ == Phase::body) {
          phase_ = Phase::done;
          state_ = State::done;
        } else {
          phase_ = Phase::chunk_end;
        }
      }
      continue;
    }
    // Line-oriented phases.
    const auto nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      if (line_.size() + rest.size() > kMaxLine) {
        fail("header line too long");
        break;
      }
      line_.append(rest);
      used += rest.size();
      break;
    }
    std::string_view line = rest.substr(0, nl);
    used += nl + 1;
    if (!line_.empty()) {
      line_.append(line);
      line = line_;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const bool ok = on_line(line);
    line_.clear();
    if (!ok) break;
  }
  return used;
}

bool HttpResponseParser::on_line(std::string_view line) {
  switch (phase_) {
    case Phase::status_line: {
      // "HTTP/1.1 200 OK"
      if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || line[8] != ' ') {
        return fail("bad status line: " + std::string(line.substr(0, 80)));
      }
      const bool http10 = line.substr(5, 3) == "1.0";
      auto [p, ec] = std::from_chars(line.data() + 9, line.data() + 12, status_);
      if (ec != std::errc() || p != line.data() + 12 || status_ < 100) {
        return fail("bad status code: " + std::string(line.substr(0, 80)));
      }
      close_ = http10;
      phase_ = Phase::header;
      return true;
    }
    case Phase::header: {
      if (line.empty()) {
        if (chunked_) {
          phase_ = Phase::chunk_size;
        } else if (have_length_ && remaining_ > 0) {
          phase_ = Phase::body;
        } else if (have_length_ || status_ == 204 || status_ == 304 || status_ < 200) {
          phase_ = Phase::done;
          state_ = State::done;
        } else {
          // Body delimited by connection close: not used by etcd; refuse rather than hang.
          return fail("response has neither Content-Length nor chunked encoding");
        }
        return true;
      }
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) return fail("bad header line");
      const auto name = trim(line.substr(0, colon));
      const auto value = trim(line.substr(colon + 1));
      if (iequals(name, "content-length")) {
        std::size_t n = 0;
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (ec != std::errc() || p != value.data() + value.size()) return fail("bad Content-Length");
        if (n > max_body_) return fail("body too large");
        have_length_ = true;
        remaining_ = n;
      } else if (iequals(name, "transfer-encoding")) {
        chunked_ = contains_token(value, "chunked");
      } else if (iequals(name, "connection")) {
        if (contains_token(value, "close")) close_ = true;
        if (contains_token(value, "keep-alive")) close_ = false;
      }
      return true;
    }
    case Phase::chunk_size: {
      const auto semi = line.find(';');
      const auto hex = trim(line.substr(0, semi));
      std::size_t n = 0;
      auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), n, 16);
      if (hex.empty() || ec != std::errc() || p != hex.data() + hex.size()) return fail("bad chunk size");
      if (body_.size() + n > max_body_) return fail("body too large");
      if (n == 0) {
        phase_ = Phase::trailer;
      } else {
        remaining_ = n;
        phase_ = Phase::chunk_data;
      }
      return true;
    }
    case Phase::chunk_end:
      if (!line.empty()) return fail("missing CRLF after chunk");
      phase_ = Phase::chunk_size;
      return true;
    case Phase::trailer:
      if (line.empty()) {
        phase_ = Phase::done;
        state_ = State::done;
      }
      return true;
    case Phase::body:
    case Phase::chunk_data:
    case Phase::done:
      break;
  }
  return fail("parser in bad state");
}

void base64_append(std::string& out, std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t i = 0;
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(data[k]); };
  for (; i + 3 <= data.size(); i += 3) {
    const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (const std::size_t left = data.size() - i; left > 0) {
    const unsigned v = (byte(i) << 16) | (left == 2 ? byte(i + 1) << 8 : 0);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += left == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
}

}  // namespace lockstep::eval
