// Content negotiation and protobuf transcoding at the server's door; see content_type.h.
//
// Reads from: the HTTP request. Feeds: the router, the HTTP session, watch streams.
#include "server/content_type.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/mutex.h"
#include "base/strings.h"
#include "kube/proto/protobuf.h"
#include "server/discovery.h"
#include "server/status_json.h"

namespace kube::server {
namespace {

using internal::AsciiLower;
using internal::kOptionalWhitespace;
using internal::Trim;

constexpr std::string_view kAggregatedProtobufContentType =
    "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
constexpr std::string_view kAggregatedJsonAccept =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
constexpr std::string_view kOnlyAccepted =
    "only the following media types are accepted: application/json, application/yaml, "
    "application/vnd.kubernetes.protobuf";

// One entry of an Accept header: the media type (lower case), its parameters and its q-value.
struct MediaRange {
  std::string type;
  std::vector<std::pair<std::string, std::string>> params;
  double q = 1.0;

  std::string_view Param(std::string_view name) const {
    for (const auto& [k, v] : params) {
      if (k == name) return v;
    }
    return {};
  }
};

// The Accept header's ranges by preference: higher q first, the header's order among equals;
// q=0 ranges are dropped.
std::vector<MediaRange> ParseAcceptHeader(std::string_view accept) {
  std::vector<MediaRange> out;
  size_t pos = 0;
  while (pos <= accept.size()) {
    size_t comma = std::min(accept.find(',', pos), accept.size());
    std::string_view entry = accept.substr(pos, comma - pos);
    pos = comma + 1;
    MediaRange m;
    size_t semi = std::min(entry.find(';'), entry.size());
    m.type = AsciiLower(Trim(entry.substr(0, semi), kOptionalWhitespace));
    if (m.type.empty()) continue;
    while (semi < entry.size()) {
      size_t next = std::min(entry.find(';', semi + 1), entry.size());
      std::string_view part = Trim(entry.substr(semi + 1, next - semi - 1), kOptionalWhitespace);
      semi = next;
      size_t eq = part.find('=');
      if (eq == std::string_view::npos) continue;
      std::string key = AsciiLower(Trim(part.substr(0, eq), kOptionalWhitespace));
      std::string_view value = Trim(part.substr(eq + 1), kOptionalWhitespace);
      if (key == "q") {
        double q = 1.0;
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), q);
        if (ec == std::errc()) m.q = q;
        continue;
      }
      m.params.emplace_back(std::move(key), std::string(value));
    }
    if (m.q > 0) out.push_back(std::move(m));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const MediaRange& a, const MediaRange& b) { return a.q > b.q; });
  return out;
}

// What a path serves, for negotiation.
enum class Target {
  kBuiltin,    // a built-in kind's objects, lists and errors: protobuf or JSON
  kCustom,     // a custom resource (or a kind without a protobuf form): JSON only
  kDiscovery,  // /api/v1, /apis/G, /apis/G/V: protobuf or JSON
  kRoot,       // /api, /apis: also aggregated discovery
  kOther,      // /version, /openapi, health: left to the router
};

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = std::min(path.find('/', i), path.size());
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

Target Classify(std::string_view path, const ResourceCatalog& catalog) {
  std::vector<std::string_view> seg = Segments(path);
  if (seg.empty()) return Target::kOther;
  GroupVersion gv;
  size_t rest = 0;
  if (seg[0] == "api") {
    if (seg.size() == 1) return Target::kRoot;
    if (seg.size() == 2) return Target::kDiscovery;
    gv = {"", std::string(seg[1])};
    rest = 2;
  } else if (seg[0] == "apis") {
    if (seg.size() == 1) return Target::kRoot;
    if (seg.size() <= 3) return Target::kDiscovery;
    gv = {std::string(seg[1]), std::string(seg[2])};
    rest = 3;
  } else {
    return Target::kOther;
  }
  if (seg[rest] == "watch") ++rest;
  if (rest >= seg.size()) return Target::kBuiltin;
  ResourceInfoPtr info;
  if (seg.size() >= rest + 3 && seg[rest] == "namespaces") {
    info = catalog.Find({gv.group, gv.version, std::string(seg[rest + 2])});
    if (info && !info->namespaced) info = nullptr;
  }
  if (!info) info = catalog.Find({gv.group, gv.version, std::string(seg[rest])});
  if (!info) return Target::kBuiltin;  // a 404 Status, which has a protobuf form
  if (info->is_custom || !HasProtobufForm(info->api_version(), info->kind)) return Target::kCustom;
  return Target::kBuiltin;
}

