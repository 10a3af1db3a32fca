// Finds an object's metadata in its minified JSON without building a DOM.
//
// `Object` keeps its JSON minified and validated; the metadata it hands out are views into those
// bytes. This index records where each field sits (or, for strings with escapes, their decoded
// text), so the object can be laid out in one allocation once the sizes are known.
#ifndef KUBE_SRC_OBJECT_METADATA_H_
#define KUBE_SRC_OBJECT_METADATA_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kube/status.h"

namespace kube::internal {

// A string value: `len` bytes at `off` in the JSON text, or in `MetadataIndex::arena` when
// `decoded` (the literal had escapes, so its bytes differ from its value).
struct TextRef {
  uint32_t off = 0;
  uint32_t len = 0;
  bool decoded = false;
};

struct OwnerRefIndex {
  TextRef api_version;
  TextRef kind;
  TextRef name;
  TextRef uid;
  bool controller = false;
  bool block_owner_deletion = false;
};

// What `IndexMetadata` found. Reused across calls (`Clear` keeps the vectors' capacity).
struct MetadataIndex {
  bool has_api_version = false;  // the member is present, even if null
  bool has_kind = false;
  TextRef api_version;
  TextRef kind;
  TextRef name;
  TextRef ns;
  TextRef generate_name;
  TextRef uid;
  TextRef resource_version;
  TextRef creation_timestamp;
  TextRef deletion_timestamp;
  int64_t generation = 0;
  std::vector<std::pair<TextRef, TextRef>> labels;  // in document order
  std::vector<std::pair<TextRef, TextRef>> annotations;
  std::vector<OwnerRefIndex> owner_references;
  std::vector<TextRef> finalizers;
  // `metadata.managedFields` is present; cutting [cut_begin, cut_end) (the member and one
  // adjacent comma) removes it and leaves valid JSON.
  bool has_managed_fields = false;
  uint32_t managed_fields_cut_begin = 0;
  uint32_t managed_fields_cut_end = 0;
  std::string arena;

  void Clear();
};

// Indexes `json`, which must be valid minified JSON (at most 4 GiB). Null counts as absent for
// every field. Errors: kInvalidArgument when the top level is not an object or a metadata field
// has the wrong type; the message names the field ("metadata.labels[\"app\"] is an integer, not
// a string").
Status IndexMetadata(std::string_view json, MetadataIndex* md);
// The same, faster, given the positions of every token of `json` in order and, for each '{' or
// '[' token, the index of its closing token (see json/validate.h).
Status IndexMetadata(std::string_view json, const uint32_t* tokens, const uint32_t* closes,
                     size_t token_count, MetadataIndex* md);

}  // namespace kube::internal

#endif  // KUBE_SRC_OBJECT_METADATA_H_
