// Object: an immutable Kubernetes object, built once from its JSON and shared by reference.
//
// One `Object` is held at the same time by the store, the delta queue and every handler, through
// `ObjectPtr` (a `std::shared_ptr<const Object>`): nothing copies it after decoding. It keeps the
// object's minified JSON and, decoded eagerly, the metadata that caches, selectors and controllers
// read constantly; any other field is read on demand by path (`GetString("spec.nodeName")`). An
// object decoded from Kubernetes' protobuf (kube/proto/protobuf.h) keeps the protobuf message
// instead of the JSON and behaves exactly as the object parsed from the JSON the server would have
// sent: its JSON is made when first asked for.
//
// Reads from: HTTP bodies and watch frames (src/watch/watch_decoder.cc, list responses).
// Feeds: the delta FIFO, the indexer, handlers and listers.
// client-go: k8s.io/apimachinery/pkg/apis/meta/v1/unstructured (the dynamic client's object).
#ifndef KUBE_OBJECT_H_
#define KUBE_OBJECT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kube/group_version.h"
#include "kube/json_type.h"
#include "kube/status.h"
#include "kube/string_map.h"

namespace kube {

class Object;
// Every object in the library travels as an `ObjectPtr`: shared, immutable, never null unless a
// function says so.
using ObjectPtr = std::shared_ptr<const Object>;

// One entry of `metadata.ownerReferences`. The strings view into the owning Object.
struct OwnerReference {
  std::string_view api_version;
  std::string_view kind;
  std::string_view name;
  std::string_view uid;
  bool controller = false;            // absent means false
  bool block_owner_deletion = false;  // absent means false
};

// Immutable. Thread-safe: every method is const and may be called from any thread at once.
// Construct through `Object::Parse` (or `DecodeList`); objects are never copied or moved, only
// shared.
class Object {
 public:
  // Decodes one JSON object. The input may be pretty-printed; the object keeps it minified.
  // Errors: kInvalidArgument for malformed JSON, a top level that is not an object, or metadata of
  // the wrong type (e.g. `metadata.labels` that is not a map of strings), with the position or
  // field at fault in the message.
  static Result<ObjectPtr> Parse(std::string_view json);

  // As `Parse`, and fills in `apiVersion` and `kind` when the JSON lacks them (list items of
  // built-in kinds omit them).
  static Result<ObjectPtr> Parse(std::string_view json, std::string_view default_api_version,
                                 std::string_view default_kind);

  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;
  ~Object();

  // --- Type -----------------------------------------------------------------------------------
  std::string_view api_version() const;
  std::string_view kind() const;
  GroupVersionKind gvk() const;

  // --- Metadata (decoded once, free to read) ---------------------------------------------------
  std::string_view name() const;
  std::string_view ns() const;  // "" for cluster-scoped objects
  std::string_view generate_name() const;
  std::string_view uid() const;
  std::string_view resource_version() const;
  int64_t generation() const;  // 0 when absent
  StringMapView labels() const;
  StringMapView annotations() const;
  // In document order; the spans live as long as the object.
  std::span<const OwnerReference> owner_references() const;
  std::span<const std::string_view> finalizers() const;
  // RFC 3339 text as sent, "" when absent.
  std::string_view creation_timestamp() const;
  std::string_view deletion_timestamp() const;
  // The same, parsed; nullopt when absent or unparsable.
  std::optional<std::chrono::system_clock::time_point> creation_time() const;
  std::optional<std::chrono::system_clock::time_point> deletion_time() const;
  bool has_managed_fields() const;

  // --- Any field, by path ----------------------------------------------------------------------
  // A path is either dotted (`spec.template.spec.containers[0].image`, with `[key]` for map keys
  // that contain dots: `metadata.labels[app.kubernetes.io/name]`) or a JSON Pointer
  // (`/spec/containers/0/image`, RFC 6901).
  //
  // Errors: kNotFound when a step of the path is absent (the message names the path);
  // kInvalidArgument when a value has another type than asked for ("spec.replicas is a string,
  // not an integer") or the path does not parse. Each call parses the stored JSON (a few
  // microseconds for a Pod; on an object that keeps protobuf, it first transcodes the top-level
  // member the path starts with); read hot fields once and keep them.
  bool Has(std::string_view path) const;
  Result<JsonType> GetType(std::string_view path) const;
  Result<std::string> GetString(std::string_view path) const;
  Result<int64_t> GetInt64(std::string_view path) const;
  Result<double> GetDouble(std::string_view path) const;  // integers convert
  Result<bool> GetBool(std::string_view path) const;
  Result<std::vector<std::string>> GetStringList(std::string_view path) const;
  Result<StringMap> GetStringMap(std::string_view path) const;
  // The value at `path` as minified JSON, whatever its type.
  Result<std::string> GetJson(std::string_view path) const;

  // --- Serialization ---------------------------------------------------------------------------
  // The whole object as minified JSON. The view lives as long as the object. On an object that
  // keeps protobuf the first call transcodes it (about 10 us for a Pod) and the object keeps the
  // JSON from then on.
  std::string_view json() const;
  // Bytes of memory this object holds (its JSON or protobuf, decoded metadata and bookkeeping),
  // for memory accounting.
  size_t MemoryUsage() const;

  // Equal JSON text, whatever each object was decoded from (an object decoded from protobuf
  // compares as the JSON the server would have sent for it).
  friend bool operator==(const Object& a, const Object& b);

 private:
  // Lives in the same allocation as this object and its shared_ptr control block (src/object.cc).
  struct Rep;
  explicit Object(Rep* rep);
  Rep* rep_;
  friend struct ObjectBuilderAccess;
};

// A decoded list response (`PodList`, `DeploymentList`, ...).
struct ObjectList {
  std::string api_version;
  std::string kind;              // "PodList"
  std::string resource_version;  // the snapshot version: a watch from it misses nothing
  std::string continue_token;    // "" on the last page
  std::optional<int64_t> remaining_item_count;
  std::vector<ObjectPtr> items;
};

// Decodes a list body. Items lacking `apiVersion`/`kind` get the list's apiVersion and its kind
// minus "List" (as the dynamic client does). Errors: kInvalidArgument for malformed JSON, a
// missing or non-array `items` (`null` is taken as empty), or any item that fails `Object::Parse`
// (the message gives its index).
Result<ObjectList> DecodeList(std::string_view json);

// The transform most informers want (see `SharedIndexInformer::SetTransform`): the same object
// without `metadata.managedFields`. Returns `obj` itself when it has none.
ObjectPtr DropManagedFields(const ObjectPtr& obj);

// `s` as a JSON string literal, quotes included, for request bodies built by hand:
// `"{\"name\":" + JsonQuote(name) + "}"`.
std::string JsonQuote(std::string_view s);

}  // namespace kube

#endif  // KUBE_OBJECT_H_
