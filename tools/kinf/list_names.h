// What `kinf get` prints of a list (namespace, name, creation time), taken from the list body
// while it arrives, without building objects.
//
// Reads from: the HTTP client's body sink (`HttpRequest::body_sink`). Feeds: get.cc.
// client-go: none (kubectl decodes whole objects and prints their names).
//
// A protobuf body (`k8s\0` and a runtime.Unknown whose `raw` is the list's message) is walked
// field header by field header: each item's ObjectMeta gives the name (field 1), namespace (3) and
// creationTimestamp (8), and the list's ListMeta its continue token; nothing else is decoded, so
// the cost is the transfer. A JSON body (the server may answer JSON to a protobuf Accept) goes
// through `internal::ListDecoder`, which builds the objects: the same rows, at the objects' cost.
#ifndef KUBE_TOOLS_KINF_LIST_NAMES_H_
#define KUBE_TOOLS_KINF_LIST_NAMES_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kube/client/rest_client.h"
#include "kube/status.h"

namespace kube::internal {
class ListDecoder;
}  // namespace kube::internal

namespace kinf {

struct ListedName {
  std::string ns;  // "" for cluster-scoped objects
  std::string name;
  std::optional<std::chrono::system_clock::time_point> created;
};

// Thread-compatible: one body, fed in order from one thread at a time.
class ListNameScanner {
 public:
  // Rows are appended to `*rows`, which must outlive the scanner.
  explicit ListNameScanner(std::vector<ListedName>* rows);
  ~ListNameScanner();
  ListNameScanner(const ListNameScanner&) = delete;
  ListNameScanner& operator=(const ListNameScanner&) = delete;

  // Takes the next piece of the body. Never fails; errors wait for `Finish`.
  void Feed(std::string_view piece);

  // The body has ended: the list's continue token ("" on the last page), or why the body is not
  // a list: kInvalidArgument for malformed or truncated protobuf, `DecodeList`'s errors for JSON,
  // kNotFound when the protobuf list's kind is not a built-in list kind (`unknown_kind()`). Rows
  // appended before an error are not to be used. Call once.
  kube::Result<std::string> Finish();

  bool unknown_kind() const { return unknown_kind_; }

 private:
  enum class Phase { kStart, kMagic, kEnvelope, kList, kSkip, kJson, kFailed };
  size_t Step(std::string_view data);
  bool ParseItem(std::string_view item);
  void ParseListMeta(std::string_view meta);
  void Fail(std::string message);

  std::vector<ListedName>* rows_;
  Phase phase_ = Phase::kStart;
  Phase after_skip_ = Phase::kEnvelope;
  std::string pending_;     // bytes not consumed yet (less than one field of the list)
  uint64_t offset_ = 0;     // body offset of the first byte of `pending_` / the next piece
  uint64_t raw_left_ = 0;   // bytes of the list's message not yet consumed
  uint64_t skip_left_ = 0;  // bytes of an ignored field not yet consumed
  bool in_raw_ = false;     // inside the envelope's raw field
  bool saw_raw_ = false;
  uint32_t items_field_ = 2;  // `items` in every built-in list
  bool unknown_kind_ = false;
  std::string continue_token_;
  kube::Status error_;
  std::unique_ptr<kube::internal::ListDecoder> json_;
};

// Lists `client`'s collection with `options` (following continue tokens from page to page) and
// appends each object's row to `*rows`. Reads built-in kinds in protobuf when
// `client.protobuf()`. Errors: the server's (`StatusFromResponse`), the transfer's, and the
// decoder's as kDataLoss "decoding the answer to GET PATH: ..."; kNotFound with `*unknown_kind`
// set when the server answered a protobuf list of a kind without a protobuf form (list with
// `ResourceClient::List` instead: it falls back to JSON).
kube::Status ListNames(const kube::ResourceClient& client, kube::ListOptions options,
                       std::vector<ListedName>* rows, bool* unknown_kind);

}  // namespace kinf

#endif  // KUBE_TOOLS_KINF_LIST_NAMES_H_
