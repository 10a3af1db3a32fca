// EmbeddedApiServer lists: resourceVersion semantics, pagination, selectors, the 422s of §6.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "base/strings.h"
#include "server/router.h"
#include "tests/testing/api_server_fixture.h"

namespace kube::testing {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr char kConfigMaps[] = "/api/v1/namespaces/default/configmaps";

std::vector<std::string> Names(const json& list) {
  std::vector<std::string> out;
  for (const auto& item : list["items"]) out.push_back(item["metadata"]["name"]);
  return out;
}

uint64_t Rv(const json& obj) {
  return std::stoull(obj["metadata"]["resourceVersion"].get<std::string>());
}

class ApiServerListTest : public ApiServerFixture {
 protected:
  // Creates c0..c{n-1} in `default` with label `i=<index parity>`.
  void CreateConfigMaps(int n) {
    for (int i = 0; i < n; ++i) {
      std::string name = (i < 10 ? "c0" : "c") + std::to_string(i);
      MustCreate(ConfigMapJson("default", name, {{"parity", i % 2 ? "odd" : "even"}}));
    }
  }
};

TEST_F(ApiServerListTest, ListHasKindVersionAndSnapshotResourceVersion) {
  CreateConfigMaps(3);
  HttpResult r = Get(kConfigMaps);
  ASSERT_EQ(r.code, 200);
  json list = r.Json();
  EXPECT_EQ(list["kind"], "ConfigMapList");
  EXPECT_EQ(list["apiVersion"], "v1");
  EXPECT_EQ(Rv(list), server().ResourceVersion());
  EXPECT_THAT(Names(list), ElementsAre("c00", "c01", "c02"));
  EXPECT_FALSE(list["metadata"].contains("continue"));
  EXPECT_FALSE(list["metadata"].contains("remainingItemCount"));
}

TEST_F(ApiServerListTest, EmptyListHasEmptyItemsArray) {
  HttpResult r = Get(kConfigMaps);
  ASSERT_EQ(r.code, 200);
  EXPECT_THAT(r.body, HasSubstr(R"("items":[])"));
}

TEST_F(ApiServerListTest, CrossNamespaceList) {
  CreateConfigMaps(2);
  MustCreate(ConfigMapJson("kube-system", "sys"));
  json all = Get("/api/v1/configmaps").Json();
  EXPECT_THAT(Names(all), UnorderedElementsAre("c00", "c01", "sys"));
  EXPECT_THAT(Names(Get("/api/v1/namespaces/kube-system/configmaps").Json()), ElementsAre("sys"));
}

TEST_F(ApiServerListTest, LabelAndFieldSelectors) {
  CreateConfigMaps(4);
  EXPECT_THAT(Names(Get(std::string(kConfigMaps) + "?labelSelector=parity%3Dodd").Json()),
              ElementsAre("c01", "c03"));
  EXPECT_THAT(
      Names(Get(std::string(kConfigMaps) + "?labelSelector=parity%20in%20(odd,even)").Json()),
      ElementsAre("c00", "c01", "c02", "c03"));
  EXPECT_THAT(Names(Get(std::string(kConfigMaps) + "?labelSelector=parity!%3Dodd").Json()),
              ElementsAre("c00", "c02"));
  EXPECT_THAT(Names(Get(std::string(kConfigMaps) + "?fieldSelector=metadata.name%3Dc02").Json()),
              ElementsAre("c02"));
  EXPECT_THAT(
      Names(
          Get("/api/v1/configmaps?fieldSelector=metadata.namespace%3Ddefault,metadata.name!%3Dc00")
              .Json()),
      ElementsAre("c01", "c02", "c03"));
}

TEST_F(ApiServerListTest, BadSelectorsAreBadRequest) {
  HttpResult bad = Get(std::string(kConfigMaps) + "?labelSelector=a%20in%20(");
  EXPECT_EQ(bad.code, 400);
  EXPECT_EQ(bad.Json()["reason"], "BadRequest");
  HttpResult field = Get(std::string(kConfigMaps) + "?fieldSelector=spec.nodeName%3Dx");
  EXPECT_EQ(field.code, 400);
  EXPECT_EQ(field.Json()["message"], "field label not supported: spec.nodeName");
  // Pods support spec.nodeName.
  EXPECT_EQ(Get("/api/v1/pods?fieldSelector=spec.nodeName%3Dx").code, 200);
}

TEST_F(ApiServerListTest, PodFieldSelectorsFilter) {
  MustCreate(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"default"},
                 "spec":{"nodeName":"n1","containers":[{"name":"c","image":"i"}]},
                 "status":{"phase":"Running"}})");
  MustCreate(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"b","namespace":"default"},
                 "spec":{"containers":[{"name":"c","image":"i"}]},"status":{"phase":"Pending"}})");
  EXPECT_THAT(Names(Get("/api/v1/pods?fieldSelector=spec.nodeName%3Dn1").Json()), ElementsAre("a"));
  EXPECT_THAT(Names(Get("/api/v1/pods?fieldSelector=status.phase%3DPending").Json()),
              ElementsAre("b"));
}

