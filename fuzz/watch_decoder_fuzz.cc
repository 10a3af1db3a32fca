// Fuzzes the watch stream decoder (src/watch/watch_decoder.h) with arbitrary bytes cut into
// arbitrary chunks.
//
// Input: the first byte gives the number of cut points (0-7), the next bytes give the cuts (each a
// byte of distance from the previous one), the rest is the stream.
//
// Invariants: the events do not depend on where the stream is cut (same types, same objects, same
// error codes as feeding it whole); the decoder's own error is the last event; every decoded
// object re-encodes to JSON that parses back to an equal object.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "kube/object.h"
#include "kube/watch/watch.h"
#include "watch/watch_decoder.h"

namespace {

using kube::WatchEvent;
using kube::WatchEventType;
using kube::internal::WatchDecoder;
using kube::internal::WatchDecoderOptions;

// Small limits, so that the frame-size and depth errors are reachable with small inputs.
constexpr WatchDecoderOptions kOptions{.max_frame_bytes = 2048, .max_depth = 64};

std::vector<WatchEvent> DecodeInChunks(std::string_view stream, const std::vector<size_t>& cuts) {
  WatchDecoder decoder(kOptions);
  std::vector<WatchEvent> events;
  size_t pos = 0;
  for (size_t cut : cuts) {
    size_t end = std::min(stream.size(), pos + cut);
    decoder.Feed(stream.substr(pos, end - pos), &events);
    pos = end;
  }
  decoder.Feed(stream.substr(pos), &events);
  decoder.Finish(&events);
  bool failed = decoder.failed();
  FUZZ_CHECK(!failed || (!events.empty() && events.back().type == WatchEventType::kError),
             "the decoder failed without ending the stream with an ERROR event");
  return events;
}

std::string Describe(const WatchEvent& e) {
  std::string s(kube::WatchEventTypeName(e.type));
  if (e.object) s += " " + std::string(e.object->json());
  if (!e.error.ok()) s += " " + std::string(kube::StatusCodeName(e.error.code()));
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = kube::fuzz::AsText(data, size);
  std::vector<size_t> cuts(kube::fuzz::TakeByte(&input) % 8);
  for (size_t& cut : cuts) cut = kube::fuzz::TakeByte(&input);

  std::vector<WatchEvent> whole = DecodeInChunks(input, {});
  std::vector<WatchEvent> chunked = DecodeInChunks(input, cuts);

  FUZZ_CHECK(whole.size() == chunked.size(),
             "event count depends on chunking: " + std::to_string(whole.size()) + " vs " +
                 std::to_string(chunked.size()));
  for (size_t i = 0; i < whole.size(); ++i) {
    const WatchEvent& a = whole[i];
    const WatchEvent& b = chunked[i];
    FUZZ_CHECK(a.type == b.type && a.error.code() == b.error.code() &&
                   (a.object == nullptr) == (b.object == nullptr) &&
                   (!a.object || *a.object == *b.object),
               "event " + std::to_string(i) + " depends on chunking: " + Describe(a) + " vs " +
                   Describe(b));
    FUZZ_CHECK(a.type == WatchEventType::kError || a.object != nullptr,
               "a non-ERROR event without an object");
    if (a.object) {
      auto again = kube::Object::Parse(a.object->json());
      FUZZ_CHECK(again.has_value(), "a decoded object does not re-parse: " + Describe(a));
      FUZZ_CHECK(**again == *a.object, "re-parsing changes the object: " + Describe(a));
    }
  }
  return 0;
}
