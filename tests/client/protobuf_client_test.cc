// Tests for the resource client speaking protobuf to a scripted server that answers with bodies
// recorded from kube-apiserver v1.32 (tests/proto/testdata): the Accept header per resource and
// the off switch, lists with continue pages, gets, watches with bookmarks and 410, protobuf
// Status errors equal to their JSON twins, truncated bodies and streams, the fallback to JSON for
// an unknown kind, and an informer that syncs and watches over protobuf.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kube/cache/list_watch.h"
#include "kube/cache/shared_informer.h"
#include "kube/client/rest_client.h"
#include "kube/logging.h"
#include "kube/proto/protobuf.h"
#include "proto/wire.h"
#include "tests/client/scripted_server.h"
#include "watch/watch_decoder.h"

namespace kube {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ScriptedConn;
using testing::ScriptedRequest;
using testing::ScriptedServer;

constexpr std::string_view kAcceptBoth = "application/vnd.kubernetes.protobuf, application/json";
constexpr std::string_view kPb = "application/vnd.kubernetes.protobuf";
constexpr std::string_view kPbWatch = "application/vnd.kubernetes.protobuf;stream=watch";
const GroupVersionResource kPods{"", "v1", "pods"};
const GroupVersionResource kConfigMaps{"", "v1", "configmaps"};
const GroupVersionResource kWidgets{"example.com", "v1", "widgets"};

std::string Testdata(const std::string& name) {
  std::ifstream in(std::string(KUBE_PROTO_TESTDATA) + "/" + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  EXPECT_FALSE(s.str().empty()) << name;
  return s.str();
}

std::shared_ptr<HttpClient> ClientFor(const ScriptedServer& server, bool prefer_protobuf = true,
                                      size_t max_watch_frame_bytes = 0) {
  RestConfig c;
  c.server = server.url();
  HttpClientOptions options;
  options.retry_wait = [](std::chrono::seconds) { return false; };
  options.prefer_protobuf = prefer_protobuf;
  if (max_watch_frame_bytes > 0) options.max_watch_frame_bytes = max_watch_frame_bytes;
  return *MakeCurlHttpClient(c, options);
}

bool Has(const std::string& target, std::string_view what) {
  return target.find(what) != std::string::npos;
}

// Sends `body` in pieces of `piece` bytes.
void Dribble(ScriptedConn& conn, std::string_view content_type, std::string_view body,
             size_t piece) {
  conn.StartChunked(200, content_type);
  for (size_t at = 0; at < body.size(); at += piece) conn.Chunk(body.substr(at, piece));
  conn.EndChunked();
}

std::vector<std::string> Names(const std::vector<ObjectPtr>& items) {
  std::vector<std::string> names;
  for (const ObjectPtr& o : items) names.emplace_back(o->name());
  return names;
}

std::vector<std::string> Accepts(const ScriptedServer& server) {
  std::vector<std::string> out;
  for (const ScriptedRequest& r : server.requests()) out.push_back(r.Header("accept"));
  return out;
}

// Captures warnings while alive.
class LogCapture {
 public:
  LogCapture() {
    SetLogSink([this](LogSeverity severity, std::string_view component, std::string_view m) {
      if (severity < LogSeverity::kWarning) return;
      std::lock_guard<std::mutex> l(mu_);
      lines_.push_back(std::string(component) + ": " + std::string(m));
    });
  }
  ~LogCapture() { SetLogSink(nullptr); }
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> l(mu_);
    return lines_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

TEST(ProtobufClientTest, AsksForProtobufForBuiltInKindsOnly) {
  ScriptedServer server([](const ScriptedRequest& req, ScriptedConn& conn) {
    if (Has(req.target, "watch=true")) {
      conn.StartChunked(200, "application/json");
      conn.EndChunked();
    } else if (Has(req.target, "widgets")) {
      conn.Respond(
          200, "application/json",
          R"({"kind":"WidgetList","apiVersion":"example.com/v1","metadata":{},"items":[]})");
    } else {
      conn.Respond(200, kPb, Testdata("list/pods.limit2.page3.pb"));
    }
  });
  auto http = ClientFor(server);
  ResourceClient pods(http, kPods, "wire-demo");
  EXPECT_TRUE(pods.protobuf());
  ASSERT_TRUE(pods.List());
  ASSERT_TRUE(pods.Watch());
  ResourceClient widgets(http, kWidgets, "default");
  EXPECT_FALSE(widgets.protobuf());
  ASSERT_TRUE(widgets.List());
  ASSERT_TRUE(widgets.Watch());
  EXPECT_THAT(Accepts(server),
              ElementsAre(kAcceptBoth, kAcceptBoth, "application/json", "application/json"));
}

TEST(ProtobufClientTest, OffSwitchAsksForJsonOnly) {
  ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
    conn.Respond(200, "application/json",
                 R"({"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]})");
  });
  ResourceClient pods(ClientFor(server, /*prefer_protobuf=*/false), kPods, "default");
  EXPECT_FALSE(pods.protobuf());
  ASSERT_TRUE(pods.List());
  EXPECT_THAT(Accepts(server), ElementsAre("application/json"));
}

