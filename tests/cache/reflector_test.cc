// Reflector behaviours B11-B22, B50-B52, B57, B58 (docs/behaviours.md), driven by a scripted
// ListerWatcher and a fake clock. The reflector feeds a real DeltaFifo, which the tests read back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

#include "base/executor.h"
#include "cache/reflector_impl.h"
#include "kube/logging.h"
#include "tests/testing/fake_lister_watcher.h"
#include "tests/testing/objects.h"

namespace kube {
namespace {

using namespace std::chrono_literals;
using ::kube::testing::FakeListerWatcher;
using ::kube::testing::FakeWatchStream;
using ::kube::testing::MakeList;
using ::kube::testing::MakeObject;
using ::kube::testing::MakePod;
using ::testing::ElementsAre;

template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds deadline = 10s) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

ObjectPtr Bookmark(std::string_view rv, bool initial_events_end = false) {
  std::string j =
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"resourceVersion":")" + std::string(rv) + "\"";
  if (initial_events_end) j += R"(,"annotations":{"k8s.io/initial-events-end":"true"})";
  j += "}}";
  return ::kube::testing::MustParse(j);
}

WatchEvent ErrorEvent(Status s) {
  return WatchEvent{WatchEventType::kError, nullptr, std::move(s)};
}

class ReflectorTest : public ::testing::Test {
 protected:
  void Start(ReflectorOptions options = {}) {
    options.random_seed = 42;
    // The progress deadline arms a timer of its own; tests that wait for a backoff timer must
    // not mistake it for one. Only the stalled-watch test keeps it.
    if (!keep_progress_timeout_) options.watch_progress_timeout = 0ms;
    fifo_ = std::make_shared<DeltaFifo>(fifo_options_, nullptr);
    reflector_ =
        std::make_shared<internal::Reflector>("test", lw_, fifo_, options, clock_, executor_);
    reflector_->SetErrorHandler([this](const Status& s) {
      std::lock_guard<std::mutex> l(mu_);
      errors_.push_back(s);
    });
    reflector_->Start();
  }
  void TearDown() override {
    if (reflector_) reflector_->Stop();
    executor_->Shutdown();
  }

  // Every delta queued so far, described.
  std::vector<std::string> Drain() {
    std::vector<std::string> out;
    for (const Delta& d : fifo_->PopBatch(100000)) {
      std::string s(DeltaTypeName(d.type));
      if (d.object)
        s += " " + std::string(d.object->name()) + "@" + std::string(d.object->resource_version());
      if (!d.resource_version.empty()) s += " rv=" + d.resource_version;
      out.push_back(s);
    }
    return out;
  }
  std::vector<Status> Errors() {
    std::lock_guard<std::mutex> l(mu_);
    return errors_;
  }
  size_t ErrorCount() { return Errors().size(); }
  // Advances the fake clock once the reflector has armed a timer (a backoff step).
  void AdvanceOnceArmed(Clock::Duration d) {
    ASSERT_TRUE(clock_->WaitForTimers(1))
        << "lists " << lw_->list_calls().size() << " watches " << lw_->watch_calls().size()
        << " errors " << ErrorCount();
    clock_->Advance(d);
  }

  std::shared_ptr<FakeListerWatcher> lw_ = std::make_shared<FakeListerWatcher>();
  DeltaFifo::Options fifo_options_;
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::shared_ptr<internal::Executor> executor_ = internal::Executor::Create({.threads = 2});
  std::shared_ptr<DeltaFifo> fifo_;
  std::shared_ptr<internal::Reflector> reflector_;
  std::mutex mu_;
  std::vector<Status> errors_;
  bool keep_progress_timeout_ = false;
};

TEST_F(ReflectorTest, B11FirstListAsksForAnyVersionWithPages) {
  Start();
  ASSERT_TRUE(lw_->WaitForLists(1));
  auto calls = lw_->list_calls();
  EXPECT_EQ(calls[0].resource_version, "0");
  EXPECT_EQ(calls[0].limit, 500);  // B13
}

TEST_F(ReflectorTest, B12WatchStartsFromTheListResourceVersion) {
  lw_->SetObjects({MakePod("ns", "a", {.rv = "3"}), MakePod("ns", "b", {.rv = "7"})}, "10");
  Start();
  auto watch = lw_->WaitForWatch(1);
  ASSERT_NE(watch, nullptr);
  EXPECT_EQ(watch->options().resource_version, "10");
  EXPECT_TRUE(watch->options().allow_watch_bookmarks);
  EXPECT_THAT(Drain(),
              ElementsAre("ReplaceBegin", "Replaced a@3", "Replaced b@7", "ReplaceEnd rv=10"));
  EXPECT_EQ(reflector_->LastSyncResourceVersion(), "10");
}

TEST_F(ReflectorTest, B14WatchEventsBecomeDeltasAndAdvanceTheVersion) {
  lw_->SetObjects({MakePod("ns", "a", {.rv = "3"})}, "10");
  Start();
  auto watch = lw_->WaitForWatch(1);
  ASSERT_NE(watch, nullptr);
  Drain();
  watch->Send(WatchEventType::kAdded, MakePod("ns", "c", {.rv = "11"}));
  watch->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "12"}));
  watch->Send(WatchEventType::kDeleted, MakePod("ns", "c", {.rv = "13"}));
  watch->Send(WatchEventType::kBookmark, Bookmark("14"));
  EXPECT_THAT(Drain(), ElementsAre("Added c@11", "Updated a@12", "Deleted c@13", "Bookmark rv=14"));
  EXPECT_EQ(reflector_->LastSyncResourceVersion(), "14");
}

