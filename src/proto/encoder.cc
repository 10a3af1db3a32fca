// JSON to Kubernetes protobuf, as gogo's generated marshaller writes it (kube/proto/protobuf.h).
//
// The JSON is validated and minified once, then walked through its token positions; every
// struct's members are matched to fields by name and written in ascending field number.
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <vector>

#include "base/strings.h"
#include "base/time_format.h"
#include "json/scan.h"
#include "json/validate.h"
#include "kube/proto/protobuf.h"
#include "proto/decoder.h"
#include "proto/go_json.h"
#include "proto/schema.h"
#include "proto/special_wire.h"
#include "proto/wire.h"

namespace kube {
namespace internal::proto {
namespace {

#define KUBE_PROTO_RETURN_IF_ERROR(expr) \
  do {                                   \
    Status _st = (expr);                 \
    if (!_st.ok()) return _st;           \
  } while (0)

constexpr uint32_t kAbsent = 0xFFFFFFFF;

// A JSON value in the minified text: [begin, end), or absent.
struct Span {
  uint32_t begin = kAbsent;
  uint32_t end = kAbsent;
};

class JsonToProto {
 public:
  explicit JsonToProto(const ProtobufOptions& options) : options_(options) {}

  Status Body(std::string_view input, std::string* out);

 private:
  struct PathFrame {
    const TypeDef* type;
    std::string_view field;
    int64_t index;
  };

  char First(Span v) const { return text_[v.begin]; }
  bool IsNull(Span v) const { return v.begin == kAbsent || First(v) == 'n'; }
  std::string_view Text(Span v) const { return text_.substr(v.begin, v.end - v.begin); }

  Status Error(std::string_view what) const;
  Status TypeError(std::string_view want, Span v) const;

  // Writes the fields of struct `type` from the object at `v` (absent or null: every field zero).
  Status StructFields(uint16_t type, Span v);
  // Writes `number` as a nested message whose payload `body` writes.
  template <typename Fn>
  Status Nested(uint32_t number, Fn&& body);
  Status Field(const FieldDef& f, Span v);
  Status Element(const FieldDef& f, uint16_t ref, Shape shape, uint32_t number, Span v);
  Status Scalar(Shape shape, uint32_t number, Span v);
  Status MessageValue(uint16_t ref, uint32_t number, Span v);
  Status SpecialFields(const TypeDef& t, Span v);
  Status Map(const FieldDef& f, Span v);
  Status String(Span v, std::string* s) const;
  Status Int(Span v, bool int32, int64_t* x) const;
  Status OpaqueAnnotation(std::string_view value, std::string* out_value) const;

  template <typename Fn>
  bool Members(Span v, Fn&& fn) const {
    json::TokenWalker w(text_, starts_, closes_, count_);
    return w.ForEachMember(v.begin, [&](const json::Member& m) {
      return fn(m.key_body,
                Span{static_cast<uint32_t>(m.value_begin), static_cast<uint32_t>(m.value_end)});
    });
  }
  template <typename Fn>
  bool Elements(Span v, Fn&& fn) const {
    json::TokenWalker w(text_, starts_, closes_, count_);
    return w.ForEachElement(v.begin, [&](size_t i, size_t b, size_t e) {
      return fn(i, Span{static_cast<uint32_t>(b), static_cast<uint32_t>(e)});
    });
  }

