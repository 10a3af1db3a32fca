// Conversions between stored `Object`s and nlohmann::json for the server's write path.
//
// Objects are stored as `ObjectPtr` (their minified JSON, serialized once per change); a write
// decodes the current object into nlohmann::json, edits it, and encodes the result once.
//
// Reads from: request bodies and stored objects. Feeds: the registry and storage.
#ifndef KUBE_SERVER_OBJECT_JSON_H_
#define KUBE_SERVER_OBJECT_JSON_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "kube/object.h"
#include "server/status_json.h"

namespace kube::server {

// Parses a request body. 400 BadRequest when it is not JSON or not an object, nests deeper than
// `kMaxJsonDepth` or holds a number no JSON value here can keep (decode_checks.h).
ApiOr<nlohmann::json> ParseJsonObject(std::string_view body);
// The stored object as JSON (its bytes are valid JSON by construction).
nlohmann::json ToJson(const Object& obj);
// Compact JSON text; invalid UTF-8 is replaced rather than thrown.
std::string Dump(const nlohmann::json& j);
// Encodes and decodes into a shared `Object`. 500 if the library rejects it.
ApiOr<ObjectPtr> ToObject(const nlohmann::json& j);
// The same object with `metadata.resourceVersion` = `rv` (DELETED events, bookmarks).
ObjectPtr WithResourceVersion(const ObjectPtr& obj, uint64_t rv);

// `2024-05-01T12:00:00Z`: RFC 3339, UTC, whole seconds.
std::string Rfc3339Now();
// A random RFC 4122 version-4 UUID.
std::string NewUid();
// `n` random characters of the alphabet kube-apiserver uses for generateName suffixes.
std::string RandomSuffix(size_t n);

// A string field of a JSON object, "" when absent or not a string.
std::string StringAt(const nlohmann::json& j, std::string_view key);

// Parses a decimal resourceVersion ("" and non-numbers give false).
bool ParseResourceVersion(std::string_view text, uint64_t* rv);

}  // namespace kube::server

#endif  // KUBE_SERVER_OBJECT_JSON_H_
