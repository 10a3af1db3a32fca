#include "kube/object_key.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/objects.h"

namespace kube {
namespace {

using ::kube::testing::MakeObject;
using ::kube::testing::MakePod;

TEST(ObjectKeyTest, B01KeyOfNamespacedAndClusterScopedObjects) {
  EXPECT_EQ(MetaNamespaceKey(*MakePod("prod", "web-1")), "prod/web-1");
  EXPECT_EQ(MetaNamespaceKey(*MakeObject("v1", "Node", "", "node-a", "1")), "node-a");
  EXPECT_EQ(MetaNamespaceKey("ns", "n"), "ns/n");
  EXPECT_EQ(MetaNamespaceKey("", "n"), "n");
}

TEST(ObjectKeyTest, B01SplitsKeys) {
  struct Case {
    std::string_view key;
    bool ok;
    NamespaceAndName want;
  };
  const Case cases[] = {
      {"name", true, {"", "name"}},  {"ns/name", true, {"ns", "name"}},
      {"/name", true, {"", "name"}}, {"", true, {"", ""}},
      {"a/b/c", false, {}},          {"ns/", true, {"ns", ""}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.key);
    auto got = SplitMetaNamespaceKey(c.key);
    ASSERT_EQ(got.has_value(), c.ok);
    if (c.ok) {
      EXPECT_EQ(*got, c.want);
    } else {
      EXPECT_EQ(got.error().code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(got.error().message(), "unexpected key format: \"a/b/c\"");
    }
  }
}

TEST(ObjectKeyTest, B01RoundTrips) {
  for (auto [ns, name] : {std::pair{"", "a"}, std::pair{"ns", "b"}}) {
    auto split = SplitMetaNamespaceKey(MetaNamespaceKey(ns, name));
    ASSERT_TRUE(split.has_value());
    EXPECT_EQ(split->ns, ns);
    EXPECT_EQ(split->name, name);
  }
}

TEST(ObjectKeyTest, B01TombstoneCarriesItsKey) {
  DeletedFinalStateUnknown d{"ns/gone", nullptr};
  EXPECT_EQ(DeletionHandlingMetaNamespaceKey(d), "ns/gone");
  DeletedFinalStateUnknown with_obj{"ns/a", MakePod("ns", "a")};
  EXPECT_EQ(DeletionHandlingMetaNamespaceKey(with_obj), MetaNamespaceKey(*with_obj.obj));
}

}  // namespace
}  // namespace kube
