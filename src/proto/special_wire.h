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

}  // namespace kube::internal::proto

#endif  // KUBE_PROTO_SPECIAL_WIRE_H_
