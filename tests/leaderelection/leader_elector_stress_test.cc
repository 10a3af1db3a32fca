// Candidates on real Leases against the embedded server, with short timings (lease 1 s, renew
// deadline 0.7 s, retry 0.2 s): exactly one leads at any time, takeovers happen within the lease
// duration (plus one jittered retry), a release hands over at once, and a leader that cannot
// renew stops by its renew deadline — before anyone else may take over.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kube/client/http_client.h"
#include "kube/leaderelection/leader_elector.h"
#include "tests/testing/api_server_fixture.h"

namespace kube {
namespace {

using namespace std::chrono_literals;  // NOLINT(build/namespaces)
using SteadyTime = std::chrono::steady_clock::time_point;

struct Timings {
  std::chrono::milliseconds lease = 1s;
  std::chrono::milliseconds renew = 700ms;
  std::chrono::milliseconds retry = 200ms;
};

// Fails every request while `partitioned` is set: this candidate alone loses the server.
class PartitionableHttpClient final : public HttpClient {
 public:
  explicit PartitionableHttpClient(std::shared_ptr<HttpClient> inner) : inner_(std::move(inner)) {}
  Result<HttpResponse> Do(const HttpRequest& request) override {
    if (partitioned) return UnavailableError("partitioned by the test");
    return inner_->Do(request);
  }
  std::unique_ptr<HttpStream> Stream(const HttpRequest& request, StreamCallbacks cb) override {
    return inner_->Stream(request, std::move(cb));
  }
  const std::string& server() const override { return inner_->server(); }
  std::atomic<bool> partitioned{false};

 private:
  std::shared_ptr<HttpClient> inner_;
};

// Who led when, across candidates. Thread-safe.
class LeadershipLog {
 public:
  void Began(const std::string& who) {
    std::lock_guard<std::mutex> l(mu_);
    if (++leading_ > 1) ++overlaps_;
    began_[who] = std::chrono::steady_clock::now();
    cv_.notify_all();
  }
  void Ended(const std::string& who) {
    std::lock_guard<std::mutex> l(mu_);
    --leading_;
    ended_[who] = std::chrono::steady_clock::now();
    cv_.notify_all();
  }
  int overlaps() const {
    std::lock_guard<std::mutex> l(mu_);
    return overlaps_;
  }
  int leading() const {
    std::lock_guard<std::mutex> l(mu_);
    return leading_;
  }
  std::optional<SteadyTime> began(const std::string& who) const { return At(began_, who); }
  std::optional<SteadyTime> ended(const std::string& who) const { return At(ended_, who); }
  // Waits until `who` has begun leading (after any earlier time recorded).
  bool WaitBegan(const std::string& who, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, timeout, [&] { return began_.count(who) > 0; });
  }
  bool WaitEnded(const std::string& who, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, timeout, [&] { return ended_.count(who) > 0; });
  }

 private:
  std::optional<SteadyTime> At(const std::map<std::string, SteadyTime>& m,
                               const std::string& who) const {
    std::lock_guard<std::mutex> l(mu_);
    auto it = m.find(who);
    if (it == m.end()) return std::nullopt;
    return it->second;
  }
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int leading_ = 0;
  int overlaps_ = 0;
  std::map<std::string, SteadyTime> began_, ended_;
};

class LiveCandidate {
 public:
  LiveCandidate(const std::string& url, std::string identity, LeadershipLog* log, Timings t,
                bool release_on_cancel)
      : identity_(std::move(identity)) {
    RestConfig config;
    config.server = url;
    config.timeout = 5s;
    auto real = MakeCurlHttpClient(config);
    EXPECT_TRUE(real.has_value()) << real.error();
    http_ = std::make_shared<PartitionableHttpClient>(*real);
    auto lock = LeaseLock::Create(http_, "kube-system", "e2e-lock", identity_);
    EXPECT_TRUE(lock.has_value()) << lock.error();
    auto elector =
        LeaderElector::Create({.lock = *lock,
                               .lease_duration = t.lease,
                               .renew_deadline = t.renew,
                               .retry_period = t.retry,
                               .callbacks = {.on_started_leading =
                                                 [this, log](std::stop_token stop) {
                                                   log->Began(identity_);
                                                   std::mutex mu;
                                                   std::condition_variable_any cv;
                                                   std::unique_lock<std::mutex> l(mu);
                                                   cv.wait(l, stop, [] { return false; });
                                                   log->Ended(identity_);
                                                 }},
                               .release_on_cancel = release_on_cancel});
    EXPECT_TRUE(elector.has_value()) << elector.error();
    elector_ = std::move(elector).value();
  }

  void Start() { elector_->Start(); }
  void Stop() { elector_->Stop(); }
  LeaderElector& elector() { return *elector_; }
  PartitionableHttpClient& http() { return *http_; }
  const std::string& identity() const { return identity_; }

 private:
  std::string identity_;
  std::shared_ptr<PartitionableHttpClient> http_;
  std::unique_ptr<LeaderElector> elector_;
};

class LeaderElectionE2eTest : public testing::ApiServerFixture {
 protected:
  std::unique_ptr<LiveCandidate> Make(const std::string& id, Timings t = {}, bool release = false) {
    return std::make_unique<LiveCandidate>(server().Url(), id, &log_, t, release);
  }
  // Starts both and returns {leader, standby} once one leads.
  std::pair<LiveCandidate*, LiveCandidate*> Elect(LiveCandidate& a, LiveCandidate& b) {
    a.Start();
    b.Start();
    EXPECT_TRUE(WaitFor([&] { return log_.leading() == 1; }));
    if (a.elector().IsLeader()) return {&a, &b};
    return {&b, &a};
  }
  template <typename Rep, typename Period>
  static double Seconds(std::chrono::duration<Rep, Period> d) {
    return std::chrono::duration<double>(d).count();
  }
  LeadershipLog log_;
};

