// Tests for Lister and NamespaceLister (B09, B10 of docs/behaviours.md), over a ThreadSafeStore
// directly (the fast path, label filtering under the store's lock) and through a plain `Indexer`
// wrapper (the generic path).
#include "kube/cache/lister.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kube/cache/store.h"
#include "kube/cache/thread_safe_store.h"
#include "kube/labels.h"
#include "kube/status.h"
#include "tests/testing/objects.h"

namespace kube {
namespace {

using ::kube::testing::MakeObject;
using ::kube::testing::MakePod;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

// An `Indexer` that is not a ThreadSafeStore: forwards to one and counts the queries, so tests can
// see which path a lister took.
class CountingIndexer final : public Indexer {
 public:
  explicit CountingIndexer(std::shared_ptr<ThreadSafeStore> inner) : inner_(std::move(inner)) {}

  Status Add(ObjectPtr obj) override { return inner_->Add(std::move(obj)); }
  Status Update(ObjectPtr obj) override { return inner_->Update(std::move(obj)); }
  Status Delete(const Object& obj) override { return inner_->Delete(obj); }
  Status DeleteByKey(std::string_view key) override { return inner_->DeleteByKey(key); }
  std::vector<ObjectPtr> List() const override {
    ++list_calls;
    return inner_->List();
  }
  std::vector<std::string> ListKeys() const override { return inner_->ListKeys(); }
  ObjectPtr Get(const Object& obj) const override { return inner_->Get(obj); }
  ObjectPtr GetByKey(std::string_view key) const override { return inner_->GetByKey(key); }
  size_t Size() const override { return inner_->Size(); }
  Status Replace(std::vector<ObjectPtr> list, std::string rv) override {
    return inner_->Replace(std::move(list), std::move(rv));
  }
  Result<std::vector<ObjectPtr>> ByIndex(std::string_view index_name,
                                         std::string_view value) const override {
    ++by_index_calls;
    return inner_->ByIndex(index_name, value);
  }
  Result<std::vector<ObjectPtr>> Index(std::string_view index_name,
                                       const Object& obj) const override {
    return inner_->Index(index_name, obj);
  }
  Result<std::vector<std::string>> IndexKeys(std::string_view index_name,
                                             std::string_view value) const override {
    return inner_->IndexKeys(index_name, value);
  }
  std::vector<std::string> ListIndexFuncValues(std::string_view index_name) const override {
    return inner_->ListIndexFuncValues(index_name);
  }
  Status AddIndexers(const Indexers& indexers) override { return inner_->AddIndexers(indexers); }
  Indexers GetIndexers() const override { return inner_->GetIndexers(); }

  mutable std::atomic<int> list_calls{0};
  mutable std::atomic<int> by_index_calls{0};

 private:
  std::shared_ptr<ThreadSafeStore> inner_;
};

Indexers NamespaceIndexers() {
  return Indexers{{std::string(kNamespaceIndex), MetaNamespaceIndexFunc}};
}

ObjectPtr Pod(std::string_view ns, std::string_view name, StringMap labels = {}) {
  testing::PodOptions opts;
  opts.labels = std::move(labels);
  return MakePod(ns, name, opts);
}

LabelSelector Selector(std::string_view text) {
  Result<LabelSelector> s = LabelSelector::Parse(text);
  EXPECT_TRUE(s.has_value()) << s.error();
  return s.value_or(LabelSelector::Nothing());
}

// Param: true = the lister sees a plain Indexer (generic path); false = the ThreadSafeStore.
class ListerTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { Build(NamespaceIndexers()); }

  void Build(Indexers indexers) {
    store_ = ThreadSafeStore::Create(std::move(indexers));
    if (GetParam()) {
      counting_ = std::make_shared<CountingIndexer>(store_);
      indexer_ = counting_;
    } else {
      counting_ = nullptr;
      indexer_ = store_;
    }
  }

  void Fill() {
    for (const ObjectPtr& o : {web1_, web2_, db1_, bare1_, web3_}) ASSERT_TRUE(store_->Add(o).ok());
  }

  Lister PodLister() const { return Lister(indexer_, {.group = "", .resource = "pod"}); }

