// Fuzzes the label selector parser (include/kube/labels.h).
//
// Invariants: no exception escapes; an error is kInvalidArgument; a parsed selector's `String()`
// parses back to an equal selector with the same text (the canonical form is a fixed point); both
// match the same label sets (one built from the selector's own keys and values, where each
// requirement is tried satisfied and violated); `RequiresExactMatch` agrees with matching.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "kube/labels.h"
#include "kube/status.h"
#include "kube/string_map.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = kube::fuzz::AsText(data, size);
  auto sel = kube::LabelSelector::Parse(text);
  if (!sel) {
    FUZZ_CHECK(sel.error().code() == kube::StatusCode::kInvalidArgument,
               "parse error with code " + std::string(kube::StatusCodeName(sel.error().code())));
    return 0;
  }
  std::string canonical = sel->String();
  auto again = kube::LabelSelector::Parse(canonical);
  FUZZ_CHECK(again.has_value(), "String() does not re-parse: '" + canonical + "' from '" +
                                    std::string(text) + "': " + again.error().message());
  FUZZ_CHECK(*again == *sel, "String() re-parses to another selector: '" + canonical + "'");
  FUZZ_CHECK(again->String() == canonical,
             "String() is not canonical: '" + canonical + "' -> '" + again->String() + "'");
  if (text.find_first_not_of(" \t\n\r\f\v") == std::string_view::npos) {
    FUZZ_CHECK(sel->Empty(), "a blank selector is not Everything()");
  }

  // Label sets from the selector's own vocabulary: empty, every key with its first value, every
  // key with its last value, every key with a value no requirement names.
  kube::StringMap sets[4];
  for (const kube::LabelRequirement& r : sel->requirements()) {
    sets[1][r.key()] = r.values().empty() ? "" : r.values().front();
    sets[2][r.key()] = r.values().empty() ? "x" : r.values().back();
    sets[3][r.key()] = "fuzz-unlisted";
  }
  for (const kube::StringMap& labels : sets) {
    bool matches = sel->Matches(labels);
    FUZZ_CHECK(matches == again->Matches(labels), "re-parsed selector matches differently");
    for (const kube::LabelRequirement& r : sel->requirements()) {
      auto exact = sel->RequiresExactMatch(r.key());
      if (exact && matches) {
        auto it = labels.find(r.key());
        FUZZ_CHECK(it != labels.end() && it->second == *exact,
                   "matched a set whose '" + r.key() + "' differs from RequiresExactMatch");
      }
    }
  }
  return 0;
}