TEST(ProtobufClientTest, ListsProtobufPagesAsTheirJsonTwins) {
  ScriptedServer server([](const ScriptedRequest& req, ScriptedConn& conn) {
    std::string page = "list/pods.limit2";
    if (Has(req.target,
            "continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6Mjk0LCJzdGFydCI6Ii9iYXRjaC0y")) {
      page += ".page2";
    } else if (Has(req.target, "continue=")) {
      page += ".page3";
    }
    bool protobuf = Has(req.Header("accept"), "protobuf");
    // In small pieces, so that items span chunks.
    Dribble(conn, protobuf ? kPb : "application/json",
            Testdata(page + (protobuf ? ".pb" : ".json")), 7);
  });
  std::vector<std::string> names[2];
  for (bool protobuf : {true, false}) {
    ResourceClient pods(ClientFor(server, protobuf), kPods, "wire-demo");
    ListOptions options{.limit = 2};
    std::vector<std::string> continues;
    for (int page = 0; page < 3; ++page) {
      Result<ObjectList> list = pods.List(options);
      ASSERT_TRUE(list) << list.error();
      EXPECT_EQ(list->resource_version, "294");
      for (const ObjectPtr& o : list->items) {
        EXPECT_EQ(o->kind(), "Pod");
        EXPECT_EQ(o->api_version(), "v1");
        names[protobuf].push_back(std::string(o->name()) + "@" +
                                  std::string(o->resource_version()));
      }
      continues.push_back(list->continue_token);
      options.continue_token = list->continue_token;
    }
    EXPECT_TRUE(continues[2].empty());
    EXPECT_FALSE(continues[1].empty());
  }
  EXPECT_EQ(names[1].size(), 5u);
  EXPECT_EQ(names[1], names[0]);
}

TEST(ProtobufClientTest, GetDecodesAProtobufObjectAsItsJsonTwin) {
  ScriptedServer server([](const ScriptedRequest& req, ScriptedConn& conn) {
    if (Has(req.Header("accept"), "protobuf")) {
      conn.Respond(200, kPb, Testdata("get/pod.pb"));
    } else {
      conn.Respond(200, "application/json", Testdata("get/pod.json"));
    }
  });
  Result<ObjectPtr> pb = ResourceClient(ClientFor(server), kPods, "wire-demo").Get("web-1");
  Result<ObjectPtr> json =
      ResourceClient(ClientFor(server, false), kPods, "wire-demo").Get("web-1");
  ASSERT_TRUE(pb) << pb.error();
  ASSERT_TRUE(json) << json.error();
  std::string want(json.value()->json());
  while (!want.empty() && want.back() == '\n') want.pop_back();
  EXPECT_EQ(pb.value()->json(), want);
}

struct StatusCase {
  const char* sample;  // protobuf body; its JSON twin has the same name with .json
  int http;
  StatusCode code;
  const char* reason;
};