TEST_F(ReflectorTest, B14BatchedWatchEventsBecomeDeltasInOrderAndAdvanceTheVersion) {
  lw_->SetObjects({MakePod("ns", "a", {.rv = "3"})}, "10");
  Start();
  auto watch = lw_->WaitForWatch(1);
  ASSERT_NE(watch, nullptr);
  Drain();
  // One chunk of the stream: every event in one call, the same key more than once.
  std::vector<WatchEvent> chunk;
  chunk.push_back({WatchEventType::kAdded, MakePod("ns", "c", {.rv = "11"}), {}});
  chunk.push_back({WatchEventType::kModified, MakePod("ns", "a", {.rv = "12"}), {}});
  chunk.push_back({WatchEventType::kModified, MakePod("ns", "c", {.rv = "13"}), {}});
  chunk.push_back({WatchEventType::kDeleted, MakePod("ns", "c", {.rv = "14"}), {}});
  chunk.push_back({WatchEventType::kBookmark, Bookmark("15"), {}});
  ASSERT_TRUE(watch->SendBatch(std::move(chunk)));
  EXPECT_THAT(Drain(), ElementsAre("Added c@11", "Updated a@12", "Updated c@13", "Deleted c@14",
                                   "Bookmark rv=15"));
  EXPECT_EQ(reflector_->LastSyncResourceVersion(), "15");
  // B16: the next watch resumes from the last event of the batch.
  std::vector<WatchEvent> more;
  more.push_back({WatchEventType::kModified, MakePod("ns", "a", {.rv = "16"}), {}});
  ASSERT_TRUE(watch->SendBatch(std::move(more)));
  watch->End();
  auto w2 = lw_->WaitForWatch(2);
  ASSERT_NE(w2, nullptr);
  EXPECT_EQ(w2->options().resource_version, "16");
  EXPECT_EQ(lw_->list_calls().size(), 1u);
}

TEST_F(ReflectorTest, B17GoneInsideABatchEndsTheWatchAfterTheEventsBeforeIt) {
  lw_->SetObjects({}, "10");
  Start();
  auto w1 = lw_->WaitForWatch(1);
  ASSERT_NE(w1, nullptr);
  Drain();
  std::vector<WatchEvent> chunk;
  chunk.push_back({WatchEventType::kAdded, MakePod("ns", "a", {.rv = "11"}), {}});
  Status gone = StatusFromHttp(410, "Expired", "too old resource version: 11 (20)");
  chunk.push_back(ErrorEvent(gone));
  ASSERT_TRUE(w1->SendBatch(std::move(chunk)));
  w1->End(gone);
  EXPECT_THAT(Drain(), ElementsAre("Added a@11"));
  // The server has moved on meanwhile: the relist at 11 answers at 20 (never older than asked).
  lw_->SetObjects({MakePod("ns", "a", {.rv = "11"})}, "20");
  AdvanceOnceArmed(2s);  // one backoff step (B19)
  ASSERT_TRUE(lw_->WaitForLists(2));
  EXPECT_EQ(lw_->list_calls()[1].resource_version, "11");
  ASSERT_TRUE(Eventually([&] { return ErrorCount() == 1; }));
  EXPECT_TRUE(IsGone(Errors()[0]));
}

TEST_F(ReflectorTest, B15WatchTimeoutIsRandomBetweenMinAndTwiceMin) {
  Start({.min_watch_timeout = 10s});
  for (int i = 1; i <= 5; ++i) {
    auto watch = lw_->WaitForWatch(i);
    ASSERT_NE(watch, nullptr);
    ASSERT_TRUE(watch->options().timeout_seconds.has_value());
    EXPECT_GE(*watch->options().timeout_seconds, 10);
    EXPECT_LE(*watch->options().timeout_seconds, 20);
    watch->Send(WatchEventType::kBookmark, Bookmark(std::to_string(100 + i)));
    watch->End();  // a clean end with progress: rewatch at once
  }
}

