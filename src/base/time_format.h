// RFC 3339 times ("2006-01-02T15:04:05Z"), as Kubernetes writes metav1.Time and metav1.MicroTime
// and as Go's time.Parse(time.RFC3339) reads them, and the civil-calendar arithmetic beneath.
//
// Internal (never installed): the one parser and formatter of the library; the object model,
// the kubeconfig and exec-credential readers, the protobuf transcoder, leader election and the
// server's tables all use these.
#ifndef KUBE_SRC_BASE_TIME_FORMAT_H_
#define KUBE_SRC_BASE_TIME_FORMAT_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kube::internal {

// Days since 1970-01-01 of a date of the proleptic Gregorian calendar, and back.
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);
void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day);

// A parsed RFC 3339 time.
struct Rfc3339Time {
  int64_t unix_seconds = 0;  // the offset applied
  int32_t nanos = 0;         // 0..999999999
  int year = 0;              // as written (before the offset), 0..9999
};

// The spellings a caller accepts beyond `2006-01-02T15:04:05[.fraction](Z|+hh:mm|-hh:mm)`.
struct Rfc3339Syntax {
  bool lower_case_t_and_z = true;      // 't' and 'z' as well as 'T' and 'Z'
  bool comma_before_fraction = false;  // ',' as well as '.' before the fraction
};

// Parses `text`: every field in range (the day by its month and year), a fraction of at least one
// digit (digits past the ninth are read and ignored), then `Z` or a `+hh:mm`/`-hh:mm` offset, and
// nothing after. nullopt otherwise.
std::optional<Rfc3339Time> ParseRfc3339(std::string_view text, Rfc3339Syntax syntax = {});

// `t` as a `system_clock` time point (nanoseconds: years 1678 to 2261 fit).
std::chrono::system_clock::time_point ToSystemTime(const Rfc3339Time& t);

// `ParseRfc3339(text)` as a `system_clock` time point; nullopt when malformed or written with a
// year outside 1678 to 2261 (what `system_clock` holds).
std::optional<std::chrono::system_clock::time_point> ParseSystemTime(std::string_view text);

// Appends `2006-01-02T15:04:05Z` in UTC, or `2006-01-02T15:04:05.000000Z` when `micros` >= 0.
// Returns false, appending nothing, when the year is outside 0..9999.
bool AppendRfc3339(int64_t unix_seconds, int32_t micros, std::string* out);

// `t` in UTC as `2006-01-02T15:04:05Z` (whole seconds, rounded down: metav1.Time) or, with
// `micros`, `2006-01-02T15:04:05.000000Z` (metav1.MicroTime).
std::string FormatRfc3339(std::chrono::system_clock::time_point t, bool micros = false);

}  // namespace kube::internal

#endif  // KUBE_SRC_BASE_TIME_FORMAT_H_
