// What kube-apiserver's decoder refuses before a handler sees a request body: nesting too deep,
// numbers no JSON value can hold, and fields whose JSON type is not their Go type (a
// `metadata.resourceVersion` that is a number, `labels` that are a list). Each check answers
// with the words of Go's `encoding/json` errors, which kube-apiserver passes on.
//
// Reads from: request bodies (before and after parsing), patch results. Feeds: the router and
// the registry, which wrap the messages in the Status kube-apiserver answers with.
#ifndef KUBE_SERVER_DECODE_CHECKS_H_
#define KUBE_SERVER_DECODE_CHECKS_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace kube::server {

// The deepest nesting of arrays and objects the server accepts in a body, a patch result or a
// continue token; the top-level object is level 1. Below `Object::Parse`'s limit (simdjson's
// 1,024) with room for the levels a list, a watch event or a Table adds around a stored object,
// so an accepted body can always be stored and served. kube-apiserver's limit (Go's decoder) is
// 10,000; its words are the same: `exceeded max depth`.
inline constexpr size_t kMaxJsonDepth = 1000;

// Go's message for nesting deeper than the limit.
inline constexpr std::string_view kExceededMaxDepth = "exceeded max depth";

// Scans JSON text without building it (no recursion, O(size)). nullopt when the nesting stays
// within `max_depth` and every number fits what the server stores; otherwise Go's message:
// `exceeded max depth`, `json: cannot unmarshal number 1e400 into Go value of type float64` (out
// of double range), `json: cannot unmarshal number 123456789012345678901 into Go value of type
// int64` (an integer outside 64 bits, which a double would round). Malformed text is left to the
// parser: the scan reports only what a parser would accept and then get wrong.
std::optional<std::string> ScanJsonText(std::string_view text, size_t max_depth = kMaxJsonDepth);

// The nesting depth of a parsed value (0 for a scalar), without recursion.
size_t JsonDepth(const nlohmann::json& j);

// The first 30 bytes of a body as kube-apiserver quotes it in "the object provided is
// unrecognized" errors (`{"apiVersion":"v1","kind":"Con ...`).
std::string SummarizeBody(std::string_view body);

// Go's error for a top-level `apiVersion` or `kind` that is not a string:
// `couldn't get version/kind; json parse error: json: cannot unmarshal number into Go struct
// field .kind of type string`.
std::optional<std::string> KindTypeError(const nlohmann::json& obj);

// Go's error for the first `metadata` field (ObjectMeta) whose JSON type does not fit:
// `json: cannot unmarshal number into Go struct field ObjectMeta.metadata.resourceVersion of type
// string`. `go_kind` names the object's Go type for a `metadata` that is not an object. When
// several fields are wrong, the first in key order is named (Go names the first in the body).
// `null` fits every field, as in Go.
std::optional<std::string> MetadataTypeError(const nlohmann::json& obj, std::string_view go_kind);

// Drops what Go's decoder turns into "absent": `null` members of `metadata`, and makes `null`
// label and annotation values and finalizers "" (as a typed round trip does). Call after
// `MetadataTypeError` found nothing.
void NormalizeMetadataNulls(nlohmann::json& obj);

// Go's error for the first wrong-typed field of a DeleteOptions body (`gracePeriodSeconds`,
// `preconditions.uid`, `preconditions.resourceVersion`, `dryRun`, ...).
std::optional<std::string> DeleteOptionsTypeError(const nlohmann::json& body);

// kube-apiserver's 400 for a body it cannot decode at all (wrong-typed `kind`, nesting too deep):
// `the object provided is unrecognized (must be of type <kind>): <detail> (<summary>)`.
std::string Unrecognized(std::string_view kind, std::string_view detail, std::string_view body);

// kube-apiserver's 400 for a body whose fields do not decode:
// `<Kind> in version "<v>" cannot be handled as a <kind>: <detail>`, where Kind and v come from
// the body's `kind` and `apiVersion` when it has them (else `kind` and `version`).
std::string CannotBeHandled(const nlohmann::json& body, std::string_view kind,
                            std::string_view version, std::string_view detail);

// Go's `strconv.ParseInt` error for a query parameter that is not a 64-bit integer
// (`strconv.ParseInt: parsing "abc": invalid syntax`); nullopt and `*out` set when it is one.
std::optional<std::string> ParseInt64Param(std::string_view text, int64_t* out);

}  // namespace kube::server

#endif  // KUBE_SERVER_DECODE_CHECKS_H_