TEST_F(ReflectorTest, B16CleanWatchEndResumesFromTheLastVersionWithoutRelisting) {
  lw_->SetObjects({}, "10");
  Start();
  auto w1 = lw_->WaitForWatch(1);
  ASSERT_NE(w1, nullptr);
  w1->Send(WatchEventType::kAdded, MakePod("ns", "a", {.rv = "11"}));
  w1->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "12"}));
  w1->End();  // the server's timeout
  auto w2 = lw_->WaitForWatch(2);
  ASSERT_NE(w2, nullptr);
  EXPECT_EQ(w2->options().resource_version, "12");
  EXPECT_EQ(lw_->list_calls().size(), 1u);
  EXPECT_EQ(ErrorCount(), 0u);
  // A broken connection mid-stream (a truncated frame) is the same: nothing to report.
  w2->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "13"}));
  w2->End(DataLossError("unexpected EOF inside a watch frame"));
  auto w3 = lw_->WaitForWatch(3);
  ASSERT_NE(w3, nullptr);
  EXPECT_EQ(w3->options().resource_version, "13");
  EXPECT_EQ(lw_->list_calls().size(), 1u);
}

TEST_F(ReflectorTest, B17GoneEndsTheWatchAndRelistsAtTheLastSyncedVersion) {
  lw_->SetObjects({MakePod("ns", "a", {.rv = "3"})}, "10");
  Start();
  auto w1 = lw_->WaitForWatch(1);
  ASSERT_NE(w1, nullptr);
  w1->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "15"}));
  Status gone = StatusFromHttp(410, "Expired", "too old resource version: 15 (20)");
  w1->Send(ErrorEvent(gone));
  w1->End(gone);
  lw_->SetObjects({MakePod("ns", "a", {.rv = "15"})}, "20");  // never older than asked
  AdvanceOnceArmed(2s);                                       // one backoff step (B19)
  ASSERT_TRUE(lw_->WaitForLists(2));
  // B11: a watch that ended in 410 does not force a consistent read.
  EXPECT_EQ(lw_->list_calls()[1].resource_version, "15");
  ASSERT_TRUE(Eventually([&] { return ErrorCount() == 1; }));
  EXPECT_TRUE(IsGone(Errors()[0]));
}

TEST_F(ReflectorTest, B11ListAnsweredExpiredIsRetriedAtOnceAsAConsistentRead) {
  lw_->PushListResult(StatusFromHttp(410, "Expired", "too old"));
  lw_->SetObjects({MakePod("ns", "a", {.rv = "30"})}, "31");
  Start();
  ASSERT_TRUE(lw_->WaitForLists(2));
  auto calls = lw_->list_calls();
  EXPECT_EQ(calls[0].resource_version, "0");
  EXPECT_EQ(calls[1].resource_version, "");  // no backoff in between
  auto w = lw_->WaitForWatch(1);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->options().resource_version, "31");
}

TEST_F(ReflectorTest, B58TooLargeResourceVersionForcesAConsistentRead) {
  lw_->PushListResult(
      StatusFromHttp(504, "Timeout", "Timeout: Too large resource version: 1500, current: 1200"));
  Start();
  ASSERT_TRUE(lw_->WaitForLists(2));
  EXPECT_EQ(lw_->list_calls()[1].resource_version, "");
}

TEST_F(ReflectorTest, B13PagesFollowContinueWithTheVersionCleared) {
  lw_->PushListResult(MakeList({MakePod("ns", "a", {.rv = "1"})}, "50", "token-1"));
  lw_->PushListResult(MakeList({MakePod("ns", "b", {.rv = "2"})}, "50"));
  Start();
  ASSERT_NE(lw_->WaitForWatch(1), nullptr);
  auto calls = lw_->list_calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].continue_token, "token-1");
  EXPECT_EQ(calls[1].resource_version, "");
  EXPECT_EQ(calls[1].limit, 500);
  EXPECT_THAT(Drain(),
              ElementsAre("ReplaceBegin", "Replaced a@1", "Replaced b@2", "ReplaceEnd rv=50"));
}

TEST_F(ReflectorTest, B13ExpiredContinueRedoesTheListOnceWithoutLimit) {
  lw_->PushListResult(MakeList({MakePod("ns", "a")}, "50", "token-1"));
  lw_->PushListResult(StatusFromHttp(410, "Expired", "The provided continue parameter is too old"));
  lw_->PushListResult(MakeList({MakePod("ns", "a"), MakePod("ns", "b")}, "60"));
  Start();
  ASSERT_NE(lw_->WaitForWatch(1), nullptr);
  auto calls = lw_->list_calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[2].limit, 0);
  EXPECT_EQ(calls[2].resource_version, "0");  // the version first asked for
  EXPECT_EQ(calls[2].continue_token, "");
  EXPECT_EQ(reflector_->LastSyncResourceVersion(), "60");
}