TEST_F(ApiServerListTest, PaginationWithContinueAndRemainingItemCount) {
  CreateConfigMaps(7);
  uint64_t rv = server().ResourceVersion();
  std::vector<std::string> seen;
  std::string path = std::string(kConfigMaps) + "?limit=3";
  json page = Get(path).Json();
  EXPECT_EQ(Rv(page), rv);
  EXPECT_EQ(page["metadata"]["remainingItemCount"], 4);
  for (const auto& n : Names(page)) seen.push_back(n);
  // A change between pages does not show: every page comes from one snapshot.
  MustCreate(ConfigMapJson("default", "c03a"));
  ASSERT_TRUE(server().Delete({"", "v1", "configmaps"}, "default", "c05").ok());
  int pages = 1;
  while (page["metadata"].contains("continue")) {
    ASSERT_LT(++pages, 10);
    page = Get(std::string(kConfigMaps) +
               "?limit=3&continue=" + page["metadata"]["continue"].get<std::string>())
               .Json();
    ASSERT_EQ(page["kind"], "ConfigMapList") << page.dump();
    EXPECT_EQ(Rv(page), rv);
    for (const auto& n : Names(page)) seen.push_back(n);
  }
  EXPECT_EQ(pages, 3);
  EXPECT_FALSE(page["metadata"].contains("remainingItemCount"));
  EXPECT_THAT(seen, ElementsAre("c00", "c01", "c02", "c03", "c04", "c05", "c06"));
}

// Every page's remainingItemCount, counted from the position the token carries, while the
// collection changes between pages (the pages still show the first page's snapshot).
TEST_F(ApiServerListTest, RemainingItemCountOnEveryPageAcrossChanges) {
  CreateConfigMaps(11);
  MustCreate(ConfigMapJson("kube-system", "sys"));
  for (const std::string& path : {std::string(kConfigMaps), std::string("/api/v1/configmaps")}) {
    SCOPED_TRACE(path);
    const int total = static_cast<int>(Get(path).Json()["items"].size());
    json page = Get(path + "?limit=4").Json();
    int seen = 0;
    for (int pages = 1;; ++pages) {
      ASSERT_LT(pages, 10);
      seen += static_cast<int>(page["items"].size());
      if (!page["metadata"].contains("continue")) break;
      EXPECT_EQ(page["metadata"]["remainingItemCount"], total - seen);
      MustCreate(ConfigMapJson("default",
                               "zz" + std::to_string(pages) + (path == kConfigMaps ? "a" : "b")));
      page =
          Get(path + "?limit=4&continue=" + page["metadata"]["continue"].get<std::string>()).Json();
    }
    EXPECT_EQ(seen, total);
    EXPECT_FALSE(page["metadata"].contains("remainingItemCount"));
  }
}