TEST_F(LeaderElectionE2eTest, B48ExactlyOneOfTwoLeadsAndTheOtherTakesOverAfterTheLease) {
  Timings t;
  auto a = Make("a", t);
  auto b = Make("b", t);
  auto [leader, standby] = Elect(*a, *b);
  // Several renewals pass; the standby keeps standing by.
  std::this_thread::sleep_for(3 * t.lease);
  EXPECT_TRUE(leader->elector().IsLeader());
  EXPECT_FALSE(standby->elector().IsLeader());
  EXPECT_EQ(standby->elector().GetLeader(), leader->identity());
  EXPECT_EQ(log_.leading(), 1);

  // The leader stops without releasing: the standby waits out the lease, then takes over.
  auto stopped = std::chrono::steady_clock::now();
  leader->Stop();
  ASSERT_TRUE(log_.WaitBegan(standby->identity()));
  double took = Seconds(*log_.began(standby->identity()) - stopped);
  // Its last renewal was at most one retry period before the stop; it expires a lease later on
  // the standby's clock, and the standby notices within one jittered retry period.
  EXPECT_GE(took, Seconds(t.lease - t.retry) - 0.1);
  EXPECT_LE(took, Seconds(t.lease + t.retry * 2.2) + 1.0) << "slack for a loaded machine";
  EXPECT_EQ(log_.overlaps(), 0);
  EXPECT_EQ(standby->elector().GetLeader(), standby->identity());

  auto lease = server().Get({"coordination.k8s.io", "v1", "leases"}, "kube-system", "e2e-lock");
  ASSERT_TRUE(lease.has_value()) << lease.error();
  EXPECT_EQ((*lease)->GetString("spec.holderIdentity").value_or(""), standby->identity());
  EXPECT_EQ((*lease)->GetInt64("spec.leaseTransitions").value_or(-1), 1);
  EXPECT_EQ((*lease)->GetInt64("spec.leaseDurationSeconds").value_or(-1), 1);
}

TEST_F(LeaderElectionE2eTest, B48ReleaseOnShutdownHandsOverAtOnce) {
  Timings t{.lease = 3s, .renew = 2s, .retry = 200ms};
  auto a = Make("a", t, /*release=*/true);
  auto b = Make("b", t, /*release=*/true);
  auto [leader, standby] = Elect(*a, *b);
  auto stopped = std::chrono::steady_clock::now();
  leader->Stop();
  ASSERT_TRUE(log_.WaitBegan(standby->identity()));
  double took = Seconds(*log_.began(standby->identity()) - stopped);
  // Without the release it would take at least lease - retry = 2.8 s.
  EXPECT_LT(took, Seconds(t.lease - t.retry)) << "took " << took << " s";
  EXPECT_EQ(log_.overlaps(), 0);
}

TEST_F(LeaderElectionE2eTest, B48LeaderThatCannotRenewStopsByTheRenewDeadline) {
  Timings t;
  auto a = Make("a", t);
  auto b = Make("b", t);
  auto [leader, standby] = Elect(*a, *b);
  auto failing = std::chrono::steady_clock::now();
  server().FailRequests(1.0, 500);
  ASSERT_TRUE(log_.WaitEnded(leader->identity()));
  double took = Seconds(*log_.ended(leader->identity()) - failing);
  // The next renewal round starts within a retry period and gives up at its deadline.
  EXPECT_LE(took, Seconds(t.retry + t.renew) + 0.5) << "took " << took << " s";
  EXPECT_FALSE(leader->elector().IsLeader());
  EXPECT_FALSE(standby->elector().IsLeader());

  // The server recovers. The old leader's campaign has ended (as client-go's `Run` returns);
  // the standby takes over.
  server().FailRequests(0, 500);
  ASSERT_TRUE(log_.WaitBegan(standby->identity()));
  EXPECT_EQ(log_.overlaps(), 0);
}

TEST_F(LeaderElectionE2eTest, B48PartitionedLeaderStopsBeforeTheOtherTakesOver) {
  Timings t;
  auto a = Make("a", t);
  auto b = Make("b", t);
  auto [leader, standby] = Elect(*a, *b);
  auto cut = std::chrono::steady_clock::now();
  leader->http().partitioned = true;  // the standby still reaches the server
  ASSERT_TRUE(log_.WaitBegan(standby->identity()));
  ASSERT_TRUE(log_.ended(leader->identity()).has_value()) << "both led at once";
  EXPECT_LT(*log_.ended(leader->identity()), *log_.began(standby->identity()));
  EXPECT_EQ(log_.overlaps(), 0);
  double took = Seconds(*log_.began(standby->identity()) - cut);
  EXPECT_LE(took, Seconds(t.lease + t.retry * 2.2) + 1.0) << "took " << took << " s";
}

TEST_F(LeaderElectionE2eTest, ThreeCandidatesThroughSuccessiveReleases) {
  Timings t;
  std::vector<std::unique_ptr<LiveCandidate>> c;
  for (const char* id : {"x", "y", "z"}) c.push_back(Make(id, t, /*release=*/true));
  for (auto& x : c) x->Start();
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(WaitFor([&] { return log_.leading() == 1; })) << "round " << round;
    auto it = std::find_if(c.begin(), c.end(), [](auto& x) { return x->elector().IsLeader(); });
    ASSERT_NE(it, c.end());
    (*it)->Stop();
    c.erase(it);
  }
  EXPECT_EQ(log_.overlaps(), 0);
}

}  // namespace
}  // namespace kube
