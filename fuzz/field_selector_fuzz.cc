// Fuzzes the field selector parser (include/kube/fields.h) and its matching against an object.
//
// Invariants: no exception escapes; an error is kInvalidArgument; `String()` parses back to an
// equal selector with the same text; the parsed and re-parsed selectors match a Pod alike; a
// requirement rebuilt with `OneTermEqual` round-trips too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "kube/fields.h"
#include "kube/object.h"
#include "kube/status.h"

namespace {

const kube::Object& SamplePod() {
  static const kube::ObjectPtr pod = *kube::Object::Parse(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1","namespace":"default",)"
      R"("labels":{"app":"web"}},"spec":{"nodeName":"node-a","restartPolicy":"Always",)"
      R"("containers":[{"name":"c","image":"nginx"}]},"status":{"phase":"Running"}})");
  return *pod;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = kube::fuzz::AsText(data, size);
  auto sel = kube::FieldSelector::Parse(text);
  if (!sel) {
    FUZZ_CHECK(sel.error().code() == kube::StatusCode::kInvalidArgument,
               "parse error with code " + std::string(kube::StatusCodeName(sel.error().code())));
    return 0;
  }
  std::string canonical = sel->String();
  auto again = kube::FieldSelector::Parse(canonical);
  FUZZ_CHECK(again.has_value(), "String() does not re-parse: '" + canonical + "' from '" +
                                    std::string(text) + "': " + again.error().message());
  FUZZ_CHECK(*again == *sel, "String() re-parses to another selector: '" + canonical + "'");
  FUZZ_CHECK(again->String() == canonical,
             "String() is not canonical: '" + canonical + "' -> '" + again->String() + "'");
  FUZZ_CHECK(sel->Matches(SamplePod()) == again->Matches(SamplePod()),
             "re-parsed selector matches differently: '" + canonical + "'");
  for (const kube::FieldRequirement& r : sel->requirements()) {
    // `a!` `=` `v` prints as `a!=v`, which reads as `a` `!=` `v`: a path ending in '!' is ambiguous
    // in the grammar itself (apimachinery's too), and no real field path ends so.
    if (r.field.ends_with('!')) continue;
    auto one = kube::FieldSelector::OneTermEqual(r.field, r.value);
    auto one_again = kube::FieldSelector::Parse(one.String());
    FUZZ_CHECK(one_again.has_value() && *one_again == one,
               "OneTermEqual does not round-trip: '" + one.String() + "'");
    (void)one.Matches(SamplePod());
  }
  return 0;
}
