// WatchDecoder: bytes of a watch response, in chunks of any size, to `WatchEvent`s.
//
// Reads from: the HTTP transport's data callbacks (client/http_client.h), on its I/O thread.
// Feeds: the resource client's one watch pump (`WatchAsyncBatched`, client/rest_client.h), whose
// batches reach the reflector's callbacks or, for a pull `Watch`, its event channel.
// client-go: rest/watch/decoder.go and apimachinery's streaming JSON framer (json.Framer).
//
// A frame is one JSON object `{"type":"ADDED","object":{...}}`. Servers put a newline after each,
// but like client-go the decoder does not rely on it: it finds where an object ends with a
// string-aware bracket scanner, so frames may be split at any byte and several may share a chunk;
// whitespace between frames is skipped. The object is decoded with `Object::Parse` straight from
// its bytes in the frame (one parse per event; the scanner itself does not copy).
//
// The fast path: a raw newline cannot occur inside a JSON string, so when a newline follows a
// frame's start, the line is tried first as a whole `{"type":"T","object":{...}}` frame (the
// object's parse validates it), without the bracket scan or a second pass over the envelope. A
// line of any other shape, or one that does not decode, goes through the scanner as above, so
// results and errors are the same either way.
//
// Any fault ends the stream with exactly one ERROR event and then nothing more (each error carries
// its `StatusCause`, kube/status.h, for callers to act on):
//   - a frame that is not valid JSON, lacks `type` or `object`, or whose object fails to decode
//     -> kDataLoss "malformed watch event: ...";
//   - an unknown `type` -> kDataLoss "got invalid watch event type: X";
//   - a frame larger than `max_frame_bytes` -> kDataLoss, without buffering it whole;
//   - end of input inside a frame (`Finish`) -> kDataLoss "watch stream truncated ...".
//
// After `UseProtobuf()` the stream is read as `application/vnd.kubernetes.protobuf;stream=watch`
// (length-prefixed WatchEvent messages, kube/proto/protobuf.h) with the same contract and the same
// phrases: a bad frame or an unknown event type is a "malformed watch event" or "invalid watch
// event type", a frame over `max_frame_bytes` is refused when its length is read, and a stream
// ending inside a frame is "truncated". An object whose kind has no protobuf form is malformed
// too, and sets `unknown_kind()` so the client can fall back to JSON.
// A server ERROR event is passed on as an ordinary event (its Status decoded); it does not end
// the decoder.
#ifndef KUBE_SRC_WATCH_WATCH_DECODER_H_
#define KUBE_SRC_WATCH_WATCH_DECODER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kube/object.h"
#include "kube/proto/protobuf.h"
#include "kube/status.h"
#include "kube/watch/watch.h"

namespace kube::internal {

struct WatchDecoderOptions {
  size_t max_frame_bytes = size_t{64} << 20;  // 64 MiB
  // Deeper nesting is refused as malformed (simdjson's own default limit is 1024).
  size_t max_depth = 1000;
};

// The bytes of a frame that spans chunks. They are kept in blocks that never reallocate: one
// string grown by doubling would copy itself at each step and, near the frame limit, hold its old
// and new buffers at once (up to 1.5 times the limit, with a capacity up to twice the bytes). The
// bytes held stay within the frame's size plus one block, so refusing a frame over the limit
// never costs much more than the limit.
class PendingFrame {
 public:
  // Blocks after the first are this big (or as big as one appended piece). The first grows by
  // doubling up to it, so small frames split across chunks stay one cheap string.
  static constexpr size_t kBlockBytes = size_t{256} << 10;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void Append(std::string_view bytes);
  // The bytes as one string. Joins the blocks into one (freeing each as it is copied), so this
  // costs a copy once a frame has outgrown the first block.
  std::string_view View();
  // Keeps the first `n` bytes. Call after `View()`.
  void Truncate(size_t n);
  // Empties it, keeping one small block for the next frame and freeing anything larger.
  void Clear();
  // Bytes allocated now (capacities, a join's two copies included).
  size_t held() const { return held_; }

  // The most bytes any PendingFrame of the process has held at once since the last reset: what a
  // test reads to check that a frame over the limit is refused without being buffered.
  static size_t HighWaterForTesting();
  static void ResetHighWaterForTesting();

