// Stress test for ThreadSafeStore under concurrent writers, Replace, AddIndexers and readers
// (B03, B05 under load). Label `concurrency`: CI runs it under ThreadSanitizer, which also checks
// the locking. Iterations are bounded so that a TSan run takes a few seconds; threads start
// together on a latch and readers run until the writers are done; nothing sleeps.
//
// What the readers check, on every query:
// - an object returned by `ByIndex(i, v)` / `Index(i, obj)` really has value `v` for index `i`;
// - a Replace is never seen half-applied: the "stable" namespace, which only Replace writes, holds
//   either nothing or exactly one whole generation, in `List()`, in the namespace index, in the
//   `gen` index and through a lister;
// - no emptied value lingers: the `gen` index never has more than one value, and the `variant`
//   index never lists two variants of one churn key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <latch>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "kube/cache/lister.h"
#include "kube/cache/store.h"
#include "kube/cache/thread_safe_store.h"
#include "kube/labels.h"
#include "kube/object_key.h"
#include "tests/testing/objects.h"

namespace kube {
namespace {

using ::kube::testing::MakePod;

constexpr int kGenerations = 30;    // Replace calls
constexpr int kStablePerGen = 100;  // objects in each Replace
constexpr int kChurnKeys = 40;      // keys the writers Add/Update/Delete
constexpr int kChurnVariants = 3;   // label variants per churn key
constexpr int kWriterOps = 3000;    // per writer thread
constexpr int kWriters = 2;
constexpr int kReaders = 3;
constexpr int kMaxReadsPerReader = 20000;
constexpr int kApps = 4;  // label app=a0..a3

Result<std::vector<std::string>> LabelIndex(const Object& obj, std::string_view label) {
  std::vector<std::string> out;
  if (auto v = obj.labels().Get(label)) out.emplace_back(*v);
  return out;
}

std::string AppValue(int i) { return "a" + std::to_string(i % kApps); }
std::string GenValue(int g) { return "g" + std::to_string(g); }
// "k<key>-<variant>": one value per churn key and variant.
std::string VariantValue(int k, int v) { return "k" + std::to_string(k) + "-" + std::to_string(v); }

// Records failures from any thread; the test asserts on them at the end.
class Failures {
 public:
  void Check(bool ok, const char* what) {
    if (!ok) Fail(what);
  }
  void Fail(std::string what) {
    if (count_.fetch_add(1) == 0) {
      std::lock_guard<std::mutex> lock(mu_);
      first_ = std::move(what);
    }
  }
  int count() const { return count_.load(); }
  std::string first() {
    std::lock_guard<std::mutex> lock(mu_);
    return first_;
  }

