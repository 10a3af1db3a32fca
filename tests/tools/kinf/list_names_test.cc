// ListNameScanner and ListNames (tools/kinf/list_names.h): the rows `kinf get` prints, taken
// from protobuf and JSON list bodies in pieces of any size, checked against `DecodeList`.
#include "kinf/list_names.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kube/object.h"
#include "kube/proto/protobuf.h"

namespace kinf {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string PodJson(const std::string& ns, const std::string& name, const std::string& created) {
  std::string meta = R"("name":")" + name + R"(","namespace":")" + ns + R"(","uid":"u-)" + name +
                     R"(","resourceVersion":"7","labels":{"app":"web"})";
  if (!created.empty()) meta += R"(,"creationTimestamp":")" + created + R"(")";
  return R"({"metadata":{)" + meta +
         R"(},"spec":{"containers":[{"name":"c","image":"busybox","args":["{\"not\":\"metadata\"}"]}]},"status":{"phase":"Running"}})";
}

std::string PodListJson(const std::string& continue_token = "") {
  std::string meta = R"("resourceVersion":"42")";
  if (!continue_token.empty()) meta += R"(,"continue":")" + continue_token + R"(")";
  return R"({"kind":"PodList","apiVersion":"v1","metadata":{)" + meta + R"(},"items":[)" +
         PodJson("zeta", "b", "2024-03-06T09:40:06Z") + "," +
         PodJson("alpha", "a-long-name", "2026-12-07T08:21:13Z") + "," +
         PodJson("alpha", "no-time", "") + "]}";
}

// The rows the object path gives: what `kinf get` printed before it scanned names.
std::vector<ListedName> RowsFromObjects(const std::string& json) {
  kube::Result<kube::ObjectList> list = kube::DecodeList(json);
  EXPECT_TRUE(list.has_value()) << list.error().ToString();
  std::vector<ListedName> rows;
  for (const kube::ObjectPtr& obj : list->items) {
    rows.push_back({std::string(obj->ns()), std::string(obj->name()), obj->creation_time()});
  }
  return rows;
}

MATCHER_P(SameRows, want, "") {
  if (arg.size() != want.size()) return false;
  for (size_t i = 0; i < arg.size(); ++i) {
    if (arg[i].ns != want[i].ns || arg[i].name != want[i].name ||
        arg[i].created != want[i].created) {
      *result_listener << "row " << i << " is " << arg[i].ns << "/" << arg[i].name;
      return false;
    }
  }
  return true;
}

// Feeds `body` in pieces of `piece` bytes.
kube::Result<std::string> Scan(std::string_view body, size_t piece, std::vector<ListedName>* rows,
                               bool* unknown_kind = nullptr) {
  ListNameScanner scanner(rows);
  for (size_t at = 0; at < body.size(); at += piece) scanner.Feed(body.substr(at, piece));
  kube::Result<std::string> r = scanner.Finish();
  if (unknown_kind) *unknown_kind = scanner.unknown_kind();
  return r;
}

TEST(ListNameScannerTest, ProtobufRowsEqualTheObjectsInPiecesOfAnySize) {
  const std::string json = PodListJson("next-page");
  kube::Result<std::string> body = kube::JsonToProtobuf(json);
  ASSERT_TRUE(body.has_value()) << body.error().ToString();
  const std::vector<ListedName> want = RowsFromObjects(json);
  ASSERT_EQ(want.size(), 3u);
  for (size_t piece = 1; piece <= body->size(); ++piece) {
    SCOPED_TRACE(piece);
    std::vector<ListedName> rows;
    kube::Result<std::string> next = Scan(*body, piece, &rows);
    ASSERT_TRUE(next.has_value()) << next.error().ToString();
    EXPECT_EQ(*next, "next-page");
    EXPECT_THAT(rows, SameRows(want));
  }
}

TEST(ListNameScannerTest, JsonRowsEqualTheObjectsInPiecesOfAnySize) {
  const std::string json = PodListJson("next-page");
  const std::vector<ListedName> want = RowsFromObjects(json);
  for (size_t piece : {size_t{1}, size_t{7}, size_t{100}, json.size()}) {
    SCOPED_TRACE(piece);
    std::vector<ListedName> rows;
    kube::Result<std::string> next = Scan(json, piece, &rows);
    ASSERT_TRUE(next.has_value()) << next.error().ToString();
    EXPECT_EQ(*next, "next-page");
    EXPECT_THAT(rows, SameRows(want));
  }
}

TEST(ListNameScannerTest, LastPageHasNoContinueToken) {
  kube::Result<std::string> body = kube::JsonToProtobuf(PodListJson());
  ASSERT_TRUE(body.has_value());
  std::vector<ListedName> rows;
  kube::Result<std::string> next = Scan(*body, 4096, &rows);
  ASSERT_TRUE(next.has_value()) << next.error().ToString();
  EXPECT_EQ(*next, "");
  EXPECT_EQ(rows.size(), 3u);
}

