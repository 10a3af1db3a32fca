// Object: minified JSON plus an index of its metadata, laid out in one allocation.
//
// Decoding (`Object::Parse`): copy the input into a reused, padded scratch buffer; validate it
// with simdjson's stage 1 (run-time dispatched SIMD: UTF-8, strings, token positions) and our
// token checks (json/validate.cc) in place of simdjson's DOM-building stage 2; minify only if
// the input had whitespace (API servers send minified JSON); then read the metadata straight
// from the bytes, jumping over values with the token positions (src/object_metadata.cc).
// Strings without escapes — nearly all of them — are views into the JSON itself, so the metadata
// cost a few offsets rather than copies; only escaped strings are decoded into a small arena
// behind the JSON. The final block is sized exactly and written once.
//
// One allocation per object, laid out as
//   shared_ptr control block with the Object | Rep | owner references | finalizers |
//   label and annotation pairs (string_views) | JSON bytes | decoded-string arena
// `std::allocate_shared` with `ObjectAllocator`, which asks for the control block plus the tail
// that `Build` sized, so the reference counts, the metadata and the JSON share one malloc chunk.
// Every `Rep::Ref` is an offset from the JSON's first byte, so the arena continues the JSON.
//
// Path access walks the same minified bytes (src/object_path.cc) rather than building a DOM:
// the bytes are known valid, lookups stop early, and nothing per-thread is shared, so an object
// needs no padding for simdjson and path reads are trivially thread-safe.
#include "kube/object.h"

#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstring>
#include <new>
#include <span>
#include <utility>

#include "base/time_format.h"
#include "json/scan.h"
#include "json/validate.h"
#include "object_codec.h"
#include "object_list.h"
#include "object_metadata.h"
#include "object_path.h"

namespace kube {

struct Object::Rep {
  struct Ref {
    uint32_t off = 0;
    uint32_t len = 0;
  };
  using Pair = StringMapView::value_type;

  uint32_t json_size = 0;
  uint32_t pair_slots = 0;  // room for pairs in front of the JSON
  uint32_t num_labels = 0;
  uint32_t num_annotations = 0;
  uint32_t num_owner_references = 0;
  uint32_t num_finalizers = 0;
  uint32_t block_size = 0;  // bytes of the whole allocation (control block included)
  uint32_t managed_fields_cut_begin = 0;
  uint32_t managed_fields_cut_end = 0;
  bool has_managed_fields = false;
  int64_t generation = 0;
  Ref api_version, kind, name, ns, generate_name, uid, resource_version, creation_timestamp,
      deletion_timestamp;
  // Objects that store another encoding than JSON (object_codec.h): the codec, its tag, and the
  // JSON once `json()` asked for it (owned; freed by ~Object).
  const internal::ObjectCodec* codec = nullptr;
  uint32_t codec_tag = 0;
  mutable std::atomic<std::string*> json_cache{nullptr};

  // Everything behind the Rep is trivially destructible, so the Rep needs no destructor call.
  OwnerReference* owner_references() { return reinterpret_cast<OwnerReference*>(this + 1); }
  const OwnerReference* owner_references() const {
    return reinterpret_cast<const OwnerReference*>(this + 1);
  }
  std::string_view* finalizers() {
    return reinterpret_cast<std::string_view*>(owner_references() + num_owner_references);
  }
  const std::string_view* finalizers() const {
    return reinterpret_cast<const std::string_view*>(owner_references() + num_owner_references);
  }
  Pair* pairs() { return reinterpret_cast<Pair*>(finalizers() + num_finalizers); }
  const Pair* pairs() const { return reinterpret_cast<const Pair*>(finalizers() + num_finalizers); }
  char* bytes() { return reinterpret_cast<char*>(pairs() + pair_slots); }
  const char* bytes() const { return reinterpret_cast<const char*>(pairs() + pair_slots); }
  // The stored body: the JSON, or the codec's bytes.
  std::string_view json() const { return {bytes(), json_size}; }
  std::string_view View(Ref r) const { return {bytes() + r.off, r.len}; }
};

namespace {

using internal::MetadataIndex;
using internal::TextRef;

// Kubernetes caps objects near 1.5 MB; this bound keeps every offset (JSON plus arena, which is
// never longer than the JSON) in a uint32_t.
constexpr size_t kMaxObjectBytes = size_t{1} << 30;
// Scratch memory a thread keeps between calls; anything bigger is returned after use.
constexpr size_t kKeepScratchBytes = size_t{4} << 20;

// Per-thread state reused by every decode on that thread: a warm parser and warm buffers are
// many times faster than fresh memory (first touch costs ~3 ms/MB on the development machine).
struct Buffer {
  std::unique_ptr<char[]> data;
  size_t cap = 0;

  char* Reserve(size_t n) {
    if (cap < n) {
      data.reset(new char[n]);
      cap = n;
    }
    return data.get();
  }
  void Trim() {
    if (cap > kKeepScratchBytes) {
      data.reset();
      cap = 0;
    }
  }
};

struct Scratch {
  simdjson::dom::parser parser;
  Buffer input;                  // a padded copy of the input, for simdjson
  Buffer minified;               // the input minified, when it was not already
  std::vector<uint32_t> closes;  // see internal::json::Tokens
  MetadataIndex md;
  bool busy = false;

