// SharedIndexInformer behaviours B06-B07, B24-B37, B53-B55, B59-B63 (docs/behaviours.md) and its
// statistics, against a scripted ListerWatcher and a fake clock.
#include "kube/cache/shared_informer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <type_traits>
#include <utility>

#include "base/executor.h"
#include "cache/shared_informer_internal.h"
#include "kube/cache/lister.h"
#include "tests/testing/fake_lister_watcher.h"
#include "tests/testing/objects.h"
#include "tests/testing/recording_handler.h"

namespace kube {
namespace {

using namespace std::chrono_literals;
using ::kube::testing::FakeListerWatcher;
using ::kube::testing::MakeList;
using ::kube::testing::MakePod;
using ::kube::testing::RecordingHandler;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

WatchEvent ErrorEvent(Status s) {
  return WatchEvent{WatchEventType::kError, nullptr, std::move(s)};
}

class SharedInformerTest : public ::testing::Test {
 protected:
  std::shared_ptr<SharedIndexInformer> Make(std::chrono::milliseconds resync = 0ms,
                                            Indexers indexers = {}) {
    SharedInformerOptions o;
    o.resync_period = resync;
    o.indexers = std::move(indexers);
    o.name = "pods";
    o.clock = clock_;
    o.reflector.random_seed = 1;
    o.reflector.watch_progress_timeout = 0ms;
    informer_ = internal::NewSharedIndexInformer(lw_, std::move(o), executor_);
    return informer_;
  }
  void TearDown() override {
    if (informer_) informer_->Stop();
    executor_->Shutdown();
  }
  std::shared_ptr<RecordingHandler> AddRecorder(HandlerOptions opts = {}) {
    auto h = std::make_shared<RecordingHandler>();
    auto reg = informer_->AddEventHandler(h, opts);
    EXPECT_TRUE(reg.has_value()) << reg.error();
    if (reg) regs_.push_back(*reg);
    return h;
  }
  // Runs the informer over `objects` at `rv` and returns its first watch stream.
  std::shared_ptr<::kube::testing::FakeWatchStream> RunAndSync(std::vector<ObjectPtr> objects,
                                                               std::string rv) {
    lw_->SetObjects(std::move(objects), std::move(rv));
    informer_->Run();
    EXPECT_TRUE(informer_->WaitForCacheSync(10s));
    return lw_->WaitForWatch(1);
  }

  std::shared_ptr<FakeListerWatcher> lw_ = std::make_shared<FakeListerWatcher>();
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::shared_ptr<internal::Executor> executor_ = internal::Executor::Create({.threads = 2});
  std::shared_ptr<SharedIndexInformer> informer_;
  std::vector<RegistrationPtr> regs_;
};

TEST_F(SharedInformerTest, B28B29FirstListAddsAreInitialThenLiveEventsFollow) {
  Make();
  auto h = AddRecorder();
  auto watch = RunAndSync({MakePod("ns", "a", {.rv = "1"}), MakePod("ns", "b", {.rv = "2"})}, "10");
  ASSERT_NE(watch, nullptr);
  watch->Send(WatchEventType::kAdded, MakePod("ns", "c", {.rv = "11"}));
  watch->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "12"}));
  watch->Send(WatchEventType::kDeleted, MakePod("ns", "b", {.rv = "13"}));
  ASSERT_TRUE(h->WaitFor(5));
  EXPECT_THAT(h->events(), ElementsAre("ADD ns/a@1 initial", "ADD ns/b@2 initial", "ADD ns/c@11",
                                       "UPDATE ns/a@1->12", "DELETE ns/b@13"));
  auto a = informer_->GetIndexer()->GetByKey("ns/a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->resource_version(), "12");
  EXPECT_EQ(informer_->GetIndexer()->GetByKey("ns/b"), nullptr);
  EXPECT_EQ(informer_->LastSyncResourceVersion(), "13");
}

TEST_F(SharedInformerTest, B24B61RelistDeletesVanishedObjectsWithTheirLastState) {
  Make();
  auto h = AddRecorder();
  auto w1 = RunAndSync({MakePod("ns", "a", {.rv = "1"}), MakePod("ns", "b", {.rv = "2"})}, "10");
  ASSERT_NE(w1, nullptr);
  ASSERT_TRUE(h->WaitFor(2));
  h->Take();
  // The watch breaks with 410; meanwhile `a` changed and `b` was deleted.
  lw_->SetObjects({MakePod("ns", "a", {.rv = "15"})}, "20");
  Status gone = StatusFromHttp(410, "Expired", "too old resource version");
  w1->Send(ErrorEvent(gone));
  w1->End(gone);
  ASSERT_TRUE(clock_->WaitForTimers(1));
  clock_->Advance(2s);
  ASSERT_TRUE(h->WaitFor(2));
  EXPECT_THAT(h->events(), ElementsAre("UPDATE ns/a@1->15", "DELETE ns/b@2 unknown"));
  EXPECT_EQ(informer_->GetIndexer()->Size(), 1u);
  EXPECT_EQ(informer_->Stats().relists_after_gone, 1u);
}

// A source that hands each listed page on in batches of two while it "arrives", as the HTTP
// source does with a large body; `fail_next` makes the next list break after its batches.
class BatchingListerWatcher : public FakeListerWatcher {
 public:
  Result<ObjectList> ListInBatches(const ListOptions& options, std::stop_token stop,
                                   std::function<void(std::vector<ObjectPtr>)> on_items) override {
    Result<ObjectList> page = List(options, stop);
    if (!page) return page;
    std::vector<ObjectPtr> items = std::exchange(page->items, {});
    size_t i = 0;
    for (; i + 2 <= items.size(); i += 2) on_items({items[i], items[i + 1]});
    page->items.assign(items.begin() + static_cast<std::ptrdiff_t>(i), items.end());
    if (fail_next.exchange(false)) return UnavailableError("connection reset in the list body");
    return page;
  }
  std::atomic<bool> fail_next{false};
};

