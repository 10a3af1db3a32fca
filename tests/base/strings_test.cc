// The shared string helpers (src/base/strings.h).
#include "base/strings.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

namespace kube::internal {
namespace {

TEST(StringsTest, AsciiLowerChangesOnlyAsciiCapitals) {
  EXPECT_EQ(AsciiLower("Application/JSON;Charset=UTF-8"), "application/json;charset=utf-8");
  EXPECT_EQ(AsciiLower(""), "");
  EXPECT_EQ(AsciiLower("\xc3\x84-Z@["), "\xc3\x84-z@[");
}

TEST(StringsTest, TrimDropsOnlyTheGivenCharactersAtBothEnds) {
  EXPECT_EQ(Trim(" \t a b \t ", kOptionalWhitespace), "a b");
  EXPECT_EQ(Trim("\r\n a \n", kOptionalWhitespace), "\r\n a \n");
  EXPECT_EQ(Trim("\v\f\r\n a \n", kAsciiWhitespace), "a");
  EXPECT_EQ(Trim(" \t ", kOptionalWhitespace), "");
  EXPECT_EQ(Trim("", kAsciiWhitespace), "");
  EXPECT_EQ(Trim("abc", " \t\r\n"), "abc");
}

TEST(StringsTest, JoinPutsTheSeparatorBetweenParts) {
  EXPECT_EQ(Join({}, ", "), "");
  EXPECT_EQ(Join({"a"}, ", "), "a");
  EXPECT_EQ(Join({"a", "b", "c"}, "; "), "a; b; c");
  EXPECT_EQ(Join({"a", "", "c"}, ","), "a,,c");
}

TEST(StringsTest, ErrnoTextNamesTheError) {
  EXPECT_EQ(ErrnoText(ENOENT), "No such file or directory");
  EXPECT_EQ(ErrnoText(EACCES), "Permission denied");
}

TEST(StringsTest, Base64RoundTripsAndRefusesBadText) {
  for (std::string s : {std::string(""), std::string("a"), std::string("ab"), std::string("abc"),
                        std::string("\x00\x01\xfe\xff", 4)}) {
    std::string enc;
    AppendBase64(s, &enc);
    EXPECT_EQ(Base64Encode(s), enc);
    std::string dec;
    ASSERT_TRUE(DecodeBase64(enc, &dec, nullptr, /*strict=*/true)) << enc;
    EXPECT_EQ(dec, s);
  }
  std::string enc;
  AppendBase64(std::string("\x00\x01\xfe\xff", 4), &enc);
  EXPECT_EQ(enc, "AAH+/w==");
  std::string dec;
  EXPECT_FALSE(DecodeBase64("AAH", &dec, nullptr, /*strict=*/true));
  EXPECT_FALSE(DecodeBase64("A===", &dec, nullptr, /*strict=*/true));
  EXPECT_FALSE(DecodeBase64("AA=A", &dec, nullptr, /*strict=*/true));
  EXPECT_FALSE(DecodeBase64("AA!=", &dec, nullptr, /*strict=*/true));
}

TEST(StringsTest, Base64DecodeSkipsLineBreaksAndAppends) {
  std::string out = "x";
  ASSERT_TRUE(DecodeBase64("aGVs\r\nbG8=\n", &out));
  EXPECT_EQ(out, "xhello");
}

TEST(StringsTest, Base64DecodeSaysWhereTheTextGoesWrong) {
  struct Case {
    const char* text;
    size_t bad_at;
  };
  for (const Case& c : {Case{"aGVs!G8=", 4}, Case{"aGVsbG8=x", 8}, Case{"aG===", 4},
                        Case{"aGVsbG8", 7}, Case{"aGVsbG=", 7}}) {
    SCOPED_TRACE(c.text);
    std::string out;
    size_t bad_at = 12345;
    EXPECT_FALSE(DecodeBase64(c.text, &out, &bad_at));
    EXPECT_EQ(bad_at, c.bad_at);
  }
}

TEST(StringsTest, Base64StrictRefusesNonZeroUnusedBits) {
  std::string out;
  EXPECT_TRUE(DecodeBase64("AB==", &out));  // Go's StdEncoding takes it
  EXPECT_EQ(out, std::string(1, '\0'));
  out.clear();
  size_t bad_at = 0;
  EXPECT_FALSE(DecodeBase64("AB==", &out, &bad_at, /*strict=*/true));
  EXPECT_EQ(bad_at, 4u);
  EXPECT_FALSE(DecodeBase64("AAB=", &out, nullptr, /*strict=*/true));
  EXPECT_TRUE(DecodeBase64("AAA=", &out, nullptr, /*strict=*/true));
}

TEST(StringsTest, Base64UrlHasNoPaddingAndDecodesEitherAlphabet) {
  EXPECT_EQ(Base64UrlEncode(std::string("\xfb\xff", 2)), "-_8");
  EXPECT_EQ(Base64UrlEncode("{\"rv\":1}"), "eyJydiI6MX0");
  EXPECT_EQ(Base64UrlDecode("eyJydiI6MX0"), "{\"rv\":1}");
  EXPECT_EQ(Base64UrlDecode("-_8"), std::string("\xfb\xff", 2));
  EXPECT_EQ(Base64UrlDecode("+/8="), std::string("\xfb\xff", 2));
  EXPECT_EQ(Base64UrlDecode("eyJydiI6MX0=ignored"), "{\"rv\":1}");
  EXPECT_EQ(Base64UrlDecode("ey!J"), std::nullopt);
}

}  // namespace
}  // namespace kube::internal
