// WatchDecoder: chunked watch bytes to events. See watch_decoder.h for the contract.
//
// Reads from: HTTP data callbacks. Feeds: the resource client's watch pump (WatchAsyncBatched).
// client-go: rest/watch/decoder.go, apimachinery json framer and streamwatcher.go.
#include "watch/watch_decoder.h"

#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "json/scan.h"

namespace kube::internal {
namespace {

constexpr size_t kNpos = std::string_view::npos;
// How much of a bad token an error message quotes. Frames are never quoted whole: they may hold
// a Secret's data.
constexpr size_t kQuoteLimit = 40;

std::string Quote(std::string_view s) {
  std::string out;
  json::AppendQuoted(s.substr(0, kQuoteLimit), &out);
  if (s.size() > kQuoteLimit) out += "...";
  return out;
}

std::string DescribeByte(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 15];
}

// The number of '{' and '[' bytes in `s`. It bounds a frame's nesting on the line fast path,
// which runs it over every frame, so it must cost far less than the parse: 16 bytes a step in
// vector registers (GCC and Clang vector extensions; plain SSE2 on any x86-64), each byte lane
// counting its matches (a comparison gives -1 per match), summed before any lane can pass 255.
using ByteVector = unsigned char __attribute__((vector_size(16)));

size_t CountOpenBrackets(std::string_view s) {
  constexpr size_t kStep = sizeof(ByteVector);
  size_t count = 0;
  size_t i = 0;
  while (s.size() - i >= kStep) {
    ByteVector lanes = {};  // matches per byte lane, at most 255 before the sum below
    for (int k = 0; k < 255 && s.size() - i >= kStep; ++k, i += kStep) {
      ByteVector v;
      std::memcpy(&v, s.data() + i, kStep);
      lanes -= reinterpret_cast<ByteVector>((v == '{') | (v == '['));
    }
    for (size_t lane = 0; lane < kStep; ++lane) count += lanes[lane];
  }
  for (; i < s.size(); ++i) count += static_cast<size_t>(s[i] == '{' || s[i] == '[');
  return count;
}

// Validates a JSON value we otherwise skip (members other than type and object; rare).
bool IsValidJson(std::string_view value) {
  simdjson::dom::parser parser;
  return parser.parse(value.data(), value.size(), /*realloc_if_needed=*/true).error() ==
         simdjson::SUCCESS;
}

std::atomic<size_t> pending_high_water{0};

// The decoder's errors, each with its typed cause (kube/status.h): callers classify by the cause,
// never by these phrases.
Status Malformed(std::string what) {
  return DataLossError("malformed watch event: " + std::move(what))
      .set_cause(StatusCause::kMalformed);
}
Status InvalidEventType(std::string_view name) {
  return DataLossError("got invalid watch event type: " + Quote(name))
      .set_cause(StatusCause::kMalformed);
}
Status FrameOverLimit(size_t frame, size_t limit, std::string_view detail = "") {
  std::string m = "watch event " + std::to_string(frame) + " exceeds the " + std::to_string(limit) +
                  "-byte frame limit";
  if (!detail.empty()) m += ": " + std::string(detail);
  return DataLossError(std::move(m)).set_cause(StatusCause::kOverLimit);
}
Status Truncated(std::string what) {
  return DataLossError("watch stream truncated: " + std::move(what))
      .set_cause(StatusCause::kTruncated);
}

}  // namespace

void PendingFrame::SetHeld(size_t held) {
  held_ = held;
  size_t seen = pending_high_water.load(std::memory_order_relaxed);
  while (held > seen && !pending_high_water.compare_exchange_weak(seen, held)) {
  }
}

void PendingFrame::Append(std::string_view bytes) {
  if (bytes.empty()) return;
  size_ += bytes.size();
  if (blocks_.empty()) blocks_.emplace_back();
  std::string* last = &blocks_.back();
  if (blocks_.size() == 1 && last->size() + bytes.size() <= kBlockBytes) {
    const size_t before = last->capacity();
    if (last->size() + bytes.size() > before) {
      // The first block doubles while small; count its old and new buffers at once.
      std::string grown;
      grown.reserve(std::max(last->size() + bytes.size(), std::min(2 * before, kBlockBytes)));
      SetHeld(held_ + grown.capacity());
      grown.append(*last);
      last->swap(grown);
      SetHeld(held_ - grown.capacity());
      std::string().swap(grown);
    }
    last->append(bytes);
    return;
  }
  // Fill the last block's spare room, then start a new block: no block ever reallocates.
  const size_t room = last->capacity() - last->size();
  if (room > 0) {
    const size_t take = std::min(room, bytes.size());
    last->append(bytes.substr(0, take));
    bytes.remove_prefix(take);
  }
  if (bytes.empty()) return;
  std::string block;
  block.reserve(std::max(kBlockBytes, bytes.size()));
  block.append(bytes);
  SetHeld(held_ + block.capacity());
  blocks_.push_back(std::move(block));
}

