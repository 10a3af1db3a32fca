// Tests for the watch stream decoder: framing at any byte boundary, malformed and truncated input.
#include "watch/watch_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "kube/watch/watch.h"

namespace kube::internal {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

// A Pod event whose strings hold the bytes a framer must not trip over: braces, brackets, quotes,
// backslashes (single, double, before a quote), escapes and multi-byte UTF-8.
std::string PodFrame(std::string_view type, int i) {
  std::string n = std::to_string(i);
  return R"({"type":")" + std::string(type) +
         R"(","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"pod-)" + n +
         R"(","namespace":"default","resourceVersion":")" + std::to_string(100 + i) +
         R"(","uid":"u-)" + n + R"(","labels":{"app":"web","i":")" + n +
         R"("},"annotations":{"tricky":"{\"a\":[1,2,{\"b\":\"}\"}]} \\ \\\" \u00e9 ü ]]}}","empty":""}},)"
         R"("spec":{"nodeName":"node-1","containers":[{"name":"c","image":"nginx:1.)" +
         n + R"(","args":["--x={y}","[z]","\\"]}]},"status":{"phase":"Running","podIP":"10.0.0.)" +
         n + R"("}}})";
}

std::string BookmarkFrame(std::string_view rv, bool initial_end) {
  std::string annotations =
      initial_end ? R"(,"annotations":{"k8s.io/initial-events-end":"true"})" : "";
  return R"({"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":")" +
         std::string(rv) + "\"" + annotations + "}}}";
}

constexpr std::string_view kExpiredFrame =
    R"json({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 100 (250)","reason":"Expired","code":410}})json";

// A recorded-style stream: initial ADDEDs, a bookmark ending the initial events, changes, a
// periodic bookmark, and the server's 410 before it closes.
std::string RecordedStream() {
  std::string s;
  for (int i = 0; i < 6; ++i) s += PodFrame("ADDED", i) + "\n";
  s += BookmarkFrame("105", true) + "\n";
  s += PodFrame("MODIFIED", 3) + "\n";
  s += PodFrame("DELETED", 4) + "\n";
  s += BookmarkFrame("120", false) + "\n";
  s += PodFrame("ADDED", 7) + "\n";
  s += std::string(kExpiredFrame) + "\n";
  return s;
}

