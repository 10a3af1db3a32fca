// Go's encoding/json text forms used by the protobuf transcoder (src/proto/go_json.h).
#include "proto/go_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace kube::internal::proto {
namespace {

std::string GoString(std::string_view s) {
  std::string out;
  AppendGoString(s, &out);
  return out;
}

TEST(GoJsonTest, StringsAreEscapedAsGoDoes) {
  struct Case {
    std::string in, want;
  } cases[] = {
      {"plain", "\"plain\""},
      {"a\"b\\c", "\"a\\\"b\\\\c\""},
      {"<a&b>", "\"\\u003ca\\u0026b\\u003e\""},
      {std::string("\b\f\n\r\t\x01\x1f", 7), "\"\\b\\f\\n\\r\\t\\u0001\\u001f\""},
      {"\xe2\x80\xa8\xe2\x80\xa9", "\"\\u2028\\u2029\""},
      {"caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80",
       "\"caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80\""},
      {"\xff", "\"\\ufffd\""},
      {"a\xc3", "\"a\\ufffd\""},
      {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},  // a surrogate is invalid UTF-8
      {"\xe6\x97", "\"\\ufffd\\ufffd\""},
      {std::string("\0", 1), "\"\\u0000\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    EXPECT_EQ(GoString(c.in), c.want);
  }
}

TEST(GoJsonTest, FloatsAreFormattedAsGoDoes) {
  struct Case {
    double in;
    const char* want;
  } cases[] = {{0, "0"},
               {1, "1"},
               {-2.5, "-2.5"},
               {0.1, "0.1"},
               {1e20, "100000000000000000000"},
               {1e21, "1e+21"},
               {1e-6, "0.000001"},
               {1e-7, "1e-7"},
               {1.5e-10, "1.5e-10"},
               {123456789.125, "123456789.125"}};
  for (const Case& c : cases) {
    std::string out;
    ASSERT_TRUE(AppendGoFloat(c.in, &out));
    EXPECT_EQ(out, c.want);
  }
  std::string out;
  EXPECT_FALSE(AppendGoFloat(std::nan(""), &out));
  EXPECT_FALSE(AppendGoFloat(INFINITY, &out));
  EXPECT_EQ(out, "");
}

TEST(GoJsonTest, DurationsAreFormattedAndParsedAsGoDoes) {
  struct Case {
    int64_t ns;
    const char* text;
  } cases[] = {{0, "0s"},
               {1, "1ns"},
               {1500, "1.5\xc2\xb5s"},
               {-3000, "-3\xc2\xb5s"},
               {150000000, "150ms"},
               {1500000000, "1.5s"},
               {9900000000000, "2h45m0s"},
               {INT64_MIN, "-2562047h47m16.854775808s"}};
  for (const Case& c : cases) {
    std::string out;
    AppendGoDuration(c.ns, &out);
    EXPECT_EQ(out, c.text);
    int64_t back = 0;
    ASSERT_TRUE(ParseGoDuration(c.text, &back)) << c.text;
    EXPECT_EQ(back, c.ns) << c.text;
  }
  int64_t v;
  EXPECT_FALSE(ParseGoDuration("", &v));
  EXPECT_FALSE(ParseGoDuration("5", &v));
  EXPECT_FALSE(ParseGoDuration("1x", &v));
  EXPECT_FALSE(ParseGoDuration("99999999999999999999h", &v));
}

TEST(GoJsonTest, CompactJsonDropsWhitespaceAndEscapesHtml) {
  std::string out;
  ASSERT_TRUE(AppendCompactJson("{ \"a\" : [1, 2.50,\n\"<&>\"] }", "raw", &out).ok());
  EXPECT_EQ(out, "{\"a\":[1,2.50,\"\\u003c\\u0026\\u003e\"]}");
  out.clear();
  EXPECT_FALSE(AppendCompactJson("{\"a\":", "raw", &out).ok());
  EXPECT_FALSE(AppendCompactJson("", "raw", &out).ok());
  EXPECT_FALSE(AppendCompactJson("\"\xff\"", "raw", &out).ok());
  EXPECT_EQ(out, "");
  for (const char* bad : {"01", "1.", "-", "1e", "[1,]", "{\"a\"}", "{\"a\":1,}", "[1 2]", "tru",
                          "\"\\x\"", "\"\\u12\"", "\"a\nb\"", "{} {}", "]", "{\"a\":1]"}) {
    EXPECT_FALSE(AppendCompactJson(bad, "raw", &out).ok()) << bad;
    EXPECT_EQ(out, "") << bad;
  }
  for (const char* good :
       {"0", "-0.5e+10", "\"\\u00e9\\n\"", "[[],{}]", "{\"a\":{\"b\":[null,true,false]}}"}) {
    out.clear();
    EXPECT_TRUE(AppendCompactJson(good, "raw", &out).ok()) << good;
    EXPECT_EQ(out, good);
  }
  std::string deep(1001, '[');
  deep += std::string(1001, ']');
  out.clear();
  EXPECT_FALSE(AppendCompactJson(deep, "raw", &out).ok());
}

}  // namespace
}  // namespace kube::internal::proto
