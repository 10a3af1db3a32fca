// ResourceClient: URLs, query parameters, response and error decoding, and the HTTP-backed Watch.
//
// Reads from: HttpClient. Feeds: the reflector, users, `kinf`.
// client-go: dynamic/simple.go, rest/request.go (transformResponse, newUnstructuredResponseError),
// apimachinery watch/streamwatcher.go (the stream-to-channel pump: here the pull Watch is the
// async watch with a queue in front).
#include "kube/client/rest_client.h"

#include <atomic>
#include <condition_variable>
#include <string>
#include <utility>
#include <vector>

#include "base/logging.h"
#include "base/mutex.h"
#include "client/list_decoder.h"
#include "client/protobuf_list_decoder.h"
#include "json/scan.h"
#include "kube/proto/protobuf.h"
#include "watch/event_channel.h"
#include "watch/watch_decoder.h"

namespace kube {
namespace {

using internal::IsProtobufContentType;
using internal::MutexLock;

constexpr std::string_view kAcceptJson = "application/json";
// What client-go's typed clients send: protobuf first, JSON for what has no protobuf form.
constexpr std::string_view kAcceptProtobuf =
    "application/vnd.kubernetes.protobuf, application/json";

// Records that `gvr` is read as JSON from now on; warns the first time.
void FallBackToJson(std::atomic<bool>& json_only, const GroupVersionResource& gvr,
                    std::string_view why) {
  if (json_only.exchange(true)) return;
  KUBE_LOG(kWarning, "client") << "reading " << gvr.GroupResource()
                               << " as JSON from now on: " << why;
}

// Non-200 watch answers and error bodies are kept up to this size.
constexpr size_t kMaxErrorBody = 64 * 1024;
// How long `Watch` waits for the response headers (the JS client allows 30 s).
constexpr std::chrono::seconds kWatchHeadTimeout{60};
// Flow control of a pull watch: pause the connection at this many queued events, resume at the
// lower mark.
constexpr size_t kHighWater = 1024;
constexpr size_t kLowWater = 256;

std::string_view ContentTypeFor(PatchType type) {
  switch (type) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kStrategic:
      return "application/strategic-merge-patch+json";
  }
  return "application/merge-patch+json";
}

void AppendParam(std::string* q, std::string_view name, std::string_view value) {
  if (!q->empty()) *q += '&';
  *q += name;
  *q += '=';
  *q += PercentEncode(value);
}

std::string WriteQuery(const WriteOptions& o) {
  std::string q;
  if (!o.field_manager.empty()) AppendParam(&q, "fieldManager", o.field_manager);
  if (o.dry_run) AppendParam(&q, "dryRun", "All");
  return q;
}

std::string WithQuery(std::string path, const std::string& query) {
  if (!query.empty()) {
    path += '?';
    path += query;
  }
  return path;
}

std::string DeleteBody(const DeleteOptions& o) {
  std::string b = R"({"kind":"DeleteOptions","apiVersion":"v1")";
  if (o.grace_period_seconds) {
    b += R"(,"gracePeriodSeconds":)" + std::to_string(*o.grace_period_seconds);
  }
  switch (o.propagation_policy) {
    case PropagationPolicy::kDefault:
      break;
    case PropagationPolicy::kOrphan:
      b += R"(,"propagationPolicy":"Orphan")";
      break;
    case PropagationPolicy::kBackground:
      b += R"(,"propagationPolicy":"Background")";
      break;
    case PropagationPolicy::kForeground:
      b += R"(,"propagationPolicy":"Foreground")";
      break;
  }
  if (!o.precondition_uid.empty() || !o.precondition_resource_version.empty()) {
    b += R"(,"preconditions":{)";
    bool first = true;
    if (!o.precondition_uid.empty()) {
      b += R"("uid":)";
      internal::json::AppendQuoted(o.precondition_uid, &b);
      first = false;
    }
    if (!o.precondition_resource_version.empty()) {
      if (!first) b += ',';
      b += R"("resourceVersion":)";
      internal::json::AppendQuoted(o.precondition_resource_version, &b);
    }
    b += '}';
  }
  if (o.dry_run) b += R"(,"dryRun":["All"])";
  b += '}';
  return b;
}

bool IsSuccess(int status) { return status >= 200 && status < 300; }

// Sends `req`; a non-2xx answer becomes its Status.
Result<HttpResponse> Send(HttpClient& http, const HttpRequest& req) {
  Result<HttpResponse> resp = http.Do(req);
  if (!resp) return resp.error();
  if (!IsSuccess(resp->status)) return StatusFromResponse(*resp, req.method + " " + req.path);
  return resp;
}

// `*unknown_kind` (when given) is set when a protobuf body names a kind without a protobuf form.
Result<ObjectPtr> DecodeObject(const HttpResponse& resp, const HttpRequest& req,
                               bool* unknown_kind = nullptr) {
  if (IsProtobufContentType(resp.content_type)) {
    // The object keeps the protobuf message (see DecodeProtobufObject).
    Result<ObjectPtr> obj = DecodeProtobufObject(resp.body);
    if (!obj) {
      if (unknown_kind != nullptr) *unknown_kind = obj.error().code() == StatusCode::kNotFound;
      return DataLossError("decoding the protobuf answer to " + req.method + " " + req.path + ": " +
                           obj.error().message());
    }
    return obj;
  }
  Result<ObjectPtr> obj = Object::Parse(resp.body);
  if (!obj) {
    return DataLossError("decoding the answer to " + req.method + " " + req.path + ": " +
                         obj.error().message());
  }
  return obj;
}

// --- The pull Watch ---------------------------------------------------------------------------

// State shared between the pull Watch, the async stream's callbacks (I/O thread) and
// `ResourceClient::Watch` waiting for the answer.
struct PullState {
  internal::EventChannel channel;
  std::atomic<HttpStream*> stream{nullptr};
  // The handshake with `ResourceClient::Watch`.
  internal::Mutex mu;
  std::condition_variable cv;
  int status KUBE_GUARDED_BY(mu) = 0;  // set when headers arrive
  bool answered KUBE_GUARDED_BY(mu) = false;
  Status failed KUBE_GUARDED_BY(mu);  // the request failed before headers
  bool done KUBE_GUARDED_BY(mu) = false;
  Status done_status KUBE_GUARDED_BY(mu);
};

// A pull Watch: the events of an async watch stream, queued in a channel for `Next`.
class HttpWatch final : public Watch {
 public:
  HttpWatch(std::shared_ptr<PullState> state, std::unique_ptr<HttpStream> stream)
      : state_(std::move(state)), stream_(std::move(stream)) {}
  ~HttpWatch() override {
    Stop();
    state_->stream.store(nullptr);
  }

