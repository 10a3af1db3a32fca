// Tests for ThreadSafeStore: keys, store semantics, indexes and the last-write version
// (B01-B08 and B49 of docs/behaviours.md; the lister ones, B09-B10, are in lister_test.cc).
#include "kube/cache/thread_safe_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "kube/cache/store.h"
#include "kube/labels.h"
#include "kube/object_key.h"
#include "kube/status.h"
#include "tests/testing/objects.h"

namespace kube {
namespace {

using ::kube::testing::MakeObject;
using ::kube::testing::MakePod;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// Index function: the `app` label, if any.
Result<std::vector<std::string>> AppIndexFunc(const Object& obj) {
  std::vector<std::string> out;
  if (auto app = obj.labels().Get("app")) out.emplace_back(*app);
  return out;
}

// Index function: every comma-separated value of the `tags` label (several values per object).
Result<std::vector<std::string>> TagsIndexFunc(const Object& obj) {
  std::vector<std::string> out;
  auto tags = obj.labels().Get("tags");
  if (!tags) return out;
  std::string_view rest = *tags;
  while (!rest.empty()) {
    size_t dot = rest.find('.');
    out.emplace_back(rest.substr(0, dot));
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return out;
}

// Index function that refuses objects labelled `reject=yes`.
Result<std::vector<std::string>> PickyIndexFunc(const Object& obj) {
  if (obj.labels().Get("reject") == "yes") return InvalidArgumentError("rejected by picky");
  return std::vector<std::string>{"all"};
}

Indexers StandardIndexers() {
  return Indexers{{std::string(kNamespaceIndex), MetaNamespaceIndexFunc}, {"app", AppIndexFunc}};
}

ObjectPtr Pod(std::string_view ns, std::string_view name, std::string rv = "1",
              StringMap labels = {}) {
  testing::PodOptions opts;
  opts.rv = std::move(rv);
  opts.labels = std::move(labels);
  return MakePod(ns, name, opts);
}

// --- B01: keys -------------------------------------------------------------------------------

TEST(ThreadSafeStoreTest, B01NamespacedObjectIsFiledUnderNamespaceSlashName) {
  auto store = ThreadSafeStore::Create();
  ObjectPtr pod = Pod("default", "web");
  ASSERT_TRUE(store->Add(pod).ok());
  EXPECT_THAT(store->ListKeys(), ElementsAre("default/web"));
  EXPECT_EQ(store->GetByKey("default/web"), pod);
  EXPECT_EQ(store->GetByKey("web"), nullptr);
}

TEST(ThreadSafeStoreTest, B01ClusterScopedObjectIsFiledUnderName) {
  auto store = ThreadSafeStore::Create();
  ObjectPtr node = MakeObject("v1", "Node", "", "node-1", "7");
  ASSERT_TRUE(store->Add(node).ok());
  EXPECT_THAT(store->ListKeys(), ElementsAre("node-1"));
  EXPECT_EQ(store->GetByKey("node-1"), node);
  EXPECT_EQ(store->Get(*node), node);
}

// The store keeps no key strings; a lookup must still match the whole key text.
TEST(ThreadSafeStoreTest, B01LookupMatchesOnlyTheWholeKey) {
  auto store = ThreadSafeStore::Create();
  ObjectPtr pod = Pod("default", "web");
  ObjectPtr node = MakeObject("v1", "Node", "", "defaultweb", "1");
  ASSERT_TRUE(store->Add(pod).ok());
  ASSERT_TRUE(store->Add(node).ok());
  EXPECT_EQ(store->GetByKey("default/web"), pod);
  EXPECT_EQ(store->GetByKey("defaultweb"), node);
  for (std::string_view miss : {"default/we", "default/web2", "defaul/web", "default/", "/web",
                                "default//web", "web", "default/web/"}) {
    SCOPED_TRACE(miss);
    EXPECT_EQ(store->GetByKey(miss), nullptr);
  }
  ASSERT_TRUE(store->DeleteByKey("default/web").ok());
  EXPECT_THAT(store->ListKeys(), ElementsAre("defaultweb"));
}

// Keys are text, as in client-go: a cluster-scoped name holding a '/' is the same key as the
// namespaced object it spells, and the later write replaces the earlier.
TEST(ThreadSafeStoreTest, B01KeysCompareAsText) {
  auto store = ThreadSafeStore::Create(StandardIndexers());
  ObjectPtr pod = Pod("a", "b");
  ObjectPtr odd = MakeObject("v1", "Thing", "", "a/b", "2");
  ASSERT_TRUE(store->Add(pod).ok());
  ASSERT_TRUE(store->Add(odd).ok());
  EXPECT_EQ(store->Size(), 1u);
  EXPECT_EQ(store->GetByKey("a/b"), odd);
  EXPECT_THAT(*store->IndexKeys(std::string(kNamespaceIndex), ""), ElementsAre("a/b"));
  EXPECT_THAT(*store->IndexKeys(std::string(kNamespaceIndex), "a"), IsEmpty());
}

// Keys longer than the store's stack buffer for hashing hash the same way as short ones.
TEST(ThreadSafeStoreTest, B01LongKeysAreFoundAndReplaced) {
  auto store = ThreadSafeStore::Create();
  const std::string ns(100, 'n');
  const std::string name(253, 'x');
  ObjectPtr v1 = Pod(ns, name, "1");
  ObjectPtr v2 = Pod(ns, name, "2");
  ASSERT_TRUE(store->Add(v1).ok());
  ASSERT_TRUE(store->Add(v2).ok());
  EXPECT_EQ(store->Size(), 1u);
  EXPECT_EQ(store->GetByKey(ns + "/" + name), v2);
  EXPECT_THAT(store->ListKeys(), ElementsAre(ns + "/" + name));
}

TEST(ThreadSafeStoreTest, B01TombstoneKeyIsTheKeyItCarries) {
  DeletedFinalStateUnknown tombstone{"other/name", Pod("default", "web")};
  EXPECT_EQ(DeletionHandlingMetaNamespaceKey(tombstone), "other/name");
}

// --- B02: one object per key -------------------------------------------------------------------

TEST(ThreadSafeStoreTest, B02AddOfExistingKeyReplacesTheObject) {
  auto store = ThreadSafeStore::Create();
  ObjectPtr v1 = Pod("default", "web", "1");
  ObjectPtr v2 = Pod("default", "web", "2");
  ASSERT_TRUE(store->Add(v1).ok());
  ASSERT_TRUE(store->Add(v2).ok());
  EXPECT_EQ(store->Size(), 1u);
  EXPECT_EQ(store->GetByKey("default/web"), v2);
}

TEST(ThreadSafeStoreTest, B02UpdateStoresLikeAdd) {
  auto store = ThreadSafeStore::Create();
  ObjectPtr v1 = Pod("default", "web", "1");
  ObjectPtr v2 = Pod("default", "web", "2");
  ASSERT_TRUE(store->Update(v1).ok());  // absent: stored
  EXPECT_EQ(store->GetByKey("default/web"), v1);
  ASSERT_TRUE(store->Update(v2).ok());
  EXPECT_EQ(store->Size(), 1u);
  EXPECT_EQ(store->Get(*v1), v2);  // looked up by key, not by identity
}

TEST(ThreadSafeStoreTest, B02DeleteRemovesAndAbsentKeyIsNoOp) {
  auto store = ThreadSafeStore::Create(StandardIndexers());
  ObjectPtr web = Pod("default", "web");
  ObjectPtr db = Pod("default", "db");
  ASSERT_TRUE(store->Add(web).ok());
  ASSERT_TRUE(store->Add(db).ok());
  EXPECT_TRUE(store->Delete(*web).ok());
  EXPECT_TRUE(store->Delete(*web).ok());  // already gone: not an error
  EXPECT_TRUE(store->DeleteByKey("default/absent").ok());
  EXPECT_TRUE(store->DeleteByKey("a/b/c").ok());
  EXPECT_THAT(store->ListKeys(), ElementsAre("default/db"));
  ASSERT_TRUE(store->DeleteByKey("default/db").ok());
  EXPECT_EQ(store->Size(), 0u);
  EXPECT_THAT(store->List(), IsEmpty());
}

TEST(ThreadSafeStoreTest, B02NullObjectIsRejected) {
  auto store = ThreadSafeStore::Create();
  EXPECT_EQ(store->Add(nullptr).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Replace({nullptr}, "5").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Size(), 0u);
}

TEST(ThreadSafeStoreTest, ListAndListKeysAreSnapshots) {
  auto store = ThreadSafeStore::Create();
  ObjectPtr a = Pod("ns1", "a");
  ObjectPtr b = Pod("ns2", "b");
  ASSERT_TRUE(store->Add(a).ok());
  ASSERT_TRUE(store->Add(b).ok());
  std::vector<ObjectPtr> snapshot = store->List();
  ASSERT_TRUE(store->Delete(*a).ok());
  EXPECT_THAT(snapshot, UnorderedElementsAre(a, b));
  EXPECT_THAT(store->List(), UnorderedElementsAre(b));
  EXPECT_THAT(store->ListKeys(), UnorderedElementsAre("ns2/b"));
}

// --- B03: Replace ------------------------------------------------------------------------------

TEST(ThreadSafeStoreTest, B03ReplaceSwapsContentAndRebuildsIndexes) {
  auto store = ThreadSafeStore::Create(StandardIndexers());
  ASSERT_TRUE(store->Add(Pod("old", "gone", "1", {{"app", "legacy"}})).ok());
  ASSERT_TRUE(store->Add(Pod("keep", "web", "1", {{"app", "web"}})).ok());

  ObjectPtr web2 = Pod("keep", "web", "9", {{"app", "frontend"}});
  ObjectPtr db = Pod("new", "db", "9", {{"app", "db"}});
  ASSERT_TRUE(store->Replace({web2, db}, "10").ok());

  EXPECT_THAT(store->List(), UnorderedElementsAre(web2, db));
  EXPECT_THAT(store->ListIndexFuncValues("namespace"), UnorderedElementsAre("keep", "new"));
  EXPECT_THAT(store->ListIndexFuncValues("app"), UnorderedElementsAre("frontend", "db"));
  EXPECT_THAT(*store->ByIndex("app", "web"), IsEmpty());
  EXPECT_THAT(*store->ByIndex("app", "frontend"), ElementsAre(web2));
  EXPECT_THAT(*store->ByIndex("namespace", "old"), IsEmpty());
}

TEST(ThreadSafeStoreTest, B03ReplaceRecordsResourceVersion) {
  auto store = ThreadSafeStore::Create();
  ASSERT_TRUE(store->Replace({Pod("a", "b", "3")}, "42").ok());
  EXPECT_EQ(store->LastStoreSyncResourceVersion(), "42");
}

TEST(ThreadSafeStoreTest, B03ReplaceWithEmptyListEmptiesStoreAndIndexes) {
  auto store = ThreadSafeStore::Create(StandardIndexers());
  ASSERT_TRUE(store->Add(Pod("a", "b", "1", {{"app", "x"}})).ok());
  ASSERT_TRUE(store->Replace({}, "2").ok());
  EXPECT_EQ(store->Size(), 0u);
  EXPECT_THAT(store->ListIndexFuncValues("namespace"), IsEmpty());
  EXPECT_THAT(store->ListIndexFuncValues("app"), IsEmpty());
}

TEST(ThreadSafeStoreTest, B03ReplaceWithDuplicateKeysKeepsTheLast) {
  auto store = ThreadSafeStore::Create(StandardIndexers());
  ObjectPtr first = Pod("default", "web", "1", {{"app", "one"}});
  ObjectPtr last = Pod("default", "web", "2", {{"app", "two"}});
  ASSERT_TRUE(store->Replace({first, last}, "3").ok());
  EXPECT_THAT(store->List(), ElementsAre(last));
  EXPECT_THAT(store->ListIndexFuncValues("app"), ElementsAre("two"));
}

TEST(ThreadSafeStoreTest, B03ReplaceRejectedByIndexFuncLeavesStoreUnchanged) {
  auto store = ThreadSafeStore::Create({{"picky", PickyIndexFunc}});
  ObjectPtr kept = Pod("default", "kept");
  ASSERT_TRUE(store->Add(kept).ok());
  store->Bookmark("5");
  Status s =
      store->Replace({Pod("default", "ok"), Pod("default", "bad", "1", {{"reject", "yes"}})}, "6");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("rejected by picky"));
  EXPECT_THAT(store->List(), ElementsAre(kept));
  EXPECT_THAT(*store->ByIndex("picky", "all"), ElementsAre(kept));
  EXPECT_EQ(store->LastStoreSyncResourceVersion(), "5");
}

// --- B04: index queries ------------------------------------------------------------------------

TEST(ThreadSafeStoreTest, B04ByIndexReturnsObjectsWithTheValue) {
  auto store = ThreadSafeStore::Create(StandardIndexers());
  ObjectPtr a = Pod("ns1", "a", "1", {{"app", "web"}});
  ObjectPtr b = Pod("ns1", "b", "1", {{"app", "db"}});
  ObjectPtr c = Pod("ns2", "c", "1", {{"app", "web"}});
  ObjectPtr d = Pod("ns2", "d");  // no app label: not in the app index
  for (const ObjectPtr& o : {a, b, c, d}) ASSERT_TRUE(store->Add(o).ok());

  EXPECT_THAT(*store->ByIndex("namespace", "ns1"), UnorderedElementsAre(a, b));
  EXPECT_THAT(*store->ByIndex("namespace", "ns2"), UnorderedElementsAre(c, d));
  EXPECT_THAT(*store->ByIndex("app", "web"), UnorderedElementsAre(a, c));
  EXPECT_THAT(*store->ByIndex("app", "nope"), IsEmpty());
  EXPECT_THAT(*store->IndexKeys("app", "web"), UnorderedElementsAre("ns1/a", "ns2/c"));
  EXPECT_THAT(*store->IndexKeys("app", "nope"), IsEmpty());
  EXPECT_THAT(store->ListIndexFuncValues("app"), UnorderedElementsAre("web", "db"));
  EXPECT_THAT(store->ListIndexFuncValues("namespace"), UnorderedElementsAre("ns1", "ns2"));
}

TEST(ThreadSafeStoreTest, B04IndexReturnsObjectsSharingAnyValueOnce) {
  auto store = ThreadSafeStore::Create({{"tags", TagsIndexFunc}});
  ObjectPtr a = Pod("ns", "a", "1", {{"tags", "red.blue"}});
  ObjectPtr b = Pod("ns", "b", "1", {{"tags", "blue.green"}});
  ObjectPtr c = Pod("ns", "c", "1", {{"tags", "green"}});
  ObjectPtr d = Pod("ns", "d", "1", {{"tags", "yellow"}});
  for (const ObjectPtr& o : {a, b, c, d}) ASSERT_TRUE(store->Add(o).ok());

  // A probe tagged red and blue and green shares with a, b, c; b has two of its values but
  // appears once.
  ObjectPtr probe = Pod("elsewhere", "probe", "1", {{"tags", "red.blue.green"}});
  EXPECT_THAT(*store->Index("tags", *probe), UnorderedElementsAre(a, b, c));
  EXPECT_THAT(*store->Index("tags", *c), UnorderedElementsAre(b, c));
  EXPECT_THAT(*store->Index("tags", *Pod("x", "untagged")), IsEmpty());
  EXPECT_THAT(*store->ByIndex("tags", "blue"), UnorderedElementsAre(a, b));
}

TEST(ThreadSafeStoreTest, B04UnknownIndexIsAnError) {
  auto store = ThreadSafeStore::Create(StandardIndexers());
  ObjectPtr pod = Pod("ns", "a");
  ASSERT_TRUE(store->Add(pod).ok());

  Result<std::vector<ObjectPtr>> by_index = store->ByIndex("color", "red");
  ASSERT_FALSE(by_index.has_value());
  EXPECT_EQ(by_index.error().code(), StatusCode::kNotFound);
  EXPECT_EQ(by_index.error().message(), "Index with name color does not exist");
  EXPECT_EQ(store->Index("color", *pod).error().message(), "Index with name color does not exist");
  EXPECT_EQ(store->IndexKeys("color", "red").error().message(),
            "Index with name color does not exist");
  // ListIndexFuncValues does not fail: it is simply empty.
  EXPECT_THAT(store->ListIndexFuncValues("color"), IsEmpty());
}

// --- B05: index maintenance --------------------------------------------------------------------

TEST(ThreadSafeStoreTest, B05UpdateMovesIndexEntriesAndErasesEmptiedValues) {
  auto store = ThreadSafeStore::Create(StandardIndexers());
  ASSERT_TRUE(store->Add(Pod("ns", "a", "1", {{"app", "web"}})).ok());
  ObjectPtr a2 = Pod("ns", "a", "2", {{"app", "db"}});
  ASSERT_TRUE(store->Update(a2).ok());

  EXPECT_THAT(*store->ByIndex("app", "db"), ElementsAre(a2));
  EXPECT_THAT(*store->ByIndex("app", "web"), IsEmpty());
  // The emptied value does not linger.
  EXPECT_THAT(store->ListIndexFuncValues("app"), ElementsAre("db"));
  // The unchanged namespace index follows the new object.
  EXPECT_THAT(*store->ByIndex("namespace", "ns"), ElementsAre(a2));

  ObjectPtr a3 = Pod("ns", "a", "3");  // loses the label altogether
  ASSERT_TRUE(store->Update(a3).ok());
  EXPECT_THAT(store->ListIndexFuncValues("app"), IsEmpty());
  EXPECT_THAT(*store->ByIndex("namespace", "ns"), ElementsAre(a3));
}

TEST(ThreadSafeStoreTest, B05UpdateWithPartlyOverlappingValues) {
  auto store = ThreadSafeStore::Create({{"tags", TagsIndexFunc}});
  ASSERT_TRUE(store->Add(Pod("ns", "a", "1", {{"tags", "red.blue"}})).ok());
  ObjectPtr a2 = Pod("ns", "a", "2", {{"tags", "blue.green"}});
  ASSERT_TRUE(store->Update(a2).ok());
  EXPECT_THAT(store->ListIndexFuncValues("tags"), UnorderedElementsAre("blue", "green"));
  EXPECT_THAT(*store->ByIndex("tags", "blue"), ElementsAre(a2));
  EXPECT_THAT(*store->ByIndex("tags", "green"), ElementsAre(a2));
}

// Index sets are open-addressing tables: many entries under one value, removed in an
// interleaved order, must leave exactly the others findable, through growth and deletions.
TEST(ThreadSafeStoreTest, B05ManyEntriesUnderOneValueSurviveInterleavedDeletes) {
  auto store = ThreadSafeStore::Create(StandardIndexers());
  std::vector<std::string> kept;
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(store->Add(Pod("default", "p" + std::to_string(i))).ok());
  }
  for (int i = 0; i < 2000; ++i) {
    if (i % 3 == 0 || i % 7 == 0) {
      ASSERT_TRUE(store->DeleteByKey("default/p" + std::to_string(i)).ok());
    } else {
      kept.push_back("default/p" + std::to_string(i));
    }
  }
  Result<std::vector<std::string>> keys = store->IndexKeys(std::string(kNamespaceIndex), "default");
  ASSERT_TRUE(keys.has_value());
  EXPECT_THAT(*keys, ::testing::UnorderedElementsAreArray(kept));
  Result<std::vector<ObjectPtr>> objects = store->ByIndex(kNamespaceIndex, "default");
  ASSERT_TRUE(objects.has_value());
  EXPECT_EQ(objects->size(), kept.size());
  for (const std::string& key : kept) ASSERT_TRUE(store->DeleteByKey(key).ok());
  EXPECT_THAT(store->ListIndexFuncValues(kNamespaceIndex), IsEmpty());
}

TEST(ThreadSafeStoreTest, B05DeleteRemovesIndexEntries) {
  auto store = ThreadSafeStore::Create(StandardIndexers());
  ObjectPtr a = Pod("ns1", "a", "1", {{"app", "web"}});
  ObjectPtr b = Pod("ns1", "b", "1", {{"app", "web"}});
  ASSERT_TRUE(store->Add(a).ok());
  ASSERT_TRUE(store->Add(b).ok());
  ASSERT_TRUE(store->Delete(*a).ok());
  EXPECT_THAT(*store->ByIndex("app", "web"), ElementsAre(b));
  ASSERT_TRUE(store->DeleteByKey("ns1/b").ok());
  EXPECT_THAT(store->ListIndexFuncValues("app"), IsEmpty());
  EXPECT_THAT(store->ListIndexFuncValues("namespace"), IsEmpty());
}

TEST(ThreadSafeStoreTest, B05IndexFuncErrorRejectsTheWriteAndLeavesStoreUnchanged) {
  auto store = ThreadSafeStore::Create({{"picky", PickyIndexFunc}, {"app", AppIndexFunc}});
  ObjectPtr good = Pod("ns", "a", "1", {{"app", "web"}});
  ASSERT_TRUE(store->Add(good).ok());

  // An update of the stored key that the function refuses: the old object and its entries stay.
  Status s = store->Update(Pod("ns", "a", "2", {{"app", "db"}, {"reject", "yes"}}));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("ns/a"));
  EXPECT_THAT(s.message(), ::testing::HasSubstr("picky"));
  EXPECT_EQ(store->GetByKey("ns/a"), good);
  EXPECT_THAT(store->ListIndexFuncValues("app"), ElementsAre("web"));
  EXPECT_EQ(store->LastStoreSyncResourceVersion(), "1");