bool IsJsonRange(std::string_view type) {
  return type == "application/json" || type == "*/*" || type == "application/*";
}

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutBytes(uint32_t number, std::string_view bytes, std::string* out) {
  PutVarint((uint64_t{number} << 3) | 2, out);
  PutVarint(bytes.size(), out);
  out->append(bytes);
}

// The bytes of `raw` as an entry of a list's field 2: its key (0x12: field 2, length-delimited)
// and length, then the message.
void AppendListEntry(std::string_view raw, std::string* out) {
  out->push_back('\x12');
  PutVarint(raw.size(), out);
  out->append(raw);
}

// The entry in a list of the object whose enveloped encoding is `envelope`: a view into it, as
// the envelope's `raw` (field 2, length-delimited) is preceded by the same key and length as the
// list's `items` entry (field 2) is; made on its own should the layout ever differ.
Result<EncodedItem> ListEntry(std::shared_ptr<const std::string> envelope) {
  Result<ProtobufEnvelope> env = ParseProtobufEnvelope(*envelope);
  if (!env) return env.error();
  std::string_view raw = env->raw;
  std::string key(1, '\x12');
  PutVarint(raw.size(), &key);
  const size_t at = static_cast<size_t>(raw.data() - envelope->data());
  if (at >= key.size() && std::string_view(*envelope).substr(at - key.size(), key.size()) == key) {
    std::string_view field(raw.data() - key.size(), key.size() + raw.size());
    return EncodedItem{std::move(envelope), field};
  }
  auto entry = std::make_shared<std::string>();
  AppendListEntry(raw, entry.get());
  std::string_view field = *entry;
  return EncodedItem{std::move(entry), field};
}

// Threads that help encode a large list: started on first use, as many as the machine has cores
// besides the caller's (at most `kMaxHelpers`), and kept for the life of the process.
class EncodePool {
 public:
  static constexpr unsigned kMaxHelpers = 7;

  static EncodePool& Get() {
    static auto* pool = new EncodePool();  // never destroyed: helpers may run at exit
    return *pool;
  }

  // Runs `work` on the calling thread and on up to `helpers` pool threads at once, and returns
  // once every run has returned. `work` shares its work out itself (e.g. an atomic cursor): a
  // helper that starts late finds nothing left and returns.
  void Run(unsigned helpers, const std::function<void()>& work) KUBE_EXCLUDES(mu_) {
    auto job = std::make_shared<Job>();
    job->work = &work;
    {
      internal::MutexLock lock(mu_);
      StartLocked(helpers);
      job->slots = std::min<unsigned>(helpers, static_cast<unsigned>(threads_.size()));
      if (job->slots > 0) {
        jobs_.push_back(job);
        cv_.notify_all();
      }
    }
    work();
    std::unique_lock<std::mutex> lock(job->mu);
    job->slots_closed = true;  // helpers that have not started this job never will
    while (job->running != 0) job->done.wait(lock);
  }

 private:
  struct Job {
    const std::function<void()>* work = nullptr;
    unsigned slots = 0;  // helpers that may still join (guarded by the pool's mu_)
    std::mutex mu;
    std::condition_variable done;
    unsigned running = 0;       // guarded by mu
    bool slots_closed = false;  // guarded by mu
  };