TEST_F(SharedInformerTest, B24RelistHandedOnInBatchesEndsWithTheServersStateEvenAfterABrokenBody) {
  auto lw = std::make_shared<BatchingListerWatcher>();
  lw_ = lw;
  Make();
  auto h = AddRecorder();
  auto w1 = RunAndSync({MakePod("ns", "a", {.rv = "1"}), MakePod("ns", "b", {.rv = "2"}),
                        MakePod("ns", "c", {.rv = "3"}), MakePod("ns", "d", {.rv = "4"}),
                        MakePod("ns", "e", {.rv = "5"})},
                       "10");
  ASSERT_NE(w1, nullptr);
  ASSERT_TRUE(h->WaitFor(5));
  EXPECT_THAT(h->Take(),
              ElementsAre("ADD ns/a@1 initial", "ADD ns/b@2 initial", "ADD ns/c@3 initial",
                          "ADD ns/d@4 initial", "ADD ns/e@5 initial"));
  // The watch breaks with 410; meanwhile `a` changed, `d` and `e` were deleted, `f` created. The
  // first relist breaks after its batches went out; the retry completes.
  lw_->SetObjects({MakePod("ns", "a", {.rv = "15"}), MakePod("ns", "b", {.rv = "2"}),
                   MakePod("ns", "c", {.rv = "3"}), MakePod("ns", "f", {.rv = "16"})},
                  "20");
  lw->fail_next = true;
  Status gone = StatusFromHttp(410, "Expired", "too old resource version");
  w1->Send(ErrorEvent(gone));
  w1->End(gone);
  // Each relist waits for a backoff step on the fake clock.
  for (int i = 0; i < 200; ++i) {
    if (lw_->list_calls().size() >= 3 && informer_->GetIndexer()->Size() == 4) break;
    if (clock_->WaitForTimers(1, 50ms)) clock_->Advance(2s);
  }
  EXPECT_EQ(lw_->list_calls().size(), 3u);
  auto w2 = lw_->WaitForWatch(2);
  ASSERT_NE(w2, nullptr);
  EXPECT_EQ(w2->options().resource_version, "20");
  EXPECT_THAT(informer_->GetIndexer()->ListKeys(),
              UnorderedElementsAre("ns/a", "ns/b", "ns/c", "ns/f"));
  EXPECT_EQ(informer_->GetIndexer()->GetByKey("ns/a")->resource_version(), "15");
  // Each vanished object is deleted exactly once, with its last state, and `f` added once.
  std::vector<std::string> events = h->events();
  auto count = [&](const std::string& e) { return std::count(events.begin(), events.end(), e); };
  EXPECT_EQ(count("DELETE ns/d@4 unknown"), 1);
  EXPECT_EQ(count("DELETE ns/e@5 unknown"), 1);
  EXPECT_EQ(count("ADD ns/f@16"), 1);
}

TEST_F(SharedInformerTest, B24DeleteIsNotMissedForAnObjectWhoseAddWasStillQueued) {
  Make();
  auto h = AddRecorder();
  auto w1 = RunAndSync({}, "10");
  ASSERT_NE(w1, nullptr);
  // `x` arrives by watch and vanishes before the relist: the relist must delete it.
  w1->Send(WatchEventType::kAdded, MakePod("ns", "x", {.rv = "11"}));
  lw_->SetObjects({}, "30");
  Status gone = StatusFromHttp(410, "Expired", "too old");
  w1->Send(ErrorEvent(gone));
  w1->End(gone);
  ASSERT_TRUE(clock_->WaitForTimers(1));
  clock_->Advance(2s);
  ASSERT_TRUE(h->WaitFor(2));
  EXPECT_THAT(h->events(), ElementsAre("ADD ns/x@11", "DELETE ns/x@11 unknown"));
}

TEST_F(SharedInformerTest, B28UnchangedRelistItemsReachOnlyHandlersDueForResync) {
  Make();
  auto h = AddRecorder();
  auto w1 = RunAndSync({MakePod("ns", "a", {.rv = "1"})}, "10");
  ASSERT_TRUE(h->WaitFor(1));
  h->Take();
  ObjectPtr cached = informer_->GetIndexer()->GetByKey("ns/a");
  lw_->SetObjects({MakePod("ns", "a", {.rv = "1"}), MakePod("ns", "n", {.rv = "25"})}, "30");
  Status gone = StatusFromHttp(410, "Expired", "too old");
  w1->Send(ErrorEvent(gone));
  w1->End(gone);
  ASSERT_TRUE(clock_->WaitForTimers(1));
  clock_->Advance(2s);
  ASSERT_TRUE(h->WaitFor(1));
  ASSERT_TRUE(lw_->WaitForWatch(2) != nullptr);
  EXPECT_THAT(h->events(), ElementsAre("ADD ns/n@25"));
  // The unchanged object keeps its cached copy: the relisted duplicate was dropped.
  EXPECT_EQ(informer_->GetIndexer()->GetByKey("ns/a"), cached);
}

TEST_F(SharedInformerTest, B27B36HasSyncedLatchesAfterTheFirstList) {
  Make();
  EXPECT_FALSE(informer_->HasSynced());
  EXPECT_EQ(informer_->LastSyncResourceVersion(), "");
  auto w1 = RunAndSync({MakePod("ns", "a")}, "10");
  EXPECT_TRUE(informer_->HasSynced());
  EXPECT_EQ(informer_->LastSyncResourceVersion(), "10");
  Status gone = StatusFromHttp(410, "Expired", "too old");
  lw_->PushListResult(StatusFromHttp(500, "InternalError", "down"));
  w1->Send(ErrorEvent(gone));
  w1->End(gone);
  ASSERT_TRUE(clock_->WaitForTimers(1));
  clock_->Advance(2s);
  ASSERT_TRUE(lw_->WaitForLists(2));
  EXPECT_TRUE(informer_->HasSynced());  // never turns false across relists or errors
}

TEST_F(SharedInformerTest, B30RegistrationSyncsOnlyAfterTheHandlerReturnsFromInitialAdds) {
  Make();
  auto h = std::make_shared<RecordingHandler>();
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  h->hook = [&](const std::string&) {
    std::unique_lock<std::mutex> l(m);
    cv.wait(l, [&] { return release; });
  };
  auto reg = informer_->AddEventHandler(h);
  ASSERT_TRUE(reg.has_value());
  RunAndSync({MakePod("ns", "a"), MakePod("ns", "b")}, "10");
  EXPECT_TRUE(informer_->HasSynced());
  EXPECT_FALSE((*reg)->HasSynced());
  EXPECT_FALSE(informer_->WaitForHandlersSync(50ms));
  {
    std::lock_guard<std::mutex> l(m);
    release = true;
  }
  cv.notify_all();
  EXPECT_TRUE((*reg)->WaitForSynced(10s));
  EXPECT_TRUE(informer_->WaitForHandlersSync(10s));
  EXPECT_EQ(h->size(), 2u);
}

TEST_F(SharedInformerTest, B31HandlerAddedAfterStartGetsTheCacheAsInitialAddsThenLiveEvents) {
  Make();
  auto w = RunAndSync({MakePod("ns", "a", {.rv = "1"}), MakePod("ns", "b", {.rv = "2"})}, "10");
  auto h = AddRecorder();
  w->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "11"}));
  ASSERT_TRUE(h->WaitFor(3));
  auto ev = h->events();
  EXPECT_THAT(std::vector<std::string>(ev.begin(), ev.begin() + 2),
              UnorderedElementsAre("ADD ns/a@1 initial", "ADD ns/b@2 initial"));
  EXPECT_EQ(ev[2], "UPDATE ns/a@1->11");
  EXPECT_TRUE(regs_.back()->WaitForSynced(10s));
}

TEST_F(SharedInformerTest, B32SlowHandlerDelaysNeitherOtherHandlersNorTheCache) {
  Make();
  auto slow = std::make_shared<RecordingHandler>();
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  slow->hook = [&](const std::string&) {
    std::unique_lock<std::mutex> l(m);
    cv.wait(l, [&] { return release; });
  };
  auto slow_reg = informer_->AddEventHandler(slow);
  auto fast = AddRecorder();
  auto w = RunAndSync({}, "10");
  for (int i = 0; i < 200; ++i) {
    w->Send(WatchEventType::kAdded,
            MakePod("ns", "p" + std::to_string(i), {.rv = std::to_string(11 + i)}));
  }
  EXPECT_TRUE(fast->WaitFor(200));
  EXPECT_EQ(informer_->GetIndexer()->Size(), 200u);
  EXPECT_GE((*slow_reg)->PendingNotifications(), 198u);  // buffered, unbounded
  {
    std::lock_guard<std::mutex> l(m);
    release = true;
  }
  cv.notify_all();
  EXPECT_TRUE(slow->WaitFor(200));
}

