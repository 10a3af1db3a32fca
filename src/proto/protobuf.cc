// The public entry points of the protobuf transcoder (kube/proto/protobuf.h).
#include "kube/proto/protobuf.h"

#include "proto/decoder.h"
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