  void StartLocked(unsigned wanted) KUBE_REQUIRES(mu_) {
    unsigned cap = std::min(kMaxHelpers, std::max(1u, std::thread::hardware_concurrency()) - 1);
    while (threads_.size() < std::min(wanted, cap)) {
      try {
        threads_.emplace_back([this] { Loop(); });
      } catch (const std::system_error&) {
        return;  // no thread to spare: fewer helpers
      }
    }
  }

  void Loop() {
    while (true) {
      std::shared_ptr<Job> job;
      {
        internal::MutexLock lock(mu_);
        while (jobs_.empty()) lock.Wait(cv_);
        job = jobs_.front();
        if (--job->slots == 0) jobs_.pop_front();
      }
      {
        std::lock_guard<std::mutex> lock(job->mu);
        if (job->slots_closed) continue;
        ++job->running;
      }
      (*job->work)();
      std::lock_guard<std::mutex> lock(job->mu);
      if (--job->running == 0) job->done.notify_all();
    }
  }

  internal::Mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> jobs_ KUBE_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ KUBE_GUARDED_BY(mu_);
};

// The enveloped protobuf encoding of stored objects, made once per object and shared by every
// list page and watch frame that carries it. Stored objects are immutable (a change makes a new
// ObjectPtr), so an entry is valid as long as its object lives; entries are keyed by address and
// checked against a weak pointer, so a reused address is a miss. When the cached bytes pass the
// budget, entries of freed objects go; if that is not enough, entries of live objects go down to
// 3/4 of the budget (the answers being written keep their bytes: entries are shared).
class EncodedObjectCache {
 public:
  static constexpr size_t kDefaultBudgetBytes = size_t{256} << 20;
  // A list with at least this many objects to encode spreads them over several threads
  // (`EncodePool`).
  static constexpr size_t kParallelFrom = 256;

  using Bytes = std::shared_ptr<const std::string>;

  static EncodedObjectCache& Get() {
    static auto* cache = new EncodedObjectCache();  // never destroyed: used at exit by sessions
    return *cache;
  }

  // The object's enveloped protobuf bytes; an error when its JSON has no protobuf form.
  Result<Bytes> Encoded(const ObjectPtr& obj) KUBE_EXCLUDES(mu_) {
    {
      internal::MutexLock lock(mu_);
      if (const Entry* hit = FindLocked(obj)) return hit->envelope;
    }
    Result<Entry> made = Make(obj);
    if (!made) return made.error();
    Bytes envelope = made->envelope;
    internal::MutexLock lock(mu_);
    InsertLocked(std::move(*made));
    if (bytes_ > budget_) SweepLocked();
    return envelope;
  }

  // The encodings of `objects`, in their order: those cached under one lock, the others encoded
  // (with `EncodePool`'s help when there are many) and cached.
  // The first error stops the work and is returned.
  Result<std::vector<EncodedItem>> ListEntries(const std::vector<ObjectPtr>& objects)
      KUBE_EXCLUDES(mu_) {
    std::vector<EncodedItem> out(objects.size());
    std::vector<size_t> missing;
    {
      internal::MutexLock lock(mu_);
      for (size_t i = 0; i < objects.size(); ++i) {
        if (const Entry* hit = FindLocked(objects[i])) {
          out[i] = hit->item;
        } else {
          missing.push_back(i);
        }
      }
    }
    if (missing.empty()) return out;
    std::vector<Entry> made(missing.size());
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    Status first_error;
    std::mutex error_mu;
    auto work = [&] {
      constexpr size_t kBatch = 32;
      while (!failed.load(std::memory_order_relaxed)) {
        size_t begin = next.fetch_add(kBatch, std::memory_order_relaxed);
        if (begin >= missing.size()) return;
        size_t end = std::min(begin + kBatch, missing.size());
        for (size_t k = begin; k < end; ++k) {
          Result<Entry> entry = Make(objects[missing[k]]);
          if (!entry) {
            std::lock_guard<std::mutex> lock(error_mu);
            if (!failed.exchange(true)) first_error = entry.error();
            return;
          }
          out[missing[k]] = entry->item;
          made[k] = std::move(*entry);
        }
      }
    };
    if (missing.size() >= kParallelFrom) {
      EncodePool::Get().Run(static_cast<unsigned>(std::min<size_t>(
                                EncodePool::kMaxHelpers, missing.size() / (kParallelFrom / 2) - 1)),
                            work);
    } else {
      work();
    }
    if (failed) return first_error;
    internal::MutexLock lock(mu_);
    for (Entry& e : made) InsertLocked(std::move(e));
    if (bytes_ > budget_) SweepLocked();
    return out;
  }

