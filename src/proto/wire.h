// Protobuf wire primitives over untrusted bytes: every read checks the end of its buffer.
#ifndef KUBE_SRC_PROTO_WIRE_H_
#define KUBE_SRC_PROTO_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kube::internal::proto {

inline constexpr uint8_t kVarint = 0;
inline constexpr uint8_t kFixed64 = 1;
inline constexpr uint8_t kBytes = 2;
inline constexpr uint8_t kFixed32 = 5;
inline constexpr uint64_t kMaxFieldNumber = (uint64_t{1} << 29) - 1;

// Reads a varint at `*p` (before `end`). Returns false when it is truncated or longer than 10
// bytes, or when its tenth byte carries bits beyond 64.
inline bool ReadVarint(const uint8_t** p, const uint8_t* end, uint64_t* v) {
  const uint8_t* q = *p;
  if (q < end && *q < 0x80) {
    *v = *q;
    *p = q + 1;
    return true;
  }
  uint64_t r = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (q >= end) return false;
    uint8_t b = *q++;
    if (shift == 63 && b > 1) return false;
    r |= uint64_t{b & 0x7Fu} << shift;
    if (b < 0x80) {
      *v = r;
      *p = q;
      return true;
    }
  }
  return false;
}

// One field of a message.
struct WireField {
  uint32_t number = 0;
  uint8_t wire = 0;
  uint64_t value = 0;              // varint value, fixed64/fixed32 bits, or length
  const uint8_t* data = nullptr;   // kBytes: the payload
  const uint8_t* start = nullptr;  // the field's key
};

enum class WireError { kNone, kTruncated, kBadVarint, kBadLength, kBadWireType, kBadNumber };

inline const char* WireErrorText(WireError e) {
  switch (e) {
    case WireError::kNone:
      return "ok";
    case WireError::kTruncated:
      return "message truncated";
    case WireError::kBadVarint:
      return "malformed or truncated varint";
    case WireError::kBadLength:
      return "length points past the end of the message";
    case WireError::kBadWireType:
      return "unsupported wire type (groups are not used by Kubernetes)";
    case WireError::kBadNumber:
      return "illegal field number";
  }
  return "?";
}

// Reads the field at `*p`; advances past it.
inline WireError ReadField(const uint8_t** p, const uint8_t* end, WireField* f) {
  f->start = *p;
  uint64_t key;
  if (!ReadVarint(p, end, &key)) return WireError::kBadVarint;
  uint64_t number = key >> 3;
  if (number == 0 || number > kMaxFieldNumber) return WireError::kBadNumber;
  f->number = static_cast<uint32_t>(number);
  f->wire = static_cast<uint8_t>(key & 7);
  switch (f->wire) {
    case kVarint:
      if (!ReadVarint(p, end, &f->value)) return WireError::kBadVarint;
      return WireError::kNone;
    case kFixed64: {
      if (end - *p < 8) return WireError::kTruncated;
      uint64_t v = 0;
      for (int i = 7; i >= 0; --i) v = (v << 8) | (*p)[i];
      f->value = v;
      *p += 8;
      return WireError::kNone;
    }
    case kBytes: {
      if (!ReadVarint(p, end, &f->value)) return WireError::kBadVarint;
      if (f->value > static_cast<uint64_t>(end - *p)) return WireError::kBadLength;
      f->data = *p;
      *p += f->value;
      return WireError::kNone;
    }
    case kFixed32: {
      if (end - *p < 4) return WireError::kTruncated;
      uint32_t v = 0;
      for (int i = 3; i >= 0; --i) v = (v << 8) | (*p)[i];
      f->value = v;
      *p += 4;
      return WireError::kNone;
    }
    default:
      return WireError::kBadWireType;
  }
}

inline void PutVarint(uint64_t v, std::string* out) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

inline size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

inline void PutTag(uint32_t number, uint8_t wire, std::string* out) {
  PutVarint((uint64_t{number} << 3) | wire, out);
}

inline void PutBytesField(uint32_t number, std::string_view payload, std::string* out) {
  PutTag(number, kBytes, out);
  PutVarint(payload.size(), out);
  out->append(payload);
}

inline std::string_view AsView(const uint8_t* p, size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

}  // namespace kube::internal::proto

#endif  // KUBE_SRC_PROTO_WIRE_H_
