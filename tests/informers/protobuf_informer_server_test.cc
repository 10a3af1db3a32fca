// Informers over protobuf against the embedded API server, end to end: a Pod informer that
// lists and watches in Kubernetes' protobuf holds the same cache as one that speaks JSON, sees
// the same adds, updates and deletes, and really spoke protobuf (the answers' Content-Types, and
// objects that keep their protobuf message).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "kube/client/http_client.h"
#include "kube/config/rest_config.h"
#include "kube/informers/factory.h"
#include "kube/proto/protobuf.h"
#include "tests/testing/api_server_fixture.h"

namespace kube {
namespace {

using namespace std::chrono_literals;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Pair;

const GroupVersionResource kPods{"", "v1", "pods"};

std::string PodJson(const std::string& name, const std::string& version) {
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
         R"(","namespace":"default","labels":{"app":"web","version":")" + version +
         R"("},"annotations":{"note":"<&>"}},)"
         R"("spec":{"containers":[{"name":"app","image":"nginx:)" +
         version +
         R"(","ports":[{"containerPort":8080}],"resources":{"limits":{"cpu":"500m"}}}]}})";
}

// Records the Content-Type of every answer, list and watch alike.
class RecordingHttpClient : public HttpClient {
 public:
  explicit RecordingHttpClient(std::shared_ptr<HttpClient> inner) : inner_(std::move(inner)) {}

  Result<HttpResponse> Do(const HttpRequest& request) override {
    Result<HttpResponse> r = inner_->Do(request);
    if (r) Note(r->content_type);
    return r;
  }
  std::unique_ptr<HttpStream> Stream(const HttpRequest& request,
                                     StreamCallbacks callbacks) override {
    auto on_headers = std::move(callbacks.on_headers);
    callbacks.on_headers = [this, on_headers](const HttpResponseHead& head) {
      Note(head.content_type);
      if (on_headers) on_headers(head);
    };
    return inner_->Stream(request, std::move(callbacks));
  }
  const std::string& server() const override { return inner_->server(); }
  size_t max_watch_frame_bytes() const override { return inner_->max_watch_frame_bytes(); }
  bool prefer_protobuf() const override { return inner_->prefer_protobuf(); }
  bool parallel_list_decode() const override { return inner_->parallel_list_decode(); }

  std::set<std::string> content_types() const {
    std::lock_guard<std::mutex> l(mu_);
    return content_types_;
  }

 private:
  void Note(const std::string& content_type) {
    std::lock_guard<std::mutex> l(mu_);
    content_types_.insert(content_type);
  }

  std::shared_ptr<HttpClient> inner_;
  mutable std::mutex mu_;
  std::set<std::string> content_types_;
};

// Handler lines, waited on by the test.
class Lines {
 public:
  void Add(std::string line) {
    std::lock_guard<std::mutex> l(mu_);
    lines_.push_back(std::move(line));
    cv_.notify_all();
  }
  bool WaitFor(const std::string& line, std::chrono::milliseconds timeout = 20s) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(
        l, timeout, [&] { return std::find(lines_.begin(), lines_.end(), line) != lines_.end(); });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
};

struct Side {
  std::shared_ptr<RecordingHttpClient> http;
  std::unique_ptr<SharedInformerFactory> factory;
  std::shared_ptr<SharedIndexInformer> informer;
  Lines lines;
  // Whether every object a handler saw kept its protobuf message.
  std::mutex mu;
  size_t objects = 0;
  size_t kept_protobuf = 0;

  void Saw(const Object& obj) {
    std::lock_guard<std::mutex> l(mu);
    ++objects;
    kept_protobuf += ObjectKeepsProtobuf(obj) ? 1 : 0;
  }
};

class ProtobufInformerServerTest : public ::kube::testing::ApiServerFixture {
 protected:
  void Make(Side* side, bool protobuf) {
    RestConfig config;
    config.server = server().Url();
    config.timeout = 10s;
    auto http = MakeCurlHttpClient(config, {.prefer_protobuf = protobuf});
    ASSERT_TRUE(http.has_value()) << http.error();
    side->http = std::make_shared<RecordingHttpClient>(*http);
    SharedInformerFactoryOptions o;
    o.reflector.backoff_initial = 20ms;
    side->factory = SharedInformerFactory::Create(side->http, std::move(o));
    side->informer = side->factory->InformerFor(kPods, {.kind = "Pod"});
    auto reg = side->informer->AddEventHandler(ResourceEventHandlerFuncs{
        .add =
            [side](const ObjectPtr& obj, bool) {
              side->Saw(*obj);
              side->lines.Add("add " + std::string(obj->name()) + " " +
                              std::string(obj->labels().Get("version").value_or("")));
            },
        .update =
            [side](const ObjectPtr&, const ObjectPtr& obj) {
              side->Saw(*obj);
              side->lines.Add("update " + std::string(obj->name()) + " " +
                              std::string(obj->labels().Get("version").value_or("")));
            },
        .del =
            [side](const DeletedObject& d) {
              side->Saw(*d.object());
              side->lines.Add("delete " + std::string(d.object()->name()));
            }});
    ASSERT_TRUE(reg.has_value()) << reg.error();
    side->factory->Start();
    ASSERT_THAT(side->factory->WaitForHandlersSync(20s), ElementsAre(Pair(kPods, true)));
  }