  // A new key that the function refuses is not stored at all.
  EXPECT_FALSE(store->Add(Pod("ns", "b", "3", {{"reject", "yes"}})).ok());
  EXPECT_THAT(store->ListKeys(), ElementsAre("ns/a"));
  EXPECT_THAT(*store->ByIndex("picky", "all"), ElementsAre(good));
}

// --- B55: transactions -------------------------------------------------------------------------

TEST(ThreadSafeStoreTest, B55TransactionAppliesWritesInOrderUnderOneLock) {
  auto store = ThreadSafeStore::Create(StandardIndexers());
  ASSERT_TRUE(store->Add(Pod("ns", "old", "1", {{"app", "db"}})).ok());
  const uint64_t locks = store->WriteLocks();
  using Type = StoreTransaction::Type;
  std::vector<Status> results = store->Transaction({
      {Type::kAdd, Pod("ns", "a", "2", {{"app", "web"}})},
      {Type::kUpdate, Pod("ns", "old", "3", {{"app", "web"}})},
      {Type::kAdd, Pod("ns", "b", "4")},
      {Type::kDelete, Pod("ns", "b", "5")},  // the same key again: applied in order
      {Type::kDelete, Pod("ns", "never", "6")},
  });
  ASSERT_EQ(results.size(), 5u);
  for (const Status& r : results) EXPECT_TRUE(r.ok()) << r;
  EXPECT_EQ(store->WriteLocks() - locks, 1u);
  EXPECT_THAT(store->ListKeys(), UnorderedElementsAre("ns/a", "ns/old"));
  EXPECT_THAT(*store->IndexKeys("app", "web"), UnorderedElementsAre("ns/a", "ns/old"));
  EXPECT_THAT(store->ListIndexFuncValues("app"), ElementsAre("web"));
  EXPECT_EQ(store->LastStoreSyncResourceVersion(), "6");  // the last write's, as `Delete` does
}