// Events reduced to comparable text.
std::vector<std::string> Describe(const std::vector<WatchEvent>& events) {
  std::vector<std::string> out;
  for (const WatchEvent& e : events) {
    std::string d(WatchEventTypeName(e.type));
    d += ' ';
    d += e.object ? std::string(e.object->json()) : "<null>";
    if (!e.error.ok()) d += " error=" + e.error.ToString();
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<WatchEvent> DecodeChunks(const std::vector<std::string_view>& chunks,
                                     WatchDecoderOptions options = {}) {
  WatchDecoder decoder(options);
  std::vector<WatchEvent> events;
  for (std::string_view c : chunks) decoder.Feed(c, &events);
  decoder.Finish(&events);
  return events;
}

std::vector<WatchEvent> DecodeWhole(std::string_view s, WatchDecoderOptions options = {}) {
  return DecodeChunks({s}, options);
}

TEST(WatchEventTypeTest, NamesRoundTrip) {
  for (WatchEventType t :
       {WatchEventType::kAdded, WatchEventType::kModified, WatchEventType::kDeleted,
        WatchEventType::kBookmark, WatchEventType::kError}) {
    EXPECT_EQ(ParseWatchEventType(WatchEventTypeName(t)), t);
  }
  EXPECT_EQ(ParseWatchEventType("added"), std::nullopt);
  EXPECT_EQ(ParseWatchEventType(""), std::nullopt);
}

TEST(WatchDecoderTest, DecodesRecordedStream) {
  std::vector<WatchEvent> events = DecodeWhole(RecordedStream());
  ASSERT_THAT(events, SizeIs(12));
  EXPECT_EQ(events[0].type, WatchEventType::kAdded);
  EXPECT_EQ(events[0].object->name(), "pod-0");
  EXPECT_EQ(events[0].object->resource_version(), "100");
  EXPECT_EQ(events[0].object->annotations().Get("tricky").value_or(""),
            "{\"a\":[1,2,{\"b\":\"}\"}]} \\ \\\" \u00e9 ü ]]}}");
  EXPECT_EQ(events[6].type, WatchEventType::kBookmark);
  EXPECT_EQ(events[6].object->resource_version(), "105");
  EXPECT_EQ(events[6].object->annotations().Get("k8s.io/initial-events-end").value_or(""), "true");
  EXPECT_EQ(events[7].type, WatchEventType::kModified);
  EXPECT_EQ(events[8].type, WatchEventType::kDeleted);
  EXPECT_EQ(events[8].object->name(), "pod-4");
  EXPECT_EQ(events[9].type, WatchEventType::kBookmark);
  EXPECT_EQ(events[10].type, WatchEventType::kAdded);
  for (size_t i = 0; i + 1 < events.size(); ++i) EXPECT_TRUE(events[i].error.ok()) << i;
}

TEST(WatchDecoderTest, ErrorEventCarriesServerStatus) {
  std::vector<WatchEvent> events = DecodeWhole(kExpiredFrame);
  ASSERT_THAT(events, SizeIs(1));
  const WatchEvent& e = events[0];
  EXPECT_EQ(e.type, WatchEventType::kError);
  ASSERT_NE(e.object, nullptr);
  EXPECT_EQ(e.object->kind(), "Status");
  EXPECT_TRUE(IsGone(e.error));
  EXPECT_TRUE(IsResourceExpired(e.error));
  EXPECT_EQ(e.error.code(), StatusCode::kGone);
  EXPECT_EQ(e.error.http_code(), 410);
  EXPECT_EQ(e.error.reason(), "Expired");
  EXPECT_EQ(e.error.message(), "too old resource version: 100 (250)");
}

TEST(WatchDecoderTest, ErrorEventKeepsRetryAfterAndDefaultsCode) {
  std::vector<WatchEvent> events = DecodeWhole(
      R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure",)"
      R"("message":"slow down","reason":"TooManyRequests","code":429,"details":{"retryAfterSeconds":3}}})"
      "\n"
      R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure"}})");
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_TRUE(IsTooManyRequests(events[0].error));
  EXPECT_EQ(events[0].error.retry_after(), std::chrono::seconds(3));
  EXPECT_EQ(events[1].error.http_code(), 500);
  EXPECT_FALSE(events[1].error.ok());
}

TEST(WatchDecoderTest, SplitAtEveryByteOffsetGivesTheSameEvents) {
  const std::string stream = RecordedStream();
  const std::vector<std::string> want = Describe(DecodeWhole(stream));
  ASSERT_THAT(want, SizeIs(12));
  std::string_view s = stream;
  for (size_t k = 0; k <= s.size(); ++k) {
    std::vector<std::string> got = Describe(DecodeChunks({s.substr(0, k), s.substr(k)}));
    ASSERT_EQ(got, want) << "split at byte " << k;
  }
}

TEST(WatchDecoderTest, OneByteAtATimeGivesTheSameEvents) {
  const std::string stream = RecordedStream();
  std::vector<std::string_view> chunks;
  for (size_t i = 0; i < stream.size(); ++i)
    chunks.push_back(std::string_view(stream).substr(i, 1));
  EXPECT_EQ(Describe(DecodeChunks(chunks)), Describe(DecodeWhole(stream)));
}

TEST(WatchDecoderTest, RandomChunkSizesGiveTheSameEvents) {
  const std::string stream = RecordedStream();
  const std::vector<std::string> want = Describe(DecodeWhole(stream));
  for (size_t max_chunk : {size_t{3}, size_t{17}, size_t{256}, size_t{4096}}) {
    for (uint32_t seed = 1; seed <= 50; ++seed) {
      std::mt19937 rng(seed);
      std::uniform_int_distribution<size_t> size(1, max_chunk);
      std::vector<std::string_view> chunks;
      for (size_t pos = 0; pos < stream.size();) {
        size_t n = std::min(size(rng), stream.size() - pos);
        chunks.push_back(std::string_view(stream).substr(pos, n));
        pos += n;
      }
      ASSERT_EQ(Describe(DecodeChunks(chunks)), want)
          << "max chunk " << max_chunk << ", seed " << seed;
    }
  }
}

TEST(WatchDecoderTest, NewlinesAreOptionalAndWhitespaceBetweenFramesIgnored) {
  std::string compact;
  std::string spaced = "\r\n  ";
  for (int i = 0; i < 3; ++i) {
    compact += PodFrame("ADDED", i);
    spaced += PodFrame("ADDED", i) + " \t\r\n\n ";
  }
  EXPECT_THAT(DecodeWhole(compact), SizeIs(3));
  EXPECT_EQ(Describe(DecodeWhole(compact)), Describe(DecodeWhole(spaced)));
}

TEST(WatchDecoderTest, ToleratesWhitespaceInsideAFrameAndMembersInAnyOrder) {
  std::vector<WatchEvent> events = DecodeWhole(
      "{ \"object\" : {\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\"}} ,\n"
      "  \"extra\" : [1, {\"x\": null}], \"type\" : \"ADDED\" }\n");
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].type, WatchEventType::kAdded);
  EXPECT_EQ(events[0].object->name(), "a");
}