TEST(ListNameScannerTest, ClusterScopedObjectsHaveNoNamespace) {
  const std::string json =
      R"({"kind":"NamespaceList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"default"}},{"metadata":{"name":"kube-system"}}]})";
  kube::Result<std::string> body = kube::JsonToProtobuf(json);
  ASSERT_TRUE(body.has_value()) << body.error().ToString();
  std::vector<ListedName> rows;
  ASSERT_TRUE(Scan(*body, 3, &rows).has_value());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].ns, "");
  EXPECT_EQ(rows[1].name, "kube-system");
  EXPECT_FALSE(rows[1].created.has_value());
}

TEST(ListNameScannerTest, EveryTruncationInsideTheListIsAnError) {
  kube::Result<std::string> body = kube::JsonToProtobuf(PodListJson());
  ASSERT_TRUE(body.has_value());
  // Cut anywhere before the end of `raw` (the list's message). After it, only empty envelope
  // fields follow, and a body cut between two of them is a well-formed message.
  kube::Result<kube::ProtobufEnvelope> envelope = kube::ParseProtobufEnvelope(*body);
  ASSERT_TRUE(envelope.has_value());
  const size_t raw_end =
      static_cast<size_t>(envelope->raw.data() + envelope->raw.size() - body->data());
  for (size_t n = 0; n < raw_end; ++n) {
    SCOPED_TRACE(n);
    std::vector<ListedName> rows;
    kube::Result<std::string> next = Scan(std::string_view(*body).substr(0, n), 5, &rows);
    EXPECT_FALSE(next.has_value());
  }
}

TEST(ListNameScannerTest, MalformedBodiesAreErrorsNotCrashes) {
  kube::Result<std::string> good = kube::JsonToProtobuf(PodListJson());
  ASSERT_TRUE(good.has_value());
  // Every single byte flipped: an error or rows, never a crash or an overread (ASan).
  for (size_t i = 0; i < good->size(); ++i) {
    std::string body = *good;
    body[i] = static_cast<char>(body[i] ^ 0xff);
    std::vector<ListedName> rows;
    (void)Scan(body, 11, &rows);
  }
  std::vector<ListedName> rows;
  kube::Result<std::string> bad_magic = Scan(std::string("k8s\1") + good->substr(4), 64, &rows);
  ASSERT_FALSE(bad_magic.has_value());
  EXPECT_THAT(bad_magic.error().message(), HasSubstr("magic"));
  EXPECT_FALSE(Scan("", 1, &rows).has_value());
  EXPECT_FALSE(Scan("{\"items\":", 1, &rows).has_value());
}

// Varint bytes of `v` (protobuf's encoding of an unsigned integer).
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}

TEST(ListNameScannerTest, CreationTimeBeyondTheYear9999IsAnErrorNotAnOverflow) {
  const std::string json = R"({"kind":"PodList","apiVersion":"v1","metadata":{},"items":[)" +
                           PodJson("ns", "last", "9999-12-31T23:59:59Z") + "]}";
  kube::Result<std::string> body = kube::JsonToProtobuf(json);
  ASSERT_TRUE(body.has_value()) << body.error().ToString();
  std::vector<ListedName> rows;
  ASSERT_TRUE(Scan(*body, 64, &rows).has_value());
  // A valid time, but beyond what a system_clock time point holds: no time, as
  // `Object::creation_time` answers.
  EXPECT_THAT(rows, SameRows(RowsFromObjects(json)));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].created, std::nullopt);

  // One second later (the same varint length), and far beyond: the object decoder refuses such
  // an item, and so does the scanner, instead of overflowing the clock's nanoseconds.
  for (uint64_t secs : {uint64_t{253402300800}, uint64_t{582335609334}}) {
    SCOPED_TRACE(secs);
    const std::string from = Varint(253402300799);
    const std::string to = Varint(secs);
    ASSERT_EQ(from.size(), to.size());
    std::string changed = *body;
    size_t at = changed.find(from);
    ASSERT_NE(at, std::string::npos);
    changed.replace(at, from.size(), to);
    rows.clear();
    EXPECT_FALSE(Scan(changed, 64, &rows).has_value());
  }
}

TEST(ListNameScannerTest, ContentEncodingIsRefused) {
  kube::Result<std::string> body = kube::JsonToProtobuf(PodListJson());
  ASSERT_TRUE(body.has_value());
  std::string gzip = *body;
  gzip += std::string("\x1a\x04gzip", 6);  // envelope field 3, contentEncoding
  std::vector<ListedName> rows;
  kube::Result<std::string> next = Scan(gzip, 64, &rows);
  ASSERT_FALSE(next.has_value());
  EXPECT_THAT(next.error().message(), HasSubstr("contentEncoding"));
}

