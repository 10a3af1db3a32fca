#include "kube/cache/delta_fifo.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <stop_token>
#include <thread>

#include "tests/testing/objects.h"

namespace kube {
namespace {

using ::kube::testing::MakePod;
using ::testing::ElementsAre;

std::vector<std::string> Describe(const std::vector<Delta>& deltas) {
  std::vector<std::string> out;
  for (const Delta& d : deltas) {
    std::string s(DeltaTypeName(d.type));
    if (d.object)
      s += " " + std::string(d.object->name()) + "@" + std::string(d.object->resource_version());
    if (!d.resource_version.empty()) s += " rv=" + d.resource_version;
    out.push_back(s);
  }
  return out;
}

// Queues one delta through `Push`, as the reflector does with a watch chunk.
Status PushOne(DeltaFifo& fifo, DeltaType type, ObjectPtr obj, std::string rv = {}) {
  std::vector<Delta> one;
  one.push_back(Delta{type, std::move(obj), std::move(rv)});
  return fifo.Push(std::move(one));
}
Status Add(DeltaFifo& fifo, ObjectPtr obj) { return PushOne(fifo, DeltaType::kAdded, obj); }

// A whole relist: `ReplaceBegin`, one page, `ReplaceEnd`.
Status Replace(DeltaFifo& fifo, std::vector<ObjectPtr> items, std::string rv) {
  if (Status s = fifo.ReplaceBegin(); !s.ok()) return s;
  if (Status s = fifo.ReplaceItems(std::move(items)); !s.ok()) return s;
  return fifo.ReplaceEnd(std::move(rv));
}

TEST(DeltaFifoTest, B53DeliversEveryDeltaInArrivalOrderAcrossKeys) {
  DeltaFifo fifo({}, nullptr);
  ASSERT_TRUE(Add(fifo, MakePod("ns", "a", {.rv = "1"})).ok());
  ASSERT_TRUE(Add(fifo, MakePod("ns", "b", {.rv = "2"})).ok());
  ASSERT_TRUE(PushOne(fifo, DeltaType::kUpdated, MakePod("ns", "a", {.rv = "3"})).ok());
  ASSERT_TRUE(PushOne(fifo, DeltaType::kDeleted, MakePod("ns", "a", {.rv = "4"})).ok());
  ASSERT_TRUE(PushOne(fifo, DeltaType::kDeleted, MakePod("ns", "a", {.rv = "5"})).ok());
  // No per-key merging, no delete dedup: five deltas, in the order they came.
  EXPECT_THAT(Describe(fifo.PopBatch(100)),
              ElementsAre("Added a@1", "Added b@2", "Updated a@3", "Deleted a@4", "Deleted a@5"));
  EXPECT_TRUE(fifo.PopBatch(100).empty());
}

TEST(DeltaFifoTest, B23PopBatchHonoursTheLimitAndKeepsTheRest) {
  DeltaFifo fifo({}, nullptr);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Add(fifo, MakePod("ns", "p" + std::to_string(i))).ok());
  EXPECT_EQ(fifo.PopBatch(2).size(), 2u);
  EXPECT_EQ(fifo.PopBatch(100).size(), 3u);
  EXPECT_TRUE(fifo.PopBatch(100).empty());
}

TEST(DeltaFifoTest, B23ClosingRefusesPushes) {
  DeltaFifo fifo({}, nullptr);
  fifo.Close();
  EXPECT_EQ(Add(fifo, MakePod("ns", "a")).code(), StatusCode::kCancelled);
  EXPECT_EQ(fifo.Resync().code(), StatusCode::kCancelled);
  EXPECT_TRUE(fifo.PopBatch(10).empty());
}

TEST(DeltaFifoTest, B24ReplaceIsBracketedSoTheConsumerCanComputeDeletions) {
  DeltaFifo fifo({}, nullptr);
  ASSERT_TRUE(Add(fifo, MakePod("ns", "queued", {.rv = "1"})).ok());
  ASSERT_TRUE(
      Replace(fifo, {MakePod("ns", "a", {.rv = "2"}), MakePod("ns", "b", {.rv = "3"})}, "10").ok());
  // The add queued before the relist stays ahead of it, so by the time the consumer reaches
  // ReplaceEnd the cache holds "queued", and its absence from the relist yields its deletion.
  EXPECT_THAT(Describe(fifo.PopBatch(100)),
              ElementsAre("Added queued@1", "ReplaceBegin", "Replaced a@2", "Replaced b@3",
                          "ReplaceEnd rv=10"));
}

TEST(DeltaFifoTest, StreamedReplaceWaitsWhileTheRelistBacklogIsFull) {
  DeltaFifo::Options o;
  o.max_replace_backlog = 2;
  DeltaFifo fifo(std::move(o), nullptr);
  ASSERT_TRUE(fifo.ReplaceBegin().ok());
  ASSERT_TRUE(fifo.ReplaceItems({MakePod("ns", "a"), MakePod("ns", "b"), MakePod("ns", "c")}).ok());
  std::atomic<bool> second_page_queued{false};
  std::thread producer([&] {
    ASSERT_TRUE(fifo.ReplaceItems({MakePod("ns", "d")}).ok());
    second_page_queued = true;
  });
  // The producer is held back until the consumer drains below the backlog limit.
  EXPECT_EQ(fifo.PopBatch(3).size(), 3u);  // ReplaceBegin, a, b
  producer.join();
  EXPECT_TRUE(second_page_queued);
  EXPECT_THAT(Describe(fifo.PopBatch(100)), ElementsAre("Replaced c@1", "Replaced d@1"));
}

TEST(DeltaFifoTest, StreamedReplaceReturnsCancelledWhenClosedWhileWaiting) {
  DeltaFifo::Options o;
  o.max_replace_backlog = 1;
  DeltaFifo fifo(std::move(o), nullptr);
  ASSERT_TRUE(fifo.ReplaceItems({MakePod("ns", "a"), MakePod("ns", "b")}).ok());
  Status s;
  std::thread producer([&] { s = fifo.ReplaceItems({MakePod("ns", "c")}); });
  fifo.Close();
  producer.join();
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
}

TEST(DeltaFifoTest, StreamedReplaceReturnsCancelledWhenStoppedWhileWaiting) {
  DeltaFifo::Options o;
  o.max_replace_backlog = 1;
  DeltaFifo fifo(std::move(o), nullptr);
  ASSERT_TRUE(fifo.ReplaceItems({MakePod("ns", "a"), MakePod("ns", "b")}).ok());
  std::stop_source stop;
  Status s;
  std::thread producer([&] { s = fifo.ReplaceItems({MakePod("ns", "c")}, stop.get_token()); });
  stop.request_stop();
  producer.join();
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
  EXPECT_THAT(Describe(fifo.PopBatch(100)), ElementsAre("Replaced a@1", "Replaced b@1"));
}

TEST(DeltaFifoTest, OnReadyFiresWhenTheQueueBecomesNonEmpty) {
  std::atomic<int> ready{0};
  DeltaFifo fifo({}, [&] { ready.fetch_add(1); });
  ASSERT_TRUE(Add(fifo, MakePod("ns", "a")).ok());
  ASSERT_TRUE(Add(fifo, MakePod("ns", "b")).ok());
  EXPECT_EQ(ready.load(), 1);  // only the empty -> non-empty transition
  fifo.PopBatch(10);
  ASSERT_TRUE(PushOne(fifo, DeltaType::kBookmark, nullptr, "5").ok());
  EXPECT_EQ(ready.load(), 2);
}

TEST(DeltaFifoTest, B56TransformRunsOnceAsObjectsEnterTheQueue) {
  std::atomic<int> calls{0};
  DeltaFifo::Options o;
  o.transform = [&](ObjectPtr obj) {
    calls.fetch_add(1);
    return DropManagedFields(obj);
  };
  DeltaFifo fifo(std::move(o), nullptr);
  ASSERT_TRUE(Add(fifo, MakePod("ns", "a")).ok());
  ASSERT_TRUE(Replace(fifo, {MakePod("ns", "b"), MakePod("ns", "c")}, "9").ok());
  ASSERT_TRUE(fifo.Resync().ok());  // never transformed: there is no object
  ASSERT_TRUE(PushOne(fifo, DeltaType::kBookmark, nullptr, "10").ok());
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(fifo.PopBatch(100).size(), 7u);
}

TEST(DeltaFifoTest, B53PushQueuesABatchInOrderWithOneReadyCall) {
  std::atomic<int> ready{0};
  std::atomic<int> transformed{0};
  DeltaFifo::Options o;
  o.transform = [&](ObjectPtr obj) {
    transformed.fetch_add(1);
    return DropManagedFields(obj);
  };
  DeltaFifo fifo(std::move(o), [&] { ready.fetch_add(1); });
  ASSERT_TRUE(Add(fifo, MakePod("ns", "z", {.rv = "1"})).ok());
  std::vector<Delta> chunk;
  chunk.push_back({DeltaType::kAdded, MakePod("ns", "a", {.rv = "2"}), {}});
  chunk.push_back({DeltaType::kUpdated, MakePod("ns", "a", {.rv = "3"}), {}});
  chunk.push_back({DeltaType::kDeleted, MakePod("ns", "a", {.rv = "4"}), {}});
  chunk.push_back({DeltaType::kBookmark, nullptr, "5"});
  ASSERT_TRUE(fifo.Push(std::move(chunk)).ok());
  EXPECT_EQ(ready.load(), 1);        // the queue was not empty: no second wake-up
  EXPECT_EQ(transformed.load(), 4);  // B56: every object, once
  EXPECT_THAT(Describe(fifo.PopBatch(100)),
              ElementsAre("Added z@1", "Added a@2", "Updated a@3", "Deleted a@4", "Bookmark rv=5"));
  std::vector<Delta> next;
  next.push_back({DeltaType::kAdded, MakePod("ns", "b", {.rv = "6"}), {}});
  next.push_back({DeltaType::kAdded, MakePod("ns", "c", {.rv = "7"}), {}});
  ASSERT_TRUE(fifo.Push(std::move(next)).ok());
  EXPECT_EQ(ready.load(), 2);  // one call for the whole batch
  EXPECT_EQ(fifo.PopBatch(100).size(), 2u);
}

TEST(DeltaFifoTest, PushRejectsANullObjectAndQueuesNothing) {
  DeltaFifo fifo({}, nullptr);
  std::vector<Delta> chunk;
  chunk.push_back({DeltaType::kAdded, MakePod("ns", "a"), {}});
  chunk.push_back({DeltaType::kUpdated, nullptr, {}});
  EXPECT_EQ(fifo.Push(std::move(chunk)).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(fifo.PopBatch(100).empty());
  fifo.Close();
  std::vector<Delta> late;
  late.push_back({DeltaType::kAdded, MakePod("ns", "b"), {}});
  EXPECT_EQ(fifo.Push(std::move(late)).code(), StatusCode::kCancelled);
}

TEST(DeltaFifoTest, B54ResyncIsOneSyncAllDelta) {
  DeltaFifo fifo({}, nullptr);
  ASSERT_TRUE(fifo.Resync().ok());
  EXPECT_THAT(Describe(fifo.PopBatch(10)), ElementsAre("SyncAll"));
}

TEST(DeltaFifoTest, RejectsNullObjects) {
  DeltaFifo fifo({}, nullptr);
  EXPECT_EQ(Add(fifo, nullptr).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fifo.ReplaceItems({nullptr}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(fifo.PopBatch(100).empty());
}

}  // namespace
}  // namespace kube
