// Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`) to and from JSON, for
// every built-in kind of Kubernetes v1.32.
//
// A protobuf body is the magic `k8s\0` followed by a `runtime.Unknown` message: `typeMeta`
// (apiVersion, kind), `raw` (the object's own message, which holds no TypeMeta), and empty
// `contentEncoding`/`contentType`. The transcoder knows every built-in type's fields from tables
// generated from the Kubernetes API schema (src/proto/schema_tables.inc, see docs/protobuf.md),
// and writes JSON byte for byte as the API server's Go encoder does: members in Go declaration
// order, `omitempty`, nil as `null`, Go's string escaping and number formats, and the special
// types (Time, MicroTime, Duration, Quantity, IntOrString, RawExtension, FieldsV1, ...). The
// other way it writes what gogo's marshaller writes: ascending field numbers, zero values of
// non-pointer fields, maps sorted by key, unpacked repeated scalars.
//
// Custom resources, `Table` and anything else outside the built-in kinds have no protobuf form:
// `HasProtobufForm` says false and the functions below answer kNotFound, so callers can fall back
// to JSON.
//
// Input is untrusted: truncated or oversized messages, wrong wire types, bad lengths and deep
// nesting are errors (kInvalidArgument, naming the type.field path and byte offset), never
// crashes. Unknown fields are skipped, as Go does.
//
// Reads from: HTTP bodies and watch streams in protobuf. Feeds: JSON consumers (Object::Parse,
// DecodeList, the embedded server's stored JSON).
// client-go: apimachinery's runtime/serializer/protobuf and the gogo-generated marshal code.
#ifndef KUBE_PROTO_PROTOBUF_H_
#define KUBE_PROTO_PROTOBUF_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kube/object.h"
#include "kube/status.h"

namespace kube {

inline constexpr std::string_view kProtobufContentType = "application/vnd.kubernetes.protobuf";
inline constexpr std::string_view kProtobufWatchContentType =
    "application/vnd.kubernetes.protobuf;stream=watch";
// The four bytes every protobuf body starts with.
inline constexpr std::string_view kProtobufMagic{"k8s\0", 4};

struct ProtobufOptions {
  // Bodies (and watch frames) larger than this are refused. At most 4 GiB - 1.
  size_t max_body_bytes = size_t{1} << 30;
  // JSON output beyond this is refused: absent fields decode to zero values, so a few input bytes
  // can stand for much more JSON.
  size_t max_json_bytes = size_t{2} << 30;
  // Nesting of messages (and of JSON objects and arrays when encoding).
  int max_depth = 128;
};

// Whether (apiVersion, kind) is a built-in kind with a protobuf form. False for custom
// resources, meta.k8s.io/v1 Table and unknown kinds. Thread-safe.
bool HasProtobufForm(std::string_view api_version, std::string_view kind);

// The envelope of a protobuf body. Views into the body.
struct ProtobufEnvelope {
  std::string_view api_version;
  std::string_view kind;
  std::string_view raw;  // the object's message
};

// Reads the `k8s\0` magic and the runtime.Unknown envelope. Errors: kInvalidArgument when the
// magic is missing, the envelope is malformed, or it declares a contentEncoding or a contentType
// other than protobuf.
Result<ProtobufEnvelope> ParseProtobufEnvelope(std::string_view body);

// Decodes a protobuf body (object, list, Status, discovery document, ...) to the JSON the API
// server would have sent for it, with `kind` and `apiVersion` from the envelope (without the
// newline Go's encoder ends a body with). A top-level list whose items are absent gets
// `"items":[]`, as the server writes it. Errors: kNotFound for an (apiVersion, kind) without a
// built-in protobuf form; kInvalidArgument for malformed input, naming where it failed. Appends
// to `*out`; on error `*out` holds a partial result.
Status AppendProtobufAsJson(std::string_view body, std::string* out,
                            const ProtobufOptions& options = {});
Result<std::string> ProtobufToJson(std::string_view body, const ProtobufOptions& options = {});

// Decodes a protobuf body of a built-in kind (a get's answer, a watch event's object) into an
// `Object` equal to the one `Object::Parse` makes of the JSON the server would have sent:
// same metadata, same `json()`, same path reads. The object keeps the protobuf message rather than
// JSON (about half the bytes for a Pod); its metadata are decoded now, its JSON when `json()` or a
// path read asks (docs/protobuf.md, "The object model"). Errors as `ProtobufToJson`, and
// `Object::Parse`'s.
Result<ObjectPtr> DecodeProtobufObject(std::string_view body, const ProtobufOptions& options = {});

// Whether `obj` keeps a protobuf message (rather than JSON). Messages the lazy form does not take
// (a kind without ObjectMeta such as a list or a Status, metadata strings that are not valid
// UTF-8, merged duplicate fields, floats, RawExtension holding protobuf, a message over 1 MiB)
// are kept as JSON, transcoded at decode time.
bool ObjectKeepsProtobuf(const Object& obj);

// The list-level fields of a list body (`PodList`, ...).
struct ProtobufListMeta {
  std::string api_version;
  std::string kind;  // "PodList"
  std::string resource_version;
  std::string continue_token;
  std::optional<int64_t> remaining_item_count;
};

// Decodes a list body one item at a time, for callers that keep items separately (informers):
// `item` receives each item's JSON, with `kind` (the list's kind less "List") and `apiVersion`
// added first as `DecodeList` adds them; the view is valid during the call only. An error `item`
// returns stops the decoding and is returned. Errors as AppendProtobufAsJson, and
// kInvalidArgument when the body is not a list.
Status DecodeProtobufList(std::string_view body,
                          const std::function<Status(std::string_view item_json)>& item,
                          ProtobufListMeta* meta, const ProtobufOptions& options = {});

// Encodes a JSON object of a built-in kind as the API server would send it in protobuf: the
// envelope from its `kind` and `apiVersion`, the object's message as gogo writes it. JSON
// members the type does not have are ignored, as Go's decoder does; `null` is the zero value.
// Errors: kNotFound for a kind without a protobuf form; kInvalidArgument for malformed JSON or a
// value of the wrong type (naming the field path). Appends to `*out`.
Status AppendJsonAsProtobuf(std::string_view json, std::string* out,
                            const ProtobufOptions& options = {});
Result<std::string> JsonToProtobuf(std::string_view json, const ProtobufOptions& options = {});

// --- Pieces, for decoders that take a body apart as it arrives ----------------------------------

// Whether `api_version` ("v1", "apps/v1") is a built-in group/version: one with at least one kind
// that has a protobuf form. False for custom resources' group/versions. Thread-safe.
bool HasProtobufGroupVersion(std::string_view api_version);

// Where the items of a built-in list kind sit in its message.
struct ProtobufListShape {
  uint32_t items_field = 0;  // the field number of `items` in the list's message
  std::string item_kind;     // the kind of every item ("Pod" for a PodList)
  // Whether the server's JSON gives each item `kind` and `apiVersion` (PartialObjectMetadataList
  // does; typed lists such as PodList do not).
  bool items_have_type_meta = false;
};

// The shape of the list kind (apiVersion, kind), e.g. ("v1", "PodList"). Errors: kNotFound when
// it is not a built-in list kind whose items are of the kind named by the list's kind without
// "List" (the rule `DecodeList` applies to JSON lists).
Result<ProtobufListShape> LookupProtobufListShape(std::string_view api_version,
                                                  std::string_view kind);

// Decodes bare messages (no magic, no envelope), such as one item of a list, to JSON.
// Thread-compatible; reusable (its scratch buffers are kept between calls).
class ProtobufMessageDecoder {
 public:
  explicit ProtobufMessageDecoder(ProtobufOptions options = {});
  ~ProtobufMessageDecoder();
  ProtobufMessageDecoder(ProtobufMessageDecoder&&) noexcept;
  ProtobufMessageDecoder& operator=(ProtobufMessageDecoder&&) noexcept;

