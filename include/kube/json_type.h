// JsonType: the kind of a JSON value, as `Object::GetType` reports it and error messages name it.
//
// A leaf of the core layer: the byte-level JSON helpers (src/json/) and the object model
// (object.h) both use it, so it includes nothing of either.
#ifndef KUBE_JSON_TYPE_H_
#define KUBE_JSON_TYPE_H_

#include <string_view>

namespace kube {

// The kind of a JSON value, for error messages and `GetType`.
enum class JsonType { kNull, kBool, kInt, kDouble, kString, kArray, kObject };

// "null", "bool", "int", "double", "string", "array" or "object".
std::string_view JsonTypeName(JsonType t);

}  // namespace kube

#endif  // KUBE_JSON_TYPE_H_
