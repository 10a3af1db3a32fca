// Content types at the embedded server's door: which format a request's body is in and which one
// the client gets back, as kube-apiserver v1.32 negotiates them.
//
// The router and the store speak JSON only. `NegotiateContent` runs before routing: it transcodes
// a protobuf request body (`application/vnd.kubernetes.protobuf`) of a built-in kind to JSON, and
// reads the Accept header in order of preference (q-values, then the header's order) to pick the
// answer's format:
//   - protobuf for built-in kinds, their lists, Status errors, DeleteOptions answers, Scale and
//     the discovery documents (APIVersions, APIGroupList, APIGroup, APIResourceList, aggregated
//     discovery v2 when asked for with `as=APIGroupDiscoveryList`);
//   - JSON for custom resources and Tables when the Accept allows JSON, else 406 NotAcceptable
//     (its Status in protobuf when a plain protobuf type was asked for, indented JSON otherwise).
// `EncodeAnswer` then turns the router's JSON answer into protobuf when that was chosen (lists
// item by item, watch streams frame by frame, see `AppendWatchFrame`). A stored object's encoding
// is cached while the object lives (at most 256 MiB of encodings), so a list or an event fanned
// out to many watchers encodes each object once; a protobuf list is sent as views of these
// encodings, never assembled (see `HttpResponse::encoded_items`), and a list with many objects
// not encoded yet encodes them on several threads.
//
// Thread-safe: pure functions.
//
// Reads from: the HTTP request (router.cc). Feeds: the router (a JSON request), the HTTP session
// (the encoded answer), the watch stream (frames).
// kube-apiserver: endpoints/handlers/negotiation, runtime/serializer/protobuf.
#ifndef KUBE_SERVER_CONTENT_TYPE_H_
#define KUBE_SERVER_CONTENT_TYPE_H_

#include <optional>
#include <string>
#include <string_view>

#include "server/resource_info.h"
#include "server/router.h"

namespace kube::server {

// What `NegotiateContent` decided for one request.
struct ContentNegotiation {
  // The answer goes out in protobuf (else as the router wrote it).
  bool protobuf = false;
  // The answer, when the request is refused before routing (406, or 400 for an undecodable
  // protobuf body).
  std::optional<HttpResponse> refusal{};
  // The request to route instead of the original: the body transcoded to JSON, and an Accept
  // header the router understands. Unset when the original serves as is.
  std::optional<HttpRequest> request{};
};

// A protobuf body whose JSON form would pass `max_json_bytes` (absent fields stand for zero values,
// so a few protobuf bytes can mean much more JSON) is refused with a 400 before it is stored.
ContentNegotiation NegotiateContent(const HttpRequest& req, const ResourceCatalog& catalog,
                                    size_t max_json_bytes);

// Rewrites the router's answer in the negotiated format: a JSON body of a built-in kind (object,
// list, Status, discovery document) becomes its protobuf encoding; a watch plan is marked to
// stream protobuf frames (Tables stay JSON). Answers without a protobuf form stay as they are.
void EncodeAnswer(const ContentNegotiation& negotiation, RouteResult* result);

// Appends one protobuf watch frame for an event whose object is `object_json`. An object without
// a protobuf form becomes an ERROR frame holding a 500 Status, so the stream stays decodable.
void AppendWatchFrame(std::string_view type, std::string_view object_json, std::string* out);
// The same for a stored object, whose encoding is made once and shared (by every watcher and list
// that carries it) while the object lives.
void AppendWatchFrame(std::string_view type, const ObjectPtr& object, std::string* out);

// An error answered outside the router (401 before routing): its Status in protobuf when the
// Accept header prefers a plain protobuf type, JSON otherwise.
HttpResponse ErrorAnswer(std::string_view accept, const ApiError& error);

// The protobuf encodings of stored objects kept for lists and watch frames (bytes), and the
// budget they are kept within (256 MiB; 0 restores it): beyond it, encodings of freed objects go
// first, then others, down to 3/4 of it. For tests.
size_t ProtobufCacheBytes();
size_t SetProtobufCacheBudget(size_t bytes);

// The Content-Type of a watch stream: `application/vnd.kubernetes.protobuf;stream=watch` for a
// protobuf watch, `application/json` otherwise.
std::string_view WatchContentType(const WatchPlan& plan);

}  // namespace kube::server

#endif  // KUBE_SERVER_CONTENT_TYPE_H_
