// Runs the real `lockstep bench etcd` briefly (three etcd members on loopback) and checks its
// JSON line. Label "slow".
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "last_json_line.h"

namespace {

TEST(BenchEtcd, ShortRunPrintsSaneJson) {
  if (access("/usr/bin/etcd", X_OK) != 0) {
    GTEST_SKIP() << "/usr/bin/etcd is not installed (scripts/setup installs etcd-server)";
  }
  const auto out = lockstep::test::run_for_json(std::string(LOCKSTEP_BIN) +
                                                " bench etcd --clients 4 --size 64 --seconds 2 --warmup 1 --json");
  ASSERT_EQ(out.status, 0) << out.text;
  const nlohmann::json& j = out.last_json;
  ASSERT_FALSE(j.is_discarded()) << "last line is not JSON:\n" << out.text;
  for (const char* key : {"ops_per_s", "p50_us", "p99_us", "p999_us", "clients", "size", "seconds", "errors"}) {
    ASSERT_TRUE(j.contains(key)) << key << " missing: " << j.dump();
  }
  EXPECT_EQ(j["target"], "etcd");
  EXPECT_EQ(j["clients"], 4);
  EXPECT_EQ(j["size"], 64);
  EXPECT_NEAR(j["seconds"].get<double>(), 2.0, 0.01);
  EXPECT_EQ(j["errors"], 0);
  EXPECT_GT(j["ops"].get<double>(), 10);
  EXPECT_GT(j["ops_per_s"].get<double>(), 5);
  EXPECT_GT(j["p50_us"].get<double>(), 0);
  EXPECT_LE(j["p50_us"].get<double>(), j["p99_us"].get<double>());
  EXPECT_LE(j["p99_us"].get<double>(), j["p999_us"].get<double>());
  // Closed loop with 4 clients: throughput x mean latency is about 4.
  EXPECT_NEAR(j["ops_per_s"].get<double>() * j["mean_us"].get<double>() / 1e6, 4.0, 0.5);
}

TEST(BenchEtcd, BadUsageExitsWithTwo) {
  const std::string cmd = std::string(LOCKSTEP_BIN) + " bench etcd --clients 0 >/dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

}  // namespace
