// Access reviews and whoami: authorization.k8s.io/v1 (Self)SubjectAccessReview,
// LocalSubjectAccessReview, SelfSubjectRulesReview and authentication.k8s.io/v1
// SelfSubjectReview, TokenReview, answered from the allow-all authorizer and the request's user
// (token file, anonymous, impersonation). Recorded kube-apiserver v1.32 answers and kubectl's
// protobuf requests are in testdata/access.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "kube/proto/protobuf.h"
#include "tests/testing/api_server_fixture.h"

namespace kube::testing {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kProtobuf[] = "application/vnd.kubernetes.protobuf";
constexpr char kKubectlAccept[] = "application/vnd.kubernetes.protobuf,application/json";
constexpr char kSsar[] = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
constexpr char kSsrr[] = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews";
constexpr char kSar[] = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
constexpr char kSsr[] = "/apis/authentication.k8s.io/v1/selfsubjectreviews";
constexpr char kTokenReviews[] = "/apis/authentication.k8s.io/v1/tokenreviews";

std::string ReadAccess(const std::string& name) {
  std::ifstream f(std::string(KUBE_SERVER_TESTDATA) + "/access/" + name, std::ios::binary);
  EXPECT_TRUE(f.good()) << name;
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::string ToJsonText(const std::string& pb) {
  Result<std::string> j = ProtobufToJson(pb);
  EXPECT_TRUE(j.has_value()) << (j ? "" : j.error().message());
  return j ? *j : "";
}

// The recorded answer as this server gives it: without the managedFields kube-apiserver adds
// to review answers, members in the recorded (Go) order.
std::string WithoutManagedFields(const std::string& text) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(text);
  j["metadata"].erase("managedFields");
  return j.dump();
}

std::string ContentType(const HttpResult& r) {
  auto it = r.headers.find("content-type");
  return it == r.headers.end() ? "" : it->second;
}

class AccessReviewTest : public ApiServerFixture {
 protected:
  HttpResult PostProtobuf(const std::string& path, const std::string& body,
                          std::vector<std::string> headers = {}) const {
    headers.push_back(std::string("Content-Type: ") + kProtobuf);
    headers.push_back(std::string("Accept: ") + kKubectlAccept);
    return client().Request("POST", path, body, headers);
  }
};

TEST_F(AccessReviewTest, SelfSubjectAccessReviewIsAllowedWithoutReason) {
  // The recorded request of access/selfsubjectaccessreview.json; kube-apiserver's authorizer
  // allowed it (system:masters) with no reason, as the allow-all authorizer does.
  HttpResult r =
      Post(kSsar, R"({"kind":"SelfSubjectAccessReview",)"
                  R"("apiVersion":"authorization.k8s.io/v1","spec":{"resourceAttributes":)"
                  R"({"namespace":"wire-demo","verb":"list","resource":"pods"}}})");
  EXPECT_EQ(r.code, 201);
  EXPECT_EQ(r.body, WithoutManagedFields(ReadAccess("selfsubjectaccessreview.json")));
}

TEST_F(AccessReviewTest, KubectlCanIListPodsInProtobufIsAnsweredAsTheRealServer) {
  HttpResult r = PostProtobuf(kSsar, ReadAccess("kubectl-can-i-list-pods.req.pb"));
  EXPECT_EQ(r.code, 201);
  EXPECT_EQ(ContentType(r), kProtobuf);
  EXPECT_EQ(ToJsonText(r.body),
            WithoutManagedFields(ToJsonText(ReadAccess("kubectl-can-i-list-pods.resp.pb"))));
}

TEST_F(AccessReviewTest, ImpersonatedSelfSubjectAccessReviewIsAllowed) {
  // `kubectl auth can-i get pods --as jane`: the allow-all authorizer allows jane too.
  HttpResult r =
      PostProtobuf(kSsar, ReadAccess("kubectl-can-i-list-pods.req.pb"), {"Impersonate-User: jane"});
  EXPECT_EQ(r.code, 201);
  EXPECT_THAT(ToJsonText(r.body), HasSubstr(R"("status":{"allowed":true})"));
}

TEST_F(AccessReviewTest, SelfSubjectRulesReviewListsTheRulesThatAllowEverything) {
  HttpResult r = PostProtobuf(kSsrr, ReadAccess("kubectl-can-i-list.req.pb"));
  EXPECT_EQ(r.code, 201);
  EXPECT_EQ(ToJsonText(r.body),
            R"({"kind":"SelfSubjectRulesReview","apiVersion":"authorization.k8s.io/v1",)"
            R"("metadata":{"creationTimestamp":null},"spec":{},"status":{"resourceRules":)"
            R"([{"verbs":["*"],"apiGroups":["*"],"resources":["*"]}],"nonResourceRules":)"
            R"([{"verbs":["*"],"nonResourceURLs":["*"]}],"incomplete":false}})");
}

TEST_F(AccessReviewTest, SelfSubjectRulesReviewWithoutNamespaceIsBadRequest) {
  HttpResult r = Post(kSsrr, R"({"spec":{}})");
  EXPECT_EQ(r.code, 400);
  EXPECT_EQ(r.Json()["message"], "no namespace on request");
}

TEST_F(AccessReviewTest, SubjectAccessReviewWithoutUserOrGroupsIsInvalid) {
  HttpResult r = Post(kSar, R"({"spec":{"resourceAttributes":{"verb":"get"}}})");
  EXPECT_EQ(r.code, 422);
  EXPECT_EQ(r.Json()["message"],
            "SubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.user: Invalid value: "
            "\"\": at least one of user or group must be specified");
  EXPECT_EQ(r.Json()["details"]["causes"][0]["field"], "spec.user");
}

TEST_F(AccessReviewTest, AccessReviewNeedsExactlyOneKindOfAttributes) {
  HttpResult none = Post(kSsar, R"({"spec":{}})");
  EXPECT_EQ(none.code, 422);
  EXPECT_EQ(none.Json()["message"],
            "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: "
            "spec.resourceAttributes: Invalid value: \"null\": exactly one of "
            "nonResourceAttributes or resourceAttributes must be specified");
  HttpResult both = Post(kSar, R"({"spec":{"user":"jane","resourceAttributes":{"verb":"get"},)"
                               R"("nonResourceAttributes":{"path":"/metrics","verb":"get"}}})");
  EXPECT_EQ(both.code, 422);
  EXPECT_EQ(both.Json()["message"],
            "SubjectAccessReview.authorization.k8s.io \"\" is invalid: "
            "spec.nonResourceAttributes: Invalid value: authorization.NonResourceAttributes{"
            "Path:\"/metrics\", Verb:\"get\"}: cannot be specified in combination with "
            "resourceAttributes");
}

TEST_F(AccessReviewTest, SubjectAccessReviewForNonResourceUrlIsAllowed) {
  HttpResult r = Post(kSar, R"({"spec":{"user":"jane","groups":["developers"],)"
                            R"("nonResourceAttributes":{"path":"/metrics","verb":"get"},"x":1}})");
  EXPECT_EQ(r.code, 201);
  // Unknown fields are dropped and members come in Go's order, as kube-apiserver answers.
  EXPECT_EQ(r.body, R"({"kind":"SubjectAccessReview","apiVersion":"authorization.k8s.io/v1",)"
                    R"("metadata":{"creationTimestamp":null},"spec":{"nonResourceAttributes":)"
                    R"({"path":"/metrics","verb":"get"},"user":"jane","groups":["developers"]},)"
                    R"("status":{"allowed":true}})");
}

TEST_F(AccessReviewTest, LocalSubjectAccessReviewNamespaceMustMatchTheUrl) {
  const std::string path =
      "/apis/authorization.k8s.io/v1/namespaces/wire-demo/"
      "localsubjectaccessreviews";
  HttpResult ok = Post(path, R"({"spec":{"resourceAttributes":{"namespace":"wire-demo",)"
                             R"("verb":"watch","resource":"pods"},"user":"jane"}})");
  EXPECT_EQ(ok.code, 201);
  json want = json::parse(ReadAccess("localsubjectaccessreview.json"));
  want["metadata"].erase("managedFields");
  want["status"] = {{"allowed", true}};  // recorded: allowed by RBAC, with a reason
  EXPECT_EQ(ok.Json(), want);
  HttpResult other = Post(path, R"({"spec":{"resourceAttributes":{"namespace":"other",)"
                                R"("verb":"get"},"user":"jane"}})");
  EXPECT_EQ(other.code, 422);
  EXPECT_EQ(other.Json()["details"]["causes"][0]["field"], "spec.resourceAttributes.namespace");
  HttpResult body_ns = Post(path, R"({"metadata":{"namespace":"other"},"spec":{)"
                                  R"("resourceAttributes":{"verb":"get"},"user":"jane"}})");
  EXPECT_EQ(body_ns.code, 400);
}

TEST_F(AccessReviewTest, ReviewsAreNotStoredAndTakeOnlyPost) {
  ASSERT_EQ(Post(kSar, R"({"spec":{"user":"jane","resourceAttributes":{"verb":"get"}}})").code,
            201);
  HttpResult list = Get(kSar);
  EXPECT_EQ(list.code, 405);
  EXPECT_EQ(list.Json()["reason"], "MethodNotAllowed");
  EXPECT_EQ(Get(std::string(kSar) + "/x").code, 404);
  EXPECT_EQ(Delete(kSar).code, 405);
}

TEST_F(AccessReviewTest, DiscoveryListsTheReviewsAsCreateOnly) {
  json list = Get("/apis/authorization.k8s.io/v1").Json();
  std::vector<std::string> names;
  for (const json& r : list["resources"]) {
    names.push_back(r["name"]);
    EXPECT_EQ(r["verbs"], json::array({"create"})) << r["name"];
  }
  EXPECT_THAT(names, ::testing::UnorderedElementsAre(
                         "localsubjectaccessreviews", "selfsubjectaccessreviews",
                         "selfsubjectrulesreviews", "subjectaccessreviews"));
  EXPECT_EQ(Get("/apis/authentication.k8s.io/v1").code, 200);
}

TEST_F(AccessReviewTest, SelfSubjectReviewWithoutAuthenticationIsAnonymous) {
  HttpResult r = PostProtobuf(kSsr, ReadAccess("kubectl-whoami.req.pb"));
  EXPECT_EQ(r.code, 201);
  json answer = json::parse(ToJsonText(r.body));
  EXPECT_EQ(answer["status"]["userInfo"],
            json({{"username", "system:anonymous"}, {"groups", {"system:unauthenticated"}}}));
  EXPECT_TRUE(answer["metadata"]["creationTimestamp"].is_string());
}

TEST_F(AccessReviewTest, TokenReviewOfAnUnknownTokenIsNotAuthenticated) {
  HttpResult r = Post(kTokenReviews, R"({"spec":{"token":"not-a-valid-token"}})");
  EXPECT_EQ(r.code, 201);
  EXPECT_EQ(r.body, WithoutManagedFields(ReadAccess("tokenreview.invalid-token.json")));
  EXPECT_EQ(Post(kTokenReviews, R"({"spec":{}})").Json()["message"],
            "token is required for TokenReview in authentication");
}

TEST_F(AccessReviewTest, ReviewFieldOfTheWrongTypeIsBadRequest) {
  HttpResult r = Post(kSsar, R"({"spec":{"resourceAttributes":{"verb":5}}})");
  EXPECT_EQ(r.code, 400);
  EXPECT_THAT(r.Json()["message"].get<std::string>(),
              HasSubstr("SelfSubjectAccessReview in version \"v1\" cannot be handled as a "
                        "SelfSubjectAccessReview"));
}

// A server with a token file: the recorded sample's user `admin` (uid admin, system:masters).
class AccessReviewTokenTest : public AccessReviewTest {
 protected:
  ApiServerOptions Options() const override {
    ApiServerOptions o = ApiServerFixture::Options();
    o.token_auth_file = token_file_;
    return o;
  }
  ClientOptions ClientOpts() const override { return {.token = "admin-token"}; }
  void SetUp() override {
    char path[] = "/tmp/kinf-review-tokens-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    ::close(fd);
    token_file_ = path;
    std::ofstream(token_file_) << "admin-token,admin,admin,\"system:masters\"\n"
                                  "dev-token,dev,dev-uid\n";
    AccessReviewTest::SetUp();
  }
  void TearDown() override {
    AccessReviewTest::TearDown();
    std::remove(token_file_.c_str());
  }
  std::string token_file_;
};

TEST_F(AccessReviewTokenTest, KubectlWhoamiNamesTheTokenUserAndGroups) {
  HttpResult r = PostProtobuf(kSsr, ReadAccess("kubectl-whoami.req.pb"));
  EXPECT_EQ(r.code, 201);
  json got = json::parse(ToJsonText(r.body));
  json want = json::parse(ToJsonText(ReadAccess("kubectl-whoami.resp.pb")));
  EXPECT_EQ(got["status"], want["status"]);  // admin, uid admin, system:masters + authenticated
  EXPECT_EQ(got["kind"], want["kind"]);
}

TEST_F(AccessReviewTokenTest, ImpersonatedUserGetsSystemAuthenticated) {
  HttpResult r = client().Request("POST", kSsr, "{}",
                                  {"Content-Type: application/json", "Impersonate-User: jane"});
  EXPECT_EQ(r.Json()["status"]["userInfo"],
            json({{"username", "jane"}, {"groups", {"system:authenticated"}}}));
}

TEST_F(AccessReviewTokenTest, ImpersonatedServiceAccountGetsItsGroups) {
  HttpResult r = client().Request(
      "POST", kSsr, "{}",
      {"Content-Type: application/json", "Impersonate-User: system:serviceaccount:ns1:web",
       "Impersonate-Uid: u-1", "Impersonate-Extra-Scopes: view"});
  EXPECT_EQ(
      r.Json()["status"]["userInfo"],
      json({{"username", "system:serviceaccount:ns1:web"},
            {"uid", "u-1"},
            {"groups",
             {"system:serviceaccounts", "system:serviceaccounts:ns1", "system:authenticated"}},
            {"extra", {{"scopes", {"view"}}}}}));
}

TEST_F(AccessReviewTokenTest, ImpersonatedGroupsReplaceTheDefaultOnes) {
  HttpResult r = client().Request("POST", kSsr, "{}",
                                  {"Content-Type: application/json", "Impersonate-User: jane",
                                   "Impersonate-Group: devs", "Impersonate-Group: ops"});
  EXPECT_THAT(r.Json()["status"]["userInfo"]["groups"], ElementsAre("devs", "ops"));
}

TEST_F(AccessReviewTokenTest, ImpersonatingGroupsWithoutAUserIsAnInternalError) {
  HttpResult r =
      client().Request("GET", "/api/v1/namespaces?limit=1", "", {"Impersonate-Group: devs"});
  EXPECT_EQ(r.code, 500);
  EXPECT_EQ(r.body,
            "Internal Server Error: \"/api/v1/namespaces?limit=1\": requested [{Group  devs    }] "
            "without impersonating a user\n");
}

TEST_F(AccessReviewTokenTest, EmptyImpersonateUserIsNoImpersonation) {
  HttpResult r = client().Request(
      "POST", kSsr, "{}", {"Content-Type: application/json", "Impersonate-User;"});  // curl: empty
  EXPECT_EQ(r.code, 201);
  EXPECT_EQ(r.Json()["status"]["userInfo"]["username"], "admin");
}

TEST_F(AccessReviewTokenTest, TokenReviewOfAKnownTokenIsAuthenticated) {
  HttpResult r = Post(kTokenReviews, R"({"spec":{"token":"dev-token"}})");
  EXPECT_EQ(r.code, 201);
  EXPECT_EQ(
      r.Json()["status"],
      json({{"authenticated", true},
            {"user",
             {{"username", "dev"}, {"uid", "dev-uid"}, {"groups", {"system:authenticated"}}}}}));
}

TEST_F(AccessReviewTokenTest, ReviewsNeedCredentials) {
  TestHttpClient anonymous(server().Url());
  EXPECT_EQ(anonymous.Request("POST", kSsr, "{}", {"Content-Type: application/json"}).code, 401);
}

}  // namespace
}  // namespace kube::testing
