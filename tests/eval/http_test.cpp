// The HTTP/1.1 response parser and base64 used by the etcd target.
#include <gtest/gtest.h>

#include <string>

#include "eval/etcd/http_response.h"

namespace lockstep::eval {
namespace {

using State = HttpResponseParser::State;

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (auto [in, out] : cases) {
    std::string s;
    base64_append(s, in);
    EXPECT_EQ(s, out) << in;
  }
  std::string s = "x";
  base64_append(s, std::string("\xff\x00\x80", 3));
  EXPECT_EQ(s, "x/wCA");
}

TEST(HttpResponseParser, ContentLengthInOneFeed) {
  HttpResponseParser p;
  const std::string r =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"header\":{}}";
  EXPECT_EQ(p.feed(r), r.size());
  ASSERT_EQ(p.state(), State::done);
  EXPECT_EQ(p.status(), 200);
  EXPECT_EQ(p.body(), "{\"header\":{}}");
  EXPECT_FALSE(p.close_after());
}

TEST(HttpResponseParser, ByteByByteAndStopsAtTheEnd) {
  HttpResponseParser p;
  const std::string r = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 5\r\nConnection: close\r\n\r\nerrorNEXT";
  std::size_t used = 0;
  while (p.state() == State::incomplete && used < r.size()) used += p.feed(std::string_view(r).substr(used, 1));
  ASSERT_EQ(p.state(), State::done);
  EXPECT_EQ(used, r.size() - 4);  // "NEXT" belongs to whatever follows
  EXPECT_EQ(p.status(), 503);
  EXPECT_EQ(p.body(), "error");
  EXPECT_TRUE(p.close_after());
}

TEST(HttpResponseParser, Chunked) {
  HttpResponseParser p;
  const std::string r =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n6;x=y\r\npedia \r\n0\r\nX-T: 1\r\n\r\n";
  for (std::size_t cut = 0; cut <= r.size(); ++cut) {
    p.reset();
    std::size_t used = p.feed(std::string_view(r).substr(0, cut));
    used += p.feed(std::string_view(r).substr(used));
    ASSERT_EQ(p.state(), State::done) << "cut at " << cut;
    EXPECT_EQ(used, r.size());
    EXPECT_EQ(p.body(), "Wikipedia ");
  }
}

TEST(HttpResponseParser, ResetAllowsKeepAlive) {
  HttpResponseParser p;
  const std::string one = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na";
  const std::string two = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  ASSERT_EQ(p.feed(one + two), one.size());
  EXPECT_EQ(p.body(), "a");
  p.reset();
  ASSERT_EQ(p.feed(two), two.size());
  EXPECT_EQ(p.state(), State::done);
  EXPECT_EQ(p.status(), 404);
  EXPECT_EQ(p.body(), "");
}

TEST(HttpResponseParser, RejectsGarbage) {
  for (const std::string bad : {"SMTP ready\r\n", "HTTP/1.1 2x0 OK\r\n",
                                "HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n",
                                "HTTP/1.1 200 OK\r\nno colon here\r\n",
                                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                                "HTTP/1.1 200 OK\r\n\r\n"}) {
    HttpResponseParser p;
    p.feed(bad);
    EXPECT_EQ(p.state(), State::error) << bad;
    EXPECT_FALSE(p.error().empty());
  }
  HttpResponseParser small(10);
  small.feed("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n");
  EXPECT_EQ(small.state(), State::error);
  HttpResponseParser longline;
  longline.feed("HTTP/1.1 200 OK\r\nX: " + std::string(10000, 'a'));
  EXPECT_EQ(longline.state(), State::error);
}

}  // namespace
}  // namespace lockstep::eval
