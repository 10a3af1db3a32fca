// RFC 3339 parsing and formatting (src/base/time_format.h).
#include "base/time_format.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace kube::internal {
namespace {

using std::chrono::system_clock;

TEST(TimeFormatTest, TimesAreRfc3339InUtc) {
  std::string out;
  ASSERT_TRUE(AppendRfc3339(1796609872, -1, &out));
  EXPECT_EQ(out, "2026-12-07T02:17:52Z");
  out.clear();
  ASSERT_TRUE(AppendRfc3339(-1, 123456, &out));
  EXPECT_EQ(out, "1969-12-31T23:59:59.123456Z");
  out.clear();
  EXPECT_FALSE(AppendRfc3339(int64_t{1} << 40, -1, &out));
  EXPECT_FALSE(AppendRfc3339(INT64_MIN, -1, &out));
  EXPECT_EQ(out, "");
  std::optional<Rfc3339Time> t = ParseRfc3339("2026-12-07T02:17:52Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->unix_seconds, 1796609872);
  t = ParseRfc3339("2026-12-07T03:17:52.5+01:00");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->unix_seconds, 1796609872);
  EXPECT_EQ(t->nanos, 500000000);
  EXPECT_FALSE(ParseRfc3339("2026-02-30T00:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("2026-12-07 02:17:52Z"));
  EXPECT_FALSE(ParseRfc3339("2026-12-07T02:17:52"));
}

TEST(TimeFormatTest, ParseChecksEveryFieldAndTheCalendar) {
  struct Case {
    const char* text;
    bool ok;
  };
  for (const Case& c :
       {Case{"2024-02-29T00:00:00Z", true}, Case{"2100-02-29T00:00:00Z", false},
        Case{"2000-02-29T00:00:00Z", true}, Case{"2024-13-01T00:00:00Z", false},
        Case{"2024-00-01T00:00:00Z", false}, Case{"2024-01-01T24:00:00Z", false},
        Case{"2024-01-01T00:60:00Z", false}, Case{"2024-01-01T00:00:60Z", false},
        Case{"2024-01-01T00:00:00.Z", false}, Case{"2024-01-01T00:00:00+24:00", false},
        Case{"2024-01-01T00:00:00+01:60", false}, Case{"2024-01-01T00:00:00+0100", false},
        Case{"2024-01-01T00:00:00Zx", false}, Case{"24-01-01T00:00:00Z", false}}) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(ParseRfc3339(c.text).has_value(), c.ok);
  }
}

TEST(TimeFormatTest, ParseKeepsNineFractionDigitsAndTheYearAsWritten) {
  std::optional<Rfc3339Time> t = ParseRfc3339("1970-01-01T00:00:00.1234567891234-00:30");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->unix_seconds, 1800);
  EXPECT_EQ(t->nanos, 123456789);
  EXPECT_EQ(t->year, 1970);
}

TEST(TimeFormatTest, SyntaxOptionsSayWhichSpellingsPass) {
  EXPECT_TRUE(ParseRfc3339("2024-05-01t10:00:00z"));
  EXPECT_FALSE(ParseRfc3339("2024-05-01t10:00:00Z", {.lower_case_t_and_z = false}));
  EXPECT_FALSE(ParseRfc3339("2024-05-01T10:00:00z", {.lower_case_t_and_z = false}));
  EXPECT_TRUE(ParseRfc3339("2024-05-01T10:00:00Z", {.lower_case_t_and_z = false}));
  EXPECT_FALSE(ParseRfc3339("2024-05-01T10:00:00,5Z"));
  std::optional<Rfc3339Time> t =
      ParseRfc3339("2024-05-01T10:00:00,5Z", {.comma_before_fraction = true});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->nanos, 500000000);
}

TEST(TimeFormatTest, SystemTimesStayWithinWhatTheClockHolds) {
  std::optional<system_clock::time_point> t = ParseSystemTime("1970-01-01T00:00:01.5Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, system_clock::time_point(std::chrono::milliseconds(1500)));
  EXPECT_TRUE(ParseSystemTime("1678-01-01T00:00:00Z"));
  EXPECT_TRUE(ParseSystemTime("2261-12-31T23:59:59Z"));
  EXPECT_FALSE(ParseSystemTime("1677-12-31T23:59:59Z"));
  EXPECT_FALSE(ParseSystemTime("2262-01-01T00:00:00Z"));
  EXPECT_FALSE(ParseSystemTime("not a time"));
}

TEST(TimeFormatTest, FormatRoundsDownToTheSecondOrMicrosecond) {
  const system_clock::time_point t{std::chrono::microseconds(1796609872123456) +
                                   std::chrono::nanoseconds(789)};
  EXPECT_EQ(FormatRfc3339(t), "2026-12-07T02:17:52Z");
  EXPECT_EQ(FormatRfc3339(t, /*micros=*/true), "2026-12-07T02:17:52.123456Z");
  const system_clock::time_point before{-std::chrono::microseconds(1)};
  EXPECT_EQ(FormatRfc3339(before), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatRfc3339(before, /*micros=*/true), "1969-12-31T23:59:59.999999Z");
}

TEST(TimeFormatTest, CivilDaysRoundTrip) {
  for (int64_t days : {int64_t{-719528}, int64_t{-1}, int64_t{0}, int64_t{59}, int64_t{2932896}}) {
    int64_t y;
    unsigned m, d;
    CivilFromDays(days, &y, &m, &d);
    EXPECT_EQ(DaysFromCivil(y, m, d), days);
  }
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(0, 1, 1), -719528);
}

}  // namespace
}  // namespace kube::internal