  std::optional<WatchEvent> Next() override {
    WatchEvent e;
    if (state_->channel.Pop(std::nullopt, &e) != WatchWait::kEvent) return std::nullopt;
    return e;
  }

  WatchWait NextFor(std::chrono::milliseconds timeout, WatchEvent* event) override {
    WatchEvent e;
    WatchWait w = state_->channel.Pop(std::chrono::steady_clock::now() + timeout, &e);
    if (w == WatchWait::kEvent) *event = std::move(e);
    return w;
  }

  void Stop() noexcept override {
    state_->channel.Stop();  // wakes the consumer at once
    stream_->Cancel();       // then releases the connection
  }

 private:
  std::shared_ptr<PullState> state_;
  std::unique_ptr<HttpStream> stream_;
};

// The ERROR event for a failed watch request (non-200 answer or transport failure).
WatchEvent ErrorEvent(Status status, std::string_view body = "",
                      std::string_view content_type = "") {
  ObjectPtr object;
  std::string transcoded;
  if (!body.empty() && IsProtobufContentType(content_type)) {
    Result<std::string> json = ProtobufToJson(body);
    body = json ? (transcoded = *std::move(json)) : std::string_view();
  }
  if (!body.empty()) {
    Result<ObjectPtr> parsed = Object::Parse(body);
    if (parsed && (*parsed)->kind() == "Status") object = *parsed;
  }
  if (object == nullptr) object = MakeStatusObject(status);
  return WatchEvent{WatchEventType::kError, std::move(object), std::move(status)};
}

}  // namespace