  void Trim() {
    input.Trim();
    minified.Trim();
    if (closes.capacity() * sizeof(uint32_t) > kKeepScratchBytes) {
      std::vector<uint32_t>().swap(closes);
    }
    if (parser.capacity() > kKeepScratchBytes) parser = simdjson::dom::parser();
  }
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// The thread's scratch, or a private one if the thread's is already in use further up the
// stack (no caller nests today; this keeps it correct if one ever does).
class ScratchLease {
 public:
  ScratchLease() {
    Scratch& mine = ThreadScratch();
    if (!mine.busy) {
      s_ = &mine;
      mine.busy = true;
    } else {
      own_ = std::make_unique<Scratch>();
      s_ = own_.get();
    }
  }
  ~ScratchLease() {
    if (own_ == nullptr) {
      s_->Trim();
      s_->busy = false;
    }
  }
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;
  Scratch* operator->() { return s_; }

 private:
  Scratch* s_ = nullptr;
  std::unique_ptr<Scratch> own_;
};

// Indexes `min` (valid minified JSON) with its tokens if there are any, else by scanning bytes.
Status Index(std::string_view min, const internal::json::Tokens& tokens, MetadataIndex* md) {
  if (!tokens.starts.empty() && tokens.starts[0] == 0) {
    return internal::IndexMetadata(min, tokens.starts.data(), tokens.closes.data(),
                                   tokens.starts.size(), md);
  }
  return internal::IndexMetadata(min, md);
}

Status Malformed(simdjson::error_code err) {
  return InvalidArgumentError(std::string("malformed JSON: ") + simdjson::error_message(err));
}

// glibc's cost of an n-byte allocation: an 8-byte header, rounded to 16, at least 32. An
// estimate on purpose: asking the allocator (malloc_usable_size) breaks under a replaced
// operator new.
size_t AllocatedBytes(size_t n) { return std::max<size_t>(32, (n + 8 + 15) & ~size_t{15}); }

// What `Build` wants behind the control block, and where `ObjectAllocator::allocate` put it.
// Set and read on one thread within one `std::allocate_shared` call.
struct TailRequest {
  size_t bytes = 0;      // the Rep and everything behind it
  char* tail = nullptr;  // out: where the Rep goes
  size_t total = 0;      // out: bytes of the whole allocation
};
thread_local TailRequest t_tail;

// std::allocate_shared puts the control block and the Object in one allocation; this allocator
// makes that allocation `t_tail.bytes` longer, so the Rep and the JSON live there too, and routes
// construction through the class that may call Object's private constructor. Stateless, so the
// control block stores nothing for it.
template <typename T>
struct ObjectAllocator {
  using value_type = T;
  ObjectAllocator() = default;
  template <typename U>
  ObjectAllocator(const ObjectAllocator<U>&) {}  // NOLINT(runtime/explicit)
  T* allocate(size_t n) {
    // allocate_shared asks for exactly one control block (n == 1).
    constexpr size_t kAlign = alignof(std::max_align_t);
    static_assert(alignof(T) <= kAlign);
    const size_t head = (sizeof(T) * n + kAlign - 1) & ~(kAlign - 1);
    char* p = static_cast<char*>(::operator new(head + t_tail.bytes));
    t_tail.tail = p + head;
    t_tail.total = head + t_tail.bytes;
    return reinterpret_cast<T*>(p);
  }
  void deallocate(T* p, size_t) { ::operator delete(static_cast<void*>(p)); }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args);
  template <typename U>
  void destroy(U* p) {
    p->~U();
  }
  friend bool operator==(const ObjectAllocator&, const ObjectAllocator&) { return true; }
};

}  // namespace

struct ObjectBuilderAccess {
  using Rep = Object::Rep;

  // Places a fresh Rep in the tail `ObjectAllocator::allocate` just made.
  template <typename U>
  static void Construct(U* p) {
    ::new (static_cast<void*>(p)) Object(::new (static_cast<void*>(t_tail.tail)) Rep);
  }
  static const Rep& RepOf(const Object& o) { return *o.rep_; }

