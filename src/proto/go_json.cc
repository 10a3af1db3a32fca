#include "proto/go_json.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace kube::internal::proto {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Bytes encoding/json writes as they are: printable ASCII other than `"` `\` `<` `>` `&`.
constexpr bool IsPlain(unsigned char c) {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&';
}

struct PlainTable {
  bool v[256];
  constexpr PlainTable() : v() {
    for (int i = 0; i < 256; ++i) v[i] = IsPlain(static_cast<unsigned char>(i));
  }
};
constexpr PlainTable kPlain;

// The length of the valid UTF-8 sequence at `p` (at most `n` bytes), or 0 when invalid; the same
// acceptance as Go's utf8.DecodeRune.
size_t Utf8Length(const unsigned char* p, size_t n) {
  unsigned char c = p[0];
  auto cont = [&](size_t i, unsigned char lo, unsigned char hi) {
    return i < n && p[i] >= lo && p[i] <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF) return cont(1, 0x80, 0xBF) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
    unsigned char hi = c == 0xED ? 0x9F : 0xBF;
    return cont(1, lo, hi) && cont(2, 0x80, 0xBF) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
    unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;
    return cont(1, lo, hi) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

void AppendEscapedByte(unsigned char c, std::string* out) {
  switch (c) {
    case '"':
      out->append("\\\"");
      return;
    case '\\':
      out->append("\\\\");
      return;
    case '\b':
      out->append("\\b");
      return;
    case '\f':
      out->append("\\f");
      return;
    case '\n':
      out->append("\\n");
      return;
    case '\r':
      out->append("\\r");
      return;
    case '\t':
      out->append("\\t");
      return;
    default: {
      char buf[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out->append(buf, 6);
    }
  }
}

}  // namespace

void AppendGoString(std::string_view s, std::string* out) {
  out->push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t start = 0;
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (kPlain.v[c]) {
      ++i;
      continue;
    }
    if (c < 0x80) {
      out->append(s.data() + start, i - start);
      AppendEscapedByte(c, out);
      start = ++i;
      continue;
    }
    size_t len = Utf8Length(p + i, n - i);
    if (len == 0) {
      out->append(s.data() + start, i - start);
      out->append("\\ufffd");
      start = ++i;
      continue;
    }
    if (len == 3 && c == 0xE2 && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9)) {
      out->append(s.data() + start, i - start);
      out->append(p[i + 2] == 0xA8 ? "\\u2028" : "\\u2029");
      i += 3;
      start = i;
      continue;
    }
    i += len;
  }
  out->append(s.data() + start, n - start);
  out->push_back('"');
}

bool AppendGoFloat(double v, std::string* out) {
  if (!std::isfinite(v)) return false;
  char buf[64];
  double a = std::fabs(v);
  bool exp = a != 0 && (a < 1e-6 || a >= 1e21);
  auto r = std::to_chars(buf, buf + sizeof(buf), v,
                         exp ? std::chars_format::scientific : std::chars_format::fixed);
  size_t n = static_cast<size_t>(r.ptr - buf);
  if (exp && n >= 4 && buf[n - 4] == 'e' && buf[n - 3] == '-' && buf[n - 2] == '0') {
    buf[n - 2] = buf[n - 1];
    --n;
  }
  out->append(buf, n);
  return true;
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, static_cast<size_t>(r.ptr - buf));
}

