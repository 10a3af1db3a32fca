// Server-side field validation (`fieldValidation=Strict|Warn|Ignore`): the fields of a request
// body its kind's OpenAPI schema does not declare.
//
// Reads from: the router (create and update bodies). Feeds: 400 BadRequest (Strict) or
// `Warning: 299` headers (Warn, the default).
// kube-apiserver: the strict JSON/YAML decoders behind endpoints/handlers (fieldValidation).
#ifndef KUBE_SERVER_FIELD_VALIDATION_H_
#define KUBE_SERVER_FIELD_VALIDATION_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "server/kind_schema.h"

namespace kube::server {

// The paths of `body`'s undeclared fields (`metadata.bogus`, `spec.containers[0].foo`), ordered
// as the body `raw` first names them. Fields under `x-kubernetes-preserve-unknown-fields`, untyped
// values and map entries are never unknown.
std::vector<std::string> UnknownFields(const KindSchema& schema, const nlohmann::json& body,
                                       std::string_view raw);

// kube-apiserver's text for them: `strict decoding error: unknown field "a", unknown field "b"`.
std::string StrictDecodingError(const std::vector<std::string>& unknown);
// One `Warning` header value per field: `299 - "unknown field \"a\""`.
std::string UnknownFieldWarning(std::string_view path);

}  // namespace kube::server

#endif  // KUBE_SERVER_FIELD_VALIDATION_H_