  void SetBudget(size_t bytes) KUBE_EXCLUDES(mu_) {
    internal::MutexLock lock(mu_);
    budget_ = bytes;
    if (bytes_ > budget_) SweepLocked();
  }

  size_t bytes() const KUBE_EXCLUDES(mu_) {
    internal::MutexLock lock(mu_);
    return bytes_;
  }

 private:
  // One object's encoding: the enveloped bytes (single objects, watch frames) and the object's
  // entry in a list (a view into them, see `ListEntry`).
  struct Entry {
    const Object* key = nullptr;
    std::weak_ptr<const Object> owner;
    Bytes envelope;
    EncodedItem item;

    size_t size() const {
      return envelope->size() + (item.bytes == envelope ? 0 : item.bytes->size());
    }
  };

  static Result<Entry> Make(const ObjectPtr& obj) {
    auto bytes = std::make_shared<std::string>();
    Status st = AppendJsonAsProtobuf(obj->json(), bytes.get());
    if (!st.ok()) return st;
    Bytes envelope = std::move(bytes);
    Result<EncodedItem> item = ListEntry(envelope);
    if (!item) return item.error();
    return Entry{obj.get(), obj, std::move(envelope), std::move(*item)};
  }

  const Entry* FindLocked(const ObjectPtr& obj) const KUBE_REQUIRES(mu_) {
    auto it = entries_.find(obj.get());
    if (it != entries_.end() && it->second.owner.lock() == obj) return &it->second;
    return nullptr;
  }

  void InsertLocked(Entry e) KUBE_REQUIRES(mu_) {
    Entry& slot = entries_[e.key];
    if (slot.envelope) bytes_ -= slot.size();
    bytes_ += e.size();
    slot = std::move(e);
  }

  void SweepLocked() KUBE_REQUIRES(mu_) {
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second.owner.expired()) {
        bytes_ -= it->second.size();
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
    // Still over: entries of live objects go too, as many as bring the cache to 3/4 of its
    // budget (not all of them: a collection whose encodings pass the budget then re-encodes a
    // part of itself per list, not the whole).
    for (auto it = entries_.begin(); it != entries_.end() && bytes_ > budget_ / 4 * 3;) {
      bytes_ -= it->second.size();
      it = entries_.erase(it);
    }
  }

  mutable internal::Mutex mu_;
  std::unordered_map<const Object*, Entry> entries_ KUBE_GUARDED_BY(mu_);
  size_t bytes_ KUBE_GUARDED_BY(mu_) = 0;
  size_t budget_ KUBE_GUARDED_BY(mu_) = kDefaultBudgetBytes;
};

