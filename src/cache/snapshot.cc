// Cache snapshots: encoding, decoding with every length checked, and atomic files.
#include "cache/snapshot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>

#include "base/strings.h"
#include "kube/proto/protobuf.h"
#include "object_codec.h"

namespace kube::internal {
namespace {

constexpr std::string_view kMagic = "KINFSNAP";
constexpr std::string_view kEndMagic = "SNPE";
constexpr size_t kHeaderBytes = 16;
constexpr size_t kTrailerBytes = 16;
constexpr uint32_t kFlagZlib = 1;
constexpr uint32_t kKnownFlags = kFlagZlib;
constexpr size_t kChunkBytes = size_t{1} << 20;

enum class Encoding : uint8_t { kJson = 0, kProtobufMembers = 1, kProtobufSpliced = 2 };

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutString(std::string* out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}
uint64_t GetLe(std::string_view s, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t{static_cast<unsigned char>(s[i])} << (8 * i);
  return v;
}

// The payload, passed on in chunks: plain, or through deflate. Tracks the decoded size and CRC.
class PayloadSink {
 public:
  PayloadSink(bool compress, const std::function<Status(std::string_view)>& sink)
      : compress_(compress), sink_(sink) {
    if (compress_) {
      std::memset(&zs_, 0, sizeof(zs_));
      if (deflateInit(&zs_, Z_BEST_SPEED) != Z_OK) status_ = InternalError("deflateInit failed");
      out_.resize(kChunkBytes);
    }
  }
  ~PayloadSink() {
    if (compress_) deflateEnd(&zs_);
  }
  PayloadSink(const PayloadSink&) = delete;
  PayloadSink& operator=(const PayloadSink&) = delete;

  std::string* buffer() { return &buf_; }
  // Passes the buffer on when it holds a chunk.
  void MaybeFlush() {
    if (buf_.size() >= kChunkBytes) Flush(false);
  }
  Status Finish(uint64_t* size, uint32_t* crc) {
    Flush(true);
    *size = size_;
    *crc = crc_;
    return status_;
  }

 private:
  void Flush(bool last) {
    if (!status_.ok()) return;
    size_ += buf_.size();
    crc_ = static_cast<uint32_t>(
        crc32_z(crc_, reinterpret_cast<const Bytef*>(buf_.data()), buf_.size()));
    if (!compress_) {
      if (!buf_.empty()) status_ = sink_(buf_);
      buf_.clear();
      return;
    }
    zs_.next_in = reinterpret_cast<Bytef*>(buf_.data());
    zs_.avail_in = static_cast<uInt>(buf_.size());
    int rc;
    do {
      zs_.next_out = reinterpret_cast<Bytef*>(out_.data());
      zs_.avail_out = static_cast<uInt>(out_.size());
      rc = deflate(&zs_, last ? Z_FINISH : Z_NO_FLUSH);
      if (rc == Z_STREAM_ERROR) {
        status_ = InternalError("deflate failed");
        return;
      }
      size_t have = out_.size() - zs_.avail_out;
      if (have > 0) {
        status_ = sink_(std::string_view(out_.data(), have));
        if (!status_.ok()) return;
      }
    } while (zs_.avail_out == 0 || (last && rc != Z_STREAM_END));
    buf_.clear();
  }

