// The write path's JSON decoding and encoding (object_json.h): the values and text it makes are
// exactly nlohmann's own, whichever parser did the work.
#include "server/object_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "server/decode_checks.h"

namespace kube::server {
namespace {

using nlohmann::json;

json NlohmannParse(std::string_view text) {
  return json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

std::string NlohmannDump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

TEST(ObjectJsonTest, ParseAndDumpMatchNlohmannByteForByte) {
  const char* cases[] = {
      R"({"b":1,"a":2})",
      R"({"a":1,"a":2,"b":{"x":[1,2,{"y":null}]}})",  // a repeated key keeps its last value
      R"({"n":[-0,0,-5,5,9223372036854775807,18446744073709551615,-9223372036854775808]})",
      R"({"f":[1.0,1.5,-2.25,1e2,1E-5,0.1,123456.789,3.0e10]})",
      R"({"t":true,"f":false,"z":null,"e":{},"l":[]})",
      R"({"s":"caf\u00e9 \"quoted\" back\\slash \/ tab\t nl\n cr\r bell\u0007"})",
      R"({"u":"日本語 ✓ é","k\u00e9y":"v"})",
      R"({"emoji":"\ud83d\ude00","lone":"x"})",
      R"({"del":"a\u007fb","ctl":"\u001f"})",
      R"(  {"ws" :  [ 1 , 2 ] }  )",
      "\xEF\xBB\xBF{\"bom\":1}",
  };
  for (const char* text : cases) {
    SCOPED_TRACE(text);
    ApiOr<json> ours = ParseJsonObject(text);
    json theirs = NlohmannParse(text);
    ASSERT_FALSE(theirs.is_discarded());
    ASSERT_TRUE(ours.ok()) << ours.error().message;
    EXPECT_EQ(*ours, theirs);
    EXPECT_EQ(ours->dump(), theirs.dump());
    // Integer kinds as nlohmann makes them (unsigned for non-negative integers).
    if (theirs.contains("n")) {
      for (size_t i = 0; i < theirs["n"].size(); ++i) {
        EXPECT_EQ((*ours)["n"][i].type(), theirs["n"][i].type()) << i;
      }
    }
    EXPECT_EQ(Dump(theirs), NlohmannDump(theirs));
    auto object = Object::Parse(NlohmannDump(theirs));
    ASSERT_TRUE(object.has_value());
    EXPECT_EQ(ToJson(**object), theirs);
  }
}

TEST(ObjectJsonTest, TextNlohmannRefusesIsRefused) {
  const char* cases[] = {
      "{\"raw\":\"a\x01z\"}",  // a control character must be escaped
      "{\"tab\":\"a\tz\"}",    // so must a tab
      R"({"lone":"\ud800"})",  // a high surrogate without its pair
      R"({"lone":"\udc00"})",  // a low surrogate alone
      "{\"bad\":\"\xff\"}",    // not UTF-8
      R"({"a":1,})",           // trailing comma
      R"({"a":01})",           // leading zero
      R"([1,2])",              // not an object
      "",
  };
  for (const char* text : cases) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(ParseJsonObject(text).ok());
  }
}

TEST(ObjectJsonTest, DumpReplacesInvalidUtf8LikeNlohmann) {
  json j = {{"bad", std::string("a\xff"
                                "b")},
            {"ok", "é"},
            {"ctl", std::string("\x01")}};
  EXPECT_EQ(Dump(j), NlohmannDump(j));
  json nested = {{"list", {1.5, -3, 7u, nullptr, true, "x\"y"}}, {"o", {{"k", json::object()}}}};
  EXPECT_EQ(Dump(nested), NlohmannDump(nested));
}

TEST(ObjectJsonTest, ScanSkipsStringsWithEscapedQuotesAndBackslashes) {
  // Brackets and numbers inside strings count for nothing; after the string they count again.
  EXPECT_EQ(ScanJsonText(R"({"s":"\"[[[[1e400","t":"\\"})", 2), std::nullopt);
  EXPECT_EQ(ScanJsonText(R"({"s":"\\","n":1e400})"),
            "json: cannot unmarshal number 1e400 into Go value of type float64");
  EXPECT_EQ(ScanJsonText(R"({"s":"a\\\"b","a":{"b":{}}})", 2), "exceeded max depth");
  EXPECT_EQ(ScanJsonText(R"({"s":"")", 1), std::nullopt);  // unterminated: the parser's to say
}

}  // namespace
}  // namespace kube::server