 private:
  void SetHeld(size_t held);

  std::vector<std::string> blocks_;
  size_t size_ = 0;
  size_t held_ = 0;
};

// Thread-compatible: one decoder per stream, fed from one thread at a time.
class WatchDecoder {
 public:
  explicit WatchDecoder(WatchDecoderOptions options = {});

  // Decodes what `bytes` completes and appends the events to `*out` (which it does not clear).
  // After an error event (the last thing it appends), every later call appends nothing.
  void Feed(std::string_view bytes, std::vector<WatchEvent>* out);

  // The stream ended. Appends the "truncated" ERROR event when a frame was incomplete.
  void Finish(std::vector<WatchEvent>* out);

  // Reads the stream as protobuf frames. Call before the first `Feed`.
  void UseProtobuf();
  bool protobuf() const { return protobuf_ != nullptr; }
  // Whether the stream failed on an object of a kind without a protobuf form.
  bool unknown_kind() const { return unknown_kind_; }

  // Whether an ERROR of the decoder's own has ended the stream.
  bool failed() const { return failed_; }
  // Whether bytes of an incomplete frame are pending.
  bool has_partial_frame() const { return in_frame_; }
  // Events decoded so far (for messages).
  size_t frames() const { return frames_; }
  // Bytes of frames continued from earlier chunks that the newline fast path has tried to
  // decode, retries included: linear in the stream's size.
  size_t ContinuedLineBytesTriedForTesting() const { return continued_line_bytes_tried_; }

 private:
  // Scans `data[pos, end)` with the current bracket state. Returns the index one past the frame's
  // closing brace, or npos if the frame does not end in this span. Sets `failed_` (appending the
  // error) on a structural error.
  size_t Scan(std::string_view data, size_t pos, std::vector<WatchEvent>* out);
  void DecodeFrame(std::string_view frame, std::vector<WatchEvent>* out);
  // The fast path for one line that should be a whole frame: appends its event and returns true,
  // or returns false (appending nothing) for the general path to handle it.
  bool TryDecodeLine(std::string_view line, std::vector<WatchEvent>* out);
  // Ends the current frame: clears `partial_` (freeing it if it grew large).
  void ResetFrame();
  void Fail(Status status, std::vector<WatchEvent>* out);
  void FeedProtobuf(std::string_view bytes, std::vector<WatchEvent>* out);

  WatchDecoderOptions options_;
  bool failed_ = false;
  size_t frames_ = 0;
  // Scanner state, valid while `in_frame_`.
  bool in_frame_ = false;
  bool in_string_ = false;
  bool escaped_ = false;  // the previous byte inside a string was an unconsumed backslash
  std::string stack_;     // open brackets, '{' or '['
  // Bytes of the current frame received in earlier chunks (empty when it started in this chunk).
  PendingFrame partial_;
  // The fast path tries a continued frame again only once it has this many bytes.
  size_t next_line_try_ = 0;
  size_t continued_line_bytes_tried_ = 0;
  // Protobuf mode.
  std::unique_ptr<ProtobufWatchDecoder> protobuf_;
  std::vector<ProtobufWatchEvent> protobuf_events_;
  bool unknown_kind_ = false;
};

// Whether `s` is one of the decoder's errors for an event that cannot be decoded at all (its
// cause kMalformed: malformed, unknown type; or kOverLimit: over the frame limit): resuming the
// watch would meet the same event again, so the reflector relists instead. Not the "truncated"
// error (cause kTruncated: the stream broke inside an event, as when a connection drops: resuming
// is enough).
bool IsUndecodableWatchEvent(const Status& s);

// One whole frame, for tests and tools. Errors as described above.
Result<WatchEvent> DecodeWatchFrame(std::string_view frame);

// The Status that a Status object (an ERROR event's object, or an error response body) means:
// its `code` (falling back to `http_code`, then 500), `reason`, `message` and
// `details.retryAfterSeconds`. An object that is not a Status gives kInternal, naming its kind.
Status StatusFromStatusObject(const Object& object, int http_code = 0);

}  // namespace kube::internal

#endif  // KUBE_SRC_WATCH_WATCH_DECODER_H_