  const bool compress_;
  const std::function<Status(std::string_view)>& sink_;
  z_stream zs_{};
  std::string buf_;
  std::string out_;
  uint64_t size_ = 0;
  uint32_t crc_ = static_cast<uint32_t>(crc32_z(0, nullptr, 0));
  Status status_;
};

Status Refuse(SnapshotRefusal why, SnapshotRefusal* out, const std::string& detail) {
  if (out != nullptr) *out = why;
  std::string message =
      "cache snapshot refused (" + std::string(SnapshotRefusalName(why)) + "): " + detail;
  switch (why) {
    case SnapshotRefusal::kMissing:
      return NotFoundError(std::move(message));
    case SnapshotRefusal::kUnsupportedVersion:
    case SnapshotRefusal::kWrongResource:
    case SnapshotRefusal::kWrongServer:
      return InvalidArgumentError(std::move(message));
    default:
      return DataLossError(std::move(message));
  }
}

// Reads the payload's fields, each length checked against what is left.
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view data) : data_(data) {}
  size_t offset() const { return pos_; }
  size_t left() const { return data_.size() - pos_; }
  bool U8(uint8_t* v) {
    if (left() < 1) return false;
    *v = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }
  bool U64(uint64_t* v) {
    if (left() < 8) return false;
    *v = GetLe(data_.substr(pos_), 8);
    pos_ += 8;
    return true;
  }
  // False when the length field or the bytes run past the end; `*too_long` when the length is
  // over `max`.
  bool String(std::string_view* s, uint32_t max, bool* too_long) {
    if (left() < 4) return false;
    uint64_t n = GetLe(data_.substr(pos_), 4);
    if (n > max) {
      *too_long = true;
      return false;
    }
    if (left() - 4 < n) return false;
    *s = data_.substr(pos_ + 4, n);
    pos_ += 4 + n;
    return true;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

}  // namespace

std::string_view SnapshotRefusalName(SnapshotRefusal refusal) {
  switch (refusal) {
    case SnapshotRefusal::kNone:
      return "none";
    case SnapshotRefusal::kMissing:
      return "missing";
    case SnapshotRefusal::kUnreadable:
      return "unreadable";
    case SnapshotRefusal::kBadMagic:
      return "not a snapshot";
    case SnapshotRefusal::kUnsupportedVersion:
      return "unsupported version";
    case SnapshotRefusal::kTruncated:
      return "truncated";
    case SnapshotRefusal::kOversized:
      return "oversized";
    case SnapshotRefusal::kChecksumMismatch:
      return "checksum mismatch";
    case SnapshotRefusal::kCorrupt:
      return "corrupt";
    case SnapshotRefusal::kBadObject:
      return "bad object";
    case SnapshotRefusal::kWrongResource:
      return "another resource";
    case SnapshotRefusal::kWrongServer:
      return "another server";
  }
  return "unknown";
}

Status EncodeSnapshot(const SnapshotHeader& header, const std::vector<ObjectPtr>& objects,
                      bool compress, const std::function<Status(std::string_view)>& sink) {
  std::string head(kMagic);
  PutU32(&head, kSnapshotVersion);
  PutU32(&head, compress ? kFlagZlib : 0);
  Status s = sink(head);
  if (!s.ok()) return s;
  PayloadSink payload(compress, sink);
  std::string* buf = payload.buffer();
  PutString(buf, header.identity);
  PutString(buf, header.resource);
  PutString(buf, header.resource_version);
  PutU64(buf, objects.size());
  for (const ObjectPtr& obj : objects) {
    EncodedBody body = EncodedBodyOf(*obj);
    if (body.codec == nullptr) {
      buf->push_back(static_cast<char>(Encoding::kJson));
      PutString(buf, obj->json());
    } else {
      buf->push_back(static_cast<char>((body.tag & kSpliceTypeMeta) != 0
                                           ? Encoding::kProtobufSpliced
                                           : Encoding::kProtobufMembers));
      PutString(buf, obj->api_version());
      PutString(buf, obj->kind());
      PutString(buf, body.body);
    }
    payload.MaybeFlush();
  }
  uint64_t size = 0;
  uint32_t crc = 0;
  s = payload.Finish(&size, &crc);
  if (!s.ok()) return s;
  std::string tail;
  PutU64(&tail, size);
  PutU32(&tail, crc);
  tail.append(kEndMagic);
  return sink(tail);
}

std::string EncodeSnapshotToString(const SnapshotHeader& header,
                                   const std::vector<ObjectPtr>& objects, bool compress) {
  std::string out;
  (void)EncodeSnapshot(header, objects, compress, [&out](std::string_view piece) {
    out.append(piece);
    return Status::Ok();
  });
  return out;
}

Result<Snapshot> DecodeSnapshot(std::string_view bytes, const SnapshotExpectation& expect,
                                SnapshotRefusal* refusal) {
  if (refusal != nullptr) *refusal = SnapshotRefusal::kNone;
  if (bytes.size() < kMagic.size() || bytes.substr(0, kMagic.size()) != kMagic) {
    return Refuse(SnapshotRefusal::kBadMagic, refusal, "the file does not start with KINFSNAP");
  }
  if (bytes.size() < kHeaderBytes) {
    return Refuse(SnapshotRefusal::kTruncated, refusal, "the header is cut short");
  }
  const uint64_t version = GetLe(bytes.substr(8), 4);
  if (version != kSnapshotVersion) {
    return Refuse(SnapshotRefusal::kUnsupportedVersion, refusal,
                  "format version " + std::to_string(version) + ", this library reads " +
                      std::to_string(kSnapshotVersion));
  }
  const uint64_t flags = GetLe(bytes.substr(12), 4);
  if ((flags & ~uint64_t{kKnownFlags}) != 0) {
    return Refuse(SnapshotRefusal::kUnsupportedVersion, refusal,
                  "unknown flags " + std::to_string(flags));
  }
  if (bytes.size() < kHeaderBytes + kTrailerBytes) {
    return Refuse(SnapshotRefusal::kTruncated, refusal, "the trailer is missing");
  }
  std::string_view tail = bytes.substr(bytes.size() - kTrailerBytes);
  if (tail.substr(12) != kEndMagic) {
    return Refuse(SnapshotRefusal::kTruncated, refusal,
                  "the trailer is missing (the file was cut short?)");
  }
  const uint64_t size = GetLe(tail, 8);
  const uint32_t crc = static_cast<uint32_t>(GetLe(tail.substr(8), 4));
  std::string_view stored = bytes.substr(kHeaderBytes, bytes.size() - kHeaderBytes - kTrailerBytes);
  if (size > kMaxSnapshotPayloadBytes) {
    return Refuse(SnapshotRefusal::kOversized, refusal,
                  "payload of " + std::to_string(size) + " bytes is over the limit");
  }
  std::string inflated;
  std::string_view payload;
  if ((flags & kFlagZlib) != 0) {
    // Deflate expands at most about 1032:1; a size beyond that cannot be this stream's.
    if (size / 1032 > stored.size() + 1) {
      return Refuse(SnapshotRefusal::kOversized, refusal,
                    "payload of " + std::to_string(size) + " bytes from " +
                        std::to_string(stored.size()) + " compressed bytes");
    }
    inflated.resize(size);
    z_stream zs;
    std::memset(&zs, 0, sizeof(zs));
    if (inflateInit(&zs) != Z_OK) return Refuse(SnapshotRefusal::kCorrupt, refusal, "inflateInit");
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(stored.data()));
    zs.avail_in =
        static_cast<uInt>(std::min<size_t>(stored.size(), std::numeric_limits<uInt>::max()));
    size_t in_left = stored.size() - zs.avail_in;
    size_t out_pos = 0;
    // One spare byte of output catches a stream longer than its declared size.
    char spare = 0;
    SnapshotRefusal bad = SnapshotRefusal::kNone;
    std::string detail;
    for (;;) {
      if (zs.avail_in == 0 && in_left > 0) {
        uInt n = static_cast<uInt>(std::min<size_t>(in_left, std::numeric_limits<uInt>::max()));
        zs.avail_in = n;
        in_left -= n;
      }
      if (out_pos < size) {
        zs.next_out = reinterpret_cast<Bytef*>(inflated.data() + out_pos);
        zs.avail_out =
            static_cast<uInt>(std::min<uint64_t>(size - out_pos, std::numeric_limits<uInt>::max()));
      } else {
        zs.next_out = reinterpret_cast<Bytef*>(&spare);
        zs.avail_out = 1;
      }
      const uInt out_before = zs.avail_out;
      const uInt in_before = zs.avail_in;
      const int rc = inflate(&zs, Z_NO_FLUSH);
      const size_t produced = out_before - zs.avail_out;
      if (out_pos >= size && produced > 0) {
        bad = SnapshotRefusal::kOversized;
        detail =
            "the compressed payload is longer than its declared " + std::to_string(size) + " bytes";
        break;
      }
      out_pos += produced;
      if (rc == Z_STREAM_END) {
        if (zs.avail_in != 0 || in_left != 0) {
          bad = SnapshotRefusal::kCorrupt;
          detail = "bytes after the end of the compressed payload";
        } else if (out_pos != size) {
          bad = SnapshotRefusal::kTruncated;
          detail = "the payload ends after " + std::to_string(out_pos) + " of " +
                   std::to_string(size) + " bytes";
        }
        break;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        bad = SnapshotRefusal::kCorrupt;
        detail = "the compressed payload does not inflate";
        break;
      }
      if (produced == 0 && in_before == zs.avail_in) {
        // No progress: the input ran out before the stream's end.
        bad = SnapshotRefusal::kTruncated;
        detail = "the compressed payload ends early, after " + std::to_string(out_pos) + " of " +
                 std::to_string(size) + " bytes";
        break;
      }
    }
    inflateEnd(&zs);
    if (bad != SnapshotRefusal::kNone) return Refuse(bad, refusal, detail);
    payload = inflated;
  } else {
    if (stored.size() != size) {
      return Refuse(stored.size() < size ? SnapshotRefusal::kTruncated : SnapshotRefusal::kCorrupt,
                    refusal,
                    "payload of " + std::to_string(stored.size()) + " bytes, the trailer says " +
                        std::to_string(size));
    }
    payload = stored;
  }
  const uint32_t actual = static_cast<uint32_t>(crc32_z(
      crc32_z(0, nullptr, 0), reinterpret_cast<const Bytef*>(payload.data()), payload.size()));
  if (actual != crc) {
    return Refuse(SnapshotRefusal::kChecksumMismatch, refusal,
                  "CRC-32 " + std::to_string(actual) + ", the trailer says " + std::to_string(crc));
  }

