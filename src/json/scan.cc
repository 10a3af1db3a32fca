#include "json/scan.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace kube::internal::json {

size_t SkipString(std::string_view text, size_t pos) {
  // A quote closes the string unless an odd run of backslashes precedes it. memchr finds quotes
  // with SIMD, which pays off because most of a Kubernetes object's bytes sit inside strings.
  const char* data = text.data();
  const size_t n = text.size();
  size_t from = pos + 1;
  while (from < n) {
    const void* hit = std::memchr(data + from, '"', n - from);
    if (hit == nullptr) return kNpos;
    size_t q = static_cast<const char*>(hit) - data;
    size_t b = q;
    while (b > pos + 1 && data[b - 1] == '\\') --b;
    if ((q - b) % 2 == 0) return q + 1;
    from = q + 1;
  }
  return kNpos;
}

namespace {

bool IsDelimiter(char c) { return c == ',' || c == '}' || c == ']' || c == ':' || IsSpace(c); }

// Bit i of each mask describes byte i of a 64-byte block.
struct BlockMasks {
  uint64_t quote = 0;
  uint64_t backslash = 0;
  uint64_t open = 0;   // '{' or '['
  uint64_t close = 0;  // '}' or ']'
};

BlockMasks Classify(const char* block) {
  BlockMasks m;
#if defined(__SSE2__)
  // SSE2 is part of x86-64 itself: no run-time dispatch needed. '{' and '[' differ only in bit
  // 0x20, as do '}' and ']'.
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i bit5 = _mm_set1_epi8(0x20);
  const __m128i open = _mm_set1_epi8('{');
  const __m128i close = _mm_set1_epi8('}');
  for (int i = 0; i < 4; ++i) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 16 * i));
    __m128i folded = _mm_or_si128(v, bit5);
    auto bits = [&](__m128i eq) {
      return static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(eq))) << (16 * i);
    };
    m.quote |= bits(_mm_cmpeq_epi8(v, quote));
    m.backslash |= bits(_mm_cmpeq_epi8(v, backslash));
    m.open |= bits(_mm_cmpeq_epi8(folded, open));
    m.close |= bits(_mm_cmpeq_epi8(folded, close));
  }
#else
  for (int i = 0; i < 64; ++i) {
    const uint64_t bit = uint64_t{1} << i;
    const char c = block[i];
    if (c == '"') m.quote |= bit;
    if (c == '\\') m.backslash |= bit;
    if (c == '{' || c == '[') m.open |= bit;
    if (c == '}' || c == ']') m.close |= bit;
  }
#endif
  return m;
}

// Without -mpopcnt, __builtin_popcountll is a library call; this is inline.
int PopCount(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ULL);
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return static_cast<int>((x * 0x0101010101010101ULL) >> 56);
}

// Bit i of the result is the XOR of bits 0..i of x.
uint64_t PrefixXor(uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

// SkipValue for an object or array: 64 bytes at a time, the way simdjson's stage 1 finds
// strings (quote bits, less escaped ones, prefix-XORed into a mask of string bytes). Brackets
// outside strings change the depth; a block whose closing brackets cannot bring the depth to
// zero is passed with two popcounts, so only the last block of a value is walked bit by bit.
size_t SkipContainer(std::string_view text, size_t pos) {
  const char* base = text.data() + pos;
  const size_t size = text.size() - pos;
  uint64_t in_string = 0;     // all ones when a string continues into the next block
  uint64_t escape_carry = 0;  // 1 when the next block's first byte is escaped
  size_t depth = 0;
  for (size_t off = 0; off < size; off += 64) {
    const char* block = base + off;
    __builtin_prefetch(block + 1024);
    char tail[64];
    if (size - off < 64) {
      std::memset(tail, ' ', sizeof tail);
      std::memcpy(tail, block, size - off);
      block = tail;
    }
    const BlockMasks m = Classify(block);
    uint64_t escaped = escape_carry;
    escape_carry = 0;
    for (uint64_t b = m.backslash; b != 0; b &= b - 1) {
      const int i = __builtin_ctzll(b);
      if ((escaped >> i) & 1) continue;  // an escaped backslash escapes nothing
      if (i == 63) {
        escape_carry = 1;
      } else {
        escaped |= uint64_t{1} << (i + 1);
      }
    }
    const uint64_t strings = PrefixXor(m.quote & ~escaped) ^ in_string;
    in_string = static_cast<uint64_t>(static_cast<int64_t>(strings) >> 63);
    const uint64_t open = m.open & ~strings;
    const uint64_t close = m.close & ~strings;
    const size_t closes = static_cast<size_t>(PopCount(close));
    if (closes < depth) {
      depth = depth + static_cast<size_t>(PopCount(open)) - closes;
      continue;
    }
    for (uint64_t e = open | close; e != 0; e &= e - 1) {
      const int i = __builtin_ctzll(e);
      if ((open >> i) & 1) {
        ++depth;
      } else if (--depth == 0) {
        return pos + off + static_cast<size_t>(i) + 1;
      }
    }
  }
  return kNpos;
}

}  // namespace