TEST(WatchDecoderTest, EscapedTypeNameDecodes) {
  std::vector<WatchEvent> events = DecodeWhole(
      R"({"type":"\u0041DDED","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}})");
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].type, WatchEventType::kAdded);
}

TEST(WatchDecoderTest, EmptyInputGivesNoEvents) {
  EXPECT_THAT(DecodeWhole(""), SizeIs(0));
  EXPECT_THAT(DecodeWhole(" \n\r\n\t"), SizeIs(0));
}

struct MalformedCase {
  std::string name;
  std::string input;
  std::string message;  // a substring of the error
};

TEST(WatchDecoderTest, MalformedFrameEndsTheStreamWithExactlyOneError) {
  const std::string good = PodFrame("ADDED", 1) + "\n";
  const std::vector<MalformedCase> cases = {
      {"not an object", "hello\n", "expected '{'"},
      {"array frame", "[1,2]\n", "expected '{'"},
      {"mismatched brackets", R"({"type":"ADDED","object":{"a":[}]})", "closes"},
      {"unknown type", R"({"type":"CHANGED","object":{"kind":"Pod"}})", "invalid watch event type"},
      {"lower-case type", R"({"type":"added","object":{"kind":"Pod"}})",
       "invalid watch event type"},
      {"type not a string", R"({"type":1,"object":{"kind":"Pod"}})", "\"type\" is not a string"},
      {"no type", R"({"object":{"kind":"Pod"}})", "no \"type\""},
      {"no object", R"({"type":"ADDED"})", "no \"object\""},
      {"null object", R"({"type":"ADDED","object":null})", "no \"object\""},
      {"object not an object", R"({"type":"ADDED","object":[1]})", "does not decode"},
      {"bad JSON inside the object", R"({"type":"ADDED","object":{"kind":"Pod","x":tru}})",
       "does not decode"},
      {"bad JSON in another member", R"({"type":"ADDED","x":nul,"object":{"kind":"Pod"}})",
       "invalid JSON"},
      {"missing comma", R"({"type":"ADDED" "object":{"kind":"Pod"}})", "expected ','"},
      {"missing colon", R"({"type" "ADDED","object":{"kind":"Pod"}})", "expected ':'"},
      {"bare key", R"({type:"ADDED","object":{"kind":"Pod"}})", "member name"},
      {"empty frame", "{}", "no \"type\""},
  };
  for (const MalformedCase& c : cases) {
    SCOPED_TRACE(c.name);
    // A good frame first (delivered), the bad one, then more good frames (never delivered).
    WatchDecoder decoder;
    std::vector<WatchEvent> events;
    decoder.Feed(good, &events);
    decoder.Feed(c.input, &events);
    decoder.Feed("\n" + good + good, &events);
    decoder.Finish(&events);
    ASSERT_THAT(events, SizeIs(2));
    EXPECT_EQ(events[0].type, WatchEventType::kAdded);
    EXPECT_EQ(events[1].type, WatchEventType::kError);
    EXPECT_EQ(events[1].object, nullptr);
    EXPECT_EQ(events[1].error.code(), StatusCode::kDataLoss);
    EXPECT_THAT(events[1].error.message(), HasSubstr(c.message));
    EXPECT_TRUE(decoder.failed());
  }
}