TEST(ProtobufClientTest, ProtobufStatusErrorsDecodeAsTheirJsonTwins) {
  const StatusCase cases[] = {
      {"errors/get.404", 404, StatusCode::kNotFound, "NotFound"},
      {"errors/update.409-conflict-stale-rv", 409, StatusCode::kConflict, "Conflict"},
      {"list/configmaps.expired-continue", 410, StatusCode::kGone, "Expired"},
      {"errors/list.400-bad-labelselector", 400, StatusCode::kInvalidArgument, "BadRequest"},
  };
  for (const StatusCase& c : cases) {
    SCOPED_TRACE(c.sample);
    Status pb = StatusFromResponse(
        HttpResponse{c.http, Testdata(std::string(c.sample) + ".pb"), std::string(kPb)}, "GET x");
    Status json = StatusFromResponse(
        HttpResponse{c.http, Testdata(std::string(c.sample) + ".json"), "application/json"},
        "GET x");
    EXPECT_EQ(pb.code(), c.code);
    EXPECT_EQ(pb.reason(), c.reason);
    EXPECT_EQ(pb.code(), json.code());
    EXPECT_EQ(pb.reason(), json.reason());
    EXPECT_EQ(pb.message(), json.message());
    EXPECT_EQ(pb.http_code(), json.http_code());
  }
  // Through the client: a get and a list.
  ScriptedServer server([](const ScriptedRequest& req, ScriptedConn& conn) {
    if (Has(req.target, "continue=")) {
      conn.Respond(410, kPb, Testdata("list/configmaps.expired-continue.pb"));
    } else {
      conn.Respond(404, kPb, Testdata("errors/get.404.pb"));
    }
  });
  ResourceClient pods(ClientFor(server), kPods, "wire-demo");
  Result<ObjectPtr> got = pods.Get("missing");
  ASSERT_FALSE(got);
  EXPECT_TRUE(IsNotFound(got.error()));
  EXPECT_THAT(got.error().message(), HasSubstr("not found"));
  Result<ObjectList> list = pods.List({.continue_token = "old"});
  ASSERT_FALSE(list);
  EXPECT_TRUE(IsGone(list.error()));
  EXPECT_EQ(list.error().reason(), "Expired");
}

TEST(ProtobufClientTest, UndecodableProtobufErrorBodyIsClassifiedByCode) {
  Status s = StatusFromResponse(HttpResponse{503, std::string("k8s\0\x0a", 5), std::string(kPb)},
                                "GET /api/v1/pods");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("GET /api/v1/pods"));
  EXPECT_THAT(s.message(), HasSubstr("protobuf body that does not decode"));
}

std::vector<WatchEvent> Drain(kube::Watch& w) {
  std::vector<WatchEvent> events;
  while (std::optional<WatchEvent> e = w.Next()) events.push_back(*std::move(e));
  return events;
}

TEST(ProtobufClientTest, WatchDecodesProtobufEventsAndBookmarksInAnyPieces) {
  for (size_t piece : {size_t{1}, size_t{5}, size_t{4096}}) {
    SCOPED_TRACE("pieces of " + std::to_string(piece));
    ScriptedServer server([piece](const ScriptedRequest&, ScriptedConn& conn) {
      Dribble(conn, kPbWatch, Testdata("watch/configmaps.pb"), piece);
    });
    ResourceClient cms(ClientFor(server), kConfigMaps, "wire-demo");
    Result<std::unique_ptr<kube::Watch>> w = cms.Watch({.allow_watch_bookmarks = true});
    ASSERT_TRUE(w) << w.error();
    std::vector<WatchEvent> events = Drain(**w);
    // The JSON twin, decoded by the JSON decoder.
    internal::WatchDecoder json_decoder;
    std::vector<WatchEvent> want;
    json_decoder.Feed(Testdata("watch/configmaps.json"), &want);
    ASSERT_EQ(events.size(), want.size());
    ASSERT_EQ(events.size(), 6u);
    for (size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i].type, want[i].type);
      EXPECT_EQ(events[i].object->json(), want[i].object->json());
    }
    EXPECT_EQ(events[4].type, WatchEventType::kBookmark);
    EXPECT_EQ(events[4].object->resource_version(), "330");
  }
}

TEST(ProtobufClientTest, WatchTooOldIsOneGoneErrorEvent) {
  ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
    Dribble(conn, kPbWatch, Testdata("watch/configmaps.too-old-rv.pb"), 3);
  });
  ResourceClient cms(ClientFor(server), kConfigMaps, "wire-demo");
  Result<std::unique_ptr<kube::Watch>> w = cms.Watch({.resource_version = "1"});
  ASSERT_TRUE(w) << w.error();
  std::vector<WatchEvent> events = Drain(**w);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, WatchEventType::kError);
  EXPECT_TRUE(IsGone(events[0].error));
  EXPECT_EQ(events[0].error.reason(), "Expired");
  EXPECT_EQ(events[0].error.message(), "too old resource version: 1 (374)");
  EXPECT_EQ(events[0].object->kind(), "Status");
}

