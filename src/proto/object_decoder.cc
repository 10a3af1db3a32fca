#include "proto/object_decoder.h"

#include <simdjson.h>

#include <cstring>
#include <span>
#include <vector>

#include "base/time_format.h"
#include "object_codec.h"
#include "object_metadata.h"
#include "proto/go_json.h"
#include "proto/schema.h"
#include "proto/special_wire.h"
#include "proto/wire.h"

namespace kube::internal::proto {
namespace {

// Messages larger than this go the eager way: it bounds what a lazy transcoding can cost (absent
// fields decode to zero values, so a few bytes can stand for much JSON). Kubernetes keeps
// objects under 1.5 MB; nearly all are a few KB.
constexpr size_t kMaxLazyMessage = size_t{1} << 20;
// The transcoder's default nesting limit: lazy transcodings run with default options.
constexpr int kDefaultMaxDepth = ProtobufOptions{}.max_depth;

// Tag bits besides the type index (low 16 bits) and core's kSpliceTypeMeta.
constexpr uint32_t kTypeMetaMembers = 1u << 30;

bool ValidUtf8(std::string_view s) {
  // ASCII, nearly always: eight bytes at a time.
  const char* p = s.data();
  size_t n = s.size();
  uint64_t high = 0;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    high |= w;
  }
  for (; n > 0; ++p, --n) high |= static_cast<uint8_t>(*p);
  return (high & 0x8080808080808080ULL) == 0 || simdjson::validate_utf8(s.data(), s.size());
}

// --- The check: does a message transcode? ------------------------------------------------------
// Mirrors what makes ProtoToJson fail (wire errors and wire types, nesting, times outside years
// 0-9999, embedded JSON, IntOrString's type, NaN) and refuses what is merely unusual (a singular
// message field that occurs twice and would be merged, map entries with two values, floats,
// RawExtension holding protobuf, the JSONSchemaProps wrappers): those go the eager way, so the
// transcoder itself decides them.
// ReadField, with the common cases (a one-byte key; a varint or a length of one or two bytes)
// inline.
inline bool NextField(const uint8_t** p, const uint8_t* end, WireField* f) {
  const uint8_t* q = *p;
  if (end - q >= 3 && q[0] < 0x80 && q[0] >= 8) {
    const uint8_t wire = q[0] & 7;
    if (wire == kBytes || wire == kVarint) {
      uint64_t v;
      const uint8_t* payload;
      if (q[1] < 0x80) {
        v = q[1];
        payload = q + 2;
      } else if (q[2] < 0x80) {
        v = (q[1] & 0x7Fu) | (uint64_t{q[2]} << 7);
        payload = q + 3;
      } else {
        return ReadField(p, end, f) == WireError::kNone;
      }
      f->start = q;
      f->number = q[0] >> 3;
      f->wire = wire;
      f->value = v;
      if (wire == kVarint) {
        *p = payload;
        return true;
      }
      if (v > static_cast<uint64_t>(end - payload)) return false;
      f->data = payload;
      *p = payload + v;
      return true;
    }
  }
  return ReadField(p, end, f) == WireError::kNone;
}

// Field numbers of ObjectMeta and OwnerReference, read from the tables by JSON name.
struct MetaNumbers {
  uint16_t object_meta = kNoRef;
  uint32_t name = 0, generate_name = 0, ns = 0, uid = 0, resource_version = 0, generation = 0,
           creation_timestamp = 0, deletion_timestamp = 0, labels = 0, annotations = 0,
           owner_references = 0, finalizers = 0, managed_fields = 0;
  uint8_t annotations_quirk = 0;
  uint32_t owner_api_version = 0, owner_kind = 0, owner_name = 0, owner_uid = 0,
           owner_controller = 0, owner_block = 0;

  static const MetaNumbers& Get() {
    static const MetaNumbers numbers = Load();
    return numbers;
  }

 private:
  static uint32_t Number(const TypeDef& t, std::string_view json) {
    int slot = SlotOfJsonName(t, json);
    return slot < 0 ? 0 : Fields(t)[static_cast<size_t>(slot)].number;
  }

