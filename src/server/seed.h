// Seeding: manifests (YAML or JSON) and the demo objects loaded into the embedded server.
//
// Reads from: `--seed FILE|demo`, `EmbeddedApiServer::LoadManifests`. Feeds: the Registry.
#ifndef KUBE_SERVER_SEED_H_
#define KUBE_SERVER_SEED_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "kube/status.h"
#include "server/registry.h"

namespace kube::server {

// Splits a manifest into objects. JSON: one object, an array of objects, or a `List` (its `items`
// are expanded). Anything else is YAML: one or more `---`-separated documents (each may be a
// `List` too); empty documents are skipped. kInvalidArgument for text that parses as neither,
// with the parser's position, and for YAML whose aliases expand past a node budget or past a
// byte budget of 16 MiB plus eight times the text (counted before any copy is made: the message
// names the limit). Returns for every input (yaml-cpp's `LoadAll` does not:
// yaml/yaml_stream.h).
Result<std::vector<nlohmann::json>> ParseManifests(std::string_view text);

// The first YAML document of `yaml` as JSON (null when there is none; scalars typed as YAML 1.2's
// core schema: quoted text stays a string; keys are text). kInvalidArgument as for
// `ParseManifests`, the byte budget being `max_json_bytes`: a document whose JSON text (aliases
// expanded) would be longer is refused, before the copies are made, with a message naming the
// limit; a document returned dumps to at most `max_json_bytes` bytes. Used for YAML request bodies
// (the server passes its request body limit); exposed for tests.
Result<nlohmann::json> YamlToJson(std::string_view yaml, size_t max_json_bytes = size_t{3} << 20);

// Applies every object (create, or replace when it exists), creating missing namespaces. Stops at
// the first rejected object; the message names it and its position. Consumes `objects` (each is
// moved into the registry and freed as soon as it is stored, which keeps big seeds cheap).
Status ApplyManifests(Registry& registry, std::vector<nlohmann::json> objects);

// The `--seed demo` objects: three Deployments (web, api, worker) in `default` with their Pods,
// Services and a ConfigMap, and one Ready Node.
std::vector<nlohmann::json> DemoObjects();

}  // namespace kube::server

#endif  // KUBE_SERVER_SEED_H_
