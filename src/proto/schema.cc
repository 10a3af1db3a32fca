// The generated tables and their lookups.
#include "proto/schema.h"

#include <algorithm>

namespace kube::internal::proto {
namespace {
#include "proto/schema_tables.inc"
}  // namespace

const TypeDef& Type(uint16_t index) { return kTypeDefs[index]; }
uint16_t TypeCount() { return static_cast<uint16_t>(std::size(kTypeDefs)); }

std::span<const FieldDef> Fields(const TypeDef& t) {
  return {kFieldDefs + t.first_field, t.num_fields};
}

int SlotOfNumber(const TypeDef& t, uint64_t number) {
  if (number == 0 || number > t.max_number) return -1;
  return static_cast<int>(kNumberIndex[t.first_number + number - 1]) - 1;
}

std::span<const uint8_t> MarshalOrder(const TypeDef& t) {
  return {kMarshalOrder + t.first_marshal, t.num_marshal};
}

int SlotOfJsonName(const TypeDef& t, std::string_view json_name) {
  const uint8_t* first = kJsonNameOrder + t.first_json_name;
  const uint8_t* last = first + t.num_json_names;
  const FieldDef* fields = kFieldDefs + t.first_field;
  const uint8_t* it =
      std::lower_bound(first, last, json_name,
                       [&](uint8_t slot, std::string_view n) { return fields[slot].json < n; });
  if (it == last || fields[*it].json != json_name) return -1;
  return *it;
}

const QuirkDef& Quirk(uint8_t index) { return kQuirkDefs[index]; }

uint16_t LookupKind(std::string_view api_version, std::string_view kind) {
  const KindDef* first = std::begin(kKindDefs);
  const KindDef* last = std::end(kKindDefs);
  const KindDef* it = std::lower_bound(first, last, std::pair(api_version, kind),
                                       [](const KindDef& d, const auto& key) {
                                         if (d.api_version != key.first)
                                           return d.api_version < key.first;
                                         return d.kind < key.second;
                                       });
  if (it == last || it->api_version != api_version || it->kind != kind) return kNoRef;
  return it->type;
}

bool HasGroupVersion(std::string_view api_version) {
  const KindDef* first = std::begin(kKindDefs);
  const KindDef* last = std::end(kKindDefs);
  const KindDef* it =
      std::lower_bound(first, last, api_version,
                       [](const KindDef& d, std::string_view key) { return d.api_version < key; });
  for (; it != last && it->api_version == api_version; ++it) {
    if (kTypeDefs[it->type].has_proto) return true;
  }
  return false;
}

uint16_t WatchEventType() { return kWatchEventType; }
uint16_t JsonSchemaPropsType() { return kJsonSchemaPropsType; }

}  // namespace kube::internal::proto