  // Appends the JSON of `message`, the message of the built-in kind (apiVersion, kind): with
  // `kind` and `apiVersion` members as a body of that kind has them, or, when `type_meta` is
  // false, without them, as the items of a typed list appear in the server's JSON. Errors:
  // kNotFound for a kind without a protobuf form; kInvalidArgument for malformed input (the
  // type.field path and the byte offset within `message`). On error `*out` holds a partial result.
  Status AppendAsJson(std::string_view api_version, std::string_view kind, std::string_view message,
                      std::string* out, bool type_meta = true);

  // `message` as an `Object`, as `DecodeProtobufObject` makes one: equal to what
  // `Object::Parse(json, api_version, kind)` makes of the JSON `AppendAsJson` gives (so, with
  // `type_meta` false, to a list item of the same list decoded from JSON). Errors as
  // `AppendAsJson`, and `Object::Parse`'s.
  Result<ObjectPtr> DecodeObject(std::string_view api_version, std::string_view kind,
                                 std::string_view message, bool type_meta = true);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// --- Watch streams -------------------------------------------------------------------------
// `application/vnd.kubernetes.protobuf;stream=watch`: frames of a 4-byte big-endian length and a
// metav1.WatchEvent {type, object: RawExtension{raw: an enveloped object}}, without magic.

struct ProtobufWatchEvent {
  std::string type;         // ADDED, MODIFIED, DELETED, BOOKMARK or ERROR
  std::string object_json;  // the object as JSON, with kind and apiVersion ("" with `object`)
  // With `ProtobufWatchDecoder::Kind::kObjects`: the object, as `DecodeProtobufObject` makes it.
  ObjectPtr object;
};

// Splits a protobuf watch stream into events. Thread-compatible: one decoder per stream.
class ProtobufWatchDecoder {
 public:
  // What each event carries: its object's JSON, or the object itself (which keeps the protobuf).
  enum class Kind { kJson, kObjects };
  explicit ProtobufWatchDecoder(ProtobufOptions options = {}, Kind kind = Kind::kJson);
  ~ProtobufWatchDecoder();
  ProtobufWatchDecoder(ProtobufWatchDecoder&&) noexcept;
  ProtobufWatchDecoder& operator=(ProtobufWatchDecoder&&) noexcept;

  // Decodes the frames `chunk` completes (chunks may split frames anywhere) and appends their
  // events to `*out`. A frame whose length exceeds `max_body_bytes` is refused as soon as its
  // length is read, before any of it is buffered. Errors: kDataLoss for a bad frame (oversized,
  // with the cause kOverLimit; malformed WatchEvent, unknown event type, undecodable object; the
  // message gives the frame's index and offset in the stream), or kNotFound when the object's
  // kind has no protobuf form.
  // After an error every call returns the same error and appends nothing.
  Status Feed(std::string_view chunk, std::vector<ProtobufWatchEvent>* out);

  // The stream ended. kDataLoss when it ended inside a frame.
  Status Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Appends one frame of a protobuf watch stream for an event of type `type` whose object is the
// JSON `object_json` (of a built-in kind, with kind and apiVersion). Errors as
// AppendJsonAsProtobuf.
Status AppendProtobufWatchFrame(std::string_view type, std::string_view object_json,
                                std::string* out, const ProtobufOptions& options = {});

}  // namespace kube

#endif  // KUBE_PROTO_PROTOBUF_H_
