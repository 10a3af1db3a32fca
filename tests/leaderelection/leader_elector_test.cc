// LeaderElector on a FakeClock and an in-memory lock: the B48 timings, exactly, without sleeping.
#include "kube/leaderelection/leader_elector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kube/clock.h"

namespace kube {
namespace {

using namespace std::chrono_literals;  // NOLINT(build/namespaces)
using ::testing::ElementsAre;

// The lock object on a pretend server: one record, a version, and a switch that fails every
// request (a partitioned candidate). Thread-safe.
class FakeLockServer {
 public:
  std::optional<LeaderElectionRecord> record() const {
    std::lock_guard<std::mutex> l(mu_);
    return record_;
  }
  void Set(LeaderElectionRecord r) {
    std::lock_guard<std::mutex> l(mu_);
    record_ = std::move(r);
    ++version_;
  }
  int writes() const {
    std::lock_guard<std::mutex> l(mu_);
    return writes_;
  }
  std::atomic<bool> fail{false};

  Result<std::pair<LeaderElectionRecord, int64_t>> Get() const {
    std::lock_guard<std::mutex> l(mu_);
    if (fail) return UnavailableError("injected");
    if (!record_) return NotFoundError("leases \"lock\" not found");
    return std::make_pair(*record_, version_);
  }
  Result<int64_t> Create(const LeaderElectionRecord& r) {
    std::lock_guard<std::mutex> l(mu_);
    if (fail) return UnavailableError("injected");
    if (record_) return AlreadyExistsError("leases \"lock\" already exists");
    record_ = r;
    ++writes_;
    return ++version_;
  }
  Result<int64_t> Update(const LeaderElectionRecord& r, int64_t expected_version) {
    std::lock_guard<std::mutex> l(mu_);
    if (fail) return UnavailableError("injected");
    if (!record_) return NotFoundError("leases \"lock\" not found");
    if (expected_version != version_) return ConflictError("the object has been modified");
    record_ = r;
    ++writes_;
    return ++version_;
  }

 private:
  mutable std::mutex mu_;
  std::optional<LeaderElectionRecord> record_;
  int64_t version_ = 0;
  int writes_ = 0;
};

class FakeLock final : public ResourceLock {
 public:
  FakeLock(std::shared_ptr<FakeLockServer> server, std::string identity)
      : server_(std::move(server)), identity_(std::move(identity)) {}

  Result<LeaderElectionRecord> Get(std::chrono::milliseconds) override {
    auto got = server_->Get();
    if (!got) return got.error();
    version_ = got->second;
    return got->first;
  }
  Status Create(const LeaderElectionRecord& r, std::chrono::milliseconds) override {
    auto v = server_->Create(r);
    if (!v) return v.error();
    version_ = *v;
    return Status();
  }
  Status Update(const LeaderElectionRecord& r, std::chrono::milliseconds) override {
    if (version_ < 0) return InvalidArgumentError("not read yet");
    auto v = server_->Update(r, version_);
    if (!v) return v.error();
    version_ = *v;
    return Status();
  }
  const std::string& Identity() const override { return identity_; }
  std::string Describe() const override { return "leases/default/lock"; }

 private:
  std::shared_ptr<FakeLockServer> server_;
  std::string identity_;
  int64_t version_ = -1;
};

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// One candidate on its own fake clock, recording its callbacks.
class Candidate {
 public:
  Candidate(std::shared_ptr<FakeLockServer> server, std::string identity,
            std::function<void(LeaderElectionConfig&)> adjust = nullptr)
      : clock_(std::make_shared<FakeClock>()) {
    LeaderElectionConfig config{.lock = std::make_shared<FakeLock>(std::move(server), identity),
                                .callbacks = {.on_started_leading =
                                                  [this](std::stop_token stop) {
                                                    started_++;
                                                    std::mutex mu;
                                                    std::condition_variable_any cv;
                                                    std::unique_lock<std::mutex> l(mu);
                                                    cv.wait(l, stop, [] { return false; });
                                                    work_returned_++;
                                                  },
                                              .on_stopped_leading = [this] { stopped_++; },
                                              .on_new_leader =
                                                  [this](const std::string& id) {
                                                    std::lock_guard<std::mutex> l(mu_);
                                                    leaders_.push_back(id);
                                                  }},
                                .clock = clock_};
    if (adjust) adjust(config);
    auto elector = LeaderElector::Create(std::move(config));
    EXPECT_TRUE(elector.has_value()) << elector.error();
    elector_ = std::move(elector).value();
  }
  ~Candidate() { Stop(); }