TEST_F(ReflectorTest, B13LaterListsKeepPagingOnlyIfTheFirstListWasPaginated) {
  // Not paginated: a relist at a specific version sends no limit (a cache may serve it).
  lw_->SetObjects({MakePod("ns", "a", {.rv = "3"})}, "10");
  Start();
  auto w1 = lw_->WaitForWatch(1);
  ASSERT_NE(w1, nullptr);
  Status gone = StatusFromHttp(410, "Expired", "too old");
  w1->Send(ErrorEvent(gone));
  w1->End(gone);
  AdvanceOnceArmed(2s);
  ASSERT_TRUE(lw_->WaitForLists(2));
  EXPECT_EQ(lw_->list_calls()[1].resource_version, "10");
  EXPECT_EQ(lw_->list_calls()[1].limit, 0);
}

TEST_F(ReflectorTest, B13PaginatedFirstListKeepsTheLimitOnRelists) {
  lw_->PushListResult(MakeList({MakePod("ns", "a")}, "10", "t"));
  lw_->PushListResult(MakeList({MakePod("ns", "b")}, "10"));
  lw_->SetObjects({}, "20");
  Start();
  auto w1 = lw_->WaitForWatch(1);
  ASSERT_NE(w1, nullptr);
  Status gone = StatusFromHttp(410, "Expired", "too old");
  w1->Send(ErrorEvent(gone));
  w1->End(gone);
  AdvanceOnceArmed(2s);
  ASSERT_TRUE(lw_->WaitForLists(3));
  EXPECT_EQ(lw_->list_calls()[2].resource_version, "10");
  EXPECT_EQ(lw_->list_calls()[2].limit, 500);
}

// A source that hands each listed page on in batches of two while it "arrives" (as the HTTP
// source does with a large body), counting the batches the reflector has taken.
class DribblingListerWatcher : public FakeListerWatcher {
 public:
  Result<ObjectList> ListInBatches(const ListOptions& options, std::stop_token stop,
                                   std::function<void(std::vector<ObjectPtr>)> on_items) override {
    Result<ObjectList> page = List(options, stop);
    if (!page) return page;
    std::vector<ObjectPtr> items = std::exchange(page->items, {});
    for (size_t i = 0; i + 1 < items.size(); i += 2) {
      on_items({items[i], items[i + 1]});
      batches_taken.fetch_add(1);
    }
    return page;
  }
  std::atomic<int> batches_taken{0};
};

TEST_F(ReflectorTest, ListBackPressureHoldsWithinAPage) {
  auto lw = std::make_shared<DribblingListerWatcher>();
  std::vector<ObjectPtr> pods;
  for (int i = 0; i < 40; ++i) pods.push_back(MakePod("ns", "p" + std::to_string(i), {.rv = "5"}));
  lw->SetObjects(pods, "10");
  lw_ = lw;
  fifo_options_.max_replace_backlog = 4;
  Start();
  // One page of 40 items in batches of 2: the batch that takes the queue past 4 relist items is
  // the last one taken until the informer drains.
  ASSERT_TRUE(Eventually([&] { return lw->batches_taken.load() >= 3; }));
  size_t replaced = 0;
  bool ended = false;
  ASSERT_TRUE(Eventually([&] {
    size_t in_queue = 0;
    for (const std::string& d : Drain()) {
      if (d.starts_with("Replaced")) ++in_queue;
      if (d.starts_with("ReplaceEnd")) ended = true;
    }
    EXPECT_LE(in_queue, 4u + 2u) << "relist items queued at once";
    replaced += in_queue;
    return ended;
  }));
  EXPECT_EQ(replaced, 40u);
}

TEST_F(ReflectorTest, StopEndsAListWaitingForRoomInTheQueue) {
  auto lw = std::make_shared<DribblingListerWatcher>();
  std::vector<ObjectPtr> pods;
  for (int i = 0; i < 40; ++i) pods.push_back(MakePod("ns", "p" + std::to_string(i), {.rv = "5"}));
  lw->SetObjects(pods, "10");
  lw_ = lw;
  fifo_options_.max_replace_backlog = 4;
  Start();
  ASSERT_TRUE(Eventually([&] { return lw->batches_taken.load() >= 3; }));
  reflector_->Stop();           // returns although nothing drains the queue
  EXPECT_EQ(ErrorCount(), 0u);  // a stop is not an error
}

TEST_F(ReflectorTest, B18RefusedWatchIsRetriedAfterBackoffWithoutRelisting) {
  lw_->SetObjects({}, "10");
  lw_->PushWatchOpenError(UnavailableError("connection refused"));
  Start();
  ASSERT_TRUE(Eventually([&] { return lw_->watch_calls().size() == 1; }));
  AdvanceOnceArmed(2s);
  auto w = lw_->WaitForWatch(1);  // the first stream: the refused open made none
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->options().resource_version, "10");
  EXPECT_EQ(lw_->list_calls().size(), 1u);
  EXPECT_EQ(ErrorCount(), 1u);
}