TEST_F(SharedInformerTest, B33B34B54ResyncIsPerHandlerAndInMemory) {
  Make(30s);
  auto every30 = AddRecorder();                        // the informer's default
  auto never = AddRecorder({.resync_period = 0ms});    // 0 = never
  auto every10 = AddRecorder({.resync_period = 10s});  // lowers the check period
  RunAndSync({MakePod("ns", "a", {.rv = "1"}), MakePod("ns", "b", {.rv = "2"})}, "10");
  ASSERT_TRUE(every30->WaitFor(2) && never->WaitFor(2) && every10->WaitFor(2));
  every30->Take();
  never->Take();
  every10->Take();
  const size_t lists = lw_->list_calls().size();

  clock_->Advance(10s);
  ASSERT_TRUE(every10->WaitFor(2));
  EXPECT_THAT(every10->Take(), UnorderedElementsAre("RESYNC ns/a@1", "RESYNC ns/b@2"));
  clock_->Advance(10s);
  ASSERT_TRUE(every10->WaitFor(2));
  every10->Take();
  clock_->Advance(10s);  // t = 30 s: both periodic handlers are due
  ASSERT_TRUE(every30->WaitFor(2));
  ASSERT_TRUE(every10->WaitFor(2));
  EXPECT_THAT(every30->Take(), UnorderedElementsAre("RESYNC ns/a@1", "RESYNC ns/b@2"));
  EXPECT_THAT(never->events(), IsEmpty());
  EXPECT_EQ(lw_->list_calls().size(), lists);  // resync never asks the server
}

TEST_F(SharedInformerTest, B33HandlerResyncBelowOneSecondBecomesOneSecond) {
  Make(1s);
  auto h = AddRecorder({.resync_period = 10ms});
  RunAndSync({MakePod("ns", "a")}, "10");
  ASSERT_TRUE(h->WaitFor(1));
  h->Take();
  clock_->Advance(500ms);
  clock_->Advance(600ms);
  ASSERT_TRUE(h->WaitFor(1));
  EXPECT_THAT(h->Take(), ElementsAre("RESYNC ns/a@1"));
}

TEST_F(SharedInformerTest, B33InformerCreatedWithoutResyncNeverResyncs) {
  Make(0ms);
  auto h = AddRecorder({.resync_period = 5s});
  RunAndSync({MakePod("ns", "a")}, "10");
  ASSERT_TRUE(h->WaitFor(1));
  clock_->Advance(1h);
  EXPECT_EQ(clock_->PendingTimers(), 0u);
  EXPECT_EQ(h->size(), 1u);
}

TEST_F(SharedInformerTest, B35TransformRunsBeforeCachingAndOnlyBeforeStart) {
  Make();
  ASSERT_TRUE(informer_->SetTransform(DropManagedFields).ok());
  auto pod = ::kube::testing::MustParse(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"ns","resourceVersion":"1",)"
      R"("managedFields":[{"manager":"kubectl"}]}})");
  ASSERT_TRUE(pod->has_managed_fields());
  RunAndSync({pod}, "10");
  auto cached = informer_->GetIndexer()->GetByKey("ns/a");
  ASSERT_NE(cached, nullptr);
  EXPECT_FALSE(cached->has_managed_fields());
  EXPECT_FALSE(informer_->SetTransform(DropManagedFields).ok());
}

TEST_F(SharedInformerTest, B36SecondRunIsIgnoredAndAStoppedInformerRefusesHandlers) {
  Make();
  RunAndSync({}, "10");
  informer_->Run();  // logged and ignored
  EXPECT_EQ(lw_->list_calls().size(), 1u);
  EXPECT_FALSE(informer_->IsStopped());
  informer_->Stop();
  EXPECT_TRUE(informer_->IsStopped());
  auto reg = informer_->AddEventHandler(std::make_shared<RecordingHandler>());
  EXPECT_FALSE(reg.has_value());
  EXPECT_EQ(reg.error().code(), StatusCode::kCancelled);
  EXPECT_EQ(informer_->AddIndexers({{"x", MetaNamespaceIndexFunc}}).code(), StatusCode::kCancelled);
}

TEST_F(SharedInformerTest, B37AHandlerThatThrowsKeepsReceivingNotifications) {
  Make();
  auto h = std::make_shared<RecordingHandler>();
  h->hook = [](const std::string& e) {
    if (e.find("ns/bad") != std::string::npos) throw std::runtime_error("handler bug");
  };
  auto reg = informer_->AddEventHandler(h);
  auto w = RunAndSync({}, "10");
  w->Send(WatchEventType::kAdded, MakePod("ns", "bad", {.rv = "11"}));
  w->Send(WatchEventType::kAdded, MakePod("ns", "good", {.rv = "12"}));
  ASSERT_TRUE(h->WaitFor(1));
  EXPECT_THAT(h->events(), ElementsAre("ADD ns/good@12"));
  EXPECT_EQ((*reg)->HandlerErrors(), 1u);
}

TEST_F(SharedInformerTest, B53EveryDeleteReachesHandlersEvenForAnUncachedKey) {
  Make();
  auto h = AddRecorder();
  auto w = RunAndSync({}, "10");
  w->Send(WatchEventType::kDeleted, MakePod("ns", "ghost", {.rv = "11"}));
  ASSERT_TRUE(h->WaitFor(1));
  EXPECT_THAT(h->events(), ElementsAre("DELETE ns/ghost@11"));
}

TEST_F(SharedInformerTest, B62FilteringHandlerTurnsUpdatesIntoAddsAndDeletes) {
  Make();
  auto inner = std::make_shared<RecordingHandler>();
  auto reg = informer_->AddEventHandler(FilteringHandler(
      [](const Object& o) {
        return o.labels().Get("app") == std::optional<std::string_view>("web");
      },
      inner));
  auto w = RunAndSync({MakePod("ns", "a", {.rv = "1"})}, "1");
  w->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "2", .labels = {{"app", "web"}}}));
  w->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "3", .labels = {{"app", "web"}}}));
  w->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "4"}));
  ASSERT_TRUE(inner->WaitFor(3));
  EXPECT_THAT(inner->events(), ElementsAre("ADD ns/a@2", "UPDATE ns/a@2->3", "DELETE ns/a@3"));
}

TEST_F(SharedInformerTest, B63WaitForCacheSyncReturnsFalseWhenStoppedFirst) {
  Make();
  lw_->PushListResult(StatusFromHttp(500, "InternalError", "down"));
  informer_->Run();
  std::thread stopper([&] {
    ASSERT_TRUE(lw_->WaitForLists(1));
    informer_->Stop();
  });
  EXPECT_FALSE(informer_->WaitForCacheSync(30s));
  stopper.join();
}