  void Start() {
    thread_ = std::jthread([this](std::stop_token stop) {
      elector_->Run(stop);
      done_ = true;
    });
  }
  void Stop() {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
  }
  // Waits until the campaign is idle: waiting on its clock, or finished.
  void Settle() {
    ASSERT_TRUE(WaitFor([&] { return done_ || clock_->PendingTimers() > 0; }));
  }
  // Moves the clock on in small steps, letting the campaign act at each, until `until` holds or
  // `limit` has passed; returns the fake time spent.
  std::chrono::milliseconds AdvanceUntil(const std::function<bool()>& until,
                                         std::chrono::milliseconds limit,
                                         std::chrono::milliseconds step = 50ms) {
    std::chrono::milliseconds spent{0};
    Settle();
    while (!until() && spent < limit) {
      clock_->Advance(step);
      spent += step;
      Settle();
    }
    return spent;
  }

  LeaderElector& elector() { return *elector_; }
  FakeClock& clock() { return *clock_; }
  bool done() const { return done_; }
  int started() const { return started_; }
  int stopped() const { return stopped_; }
  int work_returned() const { return work_returned_; }
  std::vector<std::string> leaders() const {
    std::lock_guard<std::mutex> l(mu_);
    return leaders_;
  }

 private:
  std::shared_ptr<FakeClock> clock_;
  std::unique_ptr<LeaderElector> elector_;
  std::atomic<int> started_{0}, stopped_{0}, work_returned_{0};
  std::atomic<bool> done_{false};
  mutable std::mutex mu_;
  std::vector<std::string> leaders_;
  std::jthread thread_;
};

LeaderElectionRecord HeldBy(std::string who, int64_t transitions = 0) {
  auto now = MicroNow();
  return {.holder_identity = std::move(who),
          .lease_duration_seconds = 15,
          .acquire_time = now,
          .renew_time = now,
          .leader_transitions = transitions};
}

TEST(LeaderElectorTest, B48AcquiresAFreeLockAndWritesTheRecord) {
  auto server = std::make_shared<FakeLockServer>();
  Candidate a(server, "a");
  a.Start();
  ASSERT_TRUE(WaitFor([&] { return a.started() == 1; }));
  EXPECT_TRUE(a.elector().IsLeader());
  EXPECT_EQ(a.elector().GetLeader(), "a");
  auto r = server->record();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->holder_identity, "a");
  EXPECT_EQ(r->lease_duration_seconds, 15);
  EXPECT_EQ(r->leader_transitions, 0);
  EXPECT_EQ(r->acquire_time, r->renew_time);
  EXPECT_THAT(a.leaders(), ElementsAre("a"));
}

TEST(LeaderElectorTest, B48LeaderRenewsEveryRetryPeriodKeepingAcquireTime) {
  auto server = std::make_shared<FakeLockServer>();
  Candidate a(server, "a");
  a.Start();
  ASSERT_TRUE(WaitFor([&] { return a.started() == 1; }));
  auto first = *server->record();
  for (int i = 1; i <= 3; ++i) {
    a.Settle();
    a.clock().Advance(1900ms);
    a.Settle();
    EXPECT_EQ(server->writes(), i) << "no renewal before the retry period";
    a.clock().Advance(100ms);
    ASSERT_TRUE(WaitFor([&] { return server->writes() == i + 1; })) << "renewal " << i;
  }
  auto last = *server->record();
  EXPECT_EQ(last.holder_identity, "a");
  EXPECT_EQ(last.acquire_time, first.acquire_time);
  EXPECT_GE(last.renew_time, first.renew_time);
  EXPECT_EQ(last.leader_transitions, 0);
  EXPECT_TRUE(a.elector().IsLeader());
}

TEST(LeaderElectorTest, B48StandbyTakesOverOnlyAfterTheLeaseDurationWithoutRenewal) {
  auto server = std::make_shared<FakeLockServer>();
  server->Set(HeldBy("gone", 4));  // a holder that never renews again
  Candidate b(server, "b");
  b.Start();
  auto spent = b.AdvanceUntil([&] { return b.elector().IsLeader(); }, 30s);
  // b first saw the record at time 0: it must wait 15 s, and then at most one jittered retry.
  EXPECT_GE(spent, 15s);
  EXPECT_LE(spent, 15s + 4400ms + 50ms);
  ASSERT_TRUE(b.elector().IsLeader());
  auto r = *server->record();
  EXPECT_EQ(r.holder_identity, "b");
  EXPECT_EQ(r.leader_transitions, 5);
  EXPECT_THAT(b.leaders(), ElementsAre("gone", "b"));
}

TEST(LeaderElectorTest, B48HolderRenewalRestartsTheStandbysWait) {
  auto server = std::make_shared<FakeLockServer>();
  server->Set(HeldBy("other"));
  Candidate b(server, "b");
  b.Start();
  auto spent = b.AdvanceUntil([] { return false; }, 10s);
  ASSERT_FALSE(b.elector().IsLeader());
  server->Set(HeldBy("other"));  // "other" renews at 10 s
  // b notices the change at its next attempt (within 4.4 s), then waits a full lease again.
  spent += b.AdvanceUntil([&] { return b.elector().IsLeader(); }, 40s);
  EXPECT_GE(spent, 10s + 15s);
  EXPECT_LE(spent, 10s + 4400ms + 15s + 4400ms + 100ms);
  EXPECT_EQ(server->record()->holder_identity, "b");
}

TEST(LeaderElectorTest, B48LeaderThatCannotRenewStopsByTheRenewDeadline) {
  auto server = std::make_shared<FakeLockServer>();
  Candidate a(server, "a");
  a.Start();
  ASSERT_TRUE(WaitFor([&] { return a.started() == 1; }));
  a.Settle();
  server->fail = true;
  // The renewal round starts after the retry period (2 s) and gives up 10 s later.
  auto spent = a.AdvanceUntil([&] { return !a.elector().IsLeader(); }, 30s);
  EXPECT_GE(spent, 2s + 10s);
  EXPECT_LE(spent, 2s + 10s + 100ms);
  ASSERT_TRUE(WaitFor([&] { return a.done(); }));
  EXPECT_EQ(a.stopped(), 1);
  EXPECT_EQ(a.work_returned(), 1) << "the leading work was told to stop";
  // It never released: the record still names it, so others wait out the lease.
  EXPECT_EQ(server->record()->holder_identity, "a");
}

TEST(LeaderElectorTest, B48LeaderStopsAtOnceWhenItSeesAnotherHolder) {
  auto server = std::make_shared<FakeLockServer>();
  Candidate a(server, "a");
  a.Start();
  ASSERT_TRUE(WaitFor([&] { return a.started() == 1; }));
  a.Settle();
  server->Set(HeldBy("usurper"));  // e.g. a's renewals were lost and the lease expired elsewhere
  auto spent = a.AdvanceUntil([&] { return !a.elector().IsLeader(); }, 30s);
  EXPECT_LE(spent, 2s + 50ms) << "the first renewal attempt sees the other holder";
  ASSERT_TRUE(WaitFor([&] { return a.done(); }));
  EXPECT_EQ(a.stopped(), 1);
  EXPECT_THAT(a.leaders(), ElementsAre("a", "usurper"));
}

TEST(LeaderElectorTest, B48ReleaseOnCancelLetsTheNextCandidateTakeOverAtOnce) {
  auto server = std::make_shared<FakeLockServer>();
  Candidate a(server, "a", [](LeaderElectionConfig& c) { c.release_on_cancel = true; });
  a.Start();
  ASSERT_TRUE(WaitFor([&] { return a.started() == 1; }));
  a.Stop();
  EXPECT_EQ(a.stopped(), 1);
  EXPECT_EQ(a.work_returned(), 1);
  EXPECT_FALSE(a.elector().IsLeader());
  EXPECT_EQ(a.elector().GetLeader(), "");
  auto released = *server->record();
  EXPECT_EQ(released.holder_identity, "");
  EXPECT_EQ(released.lease_duration_seconds, 1);
  EXPECT_EQ(released.leader_transitions, 0);

  Candidate b(server, "b");
  b.Start();
  // No clock movement at all: b's first attempt takes the empty lock.
  ASSERT_TRUE(WaitFor([&] { return b.started() == 1; }));
  EXPECT_EQ(server->record()->holder_identity, "b");
  EXPECT_EQ(server->record()->leader_transitions, 1);
}

TEST(LeaderElectorTest, StoppingWithoutReleaseLeavesTheLeaseHeld) {
  auto server = std::make_shared<FakeLockServer>();
  Candidate a(server, "a");
  a.Start();
  ASSERT_TRUE(WaitFor([&] { return a.started() == 1; }));
  a.Stop();
  EXPECT_EQ(a.stopped(), 1);
  EXPECT_EQ(server->record()->holder_identity, "a");
  EXPECT_EQ(server->record()->lease_duration_seconds, 15);
}

TEST(LeaderElectorTest, B48OfTwoRacingCandidatesExactlyOneLeads) {
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE(round);
    auto server = std::make_shared<FakeLockServer>();
    Candidate a(server, "a");
    Candidate b(server, "b");
    a.Start();
    b.Start();
    ASSERT_TRUE(WaitFor([&] { return a.started() + b.started() == 1; }));
    a.Settle();
    b.Settle();
    EXPECT_EQ(a.started() + b.started(), 1);
    EXPECT_NE(a.elector().IsLeader(), b.elector().IsLeader());
    // The loser keeps trying but the winner renews within its lease.
    a.AdvanceUntil([] { return false; }, 1s);
    b.AdvanceUntil([] { return false; }, 1s);
    EXPECT_EQ(a.started() + b.started(), 1);
  }
}