std::string_view PendingFrame::View() {
  if (blocks_.empty()) return {};
  if (blocks_.size() > 1) {
    std::string joined;
    joined.reserve(size_);
    SetHeld(held_ + joined.capacity());
    for (std::string& b : blocks_) {
      joined.append(b);
      const size_t cap = b.capacity();
      std::string().swap(b);
      SetHeld(held_ - cap);
    }
    blocks_.clear();
    blocks_.push_back(std::move(joined));
  }
  return blocks_.front();
}

void PendingFrame::Truncate(size_t n) {
  View();
  if (blocks_.empty()) return;
  blocks_.front().resize(n);
  size_ = n;
}

void PendingFrame::Clear() {
  size_ = 0;
  if (blocks_.size() == 1 && blocks_.front().capacity() <= kBlockBytes) {
    blocks_.front().clear();  // kept for the next frame
    return;
  }
  blocks_.clear();
  blocks_.shrink_to_fit();
  SetHeld(0);
}

size_t PendingFrame::HighWaterForTesting() { return pending_high_water.load(); }
void PendingFrame::ResetHighWaterForTesting() { pending_high_water.store(0); }

WatchDecoder::WatchDecoder(WatchDecoderOptions options) : options_(options) {}

void WatchDecoder::Fail(Status status, std::vector<WatchEvent>* out) {
  failed_ = true;
  in_frame_ = false;
  partial_ = PendingFrame();  // frees whatever the refused frame had buffered
  stack_.clear();
  out->push_back(WatchEvent{WatchEventType::kError, nullptr, std::move(status)});
}

size_t WatchDecoder::Scan(std::string_view data, size_t pos, std::vector<WatchEvent>* out) {
  const char* p = data.data();
  const size_t n = data.size();
  while (pos < n) {
    if (in_string_) {
      if (escaped_) {  // the byte after a backslash never ends the string
        escaped_ = false;
        ++pos;
        continue;
      }
      // Most bytes of an object sit inside strings: jump to the next quote or backslash.
      const void* q = std::memchr(p + pos, '"', n - pos);
      size_t quote = q != nullptr ? static_cast<const char*>(q) - p : n;
      const void* b = std::memchr(p + pos, '\\', quote - pos);
      if (b != nullptr) {
        pos = static_cast<const char*>(b) - p + 1;
        escaped_ = true;
        continue;
      }
      if (q == nullptr) return kNpos;
      in_string_ = false;
      pos = quote + 1;
      continue;
    }
    char c = p[pos];
    switch (c) {
      case '"':
        in_string_ = true;
        break;
      case '{':
      case '[':
        if (stack_.size() >= options_.max_depth) {
          Fail(Malformed("nested deeper than " + std::to_string(options_.max_depth) + " levels"),
               out);
          return kNpos;
        }
        stack_.push_back(c);
        break;
      case '}':
      case ']': {
        char open = c == '}' ? '{' : '[';
        if (stack_.back() != open) {
          Fail(Malformed(std::string("'") + c + "' closes '" + stack_.back() + "'"), out);
          return kNpos;
        }
        stack_.pop_back();
        if (stack_.empty()) return pos + 1;
        break;
      }
      default:
        break;
    }
    ++pos;
  }
  return kNpos;
}