 private:
  std::atomic<int> count_{0};
  std::mutex mu_;
  std::string first_;
};

// Checks that `objs`, all from the stable namespace, are one whole generation or nothing.
void CheckWholeGeneration(const std::vector<ObjectPtr>& objs, size_t expected_size,
                          const char* where, Failures& failures) {
  if (objs.empty()) return;
  if (objs.size() != expected_size) {
    failures.Fail(std::string(where) + ": partial generation of " + std::to_string(objs.size()));
  }
  auto gen = objs[0]->labels().Get("gen");
  for (const ObjectPtr& o : objs) {
    if (o->ns() != "stable") failures.Fail(std::string(where) + ": wrong namespace");
    if (o->labels().Get("gen") != gen) failures.Fail(std::string(where) + ": mixed generations");
  }
}

TEST(ThreadSafeStoreStressTest, ConcurrentWritesReplaceAndReadsStayConsistent) {
  // Objects are built up front: parsing is not what is under test.
  std::vector<std::vector<ObjectPtr>> generations(kGenerations);
  for (int g = 0; g < kGenerations; ++g) {
    for (int i = 0; i < kStablePerGen; ++i) {
      testing::PodOptions opts;
      opts.rv = std::to_string(1000 + g);
      opts.labels = {{"gen", GenValue(g)}, {"app", AppValue(i)}};
      generations[g].push_back(MakePod("stable", "s-" + std::to_string(i), opts));
    }
  }
  std::vector<ObjectPtr> churn;  // churn[key * kChurnVariants + variant]
  for (int k = 0; k < kChurnKeys; ++k) {
    for (int v = 0; v < kChurnVariants; ++v) {
      testing::PodOptions opts;
      opts.rv = std::to_string(v + 1);
      opts.labels = {{"app", AppValue(k + v)}, {"variant", VariantValue(k, v)}};
      churn.push_back(MakePod("churn", "c-" + std::to_string(k), opts));
    }
  }

  auto store = ThreadSafeStore::Create(
      {{std::string(kNamespaceIndex), MetaNamespaceIndexFunc},
       {"app", [](const Object& o) { return LabelIndex(o, "app"); }},
       {"gen", [](const Object& o) { return LabelIndex(o, "gen"); }},
       {"variant", [](const Object& o) { return LabelIndex(o, "variant"); }}});
  Lister lister(store, {.group = "", .resource = "pod"});
  const LabelSelector app1 = *LabelSelector::Parse("app=a1");

  Failures failures;
  std::atomic<int> writers_running{kWriters + 1};  // + the replacer
  std::latch start(kWriters + 1 + kReaders);
  std::atomic<int64_t> reads{0};
  std::vector<std::thread> threads;

  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      start.arrive_and_wait();
      uint32_t x = 12345 + w;
      for (int op = 0; op < kWriterOps; ++op) {
        x = x * 1664525u + 1013904223u;
        const ObjectPtr& obj = churn[(x >> 8) % churn.size()];
        Status s = (x >> 4) % 4 == 0   ? store->Delete(*obj)
                   : (x >> 4) % 4 == 1 ? store->DeleteByKey(MetaNamespaceKey(*obj))
                                       : store->Update(obj);
        if (!s.ok()) failures.Fail("write failed: " + s.ToString());
      }
      writers_running.fetch_sub(1);
    });
  }

  threads.emplace_back([&] {
    start.arrive_and_wait();
    for (int g = 0; g < kGenerations; ++g) {
      Status s = store->Replace(generations[g], std::to_string(1000 + g));
      if (!s.ok()) failures.Fail("Replace failed: " + s.ToString());
      store->Bookmark(std::to_string(2000 + g));
      if (g == kGenerations / 2) {
        Status added =
            store->AddIndexers({{"late", [](const Object& o) { return LabelIndex(o, "app"); }}});
        if (!added.ok()) failures.Fail("AddIndexers failed: " + added.ToString());
      }
    }
    writers_running.fetch_sub(1);
  });

  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      start.arrive_and_wait();
      int i = r;
      // Until the writers finish; capped, because a reader-preferring lock lets busy readers
      // slow the writers down.
      for (int n = 0; n < kMaxReadsPerReader && writers_running.load() > 0; ++n) {
        ++i;
        // A List snapshot: stable objects are one whole generation or none.
        std::vector<ObjectPtr> all = store->List();
        std::vector<ObjectPtr> stable;
        for (const ObjectPtr& o : all) {
          if (o->ns() == "stable") stable.push_back(o);
        }
        CheckWholeGeneration(stable, kStablePerGen, "List", failures);

        Result<std::vector<ObjectPtr>> by_ns = store->ByIndex(kNamespaceIndex, "stable");
        failures.Check(by_ns.has_value(), "ByIndex(namespace) failed");
        if (by_ns) CheckWholeGeneration(*by_ns, kStablePerGen, "ByIndex(namespace)", failures);

        std::vector<std::string> gens = store->ListIndexFuncValues("gen");
        failures.Check(gens.size() <= 1, "gen index holds several values");
        // A churn key holds one variant at a time, so a key seen with two variants in one
        // snapshot of the index means an emptied value lingered.
        std::vector<std::string> variants = store->ListIndexFuncValues("variant");
        std::set<std::string> variant_keys;
        for (const std::string& v : variants) variant_keys.insert(v.substr(0, v.find('-')));
        failures.Check(variant_keys.size() == variants.size(), "emptied index value lingers");
        Result<std::vector<ObjectPtr>> by_gen = store->ByIndex("gen", GenValue(i % kGenerations));
        if (by_gen) CheckWholeGeneration(*by_gen, kStablePerGen, "ByIndex(gen)", failures);

        // Every object an index returns has the value it was asked for.
        const std::string app = AppValue(i);
        for (std::string_view index : {"app", "late"}) {
          Result<std::vector<ObjectPtr>> by_app = store->ByIndex(index, app);
          if (!by_app) {
            failures.Check(index == "late", "ByIndex(app) failed");
            continue;
          }
          for (const ObjectPtr& o : *by_app) {
            failures.Check(o->labels().Get("app") == app, "ByIndex returned a foreign object");
          }
        }
        Result<std::vector<ObjectPtr>> churned = store->ByIndex(kNamespaceIndex, "churn");
        if (churned) {
          for (const ObjectPtr& o : *churned) {
            failures.Check(o->ns() == "churn", "namespace index returned a foreign object");
          }
        }
        const ObjectPtr& probe = churn[i % churn.size()];
        Result<std::vector<ObjectPtr>> same = store->Index("app", *probe);
        if (same) {
          for (const ObjectPtr& o : *same) {
            failures.Check(o->labels().Get("app") == probe->labels().Get("app"),
                           "Index returned a foreign object");
          }
        }
        Result<std::vector<std::string>> keys = store->IndexKeys("app", app);
        failures.Check(keys.has_value(), "IndexKeys failed");
        (void)store->GetByKey(MetaNamespaceKey(*probe));
        (void)store->LastStoreSyncResourceVersion();
        (void)store->Size();

        // Through a lister: the namespace index filtered by labels under the store's lock.
        std::vector<ObjectPtr> listed = lister.Namespace("stable").List(app1);
        CheckWholeGeneration(listed, kStablePerGen / kApps, "Lister", failures);
        for (const ObjectPtr& o : listed) {
          failures.Check(o->labels().Get("app") == "a1", "Lister returned a non-matching object");
        }
        reads.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }

  for (std::thread& t : threads) t.join();

  EXPECT_EQ(failures.count(), 0) << "first failure: " << failures.first();
  // After the last Replace the stable namespace is the last generation, whatever the churn did.
  std::vector<ObjectPtr> last = *store->ByIndex("gen", GenValue(kGenerations - 1));
  EXPECT_EQ(last.size(), static_cast<size_t>(kStablePerGen));
  EXPECT_THAT(store->ListIndexFuncValues("gen"),
              ::testing::ElementsAre(GenValue(kGenerations - 1)));
  // The late index covers everything stored, including what was there when it was added.
  size_t labelled = 0;
  for (const std::string& v : store->ListIndexFuncValues("late")) {
    labelled += store->ByIndex("late", v)->size();
  }
  EXPECT_EQ(labelled, store->Size());
  RecordProperty("reads", std::to_string(reads.load()));
}