// A paged relist waits between pages while the informer drains (`max_replace_backlog`); a Stop
// that arrives while the list waits there must end it, not wait for a drain that has stopped.
TEST_F(SharedInformerTest, StopEndsAPagedListWaitingForTheInformerToDrain) {
  std::mutex gate_mu;
  std::condition_variable gate_cv;
  bool gate_open = false;
  std::atomic<bool> entered{false};
  // The index function runs on the drain: holding it holds every queued relist item.
  IndexFunc slow_index = [&](const Object& obj) -> std::vector<std::string> {
    entered = true;
    std::unique_lock l(gate_mu);
    gate_cv.wait(l, [&] { return gate_open; });
    return {std::string(obj.ns())};
  };
  Make(0ms, {{"slow", slow_index}});
  std::vector<ObjectPtr> first_page;
  for (int i = 0; i < 5000; ++i) first_page.push_back(MakePod("ns", "p" + std::to_string(i)));
  lw_->PushListResult(MakeList(std::move(first_page), "10", "next"));
  lw_->PushListResult(MakeList({MakePod("ns", "last")}, "10"));
  informer_->Run();
  ASSERT_TRUE(lw_->WaitForLists(2));  // the second page waits: 4,000 of the first are queued
  for (int i = 0; i < 10000 && !entered.load(); ++i) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(entered.load());

  std::promise<void> stopped;
  std::future<void> stop_done = stopped.get_future();
  std::thread stopper([&] {
    informer_->Stop();
    stopped.set_value();
  });
  while (!informer_->IsStopped()) std::this_thread::yield();
  {
    std::lock_guard l(gate_mu);
    gate_open = true;
  }
  gate_cv.notify_all();
  if (stop_done.wait_for(30s) != std::future_status::ready) {
    std::fprintf(stderr, "Stop() is still waiting for the paged list after 30 s\n");
    std::_Exit(1);  // the informer cannot be torn down; do not hang the suite
  }
  stopper.join();
}

// The informer is its cache's only writer: users get the read methods only, so an `Add` or
// `Delete` through `GetIndexer()` does not compile.
template <typename T>
concept WritableThroughPointer = requires(T p, ObjectPtr o) {
  p->Add(o);
};
static_assert(std::is_same_v<decltype(std::declval<const SharedIndexInformer&>().GetIndexer()),
                             std::shared_ptr<const Indexer>>);
static_assert(!WritableThroughPointer<std::shared_ptr<const Indexer>>);
static_assert(!WritableThroughPointer<decltype(std::declval<SharedIndexInformer&>().GetStore())>);

TEST_F(SharedInformerTest, GetIndexerIsAReadOnlyViewOfTheCache) {
  Make();
  RunAndSync({MakePod("ns1", "a")}, "10");
  std::shared_ptr<const Indexer> cache = informer_->GetIndexer();
  EXPECT_NE(cache->GetByKey("ns1/a"), nullptr);
  EXPECT_EQ(cache->List().size(), 1u);
}

TEST_F(SharedInformerTest, B06B07BareInformerHasOnlyTheIndexesGivenAndMoreCanBeAdded) {
  Make();
  EXPECT_TRUE(informer_->GetIndexer()->GetIndexers().empty());
  RunAndSync({MakePod("ns1", "a", {.node_name = "n1"}), MakePod("ns2", "b", {.node_name = "n1"})},
             "10");
  // After start, the objects already cached are indexed too.
  ASSERT_TRUE(informer_
                  ->AddIndexers({{"node",
                                  [](const Object& o) -> Result<std::vector<std::string>> {
                                    auto n = o.GetString("spec.nodeName");
                                    if (!n) return std::vector<std::string>{};
                                    return std::vector<std::string>{*n};
                                  }}})
                  .ok());
  auto on_n1 = informer_->GetIndexer()->ByIndex("node", "n1");
  ASSERT_TRUE(on_n1.has_value());
  EXPECT_EQ(on_n1->size(), 2u);
  EXPECT_EQ(informer_->AddIndexers({{"node", MetaNamespaceIndexFunc}}).code(),
            StatusCode::kAlreadyExists);
}

TEST_F(SharedInformerTest, B30RemovedHandlerStopsReceivingAndShutDownWaitsForIt) {
  Make();
  auto kept = AddRecorder();
  auto removed = std::make_shared<RecordingHandler>();
  auto reg = informer_->AddEventHandler(removed);
  ASSERT_TRUE(reg.has_value());
  auto w = RunAndSync({}, "10");
  w->Send(WatchEventType::kAdded, MakePod("ns", "a", {.rv = "11"}));
  ASSERT_TRUE(removed->WaitFor(1));
  ASSERT_TRUE(informer_->ShutDownEventHandler(*reg).ok());
  EXPECT_TRUE(informer_->RemoveEventHandler(*reg).ok());  // idempotent
  w->Send(WatchEventType::kAdded, MakePod("ns", "b", {.rv = "12"}));
  ASSERT_TRUE(kept->WaitFor(2));
  EXPECT_EQ(removed->size(), 1u);
}

TEST_F(SharedInformerTest, B20WatchErrorHandlerIsSetBeforeRunOnly) {
  Make();
  std::atomic<int> errors{0};
  ASSERT_TRUE(informer_->SetWatchErrorHandler([&](const Status&) { errors++; }).ok());
  lw_->PushListResult(StatusFromHttp(500, "InternalError", "down"));
  informer_->Run();
  ASSERT_TRUE(lw_->WaitForLists(1));
  for (int i = 0; i < 1000 && errors.load() == 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(errors.load(), 1);
  EXPECT_FALSE(informer_->SetWatchErrorHandler([](const Status&) {}).ok());
}

TEST_F(SharedInformerTest, ResyncNotificationsAreDistinguishableFromUpdates) {
  Make(1s);
  std::atomic<int> updates{0}, resyncs{0};
  auto reg = informer_->AddEventHandler(
      ResourceEventHandlerFuncs{.update = [&](const ObjectPtr&, const ObjectPtr&) { updates++; },
                                .resync = [&](const ObjectPtr&) { resyncs++; }});
  auto w = RunAndSync({MakePod("ns", "a", {.rv = "1"})}, "1");
  clock_->Advance(1s);
  w->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "2"}));
  for (int i = 0; i < 2000 && (updates.load() < 1 || resyncs.load() < 1); ++i) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(updates.load(), 1);
  EXPECT_EQ(resyncs.load(), 1);
}

TEST_F(SharedInformerTest, ListerReadsTheInformersCache) {
  Make(0ms, {{std::string(kNamespaceIndex), MetaNamespaceIndexFunc}});
  RunAndSync({MakePod("default", "a", {.labels = {{"app", "web"}}}),
              MakePod("default", "b", {.labels = {{"app", "db"}}}),
              MakePod("other", "c", {.labels = {{"app", "web"}}})},
             "10");
  Lister lister(informer_->GetIndexer(), {"", "pod"});
  auto web = lister.Namespace("default").List(*LabelSelector::Parse("app=web"));
  ASSERT_EQ(web.size(), 1u);
  EXPECT_EQ(web[0]->name(), "a");
  EXPECT_EQ(lister.List(LabelSelector::Everything()).size(), 3u);
  EXPECT_TRUE(IsNotFound(lister.Get("default", "zzz").error()));
}