void AppendGoDuration(int64_t d, std::string* out) {
  // The digits are built from the right, as Go does.
  char buf[32];
  size_t w = sizeof(buf);
  uint64_t u = d < 0 ? 0 - static_cast<uint64_t>(d) : static_cast<uint64_t>(d);
  auto put_int = [&](uint64_t v) {
    if (v == 0) {
      buf[--w] = '0';
      return;
    }
    while (v > 0) {
      buf[--w] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  };
  // Writes the fraction of `v` with `prec` digits, trailing zeros removed; returns v / 10^prec.
  auto put_frac = [&](uint64_t v, int prec) {
    bool print = false;
    for (int i = 0; i < prec; ++i) {
      uint64_t digit = v % 10;
      print = print || digit != 0;
      if (print) buf[--w] = static_cast<char>('0' + digit);
      v /= 10;
    }
    if (print) buf[--w] = '.';
    return v;
  };
  if (u < 1000000000ULL) {
    if (u == 0) {
      out->append("0s");
      return;
    }
    int prec;
    buf[--w] = 's';
    if (u < 1000) {
      prec = 0;
      buf[--w] = 'n';
    } else if (u < 1000000) {
      prec = 3;
      // "µ" is U+00B5.
      buf[--w] = static_cast<char>(0xB5);
      buf[--w] = static_cast<char>(0xC2);
    } else {
      prec = 6;
      buf[--w] = 'm';
    }
    u = put_frac(u, prec);
    put_int(u);
  } else {
    buf[--w] = 's';
    u = put_frac(u, 9);
    put_int(u % 60);
    u /= 60;
    if (u > 0) {
      buf[--w] = 'm';
      put_int(u % 60);
      u /= 60;
      if (u > 0) {
        buf[--w] = 'h';
        put_int(u);
      }
    }
  }
  if (d < 0) buf[--w] = '-';
  out->append(buf + w, sizeof(buf) - w);
}

bool ParseGoDuration(std::string_view s, int64_t* nanos) {
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") {
    *nanos = 0;
    return true;
  }
  if (s.empty()) return false;
  constexpr uint64_t kMax = uint64_t{1} << 63;
  uint64_t total = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || (s[0] >= '0' && s[0] <= '9'))) return false;
    uint64_t whole = 0;
    size_t i = 0;
    bool any = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (whole > (kMax - 9) / 10) return false;
      whole = whole * 10 + static_cast<uint64_t>(s[i] - '0');
      ++i;
      any = true;
    }
    uint64_t frac = 0;
    double scale = 1;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (frac <= (kMax - 9) / 10) {
          frac = frac * 10 + static_cast<uint64_t>(s[i] - '0');
          scale *= 10;
        }
        ++i;
        any = true;
      }
    }
    if (!any) return false;
    size_t u = i;
    while (u < s.size() && s[u] != '.' && (s[u] < '0' || s[u] > '9')) ++u;
    std::string_view unit = s.substr(i, u - i);
    uint64_t mult;
    if (unit == "ns") {
      mult = 1;
    } else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {
      mult = 1000;
    } else if (unit == "ms") {
      mult = 1000000;
    } else if (unit == "s") {
      mult = 1000000000ULL;
    } else if (unit == "m") {
      mult = 60000000000ULL;
    } else if (unit == "h") {
      mult = 3600000000000ULL;
    } else {
      return false;
    }
    if (whole > kMax / mult) return false;
    uint64_t v = whole * mult;
    if (frac > 0)
      v += static_cast<uint64_t>(static_cast<double>(frac) * (static_cast<double>(mult) / scale));
    if (v > kMax || total > kMax - v) return false;
    total += v;
    s.remove_prefix(u);
  }
  if (total == kMax && !neg) return false;
  *nanos = neg ? static_cast<int64_t>(0 - total) : static_cast<int64_t>(total);
  return true;
}