// The label index under writers that change labels, delete and Replace, while readers query it.
// "Fixed" objects share the namespace with churning ones and are in every Replace, so a query for
// them has one exact answer at every instant; any other answer must match its selector.
TEST(ThreadSafeStoreStressTest, LabelIndexQueriesStayExactUnderConcurrentWrites) {
  constexpr int kFixed = 40;
  constexpr int kReplaces = 20;
  std::vector<ObjectPtr> fixed;
  for (int i = 0; i < kFixed; ++i) {
    testing::PodOptions opts;
    opts.labels = {{"app", AppValue(i)}, {"fixed", "yes"}};
    fixed.push_back(MakePod("mix", "f-" + std::to_string(i), opts));
  }
  std::vector<ObjectPtr> churn;  // churn[key * kChurnVariants + variant]
  for (int k = 0; k < kChurnKeys; ++k) {
    for (int v = 0; v < kChurnVariants; ++v) {
      testing::PodOptions opts;
      opts.rv = std::to_string(v + 1);
      opts.labels = {{"app", AppValue(k + v)}};
      if (v == 1) opts.labels["fixed"] = "no";
      churn.push_back(MakePod(k % 2 == 0 ? "mix" : "other", "c-" + std::to_string(k), opts));
    }
  }
  auto store = ThreadSafeStore::Create({{std::string(kNamespaceIndex), MetaNamespaceIndexFunc}});
  ASSERT_TRUE(store->Replace(fixed, "1").ok());
  Lister lister(store, {.group = "", .resource = "pod"});

  Failures failures;
  std::atomic<int> writers_running{kWriters + 1};
  std::latch start(kWriters + 1 + kReaders);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      start.arrive_and_wait();
      uint32_t x = 777 + w;
      for (int op = 0; op < kWriterOps; ++op) {
        x = x * 1664525u + 1013904223u;
        const ObjectPtr& obj = churn[(x >> 8) % churn.size()];
        Status s = (x >> 4) % 4 == 0 ? store->Delete(*obj) : store->Update(obj);
        if (!s.ok()) failures.Fail("write failed: " + s.ToString());
      }
      writers_running.fetch_sub(1);
    });
  }
  threads.emplace_back([&] {
    start.arrive_and_wait();
    for (int g = 0; g < kReplaces; ++g) {
      std::vector<ObjectPtr> list = fixed;
      for (size_t i = g % kChurnVariants; i < churn.size(); i += 2 * kChurnVariants) {
        list.push_back(churn[i]);
      }
      Status s = store->Replace(std::move(list), std::to_string(100 + g));
      if (!s.ok()) failures.Fail("Replace failed: " + s.ToString());
    }
    writers_running.fetch_sub(1);
  });
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      start.arrive_and_wait();
      for (int n = 0; n < kMaxReadsPerReader && writers_running.load() > 0; ++n) {
        const std::string app = AppValue(n + r);
        // Exact: the fixed objects with this app, whatever the churn does.
        const LabelSelector exact = *LabelSelector::Parse("app=" + app + ",fixed=yes");
        std::vector<ObjectPtr> got = lister.Namespace("mix").List(exact);
        failures.Check(got.size() == static_cast<size_t>(kFixed / kApps),
                       "fixed objects missing or extra");
        std::set<const Object*> seen;
        for (const ObjectPtr& o : got) {
          failures.Check(o->name().starts_with("f-"), "a churned object matched fixed=yes");
          failures.Check(o->labels().Get("app") == app, "wrong app");
          failures.Check(seen.insert(o.get()).second, "an object listed twice");
        }
        // Loose: whatever is there matches, in the namespace asked for, and once.
        const LabelSelector loose = *LabelSelector::Parse("app in (" + app + ",a3),fixed!=yes");
        seen.clear();
        for (const ObjectPtr& o : lister.Namespace("mix").List(loose)) {
          failures.Check(o->ns() == "mix", "an object of another namespace");
          failures.Check(loose.Matches(*o), "a non-matching object");
          failures.Check(seen.insert(o.get()).second, "an object listed twice");
        }
        seen.clear();
        for (const ObjectPtr& o : store->ListMatching(loose)) {
          failures.Check(loose.Matches(*o), "a non-matching object, every namespace");
          failures.Check(seen.insert(o.get()).second, "an object listed twice, every namespace");
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.count(), 0) << "first failure: " << failures.first();

  // Once quiet, and after each churn key went through every variant, the index agrees with a
  // scan.
  for (const ObjectPtr& obj : churn) ASSERT_TRUE(store->Update(obj).ok());
  for (std::string_view text : {"app=a1", "app in (a0,a2),fixed!=yes", "fixed=no"}) {
    const LabelSelector sel = *LabelSelector::Parse(text);
    size_t want = 0;
    for (const ObjectPtr& o : store->List()) want += sel.Matches(*o) ? 1 : 0;
    EXPECT_EQ(store->ListMatching(sel).size(), want) << text;
  }
}

}  // namespace
}  // namespace kube