TEST(ProtobufClientTest, WatchRefusedWithProtobufStatusGivesTheStatus) {
  ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
    conn.Respond(410, kPb, Testdata("list/configmaps.expired-continue.pb"));
  });
  ResourceClient cms(ClientFor(server), kConfigMaps, "wire-demo");
  Result<std::unique_ptr<kube::Watch>> w = cms.Watch({.resource_version = "1"});
  ASSERT_FALSE(w);
  EXPECT_TRUE(IsGone(w.error()));
  std::promise<void> closed;
  std::future<void> closed_future = closed.get_future();
  std::vector<WatchEvent> events;
  std::mutex mu;
  WatchHandle h = cms.WatchAsync(
      {.resource_version = "1"},
      [&](WatchEvent e) {
        std::lock_guard<std::mutex> l(mu);
        events.push_back(std::move(e));
      },
      [&](Status) { closed.set_value(); });
  ASSERT_EQ(closed_future.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  std::lock_guard<std::mutex> l(mu);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(IsGone(events[0].error));
  EXPECT_EQ(events[0].object->kind(), "Status");
  EXPECT_EQ(events[0].error.reason(), "Expired");
}

TEST(ProtobufClientTest, TruncatedWatchEndsWithOneTruncatedError) {
  std::string stream = Testdata("watch/pods.pb");
  for (size_t cut : {size_t{2}, size_t{100}, stream.size() - 1}) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    ScriptedServer server([&](const ScriptedRequest&, ScriptedConn& conn) {
      Dribble(conn, kPbWatch, std::string_view(stream).substr(0, cut), 64);
    });
    auto http = ClientFor(server);  // outlives the watch
    Result<std::unique_ptr<kube::Watch>> w = ResourceClient(http, kPods).Watch();
    ASSERT_TRUE(w) << w.error();
    std::vector<WatchEvent> events = Drain(**w);
    ASSERT_FALSE(events.empty());
    for (size_t i = 0; i + 1 < events.size(); ++i)
      EXPECT_NE(events[i].type, WatchEventType::kError);
    const WatchEvent& last = events.back();
    EXPECT_EQ(last.type, WatchEventType::kError);
    EXPECT_EQ(last.error.code(), StatusCode::kDataLoss);
    EXPECT_THAT(last.error.message(), HasSubstr("watch stream truncated"));
    EXPECT_FALSE(internal::IsUndecodableWatchEvent(last.error));  // resuming is enough
  }
}

TEST(ProtobufClientTest, OversizedOrCorruptWatchFrameIsOneUndecodableError) {
  std::string stream = Testdata("watch/configmaps.pb");
  std::string corrupt = stream;
  corrupt[4] = '\x08';  // the first WatchEvent's `type` becomes a varint
  struct Case {
    std::string body;
    size_t limit;
    const char* phrase;
  } cases[] = {{stream, 64, "-byte frame limit"}, {corrupt, 0, "malformed watch event"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.phrase);
    ScriptedServer server(
        [&](const ScriptedRequest&, ScriptedConn& conn) { Dribble(conn, kPbWatch, c.body, 100); });
    auto http = ClientFor(server, true, c.limit);  // outlives the watch
    Result<std::unique_ptr<kube::Watch>> w = ResourceClient(http, kConfigMaps).Watch();
    ASSERT_TRUE(w) << w.error();
    std::vector<WatchEvent> events = Drain(**w);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].type, WatchEventType::kError);
    EXPECT_THAT(events[0].error.message(), HasSubstr(c.phrase));
    EXPECT_TRUE(internal::IsUndecodableWatchEvent(events[0].error));
  }
}

TEST(ProtobufClientTest, TruncatedListBodyIsDataLossNamingWhere) {
  std::string body = Testdata("list/pods.limit2.pb");
  ScriptedServer server([&](const ScriptedRequest&, ScriptedConn& conn) {
    Dribble(conn, kPb, std::string_view(body).substr(0, body.size() - 50), 16);
  });
  Result<ObjectList> list = ResourceClient(ClientFor(server), kPods, "wire-demo").List();
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().code(), StatusCode::kDataLoss);
  EXPECT_THAT(list.error().message(),
              HasSubstr("decoding the answer to GET /api/v1/namespaces/wire-demo/pods"));
  EXPECT_THAT(list.error().message(), HasSubstr("truncated at byte"));
  EXPECT_THAT(list.error().message(), HasSubstr("items[1]"));
}

