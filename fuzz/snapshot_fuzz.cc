// Fuzzes the cache snapshot reader (src/cache/snapshot.h): `DecodeSnapshot` on any bytes.
//
// Input: the first byte picks the mode. Mode 0: the rest is a whole snapshot file. Mode 1: the
// rest is a payload, which the target wraps in a valid header and trailer (its size and CRC-32),
// so the fuzzer reaches the payload's fields past the checksum; bit 1 of the mode byte sets the
// identity and resource the reader expects.
//
// Invariants: no crash and no exception; a refusal names its reason (`SnapshotRefusal` is not
// kNone) with kDataLoss or kInvalidArgument; an accepted snapshot encodes again (compressed or
// not) to a snapshot that decodes to the same header and objects.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cache/snapshot.h"
#include "fuzz/fuzz_check.h"

namespace {

using kube::internal::DecodeSnapshot;
using kube::internal::EncodeSnapshotToString;
using kube::internal::Snapshot;
using kube::internal::SnapshotRefusal;

uint32_t Crc32(std::string_view data) {
  uint32_t crc = 0xffffffffu;
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return crc ^ 0xffffffffu;
}

void PutLe(std::string* out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::string Wrap(std::string_view payload) {
  std::string out("KINFSNAP");
  PutLe(&out, 1, 4);  // version
  PutLe(&out, 0, 4);  // flags: stored as is
  out.append(payload);
  PutLe(&out, payload.size(), 8);
  PutLe(&out, Crc32(payload), 4);
  out.append("SNPE");
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = kube::fuzz::AsText(data, size);
  const uint8_t mode = kube::fuzz::TakeByte(&input);
  const std::string bytes = (mode & 1) != 0 ? Wrap(input) : std::string(input);
  kube::internal::SnapshotExpectation expect;
  if ((mode & 2) != 0) expect = {"server", "v1/pods"};
  SnapshotRefusal why = SnapshotRefusal::kNone;
  kube::Result<Snapshot> snap = DecodeSnapshot(bytes, expect, &why);
  if (!snap) {
    FUZZ_CHECK(why != SnapshotRefusal::kNone,
               "a refusal without a reason: " + snap.error().message());
    FUZZ_CHECK(snap.error().code() == kube::StatusCode::kDataLoss ||
                   snap.error().code() == kube::StatusCode::kInvalidArgument,
               "unexpected code: " + snap.error().ToString());
    return 0;
  }
  FUZZ_CHECK(why == SnapshotRefusal::kNone, "accepted with a refusal reason");
  for (bool compress : {false, true}) {
    std::string again = EncodeSnapshotToString(snap->header, snap->objects, compress);
    kube::Result<Snapshot> back = DecodeSnapshot(again, expect);
    FUZZ_CHECK(back.has_value(), "a re-encoded snapshot is refused: " + back.error().message());
    FUZZ_CHECK(back->header.identity == snap->header.identity &&
                   back->header.resource == snap->header.resource &&
                   back->header.resource_version == snap->header.resource_version,
               "the header changes on re-encoding");
    FUZZ_CHECK(back->objects.size() == snap->objects.size(), "the object count changes");
    for (size_t i = 0; i < back->objects.size(); ++i) {
      FUZZ_CHECK(back->objects[i]->json() == snap->objects[i]->json(),
                 "an object changes on re-encoding");
    }
  }
  return 0;
}