size_t SkipValue(std::string_view text, size_t pos) {
  const size_t n = text.size();
  if (pos >= n) return kNpos;
  char c = text[pos];
  if (c == '"') return SkipString(text, pos);
  if (c != '{' && c != '[') {
    size_t i = pos;
    while (i < n && !IsDelimiter(text[i])) ++i;
    return i == pos ? kNpos : i;
  }
  return SkipContainer(text, pos);
}

JsonType TypeOf(std::string_view value) {
  if (value.empty()) return JsonType::kNull;
  switch (value[0]) {
    case '"':
      return JsonType::kString;
    case '{':
      return JsonType::kObject;
    case '[':
      return JsonType::kArray;
    case 't':
    case 'f':
      return JsonType::kBool;
    case 'n':
      return JsonType::kNull;
    default:
      return value.find_first_of(".eE") == std::string_view::npos ? JsonType::kInt
                                                                  : JsonType::kDouble;
  }
}

std::string_view TypeWithArticle(JsonType t) {
  switch (t) {
    case JsonType::kNull:
      return "null";
    case JsonType::kBool:
      return "a boolean";
    case JsonType::kInt:
      return "an integer";
    case JsonType::kDouble:
      return "a double";
    case JsonType::kString:
      return "a string";
    case JsonType::kArray:
      return "an array";
    case JsonType::kObject:
      return "an object";
  }
  return "unknown";
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads 4 hex digits at body[i..i+4); -1 when they are not there.
int32_t ReadHex4(std::string_view body, size_t i) {
  if (i + 4 > body.size()) return -1;
  int32_t v = 0;
  for (size_t k = 0; k < 4; ++k) {
    int h = HexValue(body[i + k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

void AppendUnescaped(std::string_view body, std::string* out) {
  size_t i = 0;
  while (i < body.size()) {
    size_t bs = body.find('\\', i);
    if (bs == std::string_view::npos) {
      out->append(body.substr(i));
      return;
    }
    out->append(body.substr(i, bs - i));
    if (bs + 1 >= body.size()) return;  // cannot happen in a valid literal
    char e = body[bs + 1];
    i = bs + 2;
    switch (e) {
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'u': {
        int32_t cp = ReadHex4(body, i);
        if (cp < 0) {
          AppendUtf8(0xFFFD, out);
          break;
        }
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          int32_t lo = -1;
          if (i + 6 <= body.size() && body[i] == '\\' && body[i + 1] == 'u') {
            lo = ReadHex4(body, i + 2);
          }
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            i += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else {
            cp = 0xFFFD;
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          cp = 0xFFFD;
        }
        AppendUtf8(static_cast<uint32_t>(cp), out);
        break;
      }
      default:
        out->push_back(e);
        break;  // '"', '\\', '/'
    }
  }
}

bool NeedsEscaping(std::string_view s) {
  for (char c : s) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

namespace {

// The escape for a byte that needs one: a short form, or "" for \u00XX.
std::string_view ShortEscape(char c) {
  switch (c) {
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    case '\b':
      return "\\b";
    case '\f':
      return "\\f";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    default:
      return "";
  }
}

}  // namespace

char* WriteQuoted(std::string_view s, char* out) {
  *out++ = '"';
  for (char c : s) {
    if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) {
      *out++ = c;
      continue;
    }
    std::string_view e = ShortEscape(c);
    if (!e.empty()) {
      out = std::copy(e.begin(), e.end(), out);
      continue;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    unsigned char u = static_cast<unsigned char>(c);
    *out++ = '\\';
    *out++ = 'u';
    *out++ = '0';
    *out++ = '0';
    *out++ = kHex[u >> 4];
    *out++ = kHex[u & 0xF];
  }
  *out++ = '"';
  return out;
}

void AppendQuoted(std::string_view s, std::string* out) {
  size_t old = out->size();
  out->resize(old + QuotedSize(s));
  WriteQuoted(s, out->data() + old);
}

size_t QuotedSize(std::string_view s) {
  size_t n = 2;
  for (char c : s) {
    if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) {
      ++n;
    } else {
      n += ShortEscape(c).empty() ? 6 : 2;
    }
  }
  return n;
}

bool KeyEquals(std::string_view body, std::string_view key) {
  if (body.find('\\') == std::string_view::npos) return body == key;
  std::string decoded;
  AppendUnescaped(body, &decoded);
  return decoded == key;
}

}  // namespace kube::internal::json