// A list answer in protobuf, written as the JSON one is, without copying its items: `body` is
// the envelope (magic, TypeMeta, the key and length of `raw`) and the list's ListMeta (from the
// JSON opening), `encoded_items` each stored item's entry in the list, `body_suffix` the
// envelope's empty contentEncoding and contentType. An item's entry is a view into its cached
// envelope: the envelope's `raw` (field 2, length-delimited) is preceded by the same key and
// length as the list's `items` entry (field 2) is.
Status EncodeList(HttpResponse* r) {
  std::string head;
  Status st = AppendJsonAsProtobuf(r->body + r->body_suffix, &head);
  if (!st.ok()) return st;
  Result<ProtobufEnvelope> env = ParseProtobufEnvelope(head);
  if (!env) return env.error();
  Result<std::vector<EncodedItem>> items = EncodedObjectCache::Get().ListEntries(r->items);
  if (!items) return items.error();
  size_t raw_size = env->raw.size();
  for (const EncodedItem& item : *items) raw_size += item.field.size();
  std::string type_meta;
  PutBytes(1, env->api_version, &type_meta);
  PutBytes(2, env->kind, &type_meta);
  std::string body;
  body.reserve(kProtobufMagic.size() + type_meta.size() + env->raw.size() + 32);
  body.append(kProtobufMagic);
  PutBytes(1, type_meta, &body);
  PutVarint((uint64_t{2} << 3) | 2, &body);
  PutVarint(raw_size, &body);
  body.append(env->raw);
  r->body = std::move(body);
  r->body_suffix.assign("\x1a\x00\x22\x00", 4);  // contentEncoding "", contentType ""
  r->items.clear();
  r->encoded_items = std::move(items).value();
  return Status();
}

void EncodeResponse(HttpResponse* r) {
  bool aggregated = r->content_type == kAggregatedDiscoveryContentType;
  if (r->content_type != "application/json" && !aggregated) return;
  if (!r->items.empty()) {
    // No protobuf form (or not encodable): the JSON answer stands.
    if (!EncodeList(r).ok()) return;
  } else {
    std::string pb;
    if (!AppendJsonAsProtobuf(r->body, &pb).ok()) return;  // as above
    r->body = std::move(pb);
  }
  r->content_type = std::string(aggregated ? kAggregatedProtobufContentType : kProtobufContentType);
}

// 406 NotAcceptable for a request whose Accept names protobuf the target cannot serve: in
// protobuf when a plain protobuf type was asked for, else indented JSON (as kube-apiserver does).
HttpResponse NotAcceptableResponse(bool as_protobuf) {
  ApiError e = NotAcceptable();
  e.message = std::string(kOnlyAccepted);
  HttpResponse r = ErrorResponse(e);
  if (as_protobuf) {
    EncodeResponse(&r);
  } else {
    // Go's indented encoding, members in the Status type's order.
    nlohmann::ordered_json j = {{"kind", "Status"},
                                {"apiVersion", "v1"},
                                {"metadata", nlohmann::ordered_json::object()},
                                {"status", "Failure"},
                                {"message", e.message},
                                {"reason", e.reason},
                                {"code", e.code}};
    r.body = j.dump(2);
  }
  return r;
}

std::string_view BaseMediaType(std::string_view content_type) {
  return Trim(content_type.substr(0, content_type.find(';')), kOptionalWhitespace);
}

}  // namespace

ContentNegotiation NegotiateContent(const HttpRequest& req, const ResourceCatalog& catalog,
                                    size_t max_json_bytes) {
  ContentNegotiation n;
  bool body_is_protobuf = !req.body.empty() &&
                          (req.method == "POST" || req.method == "PUT" || req.method == "DELETE") &&
                          AsciiLower(BaseMediaType(req.content_type)) == kProtobufContentType;
  bool accepts_protobuf = req.accept.find("protobuf") != std::string::npos;
  if (!body_is_protobuf && !accepts_protobuf) return n;  // the common JSON request

  std::string accept;  // the Accept the router sees; empty: the original
  if (accepts_protobuf) {
    Target target = Classify(req.path, catalog);
    bool chosen = false, saw_protobuf = false, bare_protobuf = false;
    for (const MediaRange& m : ParseAcceptHeader(req.accept)) {
      if (IsJsonRange(m.type)) {
        chosen = true;  // JSON (or a JSON Table): the router's own negotiation
        break;
      }
      if (m.type != kProtobufContentType) continue;
      saw_protobuf = true;
      std::string_view as = m.Param("as");
      bare_protobuf = bare_protobuf || as.empty();
      if (target == Target::kOther || target == Target::kCustom) continue;
      if (as.empty()) {
        n.protobuf = chosen = true;
        accept = "application/json";
        break;
      }
      if (target == Target::kRoot && as == "APIGroupDiscoveryList" &&
          m.Param("g") == "apidiscovery.k8s.io" && m.Param("v") == "v2") {
        n.protobuf = chosen = true;
        accept = kAggregatedJsonAccept;
        break;
      }
      // Tables and partial metadata have no protobuf form here: the next range decides.
    }
    if (!chosen && saw_protobuf && target != Target::kOther) {
      n.refusal = NotAcceptableResponse(bare_protobuf);
      return n;
    }
  }

  std::string body;
  if (body_is_protobuf) {
    Result<std::string> json = ProtobufToJson(req.body, {.max_json_bytes = max_json_bytes});
    if (json) {
      body = std::move(json).value();
    } else if (json.error().code() == StatusCode::kNotFound) {
      body_is_protobuf = false;  // no built-in protobuf form: the router answers 415
    } else {
      n.refusal = ErrorResponse(BadRequest(
          "the body of the request could not be decoded as protobuf: " + json.error().message()));
      if (n.protobuf) EncodeResponse(&*n.refusal);
      return n;
    }
  }
  if (accept.empty() && !body_is_protobuf) return n;
  n.request = req;
  if (!accept.empty()) n.request->accept = std::move(accept);
  if (body_is_protobuf) {
    n.request->body = std::move(body);
    n.request->content_type = "application/json";
  }
  return n;
}