TEST(LeaderElectorTest, StopWhileStandingByReturnsWithoutStoppedCallback) {
  auto server = std::make_shared<FakeLockServer>();
  server->Set(HeldBy("other"));
  Candidate b(server, "b");
  b.Start();
  b.Settle();
  b.Stop();
  EXPECT_TRUE(b.done());
  EXPECT_EQ(b.started(), 0);
  EXPECT_EQ(b.stopped(), 0);
  EXPECT_EQ(b.elector().GetLeader(), "other");
}

TEST(LeaderElectorTest, StartAndStopOwnTheCampaignThread) {
  auto server = std::make_shared<FakeLockServer>();
  std::atomic<int> started{0}, stopped{0};
  auto clock = std::make_shared<FakeClock>();
  auto elector = LeaderElector::Create(
      {.lock = std::make_shared<FakeLock>(server, "a"),
       .callbacks = {.on_started_leading = [&](std::stop_token) { started++; },
                     .on_stopped_leading = [&] { stopped++; }},
       .clock = clock});
  ASSERT_TRUE(elector.has_value()) << elector.error();
  (*elector)->Start();
  ASSERT_TRUE(WaitFor([&] { return started == 1; }));
  (*elector)->Stop();
  EXPECT_EQ(stopped, 1);
  (*elector)->Stop();  // idempotent
  // The leading work may return early; leadership lasts until the elector stops.
  EXPECT_FALSE((*elector)->IsLeader());
}

