// Field paths (`spec.containers[0].image`, `/spec/containers/0/image`) over an object's JSON.
#ifndef KUBE_SRC_OBJECT_PATH_H_
#define KUBE_SRC_OBJECT_PATH_H_

#include <string_view>

#include "kube/status.h"

namespace kube::internal {

// The bytes of the value at `path` in `json`, which must be valid minified JSON.
//
// Dotted paths: names separated by '.', each optionally followed by `[...]` steps; a bracket
// holds an array index or a map key that may contain '.' and '/' (but not ']'). A leading '.' is
// allowed. JSON Pointers (RFC 6901) start with '/'; "" is the whole document. A step of digits
// indexes an array or names a key of an object, whichever the value is.
//
// Errors: kNotFound when a key or index is absent (the message names the path); kInvalidArgument
// when the path does not parse or a step goes into a value that is not an object or array.
Result<std::string_view> FindPath(std::string_view json, std::string_view path);

}  // namespace kube::internal

#endif  // KUBE_SRC_OBJECT_PATH_H_