  // `padded`: `input` is followed by simdjson::SIMDJSON_PADDING readable bytes, so simdjson can
  // read it in place instead of from a padded copy.
  static Result<ObjectPtr> Parse(std::string_view input, std::string_view default_api_version,
                                 std::string_view default_kind, bool padded = false);
  // `min` is valid minified JSON and `md` its index; or, with a `codec`, the codec's body (kept
  // as is, with no splice) and its metadata.
  static Result<ObjectPtr> Build(std::string_view min, const MetadataIndex& md,
                                 std::string_view default_api_version,
                                 std::string_view default_kind,
                                 const internal::ObjectCodec* codec = nullptr, uint32_t tag = 0);
  static ObjectPtr WithoutManagedFields(const ObjectPtr& obj);
  // The JSON of an encoded object, transcoded now.
  static std::string EncodedJson(const Object& o);
  // The JSON path reads walk: the stored or cached JSON, else a transcoding into `*scratch`.
  static std::string_view JsonForRead(const Object& o, std::string* scratch);
  // The same for reading `path` only: for an encoded object, when the path's first step names a
  // member the codec can transcode alone, `{"member":value}` (the path finds the same value, or
  // the same error, in it as in the whole JSON).
  static std::string_view JsonForPath(const Object& o, std::string_view path, std::string* scratch);
};

namespace {

template <typename T>
template <typename U, typename... Args>
void ObjectAllocator<T>::construct(U* p, Args&&... args) {
  ObjectBuilderAccess::Construct(p, std::forward<Args>(args)...);
}

}  // namespace

Result<ObjectPtr> ObjectBuilderAccess::Parse(std::string_view input,
                                             std::string_view default_api_version,
                                             std::string_view default_kind, bool padded) {
  if (input.size() > kMaxObjectBytes) {
    return InvalidArgumentError("object JSON of " + std::to_string(input.size()) +
                                " bytes is larger than the 1 GiB limit");
  }
  // Validate the input as given: minifying first would turn `[1 2]` into the valid `[12]`.
  ScratchLease s;
  const char* buf = input.data();
  if (!padded) {
    char* copy = s->input.Reserve(input.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(copy, input.data(), input.size());
    buf = copy;
  }
  std::string_view text(buf, input.size());
  internal::json::Tokens tokens;
  Status st = internal::json::Validate(s->parser, text, &s->closes, &tokens);
  if (!st.ok()) return st;
  if (!tokens.minified) {
    // Pretty input (rare from API servers): minify, and find the tokens again.
    char* min = s->minified.Reserve(input.size() + simdjson::SIMDJSON_PADDING);
    size_t len = 0;
    if (auto err = simdjson::minify(buf, input.size(), min, len)) return Malformed(err);
    text = std::string_view(min, len);
    st = internal::json::Validate(s->parser, text, &s->closes, &tokens);
    if (!st.ok()) return st;
  }
  st = Index(text, tokens, &s->md);
  if (!st.ok()) return st;
  return Build(text, s->md, default_api_version, default_kind);
}

Result<ObjectPtr> ObjectBuilderAccess::Build(std::string_view min, const MetadataIndex& md,
                                             std::string_view default_api_version,
                                             std::string_view default_kind,
                                             const internal::ObjectCodec* codec, uint32_t tag) {
  using Pair = Rep::Pair;
  using Ref = Rep::Ref;
  constexpr std::string_view kApiVersionKey = "\"apiVersion\":";
  constexpr std::string_view kKindKey = "\"kind\":";

  // List items of built-in kinds lack apiVersion/kind: splice them in right after the '{', so
  // that `json()` is complete. Every other offset then moves by `shift`.
  const bool add_api = !md.has_api_version && !default_api_version.empty();
  const bool add_kind = !md.has_kind && !default_kind.empty();
  size_t shift = 0;
  if (add_api) shift += kApiVersionKey.size() + internal::json::QuotedSize(default_api_version);
  if (add_kind) shift += kKindKey.size() + internal::json::QuotedSize(default_kind);
  if (add_api && add_kind) ++shift;
  if (shift > 0 && min.size() > 2) ++shift;  // the comma before the original members
  // A default that needs escapes is kept decoded in the arena, behind the parsed strings.
  const bool api_in_arena = add_api && internal::json::NeedsEscaping(default_api_version);
  const bool kind_in_arena = add_kind && internal::json::NeedsEscaping(default_kind);

  const size_t pair_slots = md.labels.size() + md.annotations.size();
  const size_t json_size = min.size() + shift;
  const size_t arena_size = md.arena.size() + (api_in_arena ? default_api_version.size() : 0) +
                            (kind_in_arena ? default_kind.size() : 0);
  if (json_size + arena_size > kMaxObjectBytes * 3) {
    return InvalidArgumentError("object too large");
  }
  static_assert(alignof(OwnerReference) <= alignof(Rep) && alignof(Pair) <= alignof(Rep));
  static_assert(sizeof(Rep) % alignof(OwnerReference) == 0 &&
                sizeof(OwnerReference) % alignof(std::string_view) == 0 &&
                sizeof(std::string_view) % alignof(Pair) == 0);
  const size_t block = sizeof(Rep) + md.owner_references.size() * sizeof(OwnerReference) +
                       md.finalizers.size() * sizeof(std::string_view) + pair_slots * sizeof(Pair) +
                       json_size + arena_size;
  t_tail.bytes = block;
  std::shared_ptr<Object> obj = std::allocate_shared<Object>(ObjectAllocator<Object>());
  t_tail.bytes = 0;
  Rep* rep = obj->rep_;
  rep->json_size = static_cast<uint32_t>(json_size);
  rep->pair_slots = static_cast<uint32_t>(pair_slots);
  rep->num_owner_references = static_cast<uint32_t>(md.owner_references.size());
  rep->num_finalizers = static_cast<uint32_t>(md.finalizers.size());
  rep->block_size = static_cast<uint32_t>(std::min<size_t>(t_tail.total, UINT32_MAX));

  rep->codec = codec;
  rep->codec_tag = tag;
  // The JSON, with the splice (or the codec's body), then the arena.
  char* out = rep->bytes();
  char* w = out;
  Ref api_ref, kind_ref;
  if (codec != nullptr) {
    std::memcpy(w, min.data(), min.size());
  } else {
    *w++ = '{';
  }
  if (add_api) {
    w = std::copy(kApiVersionKey.begin(), kApiVersionKey.end(), w);
    api_ref = {static_cast<uint32_t>(w - out + 1),
               static_cast<uint32_t>(default_api_version.size())};
    w = internal::json::WriteQuoted(default_api_version, w);
    if (add_kind) *w++ = ',';
  }
  if (add_kind) {
    w = std::copy(kKindKey.begin(), kKindKey.end(), w);
    kind_ref = {static_cast<uint32_t>(w - out + 1), static_cast<uint32_t>(default_kind.size())};
    w = internal::json::WriteQuoted(default_kind, w);
  }
  if (shift > 0 && min.size() > 2) *w++ = ',';
  if (codec == nullptr) std::memcpy(w, min.data() + 1, min.size() - 1);
  char* arena = out + json_size;
  std::memcpy(arena, md.arena.data(), md.arena.size());
  size_t arena_used = md.arena.size();
  if (api_in_arena) {
    std::memcpy(arena + arena_used, default_api_version.data(), default_api_version.size());
    api_ref.off = static_cast<uint32_t>(json_size + arena_used);
    arena_used += default_api_version.size();
  }
  if (kind_in_arena) {
    std::memcpy(arena + arena_used, default_kind.data(), default_kind.size());
    kind_ref.off = static_cast<uint32_t>(json_size + arena_used);
  }

  auto ref = [&](const TextRef& r) -> Ref {
    return {static_cast<uint32_t>(r.decoded ? json_size + r.off : r.off + shift), r.len};
  };
  rep->api_version = add_api ? api_ref : ref(md.api_version);
  rep->kind = add_kind ? kind_ref : ref(md.kind);
  rep->name = ref(md.name);
  rep->ns = ref(md.ns);
  rep->generate_name = ref(md.generate_name);
  rep->uid = ref(md.uid);
  rep->resource_version = ref(md.resource_version);
  rep->creation_timestamp = ref(md.creation_timestamp);
  rep->deletion_timestamp = ref(md.deletion_timestamp);
  rep->generation = md.generation;
  rep->has_managed_fields = md.has_managed_fields;
  if (md.has_managed_fields) {
    rep->managed_fields_cut_begin = static_cast<uint32_t>(md.managed_fields_cut_begin + shift);
    rep->managed_fields_cut_end = static_cast<uint32_t>(md.managed_fields_cut_end + shift);
  }

  // Labels and annotations as sorted views. Servers send maps sorted (Go marshals them so), so
  // sorting is the exception; duplicate keys keep the last value, as Go's decoder does.
  auto fill = [&](const std::vector<std::pair<TextRef, TextRef>>& src, Pair* dst) {
    for (size_t i = 0; i < src.size(); ++i) {
      ::new (static_cast<void*>(dst + i))
          Pair(rep->View(ref(src[i].first)), rep->View(ref(src[i].second)));
    }
    size_t n = src.size();
    bool sorted = true;
    for (size_t i = 1; i < n && sorted; ++i) sorted = dst[i - 1].first < dst[i].first;
    if (sorted) return static_cast<uint32_t>(n);
    std::stable_sort(dst, dst + n, [](const Pair& a, const Pair& b) { return a.first < b.first; });
    size_t kept = 0;
    for (size_t i = 0; i < n; ++i) {
      if (i + 1 < n && dst[i + 1].first == dst[i].first) continue;
      dst[kept++] = dst[i];
    }
    return static_cast<uint32_t>(kept);
  };
  rep->num_labels = fill(md.labels, rep->pairs());
  rep->num_annotations = fill(md.annotations, rep->pairs() + md.labels.size());
  // Annotations start at slot labels.size() whatever dedup kept; record it by moving them down.
  if (rep->num_labels != md.labels.size()) {
    Pair* p = rep->pairs();
    std::copy(p + md.labels.size(), p + md.labels.size() + rep->num_annotations,
              p + rep->num_labels);
  }

  OwnerReference* owners = rep->owner_references();
  for (const auto& o : md.owner_references) {
    ::new (static_cast<void*>(owners++)) OwnerReference{
        rep->View(ref(o.api_version)), rep->View(ref(o.kind)), rep->View(ref(o.name)),
        rep->View(ref(o.uid)),         o.controller,           o.block_owner_deletion};
  }
  std::string_view* finalizers = rep->finalizers();
  for (const auto& f : md.finalizers) {
    ::new (static_cast<void*>(finalizers++)) std::string_view(rep->View(ref(f)));
  }
  return ObjectPtr(std::move(obj));
}

ObjectPtr ObjectBuilderAccess::WithoutManagedFields(const ObjectPtr& obj) {
  const Rep& rep = RepOf(*obj);
  if (rep.codec != nullptr) {
    ObjectPtr out =
        rep.codec->WithoutManagedFields(rep.json(), rep.codec_tag, obj->api_version(), obj->kind());
    return out != nullptr ? out : obj;
  }
  std::string_view json = rep.json();
  size_t b = rep.managed_fields_cut_begin;
  size_t e = rep.managed_fields_cut_end;
  ScratchLease s;
  char* buf = s->input.Reserve(json.size());
  std::memcpy(buf, json.data(), b);
  std::memcpy(buf + b, json.data() + e, json.size() - e);
  std::string_view cut(buf, json.size() - (e - b));
  // Removing one member (and one comma) from valid JSON leaves valid JSON: no validation needed.
  if (!internal::IndexMetadata(cut, &s->md).ok()) return obj;
  auto out = Build(cut, s->md, "", "");
  return out ? *std::move(out) : obj;
}

std::string ObjectBuilderAccess::EncodedJson(const Object& o) {
  const Rep& rep = *o.rep_;
  std::string out;
  if ((rep.codec_tag & internal::kSpliceTypeMeta) == 0) {
    rep.codec->AppendJson(rep.json(), rep.codec_tag, o.api_version(), o.kind(), &out);
    return out;
  }
  // As `Build` splices a list item's type into its JSON.
  std::string min;
  rep.codec->AppendJson(rep.json(), rep.codec_tag, o.api_version(), o.kind(), &min);
  if (min.size() < 2) return min;
  const std::string_view api_version = o.api_version();
  const std::string_view kind = o.kind();
  out.reserve(min.size() + api_version.size() + kind.size() + 32);
  out += '{';
  if (!api_version.empty()) {
    out += "\"apiVersion\":";
    internal::json::AppendQuoted(api_version, &out);
    if (!kind.empty()) out += ',';
  }
  if (!kind.empty()) {
    out += "\"kind\":";
    internal::json::AppendQuoted(kind, &out);
  }
  if ((!api_version.empty() || !kind.empty()) && min.size() > 2) out += ',';
  out.append(min, 1);
  return out;
}

std::string_view ObjectBuilderAccess::JsonForRead(const Object& o, std::string* scratch) {
  const Rep& rep = *o.rep_;
  if (rep.codec == nullptr) return rep.json();
  if (const std::string* cached = rep.json_cache.load(std::memory_order_acquire)) return *cached;
  *scratch = EncodedJson(o);
  return *scratch;
}

std::string_view ObjectBuilderAccess::JsonForPath(const Object& o, std::string_view path,
                                                  std::string* scratch) {
  const Rep& rep = *o.rep_;
  if (rep.codec == nullptr || rep.json_cache.load(std::memory_order_acquire) != nullptr) {
    return JsonForRead(o, scratch);
  }
  // The first step, when it is a plain name: `name`, `name.rest`, `name[...]`, `/name/rest`.
  std::string_view p = path;
  size_t end;
  if (!p.empty() && p[0] == '/') {
    p.remove_prefix(1);
    end = p.find('/');
  } else {
    if (!p.empty() && p[0] == '.') p.remove_prefix(1);
    end = p.find_first_of(".[]");
    if (end != std::string_view::npos && p[end] == ']') end = 0;
  }
  std::string_view first = p.substr(0, end);
  if (first.empty() || first.find('~') != std::string_view::npos || first == "kind" ||
      first == "apiVersion") {
    return JsonForRead(o, scratch);
  }
  scratch->clear();
  if (!rep.codec->AppendMemberJson(rep.json(), rep.codec_tag, o.api_version(), first, scratch)) {
    return JsonForRead(o, scratch);
  }
  return *scratch;
}

namespace internal {

Result<ObjectPtr> BuildEncodedObject(std::string_view body, const MetadataIndex& md,
                                     const ObjectCodec* codec, uint32_t tag) {
  return ObjectBuilderAccess::Build(body, md, "", "", codec, tag);
}

EncodedBody EncodedBodyOf(const Object& obj) {
  const auto& rep = ObjectBuilderAccess::RepOf(obj);
  if (rep.codec == nullptr) return {};
  return {rep.json(), rep.codec, rep.codec_tag};
}

}  // namespace internal

Object::Object(Rep* rep) : rep_(rep) {}
// The Rep and what follows it are trivially destructible but for an encoded object's cached
// JSON; the allocation is the control block's, released by `ObjectAllocator::deallocate`.
Object::~Object() { delete rep_->json_cache.load(std::memory_order_acquire); }

Result<ObjectPtr> Object::Parse(std::string_view json) {
  return ObjectBuilderAccess::Parse(json, "", "");
}

Result<ObjectPtr> Object::Parse(std::string_view json, std::string_view default_api_version,
                                std::string_view default_kind) {
  return ObjectBuilderAccess::Parse(json, default_api_version, default_kind);
}

std::string_view Object::api_version() const { return rep_->View(rep_->api_version); }
std::string_view Object::kind() const { return rep_->View(rep_->kind); }

GroupVersionKind Object::gvk() const {
  std::string_view av = api_version();
  size_t slash = av.find('/');
  if (slash == std::string_view::npos) return {"", std::string(av), std::string(kind())};
  return {std::string(av.substr(0, slash)), std::string(av.substr(slash + 1)), std::string(kind())};
}

std::string_view Object::name() const { return rep_->View(rep_->name); }
std::string_view Object::ns() const { return rep_->View(rep_->ns); }
std::string_view Object::generate_name() const { return rep_->View(rep_->generate_name); }
std::string_view Object::uid() const { return rep_->View(rep_->uid); }
std::string_view Object::resource_version() const { return rep_->View(rep_->resource_version); }
int64_t Object::generation() const { return rep_->generation; }

StringMapView Object::labels() const {
  return StringMapView(std::span(rep_->pairs(), rep_->num_labels));
}
StringMapView Object::annotations() const {
  return StringMapView(std::span(rep_->pairs() + rep_->num_labels, rep_->num_annotations));
}
std::span<const OwnerReference> Object::owner_references() const {
  return {rep_->owner_references(), rep_->num_owner_references};
}
std::span<const std::string_view> Object::finalizers() const {
  return {rep_->finalizers(), rep_->num_finalizers};
}

std::string_view Object::creation_timestamp() const { return rep_->View(rep_->creation_timestamp); }
std::string_view Object::deletion_timestamp() const { return rep_->View(rep_->deletion_timestamp); }
std::optional<std::chrono::system_clock::time_point> Object::creation_time() const {
  return internal::ParseSystemTime(creation_timestamp());
}
std::optional<std::chrono::system_clock::time_point> Object::deletion_time() const {
  return internal::ParseSystemTime(deletion_timestamp());
}
bool Object::has_managed_fields() const { return rep_->has_managed_fields; }

std::string_view Object::json() const {
  if (rep_->codec == nullptr) return rep_->json();
  const std::string* cached = rep_->json_cache.load(std::memory_order_acquire);
  if (cached != nullptr) return *cached;
  // Several threads may transcode at once; the first to publish wins, the others free theirs.
  auto fresh = std::make_unique<std::string>(ObjectBuilderAccess::EncodedJson(*this));
  std::string* expected = nullptr;
  if (rep_->json_cache.compare_exchange_strong(expected, fresh.get(), std::memory_order_acq_rel,
                                               std::memory_order_acquire)) {
    return *fresh.release();
  }
  return *expected;
}

size_t Object::MemoryUsage() const {
  // The control block, this Object, the Rep and the stored body share one allocation; an
  // encoded object's JSON, once asked for, is a string of its own.
  size_t n = AllocatedBytes(rep_->block_size);
  if (const std::string* cached = rep_->json_cache.load(std::memory_order_acquire)) {
    n += AllocatedBytes(sizeof(std::string));
    if (cached->capacity() >= sizeof(std::string)) n += AllocatedBytes(cached->capacity() + 1);
  }
  return n;
}

bool operator==(const Object& a, const Object& b) {
  if (&a == &b) return true;
  const internal::EncodedBody ea = internal::EncodedBodyOf(a);
  const internal::EncodedBody eb = internal::EncodedBodyOf(b);
  if (ea.codec == nullptr && eb.codec == nullptr) return a.json() == b.json();
  if (ea.codec == eb.codec && ea.tag == eb.tag && ea.body == eb.body &&
      a.api_version() == b.api_version() && a.kind() == b.kind()) {
    return true;
  }
  std::string sa, sb;
  return ObjectBuilderAccess::JsonForRead(a, &sa) == ObjectBuilderAccess::JsonForRead(b, &sb);
}

// --- Path access ---------------------------------------------------------------------------------

namespace {

Status WrongType(std::string_view path, JsonType got, std::string_view want) {
  std::string msg(path);
  msg += " is ";
  msg += internal::json::TypeWithArticle(got);
  msg += ", not ";
  msg += want;
  return InvalidArgumentError(std::move(msg));
}

std::string Unescaped(std::string_view literal) {
  std::string out;
  internal::json::AppendUnescaped(literal.substr(1, literal.size() - 2), &out);
  return out;
}

}  // namespace

bool Object::Has(std::string_view path) const {
  std::string scratch;
  return internal::FindPath(ObjectBuilderAccess::JsonForPath(*this, path, &scratch), path)
      .has_value();
}

Result<JsonType> Object::GetType(std::string_view path) const {
  std::string scratch;
  auto v = internal::FindPath(ObjectBuilderAccess::JsonForPath(*this, path, &scratch), path);
  if (!v) return v.error();
  return internal::json::TypeOf(*v);
}

Result<std::string> Object::GetString(std::string_view path) const {
  std::string scratch;
  auto v = internal::FindPath(ObjectBuilderAccess::JsonForPath(*this, path, &scratch), path);
  if (!v) return v.error();
  JsonType type = internal::json::TypeOf(*v);
  if (type != JsonType::kString) return WrongType(path, type, "a string");
  return Unescaped(*v);
}

Result<int64_t> Object::GetInt64(std::string_view path) const {
  std::string scratch;
  auto v = internal::FindPath(ObjectBuilderAccess::JsonForPath(*this, path, &scratch), path);
  if (!v) return v.error();
  JsonType type = internal::json::TypeOf(*v);
  if (type != JsonType::kInt) return WrongType(path, type, "an integer");
  int64_t out = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || end != v->data() + v->size()) {
    return InvalidArgumentError(std::string(path) + " = " + std::string(*v) +
                                " is out of the int64 range");
  }
  return out;
}

Result<double> Object::GetDouble(std::string_view path) const {
  std::string scratch;
  auto v = internal::FindPath(ObjectBuilderAccess::JsonForPath(*this, path, &scratch), path);
  if (!v) return v.error();
  JsonType type = internal::json::TypeOf(*v);
  if (type != JsonType::kInt && type != JsonType::kDouble) return WrongType(path, type, "a number");
  double out = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || end != v->data() + v->size()) {
    return InvalidArgumentError(std::string(path) + " = " + std::string(*v) +
                                " is out of the double range");
  }
  return out;
}