  static MetaNumbers Load() {
    MetaNumbers m;
    uint16_t pod = LookupKind("v1", "Pod");
    if (pod == kNoRef) return m;
    int meta_slot = SlotOfJsonName(Type(pod), "metadata");
    if (meta_slot < 0) return m;
    m.object_meta = Fields(Type(pod))[static_cast<size_t>(meta_slot)].ref;
    const TypeDef& om = Type(m.object_meta);
    m.name = Number(om, "name");
    m.generate_name = Number(om, "generateName");
    m.ns = Number(om, "namespace");
    m.uid = Number(om, "uid");
    m.resource_version = Number(om, "resourceVersion");
    m.generation = Number(om, "generation");
    m.creation_timestamp = Number(om, "creationTimestamp");
    m.deletion_timestamp = Number(om, "deletionTimestamp");
    m.labels = Number(om, "labels");
    m.annotations = Number(om, "annotations");
    m.owner_references = Number(om, "ownerReferences");
    m.finalizers = Number(om, "finalizers");
    m.managed_fields = Number(om, "managedFields");
    int ann = SlotOfJsonName(om, "annotations");
    if (ann >= 0) m.annotations_quirk = Fields(om)[static_cast<size_t>(ann)].quirk;
    int owners = SlotOfJsonName(om, "ownerReferences");
    if (owners >= 0) {
      const TypeDef& ot = Type(Fields(om)[static_cast<size_t>(owners)].ref);
      m.owner_api_version = Number(ot, "apiVersion");
      m.owner_kind = Number(ot, "kind");
      m.owner_name = Number(ot, "name");
      m.owner_uid = Number(ot, "uid");
      m.owner_controller = Number(ot, "controller");
      m.owner_block = Number(ot, "blockOwnerDeletion");
    }
    return m;
  }
};

// What the check does with a field, by (type, field number): the schema's FieldDef, boiled down
// to 4 bytes so the walk reads one small table instead of the number index and a FieldDef.
enum class Action : uint8_t {
  kUnknown,   // no such field: skipped, as Go does
  kIgnore,    // not written to JSON (json:"-")
  kScalar,    // a string, bool, integer or bytes, or a slice of strings: nothing to check
  kPacked,    // a slice of integers: packed varints to check when length-delimited
  kRef,       // a singular message: checked, and must occur once
  kRefSlice,  // a slice of messages
  kMap,
  kInline,  // an embedded struct: checked as part of this one, must occur once
  kRefuse,  // floats and anything unusual: the eager way
};

struct FastField {
  Action action = Action::kUnknown;
  uint8_t wire = 0;
  uint8_t slot = 0;
  bool slice_varint = false;  // a slice of varints, which may also come packed
  uint16_t ref = kNoRef;
};

class FastTable {
 public:
  static const FastTable& Get() {
    static const FastTable table;
    return table;
  }
  // Whether objects of `type` may keep their message: a struct with ObjectMeta as `metadata` and
  // no top-level `items` (which JSON bodies write as [] when absent); 0 when not, else the
  // metadata's field number.
  uint32_t LazyMetadataNumber(uint16_t type) const { return ranges_[type].metadata; }
  // The entry for field `number` of type `type`, or null when it has none.
  const FastField* Find(uint16_t type, uint32_t number) const {
    const Range& r = ranges_[type];
    if (number == 0 || number > r.count) return nullptr;
    return &fields_[r.first + number - 1];
  }

 private:
  struct Range {
    uint32_t first = 0;
    uint32_t count = 0;
    uint32_t metadata = 0;
  };

