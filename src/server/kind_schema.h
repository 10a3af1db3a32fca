// The OpenAPI schema of one kind, as server-side apply reads it (openapi.h finds it).
#ifndef KUBE_SERVER_KIND_SCHEMA_H_
#define KUBE_SERVER_KIND_SCHEMA_H_

#include <memory>
#include <nlohmann/json.hpp>

namespace kube::server {

// `root` points into `doc`, whose `components.schemas` resolve the `$ref`s under it.
struct KindSchema {
  std::shared_ptr<const nlohmann::json> doc;
  const nlohmann::json* root = nullptr;
};

}  // namespace kube::server

#endif  // KUBE_SERVER_KIND_SCHEMA_H_