bool WatchDecoder::TryDecodeLine(std::string_view line, std::vector<WatchEvent>* out) {
  // `{"type":"T","object":{...}}`, the shape every API server writes. Anything else, and any
  // error, is left to the general path, which reports it exactly as before.
  constexpr std::string_view kTypePrefix = R"({"type":")";
  constexpr std::string_view kObjectKey = R"(,"object":)";
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  if (line.size() > options_.max_frame_bytes || !line.starts_with(kTypePrefix) ||
      !line.ends_with('}')) {
    return false;
  }
  const size_t type_end = line.find('"', kTypePrefix.size());
  if (type_end == std::string_view::npos) return false;
  const std::string_view type_name = line.substr(kTypePrefix.size(), type_end - kTypePrefix.size());
  std::optional<WatchEventType> type = ParseWatchEventType(type_name);  // no escapes in the names
  if (!type || line.substr(type_end + 1, kObjectKey.size()) != kObjectKey) return false;
  const size_t object_begin = type_end + 1 + kObjectKey.size();
  if (object_begin >= line.size() - 1 || line[object_begin] != '{') return false;
  if (line.size() > options_.max_depth) {
    // The scanner refuses frames nested deeper than `max_depth`; so must this path. The count of
    // bracket bytes bounds the depth (one vectorised pass, far cheaper than the scan).
    if (CountOpenBrackets(line) > options_.max_depth) return false;
  }
  // The object runs to the frame's last '}'. If another member followed it, or another frame
  // shares the line, this span is not one JSON value and the parse rejects it.
  Result<ObjectPtr> object =
      Object::Parse(line.substr(object_begin, line.size() - 1 - object_begin));
  if (!object) return false;
  ++frames_;
  WatchEvent event{*type, *std::move(object), Status()};
  if (event.type == WatchEventType::kError) event.error = StatusFromStatusObject(*event.object);
  out->push_back(std::move(event));
  return true;
}

void WatchDecoder::UseProtobuf() {
  // `max_frame_bytes` bounds each frame's declared length, checked before it is buffered.
  protobuf_ = std::make_unique<ProtobufWatchDecoder>(
      ProtobufOptions{.max_body_bytes = options_.max_frame_bytes},
      ProtobufWatchDecoder::Kind::kObjects);
}

void WatchDecoder::FeedProtobuf(std::string_view bytes, std::vector<WatchEvent>* out) {
  protobuf_events_.clear();
  Status st = protobuf_->Feed(bytes, &protobuf_events_);
  for (ProtobufWatchEvent& pe : protobuf_events_) {
    ++frames_;
    std::optional<WatchEventType> type = ParseWatchEventType(pe.type);
    if (!type) {
      Fail(InvalidEventType(pe.type), out);
      return;
    }
    Result<ObjectPtr> object = pe.object != nullptr ? Result<ObjectPtr>(std::move(pe.object))
                                                    : Object::Parse(pe.object_json);
    if (!object) {
      Fail(Malformed("the " + pe.type + " event's object (protobuf frame " +
                     std::to_string(frames_) + ") does not decode: " + object.error().message()),
           out);
      return;
    }
    WatchEvent event{*type, *std::move(object), Status()};
    if (event.type == WatchEventType::kError) event.error = StatusFromStatusObject(*event.object);
    out->push_back(std::move(event));
  }
  if (st.ok()) return;
  if (st.cause() == StatusCause::kOverLimit) {
    Fail(FrameOverLimit(frames_ + 1, options_.max_frame_bytes, st.message()), out);
    return;
  }
  // A kind without a protobuf form (kNotFound), a bad frame, an unknown event type.
  unknown_kind_ = st.code() == StatusCode::kNotFound;
  Fail(Malformed(st.message()), out);
}