// Each error of the decoder carries its typed cause, which is what callers act on
// (`IsUndecodableWatchEvent`: relist rather than resume).
TEST(WatchDecoderTest, ErrorsCarryATypedCause) {
  struct Case {
    std::string name;
    std::string input;
    StatusCause cause;
  };
  const std::vector<Case> cases = {
      {"malformed", "hello\n", StatusCause::kMalformed},
      {"unknown type", R"({"type":"CHANGED","object":{"kind":"Pod"}})", StatusCause::kMalformed},
      {"object does not decode", R"({"type":"ADDED","object":[1]})", StatusCause::kMalformed},
      {"over the frame limit",
       std::string(R"({"type":"ADDED","object":{"d":")") + std::string(3000, 'x') + "\"}}",
       StatusCause::kOverLimit},
      {"truncated", R"({"type":"ADDED","object":{"kind":)", StatusCause::kTruncated},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<WatchEvent> events = DecodeWhole(c.input, {.max_frame_bytes = 1024});
    ASSERT_THAT(events, SizeIs(1));
    EXPECT_EQ(events[0].error.cause(), c.cause);
    EXPECT_EQ(IsUndecodableWatchEvent(events[0].error), c.cause != StatusCause::kTruncated);
  }
}

TEST(WatchDecoderTest, UndecodableIsDecidedByTheCauseNotTheMessage) {
  // A broken transfer whose text happens to quote a decoder phrase is a broken connection.
  EXPECT_FALSE(IsUndecodableWatchEvent(
      DataLossError("watch stream broke: proxy said \"malformed watch event\"")));
  EXPECT_FALSE(IsUndecodableWatchEvent(DataLossError("exceeds the 1024-byte frame limit")));
}

TEST(WatchDecoderTest, StatusObjectCauseResourceVersionTooLargeIsTyped) {
  auto status = [](std::string_view json) {
    Result<ObjectPtr> obj = Object::Parse(json);
    EXPECT_TRUE(obj) << obj.error();
    return obj ? StatusFromStatusObject(**obj) : InternalError("unparsed");
  };
  // kube-apiserver since 1.18.6: the cause's reason, whatever the message says.
  EXPECT_TRUE(IsTooLargeResourceVersion(status(
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"the cache is behind",)"
      R"("reason":"Timeout","details":{"causes":[{"reason":"ResourceVersionTooLarge",)"
      R"("message":"Too large resource version"}]},"code":504})")));
  // 1.17 to 1.18.5: only the cause's message, on a 504 Timeout.
  EXPECT_TRUE(IsTooLargeResourceVersion(status(
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"the cache is behind",)"
      R"("reason":"Timeout","details":{"causes":[{"message":"Too large resource version"}]},)"
      R"("code":504})")));
  // A 500 whose message quotes the phrase is an internal error, nothing more.
  EXPECT_FALSE(IsTooLargeResourceVersion(
      status(R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"InternalError",)"
             R"("message":"etcd: Too large resource version: 7","code":500})")));
}

TEST(WatchDecoderTest, MalformedFrameSplitAtEveryOffsetStillGivesOneError) {
  const std::string stream = PodFrame("ADDED", 1) + "\n" +
                             R"({"type":"ADDED","object":{"a":"}\"",[}]})" + "\n" +
                             PodFrame("ADDED", 2);
  std::string_view s = stream;
  for (size_t k = 0; k <= s.size(); ++k) {
    std::vector<WatchEvent> events = DecodeChunks({s.substr(0, k), s.substr(k)});
    ASSERT_THAT(events, SizeIs(2)) << k;
    ASSERT_EQ(events[1].type, WatchEventType::kError) << k;
  }
}

