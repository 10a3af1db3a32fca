// The public entry points of the protobuf transcoder (kube/proto/protobuf.h).
#include "kube/proto/protobuf.h"

#include "proto/decoder.h"
#include "proto/object_decoder.h"
#include "proto/schema.h"
#include "proto/wire.h"

namespace kube {

using internal::proto::AsView;
using internal::proto::kBytes;
using internal::proto::kNoRef;
using internal::proto::LookupKind;
using internal::proto::ReadField;
using internal::proto::Type;
using internal::proto::WireError;
using internal::proto::WireErrorText;
using internal::proto::WireField;

bool HasProtobufForm(std::string_view api_version, std::string_view kind) {
  uint16_t t = LookupKind(api_version, kind);
  return t != kNoRef && Type(t).has_proto;
}

bool HasProtobufGroupVersion(std::string_view api_version) {
  // The table also registers discovery kinds under "" (no group/version): not a resource's.
  return !api_version.empty() && internal::proto::HasGroupVersion(api_version);
}

Result<ProtobufListShape> LookupProtobufListShape(std::string_view api_version,
                                                  std::string_view kind) {
  auto not_found = [&] {
    return NotFoundError("protobuf: no built-in list kind \"" + std::string(kind) +
                         "\" in apiVersion \"" + std::string(api_version) + "\"");
  };
  constexpr std::string_view kSuffix = "List";
  if (kind.size() <= kSuffix.size() || !kind.ends_with(kSuffix)) return not_found();
  uint16_t list_type = LookupKind(api_version, kind);
  if (list_type == kNoRef || !Type(list_type).has_proto) return not_found();
  std::string_view item_kind = kind.substr(0, kind.size() - kSuffix.size());
  uint16_t item_type = LookupKind(api_version, item_kind);
  if (item_type == kNoRef || !Type(item_type).has_proto) return not_found();
  for (const internal::proto::FieldDef& f : internal::proto::Fields(Type(list_type))) {
    if (f.json != "items" || f.number == 0 || f.ref != item_type ||
        f.container != internal::proto::Container::kSlice ||
        f.shape != internal::proto::Shape::kRef) {
      continue;
    }
    const internal::proto::QuirkDef& q = internal::proto::Quirk(f.quirk);
    return ProtobufListShape{
        f.number, std::string(item_kind),
        q.rule == internal::proto::QuirkRule::kItemTypeMeta && q.kind == item_kind};
  }
  return not_found();
}

struct ProtobufMessageDecoder::Impl {
  explicit Impl(const ProtobufOptions& o) : options(o), decoder(o) {}
  ProtobufOptions options;
  internal::proto::ProtoToJson decoder;
};

ProtobufMessageDecoder::ProtobufMessageDecoder(ProtobufOptions options)
    : impl_(std::make_unique<Impl>(options)) {}
ProtobufMessageDecoder::~ProtobufMessageDecoder() = default;
ProtobufMessageDecoder::ProtobufMessageDecoder(ProtobufMessageDecoder&&) noexcept = default;
ProtobufMessageDecoder& ProtobufMessageDecoder::operator=(ProtobufMessageDecoder&&) noexcept =
    default;

Status ProtobufMessageDecoder::AppendAsJson(std::string_view api_version, std::string_view kind,
                                            std::string_view message, std::string* out,
                                            bool type_meta) {
  uint16_t type = LookupKind(api_version, kind);
  if (type == kNoRef || !Type(type).has_proto) {
    return NotFoundError("protobuf: no built-in protobuf type for apiVersion \"" +
                         std::string(api_version) + "\" kind \"" + std::string(kind) + "\"");
  }
  return impl_->decoder.Message(type, message, type_meta ? kind : std::string_view(), api_version,
                                out, type_meta);
}

Result<ObjectPtr> ProtobufMessageDecoder::DecodeObject(std::string_view api_version,
                                                       std::string_view kind,
                                                       std::string_view message, bool type_meta) {
  uint16_t type = LookupKind(api_version, kind);
  if (type == kNoRef || !Type(type).has_proto) {
    return NotFoundError("protobuf: no built-in protobuf type for apiVersion \"" +
                         std::string(api_version) + "\" kind \"" + std::string(kind) + "\"");
  }
  return internal::proto::DecodeObject(
      type, api_version, kind, message,
      type_meta ? internal::proto::TypeMetaForm::kMembers : internal::proto::TypeMetaForm::kSpliced,
      impl_->options, &impl_->decoder);
}

Result<ObjectPtr> DecodeProtobufObject(std::string_view body, const ProtobufOptions& options) {
  if (body.size() > options.max_body_bytes || body.size() > 0xFFFFFFFFu) {
    return InvalidArgumentError("protobuf: body of " + std::to_string(body.size()) +
                                " bytes exceeds the limit of " +
                                std::to_string(options.max_body_bytes));
  }
  auto env = ParseProtobufEnvelope(body);
  if (!env) return env.error();
  uint16_t type = LookupKind(env->api_version, env->kind);
  if (type != kNoRef && Type(type).has_proto) {
    Result<ObjectPtr> obj =
        internal::proto::DecodeObject(type, env->api_version, env->kind, env->raw,
                                      internal::proto::TypeMetaForm::kMembers, options, nullptr);
    if (!obj || *obj != nullptr) return obj;
  }
  // A list, or a message the lazy way does not take: the whole body to JSON, as the server's.
  Result<std::string> json = ProtobufToJson(body, options);
  if (!json) return json.error();
  return Object::Parse(*json);
}

Result<ProtobufEnvelope> ParseProtobufEnvelope(std::string_view body) {
  if (body.size() < 4 || body.substr(0, 4) != kProtobufMagic) {
    return InvalidArgumentError("protobuf: not a Kubernetes protobuf body (no k8s\\0 magic)");
  }
  ProtobufEnvelope env;
  std::string_view content_encoding, content_type;
  const auto* begin = reinterpret_cast<const uint8_t*>(body.data());
  const uint8_t* p = begin + 4;
  const uint8_t* end = begin + body.size();
  auto fail = [&](std::string_view what, const uint8_t* at) {
    return InvalidArgumentError("protobuf: envelope (runtime.Unknown): " + std::string(what) +
                                " at byte " + std::to_string(at - begin));
  };
  while (p < end) {
    WireField f;
    WireError e = ReadField(&p, end, &f);
    if (e != WireError::kNone) return fail(WireErrorText(e), f.start);
    if (f.number > 4) continue;
    if (f.wire != kBytes)
      return fail("field " + std::to_string(f.number) + " is not length-delimited", f.start);
    std::string_view v = AsView(f.data, f.value);
    switch (f.number) {
      case 1: {
        // TypeMeta {1: apiVersion, 2: kind}; occurrences merge.
        const uint8_t* q = f.data;
        const uint8_t* qend = f.data + f.value;
        while (q < qend) {
          WireField g;
          WireError e2 = ReadField(&q, qend, &g);
          if (e2 != WireError::kNone) return fail(WireErrorText(e2), g.start);
          if (g.number > 2) continue;
          if (g.wire != kBytes) return fail("typeMeta field is not length-delimited", g.start);
          (g.number == 1 ? env.api_version : env.kind) = AsView(g.data, g.value);
        }
        break;
      }
      case 2:
        env.raw = v;
        break;
      case 3:
        content_encoding = v;
        break;
      case 4:
        content_type = v;
        break;
    }
  }
  if (!content_encoding.empty()) {
    return InvalidArgumentError("protobuf: envelope has contentEncoding \"" +
                                std::string(content_encoding) + "\"; only \"\" is supported");
  }
  if (!content_type.empty() && content_type != kProtobufContentType) {
    return InvalidArgumentError("protobuf: envelope has contentType \"" +
                                std::string(content_type) + "\"; only protobuf is supported");
  }
  return env;
}

Status AppendProtobufAsJson(std::string_view body, std::string* out,
                            const ProtobufOptions& options) {
  internal::proto::ProtoToJson dec(options);
  return dec.Body(body, /*top_level=*/true, out);
}

Status DecodeProtobufList(std::string_view body,
                          const std::function<Status(std::string_view item_json)>& item,
                          ProtobufListMeta* meta, const ProtobufOptions& options) {
  internal::proto::ProtoToJson dec(options);
  return dec.List(body, item, meta);
}

Result<std::string> ProtobufToJson(std::string_view body, const ProtobufOptions& options) {
  std::string out;
  Status st = AppendProtobufAsJson(body, &out, options);
  if (!st.ok()) return st;
  return out;
}

}  // namespace kube
