// OpenAPI v3: the real schemas of kube-apiserver v1.32, and documents built from CRD schemas.
//
// The built-in group-versions' documents are the ones a kube-apiserver v1.32 serves, compiled into
// the library gzip-compressed (src/server/openapi/) and inflated on first use. A group-version of
// custom resources gets a document built from its CustomResourceDefinitions' structural schemas,
// as kube-apiserver's CRD handler builds it. A group-version with neither (resources added with
// `--resources`) keeps the minimal document of discovery.h.
//
// The same schemas tell server-side apply (managed_fields.h) which lists are sets or maps and
// which maps and structs are atomic.
//
// Thread-safe: inflated documents are cached for the process's life under a mutex.
//
// Reads from: the router (`/openapi/v3...`), server-side apply. Feeds: kubectl explain,
// kubectl's client-side validation, managed fields.
// kube-apiserver: kube-openapi handler3, apiextensions-apiserver controller/openapi/builder.
#ifndef KUBE_SERVER_OPENAPI_H_
#define KUBE_SERVER_OPENAPI_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "server/kind_schema.h"
#include "server/resource_info.h"
#include "server/router.h"
#include "server/storage.h"

namespace kube::server {

// One OpenAPI document: its JSON text and its hash (SHA-512 of the text, upper-case hex, what
// the index's `?hash=` and the ETag carry).
struct OpenApiDocument {
  std::string json;
  std::string hash;
};

// The embedded document at `path` ("api/v1", "apis/apps/v1", "api", "apis", "version"), or null.
std::shared_ptr<const OpenApiDocument> BuiltInOpenApiDocument(std::string_view path);
// The same document parsed (cached), or null.
std::shared_ptr<const nlohmann::json> BuiltInOpenApiJson(std::string_view path);

// The schema of `info`'s kind: from the embedded documents for built-in kinds, from the stored
// CustomResourceDefinition's structural schema for custom resources; nullopt when there is none
// (callers then treat every field as untyped). Must not be called under Storage's lock.
std::optional<KindSchema> SchemaOfKind(const ResourceInfo& info, const Storage& storage);

// Answers `GET /openapi/v3` and `GET /openapi/v3/<path>` (nullopt for other paths): the index
// with each document's hashed URL (`text/plain; charset=utf-8`, `Cache-Control: no-cache,
// private`, as kube-apiserver), and documents as JSON with `ETag: "<hash>"`; asked with the
// current `?hash=` they are `Cache-Control: public, immutable` with a one-year `Expires`, with
// another hash a 301 to the current URL. Unknown paths: 404 with an empty body.
std::optional<HttpResponse> ServeOpenApi(const HttpRequest& req, const ResourceCatalog& catalog,
                                         const Storage& storage);

}  // namespace kube::server

#endif  // KUBE_SERVER_OPENAPI_H_