Result<bool> Object::GetBool(std::string_view path) const {
  std::string scratch;
  auto v = internal::FindPath(ObjectBuilderAccess::JsonForPath(*this, path, &scratch), path);
  if (!v) return v.error();
  JsonType type = internal::json::TypeOf(*v);
  if (type != JsonType::kBool) return WrongType(path, type, "a boolean");
  return (*v)[0] == 't';
}

Result<std::vector<std::string>> Object::GetStringList(std::string_view path) const {
  std::string scratch;
  auto v = internal::FindPath(ObjectBuilderAccess::JsonForPath(*this, path, &scratch), path);
  if (!v) return v.error();
  JsonType type = internal::json::TypeOf(*v);
  if (type != JsonType::kArray) return WrongType(path, type, "an array");
  std::vector<std::string> out;
  Status st;
  internal::json::ForEachElement(*v, 0, [&](size_t i, size_t b, size_t e) {
    std::string_view item = v->substr(b, e - b);
    JsonType t = internal::json::TypeOf(item);
    if (t != JsonType::kString) {
      st = WrongType(std::string(path) + "[" + std::to_string(i) + "]", t, "a string");
      return false;
    }
    out.push_back(Unescaped(item));
    return true;
  });
  if (!st.ok()) return st;
  return out;
}