// B25 belongs to the legacy DeltaFIFO, which merges two queued deletes of one key and drops a
// delete for a key it never knew. Our in-order FIFO keeps every event (B53: a DELETED for an
// uncached key still reaches handlers), so what the informer guarantees instead is that it never
// produces a second delete itself: a relist after a watch DELETED finds the key gone from the
// cache and queues no tombstone for it.
TEST_F(SharedInformerTest, B25WatchDeleteFollowedByARelistDeliversOneDelete) {
  Make();
  auto h = AddRecorder();
  auto w1 = RunAndSync({MakePod("ns", "a", {.rv = "1"}), MakePod("ns", "b", {.rv = "2"})}, "10");
  ASSERT_NE(w1, nullptr);
  ASSERT_TRUE(h->WaitFor(2));
  h->Take();
  w1->Send(WatchEventType::kDeleted, MakePod("ns", "a", {.rv = "11"}));
  // The watch then expires; the relist no longer has `a`.
  lw_->SetObjects({MakePod("ns", "b", {.rv = "2"})}, "20");
  Status gone = StatusFromHttp(410, "Expired", "too old resource version");
  w1->Send(ErrorEvent(gone));
  w1->End(gone);
  ASSERT_TRUE(clock_->WaitForTimers(1));
  clock_->Advance(2s);
  auto w2 = lw_->WaitForWatch(2);
  ASSERT_NE(w2, nullptr);
  // In order: once this add arrives, the relist before it has been applied.
  w2->Send(WatchEventType::kAdded, MakePod("ns", "c", {.rv = "21"}));
  ASSERT_TRUE(h->WaitFor(2));
  EXPECT_THAT(h->events(), ElementsAre("DELETE ns/a@11", "ADD ns/c@21"));
  EXPECT_EQ(informer_->Stats().deletes, 1u);
}

// B26: client-go's resync skips keys with queued changes so that it never delivers an object
// older than one already queued. Here the resync is itself a delta in the ordered queue: it
// re-delivers each object as the cache holds it after every earlier delta, and later changes
// follow it, so each handler sees one consistent history per object.
TEST_F(SharedInformerTest, B26ResyncNeverDeliversAStaleObject) {
  Make(1s);
  auto h = AddRecorder();
  auto w = RunAndSync({MakePod("ns", "a", {.rv = "1"})}, "10");
  ASSERT_TRUE(h->WaitFor(1));
  h->Take();
  w->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "11"}));
  clock_->Advance(1s);  // queues the resync behind the change
  w->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "12"}));
  ASSERT_TRUE(h->WaitFor(3));
  EXPECT_THAT(h->events(),
              ElementsAre("UPDATE ns/a@1->11", "RESYNC ns/a@11", "UPDATE ns/a@11->12"));
}

// B59: the periodic resync runs on the informer's clock and asks the server for nothing.
TEST_F(SharedInformerTest, B59PeriodicResyncMakesNoRequestToTheServer) {
  Make(5s);
  auto h = AddRecorder();
  RunAndSync({MakePod("ns", "a", {.rv = "1"}), MakePod("ns", "b", {.rv = "2"})}, "10");
  ASSERT_TRUE(h->WaitFor(2));
  h->Take();
  const size_t lists = lw_->list_calls().size();
  const size_t watches = lw_->watch_calls().size();
  EXPECT_EQ(clock_->PendingTimers(), 1u);  // the resync check, armed on the fake clock
  clock_->Advance(4s);
  EXPECT_EQ(h->size(), 0u);  // not due yet
  for (int round = 1; round <= 3; ++round) {
    clock_->Advance(round == 1 ? 1s : 5s);
    ASSERT_TRUE(h->WaitFor(2));
    EXPECT_THAT(h->Take(), UnorderedElementsAre("RESYNC ns/a@1", "RESYNC ns/b@2"));
  }
  EXPECT_EQ(lw_->list_calls().size(), lists);
  EXPECT_EQ(lw_->watch_calls().size(), watches);
  EXPECT_EQ(informer_->Stats().resyncs, 6u);
}

// Blocks an index function on chosen object names, so a test can hold the informer's delta
// processing at a known point while it queues more events.
class IndexGate {
 public:
  void Block(const std::string& name) {
    std::lock_guard<std::mutex> l(mu_);
    blocked_.insert(name);
  }
  void Release(const std::string& name) {
    std::lock_guard<std::mutex> l(mu_);
    blocked_.erase(name);
    cv_.notify_all();
  }
  bool WaitUntilHeld(const std::string& name) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, 10s, [&] { return held_.contains(name); });
  }
  IndexFunc Func() {
    return [this](const Object& o) -> Result<std::vector<std::string>> {
      std::string name(o.name());
      std::unique_lock<std::mutex> l(mu_);
      if (blocked_.contains(name)) {
        held_.insert(name);
        cv_.notify_all();
        cv_.wait(l, [&] { return !blocked_.contains(name); });
      }
      return std::vector<std::string>{name};
    };
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> blocked_, held_;
};

// B55: deltas queued together are applied in runs of distinct keys, one store lock per run; a
// repeated key starts a new run; handlers still get every notification in order.
TEST_F(SharedInformerTest, B53BatchedChunkReachesEveryHandlerInOrder) {
  Make();
  auto h1 = AddRecorder();
  auto h2 = AddRecorder();
  auto w = RunAndSync({}, "10");
  ASSERT_NE(w, nullptr);
  // One chunk of a watch stream: adds, updates of the same keys, then deletes, as one call.
  std::vector<WatchEvent> chunk;
  std::vector<std::string> want;
  int rv = 11;
  for (int i = 0; i < 100; ++i) {
    std::string name = "p" + std::to_string(i);
    chunk.push_back({WatchEventType::kAdded, MakePod("ns", name, {.rv = std::to_string(rv)}), {}});
    want.push_back("ADD ns/" + name + "@" + std::to_string(rv++));
  }
  for (int i = 0; i < 100; ++i) {
    std::string name = "p" + std::to_string(i);
    chunk.push_back(
        {WatchEventType::kModified, MakePod("ns", name, {.rv = std::to_string(rv)}), {}});
    want.push_back("UPDATE ns/" + name + "@" + std::to_string(rv - 100) + "->" +
                   std::to_string(rv));
    ++rv;
  }
  for (int i = 0; i < 100; i += 2) {
    std::string name = "p" + std::to_string(i);
    chunk.push_back(
        {WatchEventType::kDeleted, MakePod("ns", name, {.rv = std::to_string(rv)}), {}});
    want.push_back("DELETE ns/" + name + "@" + std::to_string(rv++));
  }
  ASSERT_TRUE(w->SendBatch(std::move(chunk)));
  ASSERT_TRUE(h1->WaitFor(want.size()));
  ASSERT_TRUE(h2->WaitFor(want.size()));
  EXPECT_EQ(h1->events(), want);
  EXPECT_EQ(h2->events(), want);
  EXPECT_EQ(informer_->GetIndexer()->ListKeys().size(), 50u);
  EXPECT_EQ(informer_->LastSyncResourceVersion(), std::to_string(rv - 1));
}

