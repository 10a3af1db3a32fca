// Objects whose stored body is not JSON: the seam between the object model (core) and the
// encodings that keep their own bytes (the protobuf library).
//
// An `Object` normally stores its minified JSON. An object decoded from protobuf stores the
// protobuf message instead, with its metadata decoded eagerly as for JSON (the accessors read
// the same views), and an `ObjectCodec` that turns the message into the JSON the JSON path would
// have stored, on demand: `json()` (cached in the object once asked for), path reads (not
// cached), equality. Core never links the codec's library: an encoded object can only have been
// made by code that did.
#ifndef KUBE_SRC_OBJECT_CODEC_H_
#define KUBE_SRC_OBJECT_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "kube/object.h"
#include "kube/status.h"
#include "object_metadata.h"

namespace kube::internal {

// Thread-safe: one instance serves every object of its encoding, from any thread.
class ObjectCodec {
 public:
  // Appends the JSON of the object whose stored body is `body` and whose tag is `tag` (both as
  // given to `BuildEncodedObject`), without the `apiVersion`/`kind` splice the object adds when
  // built with `kSpliceTypeMeta`. Never fails for a body the codec built an object from: the
  // codec checks, before building, that the body transcodes.
  virtual void AppendJson(std::string_view body, uint32_t tag, std::string_view api_version,
                          std::string_view kind, std::string* out) const = 0;
  // `{"name":value}`, the one top-level member `name` of the object's JSON (`{}` when it has
  // none), for path reads that need no more. False, appending nothing, when the codec cannot take
  // that member alone: the caller transcodes the whole object.
  virtual bool AppendMemberJson(std::string_view body, uint32_t tag, std::string_view api_version,
                                std::string_view name, std::string* out) const = 0;
  // The same object without `metadata.managedFields`, or null when that cannot be done (the
  // caller keeps the object).
  virtual ObjectPtr WithoutManagedFields(std::string_view body, uint32_t tag,
                                         std::string_view api_version,
                                         std::string_view kind) const = 0;

 protected:
  ~ObjectCodec() = default;
};

// `tag` bit: the JSON is `{"apiVersion":...,"kind":...,` followed by the codec's JSON without its
// '{', as `Object::Parse` splices them into a list item that lacks them.
inline constexpr uint32_t kSpliceTypeMeta = 1u << 31;

// Builds an object storing `body` (copied), with the metadata of `md`, whose `TextRef`s point
// into `body` or, when `decoded`, into `md.arena`. `md.api_version`/`md.kind` must be set (their
// `has_` flags are ignored). Errors: kInvalidArgument when the object is too large.
Result<ObjectPtr> BuildEncodedObject(std::string_view body, const MetadataIndex& md,
                                     const ObjectCodec* codec, uint32_t tag);

// The stored body of an object built by `BuildEncodedObject`, with its codec and tag; `codec` is
// null for an object that stores JSON.
struct EncodedBody {
  std::string_view body;
  const ObjectCodec* codec = nullptr;
  uint32_t tag = 0;
};
EncodedBody EncodedBodyOf(const Object& obj);

}  // namespace kube::internal

#endif  // KUBE_SRC_OBJECT_CODEC_H_