TEST(ThreadSafeStoreTest, B55TransactionSkipsOnlyTheWritesAnIndexFuncRejects) {
  auto store = ThreadSafeStore::Create({{"picky", PickyIndexFunc}});
  using Type = StoreTransaction::Type;
  std::vector<Status> results = store->Transaction({
      {Type::kAdd, Pod("ns", "a", "1")},
      {Type::kAdd, Pod("ns", "bad", "2", {{"reject", "yes"}})},
      {Type::kAdd, nullptr},
      {Type::kAdd, Pod("ns", "c", "3")},
  });
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].ok());
  EXPECT_EQ(results[1].code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(results[2].code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(results[3].ok());
  EXPECT_THAT(store->ListKeys(), UnorderedElementsAre("ns/a", "ns/c"));
  EXPECT_EQ(store->ByIndex("picky", "all")->size(), 2u);
}

// --- B06: which indexes a store has ------------------------------------------------------------

TEST(ThreadSafeStoreTest, B06NamespaceIndexFuncGivesTheNamespace) {
  EXPECT_THAT(*MetaNamespaceIndexFunc(*Pod("kube-system", "dns")), ElementsAre("kube-system"));
  // Cluster-scoped objects are filed under "".
  EXPECT_THAT(*MetaNamespaceIndexFunc(*MakeObject("v1", "Node", "", "n1", "1")), ElementsAre(""));
}

TEST(ThreadSafeStoreTest, B06BareStoreHasOnlyTheIndexesItIsGiven) {
  auto bare = ThreadSafeStore::Create();
  EXPECT_TRUE(bare->GetIndexers().empty());
  ASSERT_TRUE(bare->Add(Pod("ns", "a")).ok());
  EXPECT_FALSE(bare->ByIndex(kNamespaceIndex, "ns").has_value());

  auto indexed = ThreadSafeStore::Create(StandardIndexers());
  Indexers got = indexed->GetIndexers();
  EXPECT_EQ(got.size(), 2u);
  EXPECT_TRUE(got.contains(kNamespaceIndex));
  EXPECT_TRUE(got.contains("app"));
}

// --- B07: AddIndexers --------------------------------------------------------------------------

TEST(ThreadSafeStoreTest, B07AddIndexersIndexesObjectsAlreadyStored) {
  auto store = ThreadSafeStore::Create();
  ObjectPtr a = Pod("ns1", "a", "1", {{"app", "web"}});
  ObjectPtr b = Pod("ns2", "b", "1", {{"app", "web"}});
  ASSERT_TRUE(store->Add(a).ok());
  ASSERT_TRUE(store->Add(b).ok());

  ASSERT_TRUE(store->AddIndexers(StandardIndexers()).ok());
  EXPECT_THAT(*store->ByIndex("app", "web"), UnorderedElementsAre(a, b));
  EXPECT_THAT(*store->ByIndex("namespace", "ns2"), ElementsAre(b));

  // Later writes maintain the new indexes too.
  ObjectPtr c = Pod("ns1", "c", "2", {{"app", "web"}});
  ASSERT_TRUE(store->Add(c).ok());
  ASSERT_TRUE(store->Delete(*a).ok());
  EXPECT_THAT(*store->ByIndex("app", "web"), UnorderedElementsAre(b, c));
  EXPECT_THAT(*store->ByIndex("namespace", "ns1"), ElementsAre(c));
}

TEST(ThreadSafeStoreTest, B07AddIndexersNameConflictIsAlreadyExists) {
  auto store = ThreadSafeStore::Create(StandardIndexers());
  ASSERT_TRUE(store->Add(Pod("ns", "a", "1", {{"tags", "x"}})).ok());
  Status s = store->AddIndexers(
      {{"app", AppIndexFunc}, {"namespace", MetaNamespaceIndexFunc}, {"tags", TagsIndexFunc}});
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(s.message(), "indexer conflict: app, namespace");
  // All or nothing: the non-conflicting `tags` was not added either.
  EXPECT_EQ(store->GetIndexers().size(), 2u);
  EXPECT_FALSE(store->ByIndex("tags", "x").has_value());
}

TEST(ThreadSafeStoreTest, B07AddIndexersRejectedByIndexFuncLeavesStoreUnchanged) {
  auto store = ThreadSafeStore::Create();
  ASSERT_TRUE(store->Add(Pod("ns", "bad", "1", {{"reject", "yes"}})).ok());
  Status s = store->AddIndexers({{"picky", PickyIndexFunc}, {"app", AppIndexFunc}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(store->GetIndexers().empty());
  EXPECT_FALSE(store->ByIndex("app", "x").has_value());
}

TEST(ThreadSafeStoreTest, B07AddIndexersRejectsNullFunction) {
  auto store = ThreadSafeStore::Create();
  EXPECT_EQ(store->AddIndexers({{"null", IndexFunc()}}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(store->GetIndexers().empty());
}

// --- B08: objects are shared, never copied -----------------------------------------------------

TEST(ThreadSafeStoreTest, B08StoreHandsOutTheVeryPointerItWasGiven) {
  auto store = ThreadSafeStore::Create(StandardIndexers());
  ObjectPtr pod = Pod("ns", "a", "1", {{"app", "web"}});
  ASSERT_TRUE(store->Add(pod).ok());
  EXPECT_EQ(store->GetByKey("ns/a").get(), pod.get());
  EXPECT_EQ(store->List().at(0).get(), pod.get());
  EXPECT_EQ(store->ByIndex("app", "web")->at(0).get(), pod.get());
  EXPECT_EQ(store->Index("app", *pod)->at(0).get(), pod.get());

  ObjectPtr listed = Pod("ns", "b");
  ASSERT_TRUE(store->Replace({listed}, "2").ok());
  EXPECT_EQ(store->GetByKey("ns/b").get(), listed.get());
  // `Object` is immutable by type: the store hands out pointers to const.
  static_assert(std::is_same_v<decltype(store->GetByKey("")), std::shared_ptr<const Object>>);
}

// --- B49: the version of the last write --------------------------------------------------------

TEST(ThreadSafeStoreTest, B49TracksTheResourceVersionOfTheLastWrite) {
  auto store = ThreadSafeStore::Create();
  EXPECT_EQ(store->LastStoreSyncResourceVersion(), "");
  ASSERT_TRUE(store->Replace({Pod("ns", "a", "3")}, "10").ok());
  EXPECT_EQ(store->LastStoreSyncResourceVersion(), "10");
  ASSERT_TRUE(store->Add(Pod("ns", "b", "11")).ok());
  EXPECT_EQ(store->LastStoreSyncResourceVersion(), "11");
  ASSERT_TRUE(store->Update(Pod("ns", "b", "12")).ok());
  EXPECT_EQ(store->LastStoreSyncResourceVersion(), "12");
  ASSERT_TRUE(store->Delete(*Pod("ns", "b", "13")).ok());
  EXPECT_EQ(store->LastStoreSyncResourceVersion(), "13");
  store->Bookmark("20");
  EXPECT_EQ(store->LastStoreSyncResourceVersion(), "20");
  // A delete by key carries no object, hence no version.
  ASSERT_TRUE(store->DeleteByKey("ns/a").ok());
  EXPECT_EQ(store->LastStoreSyncResourceVersion(), "20");
  // A delete with an object records its version even when the key was already absent.
  ASSERT_TRUE(store->Delete(*Pod("ns", "zzz", "21")).ok());
  EXPECT_EQ(store->LastStoreSyncResourceVersion(), "21");
}

// --- Selector-aware queries (used by Lister) ---------------------------------------------------

TEST(ThreadSafeStoreTest, ListMatchingAndByIndexMatchingFilterByLabels) {
  auto store = ThreadSafeStore::Create(StandardIndexers());
  ObjectPtr a = Pod("ns1", "a", "1", {{"app", "web"}, {"tier", "front"}});
  ObjectPtr b = Pod("ns1", "b", "1", {{"app", "db"}});
  ObjectPtr c = Pod("ns2", "c", "1", {{"app", "web"}});
  for (const ObjectPtr& o : {a, b, c}) ASSERT_TRUE(store->Add(o).ok());

  LabelSelector web = *LabelSelector::Parse("app=web");
  EXPECT_THAT(store->ListMatching(web), UnorderedElementsAre(a, c));
  EXPECT_THAT(store->ListMatching(LabelSelector::Everything()), UnorderedElementsAre(a, b, c));
  EXPECT_THAT(store->ListMatching(LabelSelector::Nothing()), IsEmpty());
  EXPECT_THAT(*store->ByIndexMatching("namespace", "ns1", web), ElementsAre(a));
  EXPECT_THAT(*store->ByIndexMatching("namespace", "ns1", LabelSelector::Everything()),
              UnorderedElementsAre(a, b));
  EXPECT_THAT(*store->ByIndexMatching("namespace", "ns1", LabelSelector::Nothing()), IsEmpty());
  EXPECT_FALSE(store->ByIndexMatching("color", "x", web).has_value());
}

// --- The label index (ListMatching and ListNamespaceMatching with =, ==, in) --------------------

TEST(ThreadSafeStoreTest, LabelIndexAnswersNamespaceQueriesWithoutTheNamespaceIndex) {
  auto store = ThreadSafeStore::Create();  // no index functions at all
  ObjectPtr a = Pod("ns1", "a", "1", {{"app", "web"}, {"tier", "front"}});
  ObjectPtr b = Pod("ns1", "b", "1", {{"app", "db"}});
  ObjectPtr c = Pod("ns2", "c", "1", {{"app", "web"}});
  for (const ObjectPtr& o : {a, b, c}) ASSERT_TRUE(store->Add(o).ok());

  EXPECT_THAT(*store->ListNamespaceMatching("ns1", *LabelSelector::Parse("app=web")),
              ElementsAre(a));
  EXPECT_THAT(*store->ListNamespaceMatching("ns1", *LabelSelector::Parse("app in (db,web)")),
              UnorderedElementsAre(a, b));
  EXPECT_THAT(*store->ListNamespaceMatching("ns1", *LabelSelector::Parse("app==web,tier!=front")),
              IsEmpty());
  EXPECT_THAT(*store->ListNamespaceMatching("ns3", *LabelSelector::Parse("app=web")), IsEmpty());
  EXPECT_THAT(*store->ListNamespaceMatching("ns1", LabelSelector::Nothing()), IsEmpty());
  // Without an indexable requirement it needs the namespace index, which this store lacks.
  Result<std::vector<ObjectPtr>> exists =
      store->ListNamespaceMatching("ns1", *LabelSelector::Parse("tier"));
  ASSERT_FALSE(exists.has_value());
  EXPECT_TRUE(IsNotFound(exists.error()));
}

TEST(ThreadSafeStoreTest, LabelIndexFollowsUpdatesThatChangeLabels) {
  auto store = ThreadSafeStore::Create(StandardIndexers());
  ASSERT_TRUE(store->Add(Pod("ns", "a", "1", {{"app", "web"}, {"tier", "front"}})).ok());
  ObjectPtr moved = Pod("ns", "a", "2", {{"app", "db"}});
  ASSERT_TRUE(store->Update(moved).ok());

  EXPECT_THAT(*store->ListNamespaceMatching("ns", *LabelSelector::Parse("app=web")), IsEmpty());
  EXPECT_THAT(*store->ListNamespaceMatching("ns", *LabelSelector::Parse("tier=front")), IsEmpty());
  EXPECT_THAT(store->ListMatching(*LabelSelector::Parse("app=web")), IsEmpty());
  EXPECT_THAT(*store->ListNamespaceMatching("ns", *LabelSelector::Parse("app=db")),
              ElementsAre(moved));
  // An update that keeps the labels keeps the object findable, as the new object.
  ObjectPtr same = Pod("ns", "a", "3", {{"app", "db"}});
  ASSERT_TRUE(store->Update(same).ok());
  EXPECT_THAT(store->ListMatching(*LabelSelector::Parse("app=db")), ElementsAre(same));
  // So does a transaction.
  ObjectPtr back = Pod("ns", "a", "4", {{"app", "web"}});
  store->Transaction({{StoreTransaction::Type::kUpdate, back}});
  EXPECT_THAT(store->ListMatching(*LabelSelector::Parse("app=db")), IsEmpty());
  EXPECT_THAT(store->ListMatching(*LabelSelector::Parse("app=web")), ElementsAre(back));
}

TEST(ThreadSafeStoreTest, LabelIndexForgetsDeletedAndReplacedObjects) {
  auto store = ThreadSafeStore::Create(StandardIndexers());
  ObjectPtr a = Pod("ns", "a", "1", {{"app", "web"}});
  ObjectPtr b = Pod("ns", "b", "1", {{"app", "web"}});
  ObjectPtr c = Pod("other", "c", "1", {{"app", "web"}});
  for (const ObjectPtr& o : {a, b, c}) ASSERT_TRUE(store->Add(o).ok());
  const LabelSelector web = *LabelSelector::Parse("app=web");

  ASSERT_TRUE(store->Delete(*a).ok());
  EXPECT_THAT(*store->ListNamespaceMatching("ns", web), ElementsAre(b));
  ASSERT_TRUE(store->DeleteByKey("ns/b").ok());
  EXPECT_THAT(*store->ListNamespaceMatching("ns", web), IsEmpty());
  store->Transaction({{StoreTransaction::Type::kDelete, c}});
  EXPECT_THAT(store->ListMatching(web), IsEmpty());

  ASSERT_TRUE(store->Add(a).ok());
  ObjectPtr d = Pod("ns", "d", "5", {{"app", "db"}});
  ASSERT_TRUE(store->Replace({d}, "5").ok());
  EXPECT_THAT(store->ListMatching(web), IsEmpty());
  EXPECT_THAT(*store->ListNamespaceMatching("ns", *LabelSelector::Parse("app=db")), ElementsAre(d));
}

// Property test: for random objects, writes and selectors of every form, the label index's
// answers equal a scan of `List()` filtered by namespace and `Matches`.
TEST(ThreadSafeStoreTest, LabelIndexQueriesEqualScanningOnRandomObjectsAndSelectors) {
  const std::vector<std::string> namespaces = {"", "ns0", "ns1", "ns2"};
  const std::vector<std::string> keys = {"app", "tier", "example.com/team", "n"};
  const std::vector<std::string> values = {"a", "b", "c", "", "1", "7"};
  uint64_t x = 88172645463325252u;
  auto next = [&](uint64_t n) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return static_cast<size_t>(x % n);
  };
  auto random_object = [&](std::string_view rv) {
    StringMap labels;
    for (const std::string& k : keys) {
      if (next(3) != 0) labels[k] = values[next(values.size())];
    }
    const std::string& ns = namespaces[next(namespaces.size())];
    const std::string name = "o" + std::to_string(next(60));
    return ns.empty() ? MakeObject("v1", "Node", "", name, rv, labels)
                      : Pod(ns, name, std::string(rv), labels);
  };
  auto random_selector = [&] {
    std::string text;
    const size_t n = next(4);
    for (size_t i = 0; i < n; ++i) {
      const std::string& k = keys[next(keys.size())];
      const std::string& v = values[next(values.size())];
      const std::string& w = values[next(values.size())];
      std::string req;
      switch (next(9)) {
        case 0:
          req = k + "=" + v;
          break;
        case 1:
          req = k + "==" + v;
          break;
        case 2:
          req = k + "!=" + v;
          break;
        case 3:
          req = k + " in (" + v + "," + w + ")";
          break;
        case 4:
          req = k + " notin (" + v + "," + w + ")";
          break;
        case 5:
          req = k;
          break;
        case 6:
          req = "!" + k;
          break;
        case 7:
          req = k + ">" + std::to_string(next(9));
          break;
        default:
          req = k + "<" + std::to_string(next(9));
          break;
      }
      text += (text.empty() ? "" : ",") + req;
    }
    Result<LabelSelector> sel = LabelSelector::Parse(text);
    EXPECT_TRUE(sel.has_value()) << text;
    return sel ? *sel : LabelSelector::Everything();
  };
  auto keys_of = [](const std::vector<ObjectPtr>& objs) {
    std::vector<std::string> out;
    for (const ObjectPtr& o : objs) out.push_back(MetaNamespaceKey(*o));
    std::sort(out.begin(), out.end());
    return out;
  };

  auto store = ThreadSafeStore::Create(StandardIndexers());
  for (int round = 0; round < 300; ++round) {
    const std::string rv = std::to_string(round + 1);
    switch (next(10)) {
      case 0: {
        std::vector<ObjectPtr> list;
        for (size_t i = next(40); i > 0; --i) list.push_back(random_object(rv));
        ASSERT_TRUE(store->Replace(std::move(list), rv).ok());
        break;
      }
      case 1:
      case 2: {
        std::vector<StoreTransaction> txns;
        for (size_t i = next(6); i > 0; --i) {
          txns.push_back(
              {next(3) == 0 ? StoreTransaction::Type::kDelete : StoreTransaction::Type::kUpdate,
               random_object(rv)});
        }
        store->Transaction(std::move(txns));
        break;
      }
      case 3:
        ASSERT_TRUE(store->Delete(*random_object(rv)).ok());
        break;
      default:
        ASSERT_TRUE(store->Update(random_object(rv)).ok());
        break;
    }
    const std::vector<ObjectPtr> all = store->List();
    for (int q = 0; q < 20; ++q) {
      const LabelSelector sel = random_selector();
      SCOPED_TRACE("round " + std::to_string(round) + ", selector " + sel.String());
      std::vector<ObjectPtr> want_all;
      for (const ObjectPtr& o : all) {
        if (sel.Matches(*o)) want_all.push_back(o);
      }
      EXPECT_EQ(keys_of(store->ListMatching(sel)), keys_of(want_all));
      const std::string& ns = namespaces[next(namespaces.size())];
      std::vector<ObjectPtr> want_ns;
      for (const ObjectPtr& o : want_all) {
        if (o->ns() == ns) want_ns.push_back(o);
      }
      Result<std::vector<ObjectPtr>> got_ns = store->ListNamespaceMatching(ns, sel);
      ASSERT_TRUE(got_ns.has_value()) << got_ns.error().ToString();
      EXPECT_EQ(keys_of(*got_ns), keys_of(want_ns)) << "namespace \"" << ns << "\"";
    }
  }
}

}  // namespace
}  // namespace kube
