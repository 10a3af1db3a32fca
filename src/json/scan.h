// Byte-level helpers over JSON text: where a string or value ends, decoding and writing strings.
//
// They do not validate. Callers either run them over text simdjson has already validated (the
// bytes an `Object` keeps), or validate every piece they cut out afterwards (`DecodeList`), so
// each function only promises to stay inside `text` and to report `kNpos` when the text ends
// before the value does.
#ifndef KUBE_SRC_JSON_SCAN_H_
#define KUBE_SRC_JSON_SCAN_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "kube/json_type.h"

namespace kube::internal::json {

inline constexpr size_t kNpos = std::string_view::npos;

inline bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// The first index at or after `pos` that is not JSON whitespace (`text.size()` if none).
inline size_t SkipSpace(std::string_view text, size_t pos) {
  while (pos < text.size() && IsSpace(text[pos])) ++pos;
  return pos;
}

// Index just past the string whose opening quote is at `pos`; kNpos when it is not closed.
size_t SkipString(std::string_view text, size_t pos);

// Index just past the value that starts at `pos`; kNpos when the text ends first or `pos` does
// not start a value. Objects and arrays are matched by depth (bracket kinds are not checked),
// strings by their quotes, scalars run to the next delimiter.
size_t SkipValue(std::string_view text, size_t pos);

// The type of the valid JSON value `value` (no leading whitespace), from its first bytes.
JsonType TypeOf(std::string_view value);

// "a string", "an integer", "null", ...: for messages such as "x is a string, not an object".
std::string_view TypeWithArticle(JsonType t);

// Appends the decoded body of a valid JSON string literal (the text between its quotes). A lone
// surrogate escape becomes U+FFFD.
void AppendUnescaped(std::string_view body, std::string* out);

// Whether `s` must be escaped to sit between JSON quotes.
bool NeedsEscaping(std::string_view s);
// Appends `s` as a JSON string literal, quotes included.
void AppendQuoted(std::string_view s, std::string* out);
// Writes `s` as a JSON string literal at `out` (`QuotedSize(s)` bytes); returns the end.
char* WriteQuoted(std::string_view s, char* out);
// The length `AppendQuoted` would append.
size_t QuotedSize(std::string_view s);

// --- Walking minified JSON -------------------------------------------------------------------
// The walkers below expect minified text (no whitespace between tokens) that is valid JSON; on
// anything else they stop and return false rather than read out of bounds.

struct Member {
  std::string_view key_body;  // the key's literal between its quotes, escapes not decoded
  size_t key_begin;           // index of the key's opening quote
  size_t value_begin;
  size_t value_end;  // one past the value
};

// Whether the key literal `body` decodes to `key`.
bool KeyEquals(std::string_view body, std::string_view key);

// Calls `fn(const Member&)` for each member of the object whose '{' is at `pos`, in order, until
// `fn` returns false. Returns false when the text is not a minified object there.
template <typename Fn>
bool ForEachMember(std::string_view text, size_t pos, Fn&& fn) {
  if (pos >= text.size() || text[pos] != '{') return false;
  size_t i = pos + 1;
  if (i < text.size() && text[i] == '}') return true;
  while (i < text.size() && text[i] == '"') {
    size_t key_end = SkipString(text, i);
    if (key_end == kNpos || key_end >= text.size() || text[key_end] != ':') return false;
    size_t value_end = SkipValue(text, key_end + 1);
    if (value_end == kNpos || value_end >= text.size()) return false;
    if (!fn(Member{text.substr(i + 1, key_end - i - 2), i, key_end + 1, value_end})) return true;
    if (text[value_end] == '}') return true;
    if (text[value_end] != ',') return false;
    i = value_end + 1;
  }
  return false;
}

// Calls `fn(size_t index, size_t value_begin, size_t value_end)` for each element of the array
// whose '[' is at `pos`, until `fn` returns false. Returns false when the text is not a minified
// array there.
template <typename Fn>
bool ForEachElement(std::string_view text, size_t pos, Fn&& fn) {
  if (pos >= text.size() || text[pos] != '[') return false;
  size_t i = pos + 1;
  if (i < text.size() && text[i] == ']') return true;
  for (size_t index = 0; i < text.size(); ++index) {
    size_t value_end = SkipValue(text, i);
    if (value_end == kNpos || value_end >= text.size()) return false;
    if (!fn(index, i, value_end)) return true;
    if (text[value_end] == ']') return true;
    if (text[value_end] != ',') return false;
    i = value_end + 1;
  }
  return false;
}

// The same walks as `ForEachMember`/`ForEachElement`, as a type the metadata indexer is
// parameterised on.
class ByteWalker {
 public:
  explicit ByteWalker(std::string_view text) : text_(text) {}
  std::string_view text() const { return text_; }
  template <typename Fn>
  bool ForEachMember(size_t pos, Fn&& fn) const {
    return json::ForEachMember(text_, pos, std::forward<Fn>(fn));
  }
  template <typename Fn>
  bool ForEachElement(size_t pos, Fn&& fn) const {
    return json::ForEachElement(text_, pos, std::forward<Fn>(fn));
  }

