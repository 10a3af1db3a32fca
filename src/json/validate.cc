#include "json/validate.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "json/scan.h"

namespace kube::internal::json {
namespace {

Status Error(std::string_view what, size_t offset) {
  return InvalidArgumentError("malformed JSON: " + std::string(what) + " at byte " +
                              std::to_string(offset));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// RFC 8259 number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsNumber(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  if (i < n && s[i] == '-') ++i;
  if (i >= n) return false;
  if (s[i] == '0') {
    ++i;
  } else if (IsDigit(s[i])) {
    while (i < n && IsDigit(s[i])) ++i;
  } else {
    return false;
  }
  if (i < n && s[i] == '.') {
    ++i;
    if (i >= n || !IsDigit(s[i])) return false;
    while (i < n && IsDigit(s[i])) ++i;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= n || !IsDigit(s[i])) return false;
    while (i < n && IsDigit(s[i])) ++i;
  }
  return i == n;
}

int Hex4(std::string_view text, size_t pos) {
  if (pos + 4 > text.size()) return -1;
  int v = 0;
  for (size_t i = pos; i < pos + 4; ++i) {
    char c = text[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// Checks every escape sequence. Backslashes are rare in Kubernetes JSON, so one memchr pass over
// the whole text beats looking inside each string. The first backslash found always starts an
// escape (an earlier one would have been found first), and each escape's length says where to
// resume; a backslash outside any string is caught here or by the grammar, an error either way.
Status CheckEscapes(std::string_view text) {
  const char* data = text.data();
  size_t i = 0;
  while (i < text.size()) {
    const void* hit = std::memchr(data + i, '\\', text.size() - i);
    if (hit == nullptr) break;
    size_t p = static_cast<const char*>(hit) - data;
    char e = p + 1 < text.size() ? text[p + 1] : '\0';
    switch (e) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        i = p + 2;
        break;
      case 'u': {
        int cp = Hex4(text, p + 2);
        if (cp < 0) return Error("bad \\u escape", p);
        i = p + 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return Error("unpaired low surrogate", p);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          int lo =
              i + 1 < text.size() && text[i] == '\\' && text[i + 1] == 'u' ? Hex4(text, i + 2) : -1;
          if (lo < 0xDC00 || lo > 0xDFFF) return Error("unpaired high surrogate", p);
          i += 6;
        }
        break;
      }
      default:
        return Error("bad escape", p);
    }
  }
  return Status();
}

}  // namespace

// Written as a state machine whose state is the position in the code (as simdjson's stage 2
// is): each token's check sits where that kind of token can occur, so branches predict well.
Status ValidateTokens(std::string_view text, std::span<const uint32_t> tokens, uint32_t* closes,
                      bool* minified) {
  const size_t n = tokens.size();
  if (n == 0) return Error("empty document", 0);
  const char* data = text.data();
  // The byte of token k, or '\0' past the last token.
  auto at = [&](size_t k) -> char { return k < n ? data[tokens[k]] : '\0'; };
  auto pos = [&](size_t k) -> size_t { return k < n ? tokens[k] : text.size(); };
  // Scalars run to the next token, less whitespace; stage 1 splits them at whitespace.
  auto atom_ok = [&](size_t k) {
    size_t end = pos(k + 1);
    while (end > tokens[k] && IsSpace(data[end - 1])) --end;
    std::string_view atom = text.substr(tokens[k], end - tokens[k]);
    switch (atom[0]) {
      case 't':
        return atom == "true";
      case 'f':
        return atom == "false";
      case 'n':
        return atom == "null";
      default:
        return IsNumber(atom);
    }
  };
  uint32_t open[kMaxDepth];  // token index of every open container
  bool open_is_object[kMaxDepth];
  size_t depth = 0;
  size_t k = 0;
  char c = at(0);

  // One value: a scalar goes on to `after_value`, a container opens.
value:
  switch (c) {
    case '{':
      goto object_begin;
    case '[':
      goto array_begin;
    case '"':
      ++k;
      goto after_value;
    case '}':
    case ']':
    case ':':
    case ',':
    case '\0':
      return Error("expected a value", pos(k));
    default:
      if (!atom_ok(k)) return Error("invalid literal or number", pos(k));
      ++k;
      goto after_value;
  }

object_begin:
  if (depth == kMaxDepth) return Error("nesting too deep", pos(k));
  open[depth] = static_cast<uint32_t>(k);
  open_is_object[depth++] = true;
  c = at(++k);
  if (c == '}') goto scope_end;
object_field:
  if (c != '"') return Error("expected a string key", pos(k));
  if (at(k + 1) != ':') return Error("expected ':'", pos(k + 1));
  k += 2;
  c = at(k);
  goto value;

array_begin:
  if (depth == kMaxDepth) return Error("nesting too deep", pos(k));
  open[depth] = static_cast<uint32_t>(k);
  open_is_object[depth++] = false;
  c = at(++k);
  if (c == ']') goto scope_end;
  goto value;

after_value:
  if (depth == 0) goto document_end;
  c = at(k);
  if (c == ',') {
    c = at(++k);
    if (open_is_object[depth - 1]) goto object_field;
    goto value;
  }
  if (c != '}' && c != ']') return Error("expected ',' or a closing bracket", pos(k));
scope_end:
  if (open_is_object[depth - 1] != (c == '}')) return Error("mismatched closing bracket", pos(k));
  closes[open[--depth]] = static_cast<uint32_t>(k);
  ++k;
  goto after_value;

document_end:
  if (k != n) return Error("content after the document", pos(k));
  // Whitespace outside strings always ends right before a token, or ends the text.
  static constexpr auto kSpace = [] {
    std::array<uint8_t, 256> t{};
    t[' '] = t['\n'] = t['\r'] = t['\t'] = 1;
    return t;
  }();
  unsigned spaced = tokens[0] != 0 || IsSpace(text.back());
  for (size_t i = 1; i < n; ++i) spaced |= kSpace[static_cast<uint8_t>(data[tokens[i] - 1])];
  *minified = spaced == 0;
  return CheckEscapes(text);
}

Status Validate(simdjson::dom::parser& parser, std::string_view text, std::vector<uint32_t>* closes,
                Tokens* tokens) {
  size_t want = std::max<size_t>(text.size(), 32);
  if (parser.implementation == nullptr || parser.implementation->capacity() < want) {
    if (auto err = parser.allocate(want, kMaxDepth)) {
      return InvalidArgumentError(std::string("JSON parser: ") + simdjson::error_message(err));
    }
  }
  auto& impl = *parser.implementation;
  if (auto err = impl.stage1(reinterpret_cast<const uint8_t*>(text.data()), text.size(),
                             simdjson::stage1_mode::regular)) {
    return InvalidArgumentError(std::string("malformed JSON: ") + simdjson::error_message(err));
  }
  const size_t n = impl.n_structural_indexes;
  if (closes->size() < n) closes->resize(n);
  tokens->starts = std::span<const uint32_t>(impl.structural_indexes.get(), n);
  tokens->closes = std::span<const uint32_t>(closes->data(), n);
  return ValidateTokens(text, tokens->starts, closes->data(), &tokens->minified);
}

}  // namespace kube::internal::json