Result<StringMap> Object::GetStringMap(std::string_view path) const {
  std::string scratch;
  auto v = internal::FindPath(ObjectBuilderAccess::JsonForPath(*this, path, &scratch), path);
  if (!v) return v.error();
  JsonType type = internal::json::TypeOf(*v);
  if (type != JsonType::kObject) return WrongType(path, type, "an object");
  StringMap out;
  Status st;
  internal::json::ForEachMember(*v, 0, [&](const internal::json::Member& m) {
    std::string key;
    internal::json::AppendUnescaped(m.key_body, &key);
    std::string_view item = v->substr(m.value_begin, m.value_end - m.value_begin);
    JsonType t = internal::json::TypeOf(item);
    if (t != JsonType::kString) {
      std::string where(path);
      where += '[';
      internal::json::AppendQuoted(key, &where);
      where += ']';
      st = WrongType(where, t, "a string");
      return false;
    }
    out.insert_or_assign(std::move(key), Unescaped(item));
    return true;
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::string> Object::GetJson(std::string_view path) const {
  std::string scratch;
  auto v = internal::FindPath(ObjectBuilderAccess::JsonForPath(*this, path, &scratch), path);
  if (!v) return v.error();
  return std::string(*v);
}

// --- Lists
// -----------------------------------------------------------------------------------------

namespace {

using internal::ItemKind;
using internal::PlainString;

JsonType TypeOfElement(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY:
      return JsonType::kArray;
    case simdjson::dom::element_type::OBJECT:
      return JsonType::kObject;
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
      return JsonType::kInt;
    case simdjson::dom::element_type::DOUBLE:
      return JsonType::kDouble;
    case simdjson::dom::element_type::STRING:
      return JsonType::kString;
    case simdjson::dom::element_type::BOOL:
      return JsonType::kBool;
    case simdjson::dom::element_type::NULL_VALUE:
      return JsonType::kNull;
  }
  return JsonType::kNull;
}

// Reads the optional string member `key` of `obj` into `out`; null counts as absent.
Status ReadListString(simdjson::dom::object obj, std::string_view key, std::string_view field,
                      std::string* out) {
  simdjson::dom::element e;
  if (obj.at_key(key).get(e) != simdjson::SUCCESS || e.is_null()) return Status();
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS) {
    return WrongType(field, TypeOfElement(e), "a string");
  }
  out->assign(s);
  return Status();
}

// Fills everything in `out` but the items from the parsed list `root`, and checks that `items`
// is an array or null (`*items` is set to the array, or left empty for null).
Status ReadListHeader(simdjson::dom::element root, ObjectList* out, simdjson::dom::array* items,
                      bool* has_items) {
  simdjson::dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) {
    return WrongType("JSON top level", TypeOfElement(root), "an object");
  }
  Status st = ReadListString(obj, "apiVersion", "apiVersion", &out->api_version);
  if (st.ok()) st = ReadListString(obj, "kind", "kind", &out->kind);
  if (!st.ok()) return st;
  simdjson::dom::element meta;
  if (obj.at_key("metadata").get(meta) == simdjson::SUCCESS && !meta.is_null()) {
    simdjson::dom::object m;
    if (meta.get_object().get(m) != simdjson::SUCCESS) {
      return WrongType("metadata", TypeOfElement(meta), "an object");
    }
    st = ReadListString(m, "resourceVersion", "metadata.resourceVersion", &out->resource_version);
    if (st.ok()) st = ReadListString(m, "continue", "metadata.continue", &out->continue_token);
    if (!st.ok()) return st;
    simdjson::dom::element count;
    if (m.at_key("remainingItemCount").get(count) == simdjson::SUCCESS && !count.is_null()) {
      int64_t n = 0;
      if (count.get_int64().get(n) != simdjson::SUCCESS) {
        return WrongType("metadata.remainingItemCount", TypeOfElement(count), "an integer");
      }
      out->remaining_item_count = n;
    }
  }
  simdjson::dom::element it;
  if (obj.at_key("items").get(it) != simdjson::SUCCESS) {
    return InvalidArgumentError("list has no items");
  }
  *has_items = !it.is_null();
  if (*has_items && it.get_array().get(*items) != simdjson::SUCCESS) {
    return WrongType("items", TypeOfElement(it), "an array");
  }
  return Status();
}

Status ItemError(size_t index, const Status& st) {
  return st.WithContext("items[" + std::to_string(index) + "]");
}

// The general path, for bodies the fast path cannot take apart (malformed JSON, or valid JSON
// that spells "items" with escapes): one DOM for the whole body, items serialized back one by
// one. Correct for every input, several times slower than `DecodeList`'s own path.
Result<ObjectList> DecodeListSlow(std::string_view body) {
  simdjson::dom::parser parser;  // not the thread's: items are parsed with that one meanwhile
  simdjson::padded_string padded(body);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root)) return Malformed(err);
  ObjectList list;
  simdjson::dom::array items;
  bool has_items = false;
  Status st = ReadListHeader(root, &list, &items, &has_items);
  if (!st.ok()) return st;
  if (!has_items) return list;
  std::string_view kind = ItemKind(list.kind);
  size_t index = 0;
  for (simdjson::dom::element item : items) {
    auto obj = ObjectBuilderAccess::Parse(simdjson::to_string(item), list.api_version, kind);
    if (!obj) return ItemError(index, obj.error());
    list.items.push_back(*std::move(obj));
    ++index;
  }
  return list;
}

}  // namespace