TEST_F(ReflectorTest, B18WatchEndingWith429IsRetriedWithoutRelisting) {
  lw_->SetObjects({}, "10");
  Start();
  auto w1 = lw_->WaitForWatch(1);
  ASSERT_NE(w1, nullptr);
  Status busy = StatusFromHttp(429, "TooManyRequests", "slow down");
  w1->Send(ErrorEvent(busy));
  w1->End(busy);
  AdvanceOnceArmed(2s);
  ASSERT_NE(lw_->WaitForWatch(2), nullptr);
  EXPECT_EQ(lw_->list_calls().size(), 1u);
}

TEST_F(ReflectorTest, B18ConnectionBrokenBeforeAnyEventIsRetriedAfterBackoff) {
  lw_->SetObjects({}, "10");
  Start();
  auto w1 = lw_->WaitForWatch(1);
  ASSERT_NE(w1, nullptr);
  // What the HTTP ListerWatcher reports for a refused connection: an ERROR event, then the end.
  Status refused = UnavailableError("connection refused");
  w1->Send(ErrorEvent(refused));
  w1->End(refused);
  EXPECT_TRUE(clock_->WaitForTimers(1));
  EXPECT_EQ(lw_->watch_calls().size(), 1u);  // not at once: after a backoff step
  clock_->Advance(2s);
  ASSERT_NE(lw_->WaitForWatch(2), nullptr);
  EXPECT_EQ(lw_->list_calls().size(), 1u);
}

TEST_F(ReflectorTest, B19BackoffDoublesWithFullJitterUpToTheCapAndResets) {
  internal::Backoff b(800ms, 30s, 2min, 1.0);
  std::mt19937_64 rng(7);
  Clock::TimePoint t0{};
  auto expected_base = 800ms;
  for (int i = 0; i < 10; ++i) {
    auto d = b.Next(t0 + std::chrono::seconds(i), rng);
    EXPECT_GE(d, Clock::Duration(expected_base)) << "step " << i;
    EXPECT_LT(d, Clock::Duration(2 * expected_base)) << "step " << i;
    expected_base = std::min<std::chrono::milliseconds>(expected_base * 2, 30s);
  }
  // More than 2 minutes after the last reset, the next step starts again at 800 ms.
  auto d = b.Next(t0 + 10min, rng);
  EXPECT_LT(d, Clock::Duration(1600ms));
  // A longer cap (permanent errors) lets the steps grow past 30 s.
  internal::Backoff p(800ms, 30s, 2min, 0.0);
  Clock::Duration last{};
  for (int i = 0; i < 12; ++i) last = p.Next(t0 + std::chrono::seconds(i), rng, 5min);
  EXPECT_EQ(last, Clock::Duration(5min));
}

TEST_F(ReflectorTest, B20EveryListAndWatchErrorReachesTheErrorHandler) {
  lw_->PushListResult(StatusFromHttp(500, "InternalError", "etcd is down"));
  Start();
  ASSERT_TRUE(Eventually([&] { return ErrorCount() == 1; }));
  EXPECT_TRUE(IsInternalError(Errors()[0]));
  AdvanceOnceArmed(2s);
  ASSERT_NE(lw_->WaitForWatch(1), nullptr);  // the loop kept going
}

TEST_F(ReflectorTest, B21EventsOfAnotherKindAreReportedAndSkipped) {
  lw_->SetObjects({}, "10");
  Start({.expected_gvk = GroupVersionKind{"", "v1", "Pod"}});
  auto w = lw_->WaitForWatch(1);
  ASSERT_NE(w, nullptr);
  Drain();
  w->Send(WatchEventType::kAdded, MakeObject("v1", "ConfigMap", "ns", "cm", "11"));
  w->Send(WatchEventType::kAdded, MakePod("ns", "p", {.rv = "12"}));
  EXPECT_THAT(Drain(), ElementsAre("Added p@12"));
}

TEST_F(ReflectorTest, B22WatchListStreamsInitialEventsThenContinuesAsAWatch) {
  Start({.use_watch_list = true});
  auto w = lw_->WaitForWatch(1);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->options().send_initial_events, std::optional<bool>(true));
  EXPECT_EQ(w->options().resource_version_match, ResourceVersionMatch::kNotOlderThan);
  EXPECT_EQ(w->options().resource_version, "");
  EXPECT_TRUE(w->options().allow_watch_bookmarks);
  w->Send(WatchEventType::kAdded, MakePod("ns", "a", {.rv = "5"}));
  w->Send(WatchEventType::kAdded, MakePod("ns", "b", {.rv = "3"}));
  EXPECT_EQ(reflector_->LastSyncResourceVersion(), "");  // B51: synthetic adds do not advance it
  w->Send(WatchEventType::kBookmark, Bookmark("20", /*initial_events_end=*/true));
  w->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "21"}));
  EXPECT_THAT(Drain(), ElementsAre("ReplaceBegin", "Replaced a@5", "Replaced b@3",
                                   "ReplaceEnd rv=20", "Updated a@21"));
  EXPECT_EQ(reflector_->LastSyncResourceVersion(), "21");
  EXPECT_TRUE(lw_->list_calls().empty());
}