TEST(WatchDecoderTest, TruncatedStreamEndsWithOneError) {
  const std::string frame = PodFrame("ADDED", 1);
  // Cut inside the frame at every offset, including inside strings and right after a backslash.
  for (size_t k = 1; k < frame.size(); ++k) {
    std::vector<WatchEvent> events = DecodeWhole(PodFrame("ADDED", 0) + "\n" + frame.substr(0, k));
    ASSERT_THAT(events, SizeIs(2)) << k;
    EXPECT_EQ(events[0].type, WatchEventType::kAdded);
    EXPECT_EQ(events[1].type, WatchEventType::kError);
    EXPECT_EQ(events[1].error.code(), StatusCode::kDataLoss);
    EXPECT_THAT(events[1].error.message(), HasSubstr("truncated"));
  }
}

TEST(WatchDecoderTest, OversizedFrameFailsWithoutBufferingIt) {
  WatchDecoderOptions options;
  options.max_frame_bytes = 1024;
  WatchDecoder decoder(options);
  std::vector<WatchEvent> events;
  decoder.Feed(R"({"type":"ADDED","object":{"kind":"Pod","data":")", &events);
  std::string filler(300, 'x');
  for (int i = 0; i < 100 && !decoder.failed(); ++i) decoder.Feed(filler, &events);
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].error.code(), StatusCode::kDataLoss);
  EXPECT_THAT(events[0].error.message(), HasSubstr("1024-byte frame limit"));
  // A frame that fits is fine; one over the limit in a single chunk fails too.
  EXPECT_THAT(DecodeWhole(PodFrame("ADDED", 1), options), SizeIs(1));
  std::string big =
      R"({"type":"ADDED","object":{"kind":"Pod","data":")" + std::string(2000, 'y') + "\"}}";
  std::vector<WatchEvent> big_events = DecodeWhole(big, options);
  ASSERT_THAT(big_events, SizeIs(1));
  EXPECT_EQ(big_events[0].type, WatchEventType::kError);
}

// An unterminated frame far larger than the limit, in chunks that are not powers of two: the
// decoder refuses it once the pending bytes pass the limit, having held at most the limit plus one
// block (a string grown by doubling would reach a capacity of 4 MiB for a 3 MiB limit, and hold
// its old and new buffers at once while growing), and frees them.
TEST(WatchDecoderTest, UnterminatedFrameOverTheLimitIsRefusedHoldingAboutTheLimit) {
  constexpr size_t kLimit = size_t{3} << 20;
  WatchDecoderOptions options;
  options.max_frame_bytes = kLimit;
  WatchDecoder decoder(options);
  PendingFrame::ResetHighWaterForTesting();
  std::vector<WatchEvent> events;
  decoder.Feed(R"({"type":"ADDED","object":{"kind":"Pod","data":")", &events);
  const std::string filler(10000, 'x');
  size_t fed = 0;
  while (!decoder.failed() && fed < 4 * kLimit) {
    decoder.Feed(filler, &events);
    fed += filler.size();
  }
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].type, WatchEventType::kError);
  EXPECT_EQ(events[0].error.message(), "watch event 1 exceeds the 3145728-byte frame limit");
  EXPECT_LE(fed, kLimit + filler.size());  // refused as soon as the limit was passed
  EXPECT_GE(PendingFrame::HighWaterForTesting(), kLimit - filler.size());
  EXPECT_LE(PendingFrame::HighWaterForTesting(), kLimit + PendingFrame::kBlockBytes);
  EXPECT_FALSE(decoder.has_partial_frame());
}

// Frames spanning many chunks and blocks decode to the same events as whole ones.
TEST(WatchDecoderTest, LargeFramesAcrossBlocksDecode) {
  // The data ends with an escaped quote, so a block boundary may fall inside an escape.
  const std::string big = R"({"type":"ADDED","object":{"apiVersion":"v1","kind":"Pod",)"
                          R"("metadata":{"name":"big","resourceVersion":"5"},"data":")" +
                          std::string(3 * PendingFrame::kBlockBytes + 123, 'z') + R"(\""}})";
  const std::string stream = big + "\n" + PodFrame("MODIFIED", 6) + "\n";
  for (size_t chunk : {size_t{1000}, size_t{16384}, PendingFrame::kBlockBytes + 7}) {
    SCOPED_TRACE(chunk);
    WatchDecoder decoder;
    std::vector<WatchEvent> events;
    for (size_t pos = 0; pos < stream.size(); pos += chunk) {
      decoder.Feed(std::string_view(stream).substr(pos, chunk), &events);
    }
    decoder.Finish(&events);
    ASSERT_THAT(events, SizeIs(2));
    EXPECT_EQ(events[0].type, WatchEventType::kAdded);
    EXPECT_EQ(events[0].object->name(), "big");
    EXPECT_EQ(events[1].type, WatchEventType::kModified);
  }
}

