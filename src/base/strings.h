// String helpers every layer shares: ASCII case and trimming, joining, base64, errno text.
//
// Internal (never installed). Each is the one copy in the library; callers that need a variant
// (which characters to trim, which base64 alphabet) say so by argument, not by a local copy.
#ifndef KUBE_SRC_BASE_STRINGS_H_
#define KUBE_SRC_BASE_STRINGS_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kube::internal {

// HTTP's optional white space (RFC 9110 OWS): space and tab.
inline constexpr std::string_view kOptionalWhitespace = " \t";
// The ASCII white space of C's isspace in the "C" locale.
inline constexpr std::string_view kAsciiWhitespace = " \t\r\n\v\f";

// `s` with 'A'-'Z' turned into 'a'-'z'; every other byte is kept.
std::string AsciiLower(std::string_view s);

// `s` without the leading and trailing bytes found in `chars`. The result views into `s`.
std::string_view Trim(std::string_view s, std::string_view chars);

// The parts separated by `sep` ("" for no parts).
std::string Join(const std::vector<std::string>& parts, std::string_view sep);

// The message of errno value `e` ("No such file or directory").
std::string ErrnoText(int e);

// Base64 with the standard alphabet and '=' padding (RFC 4648 section 4, Go's
// base64.StdEncoding): `Base64Encode` returns it, `AppendBase64` appends it to `*out`.
std::string Base64Encode(std::string_view bytes);
void AppendBase64(std::string_view bytes, std::string* out);

// Decodes standard, padded base64, skipping '\r' and '\n' (as Go's decoder does), and appends the
// bytes to `*out`. Returns false on anything else: a character outside the alphabet, data after
// the padding, a length that is not a whole number of quanta. With `strict`, also when the unused
// bits of the last quantum are not zero. On failure `*bad_at` (when given) is the offset of the
// first bad character, or `text.size()` when the text ends early; `*out` then holds what was
// decoded before.
bool DecodeBase64(std::string_view text, std::string* out, size_t* bad_at = nullptr,
                  bool strict = false);

// Base64 with the URL alphabet ('-', '_') and no padding (RFC 4648 section 5, Go's
// base64.RawURLEncoding).
std::string Base64UrlEncode(std::string_view bytes);
// Decodes either alphabet, stopping at the first '='; trailing bits that make no whole byte are
// dropped. nullopt on any other character.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace kube::internal

#endif  // KUBE_SRC_BASE_STRINGS_H_