  // Both caches hold the same objects. The embedded server stores the JSON it was given and
  // answers JSON with it, while its protobuf answers are that JSON encoded (so they decode to
  // Go's member order, with Go's zero-valued members): put through the protobuf encoding, both
  // sides' objects are the same bytes.
  static void ExpectSameCache(const Side& pb, const Side& json) {
    std::vector<std::string> keys = json.informer->GetIndexer()->ListKeys();
    EXPECT_EQ(pb.informer->GetIndexer()->ListKeys().size(), keys.size());
    for (const std::string& key : keys) {
      SCOPED_TRACE(key);
      ObjectPtr a = pb.informer->GetIndexer()->GetByKey(key);
      ObjectPtr b = json.informer->GetIndexer()->GetByKey(key);
      ASSERT_NE(a, nullptr);
      ASSERT_NE(b, nullptr);
      EXPECT_TRUE(ObjectKeepsProtobuf(*a));
      EXPECT_FALSE(ObjectKeepsProtobuf(*b));
      // As a whole body of its own (a list item and a watch event's object differ in where
      // kind and apiVersion sit).
      auto normal = [](const Object& o) {
        auto body = JsonToProtobuf(o.json());
        EXPECT_TRUE(body.has_value()) << body.error();
        return body ? ProtobufToJson(*body).value_or("?") : std::string();
      };
      EXPECT_EQ(normal(*a), normal(*b));
      EXPECT_EQ(a->name(), b->name());
      EXPECT_EQ(a->uid(), b->uid());
      EXPECT_EQ(a->resource_version(), b->resource_version());
      EXPECT_EQ(a->creation_timestamp(), b->creation_timestamp());
      EXPECT_EQ(std::vector(a->labels().begin(), a->labels().end()),
                std::vector(b->labels().begin(), b->labels().end()));
      EXPECT_EQ(std::vector(a->annotations().begin(), a->annotations().end()),
                std::vector(b->annotations().begin(), b->annotations().end()));
      EXPECT_EQ(a->GetString("spec.containers[0].image").value_or("?"),
                b->GetString("spec.containers[0].image").value_or("!"));
    }
  }
};

TEST_F(ProtobufInformerServerTest, SyncsAndWatchesOverProtobufAsAJsonInformerDoes) {
  for (int i = 0; i < 20; ++i) MustCreate(PodJson("web-" + std::to_string(i), "1"));
  Side pb, json;
  ASSERT_NO_FATAL_FAILURE(Make(&pb, /*protobuf=*/true));
  ASSERT_NO_FATAL_FAILURE(Make(&json, /*protobuf=*/false));
  ASSERT_TRUE(pb.lines.WaitFor("add web-19 1"));
  ExpectSameCache(pb, json);

  // Add, update, delete arrive over the watch.
  MustCreate(PodJson("late", "1"));
  ASSERT_TRUE(server().Apply(PodJson("web-3", "2")).has_value());
  ASSERT_TRUE(server().Delete(kPods, "default", "web-7").ok());
  for (Side* side : {&pb, &json}) {
    EXPECT_TRUE(side->lines.WaitFor("add late 1"));
    EXPECT_TRUE(side->lines.WaitFor("update web-3 2"));
    EXPECT_TRUE(side->lines.WaitFor("delete web-7"));
  }
  ExpectSameCache(pb, json);

  // The protobuf informer spoke protobuf, for its list and its watch; the other, JSON only.
  EXPECT_THAT(pb.http->content_types(), Contains(kProtobufContentType));
  EXPECT_THAT(pb.http->content_types(), Contains(kProtobufWatchContentType));
  for (const std::string& ct : json.http->content_types()) {
    EXPECT_EQ(ct.find("protobuf"), std::string::npos) << ct;
  }
  {
    std::lock_guard<std::mutex> l(pb.mu);
    EXPECT_GT(pb.objects, 20u);
    EXPECT_EQ(pb.kept_protobuf, pb.objects);
  }
  {
    std::lock_guard<std::mutex> l(json.mu);
    EXPECT_EQ(json.kept_protobuf, 0u);
  }
  pb.factory->Shutdown();
  json.factory->Shutdown();
}

}  // namespace
}  // namespace kube