namespace {

// Whether the 8 bytes at `p` are all copied as they are inside a string: printable ASCII other than
// `"` and `\`, and, when `html` (the output escapes them), other than `<` `>` `&`.
inline bool PlainWord(const unsigned char* p, bool html) {
  constexpr uint64_t k01 = 0x0101010101010101ULL;
  constexpr uint64_t k80 = 0x8080808080808080ULL;
  uint64_t w;
  std::memcpy(&w, p, 8);
  auto has_zero = [](uint64_t v) { return (v - k01) & ~v & k80; };
  uint64_t bad = (w & k80) | ((w - k01 * 0x20) & ~w & k80) | has_zero(w ^ (k01 * '"')) |
                 has_zero(w ^ (k01 * '\\'));
  if (html)
    bad |= has_zero(w ^ (k01 * '<')) | has_zero(w ^ (k01 * '>')) | has_zero(w ^ (k01 * '&'));
  return bad == 0;
}

// AppendCompactJson, and with `kOut` false the same checks writing nothing (`out` unused).
template <bool kOut>
Status CompactJson(std::string_view raw, std::string_view what, std::string* out) {
  // One pass: validate the grammar, copy tokens, drop whitespace, escape inside strings.
  const auto* begin = reinterpret_cast<const unsigned char*>(raw.data());
  const unsigned char* p = begin;
  const unsigned char* end = begin + raw.size();
  const size_t start_size = kOut ? out->size() : 0;
  auto fail = [&](std::string_view why) {
    if constexpr (kOut) out->resize(start_size);
    return InvalidArgumentError(std::string(what) + " is not JSON: " + std::string(why) +
                                " at byte " + std::to_string(p - begin));
  };
  constexpr size_t kMaxJsonDepth = 1000;
  char stack[kMaxJsonDepth];
  size_t depth = 0;
  enum { kValue, kArrayFirst, kObjectFirst, kKey, kColon, kCommaOrClose, kDone } expect = kValue;
  if constexpr (kOut) out->reserve(start_size + raw.size());
  auto digits = [&]() {
    const unsigned char* q = p;
    while (p < end && *p >= '0' && *p <= '9') ++p;
    return p > q;
  };
  // Copies the string whose quote is at `p`.
  auto string = [&]() -> bool {
    const unsigned char* run = p;
    ++p;
    while (p < end) {
      while (end - p >= 8 && PlainWord(p, kOut)) p += 8;
      if (p == end) break;
      unsigned char c = *p;
      if (kPlain.v[c]) {
        ++p;
        continue;
      }
      if (c == '"') {
        ++p;
        if constexpr (kOut)
          out->append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
        return true;
      }
      if (c == '\\') {
        if (p + 1 >= end) return false;
        unsigned char e = p[1];
        if (e == 'u') {
          if (end - p < 6) return false;
          for (int i = 2; i < 6; ++i) {
            if (!std::isxdigit(p[i])) return false;
          }
          p += 6;
        } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                   e == 'r' || e == 't') {
          p += 2;
        } else {
          return false;
        }
        continue;
      }
      if (c < 0x20) return false;
      if (c < 0x80) {  // < > &
        if constexpr (kOut)
          out->append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
        char buf[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        if constexpr (kOut) out->append(buf, 6);
        run = ++p;
        continue;
      }
      size_t len = Utf8Length(p, static_cast<size_t>(end - p));
      if (len == 0) return false;
      if (len == 3 && c == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
        if constexpr (kOut)
          out->append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
        if constexpr (kOut) out->append(p[2] == 0xA8 ? "\\u2028" : "\\u2029");
        p += 3;
        run = p;
        continue;
      }
      p += len;
    }
    return false;
  };
  while (true) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) ++p;
    if (p == end) break;
    unsigned char c = *p;
    if (expect == kDone) return fail("data after the value");
    if (expect == kColon) {
      if (c != ':') return fail("want ':'");
      if constexpr (kOut) out->push_back(':');
      ++p;
      expect = kValue;
      continue;
    }
    if (expect == kCommaOrClose) {
      char open = stack[depth - 1];
      if (c == ',') {
        if constexpr (kOut) out->push_back(',');
        ++p;
        expect = open == '{' ? kKey : kValue;
        continue;
      }
      if (c != (open == '{' ? '}' : ']')) return fail("want ',' or a closing bracket");
      if constexpr (kOut) out->push_back(static_cast<char>(c));
      ++p;
      --depth;
      expect = depth == 0 ? kDone : kCommaOrClose;
      continue;
    }
    if (expect == kObjectFirst || expect == kKey) {
      if (expect == kObjectFirst && c == '}') {
        if constexpr (kOut) out->push_back('}');
        ++p;
        --depth;
        expect = depth == 0 ? kDone : kCommaOrClose;
        continue;
      }
      if (c != '"') return fail("want a member name");
      if (!string()) return fail("bad string");
      expect = kColon;
      continue;
    }
    // A value.
    if (expect == kArrayFirst && c == ']') {
      if constexpr (kOut) out->push_back(']');
      ++p;
      --depth;
      expect = depth == 0 ? kDone : kCommaOrClose;
      continue;
    }
    if (c == '{' || c == '[') {
      if (depth == kMaxJsonDepth) return fail("nesting too deep");
      stack[depth++] = static_cast<char>(c);
      if constexpr (kOut) out->push_back(static_cast<char>(c));
      ++p;
      expect = c == '{' ? kObjectFirst : kArrayFirst;
      continue;
    }
    if (c == '"') {
      if (!string()) return fail("bad string");
    } else if (c == 't' || c == 'f' || c == 'n') {
      std::string_view lit = c == 't' ? "true" : c == 'f' ? "false" : "null";
      if (static_cast<size_t>(end - p) < lit.size() ||
          std::memcmp(p, lit.data(), lit.size()) != 0) {
        return fail("bad literal");
      }
      if constexpr (kOut) out->append(lit);
      p += lit.size();
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      const unsigned char* q = p;
      if (*p == '-') ++p;
      if (p < end && *p == '0') {
        ++p;
      } else if (!digits()) {
        return fail("bad number");
      }
      if (p < end && *p == '.') {
        ++p;
        if (!digits()) return fail("bad number");
      }
      if (p < end && (*p == 'e' || *p == 'E')) {
        ++p;
        if (p < end && (*p == '+' || *p == '-')) ++p;
        if (!digits()) return fail("bad number");
      }
      if constexpr (kOut) out->append(reinterpret_cast<const char*>(q), static_cast<size_t>(p - q));
    } else {
      return fail("unexpected character");
    }
    expect = depth == 0 ? kDone : kCommaOrClose;
  }
  if (expect != kDone) {
    return fail(raw.empty() ? "empty" : "unexpected end");
  }
  return Status();
}

}  // namespace

Status AppendCompactJson(std::string_view raw, std::string_view what, std::string* out) {
  return CompactJson<true>(raw, what, out);
}

Status CheckCompactJson(std::string_view raw, std::string_view what) {
  return CompactJson<false>(raw, what, nullptr);
}

}  // namespace kube::internal::proto
