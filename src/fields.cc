// Field selectors: parsing with backslash escapes, canonical text, and matching on an Object.
//
// Parsing follows apimachinery's `pkg/fields/selector.go`: terms split on unescaped commas, empty
// terms skipped, terms sorted by their text, each split at the first `!=`, `==` or `=`, and the
// value unescaped strictly (only `\\`, `\,` and `\=`; a bare ',' or '=' in a value is an error).
#include "kube/fields.h"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kube/object.h"

namespace kube {
namespace {

Status InvalidFieldSelector(std::string_view what) {
  std::string msg = "invalid field selector: ";
  msg += what;
  return InvalidArgumentError(std::move(msg));
}

// The length of the UTF-8 sequence that starts with `lead` (1 for a stray byte), so an error
// can quote a whole character.
size_t Utf8Length(unsigned char lead) {
  if (lead >= 0xf0 && lead < 0xf8) return 4;
  if (lead >= 0xe0) return lead < 0xf0 ? 3 : 1;
  if (lead >= 0xc0) return 2;
  return 1;
}

// Splits on commas that no backslash escapes; the escapes stay in the terms.
std::vector<std::string_view> SplitTerms(std::string_view s) {
  std::vector<std::string_view> terms;
  if (s.empty()) return terms;
  size_t start = 0;
  bool escaped = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (escaped) {
      escaped = false;
    } else if (s[i] == '\\') {
      escaped = true;
    } else if (s[i] == ',') {
      terms.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  terms.push_back(s.substr(start));
  return terms;
}

struct SplitTerm {
  std::string_view field;
  FieldOperator op;
  std::string_view raw_value;
};

// Splits at the leftmost operator. The field part has no escapes, so `a\=b=c` splits after `a\`
// (and then fails on the bare '=' in the value), exactly as apimachinery does.
std::optional<SplitTerm> Split(std::string_view term) {
  // `==` before `=`, so that `a==b` does not leave '=' at the start of the value.
  static constexpr std::pair<std::string_view, FieldOperator> kOperators[] = {
      {"!=", FieldOperator::kNotEquals},
      {"==", FieldOperator::kDoubleEquals},
      {"=", FieldOperator::kEquals},
  };
  for (size_t i = 0; i < term.size(); ++i) {
    std::string_view rest = term.substr(i);
    for (const auto& [text, op] : kOperators) {
      if (rest.starts_with(text)) return SplitTerm{term.substr(0, i), op, rest.substr(text.size())};
    }
  }
  return std::nullopt;
}

Result<std::string> Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\') {
      if (i + 1 == s.size()) return InvalidFieldSelector("invalid escape sequence: \\");
      char next = s[i + 1];
      if (next != '\\' && next != ',' && next != '=') {
        size_t n = std::min(Utf8Length(static_cast<unsigned char>(next)), s.size() - (i + 1));
        return InvalidFieldSelector("invalid escape sequence: \\" +
                                    std::string(s.substr(i + 1, n)));
      }
      out += next;
      ++i;
    } else if (c == ',' || c == '=') {
      return InvalidFieldSelector(std::string("unescaped character in value: ") + c);
    } else {
      out += c;
    }
  }
  return out;
}

void AppendEscaped(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\' || c == ',' || c == '=') out += '\\';
    out += c;
  }
}

std::string_view OperatorText(FieldOperator op) {
  switch (op) {
    case FieldOperator::kEquals:
      return "=";
    case FieldOperator::kDoubleEquals:
      return "==";
    case FieldOperator::kNotEquals:
      return "!=";
  }
  return "=";
}

// Whether the object's `field` reads as `want`. Absent and null fields read as "", a string as
// its value, any other JSON value as its minified text.
bool FieldEquals(const Object& obj, std::string_view field, std::string_view want) {
  // Every kind supports these two, and they are decoded already: no parse, no allocation.
  if (field == "metadata.name") return obj.name() == want;
  if (field == "metadata.namespace") return obj.ns() == want;
  Result<std::string> json = obj.GetJson(field);
  if (!json) return want.empty();
  std::string_view text = *json;
  if (text == "null") return want.empty();
  if (text.size() >= 2 && text.front() == '"') {
    // Without escapes the JSON text between the quotes is the value itself.
    if (text.find('\\') == std::string_view::npos) return text.substr(1, text.size() - 2) == want;
    Result<std::string> s = obj.GetString(field);
    return s && *s == want;
  }
  return text == want;
}

const std::vector<FieldRequirement>& EmptyRequirements() {
  static const auto* const kEmpty = new std::vector<FieldRequirement>();
  return *kEmpty;
}

}  // namespace

FieldSelector FieldSelector::Everything() { return FieldSelector(); }

Result<FieldSelector> FieldSelector::Parse(std::string_view text) {
  std::vector<std::string_view> terms = SplitTerms(text);
  // Sorting the raw terms gives one canonical order whatever order the caller wrote.
  std::sort(terms.begin(), terms.end());
  std::vector<FieldRequirement> reqs;
  for (std::string_view term : terms) {
    if (term.empty()) continue;
    std::optional<SplitTerm> t = Split(term);
    if (!t) {
      std::string what = "'";
      what += text;
      what += "'; can't understand '";
      what += term;
      what += "'";
      return InvalidFieldSelector(what);
    }
    Result<std::string> value = Unescape(t->raw_value);
    if (!value) return value.error();
    reqs.push_back({std::string(t->field), t->op, *std::move(value)});
  }
  FieldSelector s;
  if (!reqs.empty())
    s.reqs_ = std::make_shared<const std::vector<FieldRequirement>>(std::move(reqs));
  return s;
}

FieldSelector FieldSelector::OneTermEqual(std::string field, std::string value) {
  FieldSelector s;
  s.reqs_ = std::make_shared<const std::vector<FieldRequirement>>(
      std::vector<FieldRequirement>{{std::move(field), FieldOperator::kEquals, std::move(value)}});
  return s;
}

bool FieldSelector::Matches(const Object& obj) const {
  if (!reqs_) return true;
  for (const FieldRequirement& r : *reqs_) {
    bool equal = FieldEquals(obj, r.field, r.value);
    if (equal == (r.op == FieldOperator::kNotEquals)) return false;
  }
  return true;
}

bool FieldSelector::Empty() const { return !reqs_ || reqs_->empty(); }

const std::vector<FieldRequirement>& FieldSelector::requirements() const {
  return reqs_ ? *reqs_ : EmptyRequirements();
}

std::string FieldSelector::String() const {
  std::string out;
  for (const FieldRequirement& r : requirements()) {
    if (!out.empty()) out += ',';
    out += r.field;
    out += OperatorText(r.op);
    AppendEscaped(out, r.value);
  }
  return out;
}

std::optional<std::string_view> FieldSelector::RequiresExactMatch(std::string_view field) const {
  for (const FieldRequirement& r : requirements()) {
    if (r.field == field && r.op != FieldOperator::kNotEquals) return std::string_view(r.value);
  }
  return std::nullopt;
}

bool operator==(const FieldSelector& a, const FieldSelector& b) {
  return a.requirements() == b.requirements();
}

}  // namespace kube