  FastTable() {
    ranges_.resize(TypeCount());
    for (uint16_t i = 0; i < TypeCount(); ++i) {
      const TypeDef& t = Type(i);
      if (t.kind != TypeKind::kStruct) continue;
      ranges_[i] = Range{static_cast<uint32_t>(fields_.size()), t.max_number, 0};
      const uint16_t object_meta = MetaNumbers::Get().object_meta;
      int meta_slot = SlotOfJsonName(t, "metadata");
      if (object_meta != kNoRef && meta_slot >= 0 && SlotOfJsonName(t, "items") < 0) {
        const FieldDef& mf = Fields(t)[static_cast<size_t>(meta_slot)];
        if (mf.ref == object_meta && mf.container == Container::kSingle) {
          ranges_[i].metadata = mf.number;
        }
      }
      std::span<const FieldDef> defs = Fields(t);
      for (uint32_t n = 1; n <= t.max_number; ++n) {
        FastField ff;
        int slot = SlotOfNumber(t, n);
        if (slot >= 0) {
          const FieldDef& f = defs[static_cast<size_t>(slot)];
          ff.slot = static_cast<uint8_t>(slot);
          ff.wire = f.wire;
          ff.ref = f.ref;
          ff.slice_varint = f.container == Container::kSlice && f.wire == kVarint;
          ff.action = ActionOf(f);
        }
        fields_.push_back(ff);
      }
    }
  }

  static Action ActionOf(const FieldDef& f) {
    if (f.number == 0 || (f.flags & kJsonSkip)) return Action::kIgnore;
    if (f.flags & kInline) return Action::kInline;
    switch (f.container) {
      case Container::kMap:
        return Action::kMap;
      case Container::kSlice:
        switch (f.shape) {
          case Shape::kString:
            return Action::kScalar;
          case Shape::kInt32:
          case Shape::kInt64:
            return Action::kPacked;
          case Shape::kRef:
            return Action::kRefSlice;
          default:
            return Action::kRefuse;
        }
      case Container::kSingle:
        switch (f.shape) {
          case Shape::kString:
          case Shape::kBool:
          case Shape::kInt32:
          case Shape::kInt64:
          case Shape::kBytes:
            return Action::kScalar;
          case Shape::kRef:
            return Action::kRef;
          case Shape::kFloat64:
          case Shape::kAny:
            return Action::kRefuse;
        }
    }
    return Action::kRefuse;
  }

  std::vector<Range> ranges_;
  std::vector<FastField> fields_;
};

class Check {
 public:
  explicit Check(int max_depth) : max_depth_(max_depth) {}

  bool Struct(uint16_t type, const uint8_t* p, size_t n, int depth) {
    if (depth > max_depth_) return false;
    const FastTable& table = FastTable::Get();
    uint64_t seen[4] = {0, 0, 0, 0};
    const uint8_t* end = p + n;
    while (p < end) {
      WireField wf;
      if (!NextField(&p, end, &wf)) return false;
      const FastField* f = table.Find(type, wf.number);
      if (f == nullptr || f->action == Action::kUnknown) continue;
      if (wf.wire != f->wire && !(f->slice_varint && wf.wire == kBytes)) return false;
      const uint8_t* data = wf.data;
      const size_t len = wf.wire == kBytes ? static_cast<size_t>(wf.value) : 0;
      switch (f->action) {
        case Action::kUnknown:
        case Action::kIgnore:
        case Action::kScalar:
          break;
        case Action::kPacked:
          if (wf.wire == kBytes) {
            const uint8_t* q = data;
            const uint8_t* qend = data + len;
            while (q < qend) {
              uint64_t v;
              if (!ReadVarint(&q, qend, &v)) return false;
            }
          }
          break;
        case Action::kRef:
          if (!First(seen, f->slot) || !Value(f->ref, data, len, depth)) return false;
          break;
        case Action::kRefSlice:
          if (!Value(f->ref, data, len, depth)) return false;
          break;
        case Action::kMap:
          if (!Map(Fields(Type(type))[f->slot], data, len, depth)) return false;
          break;
        case Action::kInline:
          if (!First(seen, f->slot) || !Struct(f->ref, data, len, depth + 1)) return false;
          break;
        case Action::kRefuse:
          return false;
      }
    }
    return true;
  }

 private:
  static bool First(uint64_t* seen, int slot) {
    uint64_t bit = uint64_t{1} << (slot & 63);
    uint64_t& word = seen[slot >> 6];
    if (word & bit) return false;
    word |= bit;
    return true;
  }

