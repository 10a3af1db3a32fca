// Storage: resourceVersions, snapshots from history, watcher queues.
#include "server/storage.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>

#include "tests/testing/objects.h"

namespace kube::server {
namespace {

using ::kube::testing::MakeObject;
using ::testing::ElementsAre;

const GroupVersionResource kCm{"", "v1", "configmaps"};
const GroupVersionResource kSecrets{"", "v1", "secrets"};

// Puts `name` in `ns` with data value `v`.
void Put(Storage& s, const GroupVersionResource& gvr, const std::string& ns,
         const std::string& name, const std::string& v = "v") {
  auto r = s.Mutate(
      gvr, StorageKey(ns, name), [&](const ObjectPtr&, uint64_t rv) -> ApiOr<Storage::Change> {
        return Storage::Change{Storage::Change::Op::kPut,
                               MakeObject("v1", "ConfigMap", ns, name, std::to_string(rv), {},
                                          R"("data":{"k":")" + v + R"("})")};
      });
  ASSERT_TRUE(r.ok());
}

void Remove(Storage& s, const std::string& ns, const std::string& name) {
  auto r = s.Mutate(kCm, StorageKey(ns, name),
                    [&](const ObjectPtr&, uint64_t) -> ApiOr<Storage::Change> {
                      return Storage::Change{Storage::Change::Op::kDelete, nullptr};
                    });
  ASSERT_TRUE(r.ok());
}

std::vector<std::string> Names(const Storage::ListPage& page) {
  std::vector<std::string> out;
  for (const auto& o : page.items) out.emplace_back(o->name());
  return out;
}

TEST(StorageTest, EveryCommitGetsTheNextVersion) {
  Storage s({});
  EXPECT_EQ(s.CurrentRv(), 0u);
  Put(s, kCm, "default", "a");
  Put(s, kSecrets, "default", "b");
  Remove(s, "default", "a");
  EXPECT_EQ(s.CurrentRv(), 3u);
  EXPECT_EQ(s.Get(kCm, "default/a"), nullptr);
  EXPECT_NE(s.Get(kSecrets, "default/b"), nullptr);
}

TEST(StorageTest, NoOpChangeConsumesNoVersion) {
  Storage s({});
  auto r = s.Mutate(kCm, "default/a", [](const ObjectPtr&, uint64_t) -> ApiOr<Storage::Change> {
    return Storage::Change{};
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(s.CurrentRv(), 0u);
}

TEST(StorageTest, MutationErrorsPassThrough) {
  Storage s({});
  auto r = s.Mutate(kCm, "default/a", [](const ObjectPtr&, uint64_t) -> ApiOr<Storage::Change> {
    return BadRequest("no");
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 400);
}

TEST(StorageTest, ListAtOlderVersionUndoesLaterChanges) {
  Storage s({});
  Put(s, kCm, "default", "a");
  Put(s, kCm, "default", "b");
  Put(s, kCm, "other", "z");
  uint64_t then = s.CurrentRv();
  Put(s, kCm, "default", "c");       // added later
  Remove(s, "default", "a");         // removed later
  Put(s, kCm, "default", "b", "2");  // changed later
  Put(s, kCm, "default", "b", "3");  // changed again
  auto page = s.List(kCm, {.ns = "default", .at_rv = then});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->rv, then);
  EXPECT_THAT(Names(*page), ElementsAre("a", "b"));
  EXPECT_EQ(page->items[1]->GetString("data.k").value_or(""), "v");
  auto now = s.List(kCm, {.ns = "default"});
  ASSERT_TRUE(now.ok());
  EXPECT_THAT(Names(*now), ElementsAre("b", "c"));
}

TEST(StorageTest, ListPagesAndCountsRemaining) {
  Storage s({});
  for (const char* n : {"a", "b", "c", "d", "e"}) Put(s, kCm, "default", n);
  Put(s, kCm, "zzz", "x");
  auto p1 = s.List(kCm, {.ns = "default", .limit = 2, .count_remaining = true});
  ASSERT_TRUE(p1.ok());
  EXPECT_THAT(Names(*p1), ElementsAre("a", "b"));
  EXPECT_TRUE(p1->more);
  EXPECT_EQ(p1->remaining, 3);
  auto p2 = s.List(
      kCm, {.ns = "default", .after_key = p1->last_key, .limit = 3, .count_remaining = true});
  ASSERT_TRUE(p2.ok());
  EXPECT_THAT(Names(*p2), ElementsAre("c", "d", "e"));
  EXPECT_FALSE(p2->more);
}

// Pages through `ns` at `rv` with pages of `limit`, carrying the position like the router's
// continue token does (`carry` false: an unknown position, counted by walking). Returns
// (names, remaining) of each page.
std::vector<std::pair<std::vector<std::string>, int64_t>> PageThrough(const Storage& s,
                                                                      const std::string& ns,
                                                                      uint64_t rv, size_t limit,
                                                                      bool carry) {
  std::vector<std::pair<std::vector<std::string>, int64_t>> pages;
  Storage::ListQuery q{.ns = ns, .at_rv = rv, .limit = limit, .count_remaining = true};
  for (int guard = 0; guard < 100; ++guard) {
    auto page = s.List(kCm, q);
    EXPECT_TRUE(page.ok());
    if (!page.ok()) break;
    EXPECT_EQ(page->rv, rv);
    pages.emplace_back(Names(*page), page->more ? page->remaining : 0);
    if (!page->more) break;
    q.after_key = page->last_key;
    q.after_count = carry ? page->position : std::nullopt;
  }
  return pages;
}

TEST(StorageTest, RemainingCountFromThePositionMatchesAWalkAtAnOlderSnapshot) {
  Storage s({});
  for (int i = 0; i < 9; ++i) Put(s, kCm, "default", "n" + std::to_string(i));
  Put(s, kCm, "aaa", "before");  // other namespaces on both sides of `default`
  Put(s, kCm, "zzz", "after");
  uint64_t then = s.CurrentRv();
  // Changes after the snapshot: the pages must still count what existed then.
  Put(s, kCm, "default", "n10");
  Remove(s, "default", "n3");
  Put(s, kCm, "default", "n5", "changed");
  Remove(s, "zzz", "after");
  for (const std::string ns : {"default", ""}) {
    SCOPED_TRACE(ns);
    auto fast = PageThrough(s, ns, then, 4, /*carry=*/true);
    auto walked = PageThrough(s, ns, then, 4, /*carry=*/false);
    EXPECT_EQ(fast, walked);
    size_t total = ns.empty() ? 11 : 9;
    ASSERT_EQ(fast.size(), (total + 3) / 4);
    size_t seen = 0;
    for (const auto& [names, remaining] : fast) {
      seen += names.size();
      EXPECT_EQ(remaining, static_cast<int64_t>(total - seen));
    }
  }
}

TEST(StorageTest, PositionThatDoesNotFitTheSnapshotFallsBackToCounting) {
  Storage s({});
  for (const char* n : {"a", "b", "c", "d", "e"}) Put(s, kCm, "default", n);
  uint64_t rv = s.CurrentRv();
  for (size_t bogus : {size_t{4}, size_t{1000}, SIZE_MAX}) {
    SCOPED_TRACE(bogus);
    auto page = s.List(kCm, {.ns = "default",
                             .at_rv = rv,
                             .after_key = "default/a",
                             .after_count = bogus,
                             .limit = 2,
                             .count_remaining = true});
    ASSERT_TRUE(page.ok());
    EXPECT_THAT(Names(*page), ElementsAre("b", "c"));
    EXPECT_EQ(page->remaining, 2);
    EXPECT_EQ(page->position, 3u);
  }
}

TEST(StorageTest, SelectorsGetNoRemainingCount) {
  Storage s({});
  for (const char* n : {"a", "b", "c", "d"}) Put(s, kCm, "default", n);
  auto page = s.List(kCm, {.ns = "default",
                           .limit = 1,
                           .filter = [](const Object& o) { return o.name() != "b"; },
                           .count_remaining = true});
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->more);
  EXPECT_EQ(page->remaining, 0);
  EXPECT_FALSE(page->position.has_value());
}

TEST(StorageTest, NamespaceCountsFollowDeletesOfNamespacesAndResources) {
  Storage s({});
  for (const char* n : {"a", "b", "c"}) Put(s, kCm, "gone", n);
  for (const char* n : {"a", "b", "c"}) Put(s, kCm, "kept", n);
  s.RemoveNamespaceContents("gone");
  Put(s, kCm, "gone", "y");
  Put(s, kCm, "gone", "z");
  auto page = s.List(kCm, {.ns = "gone", .limit = 1, .count_remaining = true});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->remaining, 1);
  auto kept = s.List(kCm, {.ns = "kept", .limit = 1, .count_remaining = true});
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->remaining, 2);
  s.RemoveResource(kCm);
  Put(s, kCm, "kept", "new");
  Put(s, kCm, "kept", "newer");
  kept = s.List(kCm, {.ns = "kept", .limit = 1, .count_remaining = true});
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->remaining, 1);
}

