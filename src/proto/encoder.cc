#include "kube/proto/protobuf.h"

namespace kube {

Status AppendJsonAsProtobuf(std::string_view, std::string*, const ProtobufOptions&) {
  return InternalError("not yet");
}

Result<std::string> JsonToProtobuf(std::string_view json, const ProtobufOptions& options) {
  std::string out;
  Status st = AppendJsonAsProtobuf(json, &out, options);
  if (!st.ok()) return st;
  return out;
}

}  // namespace kube