// A frame spanning thousands of chunks, each with a newline after a '}' (JSON allows newlines
// between tokens): the newline fast path tries the frame again only once it has doubled, so the
// work stays linear instead of one join and parse of the whole frame per chunk.
TEST(WatchDecoderTest, FrameWithANewlineInEveryChunkIsTriedLinearly) {
  std::string piece = R"(,{"a":")" + std::string(1000, 'x') + "\"}\n";
  std::string stream = R"({"type":"ADDED","object":{"apiVersion":"v1","kind":"Pod",)"
                       R"("metadata":{"name":"p","resourceVersion":"5"},"items":[{})";
  const size_t pieces = 4000;
  WatchDecoder decoder;
  std::vector<WatchEvent> events;
  decoder.Feed(stream, &events);
  for (size_t i = 0; i < pieces; ++i) decoder.Feed(piece, &events);
  decoder.Feed("]}}\n", &events);
  decoder.Finish(&events);
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].type, WatchEventType::kAdded);
  EXPECT_EQ(events[0].object->name(), "p");
  EXPECT_LT(decoder.ContinuedLineBytesTriedForTesting(), 4 * pieces * piece.size());
}

TEST(WatchDecoderTest, DeepNestingIsRefused) {
  WatchDecoderOptions options;
  options.max_depth = 64;
  std::string deep = R"({"type":"ADDED","object":{"kind":"Pod","x":)" + std::string(100, '[') +
                     std::string(100, ']') + "}}";
  std::vector<WatchEvent> events = DecodeWhole(deep, options);
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_THAT(events[0].error.message(), HasSubstr("nested deeper"));
}

TEST(WatchDecoderTest, ErrorMessagesNeverQuoteTheObject) {
  // A Secret's data must not leak into an error message.
  std::vector<WatchEvent> events = DecodeWhole(
      R"({"type":"ADDED","object":{"kind":"Secret","data":{"password":"hunter2"},"x":tru}})");
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_THAT(events[0].error.message(), ::testing::Not(HasSubstr("hunter2")));
}

TEST(WatchDecoderTest, ManyFramesInOneChunk) {
  std::string s;
  for (int i = 0; i < 1000; ++i) s += PodFrame(i % 2 ? "MODIFIED" : "ADDED", i) + "\n";
  std::vector<WatchEvent> events = DecodeWhole(s);
  ASSERT_THAT(events, SizeIs(1000));
  EXPECT_EQ(events[999].object->name(), "pod-999");
}

// A line that is a whole frame takes the fast path (no bracket scan); the same bytes without the
// newline go through the scanner. Both must give the same events and the same errors.
TEST(WatchDecoderTest, NewlineFastPathAndScannerAgree) {
  WatchDecoderOptions options;
  options.max_depth = 64;
  const std::string pod = R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"a"}})";
  const std::vector<std::string> lines = {
      PodFrame("ADDED", 1),
      PodFrame("DELETED", 2) + "\r",
      std::string(kExpiredFrame),
      BookmarkFrame("7", true),
      // Another member after the object, a repeated object or type: the last one counts.
      R"({"type":"ADDED","object":)" + pod + R"(,"x":{"y":[1]}})",
      R"({"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"b"}},"object":)" + pod + "}",
      R"({"type":"ADDED","object":)" + pod + R"(,"type":"DELETED"})",
      // Two frames on one line.
      PodFrame("ADDED", 3) + PodFrame("MODIFIED", 3),
      PodFrame("ADDED", 4) + " \t " + PodFrame("MODIFIED", 4),
      // Nesting just inside and just beyond the limit (the frame adds one level).
      R"({"type":"ADDED","object":{"kind":"Pod","x":)" + std::string(62, '[') +
          std::string(62, ']') + "}}",
      R"({"type":"ADDED","object":{"kind":"Pod","x":)" + std::string(63, '[') +
          std::string(63, ']') + "}}",
      // Errors.
      R"({"type":"ADDED","object":{"kind":"Pod","x":tru}})",
      R"({"type":"ADDED","object":{"kind":"Pod"}}})",
      R"({"type":"CHANGED","object":{"kind":"Pod"}})",
      R"({"type":"ADDED","object":[1]})",
  };
  for (const std::string& line : lines) {
    SCOPED_TRACE(line.substr(0, 80));
    const std::vector<std::string> fast = Describe(DecodeWhole(line + "\n", options));
    const std::vector<std::string> scanned = Describe(DecodeWhole(line + " ", options));
    EXPECT_EQ(fast, scanned);
    EXPECT_FALSE(fast.empty());
  }
  // A frame broken over lines: the first line alone ends in '}' but is not a frame.
  std::vector<WatchEvent> events =
      DecodeWhole(R"({"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"c"}})"
                  "\n}\n" +
                      PodFrame("ADDED", 5) + "\n",
                  options);
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[0].object->name(), "c");
  EXPECT_EQ(events[1].object->name(), "pod-5");
}