TEST(StorageTest, VersionsOutsideTheWindowAreRefused) {
  Storage s({.history_limit = 3});
  for (int i = 0; i < 6; ++i) Put(s, kCm, "default", "n" + std::to_string(i));
  EXPECT_EQ(s.CompactedRv(), 3u);
  auto old = s.List(kCm, {.at_rv = 2});
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code, 410);
  EXPECT_EQ(old.error().message, "too old resource version: 2 (3)");
  EXPECT_TRUE(s.List(kCm, {.at_rv = 3}).ok());
  auto future = s.List(kCm, {.at_rv = 99});
  ASSERT_FALSE(future.ok());
  EXPECT_EQ(future.error().code, 504);
  auto watch = s.Watch(kCm, "", 2, nullptr);
  ASSERT_FALSE(watch.ok());
  EXPECT_EQ(watch.error().code, 410);
}

TEST(StorageTest, HistoryIsBoundedInBytes) {
  // 150 updates of a 30 KiB object under a 256 KiB budget: the history keeps only the newest
  // events that fit, whatever the count limit allows, and stays bounded after the delete.
  constexpr size_t kBudget = 256 << 10;
  Storage s({.history_limit = 10000, .history_bytes_limit = kBudget});
  const std::string big(30 << 10, 'x');
  Put(s, kCm, "default", "big", big);
  const uint64_t first = s.CurrentRv();
  for (int i = 0; i < 150; ++i) {
    Put(s, kCm, "default", "big", big + std::to_string(i));
    ASSERT_LE(s.HistoryBytes(), kBudget);
  }
  Remove(s, "default", "big");
  EXPECT_LE(s.HistoryBytes(), kBudget);
  EXPECT_GT(s.HistoryBytes(), kBudget / 2);  // the budget is used, not merely respected
  EXPECT_LT(s.HistorySize(), 10u);
  EXPECT_GT(s.CompactedRv(), first);
  // What the budget dropped is compacted: 410 for a resume or exact list from before it.
  auto watch = s.Watch(kCm, "", first, nullptr);
  ASSERT_FALSE(watch.ok());
  EXPECT_EQ(watch.error().code, 410);
  auto list = s.List(kCm, {.at_rv = first});
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().code, 410);
  EXPECT_TRUE(s.Watch(kCm, "", s.CompactedRv(), nullptr).ok());
}

