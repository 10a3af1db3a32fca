// JSON validation over simdjson's stage 1, without building a DOM.
//
// simdjson validates in two stages: stage 1 finds every token and checks UTF-8, string closure
// and control characters; stage 2 checks the grammar, numbers, literals and escapes while it
// builds the DOM tape — three quarters of the cost. An `Object` needs the checks but not the
// tape, so `Validate` runs stage 1 and then checks the rest itself, walking the tokens.
//
// It accepts what simdjson's DOM accepts, and also numbers outside the uint64 and double ranges
// (valid JSON that Go's decoder takes as float64); typed getters report those when read.
#ifndef KUBE_SRC_JSON_VALIDATE_H_
#define KUBE_SRC_JSON_VALIDATE_H_

#include <simdjson.h>

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "kube/status.h"

namespace kube::internal::json {

// simdjson's default nesting limit, which stage 2 would apply.
inline constexpr size_t kMaxDepth = simdjson::DEFAULT_MAX_DEPTH;

// What validation learns about a document's tokens.
struct Tokens {
  std::span<const uint32_t> starts;  // the first byte of every token, in order
  // For the token index of a '{' or '[', the token index of its closing bracket; unspecified
  // for other tokens.
  std::span<const uint32_t> closes;
  bool minified = false;  // no whitespace outside strings
};

// Validates `text`, which must be followed by simdjson::SIMDJSON_PADDING readable bytes, using
// `parser`'s stage 1. On success fills `*tokens`, whose spans stay valid until the next use of
// `parser` or `closes`. Errors: kInvalidArgument "malformed JSON: ..." saying what is wrong and,
// past stage 1, at which byte.
Status Validate(simdjson::dom::parser& parser, std::string_view text, std::vector<uint32_t>* closes,
                Tokens* tokens);

// The checks after stage 1, for tests and for token lists from elsewhere: grammar, literals,
// numbers, escapes and depth. `text` must have passed stage 1 (UTF-8, closed strings, no raw
// control characters in strings). `closes` must have room for one entry per token.
Status ValidateTokens(std::string_view text, std::span<const uint32_t> starts, uint32_t* closes,
                      bool* minified);

}  // namespace kube::internal::json

#endif  // KUBE_SRC_JSON_VALIDATE_H_