  PayloadReader r(payload);
  Snapshot snap;
  bool too_long = false;
  auto field = [&](std::string_view* out, uint32_t max, const char* what) -> Status {
    if (r.String(out, max, &too_long)) return Status::Ok();
    return Refuse(too_long ? SnapshotRefusal::kOversized : SnapshotRefusal::kTruncated, refusal,
                  std::string(what) + " at payload offset " + std::to_string(r.offset()) +
                      (too_long ? " is longer than allowed" : " runs past the end"));
  };
  std::string_view identity, resource, rv;
  constexpr uint32_t kMaxHeaderField = 64 * 1024;
  if (Status s = field(&identity, kMaxHeaderField, "the identity"); !s.ok()) return s;
  if (Status s = field(&resource, kMaxHeaderField, "the resource"); !s.ok()) return s;
  if (Status s = field(&rv, kMaxHeaderField, "the resourceVersion"); !s.ok()) return s;
  snap.header = {std::string(identity), std::string(resource), std::string(rv)};
  if (!expect.resource.empty() && resource != expect.resource) {
    return Refuse(SnapshotRefusal::kWrongResource, refusal,
                  "it holds \"" + std::string(resource) + "\", this informer watches \"" +
                      expect.resource + "\"");
  }
  if (!expect.identity.empty() && identity != expect.identity) {
    return Refuse(SnapshotRefusal::kWrongServer, refusal,
                  "it came from \"" + std::string(identity) + "\", this informer talks to \"" +
                      expect.identity + "\"");
  }
  uint64_t count = 0;
  if (!r.U64(&count)) {
    return Refuse(SnapshotRefusal::kTruncated, refusal, "the object count is cut short");
  }
  // Every object takes at least 5 bytes (an encoding byte and a body length).
  if (count > r.left() / 5) {
    return Refuse(SnapshotRefusal::kOversized, refusal,
                  std::to_string(count) + " objects cannot fit in the " + std::to_string(r.left()) +
                      " bytes left");
  }
  snap.objects.reserve(count);
  std::unique_ptr<ProtobufMessageDecoder> proto;
  for (uint64_t i = 0; i < count; ++i) {
    uint8_t enc = 0;
    if (!r.U8(&enc)) return Refuse(SnapshotRefusal::kTruncated, refusal, "object cut short");
    const std::string where =
        "object " + std::to_string(i) + " at payload offset " + std::to_string(r.offset() - 1);
    std::string_view api_version, kind, body;
    if (enc > static_cast<uint8_t>(Encoding::kProtobufSpliced)) {
      return Refuse(SnapshotRefusal::kCorrupt, refusal,
                    where + ": unknown encoding " + std::to_string(enc));
    }
    const bool is_proto = enc != static_cast<uint8_t>(Encoding::kJson);
    if (is_proto) {
      if (Status s = field(&api_version, kMaxHeaderField, "an apiVersion"); !s.ok()) return s;
      if (Status s = field(&kind, kMaxHeaderField, "a kind"); !s.ok()) return s;
    }
    if (Status s = field(&body, kMaxSnapshotObjectBytes, "an object body"); !s.ok()) return s;
    if (is_proto && !proto) proto = std::make_unique<ProtobufMessageDecoder>();
    Result<ObjectPtr> obj =
        is_proto ? proto->DecodeObject(api_version, kind, body,
                                       enc == static_cast<uint8_t>(Encoding::kProtobufMembers))
                 : Object::Parse(body);
    if (!obj) {
      return Refuse(SnapshotRefusal::kBadObject, refusal, where + ": " + obj.error().message());
    }
    snap.objects.push_back(std::move(*obj));
  }
  if (r.left() != 0) {
    return Refuse(SnapshotRefusal::kCorrupt, refusal,
                  std::to_string(r.left()) + " bytes after the last object");
  }
  return snap;
}