TEST(StorageTest, WatchFromAVersionNotReachedYetIsTooLarge) {
  Storage s({});
  Put(s, kCm, "default", "a");
  Put(s, kCm, "default", "b");
  auto w = s.Watch(kCm, "", 5, nullptr);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, 504);
  EXPECT_EQ(w.error().message, "Timeout: Too large resource version: 5, current: 2");
  ASSERT_EQ(w.error().causes.size(), 1u);
  EXPECT_EQ(w.error().causes[0].reason, "ResourceVersionTooLarge");
  EXPECT_EQ(w.error().causes[0].message, "Too large resource version");
  EXPECT_EQ(s.WatcherCount(), 0u);
  EXPECT_TRUE(s.Watch(kCm, "", 2, nullptr).ok());
}

TEST(StorageTest, AwaitRvFiresOnceTheVersionIsReached) {
  Storage s({});
  Put(s, kCm, "default", "a");
  EXPECT_EQ(s.AwaitRv(1, [] {}), nullptr);  // reached already
  int fired3 = 0, fired2 = 0, cancelled = 0;
  auto w3 = s.AwaitRv(3, [&] { ++fired3; });
  auto w2 = s.AwaitRv(2, [&] { ++fired2; });
  auto wc = s.AwaitRv(2, [&] { ++cancelled; });
  ASSERT_NE(w3, nullptr);
  s.CancelRvWait(wc);
  Put(s, kSecrets, "default", "s");  // any resource moves the version
  EXPECT_EQ(fired2, 1);
  EXPECT_EQ(fired3, 0);
  Put(s, kCm, "default", "b");
  Put(s, kCm, "default", "c");
  EXPECT_EQ(fired3, 1);  // once
  EXPECT_EQ(cancelled, 0);
  auto w9 = s.AwaitRv(9, [&] { ++fired3; });
  s.ReleaseRvWaiters();  // shutdown wakes every waiter
  EXPECT_EQ(fired3, 2);
  s.CancelRvWait(w9);  // harmless once fired
}

