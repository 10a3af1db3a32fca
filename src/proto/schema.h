// The protobuf <-> JSON tables of the built-in kinds (generated into schema_tables.inc).
//
// Each type is a struct (fields in Go declaration order, which is the JSON member order), a list
// wrapper (a named []string carried as `{repeated string items = 1}`), or a special type whose
// JSON and protobuf forms are hand-written in Kubernetes (Time, Quantity, IntOrString, ...).
// The tables are read-only PODs; every accessor is thread-safe.
#ifndef KUBE_SRC_PROTO_SCHEMA_H_
#define KUBE_SRC_PROTO_SCHEMA_H_

#include <cstdint>
#include <span>
#include <string_view>

namespace kube::internal::proto {

enum class TypeKind : uint8_t { kStruct, kListWrapper, kSpecial };

enum class Special : uint8_t {
  kNone,
  kTime,
  kMicroTime,
  kDuration,
  kQuantity,
  kIntOrString,
  kRawExtension,
  kUnknown,
  kFieldsV1,
  kJson,
  kOrBool,
  kOrArray,
  kOrStringArray,
  kGroupVersion,
};

// The Go type of a value: of the field itself, of a slice's elements or of a map's values.
enum class Shape : uint8_t { kString, kBool, kInt32, kInt64, kFloat64, kBytes, kRef, kAny };
enum class Container : uint8_t { kSingle, kSlice, kMap };
// When gogo's marshaller writes the field.
enum class Emit : uint8_t { kNone, kAlways, kIfNonNil, kPerElement };

enum FieldFlags : uint8_t {
  kOmitEmpty = 1,
  kPointer = 2,
  kInline = 4,     // embedded struct whose members sit in the parent JSON object
  kJsonSkip = 8,   // json:"-"
  kTypeMeta = 16,  // the inline TypeMeta: not on the wire, JSON from the envelope
};

inline constexpr uint16_t kNoRef = 0xFFFF;

struct FieldDef {
  std::string_view json;  // JSON name; for inline fields the proto (or Go) name, for paths
  std::string_view key;   // the JSON name quoted, with its colon: `"name":`
  uint32_t number;        // protobuf field number; 0 when the field is not on the wire
  uint16_t ref;           // type of the value (kRef), else kNoRef
  Shape shape;
  Container container;
  uint8_t flags;  // FieldFlags
  uint8_t wire;   // wire type of the field or of each element: 0 varint, 1 fixed64, 2 bytes
  Emit emit;
  uint8_t quirk;  // index into kQuirkDefs, 0 for none
};

struct TypeDef {
  std::string_view name;  // Go type name, e.g. "Pod"
  std::string_view package;
  TypeKind kind;
  Special special;
  bool has_proto;  // false for the JSON-only meta/v1 Table types
  uint16_t first_field;
  uint16_t num_fields;
  uint16_t first_number;  // kNumberIndex[first_number + n - 1] is the slot+1 of number n
  uint16_t max_number;
  uint16_t first_marshal;  // kMarshalOrder: slots with a number, ascending number
  uint16_t num_marshal;
  uint16_t first_json_name;  // kJsonNameOrder: slots of named fields, by JSON name
  uint16_t num_json_names;
};

enum class QuirkRule : uint8_t { kNone, kItemTypeMeta, kOpaqueAnnotation };

struct QuirkDef {
  QuirkRule rule;
  // kItemTypeMeta: the TypeMeta each item of the field carries in JSON ("$envelope" for the
  // envelope's apiVersion).
  std::string_view api_version;
  std::string_view kind;
  // kOpaqueAnnotation: the annotation whose value is an encoded object in the body's media type.
  std::string_view key;
};

struct KindDef {
  std::string_view api_version;
  std::string_view kind;
  uint16_t type;
};

const TypeDef& Type(uint16_t index);
// The number of types; their indexes are 0 .. TypeCount() - 1.
uint16_t TypeCount();
std::span<const FieldDef> Fields(const TypeDef& t);
// The slot of field `number` in `t`, or -1 when `t` has no such field.
int SlotOfNumber(const TypeDef& t, uint64_t number);
// Slots of `t`'s wire fields in ascending field number.
std::span<const uint8_t> MarshalOrder(const TypeDef& t);
// The slot of the non-inline field called `json_name`, or -1.
int SlotOfJsonName(const TypeDef& t, std::string_view json_name);
const QuirkDef& Quirk(uint8_t index);
// The type registered for (apiVersion, kind), or kNoRef.
uint16_t LookupKind(std::string_view api_version, std::string_view kind);
// Whether some kind with a protobuf form is registered for `api_version`.
bool HasGroupVersion(std::string_view api_version);
uint16_t WatchEventType();
uint16_t JsonSchemaPropsType();

}  // namespace kube::internal::proto

#endif  // KUBE_SRC_PROTO_SCHEMA_H_