TEST_F(SharedInformerTest, B55DistinctKeysAreWrittenTogetherAndARepeatedKeyEndsTheBatch) {
  auto gate = std::make_shared<IndexGate>();
  Make(0ms, {{"name", gate->Func()}});
  auto h = AddRecorder();
  auto w = RunAndSync({}, "10");
  gate->Block("gate");
  const uint64_t locks_before = informer_->Stats().store_write_locks;
  w->Send(WatchEventType::kAdded, MakePod("ns", "gate", {.rv = "11"}));
  ASSERT_TRUE(gate->WaitUntilHeld("gate"));  // processing is held; the rest queues up
  w->Send(WatchEventType::kAdded, MakePod("ns", "a", {.rv = "12"}));
  w->Send(WatchEventType::kAdded, MakePod("ns", "b", {.rv = "13"}));
  w->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "14"}));  // repeats `a`
  w->Send(WatchEventType::kDeleted, MakePod("ns", "b", {.rv = "15"}));
  w->Send(WatchEventType::kAdded, MakePod("ns", "c", {.rv = "16"}));
  gate->Release("gate");
  ASSERT_TRUE(h->WaitFor(6));
  EXPECT_THAT(h->events(), ElementsAre("ADD ns/gate@11", "ADD ns/a@12", "ADD ns/b@13",
                                       "UPDATE ns/a@12->14", "DELETE ns/b@15", "ADD ns/c@16"));
  // One lock for `gate`, one for [a, b], one for [a, b (delete), c].
  EXPECT_EQ(informer_->Stats().store_write_locks - locks_before, 3u);
  EXPECT_THAT(informer_->GetIndexer()->ListKeys(), UnorderedElementsAre("ns/gate", "ns/a", "ns/c"));
}

// B55: a batch becomes visible to listers all at once, never half applied.
TEST_F(SharedInformerTest, B55ListersNeverSeeAHalfAppliedBatch) {
  auto gate = std::make_shared<IndexGate>();
  Make(0ms, {{"name", gate->Func()}});
  auto h = AddRecorder();
  auto w = RunAndSync({}, "10");
  gate->Block("gate");
  w->Send(WatchEventType::kAdded, MakePod("ns", "gate", {.rv = "11"}));
  ASSERT_TRUE(gate->WaitUntilHeld("gate"));
  w->Send(WatchEventType::kAdded, MakePod("ns", "a", {.rv = "12"}));
  w->Send(WatchEventType::kAdded, MakePod("ns", "b", {.rv = "13"}));
  gate->Block("b");
  gate->Release("gate");
  // The batch [a, b] is being prepared: `a` is indexed, `b` is held.
  ASSERT_TRUE(gate->WaitUntilHeld("b"));
  EXPECT_EQ(informer_->GetIndexer()->GetByKey("ns/a"), nullptr);
  EXPECT_EQ(informer_->GetIndexer()->Size(), 1u);
  gate->Release("b");
  ASSERT_TRUE(h->WaitFor(3));
  EXPECT_EQ(informer_->GetIndexer()->Size(), 3u);
}

// B55: the initial list is written about a thousand objects per exclusive store lock (client-go's
// batch size), not one lock per object.
TEST_F(SharedInformerTest, B55InitialListTakesOneStoreLockPerThousandObjects) {
  Make();
  auto h = AddRecorder();
  constexpr int kObjects = 20000;
  std::vector<ObjectPtr> pods;
  pods.reserve(kObjects);
  for (int i = 0; i < kObjects; ++i) {
    pods.push_back(MakePod("ns", "p" + std::to_string(i), {.rv = std::to_string(i + 1)}));
  }
  RunAndSync(std::move(pods), "100000");
  ASSERT_TRUE(informer_->WaitForHandlersSync(30s));
  InformerStats s = informer_->Stats();
  EXPECT_EQ(s.objects_cached, static_cast<size_t>(kObjects));
  EXPECT_EQ(s.adds, static_cast<uint64_t>(kObjects));
  EXPECT_EQ(h->size(), static_cast<size_t>(kObjects));
  // 20 batches, plus the relist's end (a bookmark) and a few short batches where the FIFO was
  // popped while a page was still arriving.
  EXPECT_LE(s.store_write_locks, 30u);
  RecordProperty("store_write_locks", std::to_string(s.store_write_locks));
}

ObjectPtr InitialEventsEnd(std::string_view rv) {
  return ::kube::testing::MustParse(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"resourceVersion":")" + std::string(rv) +
      R"(","annotations":{"k8s.io/initial-events-end":"true"}}})");
}

ObjectPtr PodWithManagedFields(std::string_view name, std::string_view rv) {
  return ::kube::testing::MustParse(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + std::string(name) +
      R"(","namespace":"ns","uid":"uid-)" + std::string(name) + R"(","resourceVersion":")" +
      std::string(rv) + R"(","managedFields":[{"manager":"kubectl"}]}})");
}

class WatchListCheckTest : public SharedInformerTest {
 protected:
  // A watch-list informer with the B60 check, dropping managed fields, recording watch errors.
  void MakeChecked(bool by_option = true) {
    SharedInformerOptions o;
    o.name = "pods";
    o.clock = clock_;
    o.reflector.random_seed = 1;
    o.reflector.watch_progress_timeout = 0ms;
    o.reflector.use_watch_list = true;
    o.reflector.watch_list_consistency_check = by_option;
    informer_ = internal::NewSharedIndexInformer(lw_, std::move(o), executor_);
    ASSERT_TRUE(informer_->SetTransform(DropManagedFields).ok());
    ASSERT_TRUE(informer_
                    ->SetWatchErrorHandler([this](const Status& s) {
                      std::lock_guard<std::mutex> l(mu_);
                      errors_.push_back(s);
                      cv_.notify_all();
                    })
                    .ok());
  }
  bool WaitForErrors(size_t n) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, 10s, [&] { return errors_.size() >= n; });
  }
  std::vector<Status> errors() {
    std::lock_guard<std::mutex> l(mu_);
    return errors_;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Status> errors_;
};

TEST_F(WatchListCheckTest, B60ConsistentWatchListIsComparedAfterTheTransform) {
  MakeChecked();
  auto h = AddRecorder();
  // The list returns the same objects without managed fields: equal once transformed.
  lw_->PushListResult(MakeList({DropManagedFields(PodWithManagedFields("a", "5")),
                                DropManagedFields(PodWithManagedFields("b", "6"))},
                               "20"));
  informer_->Run();
  auto w = lw_->WaitForWatch(1);
  ASSERT_NE(w, nullptr);
  w->Send(WatchEventType::kAdded, PodWithManagedFields("a", "5"));
  w->Send(WatchEventType::kAdded, PodWithManagedFields("b", "6"));
  w->Send(WatchEventType::kBookmark, InitialEventsEnd("20"));
  ASSERT_TRUE(lw_->WaitForLists(1));
  ListOptions check = lw_->list_calls()[0];
  EXPECT_EQ(check.resource_version, "20");
  EXPECT_EQ(check.resource_version_match, ResourceVersionMatch::kExact);
  // The stream goes on as a watch; once this event is delivered the check has long finished.
  w->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "21", .uid = "uid-a"}));
  ASSERT_TRUE(h->WaitFor(3));
  // The check runs on the reflector's queue; a second watch-list would follow it. Give it the
  // chance to report (it must not).
  informer_->Stop();
  EXPECT_THAT(errors(), IsEmpty());
}