void WatchDecoder::Feed(std::string_view bytes, std::vector<WatchEvent>* out) {
  if (protobuf_ != nullptr) {
    if (!failed_) FeedProtobuf(bytes, out);
    return;
  }
  size_t pos = 0;
  const size_t n = bytes.size();
  const char* data = bytes.data();
  if (in_frame_ && !failed_) {
    // A frame continued from an earlier chunk: if a newline ends it here, try it whole at once
    // instead of scanning the rest of it.
    if (const void* nl = std::memchr(data, '\n', n); nl != nullptr) {
      const size_t line_end = static_cast<const char*>(nl) - data;
      const size_t had = partial_.size();
      // Tried again only once the frame has doubled since the last try that failed: a frame
      // with a newline in every chunk would otherwise be joined and parsed once per chunk.
      if (had + line_end <= options_.max_frame_bytes && had + line_end >= next_line_try_) {
        continued_line_bytes_tried_ += had + line_end;
        next_line_try_ = 2 * (had + line_end);
        partial_.Append(std::string_view(data, line_end));
        if (TryDecodeLine(partial_.View(), out)) {
          ResetFrame();
          pos = line_end + 1;
        } else {
          partial_.Truncate(had);  // the scanner goes on from its saved state
        }
      }
    }
  }
  while (!failed_ && pos < n) {
    size_t frame_begin = 0;  // where this chunk's part of the current frame starts
    if (!in_frame_) {
      pos = json::SkipSpace(bytes, pos);
      if (pos == n) return;
      if (bytes[pos] != '{') {
        Fail(Malformed("expected '{' to start event " + std::to_string(frames_ + 1) + ", found " +
                       DescribeByte(bytes[pos])),
             out);
        return;
      }
      // Servers end every frame with a newline, and JSON strings cannot hold a raw one: a line
      // that is a whole frame is decoded without the bracket scan (the general path below still
      // handles frames split across lines, several frames on a line, and every error).
      if (const void* nl = std::memchr(data + pos, '\n', n - pos); nl != nullptr) {
        const size_t line_end = static_cast<const char*>(nl) - data;
        if (TryDecodeLine(bytes.substr(pos, line_end - pos), out)) {
          pos = line_end + 1;
          continue;
        }
      }
      in_frame_ = true;
      in_string_ = false;
      escaped_ = false;
      stack_.assign(1, '{');
      frame_begin = pos;
      ++pos;
    }
    size_t end = Scan(bytes, pos, out);
    if (failed_) return;
    size_t frame_bytes = partial_.size() + ((end == kNpos ? n : end) - frame_begin);
    if (frame_bytes > options_.max_frame_bytes) {
      Fail(FrameOverLimit(frames_ + 1, options_.max_frame_bytes), out);
      return;
    }
    if (end == kNpos) {
      partial_.Append(bytes.substr(frame_begin));
      return;
    }
    in_frame_ = false;
    if (partial_.empty()) {
      DecodeFrame(bytes.substr(frame_begin, end - frame_begin), out);
    } else {
      partial_.Append(bytes.substr(0, end));
      DecodeFrame(partial_.View(), out);
      ResetFrame();
    }
    pos = end;
  }
}

void WatchDecoder::ResetFrame() {
  in_frame_ = false;
  next_line_try_ = 0;
  partial_.Clear();  // keeps at most one small block for the stream's life
}

void WatchDecoder::Finish(std::vector<WatchEvent>* out) {
  if (failed_) return;
  if (protobuf_ != nullptr) {
    if (Status st = protobuf_->Finish(); !st.ok()) {
      Fail(Truncated(st.message()), out);
    }
    return;
  }
  if (!in_frame_) return;
  Fail(Truncated("it ended inside event " + std::to_string(frames_ + 1) + " after " +
                 std::to_string(partial_.size()) + " bytes"),
       out);
}

bool IsUndecodableWatchEvent(const Status& s) {
  return s.code() == StatusCode::kDataLoss && s.http_code() == 0 &&
         (s.cause() == StatusCause::kMalformed || s.cause() == StatusCause::kOverLimit);
}

void WatchDecoder::DecodeFrame(std::string_view frame, std::vector<WatchEvent>* out) {
  Result<WatchEvent> event = DecodeWatchFrame(frame);
  ++frames_;
  if (!event) {
    Fail(event.error().WithContext("event " + std::to_string(frames_)), out);
    return;
  }
  out->push_back(*std::move(event));
}

