#include "proto/decoder.h"

#include <algorithm>
#include <cstring>

#include "base/strings.h"
#include "base/time_format.h"
#include "proto/go_json.h"
#include "proto/special_wire.h"
#include "proto/wire.h"

namespace kube::internal::proto {
namespace {

#define KUBE_PROTO_RETURN_IF_ERROR(expr) \
  do {                                   \
    Status _st = (expr);                 \
    if (!_st.ok()) return _st;           \
  } while (0)

std::string_view WireName(uint8_t w) {
  switch (w) {
    case kVarint:
      return "varint";
    case kFixed64:
      return "fixed64";
    case kBytes:
      return "length-delimited";
    case kFixed32:
      return "fixed32";
  }
  return "group";
}

}  // namespace

// --- Errors ------------------------------------------------------------------------------------

Status ProtoToJson::Error(std::string_view what, const uint8_t* at) {
  std::string msg = "protobuf: ";
  if (!path_.empty()) {
    msg += path_.front().type->name;
    for (const PathFrame& fr : path_) {
      if (fr.field == nullptr) continue;
      msg += '.';
      msg += fr.field->json;
      if (fr.index >= 0) {
        msg += '[';
        msg += std::to_string(fr.index);
        msg += ']';
      } else if (!fr.key.empty()) {
        msg += '[';
        msg += fr.key;
        msg += ']';
      }
    }
    msg += ": ";
  }
  msg += what;
  if (at != nullptr && at >= begin_ && at <= end_) {
    msg += " at byte ";
    msg += std::to_string(at - begin_);
  }
  return InvalidArgumentError(std::move(msg));
}

Status ProtoToJson::WireErr(int err, const uint8_t* at) {
  return Error(WireErrorText(static_cast<WireError>(err)), at);
}

Status ProtoToJson::CheckSize() {
  if (out_->size() > options_.max_json_bytes) {
    return Error("JSON output exceeds " + std::to_string(options_.max_json_bytes) + " bytes",
                 nullptr);
  }
  return Status();
}

void ProtoToJson::Key(std::string_view quoted, bool* first) {
  if (!*first) out_->push_back(',');
  *first = false;
  out_->append(quoted);
}

// --- Bodies ------------------------------------------------------------------------------------

Status ProtoToJson::Body(std::string_view body, bool top_level, std::string* out) {
  if (body.size() > options_.max_body_bytes || body.size() > 0xFFFFFFFFu) {
    return InvalidArgumentError("protobuf: body of " + std::to_string(body.size()) +
                                " bytes exceeds the limit of " +
                                std::to_string(options_.max_body_bytes));
  }
  Reset(body, out);
  out->reserve(out->size() + body.size() * 2 + 64);
  return Envelope(begin_, body.size(), top_level);
}

void ProtoToJson::Reset(std::string_view input, std::string* out) {
  out_ = out;
  begin_ = reinterpret_cast<const uint8_t*>(input.data());
  end_ = begin_ + input.size();
  depth_ = 0;
  occ_.clear();
  heads_.clear();
  path_.clear();
  envelope_api_versions_.clear();
}

Status ProtoToJson::List(std::string_view body,
                         const std::function<Status(std::string_view item_json)>& item,
                         ProtobufListMeta* meta) {
  if (body.size() > options_.max_body_bytes || body.size() > 0xFFFFFFFFu) {
    return InvalidArgumentError("protobuf: body of " + std::to_string(body.size()) +
                                " bytes exceeds the limit of " +
                                std::to_string(options_.max_body_bytes));
  }
  std::string item_json;
  Reset(body, &item_json);
  auto env = ParseProtobufEnvelope(body);
  if (!env) return env.error();
  uint16_t type = LookupKind(env->api_version, env->kind);
  if (type == kNoRef || !Type(type).has_proto) {
    return NotFoundError("protobuf: no built-in protobuf type for apiVersion \"" +
                         std::string(env->api_version) + "\" kind \"" + std::string(env->kind) +
                         "\"");
  }
  const TypeDef& t = Type(type);
  int items_slot = SlotOfJsonName(t, "items");
  int meta_slot = SlotOfJsonName(t, "metadata");
  std::span<const FieldDef> fields = Fields(t);
  if (items_slot < 0 || meta_slot < 0 ||
      fields[static_cast<size_t>(items_slot)].container != Container::kSlice ||
      fields[static_cast<size_t>(items_slot)].shape != Shape::kRef) {
    return InvalidArgumentError("protobuf: " + std::string(env->kind) + " is not a list");
  }
  const FieldDef& items = fields[static_cast<size_t>(items_slot)];
  const FieldDef& list_meta = fields[static_cast<size_t>(meta_slot)];
  const TypeDef& lm = Type(list_meta.ref);
  auto number_of = [&](std::string_view name) {
    int slot = SlotOfJsonName(lm, name);
    return slot < 0 ? 0u : Fields(lm)[static_cast<size_t>(slot)].number;
  };
  const uint32_t rv_number = number_of("resourceVersion");
  const uint32_t continue_number = number_of("continue");
  const uint32_t remaining_number = number_of("remainingItemCount");
  meta->api_version.assign(env->api_version);
  meta->kind.assign(env->kind);
  meta->resource_version.clear();
  meta->continue_token.clear();
  meta->remaining_item_count.reset();
  std::string_view item_kind = env->kind;
  if (item_kind.size() > 4 && item_kind.substr(item_kind.size() - 4) == "List") {
    item_kind.remove_suffix(4);
  }
  TypeMetaOverride tm{item_kind, env->api_version};
  envelope_api_versions_.push_back(env->api_version);
  path_.push_back(PathFrame{&t, &items, 0, {}});
  const auto* p = reinterpret_cast<const uint8_t*>(env->raw.data());
  const uint8_t* end = p + env->raw.size();
  int64_t index = 0;
  while (p < end) {
    WireField wf;
    WireError e = ReadField(&p, end, &wf);
    if (e != WireError::kNone) return WireErr(static_cast<int>(e), wf.start);
    if (wf.number == list_meta.number) {
      if (wf.wire != kBytes) return Error("metadata: wrong wire type", wf.start);
      const uint8_t* q = wf.data;
      const uint8_t* qend = wf.data + wf.value;
      while (q < qend) {
        WireField g;
        WireError e2 = ReadField(&q, qend, &g);
        if (e2 != WireError::kNone) return WireErr(static_cast<int>(e2), g.start);
        if (g.number == rv_number && g.wire == kBytes) {
          meta->resource_version.assign(AsView(g.data, g.value));
        } else if (g.number == continue_number && g.wire == kBytes) {
          meta->continue_token.assign(AsView(g.data, g.value));
        } else if (g.number == remaining_number && g.wire == kVarint) {
          meta->remaining_item_count = static_cast<int64_t>(g.value);
        }
      }
    } else if (wf.number == items.number) {
      if (wf.wire != kBytes) return Error("wire type is not length-delimited", wf.start);
      path_.back().index = index++;
      item_json.clear();
      depth_ = 0;
      Status st = Struct(items.ref, wf.data, wf.value, &tm, false);
      if (!st.ok()) return st;
      st = item(item_json);
      if (!st.ok()) return st;
    }
  }
  return Status();
}

Status ProtoToJson::Envelope(const uint8_t* p, size_t n, bool top_level) {
  auto env = ParseProtobufEnvelope(AsView(p, n));
  if (!env) {
    if (path_.empty()) return env.error();
    std::string_view msg = env.error().message();
    if (msg.substr(0, 10) == "protobuf: ") msg.remove_prefix(10);
    return Error(msg, p);
  }
  uint16_t type = LookupKind(env->api_version, env->kind);
  if (type == kNoRef || !Type(type).has_proto) {
    std::string msg = "protobuf: no built-in protobuf type for apiVersion \"";
    msg.append(env->api_version);
    msg += "\" kind \"";
    msg.append(env->kind);
    msg += '"';
    return NotFoundError(std::move(msg));
  }
  TypeMetaOverride tm{env->kind, env->api_version};
  envelope_api_versions_.push_back(env->api_version);
  Status st = Struct(type, reinterpret_cast<const uint8_t*>(env->raw.data()), env->raw.size(), &tm,
                     top_level);
  envelope_api_versions_.pop_back();
  return st;
}

Status ProtoToJson::Message(uint16_t type, std::string_view message, std::string_view kind,
                            std::string_view api_version, std::string* out, bool type_meta) {
  if (message.size() > options_.max_body_bytes || message.size() > 0xFFFFFFFFu) {
    return InvalidArgumentError("protobuf: message of " + std::to_string(message.size()) +
                                " bytes exceeds the limit of " +
                                std::to_string(options_.max_body_bytes));
  }
  out_ = out;
  begin_ = reinterpret_cast<const uint8_t*>(message.data());
  end_ = begin_ + message.size();
  depth_ = 0;
  occ_.clear();
  heads_.clear();
  path_.clear();
  envelope_api_versions_.clear();
  out->reserve(out->size() + message.size() * 2 + 64);
  TypeMetaOverride tm{kind, api_version};
  envelope_api_versions_.push_back(api_version);
  Status st = Struct(type, begin_, message.size(), type_meta ? &tm : nullptr, /*top_level=*/false);
  envelope_api_versions_.pop_back();
  return st;
}

Status ProtoToJson::Member(uint16_t type, std::string_view message, std::string_view api_version,
                           std::string_view json_name, std::string* out, bool* found) {
  *found = false;
  const TypeDef& t = Type(type);
  if (t.kind != TypeKind::kStruct || message.size() > 0xFFFFFFFFu) return Status();
  int slot = SlotOfJsonName(t, json_name);
  if (slot < 0) return Status();
  const FieldDef& f = Fields(t)[static_cast<size_t>(slot)];
  if (f.number == 0 || (f.flags & (kInline | kTypeMeta | kJsonSkip))) return Status();
  *found = true;
  out_ = out;
  begin_ = reinterpret_cast<const uint8_t*>(message.data());
  end_ = begin_ + message.size();
  depth_ = 1;
  occ_.clear();
  heads_.clear();
  path_.clear();
  envelope_api_versions_.clear();
  envelope_api_versions_.push_back(api_version);
  // As `Struct` sets up the message's fields, then the one member as `Members` writes it.
  heads_.resize(2 * size_t{t.num_fields}, kNil);
  path_.push_back(PathFrame{&t, &f, -1, {}});
  KUBE_PROTO_RETURN_IF_ERROR(Scan(t, begin_, message.size(), 0));
  path_.back().field = &f;
  out->push_back('{');
  bool first = true;
  KUBE_PROTO_RETURN_IF_ERROR(Field(t, f, heads_[2 * static_cast<size_t>(slot)],
                                   heads_[2 * static_cast<size_t>(slot) + 1], false, &first));
  out->push_back('}');
  return CheckSize();
}

Status ProtoToJson::WatchEvent(std::string_view frame, std::string* type, std::string* object_json,
                               std::string_view* raw_out) {
  Reset(frame, object_json);
  const uint8_t* p = begin_;
  std::string_view event_type;
  bool have_object = false;
  std::string_view raw;
  bool have_raw = false;
  while (p < end_) {
    WireField f;
    WireError e = ReadField(&p, end_, &f);
    if (e != WireError::kNone)
      return Error(std::string("WatchEvent: ") + WireErrorText(e), f.start);
    if (f.number == 1 || f.number == 2) {
      if (f.wire != kBytes) {
        return Error(std::string("WatchEvent.") + (f.number == 1 ? "type" : "object") +
                         ": wire type " + std::string(WireName(f.wire)) + ", want length-delimited",
                     f.start);
      }
      if (f.number == 1) {
        event_type = AsView(f.data, f.value);
        continue;
      }
      have_object = true;
      // RawExtension {1: raw}; occurrences of `object` merge, so the last raw wins.
      const uint8_t* q = f.data;
      const uint8_t* qend = f.data + f.value;
      while (q < qend) {
        WireField g;
        WireError e2 = ReadField(&q, qend, &g);
        if (e2 != WireError::kNone) {
          return Error(std::string("WatchEvent.object: ") + WireErrorText(e2), g.start);
        }
        if (g.number != 1) continue;
        if (g.wire != kBytes) return Error("WatchEvent.object.raw: wrong wire type", g.start);
        raw = AsView(g.data, g.value);
        have_raw = true;
      }
    }
  }
  if (!have_object || !have_raw) return Error("WatchEvent has no object", nullptr);
  type->assign(event_type);
  if (raw.size() < 4 || raw.substr(0, 4) != kProtobufMagic) {
    return Error("WatchEvent.object.raw is not an enveloped protobuf object",
                 reinterpret_cast<const uint8_t*>(raw.data()));
  }
  if (raw_out != nullptr) {
    *raw_out = raw;
    return Status();
  }
  out_->reserve(out_->size() + raw.size() * 2 + 64);
  return Envelope(reinterpret_cast<const uint8_t*>(raw.data()), raw.size(), false);
}

// --- Messages ----------------------------------------------------------------------------------

Status ProtoToJson::Struct(uint16_t type, const uint8_t* p, size_t n, const TypeMetaOverride* tm,
                           bool top_level) {
  const TypeDef& t = Type(type);
  if (++depth_ > options_.max_depth) {
    return Error("nesting deeper than " + std::to_string(options_.max_depth) + " messages", p);
  }
  size_t occ_mark = occ_.size();
  size_t heads = heads_.size();
  heads_.resize(heads + 2 * size_t{t.num_fields}, kNil);
  path_.push_back(PathFrame{&t, nullptr, -1, {}});
  KUBE_PROTO_RETURN_IF_ERROR(Scan(t, p, n, heads));
  out_->push_back('{');
  bool first = true;
  KUBE_PROTO_RETURN_IF_ERROR(Members(t, heads, tm, top_level, &first));
  out_->push_back('}');
  path_.pop_back();
  occ_.resize(occ_mark);
  heads_.resize(heads);
  --depth_;
  return CheckSize();
}

Status ProtoToJson::Scan(const TypeDef& t, const uint8_t* p, size_t n, size_t heads) {
  const uint8_t* end = p + n;
  std::span<const FieldDef> fields = Fields(t);
  while (p < end) {
    WireField wf;
    WireError e = ReadField(&p, end, &wf);
    if (e != WireError::kNone) return WireErr(static_cast<int>(e), wf.start);
    int slot = SlotOfNumber(t, wf.number);
    if (slot < 0) continue;  // unknown field: skipped, as Go does
    const FieldDef& f = fields[static_cast<size_t>(slot)];
    if (wf.wire != f.wire &&
        !(f.container == Container::kSlice && f.wire == kVarint && wf.wire == kBytes)) {
      path_.back().field = &f;
      return Error("wire type " + std::string(WireName(wf.wire)) + " for field " +
                       std::to_string(wf.number) + ", want " + std::string(WireName(f.wire)),
                   wf.start);
    }
    if (occ_.size() >= 0xFFFFFFFEu) return Error("too many fields", wf.start);
    uint32_t idx = static_cast<uint32_t>(occ_.size());
    occ_.push_back(Occ{wf.wire == kBytes ? wf.data : wf.start, wf.value, kNil, wf.wire});
    size_t h = heads + 2 * static_cast<size_t>(slot);
    if (heads_[h] == kNil) {
      heads_[h] = idx;
    } else {
      occ_[heads_[h + 1]].next = idx;
    }
    heads_[h + 1] = idx;
  }
  return Status();
}

std::string_view ProtoToJson::Merged(uint32_t head, std::string* storage) const {
  if (head == kNil) return {};
  const Occ& o = occ_[head];
  if (o.next == kNil) return AsView(o.data, o.value);
  // Occurrences of an embedded message merge; concatenating them has the same effect.
  for (uint32_t i = head; i != kNil; i = occ_[i].next) {
    storage->append(reinterpret_cast<const char*>(occ_[i].data), occ_[i].value);
  }
  return *storage;
}

Status ProtoToJson::Members(const TypeDef& t, size_t heads, const TypeMetaOverride* tm,
                            bool top_level, bool* first) {
  std::span<const FieldDef> fields = Fields(t);
  for (size_t i = 0; i < fields.size(); ++i) {
    const FieldDef& f = fields[i];
    if (f.flags & kTypeMeta) {
      if (tm != nullptr) {
        if (!tm->kind.empty()) {
          Key("\"kind\":", first);
          AppendGoString(tm->kind, out_);
        }
        if (!tm->api_version.empty()) {
          Key("\"apiVersion\":", first);
          AppendGoString(tm->api_version, out_);
        }
      }
      continue;
    }
    if (f.number == 0 || (f.flags & kJsonSkip)) continue;
    path_.back().field = &f;
    path_.back().index = -1;
    path_.back().key = {};
    uint32_t head = heads_[heads + 2 * i];
    uint32_t tail = heads_[heads + 2 * i + 1];
    if (f.flags & kInline) {
      // An embedded struct: its own message on the wire, its members in this JSON object.
      std::string storage;
      std::string_view bytes = Merged(head, &storage);
      const TypeDef& inner = Type(f.ref);
      if (++depth_ > options_.max_depth) return Error("nesting too deep", nullptr);
      size_t occ_mark = occ_.size();
      size_t inner_heads = heads_.size();
      heads_.resize(inner_heads + 2 * size_t{inner.num_fields}, kNil);
      path_.push_back(PathFrame{&inner, nullptr, -1, {}});
      const auto* bp = reinterpret_cast<const uint8_t*>(bytes.data());
      KUBE_PROTO_RETURN_IF_ERROR(Scan(inner, bp, bytes.size(), inner_heads));
      KUBE_PROTO_RETURN_IF_ERROR(Members(inner, inner_heads, nullptr, false, first));
      path_.pop_back();
      occ_.resize(occ_mark);
      heads_.resize(inner_heads);
      --depth_;
      continue;
    }
    KUBE_PROTO_RETURN_IF_ERROR(Field(t, f, head, tail, top_level, first));
  }
  path_.back().field = nullptr;
  return Status();
}

Status ProtoToJson::Field(const TypeDef& t, const FieldDef& f, uint32_t head, uint32_t tail,
                          bool top_level, bool* first) {
  (void)t;
  const bool omitempty = f.flags & kOmitEmpty;
  const bool pointer = f.flags & kPointer;
  if (f.container == Container::kSlice) {
    if (head == kNil) {
      if (top_level && f.json == "items") {
        Key(f.key, first);
        out_->append("[]");
      } else if (!omitempty) {
        Key(f.key, first);
        out_->append("null");
      }
      return Status();
    }
    Key(f.key, first);
    out_->push_back('[');
    const QuirkDef& q = Quirk(f.quirk);
    TypeMetaOverride item_tm;
    const TypeMetaOverride* item_tm_ptr = nullptr;
    if (q.rule == QuirkRule::kItemTypeMeta) {
      item_tm.kind = q.kind;
      item_tm.api_version = q.api_version == "$envelope"
                                ? (envelope_api_versions_.empty() ? std::string_view()
                                                                  : envelope_api_versions_.back())
                                : q.api_version;
      item_tm_ptr = &item_tm;
    }
    int64_t index = 0;
    bool first_elem = true;
    for (uint32_t i = head; i != kNil; i = occ_[i].next) {
      const Occ o = occ_[i];
      path_.back().index = index;
      switch (f.shape) {
        case Shape::kString:
          if (!first_elem) out_->push_back(',');
          AppendGoString(AsView(o.data, o.value), out_);
          break;
        case Shape::kInt32:
        case Shape::kInt64: {
          auto put = [&](uint64_t v) {
            if (!first_elem) out_->push_back(',');
            first_elem = false;
            if (f.shape == Shape::kInt32) {
              AppendInt(static_cast<int32_t>(static_cast<uint32_t>(v)), out_);
            } else {
              AppendInt(static_cast<int64_t>(v), out_);
            }
          };
          if (o.wire == kBytes) {  // packed
            const uint8_t* q2 = o.data;
            const uint8_t* qend = o.data + o.value;
            while (q2 < qend) {
              uint64_t v;
              const uint8_t* at = q2;
              if (!ReadVarint(&q2, qend, &v)) return Error("malformed packed varint", at);
              put(v);
            }
          } else {
            put(o.value);
          }
          break;
        }
        case Shape::kRef:
          if (!first_elem) out_->push_back(',');
          KUBE_PROTO_RETURN_IF_ERROR(Value(f.ref, o.data, o.value, item_tm_ptr));
          break;
        default:
          return Error("unsupported repeated field", nullptr);
      }
      first_elem = false;
      ++index;
    }
    out_->push_back(']');
    path_.back().index = -1;
    return Status();
  }
  if (f.container == Container::kMap) {
    if (head == kNil) {
      if (!omitempty) {
        Key(f.key, first);
        out_->append("null");
      }
      return Status();
    }
    Key(f.key, first);
    return Map(f, head);
  }
  // A single value.
  const Occ* last = tail == kNil ? nullptr : &occ_[tail];
  switch (f.shape) {
    case Shape::kString: {
      if (last == nullptr) {
        if (pointer) {
          if (!omitempty) {
            Key(f.key, first);
            out_->append("null");
          }
        } else if (!omitempty) {
          Key(f.key, first);
          out_->append("\"\"");
        }
        return Status();
      }
      if (omitempty && !pointer && last->value == 0) return Status();
      Key(f.key, first);
      AppendGoString(AsView(last->data, last->value), out_);
      return Status();
    }
    case Shape::kBool:
    case Shape::kInt32:
    case Shape::kInt64: {
      if (last == nullptr && pointer) {
        if (!omitempty) {
          Key(f.key, first);
          out_->append("null");
        }
        return Status();
      }
      uint64_t v = last == nullptr ? 0 : last->value;
      if (f.shape == Shape::kBool) {
        bool b = v != 0;
        if (omitempty && !pointer && !b) return Status();
        Key(f.key, first);
        out_->append(b ? "true" : "false");
      } else if (f.shape == Shape::kInt32) {
        int32_t x = static_cast<int32_t>(static_cast<uint32_t>(v));
        if (omitempty && !pointer && x == 0) return Status();
        Key(f.key, first);
        AppendInt(x, out_);
      } else {
        int64_t x = static_cast<int64_t>(v);
        if (omitempty && !pointer && x == 0) return Status();
        Key(f.key, first);
        AppendInt(x, out_);
      }
      return Status();
    }
    case Shape::kFloat64: {
      if (last == nullptr && pointer) {
        if (!omitempty) {
          Key(f.key, first);
          out_->append("null");
        }
        return Status();
      }
      double d = 0;
      if (last != nullptr) std::memcpy(&d, &last->value, sizeof(d));
      if (omitempty && !pointer && d == 0) return Status();
      Key(f.key, first);
      if (!AppendGoFloat(d, out_)) return Error("float64 is NaN or infinite", last->data);
      return Status();
    }
    case Shape::kBytes: {
      if (last == nullptr || (omitempty && last->value == 0)) {
        if (last == nullptr && !omitempty) {
          Key(f.key, first);
          out_->append("null");
        }
        return Status();
      }
      Key(f.key, first);
      out_->push_back('"');
      AppendBase64(AsView(last->data, last->value), out_);
      out_->push_back('"');
      return Status();
    }
    case Shape::kRef: {
      const TypeDef& rt = Type(f.ref);
      if (rt.kind == TypeKind::kListWrapper) {
        if (head == kNil) {
          if (!omitempty) {
            Key(f.key, first);
            out_->append("null");
          }
          return Status();
        }
        std::string storage;
        std::string_view bytes = Merged(head, &storage);
        size_t mark = out_->size();
        bool was_first = *first;
        Key(f.key, first);
        size_t value_at = out_->size();
        KUBE_PROTO_RETURN_IF_ERROR(
            ListWrapper(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
        if (omitempty && out_->size() == value_at + 2) {  // "[]"
          out_->resize(mark);
          *first = was_first;
        }
        return Status();
      }
      if (head == kNil && pointer) {
        if (!omitempty) {
          Key(f.key, first);
          out_->append("null");
        }
        return Status();
      }
      std::string storage;
      std::string_view bytes = Merged(head, &storage);
      Key(f.key, first);
      return Value(f.ref, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), nullptr);
    }
    case Shape::kAny:
      return Error("field has no protobuf form", nullptr);
  }
  return Status();
}

Status ProtoToJson::Value(uint16_t ref, const uint8_t* p, size_t n, const TypeMetaOverride* tm) {
  const TypeDef& t = Type(ref);
  switch (t.kind) {
    case TypeKind::kStruct:
      return Struct(ref, p, n, tm, false);
    case TypeKind::kListWrapper:
      return ListWrapper(p, n);
    case TypeKind::kSpecial:
      if (++depth_ > options_.max_depth) {
        return Error("nesting deeper than " + std::to_string(options_.max_depth) + " messages", p);
      }
      {
        Status st = Special(t, p, n);
        --depth_;
        return st;
      }
  }
  return Status();
}

Status ProtoToJson::ListWrapper(const uint8_t* p, size_t n) {
  const uint8_t* end = p + n;
  out_->push_back('[');
  bool first = true;
  while (p < end) {
    WireField wf;
    WireError e = ReadField(&p, end, &wf);
    if (e != WireError::kNone) return WireErr(static_cast<int>(e), wf.start);
    if (wf.number != 1) continue;
    if (wf.wire != kBytes) return Error("list item: wrong wire type", wf.start);
    if (!first) out_->push_back(',');
    first = false;
    AppendGoString(AsView(wf.data, wf.value), out_);
  }
  out_->push_back(']');
  return Status();
}

Status ProtoToJson::Map(const FieldDef& f, uint32_t head) {
  struct Entry {
    std::string_view key;
    const uint8_t* value;  // the value's payload (or key of a varint field); null when absent
    uint64_t len;
    uint32_t seq;
    bool multi;  // the value message occurs more than once in the entry (merged)
    const uint8_t* entry;
    uint64_t entry_len;
  };
  std::vector<Entry> entries;
  uint32_t seq = 0;
  bool sorted = true;
  for (uint32_t i = head; i != kNil; i = occ_[i].next) {
    const Occ o = occ_[i];
    Entry e{{}, nullptr, 0, seq++, false, o.data, o.value};
    const uint8_t* p = o.data;
    const uint8_t* end = o.data + o.value;
    bool have_value = false;
    while (p < end) {
      WireField wf;
      WireError err = ReadField(&p, end, &wf);
      if (err != WireError::kNone) return WireErr(static_cast<int>(err), wf.start);
      if (wf.number == 1) {
        if (wf.wire != kBytes) return Error("map key: wrong wire type", wf.start);
        e.key = AsView(wf.data, wf.value);
      } else if (wf.number == 2) {
        if (wf.wire != kBytes) return Error("map value: wrong wire type", wf.start);
        if (have_value && f.shape == Shape::kRef) e.multi = true;
        have_value = true;
        e.value = wf.data;
        e.len = wf.value;
      }
    }
    if (!entries.empty() && !(entries.back().key < e.key)) sorted = false;
    entries.push_back(e);
  }
  if (!sorted) {
    // Go's map keeps the last value of a key, and encoding/json sorts the keys.
    std::stable_sort(entries.begin(), entries.end(),
                     [](const Entry& a, const Entry& b) { return a.key < b.key; });
    size_t w = 0;
    for (size_t r = 0; r < entries.size(); ++r) {
      if (r + 1 < entries.size() && entries[r + 1].key == entries[r].key) continue;
      entries[w++] = entries[r];
    }
    entries.resize(w);
  }
  const bool opaque = Quirk(f.quirk).rule == QuirkRule::kOpaqueAnnotation;
  out_->push_back('{');
  bool first = true;
  for (const Entry& e : entries) {
    if (!first) out_->push_back(',');
    first = false;
    path_.back().key = e.key;
    AppendGoString(e.key, out_);
    out_->push_back(':');
    switch (f.shape) {
      case Shape::kString:
        if (opaque && e.key == Quirk(f.quirk).key && e.value != nullptr) {
          KUBE_PROTO_RETURN_IF_ERROR(OpaqueAnnotation(AsView(e.value, e.len)));
        } else {
          AppendGoString(e.value == nullptr ? std::string_view() : AsView(e.value, e.len), out_);
        }
        break;
      case Shape::kBytes:
        // A missing value is []byte{} in gogo's decoder: "" rather than null.
        out_->push_back('"');
        if (e.value != nullptr) AppendBase64(AsView(e.value, e.len), out_);
        out_->push_back('"');
        break;
      case Shape::kRef: {
        std::string storage;
        const uint8_t* vp = e.value;
        size_t vn = e.len;
        if (e.multi) {
          // Merge every occurrence of the value in the entry.
          const uint8_t* p = e.entry;
          const uint8_t* end = e.entry + e.entry_len;
          while (p < end) {
            WireField wf;
            if (ReadField(&p, end, &wf) != WireError::kNone) break;
            if (wf.number == 2) storage.append(reinterpret_cast<const char*>(wf.data), wf.value);
          }
          vp = reinterpret_cast<const uint8_t*>(storage.data());
          vn = storage.size();
        }
        KUBE_PROTO_RETURN_IF_ERROR(Value(f.ref, vp, vn, nullptr));
        break;
      }
      default:
        return Error("unsupported map value", nullptr);
    }
  }
  out_->push_back('}');
  path_.back().key = {};
  return Status();
}

Status ProtoToJson::OpaqueAnnotation(std::string_view value) {
  // The watch-list bookmark's blueprint: base64 of the empty list in the stream's media type.
  // A JSON stream carries it as JSON (with Go's trailing newline), so transcode the protobuf.
  std::string raw;
  if (!DecodeBase64(value, &raw, nullptr, /*strict=*/true) || raw.size() < 4 ||
      raw.compare(0, 4, kProtobufMagic) != 0) {
    AppendGoString(value, out_);
    return Status();
  }
  ProtoToJson inner(options_);
  std::string json;
  Status st = inner.Body(raw, false, &json);
  if (!st.ok()) {
    AppendGoString(value, out_);
    return Status();
  }
  json.push_back('\n');
  out_->push_back('"');
  AppendBase64(json, out_);
  out_->push_back('"');
  return Status();
}

Status ProtoToJson::RawJson(const uint8_t* p, size_t n, std::string_view what) {
  if (n >= 3 && p[0] == 0xd9 && p[1] == 0xd9 && p[2] == 0xf7) {
    return Error(std::string(what) + " holds CBOR, which is not supported", p);
  }
  Status st = AppendCompactJson(AsView(p, n), what, out_);
  if (!st.ok()) return Error(st.message(), p);
  return Status();
}

// --- Special types (special-types.md) -----------------------------------------------------------

Status ProtoToJson::Special(const TypeDef& t, const uint8_t* p, size_t n) {
  // Every special message is small: read its fields once, last occurrence winning; message
  // fields of the JSONSchemaProps wrappers are collected separately.
  uint64_t v1 = 0, v2 = 0, v3 = 0;
  bool has1 = false, has2 = false;
  std::string_view b1, b3;
  const uint8_t* end = p + n;
  const uint8_t* q = p;
  uint32_t count2 = 0;
  while (q < end) {
    WireField wf;
    WireError e = ReadField(&q, end, &wf);
    if (e != WireError::kNone) return WireErr(static_cast<int>(e), wf.start);
    if (wf.number == 1) {
      has1 = true;
      v1 = wf.value;
      if (wf.wire == kBytes) b1 = AsView(wf.data, wf.value);
    } else if (wf.number == 2) {
      has2 = true;
      ++count2;
      v2 = wf.value;
    } else if (wf.number == 3) {
      v3 = wf.value;
      if (wf.wire == kBytes) b3 = AsView(wf.data, wf.value);
    }
    // Check the wire type against the special's message; other numbers are unknown fields.
    uint32_t known = SpecialKnownFields(t.special);
    uint8_t want = SpecialWireType(t.special, wf.number);
    if (wf.number <= known && wf.wire != want) {
      return Error(std::string(t.name) + " field " + std::to_string(wf.number) + ": wire type " +
                       std::string(WireName(wf.wire)) + ", want " + std::string(WireName(want)),
                   wf.start);
    }
  }
  (void)v3;
  switch (t.special) {
    case Special::kTime:
    case Special::kMicroTime: {
      if (n == 0) {
        out_->append("null");
        return Status();
      }
      const UnixTime ut = ReadUnixTime(t.special, v1, v2);
      const int64_t secs = ut.secs;
      const int64_t nanos = ut.nanos;
      // A MicroTime below one microsecond past the zero time is taken as zero, so the value
      // round-trips.
      if (IsZeroUnixTime(ut)) {
        out_->append("null");
        return Status();
      }
      int32_t micros = t.special == Special::kTime ? -1 : static_cast<int32_t>(nanos / 1000);
      out_->push_back('"');
      if (!AppendRfc3339(secs, micros, out_)) {
        out_->pop_back();
        return Error(std::string(t.name) + " is outside years 0-9999", p);
      }
      out_->push_back('"');
      return Status();
    }
    case Special::kDuration:
      out_->push_back('"');
      AppendGoDuration(static_cast<int64_t>(v1), out_);
      out_->push_back('"');
      return Status();
    case Special::kQuantity:
      if (b1.empty()) {
        out_->append("\"0\"");
      } else {
        AppendGoString(b1, out_);
      }
      return Status();
    case Special::kIntOrString:
      if (v1 == 0) {
        AppendInt(static_cast<int32_t>(static_cast<uint32_t>(v2)), out_);
      } else if (v1 == 1) {
        AppendGoString(b3, out_);
      } else {
        return Error(
            "IntOrString type " + std::to_string(v1) + " is neither 0 (int) nor 1 (string)", p);
      }
      return Status();
    case Special::kRawExtension:
    case Special::kFieldsV1:
    case Special::kUnknown: {
      std::string_view raw = t.special == Special::kUnknown ? std::string_view() : b1;
      if (t.special == Special::kUnknown) return Error("runtime.Unknown inside an object", p);
      if (!has1) {
        out_->append("null");
        return Status();
      }
      const auto* rp = reinterpret_cast<const uint8_t*>(raw.data());
      if (t.special == Special::kRawExtension && raw.size() >= 4 &&
          raw.substr(0, 4) == kProtobufMagic) {
        return Envelope(rp, raw.size(), false);
      }
      return RawJson(rp, raw.size(), t.special == Special::kFieldsV1 ? "FieldsV1" : "RawExtension");
    }
    case Special::kJson:
      if (b1.empty()) {
        out_->append("null");
        return Status();
      }
      return RawJson(reinterpret_cast<const uint8_t*>(b1.data()), b1.size(), "JSON");
    case Special::kGroupVersion:
      out_->push_back('"');
      {
        std::string gv(b1);
        if (!gv.empty()) gv += '/';
        std::string_view version;
        // The version is field 2, a string.
        const uint8_t* r = p;
        while (r < end) {
          WireField wf;
          if (ReadField(&r, end, &wf) != WireError::kNone) break;
          if (wf.number == 2 && wf.wire == kBytes) version = AsView(wf.data, wf.value);
        }
        gv.append(version);
        out_->pop_back();
        AppendGoString(gv, out_);
      }
      return Status();
    case Special::kOrBool:
    case Special::kOrArray:
    case Special::kOrStringArray:
      break;
    case Special::kNone:
      return Error("not a special type", p);
  }
  // The JSONSchemaProps wrappers.
  const uint16_t props = JsonSchemaPropsType();
  auto collect = [&](uint32_t number, std::string* storage) -> std::string_view {
    const uint8_t* r = p;
    std::string_view last;
    int seen = 0;
    while (r < end) {
      WireField wf;
      if (ReadField(&r, end, &wf) != WireError::kNone) break;
      if (wf.number != number) continue;
      if (seen++ == 0) {
        last = AsView(wf.data, wf.value);
      } else {
        if (seen == 2) storage->assign(last);
        storage->append(reinterpret_cast<const char*>(wf.data), wf.value);
      }
    }
    return seen > 1 ? std::string_view(*storage) : last;
  };
  if (t.special == Special::kOrBool) {
    if (has2) {
      std::string storage;
      std::string_view s = collect(2, &storage);
      return Struct(props, reinterpret_cast<const uint8_t*>(s.data()), s.size(), nullptr, false);
    }
    out_->append(v1 != 0 ? "true" : "false");
    return Status();
  }
  if (count2 > 0) {
    // A non-empty array: schemas (OrArray) or strings (OrStringArray).
    out_->push_back('[');
    bool first = true;
    const uint8_t* r = p;
    while (r < end) {
      WireField wf;
      if (ReadField(&r, end, &wf) != WireError::kNone) break;
      if (wf.number != 2) continue;
      if (!first) out_->push_back(',');
      first = false;
      if (t.special == Special::kOrArray) {
        KUBE_PROTO_RETURN_IF_ERROR(Struct(props, wf.data, wf.value, nullptr, false));
      } else {
        AppendGoString(AsView(wf.data, wf.value), out_);
      }
    }
    out_->push_back(']');
    return Status();
  }
  if (has1) {
    std::string storage;
    std::string_view s = collect(1, &storage);
    return Struct(props, reinterpret_cast<const uint8_t*>(s.data()), s.size(), nullptr, false);
  }
  out_->append("null");
  return Status();
}

}  // namespace kube::internal::proto