  ProtobufOptions options_;
  std::string* out_ = nullptr;
  std::string_view text_;
  const uint32_t* starts_ = nullptr;
  const uint32_t* closes_ = nullptr;
  size_t count_ = 0;
  int depth_ = 0;
  std::vector<Span> vals_;  // per open struct: the value of each field slot
  std::vector<PathFrame> path_;
  std::string key_;  // scratch for escaped keys
};

Status JsonToProto::Error(std::string_view what) const {
  std::string msg = "protobuf: ";
  if (!path_.empty()) {
    msg += path_.front().type->name;
    for (const PathFrame& fr : path_) {
      if (fr.field.empty()) continue;
      msg += '.';
      msg += fr.field;
      if (fr.index >= 0) msg += "[" + std::to_string(fr.index) + "]";
    }
    msg += ": ";
  }
  msg += what;
  return InvalidArgumentError(std::move(msg));
}

Status JsonToProto::TypeError(std::string_view want, Span v) const {
  std::string_view got = json::TypeWithArticle(json::TypeOf(Text(v)));
  return Error("want " + std::string(want) + ", got " + std::string(got));
}

Status JsonToProto::String(Span v, std::string* s) const {
  s->clear();
  if (IsNull(v)) return Status();
  if (First(v) != '"') return TypeError("a string", v);
  std::string_view body = text_.substr(v.begin + 1, v.end - v.begin - 2);
  if (body.find('\\') == std::string_view::npos) {
    s->assign(body);
  } else {
    json::AppendUnescaped(body, s);
  }
  return Status();
}

Status JsonToProto::Int(Span v, bool int32, int64_t* x) const {
  *x = 0;
  if (IsNull(v)) return Status();
  char c = First(v);
  if (c != '-' && (c < '0' || c > '9')) return TypeError("an integer", v);
  std::string_view t = Text(v);
  auto r = std::from_chars(t.data(), t.data() + t.size(), *x);
  if (r.ec != std::errc() || r.ptr != t.data() + t.size() ||
      (int32 && (*x < INT32_MIN || *x > INT32_MAX))) {
    return Error("number " + std::string(t) + " is not an " + (int32 ? "int32" : "int64"));
  }
  return Status();
}

template <typename Fn>
Status JsonToProto::Nested(uint32_t number, Fn&& body) {
  if (++depth_ > options_.max_depth) {
    return Error("nesting deeper than " + std::to_string(options_.max_depth) + " messages");
  }
  PutTag(number, kBytes, out_);
  size_t at = out_->size();
  out_->push_back('\0');
  KUBE_PROTO_RETURN_IF_ERROR(body());
  size_t len = out_->size() - at - 1;
  size_t vs = VarintSize(len);
  if (vs > 1) out_->insert(at + 1, vs - 1, '\0');
  char* p = out_->data() + at;
  uint64_t l = len;
  while (l >= 0x80) {
    *p++ = static_cast<char>((l & 0x7F) | 0x80);
    l >>= 7;
  }
  *p = static_cast<char>(l);
  --depth_;
  if (out_->size() > options_.max_body_bytes) return Error("protobuf output too large");
  return Status();
}

Status JsonToProto::Body(std::string_view input, std::string* out) {
  if (input.size() > options_.max_body_bytes || input.size() >= 0xFFFFFFF0u) {
    return InvalidArgumentError("protobuf: JSON body of " + std::to_string(input.size()) +
                                " bytes exceeds the limit of " +
                                std::to_string(options_.max_body_bytes));
  }
  thread_local simdjson::dom::parser parser;
  thread_local std::vector<uint32_t> closes;
  std::string padded(input);
  padded.append(simdjson::SIMDJSON_PADDING, '\0');
  json::Tokens tokens;
  Status st =
      json::Validate(parser, std::string_view(padded.data(), input.size()), &closes, &tokens);
  if (!st.ok()) return InvalidArgumentError("protobuf: " + st.message());
  std::string minified;
  text_ = std::string_view(padded.data(), input.size());
  if (!tokens.minified) {
    minified.resize(input.size() + simdjson::SIMDJSON_PADDING);
    size_t len = 0;
    if (auto err = simdjson::minify(padded.data(), input.size(), minified.data(), len)) {
      return InvalidArgumentError(std::string("protobuf: malformed JSON: ") +
                                  simdjson::error_message(err));
    }
    text_ = std::string_view(minified.data(), len);
    st = json::Validate(parser, text_, &closes, &tokens);
    if (!st.ok()) return InvalidArgumentError("protobuf: " + st.message());
  }
  starts_ = tokens.starts.data();
  closes_ = tokens.closes.data();
  count_ = tokens.starts.size();
  Span root{0, static_cast<uint32_t>(text_.size())};
  if (First(root) != '{') {
    return InvalidArgumentError("protobuf: the JSON body is not an object");
  }
  std::string kind, api_version;
  Status member_status;
  bool ok = Members(root, [&](std::string_view key, Span v) {
    if (key == "kind") {
      member_status = String(v, &kind);
    } else if (key == "apiVersion") {
      member_status = String(v, &api_version);
    }
    return member_status.ok();
  });
  if (!member_status.ok()) return member_status;
  if (!ok) return InvalidArgumentError("protobuf: malformed JSON object");
  uint16_t type = LookupKind(api_version, kind);
  if (type == kNoRef || !Type(type).has_proto) {
    return NotFoundError("protobuf: no built-in protobuf type for apiVersion \"" + api_version +
                         "\" kind \"" + kind + "\"");
  }
  out_ = out;
  depth_ = 0;
  out->reserve(out->size() + input.size());
  out->append(kProtobufMagic);
  std::string type_meta;
  PutBytesField(1, api_version, &type_meta);
  PutBytesField(2, kind, &type_meta);
  PutBytesField(1, type_meta, out);
  KUBE_PROTO_RETURN_IF_ERROR(Nested(2, [&] { return StructFields(type, root); }));
  out->append("\x1a\x00\x22\x00", 4);  // contentEncoding "", contentType ""
  if (parser.capacity() > (size_t{16} << 20)) parser = simdjson::dom::parser();
  return Status();
}

Status JsonToProto::StructFields(uint16_t type, Span v) {
  const TypeDef& t = Type(type);
  if (!t.has_proto) return Error(std::string(t.name) + " has no protobuf form");
  size_t base = vals_.size();
  vals_.resize(base + t.num_fields);
  path_.push_back(PathFrame{&t, {}, -1});
  if (!IsNull(v)) {
    if (First(v) != '{') return TypeError("an object", v);
    bool ok = Members(v, [&](std::string_view key, Span value) {
      int slot;
      if (key.find('\\') == std::string_view::npos) {
        slot = SlotOfJsonName(t, key);
      } else {
        key_.clear();
        json::AppendUnescaped(key, &key_);
        slot = SlotOfJsonName(t, key_);
      }
      // Go's decoder keeps the last of repeated members.
      if (slot >= 0) vals_[base + static_cast<size_t>(slot)] = value;
      return true;
    });
    if (!ok) return Error("malformed JSON object");
  }
  std::span<const FieldDef> fields = Fields(t);
  for (uint8_t slot : MarshalOrder(t)) {
    const FieldDef& f = fields[slot];
    path_.back().field = f.json;
    path_.back().index = -1;
    if (f.flags & kInline) {
      // An embedded struct: members from this same object, a nested message on the wire.
      KUBE_PROTO_RETURN_IF_ERROR(Nested(f.number, [&] { return StructFields(f.ref, v); }));
      continue;
    }
    KUBE_PROTO_RETURN_IF_ERROR(Field(f, vals_[base + slot]));
  }
  path_.pop_back();
  vals_.resize(base);
  return Status();
}

Status JsonToProto::Field(const FieldDef& f, Span v) {
  if (f.container == Container::kSlice) {
    if (IsNull(v)) return Status();
    if (First(v) != '[') return TypeError("an array", v);
    Status st;
    bool ok = Elements(v, [&](size_t i, Span e) {
      path_.back().index = static_cast<int64_t>(i);
      st = Element(f, f.ref, f.shape, f.number, e);
      return st.ok();
    });
    if (!st.ok()) return st;
    if (!ok) return Error("malformed JSON array");
    path_.back().index = -1;
    return Status();
  }
  if (f.container == Container::kMap) {
    if (IsNull(v)) return Status();
    if (First(v) != '{') return TypeError("an object", v);
    return Map(f, v);
  }
  if (f.emit == Emit::kIfNonNil && IsNull(v)) return Status();
  if (f.shape == Shape::kRef) return MessageValue(f.ref, f.number, v);
  return Scalar(f.shape, f.number, v);
}

Status JsonToProto::Element(const FieldDef& f, uint16_t ref, Shape shape, uint32_t number, Span v) {
  (void)f;
  if (shape == Shape::kRef) return MessageValue(ref, number, v);
  return Scalar(shape, number, v);
}

Status JsonToProto::Scalar(Shape shape, uint32_t number, Span v) {
  switch (shape) {
    case Shape::kString: {
      std::string s;
      KUBE_PROTO_RETURN_IF_ERROR(String(v, &s));
      PutBytesField(number, s, out_);
      return Status();
    }
    case Shape::kBool: {
      bool b = false;
      if (!IsNull(v)) {
        std::string_view t = Text(v);
        if (t != "true" && t != "false") return TypeError("a boolean", v);
        b = t == "true";
      }
      PutTag(number, kVarint, out_);
      out_->push_back(b ? '\x01' : '\x00');
      return Status();
    }
    case Shape::kInt32:
    case Shape::kInt64: {
      int64_t x;
      KUBE_PROTO_RETURN_IF_ERROR(Int(v, shape == Shape::kInt32, &x));
      PutTag(number, kVarint, out_);
      PutVarint(static_cast<uint64_t>(x), out_);  // a negative int32 takes 10 bytes, as in Go
      return Status();
    }
    case Shape::kFloat64: {
      double d = 0;
      if (!IsNull(v)) {
        char c = First(v);
        if (c != '-' && (c < '0' || c > '9')) return TypeError("a number", v);
        std::string_view t = Text(v);
        auto r = std::from_chars(t.data(), t.data() + t.size(), d);
        if (r.ec != std::errc() || r.ptr != t.data() + t.size()) {
          return Error("number " + std::string(t) + " is not a float64");
        }
      }
      uint64_t bits;
      std::memcpy(&bits, &d, sizeof(bits));
      PutTag(number, kFixed64, out_);
      char buf[8];
      for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(bits >> (8 * i));
      out_->append(buf, 8);
      return Status();
    }
    case Shape::kBytes: {
      std::string s, raw;
      KUBE_PROTO_RETURN_IF_ERROR(String(v, &s));
      if (!DecodeBase64(s, &raw, nullptr, /*strict=*/true))
        return Error("bytes are not valid base64");
      PutBytesField(number, raw, out_);
      return Status();
    }
    case Shape::kRef:
    case Shape::kAny:
      break;
  }
  return Error("field has no protobuf form");
}

Status JsonToProto::MessageValue(uint16_t ref, uint32_t number, Span v) {
  const TypeDef& t = Type(ref);
  switch (t.kind) {
    case TypeKind::kStruct:
      return Nested(number, [&] { return StructFields(ref, v); });
    case TypeKind::kListWrapper:
      return Nested(number, [&]() -> Status {
        if (IsNull(v)) return Status();
        if (First(v) != '[') return TypeError("an array", v);
        Status st;
        bool ok = Elements(v, [&](size_t, Span e) {
          st = Scalar(Shape::kString, 1, e);
          return st.ok();
        });
        if (!st.ok()) return st;
        return ok ? Status() : Error("malformed JSON array");
      });
    case TypeKind::kSpecial:
      return Nested(number, [&] { return SpecialFields(t, v); });
  }
  return Status();
}

Status JsonToProto::SpecialFields(const TypeDef& t, Span v) {
  switch (t.special) {
    case Special::kTime:
    case Special::kMicroTime: {
      if (IsNull(v)) return Status();
      std::string s;
      KUBE_PROTO_RETURN_IF_ERROR(String(v, &s));
      std::optional<Rfc3339Time> time = ParseRfc3339(s, {.comma_before_fraction = true});
      if (!time) return Error("\"" + s + "\" is not an RFC 3339 time");
      int64_t secs = time->unix_seconds;
      int32_t nanos = time->nanos;
      nanos = t.special == Special::kTime ? 0 : nanos / 1000 * 1000;
      if (secs == kGoZeroUnix && nanos == 0) return Status();  // the zero time: an empty message
      PutTag(1, kVarint, out_);
      PutVarint(static_cast<uint64_t>(secs), out_);
      PutTag(2, kVarint, out_);
      PutVarint(static_cast<uint64_t>(int64_t{nanos}), out_);
      return Status();
    }
    case Special::kDuration: {
      int64_t d = 0;
      if (!IsNull(v)) {
        std::string s;
        KUBE_PROTO_RETURN_IF_ERROR(String(v, &s));
        if (!ParseGoDuration(s, &d)) return Error("\"" + s + "\" is not a duration");
      }
      PutTag(1, kVarint, out_);
      PutVarint(static_cast<uint64_t>(d), out_);
      return Status();
    }
    case Special::kQuantity: {
      // The server writes canonical quantities; the text is kept as it is.
      std::string s = "0";
      if (!IsNull(v)) {
        char c = First(v);
        if (c == '"') {
          KUBE_PROTO_RETURN_IF_ERROR(String(v, &s));
        } else if (c == '-' || (c >= '0' && c <= '9')) {
          s.assign(Text(v));
        } else {
          return TypeError("a quantity (string or number)", v);
        }
      }
      PutBytesField(1, s, out_);
      return Status();
    }
    case Special::kIntOrString: {
      if (!IsNull(v) && First(v) == '"') {
        std::string s;
        KUBE_PROTO_RETURN_IF_ERROR(String(v, &s));
        out_->append("\x08\x01\x10\x00", 4);
        PutBytesField(3, s, out_);
        return Status();
      }
      int64_t x;
      KUBE_PROTO_RETURN_IF_ERROR(Int(v, true, &x));
      out_->append("\x08\x00", 2);
      PutTag(2, kVarint, out_);
      PutVarint(static_cast<uint64_t>(x), out_);
      out_->append("\x1a\x00", 2);
      return Status();
    }
    case Special::kRawExtension:
    case Special::kFieldsV1:
    case Special::kJson:
      if (IsNull(v)) return Status();
      PutBytesField(1, Text(v), out_);
      return Status();
    case Special::kGroupVersion: {
      std::string s;
      KUBE_PROTO_RETURN_IF_ERROR(String(v, &s));
      size_t slash = s.find('/');
      std::string_view group =
          slash == std::string::npos ? std::string_view() : std::string_view(s).substr(0, slash);
      std::string_view version =
          slash == std::string::npos ? std::string_view(s) : std::string_view(s).substr(slash + 1);
      PutBytesField(1, group, out_);
      PutBytesField(2, version, out_);
      return Status();
    }
    case Special::kOrBool:
      if (!IsNull(v) && First(v) == '{') {
        out_->append("\x08\x01", 2);
        return Nested(2, [&] { return StructFields(JsonSchemaPropsType(), v); });
      }
      if (!IsNull(v) && Text(v) != "true" && Text(v) != "false") {
        return TypeError("a schema or a boolean", v);
      }
      out_->append(!IsNull(v) && Text(v) == "true" ? "\x08\x01" : "\x08\x00", 2);
      return Status();
    case Special::kOrArray:
    case Special::kOrStringArray: {
      if (IsNull(v)) return Status();
      if (First(v) == '{') {
        return Nested(1, [&] { return StructFields(JsonSchemaPropsType(), v); });
      }
      if (First(v) != '[') return TypeError("an object or an array", v);
      Status st;
      bool ok = Elements(v, [&](size_t i, Span e) {
        path_.back().index = static_cast<int64_t>(i);
        if (t.special == Special::kOrArray) {
          st = Nested(2, [&] { return StructFields(JsonSchemaPropsType(), e); });
        } else {
          st = Scalar(Shape::kString, 2, e);
        }
        return st.ok();
      });
      if (!st.ok()) return st;
      path_.back().index = -1;
      return ok ? Status() : Error("malformed JSON array");
    }
    case Special::kUnknown:
    case Special::kNone:
      break;
  }
  return Error(std::string(t.name) + " cannot be encoded");
}

Status JsonToProto::Map(const FieldDef& f, Span v) {
  struct Entry {
    std::string key;
    Span value;
  };
  std::vector<Entry> entries;
  bool ok = Members(v, [&](std::string_view key, Span value) {
    Entry e;
    if (key.find('\\') == std::string_view::npos) {
      e.key.assign(key);
    } else {
      json::AppendUnescaped(key, &e.key);
    }
    e.value = value;
    entries.push_back(std::move(e));
    return true;
  });
  if (!ok) return Error("malformed JSON object");
  // gogo writes entries sorted by key; Go's decoder keeps the last of repeated keys.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.key < b.key; });
  const QuirkDef& q = Quirk(f.quirk);
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i + 1 < entries.size() && entries[i + 1].key == entries[i].key) continue;
    const Entry& e = entries[i];
    Status entry_status = Nested(f.number, [&]() -> Status {
      PutBytesField(1, e.key, out_);
      if (f.shape == Shape::kBytes) {
        if (IsNull(e.value)) return Status();  // a nil []byte: key only
        return Scalar(Shape::kBytes, 2, e.value);
      }
      if (f.shape == Shape::kString) {
        if (q.rule == QuirkRule::kOpaqueAnnotation && e.key == q.key) {
          std::string s, encoded;
          KUBE_PROTO_RETURN_IF_ERROR(String(e.value, &s));
          KUBE_PROTO_RETURN_IF_ERROR(OpaqueAnnotation(s, &encoded));
          PutBytesField(2, encoded, out_);
          return Status();
        }
        return Scalar(Shape::kString, 2, e.value);
      }
      return MessageValue(f.ref, 2, e.value);
    });
    if (!entry_status.ok()) return entry_status;
  }
  return Status();
}

Status JsonToProto::OpaqueAnnotation(std::string_view value, std::string* out_value) const {
  // The watch-list bookmark's blueprint is an encoded list in the stream's media type: in
  // protobuf it is the protobuf envelope, so JSON text there is re-encoded.
  std::string raw;
  out_value->assign(value);
  if (!DecodeBase64(value, &raw, nullptr, /*strict=*/true) || raw.empty() || raw[0] != '{')
    return Status();
  if (raw.back() == '\n') raw.pop_back();
  JsonToProto inner(options_);
  std::string pb;
  if (!inner.Body(raw, &pb).ok()) return Status();
  // Only text that is exactly what the JSON server writes is re-encoded, so that decoding gives
  // the same value back.
  std::string again;
  ProtoToJson decoder(options_);
  if (!decoder.Body(pb, /*top_level=*/false, &again).ok()) return Status();
  again.push_back('\n');
  std::string original;
  DecodeBase64(value, &original, nullptr, /*strict=*/true);
  if (again != original) return Status();
  out_value->clear();
  AppendBase64(pb, out_value);
  return Status();
}

}  // namespace
}  // namespace internal::proto

Status AppendJsonAsProtobuf(std::string_view json, std::string* out,
                            const ProtobufOptions& options) {
  internal::proto::JsonToProto enc(options);
  return enc.Body(json, out);
}

Result<std::string> JsonToProtobuf(std::string_view json, const ProtobufOptions& options) {
  std::string out;
  Status st = AppendJsonAsProtobuf(json, &out, options);
  if (!st.ok()) return st;
  return out;
}

}  // namespace kube