// --- Helpers ----------------------------------------------------------------------------------

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string ListQuery(const ListOptions& o, bool watch) {
  std::string q;
  if (watch) AppendParam(&q, "watch", "true");
  if (!o.label_selector.empty()) AppendParam(&q, "labelSelector", o.label_selector);
  if (!o.field_selector.empty()) AppendParam(&q, "fieldSelector", o.field_selector);
  if (!o.resource_version.empty()) AppendParam(&q, "resourceVersion", o.resource_version);
  switch (o.resource_version_match) {
    case ResourceVersionMatch::kUnset:
      break;
    case ResourceVersionMatch::kExact:
      AppendParam(&q, "resourceVersionMatch", "Exact");
      break;
    case ResourceVersionMatch::kNotOlderThan:
      AppendParam(&q, "resourceVersionMatch", "NotOlderThan");
      break;
  }
  if (o.limit > 0) AppendParam(&q, "limit", std::to_string(o.limit));
  if (!o.continue_token.empty()) AppendParam(&q, "continue", o.continue_token);
  if (o.timeout_seconds) AppendParam(&q, "timeoutSeconds", std::to_string(*o.timeout_seconds));
  if (o.allow_watch_bookmarks) AppendParam(&q, "allowWatchBookmarks", "true");
  if (o.send_initial_events) {
    AppendParam(&q, "sendInitialEvents", *o.send_initial_events ? "true" : "false");
  }
  return q;
}

Status StatusFromResponse(const HttpResponse& response, std::string_view what) {
  if (IsProtobufContentType(response.content_type) ||
      std::string_view(response.body).starts_with(kProtobufMagic)) {
    // An error in protobuf (the server answers in the encoding asked for): the same Status as
    // its JSON twin.
    Result<std::string> json = ProtobufToJson(response.body);
    if (json) {
      return StatusFromResponse(
          HttpResponse{response.status, *std::move(json), "application/json", response.retry_after},
          what);
    }
    Status s =
        StatusFromHttp(response.status, "",
                       "the server answered " + std::string(what) + " with HTTP " +
                           std::to_string(response.status) +
                           " and a protobuf body that does not decode: " + json.error().message());
    if (response.retry_after) s.set_retry_after(*response.retry_after);
    return s;
  }
  std::string_view body = response.body;
  size_t start = internal::json::SkipSpace(body, 0);
  if (start < body.size() && body[start] == '{') {
    Result<ObjectPtr> obj = Object::Parse(body);
    if (obj && ((*obj)->kind() == "Status" || (*obj)->Has("code"))) {
      Status s = internal::StatusFromStatusObject(**obj, response.status);
      if (!s.retry_after() && response.retry_after) s.set_retry_after(*response.retry_after);
      return s;
    }
  }
  // Not a Status (a proxy's HTML page, say): classify by the code, quote the start of the body.
  std::string message =
      "the server answered " + std::string(what) + " with HTTP " + std::to_string(response.status);
  std::string_view trimmed = body.substr(start);
  while (!trimmed.empty() && internal::json::IsSpace(trimmed.back())) trimmed.remove_suffix(1);
  if (trimmed.empty()) {
    message += " and an empty body";
  } else {
    constexpr size_t kQuote = 200;
    std::string excerpt(trimmed.substr(0, kQuote));
    for (char& c : excerpt) {
      if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    }
    message += ": \"" + excerpt + (trimmed.size() > kQuote ? "...\"" : "\"");
  }
  Status s = StatusFromHttp(response.status, "", std::move(message));
  if (response.retry_after) s.set_retry_after(*response.retry_after);
  return s;
}

// --- ResourceClient ---------------------------------------------------------------------------

ResourceClient::ResourceClient(std::shared_ptr<HttpClient> http, GroupVersionResource gvr,
                               std::string ns)
    : http_(std::move(http)),
      gvr_(std::move(gvr)),
      ns_(std::move(ns)),
      json_only_(std::make_shared<std::atomic<bool>>(false)) {}

ResourceClient ResourceClient::InNamespace(std::string ns) const {
  ResourceClient c(http_, gvr_, std::move(ns));
  c.json_only_ = json_only_;
  return c;
}

bool ResourceClient::protobuf() const {
  return http_ != nullptr && http_->prefer_protobuf() && !json_only_->load() &&
         HasProtobufGroupVersion(gvr_.group_version().ToString());
}

std::string ResourceClient::Path(std::string_view name, std::string_view subresource,
                                 std::string_view ns_override) const {
  std::string p = gvr_.group_version().ApiPrefix();
  std::string_view ns = ns_override.empty() ? std::string_view(ns_) : ns_override;
  if (!ns.empty()) {
    p += "/namespaces/";
    p += PercentEncode(ns);
  }
  p += '/';
  p += gvr_.resource;
  if (!name.empty()) {
    p += '/';
    p += PercentEncode(name);
    if (!subresource.empty()) {
      p += '/';
      p += subresource;
    }
  }
  return p;
}