Result<Snapshot> ReadSnapshotFile(const std::string& path, const SnapshotExpectation& expect,
                                  SnapshotRefusal* refusal) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT) return Refuse(SnapshotRefusal::kMissing, refusal, "no file " + path);
    return Refuse(SnapshotRefusal::kUnreadable, refusal, path + ": " + ErrnoText(e));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Refuse(SnapshotRefusal::kUnreadable, refusal, path + ": not a regular file");
  }
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (file_size > kMaxSnapshotPayloadBytes + kHeaderBytes + kTrailerBytes) {
    ::close(fd);
    return Refuse(SnapshotRefusal::kOversized, refusal,
                  path + ": " + std::to_string(file_size) + " bytes");
  }
  std::string bytes(file_size, '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return Refuse(SnapshotRefusal::kUnreadable, refusal, path + ": " + ErrnoText(e));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  bytes.resize(done);
  Result<Snapshot> snap = DecodeSnapshot(bytes, expect, refusal);
  if (!snap) return snap.error().WithContext(path);
  return snap;
}

Status WriteSnapshotFile(const std::string& path, const SnapshotHeader& header,
                         const std::vector<ObjectPtr>& objects, bool compress) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return InternalError("cache snapshot: create " + tmp + ": " + ErrnoText(errno));
  // The mode of a file left by an earlier crash with other permissions.
  (void)::fchmod(fd, 0600);
  auto fail = [&](const std::string& what, int e) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return InternalError("cache snapshot: " + what + " " + tmp + ": " + ErrnoText(e));
  };
  std::string pending;
  auto flush = [&]() -> Status {
    size_t done = 0;
    while (done < pending.size()) {
      ssize_t n = ::write(fd, pending.data() + done, pending.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return InternalError(ErrnoText(errno));
      done += static_cast<size_t>(n);
    }
    pending.clear();
    return Status::Ok();
  };
  Status s = EncodeSnapshot(header, objects, compress, [&](std::string_view piece) {
    pending.append(piece);
    return pending.size() >= kChunkBytes ? flush() : Status::Ok();
  });
  if (s.ok()) s = flush();
  if (!s.ok()) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return s.WithContext("cache snapshot: write " + tmp);
  }
  if (::fsync(fd) != 0) return fail("fsync", errno);
  if (::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return InternalError("cache snapshot: close " + tmp + ": " + ErrnoText(e));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return InternalError("cache snapshot: rename " + tmp + " to " + path + ": " + ErrnoText(e));
  }
  // The rename is durable once the directory is.
  const size_t slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

}  // namespace kube::internal