  bool Value(uint16_t ref, const uint8_t* p, size_t n, int depth) {
    const TypeDef& t = Type(ref);
    switch (t.kind) {
      case TypeKind::kStruct:
        return Struct(ref, p, n, depth + 1);
      case TypeKind::kListWrapper: {
        const uint8_t* end = p + n;
        while (p < end) {
          WireField wf;
          if (!NextField(&p, end, &wf)) return false;
          if (wf.number == 1 && wf.wire != kBytes) return false;
        }
        return true;
      }
      case TypeKind::kSpecial:
        return depth + 1 <= max_depth_ && Special(t, p, n);
    }
    return false;
  }

  bool Map(const FieldDef& f, const uint8_t* p, size_t n, int depth) {
    const uint8_t* end = p + n;
    const uint8_t* value = nullptr;
    size_t value_len = 0;
    int values = 0;
    while (p < end) {
      WireField wf;
      if (!NextField(&p, end, &wf)) return false;
      if (wf.number == 1 || wf.number == 2) {
        if (wf.wire != kBytes) return false;
        if (wf.number == 2) {
          ++values;
          value = wf.data;
          value_len = static_cast<size_t>(wf.value);
        }
      }
    }
    switch (f.shape) {
      case Shape::kString:
      case Shape::kBytes:
        return true;
      case Shape::kRef:
        return values <= 1 && Value(f.ref, value, value_len, depth);
      default:
        return false;
    }
  }

  bool Special(const TypeDef& t, const uint8_t* p, size_t n) {
    uint64_t v1 = 0, v2 = 0;
    bool has1 = false;
    std::string_view b1;
    const uint8_t* end = p + n;
    const uint8_t* q = p;
    switch (t.special) {
      case Special::kIntOrString:
      case Special::kTime:
      case Special::kMicroTime:
      case Special::kGroupVersion:
      case Special::kDuration:
      case Special::kQuantity:
      case Special::kRawExtension:
      case Special::kFieldsV1:
      case Special::kJson:
        break;
      default:
        return false;  // Unknown, the JSONSchemaProps wrappers: the eager way
    }
    const uint32_t known = SpecialKnownFields(t.special);
    while (q < end) {
      WireField wf;
      if (!NextField(&q, end, &wf)) return false;
      if (wf.number <= known && wf.wire != SpecialWireType(t.special, wf.number)) return false;
      if (wf.number == 1) {
        has1 = true;
        v1 = wf.value;
        if (wf.wire == kBytes) b1 = AsView(wf.data, static_cast<size_t>(wf.value));
      } else if (wf.number == 2) {
        v2 = wf.value;
      }
    }
    switch (t.special) {
      case Special::kTime:
      case Special::kMicroTime: {
        return n == 0 || JsonCarriesUnixTime(ReadUnixTime(t.special, v1, v2));
      }
      case Special::kIntOrString:
        return v1 <= 1;
      case Special::kRawExtension:
      case Special::kFieldsV1:
      case Special::kJson: {
        if (t.special == Special::kJson ? b1.empty() : !has1) return true;
        if (t.special == Special::kRawExtension && b1.size() >= 4 &&
            b1.substr(0, 4) == kProtobufMagic) {
          return false;
        }
        if (b1.size() >= 3 && static_cast<uint8_t>(b1[0]) == 0xd9) return false;  // CBOR?
        return CheckCompactJson(b1, "").ok();
      }
      default:
        return true;
    }
  }

  int max_depth_;
};

// --- ObjectMeta ----------------------------------------------------------------------------------

// Reads ObjectMeta into `md`, with offsets relative to `base` (the object's message). False when
// a value is one the JSON path would read differently (invalid UTF-8, the opaque annotation).
class MetaReader {
 public:
  MetaReader(const uint8_t* base, MetadataIndex* md) : base_(base), md_(md) {}