// A token whose count does not fit its snapshot (not made by this server) still lists the
// right objects and counts the rest; one whose count is not a number is refused like any
// malformed token.
TEST_F(ApiServerListTest, ContinueTokenWithAWrongCount) {
  CreateConfigMaps(5);
  json page = Get(std::string(kConfigMaps) + "?limit=2").Json();
  json token =
      json::parse(*internal::Base64UrlDecode(page["metadata"]["continue"].get<std::string>()));
  ASSERT_EQ(token["n"], 2);
  token["n"] = 1000;
  json rest =
      Get(std::string(kConfigMaps) + "?limit=2&continue=" + internal::Base64UrlEncode(token.dump()))
          .Json();
  EXPECT_THAT(Names(rest), ElementsAre("c02", "c03"));
  EXPECT_EQ(rest["metadata"]["remainingItemCount"], 1);
  token["n"] = "two";
  EXPECT_EQ(
      Get(std::string(kConfigMaps) + "?limit=2&continue=" + internal::Base64UrlEncode(token.dump()))
          .code,
      400);
}

// kube-apiserver's watch cache serves resourceVersion="0" whole whatever the limit (what an
// informer's first list asks for: B11, B13); a continuation keeps its limit.
TEST_F(ApiServerListTest, ResourceVersionZeroIgnoresLimit) {
  CreateConfigMaps(5);
  json all = Get(std::string(kConfigMaps) + "?limit=2&resourceVersion=0").Json();
  EXPECT_THAT(Names(all), ElementsAre("c00", "c01", "c02", "c03", "c04"));
  EXPECT_FALSE(all["metadata"].contains("continue"));
  EXPECT_FALSE(all["metadata"].contains("remainingItemCount"));
  json not_older =
      Get(std::string(kConfigMaps) + "?limit=2&resourceVersion=0&resourceVersionMatch=NotOlderThan")
          .Json();
  EXPECT_EQ(not_older["items"].size(), 5u);
  // Any other version pages as asked.
  json paged = Get(std::string(kConfigMaps) + "?limit=2").Json();
  ASSERT_TRUE(paged["metadata"].contains("continue"));
  json next = Get(std::string(kConfigMaps) + "?limit=2&resourceVersion=0&continue=" +
                  paged["metadata"]["continue"].get<std::string>())
                  .Json();
  EXPECT_THAT(Names(next), ElementsAre("c02", "c03"));
  EXPECT_EQ(next["metadata"]["remainingItemCount"], 1);
}

TEST_F(ApiServerListTest, RemainingItemCountOmittedWithSelector) {
  CreateConfigMaps(6);
  json page = Get(std::string(kConfigMaps) + "?limit=1&labelSelector=parity%3Deven").Json();
  EXPECT_TRUE(page["metadata"].contains("continue"));
  EXPECT_FALSE(page["metadata"].contains("remainingItemCount"));
}

TEST_F(ApiServerListTest, ContinueTokenOlderThanHistoryIsExpired) {
  CreateConfigMaps(4);
  json page = Get(std::string(kConfigMaps) + "?limit=2").Json();
  MustCreate(ConfigMapJson("default", "later"));
  server().CompactHistory();
  HttpResult r = Get(std::string(kConfigMaps) +
                     "?limit=2&continue=" + page["metadata"]["continue"].get<std::string>());
  EXPECT_EQ(r.code, 410);
  json s = r.Json();
  EXPECT_EQ(s["reason"], "Expired");
  EXPECT_THAT(s["message"].get<std::string>(),
              ::testing::StartsWith("The provided continue parameter is too old to display a "
                                    "consistent list result."));
  ASSERT_TRUE(s["metadata"].contains("continue"));
  // The inconsistent continuation carries on from where the client was, at the latest state.
  json rest =
      Get(std::string(kConfigMaps) + "?continue=" + s["metadata"]["continue"].get<std::string>())
          .Json();
  EXPECT_THAT(Names(rest), ElementsAre("c02", "c03", "later"));
  // Paged, it counts what is left of the latest state.
  json part = Get(std::string(kConfigMaps) +
                  "?limit=1&continue=" + s["metadata"]["continue"].get<std::string>())
                  .Json();
  EXPECT_THAT(Names(part), ElementsAre("c02"));
  EXPECT_EQ(part["metadata"]["remainingItemCount"], 2);
  json part2 = Get(std::string(kConfigMaps) +
                   "?limit=1&continue=" + part["metadata"]["continue"].get<std::string>())
                   .Json();
  EXPECT_THAT(Names(part2), ElementsAre("c03"));
  EXPECT_EQ(part2["metadata"]["remainingItemCount"], 1);
}

