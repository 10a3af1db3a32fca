// Go's encoding/json text forms, for the protobuf transcoder: strings (HTML-safe escaping,
// invalid UTF-8 as U+FFFD), float64, metav1.Duration, and the compaction Go applies to JSON a
// type marshals itself (RawExtension, FieldsV1, JSON). []byte as base64 and metav1.Time/MicroTime
// as RFC 3339 are the library's shared helpers (base/strings.h, base/time_format.h).
#ifndef KUBE_SRC_PROTO_GO_JSON_H_
#define KUBE_SRC_PROTO_GO_JSON_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kube/status.h"

namespace kube::internal::proto {

// Appends `s` as encoding/json writes a Go string: quoted; `"` `\` and control characters
// escaped (`\b \f \n \r \t`, else `\u00XX`); `<` `>` `&` U+2028 U+2029 as `\uXXXX`; each byte
// of invalid UTF-8 as `\ufffd`.
void AppendGoString(std::string_view s, std::string* out);

// Appends a float64 as encoding/json does (shortest round trip; exponent form below 1e-6 and
// from 1e21). Returns false, appending nothing, for NaN and infinities (Go refuses them).
bool AppendGoFloat(double v, std::string* out);

void AppendInt(int64_t v, std::string* out);

// Go's time.Duration.String() and time.ParseDuration.
void AppendGoDuration(int64_t nanos, std::string* out);
bool ParseGoDuration(std::string_view text, int64_t* nanos);

// Checks that `raw` is one JSON value and appends it as Go's encoder copies the output of a
// MarshalJSON method: whitespace outside strings removed, `<` `>` `&` U+2028 U+2029 inside
// strings escaped. Invalid UTF-8 is refused (Go copies it), and so is nesting deeper than 1000.
// Errors: kInvalidArgument naming `what` and the byte offset; `*out` is unchanged then.
Status AppendCompactJson(std::string_view raw, std::string_view what, std::string* out);
// What `AppendCompactJson` accepts, without writing it.
Status CheckCompactJson(std::string_view raw, std::string_view what);

}  // namespace kube::internal::proto

#endif  // KUBE_SRC_PROTO_GO_JSON_H_
