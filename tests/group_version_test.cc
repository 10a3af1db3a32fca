#include "kube/group_version.h"

#include <gtest/gtest.h>

#include <sstream>
#include <unordered_set>

namespace kube {
namespace {

TEST(GroupVersionTest, ParsesApiVersions) {
  struct Case {
    std::string_view in;
    bool ok;
    std::string_view group;
    std::string_view version;
  };
  const Case cases[] = {
      {"v1", true, "", "v1"},
      {"apps/v1", true, "apps", "v1"},
      {"networking.k8s.io/v1beta1", true, "networking.k8s.io", "v1beta1"},
      {"", false, "", ""},
      {"a/b/c", false, "", ""},
      {"/v1", false, "", ""},
      {"apps/", false, "", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    auto gv = GroupVersion::Parse(c.in);
    ASSERT_EQ(gv.has_value(), c.ok);
    if (!c.ok) {
      EXPECT_EQ(gv.error().code(), StatusCode::kInvalidArgument);
      continue;
    }
    EXPECT_EQ(gv->group, c.group);
    EXPECT_EQ(gv->version, c.version);
    EXPECT_EQ(gv->ToString(), c.in);
  }
}

TEST(GroupVersionTest, ApiPrefix) {
  EXPECT_EQ((GroupVersion{"", "v1"}).ApiPrefix(), "/api/v1");
  EXPECT_EQ((GroupVersion{"apps", "v1"}).ApiPrefix(), "/apis/apps/v1");
}

TEST(GroupVersionTest, KindAndResourceStrings) {
  GroupVersionKind gvk{"apps", "v1", "Deployment"};
  EXPECT_EQ(gvk.ToString(), "apps/v1, Kind=Deployment");
  EXPECT_EQ(gvk.group_version(), (GroupVersion{"apps", "v1"}));
  EXPECT_EQ((GroupVersionKind{"", "v1", "Pod"}).ToString(), "v1, Kind=Pod");
  GroupVersionResource gvr{"apps", "v1", "deployments"};
  EXPECT_EQ(gvr.ToString(), "apps/v1, Resource=deployments");
  EXPECT_EQ(gvr.GroupResource(), "deployments.apps");
  EXPECT_EQ((GroupVersionResource{"", "v1", "pods"}).GroupResource(), "pods");
  std::ostringstream os;
  os << GroupVersion{"apps", "v1"} << ' ' << gvk << ' ' << gvr;
  EXPECT_EQ(os.str(), "apps/v1 apps/v1, Kind=Deployment apps/v1, Resource=deployments");
}

TEST(GroupVersionTest, OrderingAndHashing) {
  EXPECT_LT((GroupVersion{"", "v1"}), (GroupVersion{"apps", "v1"}));
  EXPECT_EQ((GroupVersionResource{"a", "v1", "x"}), (GroupVersionResource{"a", "v1", "x"}));
  std::unordered_set<GroupVersionResource> resources{
      {"", "v1", "pods"}, {"", "v1", "pods"}, {"apps", "v1", "deployments"}};
  EXPECT_EQ(resources.size(), 2u);
  std::unordered_set<GroupVersionKind> kinds{{"", "v1", "Pod"}, {"", "v1", "Node"}};
  EXPECT_EQ(kinds.size(), 2u);
}

}  // namespace
}  // namespace kube