TEST(StorageTest, WatchReplaysHistoryThenFollows) {
  Storage s({});
  Put(s, kCm, "default", "a");
  Put(s, kSecrets, "default", "s");
  Put(s, kCm, "default", "b");
  int notified = 0;
  auto w = s.Watch(kCm, "", 1, [&] { ++notified; });
  ASSERT_TRUE(w.ok());
  Put(s, kCm, "default", "c");
  auto batch = w->watcher->Take(100);
  ASSERT_EQ(batch.events.size(), 2u);
  EXPECT_EQ(batch.events[0]->key, "default/b");
  EXPECT_EQ(batch.events[1]->key, "default/c");
  EXPECT_EQ(batch.events[1]->type, EventType::kAdded);
  EXPECT_GE(notified, 1);
  s.Unwatch(w->watcher);
  EXPECT_EQ(s.WatcherCount(), 0u);
}

TEST(StorageTest, WatchWithoutVersionReturnsCurrentObjects) {
  Storage s({});
  Put(s, kCm, "default", "a");
  Put(s, kCm, "other", "b");
  auto w = s.Watch(kCm, "default", std::nullopt, nullptr);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->initial.size(), 1u);
  EXPECT_EQ(w->initial[0]->name(), "a");
  EXPECT_EQ(w->rv, s.CurrentRv());
}

TEST(StorageTest, DeletedEventCarriesLastStateAtNewVersion) {
  Storage s({});
  Put(s, kCm, "default", "a", "last");
  auto w = s.Watch(kCm, "", s.CurrentRv(), nullptr);
  ASSERT_TRUE(w.ok());
  Remove(s, "default", "a");
  auto batch = w->watcher->Take(10);
  ASSERT_EQ(batch.events.size(), 1u);
  const StoredEvent& e = *batch.events[0];
  EXPECT_EQ(e.type, EventType::kDeleted);
  EXPECT_EQ(e.object->resource_version(), std::to_string(s.CurrentRv()));
  EXPECT_EQ(e.object->GetString("data.k").value_or(""), "last");
  EXPECT_EQ(e.previous->resource_version(), "1");
}

TEST(StorageTest, WatcherPastItsLimitIsClosed) {
  Storage s({.watch_queue_limit = 2});
  auto w = s.Watch(kCm, "", 0, nullptr);
  ASSERT_TRUE(w.ok());
  for (int i = 0; i < 3; ++i) Put(s, kCm, "default", "n" + std::to_string(i));
  auto batch = w->watcher->Take(10);
  EXPECT_EQ(batch.end, Watcher::End::kOverflow);
  EXPECT_TRUE(batch.events.empty());
}

TEST(StorageTest, CompactForgetsHistory) {
  Storage s({});
  Put(s, kCm, "default", "a");
  Put(s, kCm, "default", "b");
  s.Compact();
  EXPECT_EQ(s.CompactedRv(), 2u);
  EXPECT_FALSE(s.Watch(kCm, "", 1, nullptr).ok());
  EXPECT_TRUE(s.Watch(kCm, "", 2, nullptr).ok());
}

TEST(StorageTest, RemoveNamespaceContentsDeletesAcrossResources) {
  Storage s({});
  Put(s, kCm, "gone", "a");
  Put(s, kSecrets, "gone", "b");
  Put(s, kCm, "gone2", "keep");
  s.RemoveNamespaceContents("gone");
  EXPECT_EQ(s.ObjectCount(), 1u);
  EXPECT_NE(s.Get(kCm, "gone2/keep"), nullptr);
}

}  // namespace
}  // namespace kube::server