TEST_F(ApiServerListTest, ContinueTokenStillValidWhenNothingChanged) {
  CreateConfigMaps(3);
  json page = Get(std::string(kConfigMaps) + "?limit=2").Json();
  server().CompactHistory();  // nothing changed since: the snapshot is still the current state
  HttpResult r = Get(std::string(kConfigMaps) +
                     "?limit=2&continue=" + page["metadata"]["continue"].get<std::string>());
  EXPECT_EQ(r.code, 200) << r.body;
}

TEST_F(ApiServerListTest, BadContinueTokenIsBadRequest) {
  EXPECT_EQ(Get(std::string(kConfigMaps) + "?continue=%%%").code, 400);
  EXPECT_EQ(Get(std::string(kConfigMaps) + "?continue=bm9wZQ").code, 400);
}

TEST_F(ApiServerListTest, ExactResourceVersionListsThePast) {
  CreateConfigMaps(2);
  uint64_t then = server().ResourceVersion();
  MustCreate(ConfigMapJson("default", "added-later"));
  ASSERT_TRUE(server().Delete({"", "v1", "configmaps"}, "default", "c00").ok());
  ASSERT_TRUE(server().Apply(ConfigMapJson("default", "c01", {}, "changed")));
  json past = Get(std::string(kConfigMaps) + "?resourceVersion=" + std::to_string(then) +
                  "&resourceVersionMatch=Exact")
                  .Json();
  EXPECT_EQ(Rv(past), then);
  EXPECT_THAT(Names(past), ElementsAre("c00", "c01"));
  EXPECT_EQ(past["items"][1]["data"]["k"], "v");
  // The legacy rule: a limited list at N is exact too.
  json legacy =
      Get(std::string(kConfigMaps) + "?limit=10&resourceVersion=" + std::to_string(then)).Json();
  EXPECT_EQ(Rv(legacy), then);
  EXPECT_THAT(Names(legacy), ElementsAre("c00", "c01"));
}

TEST_F(ApiServerListTest, ExactResourceVersionTooOldIsExpired) {
  CreateConfigMaps(2);
  uint64_t then = server().ResourceVersion();
  MustCreate(ConfigMapJson("default", "x"));
  server().CompactHistory();
  HttpResult r = Get(std::string(kConfigMaps) + "?resourceVersion=" + std::to_string(then) +
                     "&resourceVersionMatch=Exact");
  EXPECT_EQ(r.code, 410);
  EXPECT_EQ(r.Json()["reason"], "Expired");
}

TEST_F(ApiServerListTest, NotOlderThanAndZeroServeTheLatest) {
  CreateConfigMaps(2);
  uint64_t now = server().ResourceVersion();
  json zero = Get(std::string(kConfigMaps) + "?resourceVersion=0").Json();
  EXPECT_EQ(Rv(zero), now);
  json not_older =
      Get(std::string(kConfigMaps) + "?resourceVersion=1&resourceVersionMatch=NotOlderThan").Json();
  EXPECT_EQ(Rv(not_older), now);
}