TEST_F(WatchListCheckTest, B60InconsistencyIsReportedWithTheKeysAndTheInformerGoesOn) {
  MakeChecked();
  auto h = AddRecorder();
  lw_->PushListResult(MakeList({DropManagedFields(PodWithManagedFields("a", "5")),
                                PodWithManagedFields("b", "9"),   // differs
                                PodWithManagedFields("d", "7")},  // not streamed
                               "20"));
  informer_->Run();
  auto w = lw_->WaitForWatch(1);
  ASSERT_NE(w, nullptr);
  w->Send(WatchEventType::kAdded, PodWithManagedFields("a", "5"));
  w->Send(WatchEventType::kAdded, PodWithManagedFields("b", "6"));
  w->Send(WatchEventType::kAdded, PodWithManagedFields("c", "8"));  // not listed
  w->Send(WatchEventType::kBookmark, InitialEventsEnd("20"));
  ASSERT_TRUE(WaitForErrors(1));
  Status err = errors()[0];
  EXPECT_EQ(err.code(), StatusCode::kDataLoss);
  EXPECT_THAT(err.message(), ::testing::HasSubstr("3 object(s) differ"));
  EXPECT_THAT(err.message(), ::testing::HasSubstr("ns/b, ns/c, ns/d"));
  EXPECT_THAT(err.message(), ::testing::Not(::testing::HasSubstr("ns/a")));
  // Not fatal: the informer keeps its cache from the stream and keeps watching.
  w->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "21", .uid = "uid-a"}));
  ASSERT_TRUE(h->WaitFor(4));
  EXPECT_EQ(h->events().back(), "UPDATE ns/a@5->21");
  EXPECT_FALSE(informer_->IsStopped());
}

TEST_F(WatchListCheckTest, B60EnvironmentVariableTurnsTheCheckOn) {
  ASSERT_EQ(setenv("KUBE_WATCHLIST_INCONSISTENCY_DETECTOR", "true", 1), 0);
  MakeChecked(/*by_option=*/false);
  lw_->PushListResult(MakeList({}, "20"));
  informer_->Run();  // the reflector reads the variable as it is created
  unsetenv("KUBE_WATCHLIST_INCONSISTENCY_DETECTOR");
  auto w = lw_->WaitForWatch(1);
  ASSERT_NE(w, nullptr);
  w->Send(WatchEventType::kAdded, PodWithManagedFields("a", "5"));
  w->Send(WatchEventType::kBookmark, InitialEventsEnd("20"));
  ASSERT_TRUE(WaitForErrors(1));
  EXPECT_THAT(errors()[0].message(), ::testing::HasSubstr("ns/a"));
}

TEST_F(SharedInformerTest, StatsCountDeltasListsWatchesAndHandlers) {
  Make();  // resyncs are counted in B59's test
  auto fast = AddRecorder({.name = "fast"});
  auto slow = std::make_shared<RecordingHandler>();
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  slow->hook = [&](const std::string& e) {
    if (e.find("ns/c") == std::string::npos) return;
    std::unique_lock<std::mutex> l(m);
    cv.wait(l, [&] { return release; });
  };
  ASSERT_TRUE(informer_->AddEventHandler(slow, {.name = "slow"}).has_value());
  EXPECT_EQ(informer_->Stats().lists, 0u);
  EXPECT_EQ(informer_->Stats().last_sync_resource_version, "");
  auto w1 = RunAndSync({MakePod("ns", "a", {.rv = "1"}), MakePod("ns", "b", {.rv = "2"})}, "10");
  w1->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "11"}));
  w1->Send(WatchEventType::kDeleted, MakePod("ns", "b", {.rv = "12"}));
  ASSERT_TRUE(fast->WaitFor(4));
  // The watch expires; the relist brings `c`. The slow handler stalls on it.
  lw_->SetObjects({MakePod("ns", "a", {.rv = "11"}), MakePod("ns", "c", {.rv = "15"})}, "20");
  Status gone = StatusFromHttp(410, "Expired", "too old");
  w1->Send(ErrorEvent(gone));
  w1->End(gone);
  ASSERT_TRUE(clock_->WaitForTimers(1));  // the backoff
  clock_->Advance(2s);
  auto w2 = lw_->WaitForWatch(2);
  ASSERT_NE(w2, nullptr);
  w2->Send(WatchEventType::kAdded, MakePod("ns", "d", {.rv = "21"}));
  ASSERT_TRUE(fast->WaitFor(6));
  for (int i = 0; i < 2000 && fast->events().back() != "ADD ns/d@21"; ++i) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(fast->events().back(), "ADD ns/d@21");
  clock_->Advance(3s);  // the slow handler's oldest notification is now >= 3 s old

  // The fast handler has recorded `d` but may still be returning from it: then its lag counts
  // the call in progress. It is idle a moment later.
  InformerStats s = informer_->Stats();
  for (int i = 0; i < 2000 && s.handlers[0].lag != std::chrono::nanoseconds(0); ++i) {
    std::this_thread::sleep_for(1ms);
    s = informer_->Stats();
  }
  EXPECT_EQ(s.objects_cached, 3u);  // a, c, d
  EXPECT_EQ(s.adds, 4u);            // a, b, c, d
  EXPECT_EQ(s.updates, 1u);         // a 1 -> 11
  EXPECT_EQ(s.deletes, 1u);         // b
  EXPECT_EQ(s.resyncs, 0u);         // `a` came back unchanged, but no handler was due for a resync
  EXPECT_EQ(s.lists, 2u);
  EXPECT_EQ(s.relists, 1u);
  EXPECT_EQ(s.watches, 2u);
  EXPECT_EQ(s.watch_restarts, 1u);
  EXPECT_EQ(s.relists_after_gone, 1u);
  EXPECT_EQ(s.last_sync_resource_version, "21");
  ASSERT_EQ(s.handlers.size(), 2u);
  EXPECT_EQ(s.handlers[0].name, "fast");
  EXPECT_EQ(s.handlers[0].queue_depth, 0u);
  EXPECT_EQ(s.handlers[0].lag, std::chrono::nanoseconds(0));
  EXPECT_EQ(s.handlers[0].delivered, fast->size());
  EXPECT_EQ(s.handlers[1].name, "slow");
  EXPECT_GE(s.handlers[1].queue_depth, 1u);  // `d` waits behind the stalled `c`
  EXPECT_GE(s.handlers[1].lag, std::chrono::nanoseconds(3s));
  {
    std::lock_guard<std::mutex> l(m);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(slow->WaitFor(fast->size()));
  // Delivered, and returned from the last call (a call in progress counts in the lag).
  s = informer_->Stats();
  for (int i = 0; i < 2000 && (s.handlers[1].delivered < fast->size() ||
                               s.handlers[1].lag != std::chrono::nanoseconds(0));
       ++i) {
    std::this_thread::sleep_for(1ms);
    s = informer_->Stats();
  }
  EXPECT_EQ(s.handlers[1].queue_depth, 0u);
  EXPECT_EQ(s.handlers[1].lag, std::chrono::nanoseconds(0));
  EXPECT_EQ(s.handlers[1].delivered, slow->size());
}