TEST(ProtobufClientTest, ContentTypeThatContradictsTheBodyIsDataLoss) {
  ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
    conn.Respond(200, "application/json", Testdata("list/pods.limit2.pb"));
  });
  Result<ObjectList> list = ResourceClient(ClientFor(server), kPods).List();
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().code(), StatusCode::kDataLoss);
  EXPECT_THAT(list.error().message(), HasSubstr("Content-Type is \"application/json\""));
}

// A protobuf body of an (apiVersion, kind) the transcoder does not know.
std::string UnknownKindBody(std::string_view kind) {
  std::string type_meta;
  internal::proto::PutBytesField(1, "v1", &type_meta);
  internal::proto::PutBytesField(2, kind, &type_meta);
  std::string body(kProtobufMagic);
  internal::proto::PutBytesField(1, type_meta, &body);
  internal::proto::PutBytesField(2, std::string_view("\x0a\x00", 2), &body);
  return body;
}

TEST(ProtobufClientTest, UnknownKindFallsBackToJsonOnceAndRemembers) {
  const GroupVersionResource kFrobs{"", "v1", "frobs"};
  ScriptedServer server([](const ScriptedRequest& req, ScriptedConn& conn) {
    const bool protobuf = Has(req.Header("accept"), "protobuf");
    const bool watch = Has(req.target, "watch=true");
    if (watch && protobuf) {
      std::string frame;
      std::string event;
      std::string raw_ext;
      internal::proto::PutBytesField(1, UnknownKindBody("Frob"), &raw_ext);
      internal::proto::PutBytesField(1, "ADDED", &event);
      internal::proto::PutBytesField(2, raw_ext, &event);
      frame = std::string{'\0', '\0', '\0', static_cast<char>(event.size())} + event;
      Dribble(conn, kPbWatch, frame, 1000);
    } else if (watch) {
      conn.StartChunked(200, "application/json");
      conn.EndChunked();
    } else if (protobuf) {
      conn.Respond(200, kPb, UnknownKindBody(Has(req.target, "/frobs/") ? "Frob" : "FrobList"));
    } else if (Has(req.target, "/frobs/")) {
      conn.Respond(200, "application/json",
                   R"({"kind":"Frob","apiVersion":"v1","metadata":{"name":"f1"}})");
    } else {
      conn.Respond(
          200, "application/json",
          R"({"kind":"FrobList","apiVersion":"v1","metadata":{"resourceVersion":"5"},"items":[{"metadata":{"name":"f1"}}]})");
    }
  });
  LogCapture logs;
  auto http = ClientFor(server);
  {
    ResourceClient frobs(http, kFrobs, "default");
    Result<ObjectList> list = frobs.List();
    ASSERT_TRUE(list) << list.error();
    EXPECT_THAT(Names(list->items), ElementsAre("f1"));
    EXPECT_EQ(list->items[0]->kind(), "Frob");
    EXPECT_FALSE(frobs.protobuf());
    EXPECT_FALSE(frobs.InNamespace("other").protobuf());  // copies share what was learnt
    ASSERT_TRUE(frobs.List());
    EXPECT_THAT(Accepts(server), ElementsAre(kAcceptBoth, "application/json", "application/json"));
    std::vector<std::string> warnings = logs.lines();
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_THAT(warnings[0], HasSubstr("reading frobs as JSON from now on"));
    EXPECT_THAT(warnings[0], HasSubstr("\"FrobList\""));
  }
  {
    ResourceClient frobs(http, kFrobs, "default");  // a new client learns again
    Result<ObjectPtr> got = frobs.Get("f1");
    ASSERT_TRUE(got) << got.error();
    EXPECT_EQ(got.value()->name(), "f1");
    EXPECT_FALSE(frobs.protobuf());
  }
  {
    ResourceClient frobs(http, kFrobs, "default");
    Result<std::unique_ptr<kube::Watch>> w = frobs.Watch();
    ASSERT_TRUE(w) << w.error();
    std::vector<WatchEvent> events = Drain(**w);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].type, WatchEventType::kError);
    EXPECT_THAT(events[0].error.message(), HasSubstr("\"Frob\""));
    EXPECT_TRUE(internal::IsUndecodableWatchEvent(events[0].error));  // the reflector relists
    EXPECT_FALSE(frobs.protobuf());
  }
  EXPECT_EQ(logs.lines().size(), 3u);
}