 private:
  std::string_view text_;
};

// Walks minified text through the positions of its tokens (every structural character and the
// first byte of every string and scalar, in order, as simdjson's stage 1 finds them) and the
// matching bracket of each container (see json/validate.h). Skipping a value then costs one step,
// and in minified text a value ends where the next token starts.
class TokenWalker {
 public:
  // `closes[k]`, for each '{' or '[' token k, is the index of its closing token.
  TokenWalker(std::string_view text, const uint32_t* tokens, const uint32_t* closes, size_t count)
      : text_(text), tokens_(tokens), closes_(closes), count_(count) {}
  std::string_view text() const { return text_; }

  template <typename Fn>
  bool ForEachMember(size_t pos, Fn&& fn) const {
    size_t k = TokenAt(pos);
    if (k == kNpos || text_[pos] != '{') return false;
    ++k;
    if (k < count_ && text_[tokens_[k]] == '}') return true;
    while (k + 2 < count_) {
      size_t key = tokens_[k];
      size_t colon = tokens_[k + 1];
      if (text_[key] != '"' || text_[colon] != ':' || colon < key + 2) return false;
      size_t after = SkipTokens(k + 2);
      if (after >= count_) return false;
      size_t value_end = tokens_[after];
      if (!fn(Member{text_.substr(key + 1, colon - key - 2), key, tokens_[k + 2], value_end})) {
        return true;
      }
      if (text_[value_end] == '}') return true;
      if (text_[value_end] != ',') return false;
      k = after + 1;
    }
    return false;
  }

  template <typename Fn>
  bool ForEachElement(size_t pos, Fn&& fn) const {
    size_t k = TokenAt(pos);
    if (k == kNpos || text_[pos] != '[') return false;
    ++k;
    if (k < count_ && text_[tokens_[k]] == ']') return true;
    for (size_t index = 0; k < count_; ++index) {
      size_t after = SkipTokens(k);
      if (after >= count_) return false;
      size_t value_end = tokens_[after];
      if (!fn(index, size_t{tokens_[k]}, value_end)) return true;
      if (text_[value_end] == ']') return true;
      if (text_[value_end] != ',') return false;
      k = after + 1;
    }
    return false;
  }

 private:
  // The token that starts at `pos`, or kNpos.
  size_t TokenAt(size_t pos) const {
    const uint32_t* it = std::lower_bound(tokens_, tokens_ + count_, pos);
    return it == tokens_ + count_ || *it != pos ? kNpos : static_cast<size_t>(it - tokens_);
  }
  // The token after the value that starts at token `k` (`count_` if the text ends first).
  size_t SkipTokens(size_t k) const {
    char c = text_[tokens_[k]];
    if (c != '{' && c != '[') return k + 1;
    size_t close = closes_[k];
    return close < count_ && close > k ? close + 1 : count_;
  }

  std::string_view text_;
  const uint32_t* tokens_;
  const uint32_t* closes_;
  size_t count_;
};

}  // namespace kube::internal::json

#endif  // KUBE_SRC_JSON_SCAN_H_