TEST_F(ReflectorTest, B22RefusedWatchListFallsBackToListAndWatch) {
  lw_->PushWatchOpenError(StatusFromHttp(
      422, "Invalid", "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden"));
  lw_->SetObjects({MakePod("ns", "a", {.rv = "4"})}, "9");
  Start({.use_watch_list = true});
  ASSERT_TRUE(lw_->WaitForLists(1));
  auto w = lw_->WaitForWatch(1);
  ASSERT_NE(w, nullptr);
  EXPECT_FALSE(w->options().send_initial_events.value_or(false));
  EXPECT_EQ(w->options().resource_version, "9");
}

TEST_F(ReflectorTest, B22WatchListRefusedWith429IsRetriedAsAWatchListAfterBackoff) {
  lw_->PushWatchOpenError(StatusFromHttp(429, "TooManyRequests", "too many requests"));
  Start({.use_watch_list = true});
  ASSERT_TRUE(Eventually([&] { return lw_->watch_calls().size() == 1; }));
  AdvanceOnceArmed(2s);
  auto w = lw_->WaitForWatch(1);  // the first stream: the refused open made none
  ASSERT_NE(w, nullptr);
  EXPECT_TRUE(w->options().send_initial_events.value_or(false));
  EXPECT_EQ(w->options().resource_version_match, ResourceVersionMatch::kNotOlderThan);
  EXPECT_TRUE(lw_->list_calls().empty());
  EXPECT_EQ(ErrorCount(), 1u);
}

TEST_F(ReflectorTest, B57WatchListWithoutTheEndBookmarkFallsBackToListAndWatch) {
  lw_->SetObjects({MakePod("ns", "a", {.rv = "4"})}, "9");
  Start({.use_watch_list = true});
  auto w1 = lw_->WaitForWatch(1);
  ASSERT_NE(w1, nullptr);
  w1->Send(WatchEventType::kAdded, MakePod("ns", "a", {.rv = "4"}));
  w1->End();  // the server ignored sendInitialEvents and never sent the bookmark
  AdvanceOnceArmed(2s);
  ASSERT_TRUE(lw_->WaitForLists(1));  // unlike client-go: list+watch from now on
  auto w2 = lw_->WaitForWatch(2);
  ASSERT_NE(w2, nullptr);
  EXPECT_FALSE(w2->options().send_initial_events.value_or(false));
}

TEST_F(ReflectorTest, B50VeryShortEmptyWatchIsAnErrorAndRelists) {
  lw_->SetObjects({}, "10");
  Start();
  auto w1 = lw_->WaitForWatch(1);
  ASSERT_NE(w1, nullptr);
  w1->End();  // closed at once (fake time has not moved) with nothing delivered
  ASSERT_TRUE(Eventually([&] { return ErrorCount() == 1; }));
  EXPECT_THAT(Errors()[0].message(), ::testing::HasSubstr("very short watch"));
  AdvanceOnceArmed(2s);
  ASSERT_TRUE(lw_->WaitForLists(2));
}

TEST_F(ReflectorTest, B51FromEmptyVersionSyntheticAddsDoNotAdvanceTheVersion) {
  lw_->PushListResult(MakeList({}, ""));  // a list without a version: the watch starts at ""
  Start();
  auto w = lw_->WaitForWatch(1);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->options().resource_version, "");
  w->Send(WatchEventType::kAdded, MakePod("ns", "a", {.rv = "9"}));
  w->Send(WatchEventType::kAdded, MakePod("ns", "b", {.rv = "5"}));
  EXPECT_EQ(reflector_->LastSyncResourceVersion(), "");
  w->Send(WatchEventType::kModified, MakePod("ns", "b", {.rv = "12"}));
  EXPECT_EQ(reflector_->LastSyncResourceVersion(), "12");
  w->Send(WatchEventType::kAdded, MakePod("ns", "c", {.rv = "13"}));
  EXPECT_EQ(reflector_->LastSyncResourceVersion(), "13");
}

TEST_F(ReflectorTest, B58WatchEndingTooLargeRelistsAsAConsistentRead) {
  lw_->SetObjects({MakePod("ns", "a", {.rv = "3"})}, "32");
  Start();
  auto w1 = lw_->WaitForWatch(1);
  ASSERT_NE(w1, nullptr);
  Status too_large =
      StatusFromHttp(504, "Timeout", "Timeout: Too large resource version: 32, current: 4");
  w1->Send(ErrorEvent(too_large));
  w1->End(too_large);
  AdvanceOnceArmed(2s);
  ASSERT_TRUE(lw_->WaitForLists(2));
  EXPECT_EQ(lw_->list_calls()[1].resource_version, "");
}