  bool Read(const uint8_t* p, size_t n) {
    const MetaNumbers& m = MetaNumbers::Get();
    const uint8_t* end = p + n;
    bool has_creation = false;
    std::string_view creation;
    while (p < end) {
      WireField wf;
      if (!NextField(&p, end, &wf)) return false;
      const uint32_t no = wf.number;
      std::string_view v =
          wf.wire == kBytes ? AsView(wf.data, static_cast<size_t>(wf.value)) : std::string_view();
      if (no == m.generation) {
        md_->generation = static_cast<int64_t>(wf.value);
        continue;
      }
      if (wf.wire != kBytes) continue;  // the check refused wrong wire types of known fields
      if (no == m.name) {
        if (!Text(v, &md_->name)) return false;
      } else if (no == m.ns) {
        if (!Text(v, &md_->ns)) return false;
      } else if (no == m.generate_name) {
        if (!Text(v, &md_->generate_name)) return false;
      } else if (no == m.uid) {
        if (!Text(v, &md_->uid)) return false;
      } else if (no == m.resource_version) {
        if (!Text(v, &md_->resource_version)) return false;
      } else if (no == m.creation_timestamp) {
        has_creation = true;
        creation = v;
      } else if (no == m.deletion_timestamp) {
        if (!Time(v, &md_->deletion_timestamp)) return false;
      } else if (no == m.labels || no == m.annotations) {
        if (!Entry(v, no == m.labels ? &md_->labels : &md_->annotations,
                   no == m.annotations ? m.annotations_quirk : 0)) {
          return false;
        }
      } else if (no == m.owner_references) {
        if (!Owner(v)) return false;
      } else if (no == m.finalizers) {
        TextRef r;
        if (!Text(v, &r)) return false;
        md_->finalizers.push_back(r);
      } else if (no == m.managed_fields) {
        md_->has_managed_fields = true;
      }
    }
    // A non-pointer Time: absent on the wire is the zero time, which JSON writes as null.
    if (has_creation && !Time(creation, &md_->creation_timestamp)) return false;
    return true;
  }

 private:
  bool Text(std::string_view v, TextRef* out) {
    if (!ValidUtf8(v)) return false;
    *out = TextRef{static_cast<uint32_t>(reinterpret_cast<const uint8_t*>(v.data()) - base_),
                   static_cast<uint32_t>(v.size()), false};
    return true;
  }

  // As ProtoToJson::Special writes a Time; null leaves `out` empty.
  bool Time(std::string_view v, TextRef* out) {
    *out = TextRef{};
    if (v.empty()) return true;
    const auto* p = reinterpret_cast<const uint8_t*>(v.data());
    const uint8_t* end = p + v.size();
    uint64_t secs = 0;
    while (p < end) {
      WireField wf;
      if (!NextField(&p, end, &wf)) return false;
      if (wf.number == 1 && wf.wire == kVarint) secs = wf.value;
    }
    const auto s = static_cast<int64_t>(secs);
    if (s == kGoZeroUnix) return true;
    size_t off = md_->arena.size();
    md_->arena.push_back('"');
    if (!AppendRfc3339(s, -1, &md_->arena)) {
      md_->arena.pop_back();
      return false;
    }
    md_->arena.push_back('"');
    // Written quoted, as a JSON string.
    *out = TextRef{static_cast<uint32_t>(off + 1),
                   static_cast<uint32_t>(md_->arena.size() - off - 2), true};
    return true;
  }

  bool Entry(std::string_view v, std::vector<std::pair<TextRef, TextRef>>* out, uint8_t quirk) {
    const auto* p = reinterpret_cast<const uint8_t*>(v.data());
    const uint8_t* end = p + v.size();
    TextRef key, value;
    while (p < end) {
      WireField wf;
      if (!NextField(&p, end, &wf)) return false;
      if (wf.wire != kBytes) continue;
      std::string_view s = AsView(wf.data, static_cast<size_t>(wf.value));
      if (wf.number == 1 && !Text(s, &key)) return false;
      if (wf.number == 2 && !Text(s, &value)) return false;
    }
    if (quirk != 0 && Quirk(quirk).rule == QuirkRule::kOpaqueAnnotation &&
        Resolve(key) == Quirk(quirk).key) {
      return false;
    }
    out->emplace_back(key, value);
    return true;
  }

