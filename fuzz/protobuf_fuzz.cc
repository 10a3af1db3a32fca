// Fuzzes the protobuf transcoder (include/kube/proto/protobuf.h).
//
// Input: the first byte picks the mode; the rest is a protobuf body (mode 0), a JSON object
// (mode 1, checked as mode 0 from its encoding) or a protobuf watch stream fed in chunks cut at
// every 0x0a byte (mode 2).
//
// Invariants: nothing crashes and no exception escapes; a decoded body is valid JSON that
// re-encodes and decodes, and from then on JSON and bytes are stable (compared as JSON values: an
// escaped U+FFFD for invalid UTF-8 comes back as the character itself; the first round drops
// pointers that were on the wire as zero values and so decoded to `null`, as Go does); an
// encoded JSON object decodes; every decoded watch event re-encodes to a frame that decodes, and
// is stable from then on.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "kube/object.h"
#include "kube/proto/protobuf.h"

namespace {

using kube::ProtobufOptions;

ProtobufOptions Options() {
  ProtobufOptions o;
  o.max_body_bytes = 1 << 20;
  o.max_json_bytes = 8 << 20;
  return o;
}

bool SameJson(const std::string& a, const std::string& b) {
  if (a == b) return true;
  return nlohmann::json::parse(a) == nlohmann::json::parse(b);
}

void CheckDecodedJson(const std::string& json) {
  auto obj = kube::Object::Parse(json);
  FUZZ_CHECK(obj.has_value(),
             "decoded JSON does not parse: " + obj.error().message() + "\n" + json);
  auto pb = kube::JsonToProtobuf(json, Options());
  FUZZ_CHECK(pb.has_value(),
             "decoded JSON does not re-encode: " + pb.error().message() + "\n" + json);
  auto again = kube::ProtobufToJson(*pb, Options());
  FUZZ_CHECK(again.has_value(), "re-encoded body does not decode: " + again.error().message());
  // A pointer present on the wire as a zero value (`deletionTimestamp` as an empty Time) is JSON
  // `null`, which decodes to an absent pointer, as in Go; after that round the JSON is stable.
  auto pb2 = kube::JsonToProtobuf(*again, Options());
  FUZZ_CHECK(pb2.has_value(), "second encoding fails: " + pb2.error().message());
  auto third = kube::ProtobufToJson(*pb2, Options());
  FUZZ_CHECK(third.has_value(), "second decoding fails: " + third.error().message());
  FUZZ_CHECK(SameJson(*third, *again), "round trip changes the JSON:\n" + *again + "\n" + *third);
  auto pb3 = kube::JsonToProtobuf(*third, Options());
  FUZZ_CHECK(pb3.has_value() && *pb3 == *pb2, "third encoding differs: " + *third);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = kube::fuzz::AsText(data, size);
  switch (kube::fuzz::TakeByte(&input) % 3) {
    case 0: {
      auto json = kube::ProtobufToJson(input, Options());
      if (json) CheckDecodedJson(*json);
      break;
    }
    case 1: {
      // Embedded JSON (FieldsV1, RawExtension) is kept as text, and decoding escapes `<` in it,
      // so the bytes settle after one round trip.
      auto pb = kube::JsonToProtobuf(input, Options());
      if (!pb) break;
      auto json = kube::ProtobufToJson(*pb, Options());
      FUZZ_CHECK(json.has_value(), "encoded body does not decode: " + json.error().message());
      CheckDecodedJson(*json);
      break;
    }
    case 2: {
      kube::ProtobufWatchDecoder dec(Options());
      std::vector<kube::ProtobufWatchEvent> events;
      size_t start = 0;
      bool ok = true;
      for (size_t i = 0; i <= input.size() && ok; ++i) {
        if (i == input.size() || input[i] == '\n') {
          ok = dec.Feed(input.substr(start, i - start), &events).ok();
          start = i;
        }
      }
      if (ok) (void)dec.Finish();
      // Encodes `ev` as a frame and decodes it back.
      auto round_trip = [](const kube::ProtobufWatchEvent& ev) {
        std::string frame;
        kube::Status st =
            kube::AppendProtobufWatchFrame(ev.type, ev.object_json, &frame, Options());
        FUZZ_CHECK(st.ok(), "decoded event does not re-encode: " + st.message());
        kube::ProtobufWatchDecoder again(Options());
        std::vector<kube::ProtobufWatchEvent> back;
        FUZZ_CHECK(again.Feed(frame, &back).ok() && back.size() == 1, "re-encoded frame fails");
        FUZZ_CHECK(back[0].type == ev.type, "frame round trip changes the type");
        return back[0];
      };
      for (const auto& ev : events) {
        kube::ProtobufWatchEvent once = round_trip(ev);
        kube::ProtobufWatchEvent twice = round_trip(once);
        FUZZ_CHECK(SameJson(twice.object_json, once.object_json),
                   "frame round trip changes the event: " + once.object_json);
      }
      break;
    }
  }
  return 0;
}
