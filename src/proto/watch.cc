// The protobuf watch stream (kube/proto/protobuf.h): 4-byte big-endian length, then a
// metav1.WatchEvent whose object.raw is an enveloped object.
#include <algorithm>
#include <cstring>

#include "kube/proto/protobuf.h"
#include "proto/decoder.h"
#include "proto/wire.h"

namespace kube {

struct ProtobufWatchDecoder::Impl {
  Impl(const ProtobufOptions& o, Kind k) : options(o), kind(k), decoder(o) {}

  Status Fail(Status st) {
    error = std::move(st);
    return error;
  }

  Status DecodeFrame(std::string_view frame, std::vector<ProtobufWatchEvent>* out) {
    ProtobufWatchEvent ev;
    std::string_view raw;
    Status st = decoder.WatchEvent(frame, &ev.type, &ev.object_json,
                                   kind == Kind::kObjects ? &raw : nullptr);
    if (st.ok() && kind == Kind::kObjects) {
      Result<ObjectPtr> obj = DecodeProtobufObject(raw, options);
      if (obj) {
        ev.object = *std::move(obj);
      } else {
        st = obj.error();
      }
    }
    std::string where = "protobuf watch frame " + std::to_string(frames) + " (stream byte " +
                        std::to_string(frame_offset) + ")";
    if (!st.ok()) {
      if (st.code() == StatusCode::kNotFound) return Fail(st.WithContext(where));
      return Fail(DataLossError(where + ": " + st.message()));
    }
    if (ev.type != "ADDED" && ev.type != "MODIFIED" && ev.type != "DELETED" &&
        ev.type != "BOOKMARK" && ev.type != "ERROR") {
      return Fail(DataLossError(where + ": got invalid watch event type: " + ev.type));
    }
    out->push_back(std::move(ev));
    ++frames;
    return Status();
  }

  ProtobufOptions options;
  Kind kind;
  internal::proto::ProtoToJson decoder;
  Status error;
  unsigned char header[4] = {};
  size_t header_bytes = 0;
  bool have_length = false;
  size_t length = 0;
  std::string buffer;   // the frame being gathered across chunks
  uint64_t offset = 0;  // stream bytes consumed
  uint64_t frame_offset = 0;
  uint64_t frames = 0;
};

ProtobufWatchDecoder::ProtobufWatchDecoder(ProtobufOptions options, Kind kind)
    : impl_(std::make_unique<Impl>(options, kind)) {}
ProtobufWatchDecoder::~ProtobufWatchDecoder() = default;
ProtobufWatchDecoder::ProtobufWatchDecoder(ProtobufWatchDecoder&&) noexcept = default;
ProtobufWatchDecoder& ProtobufWatchDecoder::operator=(ProtobufWatchDecoder&&) noexcept = default;

Status ProtobufWatchDecoder::Feed(std::string_view chunk, std::vector<ProtobufWatchEvent>* out) {
  Impl& s = *impl_;
  if (!s.error.ok()) return s.error;
  while (!chunk.empty()) {
    if (!s.have_length) {
      if (s.header_bytes == 0) s.frame_offset = s.offset;
      size_t take = std::min(4 - s.header_bytes, chunk.size());
      std::memcpy(s.header + s.header_bytes, chunk.data(), take);
      s.header_bytes += take;
      s.offset += take;
      chunk.remove_prefix(take);
      if (s.header_bytes < 4) break;
      s.length = (size_t{s.header[0]} << 24) | (size_t{s.header[1]} << 16) |
                 (size_t{s.header[2]} << 8) | size_t{s.header[3]};
      s.header_bytes = 0;
      if (s.length > s.options.max_body_bytes) {
        return s.Fail(DataLossError("protobuf watch frame " + std::to_string(s.frames) +
                                    " (stream byte " + std::to_string(s.frame_offset) +
                                    ") declares " + std::to_string(s.length) +
                                    " bytes, over the limit of " +
                                    std::to_string(s.options.max_body_bytes))
                          .set_cause(StatusCause::kOverLimit));
      }
      s.have_length = true;
      s.buffer.clear();
    }
    if (s.buffer.empty() && chunk.size() >= s.length) {
      // The whole frame is in this chunk: decode it where it lies.
      std::string_view frame = chunk.substr(0, s.length);
      chunk.remove_prefix(s.length);
      s.offset += s.length;
      s.have_length = false;
      Status st = s.DecodeFrame(frame, out);
      if (!st.ok()) return st;
      continue;
    }
    size_t take = std::min(s.length - s.buffer.size(), chunk.size());
    s.buffer.append(chunk.data(), take);
    chunk.remove_prefix(take);
    s.offset += take;
    if (s.buffer.size() == s.length) {
      s.have_length = false;
      std::string frame = std::move(s.buffer);
      s.buffer.clear();
      Status st = s.DecodeFrame(frame, out);
      if (!st.ok()) return st;
    }
  }
  return Status();
}

Status ProtobufWatchDecoder::Finish() {
  Impl& s = *impl_;
  if (!s.error.ok()) return s.error;
  if (s.header_bytes > 0 || s.have_length) {
    return s.Fail(DataLossError("protobuf watch stream truncated inside frame " +
                                std::to_string(s.frames) + " (stream byte " +
                                std::to_string(s.frame_offset) + ")"));
  }
  return Status();
}

Status AppendProtobufWatchFrame(std::string_view type, std::string_view object_json,
                                std::string* out, const ProtobufOptions& options) {
  using internal::proto::PutBytesField;
  std::string object;
  Status st = AppendJsonAsProtobuf(object_json, &object, options);
  if (!st.ok()) return st;
  std::string raw_ext;
  PutBytesField(1, object, &raw_ext);
  std::string event;
  PutBytesField(1, type, &event);
  PutBytesField(2, raw_ext, &event);
  if (event.size() > 0xFFFFFFFFu) return InvalidArgumentError("protobuf watch frame too large");
  uint32_t n = static_cast<uint32_t>(event.size());
  char header[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                    static_cast<char>(n >> 8), static_cast<char>(n)};
  out->append(header, 4);
  out->append(event);
  return Status();
}

}  // namespace kube