TEST_F(SharedInformerTest, StatsCountHandlerFailures) {
  Make();
  auto h = std::make_shared<RecordingHandler>();
  h->hook = [](const std::string& e) {
    if (e.find("ns/bad") != std::string::npos) throw std::runtime_error("handler bug");
  };
  ASSERT_TRUE(informer_->AddEventHandler(h).has_value());
  auto w = RunAndSync({}, "10");
  w->Send(WatchEventType::kAdded, MakePod("ns", "bad", {.rv = "11"}));
  w->Send(WatchEventType::kAdded, MakePod("ns", "good", {.rv = "12"}));
  ASSERT_TRUE(h->WaitFor(1));
  for (int i = 0; i < 2000 && informer_->Stats().handlers[0].delivered < 2; ++i) {
    std::this_thread::sleep_for(1ms);
  }
  InformerStats s = informer_->Stats();
  ASSERT_EQ(s.handlers.size(), 1u);
  EXPECT_EQ(s.handlers[0].delivered, 2u);
  EXPECT_EQ(s.handlers[0].failed, 1u);
}

// Read-your-writes (docs/informers.md): a wait returns once the cache, not just the reflector,
// holds the version, so a lister read right after sees the object.
TEST_F(SharedInformerTest, WaitForResourceVersionReturnsOnceTheEventIsInTheCache) {
  Make();
  auto w = RunAndSync({MakePod("ns", "a", {.rv = "5"})}, "10");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(informer_->CacheResourceVersion(), "10");
  std::thread writer([&] { w->Send(WatchEventType::kAdded, MakePod("ns", "c", {.rv = "11"})); });
  Status s = informer_->WaitForResourceVersion("11", 30s);
  writer.join();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_NE(informer_->GetIndexer()->GetByKey("ns/c"), nullptr);
  EXPECT_EQ(informer_->CacheResourceVersion(), "11");
}

TEST_F(SharedInformerTest, WaitForResourceVersionIsAnsweredByABookmark) {
  Make();
  auto w = RunAndSync({}, "10");
  ASSERT_NE(w, nullptr);
  std::promise<Status> answer;
  std::thread waiter([&] { answer.set_value(informer_->WaitForResourceVersion("20", 30s)); });
  // An event below the target moves the cache but answers nothing; the bookmark does.
  w->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "12"}));
  w->Send(WatchEventType::kBookmark, MakePod("", "", {.rv = "20"}));
  Status s = answer.get_future().get();
  waiter.join();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(informer_->CacheResourceVersion(), "20");
}

TEST_F(SharedInformerTest, WaitForResourceVersionTimeoutIsDeadlineExceededNamingBothVersions) {
  Make();
  auto w = RunAndSync({}, "10");
  ASSERT_NE(w, nullptr);
  Status s = informer_->WaitForResourceVersion("50", 20ms);
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s;
  EXPECT_THAT(s.message(), ::testing::HasSubstr("informer pods is at resourceVersion 10"));
  EXPECT_THAT(s.message(), ::testing::HasSubstr("not yet at resourceVersion 50"));
  // The timed-out waiter is gone: a later event answers only the waiters still there.
  w->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "50"}));
  EXPECT_TRUE(informer_->WaitForResourceVersion("50", 30s).ok());
}

TEST_F(SharedInformerTest, WaitForAnOpaqueVersionIsInvalidArgumentUnlessEqual) {
  Make();
  auto w = RunAndSync({}, "10");
  ASSERT_NE(w, nullptr);
  for (const char* rv : {"", "abc", "-1", "+1", " 1", "1.0", "123456789012345678901"}) {
    SCOPED_TRACE(rv);
    Status s = informer_->WaitForResourceVersion(rv, 10s);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  }
  EXPECT_THAT(informer_->WaitForResourceVersion("abc", 10s).message(),
              ::testing::HasSubstr(R"(resourceVersion "abc" is not an unsigned decimal number)"));
}

TEST_F(SharedInformerTest, ServerWithOpaqueVersionsAnswersEqualityOnlyAndRefusesOrdering) {
  Make();
  auto w = RunAndSync({}, "v-10");
  ASSERT_NE(w, nullptr);
  EXPECT_TRUE(informer_->WaitForResourceVersion("v-10", 0ms).ok());
  EXPECT_EQ(informer_->WaitForResourceVersion("v-11", 0ms).code(), StatusCode::kInvalidArgument);
  Status s = informer_->WaitForResourceVersion("11", 10s);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(s.message(), ::testing::HasSubstr("cannot be ordered"));
}

TEST_F(SharedInformerTest, WaitForResourceVersionBeforeTheFirstListWaitsForIt) {
  Make();
  lw_->SetObjects({}, "10");
  std::promise<Status> answer;
  std::thread waiter([&] { answer.set_value(informer_->WaitForResourceVersion("10", 30s)); });
  informer_->Run();
  Status s = answer.get_future().get();
  waiter.join();
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(SharedInformerTest, StopAnswersEveryWaiterWithCancelled) {
  Make();
  auto w = RunAndSync({}, "10");
  ASSERT_NE(w, nullptr);
  std::vector<std::future<Status>> answers;
  for (int i = 0; i < 4; ++i) {
    answers.push_back(std::async(std::launch::async, [&, i] {
      return informer_->WaitForResourceVersion(std::to_string(100 + i), 60s);
    }));
  }
  informer_->Stop();
  for (auto& a : answers) {
    Status s = a.get();
    EXPECT_EQ(s.code(), StatusCode::kCancelled) << s;
  }
  // A version the stopped cache reflects is still answered; any other is cancelled at once.
  EXPECT_TRUE(informer_->WaitForResourceVersion("10", 60s).ok());
  EXPECT_EQ(informer_->WaitForResourceVersion("11", 60s).code(), StatusCode::kCancelled);
}

TEST_F(SharedInformerTest, StopTokenCancelsAWait) {
  Make();
  auto w = RunAndSync({}, "10");
  ASSERT_NE(w, nullptr);
  std::stop_source stop;
  auto answer = std::async(std::launch::async, [&] {
    return informer_->WaitForResourceVersion("50", 60s, stop.get_token());
  });
  stop.request_stop();
  Status s = answer.get();
  EXPECT_EQ(s.code(), StatusCode::kCancelled) << s;
  EXPECT_THAT(s.message(), ::testing::HasSubstr("stop requested"));
  // The informer goes on; a token already stopped cancels at once.
  EXPECT_EQ(informer_->WaitForResourceVersion("50", 60s, stop.get_token()).code(),
            StatusCode::kCancelled);
  EXPECT_TRUE(informer_->WaitForResourceVersion("10", 0ms, stop.get_token()).ok());
}

}  // namespace
}  // namespace kube
