// ProtoToJson: protobuf messages of the built-in kinds to Go's JSON (see kube/proto/protobuf.h).
#ifndef KUBE_SRC_PROTO_DECODER_H_
#define KUBE_SRC_PROTO_DECODER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "kube/proto/protobuf.h"
#include "kube/status.h"
#include "proto/schema.h"

namespace kube::internal::proto {

// Thread-compatible; reusable (its scratch buffers are kept between calls).
class ProtoToJson {
 public:
  explicit ProtoToJson(const ProtobufOptions& options) : options_(options) {}

  // An enveloped body. `top_level` applies the server's `"items":[]` rule for list bodies.
  Status Body(std::string_view body, bool top_level, std::string* out);

  // A list body, item by item (see DecodeProtobufList).
  Status List(std::string_view body, const std::function<Status(std::string_view item_json)>& item,
              ProtobufListMeta* meta);

  // A bare message of type `type` (no envelope), written with `kind` and `apiVersion` members
  // unless they are empty; `api_version` also stands for the envelope's in list quirks.
  Status Message(uint16_t type, std::string_view message, std::string_view kind,
                 std::string_view api_version, std::string* out, bool type_meta = true);

  // `{"name":value}`: the one member `json_name` of the JSON of `message` (of type `type`), as
  // `Message` writes it, or `{}` when that JSON has no such member. Sets `*found` false, writing
  // nothing, for a name this cannot take alone (TypeMeta, members of embedded structs, unknown
  // names): the caller transcodes the whole message instead.
  Status Member(uint16_t type, std::string_view message, std::string_view api_version,
                std::string_view json_name, std::string* out, bool* found);

  // A watch frame's WatchEvent message. With `raw`, the object is not transcoded: `*raw` gets its
  // enveloped body (a view into `frame`).
  Status WatchEvent(std::string_view frame, std::string* type, std::string* object_json,
                    std::string_view* raw = nullptr);

 private:
  struct TypeMetaOverride {
    std::string_view kind;
    std::string_view api_version;
  };
  struct Occ {
    const uint8_t* data;  // kBytes payload, or the field's key for other wire types
    uint64_t value;       // varint value, fixed64 bits, or payload length
    uint32_t next;        // next occurrence of the same field, kNil at the end
    uint8_t wire;
  };
  struct PathFrame {
    const TypeDef* type;
    const FieldDef* field;
    int64_t index;
    std::string_view key;
  };
  static constexpr uint32_t kNil = 0xFFFFFFFF;

  Status Envelope(const uint8_t* p, size_t n, bool top_level);
  Status Struct(uint16_t type, const uint8_t* p, size_t n, const TypeMetaOverride* tm,
                bool top_level);
  Status Scan(const TypeDef& t, const uint8_t* p, size_t n, size_t heads);
  Status Members(const TypeDef& t, size_t heads, const TypeMetaOverride* tm, bool top_level,
                 bool* first);
  Status Field(const TypeDef& t, const FieldDef& f, uint32_t head, uint32_t tail, bool top_level,
               bool* first);
  Status Value(uint16_t ref, const uint8_t* p, size_t n, const TypeMetaOverride* tm);
  Status Special(const TypeDef& t, const uint8_t* p, size_t n);
  Status ListWrapper(const uint8_t* p, size_t n);
  Status Map(const FieldDef& f, uint32_t head);
  Status RawJson(const uint8_t* p, size_t n, std::string_view what);
  Status OpaqueAnnotation(std::string_view value);
  // The bytes of all occurrences of a message field, merged (concatenated when more than one).
  std::string_view Merged(uint32_t head, std::string* storage) const;
  // Writes a member's `"name":` (after a comma unless it is the first).
  void Key(std::string_view quoted, bool* first);

  void Reset(std::string_view input, std::string* out);
  Status Error(std::string_view what, const uint8_t* at);
  Status WireErr(int err, const uint8_t* at);
  Status CheckSize();

  ProtobufOptions options_;
  std::string* out_ = nullptr;
  const uint8_t* begin_ = nullptr;  // the body, for offsets in errors
  const uint8_t* end_ = nullptr;
  int depth_ = 0;
  std::vector<Occ> occ_;
  std::vector<uint32_t> heads_;  // per open message: head and tail of each field slot
  std::vector<PathFrame> path_;
  std::vector<std::string_view> envelope_api_versions_;
};

}  // namespace kube::internal::proto

#endif  // KUBE_SRC_PROTO_DECODER_H_
