// Files compiled into the library (cmake/embed_files.cmake writes the arrays).
#ifndef KUBE_SERVER_EMBEDDED_FILE_H_
#define KUBE_SERVER_EMBEDDED_FILE_H_

#include <cstddef>

namespace kube::server {

struct EmbeddedFile {
  const char* name;  // the file's name, without its folder
  const unsigned char* data;
  size_t size;
};

// The OpenAPI v3 documents of kube-apiserver v1.32 (src/server/openapi/*.json.gz, gzip): the
// file name is the document's path under /openapi/v3/ with "/" written "__", plus ".json.gz".
extern const EmbeddedFile kOpenApiFiles[];
extern const size_t kOpenApiFiles_count;

}  // namespace kube::server

#endif  // KUBE_SERVER_EMBEDDED_FILE_H_