namespace {

// What decoding a list's items ended with.
struct ItemsScan {
  size_t end = internal::json::kNpos;  // one past the ']'; kNpos: let DecodeListSlow explain
  Status item_error;                   // the first item that did not decode, if any
};

// Decodes the items of the array at `body[begin] == '['` into `items`, checking the separators.
// Stops decoding at the first bad item but still finds the array's end, so the caller can check
// the rest of the body before it reports the item.
ItemsScan DecodeItems(std::string_view body, size_t begin, std::string_view api_version,
                      std::string_view kind, std::vector<ObjectPtr>* items) {
  namespace json = internal::json;
  ItemsScan out;
  size_t p = json::SkipSpace(body, begin + 1);
  if (p < body.size() && body[p] == ']') {
    out.end = p + 1;
    return out;
  }
  for (size_t index = 0;; ++index) {
    size_t end = json::SkipValue(body, p);
    if (end == json::kNpos) return out;
    if (out.item_error.ok()) {
      // The body itself pads every item but the last few: no copy needed for simdjson.
      const bool padded = body.size() - end >= simdjson::SIMDJSON_PADDING;
      auto obj = ObjectBuilderAccess::Parse(body.substr(p, end - p), api_version, kind, padded);
      if (obj) {
        items->push_back(*std::move(obj));
      } else {
        out.item_error = ItemError(index, obj.error());
      }
    }
    size_t q = json::SkipSpace(body, end);
    if (q >= body.size()) return out;
    if (body[q] == ']') {
      out.end = q + 1;
      return out;
    }
    if (body[q] != ',') return out;
    p = json::SkipSpace(body, q + 1);
  }
}

}  // namespace

