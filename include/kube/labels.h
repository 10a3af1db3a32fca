// Label selectors: Kubernetes' grammar, validation and matching.
//
// Feeds: listers (`List(selector)`), the embedded server's `labelSelector=` filter, watch and list
// options.
// client-go: k8s.io/apimachinery/pkg/labels/{selector.go,labels.go}.
#ifndef KUBE_LABELS_H_
#define KUBE_LABELS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kube/status.h"
#include "kube/string_map.h"

namespace kube {

class Object;

enum class LabelOperator {
  kEquals,        // `k=v`
  kDoubleEquals,  // `k==v`
  kNotEquals,     // `k!=v`
  kIn,            // `k in (a,b)`
  kNotIn,         // `k notin (a,b)`
  kExists,        // `k`
  kDoesNotExist,  // `!k`
  kGreaterThan,   // `k>5`
  kLessThan,      // `k<5`
};

// One requirement of a selector, e.g. `tier in (db,cache)`. Values are sorted and unique.
class LabelRequirement {
 public:
  // Validates like apimachinery's `NewRequirement`: the key (optional DNS-1123 subdomain prefix
  // and '/', then a 1-63 character name), the values (<= 63 characters of [A-Za-z0-9_.-], starting
  // and ending alphanumeric, or empty), and the value count the operator needs (exactly one for
  // =, ==, !=; at least one for in/notin; none for exists; one 64-bit integer for > and <).
  static Result<LabelRequirement> Create(std::string key, LabelOperator op,
                                         std::vector<std::string> values);

  const std::string& key() const { return key_; }
  LabelOperator op() const { return op_; }
  const std::vector<std::string>& values() const { return values_; }

  bool Matches(const StringMapView& labels) const;
  // Canonical text: `key`, `!key`, `key=v`, `key==v`, `key!=v`, `key in (a,b)`, `key>5`, ...
  std::string String() const;

  friend bool operator==(const LabelRequirement&, const LabelRequirement&) = default;

 private:
  LabelRequirement() = default;
  std::string key_;
  LabelOperator op_ = LabelOperator::kExists;
  std::vector<std::string> values_;
};

// An immutable, cheap-to-copy label selector: all requirements must hold. Thread-safe.
class LabelSelector {
 public:
  // Matches every object, without looking at labels (`labels.Everything()`).
  static LabelSelector Everything();
  // Matches no object (`labels.Nothing()`).
  static LabelSelector Nothing();
  // Parses the `labelSelector=` syntax. Whitespace between tokens is allowed; the empty string is
  // `Everything()`. Errors: kInvalidArgument whose message says what is wrong and where, in
  // apimachinery's words (`unable to parse requirement: ...`, `found ',', expected: identifier`).
  static Result<LabelSelector> Parse(std::string_view text);
  // `k1=v1,k2=v2` for every entry (`labels.SelectorFromSet`). Keys and values are validated.
  static Result<LabelSelector> FromMap(const StringMap& set);
  // From requirements; they are sorted by key as the parser sorts them.
  static LabelSelector FromRequirements(std::vector<LabelRequirement> reqs);

  bool Matches(const StringMapView& labels) const;
  bool Matches(const StringMap& labels) const;
  bool Matches(const Object& obj) const;

  // True for `Everything()` and for a selector with no requirements.
  bool Empty() const;
  bool IsNothing() const { return nothing_; }
  const std::vector<LabelRequirement>& requirements() const;

  // Canonical text: requirements sorted by key, joined by ','. `Parse(String())` gives an equal
  // selector. `Everything()` is ""; `Nothing()` has no text form and prints as "<nothing>".
  std::string String() const;

  // For a selector made only of `=`/`==`/`in` with one value: the value required for `key`
  // (`RequiresExactMatch`), used to pick an index.
  std::optional<std::string_view> RequiresExactMatch(std::string_view key) const;

  friend bool operator==(const LabelSelector& a, const LabelSelector& b);

 private:
  LabelSelector() = default;
  std::shared_ptr<const std::vector<LabelRequirement>> reqs_;
  bool nothing_ = false;
};

// Validation helpers shared with the embedded server (names, label keys and values).
Status ValidateLabelKey(std::string_view key);
Status ValidateLabelValue(std::string_view value);
// DNS-1123 subdomain (<=253, lowercase alphanumerics, '-' and '.'), as most object names need.
Status ValidateDns1123Subdomain(std::string_view name);
// DNS-1123 label (<=63, lowercase alphanumerics and '-'), as namespace and service names need.
Status ValidateDns1123Label(std::string_view name);

namespace labels {
// client-go spelling: `lister.List(labels::Everything())`.
inline LabelSelector Everything() { return LabelSelector::Everything(); }
inline LabelSelector Nothing() { return LabelSelector::Nothing(); }
}  // namespace labels

}  // namespace kube

#endif  // KUBE_LABELS_H_
