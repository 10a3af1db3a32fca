#include "kube/json_type.h"

namespace kube {

std::string_view JsonTypeName(JsonType t) {
  switch (t) {
    case JsonType::kNull:
      return "null";
    case JsonType::kBool:
      return "bool";
    case JsonType::kInt:
      return "int";
    case JsonType::kDouble:
      return "double";
    case JsonType::kString:
      return "string";
    case JsonType::kArray:
      return "array";
    case JsonType::kObject:
      return "object";
  }
  return "unknown";
}

}  // namespace kube
