// Objects that keep their protobuf message: metadata decoded eagerly, JSON on demand.
//
// `DecodeObject` checks that a message transcodes (a walk over the wire format that reads no
// value but the few whose JSON form can fail: times, embedded JSON, IntOrString), decodes
// `metadata` (ObjectMeta) into the object's index, and stores the message as the object's body
// with the protobuf codec (src/object_codec.h), which transcodes it when `json()` or a path read
// asks. Anything the check does not take (a malformed or unusual message, a kind without
// ObjectMeta, metadata strings that are not valid UTF-8, a message over 1 MiB) goes the eager
// way: transcoded to JSON now and parsed as JSON, so errors and results are the transcoder's.
#ifndef KUBE_SRC_PROTO_OBJECT_DECODER_H_
#define KUBE_SRC_PROTO_OBJECT_DECODER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "kube/object.h"
#include "kube/proto/protobuf.h"
#include "kube/status.h"
#include "proto/decoder.h"

namespace kube::internal::proto {

// How the JSON path has an object's `kind` and `apiVersion`.
enum class TypeMetaForm : uint8_t {
  kMembers,  // written by the server, where the TypeMeta sits (a body, a watch event's object)
  kSpliced,  // absent in the server's JSON; `Object::Parse` splices them first (list items)
};

// Decodes `message`, of built-in type `type` (apiVersion, kind), into an Object. `eager` is the
// transcoder used when the message goes the eager way; when it is null, such a message gives a
// null ObjectPtr instead. Errors: the transcoder's, and `Object::Parse`'s on its output.
Result<ObjectPtr> DecodeObject(uint16_t type, std::string_view api_version, std::string_view kind,
                               std::string_view message, TypeMetaForm form,
                               const ProtobufOptions& options, ProtoToJson* eager);

// Whether `obj` keeps a protobuf message (for tests and benchmarks).
bool KeepsProtobuf(const Object& obj);

}  // namespace kube::internal::proto

#endif  // KUBE_SRC_PROTO_OBJECT_DECODER_H_