TEST_F(ReflectorTest, WatchEventOlderThanTheWatchStartRelistsAsAConsistentRead) {
  // The server restarted with fresh storage and (misbehaving) accepted a watch from a version
  // it never reached: its events come with lower versions.
  lw_->SetObjects({MakePod("ns", "a", {.rv = "3"}), MakePod("ns", "b", {.rv = "30"})}, "32");
  Start();
  auto w1 = lw_->WaitForWatch(1);
  ASSERT_NE(w1, nullptr);
  Drain();
  w1->SendBatch({WatchEvent{WatchEventType::kAdded, MakePod("ns", "c", {.rv = "33"}), {}},
                 WatchEvent{WatchEventType::kModified, MakePod("ns", "a", {.rv = "5"}), {}},
                 WatchEvent{WatchEventType::kAdded, MakePod("ns", "d", {.rv = "6"}), {}}});
  ASSERT_TRUE(w1->WaitStopped());
  // Only the event before the regression is applied.
  EXPECT_THAT(Drain(), ElementsAre("Added c@33"));
  ASSERT_TRUE(Eventually([&] { return ErrorCount() == 1; }));
  EXPECT_EQ(Errors()[0].code(), StatusCode::kDataLoss);
  EXPECT_THAT(Errors()[0].message(), ::testing::HasSubstr("went back"));
  lw_->SetObjects({MakePod("ns", "a", {.rv = "5"})}, "6");
  AdvanceOnceArmed(2s);  // one backoff step (B19)
  ASSERT_TRUE(lw_->WaitForLists(2));
  EXPECT_EQ(lw_->list_calls()[1].resource_version, "");  // a consistent read
  auto w2 = lw_->WaitForWatch(2);
  ASSERT_NE(w2, nullptr);
  EXPECT_EQ(w2->options().resource_version, "6");
  EXPECT_THAT(Drain(), ElementsAre("ReplaceBegin", "Replaced a@5", "ReplaceEnd rv=6"));
  EXPECT_EQ(reflector_->counters().relists_after_rv_regression.load(), 1u);
}

TEST_F(ReflectorTest, WatchEventOlderThanAnEarlierEventOfTheStreamRelists) {
  lw_->SetObjects({}, "10");
  Start();
  auto w1 = lw_->WaitForWatch(1);
  ASSERT_NE(w1, nullptr);
  w1->Send(WatchEventType::kAdded, MakePod("ns", "a", {.rv = "20"}));
  w1->Send(WatchEventType::kBookmark, Bookmark("15"));
  ASSERT_TRUE(w1->WaitStopped());
  EXPECT_EQ(reflector_->LastSyncResourceVersion(), "20");
  AdvanceOnceArmed(2s);
  ASSERT_TRUE(lw_->WaitForLists(2));
  EXPECT_EQ(lw_->list_calls()[1].resource_version, "");
}

TEST_F(ReflectorTest, ListOlderThanTheVersionAskedForIsRetriedAtOnceAsAConsistentRead) {
  lw_->SetObjects({MakePod("ns", "a", {.rv = "3"}), MakePod("ns", "b", {.rv = "30"})}, "32");
  Start();
  auto w1 = lw_->WaitForWatch(1);
  ASSERT_NE(w1, nullptr);
  Drain();
  Status gone = StatusFromHttp(410, "Expired", "too old resource version: 32 (40)");
  w1->End(gone);
  // The relist "not older than 32" is answered at 4 by a server that went back; the consistent
  // read that follows at once sees its real state.
  lw_->PushListResult(MakeList({MakePod("ns", "a", {.rv = "3"})}, "4"));
  lw_->SetObjects({MakePod("ns", "a", {.rv = "3"})}, "4");
  AdvanceOnceArmed(2s);
  ASSERT_TRUE(lw_->WaitForLists(3));
  auto calls = lw_->list_calls();
  EXPECT_EQ(calls[1].resource_version, "32");
  EXPECT_EQ(calls[2].resource_version, "");
  auto w2 = lw_->WaitForWatch(2);
  ASSERT_NE(w2, nullptr);
  EXPECT_EQ(w2->options().resource_version, "4");
  std::vector<std::string> deltas = Drain();
  ASSERT_FALSE(deltas.empty());
  EXPECT_EQ(deltas.back(), "ReplaceEnd rv=4");
  EXPECT_THAT(deltas, ::testing::Not(::testing::Contains("ReplaceEnd rv=32")));
  EXPECT_EQ(reflector_->counters().relists_after_rv_regression.load(), 1u);
}

TEST_F(ReflectorTest, OpaqueResourceVersionsAreNeverCompared) {
  lw_->SetObjects({}, "b10");
  Start();
  auto w1 = lw_->WaitForWatch(1);
  ASSERT_NE(w1, nullptr);
  w1->Send(WatchEventType::kAdded, MakePod("ns", "a", {.rv = "a9"}));
  w1->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "7"}));
  w1->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "x"}));
  EXPECT_EQ(reflector_->LastSyncResourceVersion(), "x");
  EXPECT_FALSE(w1->stopped());
  EXPECT_EQ(lw_->list_calls().size(), 1u);
  EXPECT_EQ(ErrorCount(), 0u);
}