Result<ObjectPtr> ResourceClient::Get(std::string_view name,
                                      std::string_view resource_version) const {
  if (name.empty()) return InvalidArgumentError("Get " + gvr_.GroupResource() + ": empty name");
  HttpRequest req;
  std::string q;
  if (!resource_version.empty()) AppendParam(&q, "resourceVersion", resource_version);
  req.path = WithQuery(Path(name), q);
  const bool protobuf = this->protobuf();
  req.accept = protobuf ? kAcceptProtobuf : kAcceptJson;
  Result<HttpResponse> resp = Send(*http_, req);
  if (!resp) return resp.error();
  bool unknown_kind = false;
  Result<ObjectPtr> obj = DecodeObject(*resp, req, &unknown_kind);
  if (obj || !unknown_kind || !protobuf) return obj;
  FallBackToJson(*json_only_, gvr_, obj.error().message());
  req.accept = kAcceptJson;
  resp = Send(*http_, req);
  if (!resp) return resp.error();
  return DecodeObject(*resp, req);
}

Result<ObjectList> ResourceClient::List(const ListOptions& options) const {
  return List(options, nullptr);
}

Result<ObjectList> ResourceClient::List(const ListOptions& options,
                                        std::function<void(std::vector<ObjectPtr>)> on_items,
                                        size_t batch, std::stop_token stop) const {
  const bool protobuf = this->protobuf();
  bool unknown_kind = false;
  Result<ObjectList> list = ListOnce(options, on_items, batch, stop, protobuf, &unknown_kind);
  if (list || !unknown_kind || !protobuf) return list;
  // The kind was named before any item: nothing has reached `on_items`.
  FallBackToJson(*json_only_, gvr_, list.error().message());
  return ListOnce(options, on_items, batch, stop, /*protobuf=*/false, &unknown_kind);
}

Result<ObjectList> ResourceClient::ListOnce(
    const ListOptions& options, const std::function<void(std::vector<ObjectPtr>)>& on_items,
    size_t batch, std::stop_token stop, bool protobuf, bool* unknown_kind) const {
  HttpRequest req;
  req.path = WithQuery(Path(), ListQuery(options, false));
  req.accept = protobuf ? kAcceptProtobuf : kAcceptJson;
  req.stop = std::move(stop);
  // The body is decoded as it arrives (on the HTTP client's I/O thread) and never held whole;
  // without `on_items` a failed transfer discards the decoder, so a partial list never escapes.
  // The body sink does not see the Content-Type, so the first byte picks the decoder: a protobuf
  // body starts with the magic `k8s\0`, a JSON one with '{' or whitespace. The Content-Type is
  // checked against that choice once the answer is complete.
  enum class Mode { kUnknown, kJson, kProtobuf };
  Mode mode = Mode::kUnknown;
  internal::ListDecoder json_decoder;
  internal::ProtobufListDecoder protobuf_decoder;
  if (on_items) {
    json_decoder.SetItemSink(on_items, batch);
    protobuf_decoder.SetItemSink(on_items, batch);
  }
  if (http_->parallel_list_decode()) {
    // The I/O thread only frames items; the process-wide decode workers decode them.
    std::shared_ptr<internal::Executor> pool = internal::SharedDecodePool();
    json_decoder.UseWorkers(pool);
    protobuf_decoder.UseWorkers(pool);
  }
  auto feed = [&](std::string_view piece) {
    if (piece.empty()) return;
    if (mode == Mode::kUnknown)
      mode = piece[0] == kProtobufMagic[0] ? Mode::kProtobuf : Mode::kJson;
    if (mode == Mode::kProtobuf) {
      protobuf_decoder.Feed(piece);
    } else {
      json_decoder.Feed(piece);
    }
  };
  req.body_sink = feed;
  Result<HttpResponse> resp = Send(*http_, req);
  if (!resp) return resp.error();
  if (!resp->body.empty()) feed(resp->body);  // an HttpClient that does not stream
  const bool protobuf_type = IsProtobufContentType(resp->content_type);
  if (mode == Mode::kUnknown) mode = protobuf_type ? Mode::kProtobuf : Mode::kJson;
  if (!resp->content_type.empty() && protobuf_type != (mode == Mode::kProtobuf)) {
    return DataLossError("decoding the answer to GET " + req.path + ": its Content-Type is \"" +
                         resp->content_type + "\" but the body is " +
                         (mode == Mode::kProtobuf ? "protobuf" : "not protobuf"));
  }
  Result<ObjectList> list =
      mode == Mode::kProtobuf ? protobuf_decoder.Finish() : json_decoder.Finish();
  if (!list) {
    *unknown_kind = mode == Mode::kProtobuf && protobuf_decoder.unknown_kind();
    return DataLossError("decoding the answer to GET " + req.path + ": " + list.error().message());
  }
  if (!options.continue_token.empty() && list->continue_token == options.continue_token) {
    // A pager following it would ask for the same page forever.
    return DataLossError("GET " + req.path +
                         ": the server answered a continue token with the same token (a list "
                         "that never ends)");
  }
  return list;
}