  std::shared_ptr<ThreadSafeStore> store_;
  std::shared_ptr<CountingIndexer> counting_;  // null unless GetParam()
  std::shared_ptr<const Indexer> indexer_;

  ObjectPtr web1_ = Pod("ns1", "web1", {{"app", "web"}, {"tier", "front"}});
  ObjectPtr web2_ = Pod("ns1", "web2", {{"app", "web"}});
  ObjectPtr db1_ = Pod("ns1", "db1", {{"app", "db"}});
  ObjectPtr bare1_ = Pod("ns1", "bare1");
  ObjectPtr web3_ = Pod("ns2", "web3", {{"app", "web"}});
};

std::string PathName(const ::testing::TestParamInfo<bool>& param) {
  return param.param ? "GenericIndexer" : "ThreadSafeStore";
}

INSTANTIATE_TEST_SUITE_P(Paths, ListerTest, ::testing::Values(false, true), PathName);

// --- B09: List --------------------------------------------------------------------------------

TEST_P(ListerTest, B09ListReturnsObjectsWhoseLabelsMatch) {
  Fill();
  Lister lister = PodLister();
  EXPECT_THAT(lister.List(Selector("app=web")), UnorderedElementsAre(web1_, web2_, web3_));
  EXPECT_THAT(lister.List(Selector("app=web,tier=front")), ElementsAre(web1_));
  EXPECT_THAT(lister.List(Selector("app!=web")), UnorderedElementsAre(db1_, bare1_));
  EXPECT_THAT(lister.List(Selector("app in (db),tier")), IsEmpty());
}

TEST_P(ListerTest, B09EverythingReturnsEveryObject) {
  Fill();
  EXPECT_THAT(PodLister().List(LabelSelector::Everything()),
              UnorderedElementsAre(web1_, web2_, db1_, bare1_, web3_));
  EXPECT_THAT(PodLister().List(Selector("")),
              UnorderedElementsAre(web1_, web2_, db1_, bare1_, web3_));
}

TEST_P(ListerTest, B09NothingReturnsNoneWithoutQueryingTheIndexer) {
  Fill();
  Lister lister = PodLister();
  EXPECT_THAT(lister.List(LabelSelector::Nothing()), IsEmpty());
  EXPECT_THAT(lister.Namespace("ns1").List(LabelSelector::Nothing()), IsEmpty());
  if (counting_) {
    EXPECT_EQ(counting_->list_calls.load(), 0);
    EXPECT_EQ(counting_->by_index_calls.load(), 0);
  }
}

TEST_P(ListerTest, B09NamespaceListUsesTheNamespaceIndex) {
  Fill();
  NamespaceLister ns1 = PodLister().Namespace("ns1");
  EXPECT_THAT(ns1.List(LabelSelector::Everything()),
              UnorderedElementsAre(web1_, web2_, db1_, bare1_));
  EXPECT_THAT(ns1.List(Selector("app=web")), UnorderedElementsAre(web1_, web2_));
  EXPECT_THAT(PodLister().Namespace("ns2").List(Selector("app=web")), ElementsAre(web3_));
  EXPECT_THAT(PodLister().Namespace("empty").List(LabelSelector::Everything()), IsEmpty());
  if (counting_) {
    EXPECT_EQ(counting_->by_index_calls.load(), 4);
    EXPECT_EQ(counting_->list_calls.load(), 0);  // never a full scan
  }
}

TEST_P(ListerTest, B09NamespaceListWithoutIndexScansAndWarnsOnce) {
  Build({});  // no namespace index
  Fill();
  Lister lister = PodLister();
  ::testing::internal::CaptureStderr();
  std::vector<ObjectPtr> first = lister.Namespace("ns1").List(Selector("app=web"));
  std::vector<ObjectPtr> second = lister.Namespace("ns2").List(LabelSelector::Everything());
  std::string err = ::testing::internal::GetCapturedStderr();

  EXPECT_THAT(first, UnorderedElementsAre(web1_, web2_));
  EXPECT_THAT(second, ElementsAre(web3_));
  EXPECT_THAT(err, HasSubstr("no \"namespace\" index"));
  EXPECT_EQ(err.find("no \"namespace\" index"), err.rfind("no \"namespace\" index"))
      << "warned more than once: " << err;
  if (counting_) {
    EXPECT_EQ(counting_->list_calls.load(), 2);
  }
}

TEST_P(ListerTest, B09ListSeesLaterWrites) {
  Lister lister = PodLister();
  EXPECT_THAT(lister.List(LabelSelector::Everything()), IsEmpty());
  Fill();
  ASSERT_TRUE(store_->Delete(*web1_).ok());
  EXPECT_THAT(lister.Namespace("ns1").List(Selector("app=web")), ElementsAre(web2_));
}

// --- B10: Get -----------------------------------------------------------------------------------

TEST_P(ListerTest, B10GetReturnsTheObjectByNamespaceAndName) {
  Fill();
  Lister lister = PodLister();
  EXPECT_EQ(*lister.Get("ns1", "web1"), web1_);
  EXPECT_EQ(*lister.Namespace("ns2").Get("web3"), web3_);
  EXPECT_FALSE(lister.Namespace("ns2").Get("web1").has_value());  // wrong namespace
}

TEST_P(ListerTest, B10MissingObjectIsNotFoundNamingOnlyTheName) {
  Fill();
  Result<ObjectPtr> got = PodLister().Namespace("prod").Get("web");
  ASSERT_FALSE(got.has_value());
  Status s = got.error();
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.http_code(), 404);
  EXPECT_EQ(s.reason(), "NotFound");
  EXPECT_TRUE(IsNotFound(s));
  EXPECT_EQ(s.message(), "pod \"web\" not found");
  EXPECT_THAT(s.message(), Not(HasSubstr("prod")));
  EXPECT_EQ(PodLister().Get("prod", "web").error().message(), "pod \"web\" not found");
}