  bool Owner(std::string_view v) {
    const MetaNumbers& m = MetaNumbers::Get();
    const auto* p = reinterpret_cast<const uint8_t*>(v.data());
    const uint8_t* end = p + v.size();
    OwnerRefIndex o;
    while (p < end) {
      WireField wf;
      if (!NextField(&p, end, &wf)) return false;
      const uint32_t no = wf.number;
      if (wf.wire == kVarint) {
        if (no == m.owner_controller) o.controller = wf.value != 0;
        if (no == m.owner_block) o.block_owner_deletion = wf.value != 0;
        continue;
      }
      if (wf.wire != kBytes) continue;
      std::string_view s = AsView(wf.data, static_cast<size_t>(wf.value));
      TextRef* slot = no == m.owner_api_version ? &o.api_version
                      : no == m.owner_kind      ? &o.kind
                      : no == m.owner_name      ? &o.name
                      : no == m.owner_uid       ? &o.uid
                                                : nullptr;
      if (slot != nullptr && !Text(s, slot)) return false;
    }
    md_->owner_references.push_back(o);
    return true;
  }

  std::string_view Resolve(const TextRef& r) const {
    if (r.decoded) return std::string_view(md_->arena).substr(r.off, r.len);
    return AsView(base_ + r.off, r.len);
  }

  const uint8_t* base_;
  MetadataIndex* md_;
};

TextRef ArenaText(std::string_view s, MetadataIndex* md) {
  size_t off = md->arena.size();
  md->arena.append(s);
  return TextRef{static_cast<uint32_t>(off), static_cast<uint32_t>(s.size()), true};
}

class ProtobufCodec final : public ObjectCodec {
 public:
  void AppendJson(std::string_view body, uint32_t tag, std::string_view api_version,
                  std::string_view kind, std::string* out) const override {
    thread_local ProtoToJson decoder{ProtobufOptions{}};
    const bool members = (tag & kTypeMetaMembers) != 0;
    const size_t mark = out->size();
    Status st = decoder.Message(static_cast<uint16_t>(tag & 0xFFFF), body,
                                members ? kind : std::string_view(), api_version, out, members);
    if (!st.ok()) {
      // Unreachable for a message `Check` passed; keep the JSON valid regardless.
      out->resize(mark);
      out->append("{}");
    }
  }

  bool AppendMemberJson(std::string_view body, uint32_t tag, std::string_view api_version,
                        std::string_view name, std::string* out) const override {
    thread_local ProtoToJson decoder{ProtobufOptions{}};
    const size_t mark = out->size();
    bool found = false;
    Status st =
        decoder.Member(static_cast<uint16_t>(tag & 0xFFFF), body, api_version, name, out, &found);
    if (!found || !st.ok()) {
      out->resize(mark);
      return false;
    }
    return true;
  }