Result<std::unique_ptr<Watch>> ResourceClient::Watch(const ListOptions& options) const {
  // The pull Watch is the async watch with a queue in front: one pump for both.
  auto state = std::make_shared<PullState>();
  state->channel.SetFlowControl(
      kHighWater, kLowWater,
      [s = state.get()] {
        if (HttpStream* st = s->stream.load()) st->Pause();
      },
      [s = state.get()] {
        if (HttpStream* st = s->stream.load()) st->Resume();
      });
  // The callbacks hold the state: they may run after this function has returned an error.
  auto on_answer = [state](int status, const Status& failed) {
    {
      MutexLock l(state->mu);
      state->status = status;
      state->failed = failed;
      state->answered = true;
    }
    state->cv.notify_all();
  };
  auto on_events = [state](std::vector<WatchEvent>& events) {
    {
      MutexLock l(state->mu);
      // Before a 200 the only event is the ERROR describing the failure, which `Watch` returns.
      if (state->status != 200) return;
    }
    state->channel.Push(&events);
  };
  auto on_closed = [state](Status status) {
    {
      MutexLock l(state->mu);
      state->done = true;
      state->done_status = std::move(status);
    }
    state->cv.notify_all();
    state->channel.Close();
  };
  std::string what;
  std::unique_ptr<HttpStream> stream = StartWatchStream(
      options, std::move(on_events), std::move(on_closed), std::move(on_answer), &what);
  state->stream.store(stream.get());

  // Wait for the headers (or the end).
  int status;
  Status failed;
  Status done_status;
  {
    auto deadline = std::chrono::steady_clock::now() + kWatchHeadTimeout;
    MutexLock l(state->mu);
    while (!state->answered) {
      if (!l.WaitUntil(state->cv, deadline)) break;
    }
    status = state->answered ? state->status : -1;
    if (status > 0 && status != 200) {
      // A non-200 answer: wait for its body (bounded by the same deadline).
      while (!state->done) {
        if (!l.WaitUntil(state->cv, deadline)) break;
      }
      if (!state->done) status = -1;
    }
    failed = state->failed;
    done_status = state->done_status;
  }
  if (status == 200) {
    return std::unique_ptr<kube::Watch>(new HttpWatch(std::move(state), std::move(stream)));
  }
  state->stream.store(nullptr);
  stream->Cancel();
  if (status == -1) {
    return DeadlineExceededError(what + ": no answer to the watch request within " +
                                 std::to_string(kWatchHeadTimeout.count()) + "s");
  }
  if (status == 0) return failed.ok() ? UnavailableError(what + ": no response") : failed;
  return done_status;  // the error Status decoded from the answer's body
}

WatchHandle ResourceClient::WatchAsync(const ListOptions& options,
                                       std::function<void(WatchEvent)> on_event,
                                       std::function<void(Status)> on_closed) const {
  return WatchAsyncBatched(
      options,
      [on_event = std::move(on_event)](std::vector<WatchEvent>& events) {
        for (WatchEvent& e : events) on_event(std::move(e));
      },
      std::move(on_closed));
}

WatchHandle ResourceClient::WatchAsyncBatched(
    const ListOptions& options, std::function<void(std::vector<WatchEvent>&)> on_events,
    std::function<void(Status)> on_closed) const {
  return WatchHandle(
      StartWatchStream(options, std::move(on_events), std::move(on_closed), nullptr, nullptr));
}

