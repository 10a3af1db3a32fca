// Cache snapshots: an informer's cache on disk, with the resourceVersion it is consistent with and
// the identity of the server it came from, so a restarted informer resumes its watch instead of
// listing (docs/informers.md, "Warm restarts from a snapshot").
//
// Reads from: the informer's indexer (a copy of its `ObjectPtr`s, taken under the store's lock).
// Feeds: the informer at start (its indexer, then the reflector's resumed watch).
// client-go: none (client-go informers always list at start).
//
// The format (version 1), all integers little-endian:
//
//   "KINFSNAP"  u32 version  u32 flags            16 bytes; flag bit 0: the payload is zlib
//   payload                                      deflate (else stored as is)
//   u64 payload_size  u32 crc32  "SNPE"           16 bytes; the size and CRC-32 (zlib's) of the
//                                                 payload as decoded (after inflating)
//
// The payload: `identity`, `resource`, `resource_version` (each u32 length + bytes), u64 object
// count, then per object a u8 encoding (0 JSON; 1 protobuf with `kind`/`apiVersion` members;
// 2 protobuf with them spliced, as a list item) and, for protobuf, `apiVersion` and `kind`
// (u32 length + bytes), then the body (u32 length + bytes): the object's JSON, or its protobuf
// message. Objects decoded from protobuf are written as protobuf and come back keeping it.
//
// Input is untrusted: every length is checked against what is left and against the limits
// below; any mismatch is refused with a `SnapshotRefusal` saying which, never a crash.
#ifndef KUBE_SRC_CACHE_SNAPSHOT_H_
#define KUBE_SRC_CACHE_SNAPSHOT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "kube/object.h"
#include "kube/status.h"

namespace kube::internal {

inline constexpr uint32_t kSnapshotVersion = 1;
// Refused above this decoded payload size (the whole cache, decoded).
inline constexpr uint64_t kMaxSnapshotPayloadBytes = uint64_t{16} << 30;
// Refused above this size for one object's body.
inline constexpr uint32_t kMaxSnapshotObjectBytes = uint32_t{64} << 20;

// Why a snapshot was refused: each kind of damage or mismatch has its own value, for tests and
// for the one warning the informer logs.
enum class SnapshotRefusal : uint8_t {
  kNone = 0,
  kMissing,             // no file (the first start): not a warning
  kUnreadable,          // the file exists but cannot be read
  kBadMagic,            // not a snapshot (wrong leading or trailing magic)
  kUnsupportedVersion,  // a snapshot of another format version
  kTruncated,           // shorter than its own lengths say
  kOversized,           // a length beyond the limits above, or larger than the file allows
  kChecksumMismatch,    // the CRC-32 of the payload differs
  kCorrupt,             // the payload does not parse (bad encoding byte, bad deflate stream)
  kBadObject,           // an object body that does not decode
  kWrongResource,       // written for another resource (or namespace, or selector)
  kWrongServer,         // written from another server or cluster
};
std::string_view SnapshotRefusalName(SnapshotRefusal refusal);

struct SnapshotHeader {
  std::string identity;          // the server (and cluster) the cache came from
  std::string resource;          // the resource, namespace and selectors it holds
  std::string resource_version;  // the version the objects are consistent with
};

struct Snapshot {
  SnapshotHeader header;
  std::vector<ObjectPtr> objects;
};

// Writes the snapshot of `objects` to `sink`, piece by piece (never the whole encoding at once).
// `compress`: deflate the payload (zlib level 1). Returns the sink's first error.
Status EncodeSnapshot(const SnapshotHeader& header, const std::vector<ObjectPtr>& objects,
                      bool compress, const std::function<Status(std::string_view)>& sink);
// The same, into a string (tests, fuzzing).
std::string EncodeSnapshotToString(const SnapshotHeader& header,
                                   const std::vector<ObjectPtr>& objects, bool compress);

// What the reader checks the header against; an empty field is not checked.
struct SnapshotExpectation {
  std::string identity;
  std::string resource;
};

// Decodes a snapshot. On error `*refusal` (when not null) says why, and the Status is
// kDataLoss for damage (kBadMagic ... kBadObject) or kInvalidArgument for a snapshot that is
// sound but not this informer's (kUnsupportedVersion, kWrongResource, kWrongServer); the message
// names the refusal and where it was found.
Result<Snapshot> DecodeSnapshot(std::string_view bytes, const SnapshotExpectation& expect,
                                SnapshotRefusal* refusal = nullptr);

// Reads and decodes the file at `path`. kNotFound (refusal kMissing) when there is none.
Result<Snapshot> ReadSnapshotFile(const std::string& path, const SnapshotExpectation& expect,
                                  SnapshotRefusal* refusal = nullptr);

// Writes the snapshot to `path` atomically: a temporary file beside it (mode 0600: snapshots may
// hold Secrets), fsync, rename over `path`, fsync of the directory. A failure leaves the previous
// file in place and removes the temporary one.
Status WriteSnapshotFile(const std::string& path, const SnapshotHeader& header,
                         const std::vector<ObjectPtr>& objects, bool compress);

}  // namespace kube::internal

#endif  // KUBE_SRC_CACHE_SNAPSHOT_H_