// The line fast path bounds nesting by counting bracket bytes eight at a time: at every
// alignment of the brackets, and with brackets inside strings (which the count includes, so the
// scanner judges those lines), its verdict is the scanner's, at the limit and one beyond it.
TEST(WatchDecoderTest, FastPathDepthLimitAgreesWithScannerAtEveryAlignment) {
  WatchDecoderOptions options;
  options.max_depth = 64;
  for (size_t pad = 0; pad < 20; ++pad) {
    for (size_t nest : {size_t{61}, size_t{62}, size_t{63}}) {
      for (const std::string& in_string : {std::string(), std::string(3, '['), std::string("{[")}) {
        const std::string line = R"({"type":"ADDED","object":{"kind":"Pod","p":")" +
                                 std::string(pad, 'x') + in_string + R"(","x":)" +
                                 std::string(nest, '[') + std::string(nest, ']') + "}}";
        SCOPED_TRACE(testing::Message()
                     << "pad " << pad << " nest " << nest << " in string " << in_string);
        const std::vector<std::string> fast = Describe(DecodeWhole(line + "\n", options));
        const std::vector<std::string> scanned = Describe(DecodeWhole(line + " ", options));
        EXPECT_EQ(fast, scanned);
        ASSERT_THAT(fast, SizeIs(1));
        // The frame and the object add two levels: 62 nested arrays reach the limit of 64.
        EXPECT_EQ(fast[0].find("nested deeper") != std::string::npos, nest > 62) << fast[0];
      }
    }
  }
}

// Frames split across chunks, each chunk ending mid-frame: the part before the cut is scanned,
// the part after it is decoded by line, and a line that is not the frame's end falls back to
// the scanner's saved state.
TEST(WatchDecoderTest, FrameContinuedInTheNextChunkDecodesByLine) {
  std::string stream;
  for (int i = 0; i < 50; ++i) stream += PodFrame(i % 3 ? "MODIFIED" : "ADDED", i) + "\n";
  // A pretty-printed frame in the middle: its lines are not frames.
  stream +=
      "{\n  \"type\": \"ADDED\",\n  \"object\": {\"kind\":\"Pod\",\"metadata\":"
      "{\"name\":\"pretty\"}}\n}\n";
  stream += PodFrame("ADDED", 99) + "\n";
  const std::vector<std::string> whole = Describe(DecodeWhole(stream));
  ASSERT_THAT(whole, SizeIs(52));
  std::mt19937 rng(7);
  for (int rep = 0; rep < 200; ++rep) {
    std::vector<std::string_view> chunks;
    std::string_view rest = stream;
    while (!rest.empty()) {
      size_t k = std::min<size_t>(rest.size(), 1 + rng() % 1500);
      chunks.push_back(rest.substr(0, k));
      rest.remove_prefix(k);
    }
    ASSERT_EQ(Describe(DecodeChunks(chunks)), whole) << rep;
  }
}

}  // namespace
}  // namespace kube::internal