std::unique_ptr<HttpStream> ResourceClient::StartWatchStream(
    const ListOptions& options, std::function<void(std::vector<WatchEvent>&)> on_events,
    std::function<void(Status)> on_closed, std::function<void(int, const Status&)> on_answer,
    std::string* what) const {
  // Everything here runs on the I/O thread, one callback at a time: no locks needed.
  struct AsyncState {
    std::function<void(std::vector<WatchEvent>&)> on_events;
    std::function<void(Status)> on_closed;
    std::function<void(int, const Status&)> on_answer;
    std::atomic<HttpStream*> stream{nullptr};
    internal::WatchDecoder decoder;
    std::vector<WatchEvent> batch;
    int status = 0;
    std::optional<std::chrono::seconds> retry_after;
    std::string content_type;
    std::string error_body;
    bool closed = false;
    std::string what;

    void Deliver() {
      if (batch.empty()) return;
      on_events(batch);
      batch.clear();
    }
    void Close(Status s) {
      if (closed) return;
      closed = true;
      if (on_closed) on_closed(std::move(s));
    }
  };
  auto st = std::make_shared<AsyncState>();
  st->decoder = internal::WatchDecoder({.max_frame_bytes = http_->max_watch_frame_bytes()});
  st->on_events = std::move(on_events);
  st->on_closed = std::move(on_closed);
  st->on_answer = std::move(on_answer);
  HttpRequest req;
  req.path = WithQuery(Path(), ListQuery(options, true));
  req.accept = protobuf() ? kAcceptProtobuf : kAcceptJson;
  st->what = "GET " + req.path;
  if (what != nullptr) *what = st->what;
  StreamCallbacks cb;
  cb.on_headers = [st](const HttpResponseHead& head) {
    st->status = head.status;
    st->retry_after = head.retry_after;
    st->content_type = head.content_type;
    if (head.status == 200 && IsProtobufContentType(head.content_type)) st->decoder.UseProtobuf();
    if (st->on_answer) st->on_answer(head.status, Status());
  };
  cb.on_data = [st, json_only = json_only_, gvr = gvr_](std::string_view data) {
    if (st->closed) return;
    if (st->status != 200) {
      if (st->error_body.size() < kMaxErrorBody) {
        st->error_body.append(data.substr(0, kMaxErrorBody - st->error_body.size()));
      }
      return;
    }
    st->decoder.Feed(data, &st->batch);
    if (st->decoder.failed() && st->decoder.unknown_kind()) {
      FallBackToJson(*json_only, gvr, st->batch.back().error.message());
    }
    st->Deliver();
    if (st->decoder.failed()) {
      if (HttpStream* s = st->stream.load()) s->Cancel();  // on_done will not come
      st->Close(DataLossError(st->what + ": the watch stream could not be decoded"));
    }
  };
  cb.on_done = [st](Status status) {
    if (st->closed) return;
    if (st->status != 200 && st->status != 0) {
      HttpResponse resp{st->status, std::move(st->error_body), st->content_type, st->retry_after};
      Status error = StatusFromResponse(resp, st->what);
      st->batch.push_back(ErrorEvent(error, resp.body, resp.content_type));
      st->Deliver();
      st->Close(std::move(error));
      return;
    }
    if (st->status == 0 && st->on_answer) st->on_answer(0, status);
    st->decoder.Finish(&st->batch);
    Status closed;
    if (!st->batch.empty()) closed = st->batch.back().error;  // "truncated"
    if (!status.ok() && closed.ok()) {
      closed = Status(
          status.code(),
          (st->status == 0 ? "watch request failed: " : "watch stream broke: ") + status.message());
      st->batch.push_back(ErrorEvent(closed));
    }
    st->Deliver();
    st->Close(std::move(closed));
  };
  std::unique_ptr<HttpStream> stream = http_->Stream(req, std::move(cb));
  st->stream.store(stream.get());
  return stream;
}

Result<ObjectPtr> ResourceClient::Create(const Object& object, const WriteOptions& options) const {
  std::string_view ns = ns_.empty() ? object.ns() : std::string_view(ns_);
  HttpRequest req;
  req.method = "POST";
  req.path = WithQuery(Path("", "", ns), WriteQuery(options));
  req.body = std::string(object.json());
  req.content_type = "application/json";
  Result<HttpResponse> resp = Send(*http_, req);
  if (!resp) return resp.error();
  return DecodeObject(*resp, req);
}

Result<ObjectPtr> ResourceClient::Create(std::string_view json, const WriteOptions& options) const {
  Result<ObjectPtr> obj = Object::Parse(json);
  if (!obj) return obj.error().WithContext("Create " + gvr_.GroupResource());
  return Create(**obj, options);
}