  ObjectPtr WithoutManagedFields(std::string_view body, uint32_t tag, std::string_view api_version,
                                 std::string_view kind) const override;
};

const ProtobufCodec kCodec;

// Where `metadata` sits in an object's message: its field (header included) and payload.
struct MetaSpan {
  const uint8_t* field = nullptr;
  const uint8_t* payload = nullptr;
  size_t length = 0;
  const uint8_t* field_end = nullptr;
};

bool FindMetadata(std::string_view message, uint32_t number, MetaSpan* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(message.data());
  const uint8_t* end = p + message.size();
  while (p < end) {
    WireField wf;
    if (!NextField(&p, end, &wf)) return false;
    if (wf.number != number || wf.wire != kBytes) continue;
    if (out->field != nullptr) return false;  // twice: merged, the eager way
    *out = MetaSpan{wf.start, wf.data, static_cast<size_t>(wf.value), p};
  }
  return true;
}

thread_local MetadataIndex t_md;

// The lazy way, or null when the message must go the eager way.
Result<ObjectPtr> DecodeLazy(uint16_t type, std::string_view api_version, std::string_view kind,
                             std::string_view message, TypeMetaForm form, int max_depth) {
  const uint32_t meta_number = FastTable::Get().LazyMetadataNumber(type);
  if (message.size() > kMaxLazyMessage || meta_number == 0) return ObjectPtr();
  const auto* base = reinterpret_cast<const uint8_t*>(message.data());
  Check check(std::min(max_depth, kDefaultMaxDepth));
  if (!check.Struct(type, base, message.size(), 1)) return ObjectPtr();
  MetaSpan meta;
  if (!FindMetadata(message, meta_number, &meta)) return ObjectPtr();
  MetadataIndex& md = t_md;
  md.Clear();
  MetaReader reader(base, &md);
  if (meta.field != nullptr) {
    if (!reader.Read(meta.payload, meta.length)) return ObjectPtr();
  } else {
    // No metadata on the wire: a non-pointer struct, so JSON has it with a null timestamp.
  }
  if (!ValidUtf8(api_version) || !ValidUtf8(kind)) return ObjectPtr();
  md.api_version = ArenaText(api_version, &md);
  md.kind = ArenaText(kind, &md);
  uint32_t tag = type;
  tag |= form == TypeMetaForm::kMembers ? kTypeMetaMembers : kSpliceTypeMeta;
  Result<ObjectPtr> obj = BuildEncodedObject(message, md, &kCodec, tag);
  if (md.arena.capacity() > (size_t{64} << 10)) MetadataIndex().arena.swap(md.arena);
  return obj;
}

ObjectPtr ProtobufCodec::WithoutManagedFields(std::string_view body, uint32_t tag,
                                              std::string_view api_version,
                                              std::string_view kind) const {
  const MetaNumbers& numbers = MetaNumbers::Get();
  const auto type = static_cast<uint16_t>(tag & 0xFFFF);
  int meta_slot = SlotOfJsonName(Type(type), "metadata");
  if (meta_slot < 0) return nullptr;
  MetaSpan meta;
  if (!FindMetadata(body, Fields(Type(type))[static_cast<size_t>(meta_slot)].number, &meta) ||
      meta.field == nullptr) {
    return nullptr;
  }
  // The metadata message without its managedFields entries.
  std::string kept;
  kept.reserve(meta.length);
  const uint8_t* p = meta.payload;
  const uint8_t* end = meta.payload + meta.length;
  while (p < end) {
    WireField wf;
    if (!NextField(&p, end, &wf)) return nullptr;
    if (wf.number == numbers.managed_fields) continue;
    kept.append(reinterpret_cast<const char*>(wf.start), static_cast<size_t>(p - wf.start));
  }
  const auto* begin = reinterpret_cast<const uint8_t*>(body.data());
  std::string message;
  message.reserve(body.size());
  message.append(body.data(), static_cast<size_t>(meta.field - begin));
  PutBytesField(Fields(Type(type))[static_cast<size_t>(meta_slot)].number, kept, &message);
  message.append(reinterpret_cast<const char*>(meta.field_end),
                 static_cast<size_t>(begin + body.size() - meta.field_end));
  TypeMetaForm form =
      (tag & kTypeMetaMembers) != 0 ? TypeMetaForm::kMembers : TypeMetaForm::kSpliced;
  Result<ObjectPtr> out = DecodeLazy(type, api_version, kind, message, form, kDefaultMaxDepth);
  return out ? *std::move(out) : nullptr;
}

}  // namespace

Result<ObjectPtr> DecodeObject(uint16_t type, std::string_view api_version, std::string_view kind,
                               std::string_view message, TypeMetaForm form,
                               const ProtobufOptions& options, ProtoToJson* eager) {
  if (message.size() <= options.max_body_bytes) {
    Result<ObjectPtr> lazy = DecodeLazy(type, api_version, kind, message, form, options.max_depth);
    if (!lazy || *lazy != nullptr) return lazy;
  }
  if (eager == nullptr) return ObjectPtr();
  std::string json;
  const bool members = form == TypeMetaForm::kMembers;
  Status st = eager->Message(type, message, members ? kind : std::string_view(), api_version, &json,
                             members);
  if (!st.ok()) return st;
  if (members) return Object::Parse(json);
  return Object::Parse(json, api_version, kind);
}

bool KeepsProtobuf(const Object& obj) { return EncodedBodyOf(obj).codec == &kCodec; }

}  // namespace kube::internal::proto

namespace kube {
bool ObjectKeepsProtobuf(const Object& obj) { return internal::proto::KeepsProtobuf(obj); }
}  // namespace kube
