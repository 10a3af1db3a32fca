#include "base/time_format.h"

namespace kube::internal {
namespace {

// Reads exactly `n` decimal digits at s[pos..pos+n).
bool Digits(std::string_view s, size_t pos, size_t n, int* v) {
  if (pos + n > s.size()) return false;
  int r = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    r = r * 10 + (s[i] - '0');
  }
  *v = r;
  return true;
}

void Put2(unsigned v, char* p) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

}  // namespace

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

std::optional<Rfc3339Time> ParseRfc3339(std::string_view s, Rfc3339Syntax syntax) {
  const bool lower = syntax.lower_case_t_and_z;
  int year, mon, day, hh, mm, ss;
  if (!Digits(s, 0, 4, &year) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &mon) ||
      s[7] != '-' || !Digits(s, 8, 2, &day) || (s[10] != 'T' && !(lower && s[10] == 't')) ||
      !Digits(s, 11, 2, &hh) || s[13] != ':' || !Digits(s, 14, 2, &mm) || s[16] != ':' ||
      !Digits(s, 17, 2, &ss)) {
    return std::nullopt;
  }
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mon < 1 || mon > 12 || day < 1 || day > kDays[mon - 1] || hh > 23 || mm > 59 || ss > 59) {
    return std::nullopt;
  }
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (mon == 2 && day == 29 && !leap) return std::nullopt;
  size_t i = 19;
  int64_t ns = 0;
  if (s[i] == '.' || (syntax.comma_before_fraction && s[i] == ',')) {
    size_t digits = 0;
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (digits < 9) ns = ns * 10 + (s[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return std::nullopt;
    for (size_t k = digits; k < 9; ++k) ns *= 10;
  }
  int64_t offset = 0;
  if (i < s.size() && (s[i] == 'Z' || (lower && s[i] == 'z'))) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (!Digits(s, i + 1, 2, &oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !Digits(s, i + 4, 2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  const int64_t days = DaysFromCivil(year, static_cast<unsigned>(mon), static_cast<unsigned>(day));
  return Rfc3339Time{days * 86400 + hh * 3600 + mm * 60 + ss - offset, static_cast<int32_t>(ns),
                     year};
}

std::chrono::system_clock::time_point ToSystemTime(const Rfc3339Time& t) {
  using std::chrono::system_clock;
  return std::chrono::time_point_cast<system_clock::duration>(
             std::chrono::sys_seconds(std::chrono::seconds(t.unix_seconds))) +
         std::chrono::duration_cast<system_clock::duration>(std::chrono::nanoseconds(t.nanos));
}

std::optional<std::chrono::system_clock::time_point> ParseSystemTime(std::string_view text) {
  std::optional<Rfc3339Time> t = ParseRfc3339(text);
  if (!t || t->year < 1678 || t->year > 2261) return std::nullopt;
  return ToSystemTime(*t);
}

bool AppendRfc3339(int64_t unix_seconds, int32_t micros, std::string* out) {
  // Floor division, so that times before 1970 land on the right day.
  int64_t days = unix_seconds / 86400;
  int64_t rem = unix_seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  if (days < -1000000000 || days > 1000000000) return false;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  if (y < 0 || y > 9999) return false;
  char buf[32];
  unsigned yy = static_cast<unsigned>(y);
  Put2(yy / 100, buf);
  Put2(yy % 100, buf + 2);
  buf[4] = '-';
  Put2(m, buf + 5);
  buf[7] = '-';
  Put2(d, buf + 8);
  buf[10] = 'T';
  unsigned secs = static_cast<unsigned>(rem);
  Put2(secs / 3600, buf + 11);
  buf[13] = ':';
  Put2(secs / 60 % 60, buf + 14);
  buf[16] = ':';
  Put2(secs % 60, buf + 17);
  size_t n = 19;
  if (micros >= 0) {
    buf[n++] = '.';
    unsigned us = static_cast<unsigned>(micros);
    for (int i = 5; i >= 0; --i) {
      buf[n + static_cast<size_t>(i)] = static_cast<char>('0' + us % 10);
      us /= 10;
    }
    n += 6;
  }
  buf[n++] = 'Z';
  out->append(buf, n);
  return true;
}

std::string FormatRfc3339(std::chrono::system_clock::time_point t, bool micros) {
  const int64_t us =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  int64_t secs = us / 1000000;
  int64_t frac = us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    secs -= 1;
  }
  std::string out;
  AppendRfc3339(secs, micros ? static_cast<int32_t>(frac) : -1, &out);
  return out;
}

}  // namespace kube::internal
