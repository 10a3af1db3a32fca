// Field selectors: `metadata.name=web,status.phase!=Running`.
//
// Feeds: list/watch options, the embedded server's `fieldSelector=` filter, listers.
// client-go: k8s.io/apimachinery/pkg/fields/selector.go.
#ifndef KUBE_FIELDS_H_
#define KUBE_FIELDS_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kube/status.h"

namespace kube {

class Object;

enum class FieldOperator { kEquals, kDoubleEquals, kNotEquals };

struct FieldRequirement {
  std::string field;  // a dotted path: `metadata.name`, `spec.nodeName`
  FieldOperator op = FieldOperator::kEquals;
  std::string value;  // unescaped
  friend bool operator==(const FieldRequirement&, const FieldRequirement&) = default;
};

// An immutable, cheap-to-copy field selector: all requirements must hold. Thread-safe.
class FieldSelector {
 public:
  static FieldSelector Everything();
  // Parses `path=value`, `path==value`, `path!=value` joined by ','. Values escape '\', ',' and
  // '=' with a backslash. Errors: kInvalidArgument `invalid field selector: ...`.
  static Result<FieldSelector> Parse(std::string_view text);
  // One `field=value` requirement (`fields.OneTermEqualSelector`).
  static FieldSelector OneTermEqual(std::string field, std::string value);

  // Evaluates every requirement against the object: `metadata.name` and `metadata.namespace` from
  // the decoded metadata, any other path through `Object::GetJson`. A scalar field compares by its
  // text (`true`, `3`, the string itself); an absent field compares as "" (so `spec.nodeName=`
  // matches unscheduled Pods, as on a real server).
  bool Matches(const Object& obj) const;

  bool Empty() const;
  const std::vector<FieldRequirement>& requirements() const;
  // Canonical text: requirements in the order given, values re-escaped. Parses back equal.
  std::string String() const;

  // The value required for `field` by an `=`/`==` requirement, if any.
  std::optional<std::string_view> RequiresExactMatch(std::string_view field) const;

  friend bool operator==(const FieldSelector& a, const FieldSelector& b);

 private:
  FieldSelector() = default;
  std::shared_ptr<const std::vector<FieldRequirement>> reqs_;
};

}  // namespace kube

#endif  // KUBE_FIELDS_H_
