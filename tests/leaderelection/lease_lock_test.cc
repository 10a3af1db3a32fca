// LeaseLock against the embedded server: the Lease it writes and the conflicts it relies on.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "kube/client/http_client.h"
#include "kube/leaderelection/resource_lock.h"
#include "tests/testing/api_server_fixture.h"

namespace kube {
namespace {

using namespace std::chrono_literals;  // NOLINT(build/namespaces)

class LeaseLockTest : public testing::ApiServerFixture {
 protected:
  std::shared_ptr<LeaseLock> MakeLock(const std::string& identity) {
    RestConfig config;
    config.server = server().Url();
    config.timeout = 5s;
    auto http = MakeCurlHttpClient(config);
    EXPECT_TRUE(http.has_value()) << http.error();
    auto lock = LeaseLock::Create(*http, "default", "my-lock", identity);
    EXPECT_TRUE(lock.has_value()) << lock.error();
    return *lock;
  }
  static LeaderElectionRecord Record(std::string holder, int64_t transitions = 0) {
    auto now = MicroNow();
    return {.holder_identity = std::move(holder),
            .lease_duration_seconds = 15,
            .acquire_time = now - 3s,
            .renew_time = now,
            .leader_transitions = transitions};
  }
};

TEST_F(LeaseLockTest, CreateWritesALeaseSpecWithMicroTimes) {
  auto lock = MakeLock("a");
  auto missing = lock->Get(1s);
  ASSERT_FALSE(missing.has_value());
  EXPECT_TRUE(IsNotFound(missing.error())) << missing.error();

  LeaderElectionRecord r = Record("a", 2);
  ASSERT_TRUE(lock->Create(r, 1s).ok());
  auto got = lock->Get(1s);
  ASSERT_TRUE(got.has_value()) << got.error();
  EXPECT_EQ(*got, r);

  testing::HttpResult raw = Get("/apis/coordination.k8s.io/v1/namespaces/default/leases/my-lock");
  ASSERT_EQ(raw.code, 200) << raw.body;
  nlohmann::json spec = raw.Json()["spec"];
  EXPECT_EQ(spec["holderIdentity"], "a");
  EXPECT_EQ(spec["leaseDurationSeconds"], 15);
  EXPECT_EQ(spec["leaseTransitions"], 2);
  EXPECT_EQ(spec["renewTime"], FormatMicroTime(r.renew_time));
  EXPECT_EQ(spec["acquireTime"], FormatMicroTime(r.acquire_time));
  EXPECT_EQ(std::string(spec["renewTime"]).size(),
            std::string("2026-11-29T08:45:00.123456Z").size());
  EXPECT_EQ(lock->Describe(), "leases/default/my-lock");
}

TEST_F(LeaseLockTest, SecondCreateIsAlreadyExists) {
  auto a = MakeLock("a");
  auto b = MakeLock("b");
  ASSERT_TRUE(a->Create(Record("a"), 1s).ok());
  Status s = b->Create(Record("b"), 1s);
  EXPECT_TRUE(IsAlreadyExists(s)) << s;
}

TEST_F(LeaseLockTest, UpdateIsConditionalOnTheVersionRead) {
  auto a = MakeLock("a");
  auto b = MakeLock("b");
  ASSERT_TRUE(a->Create(Record("a"), 1s).ok());
  ASSERT_TRUE(b->Get(1s).has_value());
  // a renews; b's copy is now stale and its takeover must fail.
  ASSERT_TRUE(a->Update(Record("a"), 1s).ok());
  Status s = b->Update(Record("b", 1), 1s);
  EXPECT_TRUE(IsConflict(s)) << s;
  // After reading again it succeeds.
  ASSERT_TRUE(b->Get(1s).has_value());
  ASSERT_TRUE(b->Update(Record("b", 1), 1s).ok());
  EXPECT_EQ(a->Get(1s)->holder_identity, "b");
}

TEST_F(LeaseLockTest, UpdateBeforeReadingIsRefused) {
  auto a = MakeLock("a");
  Status s = a->Update(Record("a"), 1s);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
}

TEST_F(LeaseLockTest, UpdateKeepsTheLeaseMetadata) {
  MustCreate(R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease",
      "metadata":{"name":"my-lock","namespace":"default","labels":{"team":"infra"}},
      "spec":{"holderIdentity":"old","leaseDurationSeconds":10}})");
  auto a = MakeLock("a");
  auto got = a->Get(1s);
  ASSERT_TRUE(got.has_value()) << got.error();
  EXPECT_EQ(got->holder_identity, "old");
  EXPECT_EQ(got->lease_duration_seconds, 10);
  EXPECT_EQ(got->renew_time, std::chrono::system_clock::time_point{});  // absent
  ASSERT_TRUE(a->Update(Record("a", 1), 1s).ok());
  testing::HttpResult raw = Get("/apis/coordination.k8s.io/v1/namespaces/default/leases/my-lock");
  EXPECT_EQ(raw.Json()["metadata"]["labels"]["team"], "infra");
  EXPECT_EQ(raw.Json()["spec"]["holderIdentity"], "a");
}

TEST_F(LeaseLockTest, CreateValidatesItsArguments) {
  RestConfig config;
  config.server = server().Url();
  auto http = MakeCurlHttpClient(config);
  ASSERT_TRUE(http.has_value());
  EXPECT_FALSE(LeaseLock::Create(nullptr, "default", "x", "a").has_value());
  EXPECT_FALSE(LeaseLock::Create(*http, "", "x", "a").has_value());
  EXPECT_FALSE(LeaseLock::Create(*http, "default", "", "a").has_value());
  EXPECT_FALSE(LeaseLock::Create(*http, "default", "x", "").has_value());
  std::string id = DefaultLeaderIdentity();
  EXPECT_NE(id.find('_'), std::string::npos);
  EXPECT_NE(id, DefaultLeaderIdentity());
}

}  // namespace
}  // namespace kube