TEST_F(ApiServerListTest, FutureResourceVersionIsTooLarge) {
  HttpResult r = Get(std::string(kConfigMaps) + "?resourceVersion=999999");
  EXPECT_EQ(r.code, 504);
  EXPECT_EQ(r.Json()["reason"], "Timeout");
  EXPECT_THAT(r.Json()["message"].get<std::string>(), HasSubstr("Too large resource version"));
  EXPECT_EQ(r.Json()["details"]["causes"][0]["reason"], "ResourceVersionTooLarge");
  EXPECT_EQ(r.headers["retry-after"], "1");
}

TEST_F(ApiServerListTest, NotOlderThanAFutureVersionWaitsForIt) {
  ApiServerOptions o = Options();
  o.resource_version_wait = std::chrono::seconds(60);
  auto srv = EmbeddedApiServer::Start(o);
  ASSERT_TRUE(srv) << srv.error();
  const uint64_t want = (*srv)->ResourceVersion() + 2;
  HttpResult list, get;
  ASSERT_TRUE((*srv)->Create(ConfigMapJson("default", "a")));
  std::thread reader([&] {
    TestHttpClient c((*srv)->Url());
    list = c.Get(std::string(kConfigMaps) + "?resourceVersion=" + std::to_string(want));
    get = c.Get(std::string(kConfigMaps) + "/a?resourceVersion=" + std::to_string(want));
  });
  ASSERT_TRUE(WaitFor([&] { return (*srv)->WaitingRequestCount() == 1; }));
  ASSERT_TRUE((*srv)->Create(ConfigMapJson("default", "b")));
  reader.join();
  EXPECT_EQ(list.code, 200);
  EXPECT_GE(std::stoull(list.Json()["metadata"]["resourceVersion"].get<std::string>()), want);
  EXPECT_EQ(list.Json()["items"].size(), 2u);
  EXPECT_EQ(get.code, 200);
}

TEST_F(ApiServerListTest, InvalidListOptionsAre422) {
  struct Case {
    std::string query;
    std::string detail;
  };
  const Case cases[] = {
      {"resourceVersionMatch=Exact", "resourceVersionMatch is forbidden unless resourceVersion"},
      {"resourceVersion=0&resourceVersionMatch=Exact",
       "\"exact\" is forbidden for resourceVersion \"0\""},
      {"resourceVersion=5&resourceVersionMatch=Sometimes", "Unsupported value: \"Sometimes\""},
      {"resourceVersion=5&resourceVersionMatch=Exact&continue=abc", "forbidden when continue"},
      {"sendInitialEvents=true", "sendInitialEvents"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.query);
    HttpResult r = Get(std::string(kConfigMaps) + "?" + c.query);
    EXPECT_EQ(r.code, 422) << r.body;
    json s = r.Json();
    EXPECT_EQ(s["reason"], "Invalid");
    EXPECT_EQ(s["details"]["kind"], "ListOptions");
    EXPECT_EQ(s["details"]["group"], "meta.k8s.io");
    EXPECT_THAT(s["message"].get<std::string>(),
                ::testing::StartsWith("ListOptions.meta.k8s.io \"\" is invalid: "));
    EXPECT_THAT(s["message"].get<std::string>(), HasSubstr(c.detail));
  }
}

TEST_F(ApiServerListTest, ResourceVersionWithContinueIsBadRequest) {
  CreateConfigMaps(3);
  json page = Get(std::string(kConfigMaps) + "?limit=1").Json();
  HttpResult r = Get(std::string(kConfigMaps) + "?resourceVersion=3&continue=" +
                     page["metadata"]["continue"].get<std::string>());
  EXPECT_EQ(r.code, 400);
}

TEST_F(ApiServerListTest, ListBodiesReuseStoredBytes) {
  MustCreate(ConfigMapJson("default", "c"));
  auto obj = server().Get({"", "v1", "configmaps"}, "default", "c");
  ASSERT_TRUE(obj);
  EXPECT_THAT(Get(kConfigMaps).body, HasSubstr(std::string((*obj)->json())));
}

}  // namespace
}  // namespace kube::testing