TEST_P(ListerTest, B10NotFoundNamesTheSingularResourceAndGroup) {
  Lister deployments(indexer_, {.group = "apps", .resource = "deployment"});
  EXPECT_EQ(deployments.resource().QualifiedName(), "deployment.apps");
  Status s = deployments.Namespace("default").Get("web").error();
  EXPECT_EQ(s.message(), "deployment.apps \"web\" not found");
  EXPECT_TRUE(IsNotFound(s));
}

TEST_P(ListerTest, B10ClusterScopedGetLooksUpTheBareName) {
  ObjectPtr node = MakeObject("v1", "Node", "", "node-1", "5");
  ASSERT_TRUE(store_->Add(node).ok());
  Lister nodes(indexer_, {.group = "", .resource = "node"});
  EXPECT_EQ(*nodes.Get("node-1"), node);
  Status s = nodes.Get("node-2").error();
  EXPECT_EQ(s.message(), "node \"node-2\" not found");
  EXPECT_EQ(s.http_code(), 404);
}

TEST_P(ListerTest, B10GetWithAKeyLongerThanTheStackBuffer) {
  std::string ns(63, 'n');
  std::string name(300, 'x');
  ObjectPtr pod = Pod(ns, name);
  ASSERT_TRUE(store_->Add(pod).ok());
  EXPECT_EQ(*PodLister().Namespace(ns).Get(name), pod);
  EXPECT_FALSE(PodLister().Namespace(ns).Get(name + "y").has_value());
}

// --- Ownership ---------------------------------------------------------------------------------

TEST_P(ListerTest, NamespaceListerKeepsTheIndexerAlive) {
  Fill();
  std::weak_ptr<ThreadSafeStore> weak = store_;
  NamespaceLister ns1 = PodLister().Namespace("ns1");
  store_.reset();
  counting_.reset();
  indexer_.reset();
  EXPECT_FALSE(weak.expired());
  EXPECT_THAT(ns1.List(Selector("app=db")), ElementsAre(db1_));
  EXPECT_EQ(ns1.ns(), "ns1");
}

TEST_P(ListerTest, B08ListerHandsOutTheStoredPointer) {
  Fill();
  EXPECT_EQ(PodLister().Get("ns1", "web1")->get(), web1_.get());
  EXPECT_EQ(PodLister().Namespace("ns2").List(LabelSelector::Everything()).at(0).get(),
            web3_.get());
}

}  // namespace
}  // namespace kube