TEST(ProtobufClientTest, InformerSyncsAndWatchesOverProtobuf) {
  ScriptedServer server([](const ScriptedRequest& req, ScriptedConn& conn) {
    if (!Has(req.Header("accept"), "protobuf")) {
      conn.Respond(406, "application/json", "{}");
      return;
    }
    if (!Has(req.target, "watch=true")) {
      Dribble(conn, kPb, Testdata("list/configmaps.pb"), 100);
      return;
    }
    std::string stream = Testdata("watch/configmaps.pb");
    conn.StartChunked(200, kPbWatch);
    for (size_t at = 0; at < stream.size(); at += 50) conn.Chunk(stream.substr(at, 50));
    conn.WaitPeerClosed(std::chrono::seconds(60));  // the stream stays open
  });
  auto informer = SharedIndexInformer::Create(
      ListWatchFromClient(ClientFor(server), kConfigMaps, "wire-demo"), {});
  std::mutex mu;
  std::vector<std::string> seen;
  ASSERT_TRUE(informer->AddEventHandler(
      ResourceEventHandlerFuncs{.add =
                                    [&](const ObjectPtr& o, bool) {
                                      std::lock_guard<std::mutex> l(mu);
                                      seen.push_back("add " + std::string(o->name()));
                                    },
                                .update =
                                    [&](const ObjectPtr&, const ObjectPtr& o) {
                                      std::lock_guard<std::mutex> l(mu);
                                      seen.push_back("update " + std::string(o->name()) + "@" +
                                                     std::string(o->resource_version()));
                                    },
                                .del =
                                    [&](const DeletedObject& d) {
                                      std::lock_guard<std::mutex> l(mu);
                                      seen.push_back("delete " + std::string(d.object()->name()));
                                    }}));
  informer->Run();
  ASSERT_TRUE(informer->WaitForCacheSync(std::chrono::seconds(30)));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (informer->LastSyncResourceVersion() != "330" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(informer->LastSyncResourceVersion(), "330");  // the bookmark's
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> l(mu);
      if (seen.size() >= 9) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::vector<std::string> keys = informer->GetStore()->ListKeys();
  std::sort(keys.begin(), keys.end());
  EXPECT_THAT(keys,
              ElementsAre("wire-demo/app-config", "wire-demo/batch-settings", "wire-demo/env-vars",
                          "wire-demo/feature-flags", "wire-demo/nginx-conf"));
  informer->Stop();
  std::lock_guard<std::mutex> l(mu);
  EXPECT_THAT(seen, ElementsAre("add app-config", "add batch-settings", "add env-vars",
                                "add feature-flags", "add nginx-conf", "add watched",
                                "update watched@328", "update watched@329", "delete watched"));
}

TEST(ProtobufClientTest, InformerOverAnUnknownKindFallsBackToJsonAndSyncs) {
  const GroupVersionResource kFrobs{"", "v1", "frobs"};
  ScriptedServer server([](const ScriptedRequest& req, ScriptedConn& conn) {
    if (Has(req.Header("accept"), "protobuf")) {
      conn.Respond(200, kPb, UnknownKindBody("FrobList"));
    } else if (!Has(req.target, "watch=true")) {
      conn.Respond(
          200, "application/json",
          R"({"kind":"FrobList","apiVersion":"v1","metadata":{"resourceVersion":"5"},"items":[{"metadata":{"name":"f1","namespace":"default","resourceVersion":"5"}}]})");
    } else {
      conn.StartChunked(200, "application/json");
      conn.WaitPeerClosed(std::chrono::seconds(60));
    }
  });
  LogCapture logs;
  auto informer =
      SharedIndexInformer::Create(ListWatchFromClient(ClientFor(server), kFrobs, "default"), {});
  informer->Run();
  ASSERT_TRUE(informer->WaitForCacheSync(std::chrono::seconds(30)));
  EXPECT_THAT(informer->GetStore()->ListKeys(), ElementsAre("default/f1"));
  informer->Stop();
  std::vector<std::string> accepts = Accepts(server);
  ASSERT_GE(accepts.size(), 2u);
  EXPECT_EQ(accepts[0], kAcceptBoth);
  for (size_t i = 1; i < accepts.size(); ++i) EXPECT_EQ(accepts[i], "application/json");
  std::vector<std::string> lines = logs.lines();
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const std::string& l) {
                            return l.find("as JSON from now on") != std::string::npos;
                          }),
            1);
}

}  // namespace
}  // namespace kube