// DecodeList never builds a DOM of the whole body. It walks the top-level members with a
// whitespace-tolerant scan, validates everything but `items` as a small "skeleton" document (the
// body with `items` replaced by `[]`), and hands each item's bytes to the same path as
// `Object::Parse` (minify, validate, index). Each byte is still validated by simdjson once, but
// per item, with a parser whose few KB of tape stay in cache; a whole-body DOM would write a
// tape as large as the body (hundreds of MB for a big list) to fresh memory, only to copy each
// item out of it again. The scan checks the separators between items, so the skeleton, the
// items and the separators together cover every byte of the body.
//
// When `apiVersion` and `kind` come before `items` (Go writes TypeMeta first, so API servers
// always do), the items are decoded during the scan: the array is walked once rather than
// skipped and then walked again. Otherwise the array is skipped and decoded after the scan.
Result<ObjectList> DecodeList(std::string_view body) {
  namespace json = internal::json;
  const size_t n = body.size();
  size_t i = json::SkipSpace(body, 0);
  if (i >= n || body[i] != '{') return DecodeListSlow(body);
  size_t items_begin = json::kNpos;
  size_t items_end = json::kNpos;
  // The first `apiVersion` and `kind`, as long as they are plain strings (what the DOM's
  // `at_key` will read from the skeleton, unless it holds surprises; checked below).
  std::optional<std::string_view> early_api_version, early_kind;
  bool header_plain = true;
  bool decoded_early = false;
  std::vector<ObjectPtr> items;
  Status item_error;
  i = json::SkipSpace(body, i + 1);
  if (i < n && body[i] == '}') return DecodeListSlow(body);  // no items: let it explain
  while (true) {
    if (i >= n || body[i] != '"') return DecodeListSlow(body);
    size_t key_end = json::SkipString(body, i);
    if (key_end == json::kNpos) return DecodeListSlow(body);
    std::string_view key = body.substr(i + 1, key_end - i - 2);
    size_t colon = json::SkipSpace(body, key_end);
    if (colon >= n || body[colon] != ':') return DecodeListSlow(body);
    size_t value = json::SkipSpace(body, colon + 1);
    size_t value_end;
    if (items_begin == json::kNpos && key == "items" && value < n && body[value] == '[' &&
        header_plain && early_api_version && early_kind) {
      ItemsScan scan = DecodeItems(body, value, *early_api_version, ItemKind(*early_kind), &items);
      if (scan.end == json::kNpos) return DecodeListSlow(body);
      item_error = std::move(scan.item_error);
      value_end = scan.end;
      decoded_early = true;
    } else {
      value_end = json::SkipValue(body, value);
      if (value_end == json::kNpos) return DecodeListSlow(body);
    }
    if (items_begin == json::kNpos && key == "items") {
      items_begin = value;
      items_end = value_end;
    } else if (items_begin == json::kNpos && (key == "apiVersion" || key == "kind")) {
      std::optional<std::string_view>& slot = key == "kind" ? early_kind : early_api_version;
      if (!slot) {
        slot = PlainString(body.substr(value, value_end - value));
        if (!slot) header_plain = false;
      }
    }
    size_t next = json::SkipSpace(body, value_end);
    if (next >= n) return DecodeListSlow(body);
    if (body[next] == '}') break;
    if (body[next] != ',') return DecodeListSlow(body);
    i = json::SkipSpace(body, next + 1);
  }
  if (items_begin == json::kNpos) return DecodeListSlow(body);
  std::string_view items_text = body.substr(items_begin, items_end - items_begin);
  const bool items_null = items_text == "null";
  if (!items_null && items_text[0] != '[') return DecodeListSlow(body);

  ObjectList list;
  {
    std::string skeleton;
    skeleton.reserve(n - items_text.size() + 2 + simdjson::SIMDJSON_PADDING);
    skeleton.append(body.substr(0, items_begin)).append("[]").append(body.substr(items_end));
    ScratchLease s;
    simdjson::dom::element root;
    if (s->parser.parse(skeleton.data(), skeleton.size(), false).get(root)) {
      return DecodeListSlow(body);
    }
    simdjson::dom::array placeholder;
    bool has_items = false;
    Status st = ReadListHeader(root, &list, &placeholder, &has_items);
    if (!st.ok()) return st;
    // A duplicate or escaped "items" key could make the DOM see another member than ours.
    if (!has_items || placeholder.size() != 0) return DecodeListSlow(body);
  }
  if (items_null) return list;

  const std::string_view kind = ItemKind(list.kind);
  if (decoded_early && (list.api_version != *early_api_version || list.kind != *early_kind)) {
    // The DOM read another apiVersion or kind than the scan (duplicate keys): decode again.
    items.clear();
    decoded_early = false;
  }
  if (!decoded_early) {
    item_error = Status();
    ItemsScan scan = DecodeItems(body, items_begin, list.api_version, kind, &items);
    if (scan.end != items_end) return DecodeListSlow(body);
    item_error = std::move(scan.item_error);
  }
  if (!item_error.ok()) return item_error;
  list.items = std::move(items);
  return list;
}

ObjectPtr DropManagedFields(const ObjectPtr& obj) {
  if (obj == nullptr || !obj->has_managed_fields()) return obj;
  return ObjectBuilderAccess::WithoutManagedFields(obj);
}

std::string JsonQuote(std::string_view s) {
  std::string out;
  internal::json::AppendQuoted(s, &out);
  return out;
}

}  // namespace kube