TEST_F(ReflectorTest, B52InternalErrorEndingAWatchRelists) {
  lw_->SetObjects({}, "10");
  Start();
  auto w1 = lw_->WaitForWatch(1);
  ASSERT_NE(w1, nullptr);
  w1->Send(WatchEventType::kBookmark, Bookmark("11"));
  Status internal = StatusFromHttp(500, "InternalError", "unable to decode an event");
  w1->Send(ErrorEvent(internal));
  w1->End(internal);
  lw_->SetObjects({}, "12");
  AdvanceOnceArmed(2s);
  ASSERT_TRUE(lw_->WaitForLists(2));
  EXPECT_EQ(lw_->list_calls()[1].resource_version, "11");
}

TEST_F(ReflectorTest, StalledWatchIsRestartedFromTheLastVersion) {
  lw_->SetObjects({}, "10");
  keep_progress_timeout_ = true;
  Start({.watch_progress_timeout = 60s});
  auto w1 = lw_->WaitForWatch(1);
  ASSERT_NE(w1, nullptr);
  w1->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "11"}));
  // A half-open connection: no event, no bookmark, no end.
  AdvanceOnceArmed(61s);
  auto w2 = lw_->WaitForWatch(2);
  ASSERT_NE(w2, nullptr);
  EXPECT_TRUE(w1->WaitStopped());
  EXPECT_EQ(w2->options().resource_version, "11");
  EXPECT_EQ(lw_->list_calls().size(), 1u);
  EXPECT_EQ(reflector_->counters().progress_timeouts.load(), 1u);
}

TEST_F(ReflectorTest, WatchListStalledInItsInitialEventsStartsAgainAsAWatchList) {
  keep_progress_timeout_ = true;
  Start({.use_watch_list = true, .watch_progress_timeout = 60s});
  auto w1 = lw_->WaitForWatch(1);
  ASSERT_NE(w1, nullptr);
  w1->Send(WatchEventType::kAdded, MakePod("ns", "a", {.rv = "5"}));
  // Silence before the initial-events-end bookmark.
  AdvanceOnceArmed(61s);
  auto w2 = lw_->WaitForWatch(2);
  ASSERT_NE(w2, nullptr);
  EXPECT_TRUE(w1->WaitStopped());
  EXPECT_TRUE(w2->options().send_initial_events.value_or(false));
  EXPECT_TRUE(lw_->list_calls().empty());
  w2->Send(WatchEventType::kAdded, MakePod("ns", "a", {.rv = "5"}));
  w2->Send(WatchEventType::kBookmark, Bookmark("9", /*initial_events_end=*/true));
  EXPECT_THAT(Drain(), ElementsAre("ReplaceBegin", "Replaced a@5", "ReplaceBegin", "Replaced a@5",
                                   "ReplaceEnd rv=9"));
}

TEST_F(ReflectorTest, ForbiddenListIsReportedOnceAndRetriedWithBackoff) {
  std::atomic<int> warnings{0};
  SetLogSink([&](LogSeverity, std::string_view, std::string_view message) {
    if (message.find("refuses to list") != std::string_view::npos) warnings++;
  });
  for (int i = 0; i < 3; ++i) {
    lw_->PushListResult(StatusFromHttp(403, "Forbidden", "pods is forbidden: no RBAC"));
  }
  Start();
  // Backoff timers are armed from the reflector's thread: keep advancing until it gets through.
  for (int i = 0; i < 100 && lw_->watch_calls().empty(); ++i) {
    if (clock_->WaitForTimers(1, 100ms)) clock_->Advance(10min);
  }
  ASSERT_NE(lw_->WaitForWatch(1), nullptr);
  SetLogSink(nullptr);
  EXPECT_EQ(lw_->list_calls().size(), 4u);
  ASSERT_EQ(ErrorCount(), 3u);
  for (const Status& s : Errors()) EXPECT_TRUE(IsForbidden(s));
  EXPECT_EQ(warnings.load(), 1);  // one warning for the whole streak
}

TEST_F(ReflectorTest, StopEndsTheWatchAndNoMoreCallsFollow) {
  lw_->SetObjects({}, "10");
  Start();
  auto w1 = lw_->WaitForWatch(1);
  ASSERT_NE(w1, nullptr);
  reflector_->Stop();
  EXPECT_TRUE(w1->stopped());
  EXPECT_FALSE(w1->Send(WatchEventType::kAdded, MakePod("ns", "a")));
  clock_->Advance(1h);
  EXPECT_EQ(lw_->watch_calls().size(), 1u);
}

}  // namespace
}  // namespace kube