Result<ObjectPtr> ResourceClient::Update(const Object& object, const WriteOptions& options) const {
  if (object.name().empty()) {
    return InvalidArgumentError("Update " + gvr_.GroupResource() + ": the object has no name");
  }
  std::string_view ns = ns_.empty() ? object.ns() : std::string_view(ns_);
  HttpRequest req;
  req.method = "PUT";
  req.path = WithQuery(Path(object.name(), "", ns), WriteQuery(options));
  req.body = std::string(object.json());
  req.content_type = "application/json";
  Result<HttpResponse> resp = Send(*http_, req);
  if (!resp) return resp.error();
  return DecodeObject(*resp, req);
}

Result<ObjectPtr> ResourceClient::UpdateStatus(const Object& object,
                                               const WriteOptions& options) const {
  if (object.name().empty()) {
    return InvalidArgumentError("UpdateStatus " + gvr_.GroupResource() +
                                ": the object has no name");
  }
  std::string_view ns = ns_.empty() ? object.ns() : std::string_view(ns_);
  HttpRequest req;
  req.method = "PUT";
  req.path = WithQuery(Path(object.name(), "status", ns), WriteQuery(options));
  req.body = std::string(object.json());
  req.content_type = "application/json";
  Result<HttpResponse> resp = Send(*http_, req);
  if (!resp) return resp.error();
  return DecodeObject(*resp, req);
}

Result<ObjectPtr> ResourceClient::Patch(std::string_view name, PatchType type,
                                        std::string_view patch, const WriteOptions& options,
                                        std::string_view subresource) const {
  if (name.empty()) return InvalidArgumentError("Patch " + gvr_.GroupResource() + ": empty name");
  HttpRequest req;
  req.method = "PATCH";
  req.path = WithQuery(Path(name, subresource), WriteQuery(options));
  req.body = std::string(patch);
  req.content_type = std::string(ContentTypeFor(type));
  Result<HttpResponse> resp = Send(*http_, req);
  if (!resp) return resp.error();
  return DecodeObject(*resp, req);
}

Result<ObjectPtr> ResourceClient::Apply(const Object& object, const ApplyOptions& options,
                                        std::string_view subresource) const {
  if (object.name().empty()) {
    return InvalidArgumentError("Apply " + gvr_.GroupResource() + ": the object has no name");
  }
  if (options.field_manager.empty()) {
    return InvalidArgumentError("Apply " + gvr_.GroupResource() + " " + std::string(object.name()) +
                                ": a field manager is required");
  }
  std::string_view ns = ns_.empty() ? object.ns() : std::string_view(ns_);
  std::string query;
  AppendParam(&query, "fieldManager", options.field_manager);
  if (options.force) AppendParam(&query, "force", "true");
  if (options.dry_run) AppendParam(&query, "dryRun", "All");
  HttpRequest req;
  req.method = "PATCH";
  req.path = WithQuery(Path(object.name(), subresource, ns), query);
  req.body = std::string(object.json());
  req.content_type = "application/apply-patch+yaml";
  Result<HttpResponse> resp = Send(*http_, req);
  if (!resp) return resp.error();
  return DecodeObject(*resp, req);
}

Result<ObjectPtr> ResourceClient::Apply(std::string_view json, const ApplyOptions& options,
                                        std::string_view subresource) const {
  Result<ObjectPtr> obj = Object::Parse(json);
  if (!obj) return obj.error().WithContext("Apply " + gvr_.GroupResource());
  return Apply(**obj, options, subresource);
}

Status ResourceClient::Delete(std::string_view name, const DeleteOptions& options) const {
  if (name.empty()) return InvalidArgumentError("Delete " + gvr_.GroupResource() + ": empty name");
  HttpRequest req;
  req.method = "DELETE";
  req.path = Path(name);
  req.body = DeleteBody(options);
  req.content_type = "application/json";
  Result<HttpResponse> resp = Send(*http_, req);
  return resp ? Status() : resp.error();
}

Status ResourceClient::DeleteCollection(const DeleteOptions& options,
                                        const ListOptions& list_options) const {
  HttpRequest req;
  req.method = "DELETE";
  req.path = WithQuery(Path(), ListQuery(list_options, false));
  req.body = DeleteBody(options);
  req.content_type = "application/json";
  Result<HttpResponse> resp = Send(*http_, req);
  return resp ? Status() : resp.error();
}

}  // namespace kube