TEST(LeaderElectorTest, CheckIsHealthyWhileRenewing) {
  auto server = std::make_shared<FakeLockServer>();
  Candidate a(server, "a");
  EXPECT_TRUE(a.elector().Check(0ms).ok());  // not leading: nothing to check
  a.Start();
  ASSERT_TRUE(WaitFor([&] { return a.started() == 1; }));
  a.AdvanceUntil([] { return false; }, 20s);
  EXPECT_TRUE(a.elector().IsLeader());
  EXPECT_TRUE(a.elector().Check(0ms).ok());
}

TEST(LeaderElectorTest, CreateRejectsInconsistentTimings) {
  struct Case {
    const char* what;
    std::function<void(LeaderElectionConfig&)> adjust;
  };
  auto server = std::make_shared<FakeLockServer>();
  const Case cases[] = {
      {"no lock", [](LeaderElectionConfig& c) { c.lock = nullptr; }},
      {"empty identity",
       [&](LeaderElectionConfig& c) { c.lock = std::make_shared<FakeLock>(server, ""); }},
      {"no on_started_leading",
       [](LeaderElectionConfig& c) { c.callbacks.on_started_leading = nullptr; }},
      {"lease below 1 s", [](LeaderElectionConfig& c) { c.lease_duration = 900ms; }},
      {"renew deadline not below lease",
       [](LeaderElectionConfig& c) { c.renew_deadline = c.lease_duration; }},
      {"renew deadline not below whole-second lease",
       [](LeaderElectionConfig& c) {
         c.lease_duration = 1900ms;
         c.renew_deadline = 1200ms;
         c.retry_period = 200ms;
       }},
      {"renew deadline within jittered retry",
       [](LeaderElectionConfig& c) {
         c.renew_deadline = 2400ms;
         c.retry_period = 2s;
       }},
      {"zero retry", [](LeaderElectionConfig& c) { c.retry_period = 0ms; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    LeaderElectionConfig config{.lock = std::make_shared<FakeLock>(server, "a"),
                                .callbacks = {.on_started_leading = [](std::stop_token) {}}};
    c.adjust(config);
    auto elector = LeaderElector::Create(std::move(config));
    ASSERT_FALSE(elector.has_value());
    EXPECT_EQ(elector.error().code(), StatusCode::kInvalidArgument);
  }
  // client-go's defaults and the short e2e timings are accepted.
  EXPECT_TRUE(LeaderElector::Create({.lock = std::make_shared<FakeLock>(server, "a"),
                                     .callbacks = {.on_started_leading = [](std::stop_token) {}}})
                  .has_value());
  EXPECT_TRUE(LeaderElector::Create({.lock = std::make_shared<FakeLock>(server, "a"),
                                     .lease_duration = 1s,
                                     .renew_deadline = 700ms,
                                     .retry_period = 200ms,
                                     .callbacks = {.on_started_leading = [](std::stop_token) {}}})
                  .has_value());
}

TEST(LeaderElectionRecordTest, MicroTimeRoundTrips) {
  using std::chrono::system_clock;
  system_clock::time_point t = system_clock::time_point(std::chrono::seconds(1764405900)) +
                               std::chrono::microseconds(123456);
  EXPECT_EQ(FormatMicroTime(t), "2025-11-29T08:45:00.123456Z");
  EXPECT_EQ(ParseMicroTime("2025-11-29T08:45:00.123456Z"), t);
  EXPECT_EQ(FormatMicroTime(system_clock::time_point{}), "1970-01-01T00:00:00.000000Z");
  auto now = MicroNow();
  EXPECT_EQ(ParseMicroTime(FormatMicroTime(now)), now);
  EXPECT_FALSE(ParseMicroTime("yesterday").has_value());
}

}  // namespace
}  // namespace kube
