#include "base/strings.h"

#include <cstdint>
#include <system_error>

namespace kube::internal {
namespace {

constexpr char kStdAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// The value of a standard-alphabet character, or -1.
int StdValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view Trim(std::string_view s, std::string_view chars) {
  size_t b = s.find_first_not_of(chars);
  if (b == std::string_view::npos) return s.substr(s.size());
  return s.substr(b, s.find_last_not_of(chars) - b + 1);
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

std::string ErrnoText(int e) { return std::error_code(e, std::generic_category()).message(); }

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  AppendBase64(bytes, &out);
  return out;
}

void AppendBase64(std::string_view bytes, std::string* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  size_t at = out->size();
  out->resize(at + (n + 2) / 3 * 4);
  char* o = out->data() + at;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    *o++ = kStdAlphabet[v >> 18];
    *o++ = kStdAlphabet[(v >> 12) & 63];
    *o++ = kStdAlphabet[(v >> 6) & 63];
    *o++ = kStdAlphabet[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = uint32_t{p[i]} << 16;
    *o++ = kStdAlphabet[v >> 18];
    *o++ = kStdAlphabet[(v >> 12) & 63];
    *o++ = '=';
    *o++ = '=';
  } else if (n - i == 2) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    *o++ = kStdAlphabet[v >> 18];
    *o++ = kStdAlphabet[(v >> 12) & 63];
    *o++ = kStdAlphabet[(v >> 6) & 63];
    *o++ = '=';
  }
}

bool DecodeBase64(std::string_view text, std::string* out, size_t* bad_at, bool strict) {
  auto fail = [bad_at](size_t at) {
    if (bad_at != nullptr) *bad_at = at;
    return false;
  };
  uint32_t acc = 0;
  int pending = 0;  // sextets in `acc`
  int padding = 0;
  size_t significant = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r' || c == '\n') continue;
    ++significant;
    if (c == '=') {
      if (++padding > 2) return fail(i);
      continue;
    }
    int v = StdValue(c);
    if (padding > 0 || v < 0) return fail(i);
    acc = (acc << 6) | static_cast<uint32_t>(v);
    if (++pending == 4) {
      out->push_back(static_cast<char>((acc >> 16) & 0xff));
      out->push_back(static_cast<char>((acc >> 8) & 0xff));
      out->push_back(static_cast<char>(acc & 0xff));
      acc = 0;
      pending = 0;
    }
  }
  if (significant % 4 != 0 || (padding == 1 && pending != 3) || (padding == 2 && pending != 2) ||
      (padding == 0 && pending != 0)) {
    return fail(text.size());
  }
  if (pending == 3) {
    if (strict && (acc & 0x3) != 0) return fail(text.size());
    out->push_back(static_cast<char>((acc >> 10) & 0xff));
    out->push_back(static_cast<char>((acc >> 2) & 0xff));
  } else if (pending == 2) {
    if (strict && (acc & 0xf) != 0) return fail(text.size());
    out->push_back(static_cast<char>((acc >> 4) & 0xff));
  }
  return true;
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kUrlAlphabet[(acc >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += kUrlAlphabet[(acc << (6 - bits)) & 0x3f];
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    int v = c == '-' ? 62 : c == '_' ? 63 : StdValue(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace kube::internal