Result<WatchEvent> DecodeWatchFrame(std::string_view frame) {
  auto malformed = [](std::string what) { return Malformed(std::move(what)); };
  if (frame.empty() || frame.front() != '{' || frame.back() != '}') {
    return malformed("not a JSON object");
  }
  std::string_view type_body;
  std::string_view object_json;
  bool has_type = false;
  size_t i = json::SkipSpace(frame, 1);
  if (frame[i] != '}') {
    while (true) {
      if (frame[i] != '"')
        return malformed("expected a member name, found " + DescribeByte(frame[i]));
      size_t key_end = json::SkipString(frame, i);
      if (key_end == json::kNpos) return malformed("unterminated member name");
      std::string_view key_body = frame.substr(i + 1, key_end - i - 2);
      i = json::SkipSpace(frame, key_end);
      if (i >= frame.size() || frame[i] != ':')
        return malformed("expected ':' after a member name");
      i = json::SkipSpace(frame, i + 1);
      size_t value_end = json::SkipValue(frame, i);
      if (value_end == json::kNpos || value_end <= i || value_end > frame.size() - 1) {
        return malformed("a member has no value");
      }
      std::string_view value = frame.substr(i, value_end - i);
      if (json::KeyEquals(key_body, "type")) {
        if (value.size() < 2 || value.front() != '"' ||
            json::SkipString(value, 0) != value.size()) {
          return malformed("\"type\" is not a string");
        }
        type_body = value.substr(1, value.size() - 2);
        has_type = true;
      } else if (json::KeyEquals(key_body, "object")) {
        object_json = value;
      } else if (!IsValidJson(value)) {
        return malformed("invalid JSON in member " + Quote(key_body));
      }
      i = json::SkipSpace(frame, value_end);
      if (frame[i] == ',') {
        i = json::SkipSpace(frame, i + 1);
        continue;
      }
      if (frame[i] == '}' && i == frame.size() - 1) break;
      return malformed("expected ',' or '}' after a member, found " + DescribeByte(frame[i]));
    }
  }
  if (!has_type) return malformed("no \"type\"");
  std::string type_name;
  if (type_body.find('\\') == std::string_view::npos) {
    type_name.assign(type_body);
  } else {
    json::AppendUnescaped(type_body, &type_name);
  }
  std::optional<WatchEventType> type = ParseWatchEventType(type_name);
  if (!type) return InvalidEventType(type_name);
  if (object_json.empty() || object_json == "null") {
    return malformed(std::string("no \"object\" in a ") + type_name + " event");
  }
  Result<ObjectPtr> object = Object::Parse(object_json);
  if (!object) {
    return malformed("the " + type_name +
                     " event's object does not decode: " + object.error().message());
  }
  WatchEvent event{*type, *std::move(object), Status()};
  if (event.type == WatchEventType::kError) event.error = StatusFromStatusObject(*event.object);
  return event;
}

Status StatusFromStatusObject(const Object& object, int http_code) {
  Result<int64_t> code = object.GetInt64("code");
  int status_code = code && *code > 0 && *code < 1000 ? static_cast<int>(*code) : http_code;
  Result<std::string> reason = object.GetString("reason");
  Result<std::string> message = object.GetString("message");
  if (object.kind() != "Status" && !code && !reason) {
    return InternalError("the server sent a " + Quote(object.kind()) +
                         " object where a Status was expected")
        .set_http_code(http_code);
  }
  if (status_code == 0) status_code = 500;
  std::string text = message ? *message : std::string();
  // Messages are logged and copied with every retry: a server's megabytes are cut short.
  constexpr size_t kMaxMessage = 16 * 1024;
  if (text.size() > kMaxMessage) {
    const size_t cut = text.size() - kMaxMessage;
    text.resize(kMaxMessage);
    while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) {
      text.pop_back();  // not in the middle of a UTF-8 sequence
    }
    if (!text.empty() && static_cast<unsigned char>(text.back()) >= 0xC0) text.pop_back();
    text += "... (" + std::to_string(cut) + " more bytes)";
  }
  if (text.empty()) {
    text = "the server reported an error (HTTP " + std::to_string(status_code) +
           (reason && !reason->empty() ? ", " + *reason : std::string()) + ")";
  }
  Status s = StatusFromHttp(status_code, reason ? *reason : std::string(), std::move(text));
  Result<int64_t> retry = object.GetInt64("details.retryAfterSeconds");
  if (retry && *retry > 0) s.set_retry_after(std::chrono::seconds(*retry));
  // The typed cause the reflector acts on: kube-apiserver names it in `details.causes` (the reason
  // since 1.18.6; from 1.17 to 1.18.5 only the cause's message, on a 504 Timeout).
  constexpr int kMaxCauses = 16;
  for (int i = 0; i < kMaxCauses; ++i) {
    const std::string at = "details.causes[" + std::to_string(i) + "]";
    if (!object.Has(at)) break;
    Result<std::string> cause_reason = object.GetString(at + ".reason");
    Result<std::string> cause_message = object.GetString(at + ".message");
    if ((cause_reason && *cause_reason == "ResourceVersionTooLarge") ||
        (IsTimeout(s) && cause_message && *cause_message == "Too large resource version")) {
      s.set_cause(StatusCause::kResourceVersionTooLarge);
      break;
    }
  }
  return s;
}

}  // namespace kube::internal