TEST(ListNameScannerTest, UnknownListKindIsReported) {
  // typeMeta {apiVersion: "v1", kind: "ThingList"}, then an empty raw.
  std::string type_meta = std::string("\x0a\x02v1\x12\x09ThingList", 15);
  std::string body = std::string("k8s\0", 4) + "\x0a" + static_cast<char>(type_meta.size()) +
                     type_meta + std::string("\x12\x00", 2);
  std::vector<ListedName> rows;
  bool unknown_kind = false;
  kube::Result<std::string> next = Scan(body, 64, &rows, &unknown_kind);
  ASSERT_FALSE(next.has_value());
  EXPECT_TRUE(unknown_kind);
}

// Answers each `Do` with the next scripted response, streaming 2xx bodies to the sink.
class ScriptedHttpClient : public kube::HttpClient {
 public:
  explicit ScriptedHttpClient(std::vector<kube::HttpResponse> answers)
      : answers_(std::move(answers)) {}
  kube::Result<kube::HttpResponse> Do(const kube::HttpRequest& request) override {
    requests.push_back(request.path);
    accepts.push_back(request.accept);
    if (next_ >= answers_.size()) return kube::InternalError("no more answers");
    kube::HttpResponse resp = answers_[next_++];
    if (request.body_sink && resp.status / 100 == 2) {
      for (size_t at = 0; at < resp.body.size(); at += 100) {
        request.body_sink(std::string_view(resp.body).substr(at, 100));
      }
      resp.body.clear();
    }
    return resp;
  }
  std::unique_ptr<kube::HttpStream> Stream(const kube::HttpRequest&,
                                           kube::StreamCallbacks) override {
    return nullptr;
  }
  const std::string& server() const override { return server_; }

  std::vector<std::string> requests;
  std::vector<std::string> accepts;

 private:
  std::vector<kube::HttpResponse> answers_;
  size_t next_ = 0;
  std::string server_ = "http://127.0.0.1:1";
};

const char* const kProtobuf = "application/vnd.kubernetes.protobuf";

TEST(ListNamesTest, FollowsContinueTokensAcrossPages) {
  kube::Result<std::string> page1 = kube::JsonToProtobuf(PodListJson("tok/1"));
  kube::Result<std::string> page2 = kube::JsonToProtobuf(PodListJson());
  ASSERT_TRUE(page1.has_value() && page2.has_value());
  auto http = std::make_shared<ScriptedHttpClient>(std::vector<kube::HttpResponse>{
      {200, *page1, kProtobuf, std::nullopt}, {200, *page2, kProtobuf, std::nullopt}});
  kube::ResourceClient client(http, {"", "v1", "pods"});
  kube::ListOptions options;
  options.resource_version = "0";
  options.label_selector = "app=web";
  std::vector<ListedName> rows;
  bool unknown_kind = true;
  kube::Status st = ListNames(client, options, &rows, &unknown_kind);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_FALSE(unknown_kind);
  EXPECT_EQ(rows.size(), 6u);
  // The continued page carries the token and no resourceVersion (the token names the snapshot).
  EXPECT_THAT(http->requests, ElementsAre("/api/v1/pods?labelSelector=app%3Dweb&resourceVersion=0",
                                          "/api/v1/pods?labelSelector=app%3Dweb&continue=tok%2F1"));
  EXPECT_THAT(http->accepts[0], HasSubstr(kProtobuf));
}

TEST(ListNamesTest, AnErrorAnswerIsTheServersStatus) {
  auto http = std::make_shared<ScriptedHttpClient>(std::vector<kube::HttpResponse>{
      {403,
       R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods is forbidden: User \"x\" cannot list resource \"pods\"","reason":"Forbidden","code":403})",
       "application/json", std::nullopt}});
  kube::ResourceClient client(http, {"", "v1", "pods"});
  std::vector<ListedName> rows;
  bool unknown_kind = false;
  kube::Status st = ListNames(client, {}, &rows, &unknown_kind);
  EXPECT_TRUE(kube::IsForbidden(st)) << st.ToString();
  EXPECT_THAT(st.message(), HasSubstr("pods is forbidden"));
}

TEST(ListNamesTest, AMalformedBodyIsDataLoss) {
  auto http = std::make_shared<ScriptedHttpClient>(std::vector<kube::HttpResponse>{
      {200, std::string("k8s\0\x12\x7f", 6), kProtobuf, std::nullopt}});
  kube::ResourceClient client(http, {"", "v1", "pods"});
  std::vector<ListedName> rows;
  bool unknown_kind = false;
  kube::Status st = ListNames(client, {}, &rows, &unknown_kind);
  EXPECT_EQ(st.code(), kube::StatusCode::kDataLoss) << st.ToString();
  EXPECT_THAT(st.message(), HasSubstr("decoding the answer to GET /api/v1/pods"));
}

}  // namespace
}  // namespace kinf
