// The wire layout of the special types' messages (Time, IntOrString, ...), shared by the eager
// transcoder (decoder.cc) and the lazy object decoder (object_decoder.cc).
#ifndef KUBE_PROTO_SPECIAL_WIRE_H_
#define KUBE_PROTO_SPECIAL_WIRE_H_

#include <cstdint>

#include "proto/schema.h"
#include "proto/wire.h"

namespace kube::internal::proto {

// How many leading field numbers a special type's message defines; higher numbers are unknown
// fields and skipped.
constexpr uint32_t SpecialKnownFields(Special s) {
  switch (s) {
    case Special::kIntOrString:
      return 3;
    case Special::kTime:
    case Special::kMicroTime:
    case Special::kOrBool:
    case Special::kOrArray:
    case Special::kOrStringArray:
    case Special::kGroupVersion:
      return 2;
    default:
      return 1;
  }
}

// The wire type field `number` (one of the known ones) of a special type's message has.
constexpr uint8_t SpecialWireType(Special s, uint32_t number) {
  switch (s) {
    case Special::kTime:
    case Special::kMicroTime:
    case Special::kDuration:
      return kVarint;
    case Special::kIntOrString:
      return number == 3 ? kBytes : kVarint;
    case Special::kOrBool:
      return number == 1 ? kVarint : kBytes;
    default:
      return kBytes;
  }
}

// Unix seconds of Go's zero time (0001-01-01T00:00:00Z, written in JSON as `null`), and of
// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range of times RFC 3339 text carries.
inline constexpr int64_t kGoZeroUnix = -62135596800;
inline constexpr int64_t kYear0Unix = -62167219200;
inline constexpr int64_t kYear9999EndUnix = 253402300799;

// A Time's or MicroTime's message fields ({1: seconds, 2: nanos}) as Go's time.Unix reads them:
// nanos normalised into [0, 1e9); a Time keeps whole seconds (its nanos are dropped).
struct UnixTime {
  int64_t secs = 0;
  int64_t nanos = 0;
};
constexpr UnixTime ReadUnixTime(Special s, uint64_t seconds, uint64_t nanos) {
  UnixTime t{static_cast<int64_t>(seconds),
             s == Special::kTime ? 0 : static_cast<int32_t>(static_cast<uint32_t>(nanos))};
  t.secs += t.nanos / 1000000000;
  t.nanos %= 1000000000;
  if (t.nanos < 0) {
    t.nanos += 1000000000;
    --t.secs;
  }
  return t;
}

// Whether JSON carries `t`: years 0 to 9999 (AppendRfc3339's range), or the zero time, taken as
// `null` below one microsecond past it (JSON cannot carry the difference).
constexpr bool IsZeroUnixTime(const UnixTime& t) {
  return t.secs == kGoZeroUnix && t.nanos / 1000 == 0;
}
constexpr bool JsonCarriesUnixTime(const UnixTime& t) {
  return (t.secs >= kYear0Unix && t.secs <= kYear9999EndUnix) || IsZeroUnixTime(t);
}

}  // namespace kube::internal::proto

#endif  // KUBE_PROTO_SPECIAL_WIRE_H_