void EncodeAnswer(const ContentNegotiation& negotiation, RouteResult* result) {
  if (!negotiation.protobuf) return;
  if (auto* r = std::get_if<HttpResponse>(result)) return EncodeResponse(r);
  if (auto* plan = std::get_if<std::shared_ptr<WatchPlan>>(result)) {
    if (!(*plan)->table) (*plan)->protobuf = true;
  }
  // An `RvWait` is routed again once the version arrives, and negotiated again then.
}

void AppendWatchFrame(std::string_view type, const ObjectPtr& object, std::string* out) {
  Result<std::shared_ptr<const std::string>> encoded = EncodedObjectCache::Get().Encoded(object);
  if (!encoded) return AppendWatchFrame(type, object->json(), out);
  // WatchEvent{1: type, 2: RawExtension{1: raw}} behind a 4-byte big-endian length.
  std::string raw_ext;
  PutBytes(1, **encoded, &raw_ext);
  std::string event;
  PutBytes(1, type, &event);
  PutBytes(2, raw_ext, &event);
  uint32_t n = static_cast<uint32_t>(event.size());
  const char header[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                          static_cast<char>(n >> 8), static_cast<char>(n)};
  out->append(header, 4);
  out->append(event);
}

void AppendWatchFrame(std::string_view type, std::string_view object_json, std::string* out) {
  Status st = AppendProtobufWatchFrame(type, object_json, out);
  if (st.ok()) return;
  std::string status =
      StatusJson(InternalServerError("encoding a watch event as protobuf: " + st.message()));
  st = AppendProtobufWatchFrame("ERROR", status, out);
  (void)st;  // a Status always has a protobuf form
}

HttpResponse ErrorAnswer(std::string_view accept, const ApiError& error) {
  HttpResponse r = ErrorResponse(error);
  if (accept.find("protobuf") == std::string_view::npos) return r;
  for (const MediaRange& m : ParseAcceptHeader(accept)) {
    if (IsJsonRange(m.type)) break;
    if (m.type == kProtobufContentType && m.Param("as").empty()) {
      EncodeResponse(&r);
      break;
    }
  }
  return r;
}

size_t SetProtobufCacheBudget(size_t bytes) {
  size_t before = EncodedObjectCache::kDefaultBudgetBytes;
  EncodedObjectCache::Get().SetBudget(bytes == 0 ? before : bytes);
  return before;
}

size_t ProtobufCacheBytes() { return EncodedObjectCache::Get().bytes(); }

std::string_view WatchContentType(const WatchPlan& plan) {
  return plan.protobuf ? kProtobufWatchContentType : std::string_view("application/json");
}

}  // namespace kube::server
