// Label selectors: validation, the `labelSelector=` grammar and matching.
//
// The grammar, the order of checks and the error texts follow apimachinery's
// `pkg/labels/selector.go` and `pkg/util/validation`, so that a selector our embedded server
// rejects is rejected by a real kube-apiserver with the same words, and vice versa.
//
// Matching is the hot path (a List over a large cache runs it once per object): it never
// allocates, and `Everything()` returns before touching the labels.
#include "kube/labels.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "kube/object.h"

namespace kube {
namespace {

using internal::Join;

// ---------------------------------------------------------------------------------------------
// Validation. The messages are apimachinery's (`IsLabelKey`, `IsLabelValue`, `IsDNS1123*`),
// including their regex and examples, because clients and tests compare them verbatim.

constexpr size_t kLabelNameMaxLength = 63;
constexpr size_t kLabelValueMaxLength = 63;
constexpr size_t kDns1123LabelMaxLength = 63;
constexpr size_t kDns1123SubdomainMaxLength = 253;

constexpr std::string_view kLabelNameRegex = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
constexpr std::string_view kLabelValueRegex = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
constexpr std::string_view kDns1123LabelRegex = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
constexpr std::string_view kDns1123SubdomainRegex =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";

constexpr std::string_view kLabelNameMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";
constexpr std::string_view kLabelValueMsg =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character";
constexpr std::string_view kDns1123LabelMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character";
constexpr std::string_view kDns1123SubdomainMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character";

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// `kLabelNameRegex`, anchored.
bool IsLabelNameShape(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

// `kDns1123LabelRegex`, anchored.
bool IsDns1123LabelShape(std::string_view s) {
  if (s.empty() || !IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return IsLowerAlnum(c) || c == '-'; });
}

// `kDns1123SubdomainRegex`, anchored: dot-separated DNS labels (the regex puts no length limit on
// each label).
bool IsDns1123SubdomainShape(std::string_view s) {
  for (;;) {
    size_t dot = s.find('.');
    if (!IsDns1123LabelShape(s.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

std::string MaxLenError(size_t n) {
  return "must be no more than " + std::to_string(n) + " characters";
}

// apimachinery's `RegexError` layout, double space before "or" included.
std::string RegexError(std::string_view msg, std::string_view regex,
                       std::initializer_list<std::string_view> examples) {
  std::string out(msg);
  out += " (e.g. ";
  bool first = true;
  for (std::string_view e : examples) {
    if (!first) out += " or ";
    first = false;
    out += '\'';
    out += e;
    out += "', ";
  }
  out += "regex used for validation is '";
  out += regex;
  out += "')";
  return out;
}

std::vector<std::string> Dns1123SubdomainErrors(std::string_view s) {
  std::vector<std::string> errs;
  if (s.size() > kDns1123SubdomainMaxLength)
    errs.push_back(MaxLenError(kDns1123SubdomainMaxLength));
  if (!IsDns1123SubdomainShape(s)) {
    errs.push_back(RegexError(kDns1123SubdomainMsg, kDns1123SubdomainRegex, {"example.com"}));
  }
  return errs;
}

std::vector<std::string> Dns1123LabelErrors(std::string_view s) {
  std::vector<std::string> errs;
  if (s.size() > kDns1123LabelMaxLength) errs.push_back(MaxLenError(kDns1123LabelMaxLength));
  if (!IsDns1123LabelShape(s)) {
    // A valid subdomain that is not a valid label can only be at fault for its dots.
    if (IsDns1123SubdomainShape(s)) {
      errs.push_back("must not contain dots");
    } else {
      errs.push_back(RegexError(kDns1123LabelMsg, kDns1123LabelRegex, {"my-name", "123-abc"}));
    }
  }
  return errs;
}

std::vector<std::string> LabelKeyErrors(std::string_view key) {
  std::vector<std::string> errs;
  std::string_view name = key;
  if (size_t slash = key.find('/'); slash != std::string_view::npos) {
    std::string_view prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (name.find('/') != std::string_view::npos) {
      errs.push_back("a valid label key " +
                     RegexError(kLabelNameMsg, kLabelNameRegex, {"MyName", "my.name", "123-abc"}) +
                     " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
      return errs;
    }
    if (prefix.empty()) {
      errs.push_back("prefix part must be non-empty");
    } else {
      for (std::string& m : Dns1123SubdomainErrors(prefix)) errs.push_back("prefix part " + m);
    }
  }
  if (name.empty()) {
    errs.push_back("name part must be non-empty");
  } else if (name.size() > kLabelNameMaxLength) {
    errs.push_back("name part " + MaxLenError(kLabelNameMaxLength));
  }
  if (!IsLabelNameShape(name)) {
    errs.push_back("name part " +
                   RegexError(kLabelNameMsg, kLabelNameRegex, {"MyName", "my.name", "123-abc"}));
  }
  return errs;
}

std::vector<std::string> LabelValueErrors(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kLabelValueMaxLength) errs.push_back(MaxLenError(kLabelValueMaxLength));
  if (!value.empty() && !IsLabelNameShape(value)) {
    errs.push_back(RegexError(kLabelValueMsg, kLabelValueRegex, {"MyValue", "my_value", "12345"}));
  }
  return errs;
}

Status ErrorsToStatus(const std::vector<std::string>& errs) {
  if (errs.empty()) return Status::Ok();
  return InvalidArgumentError(Join(errs, "; "));
}

// ---------------------------------------------------------------------------------------------
// Error text in the shape of apimachinery's `field.Invalid(...)` and error aggregates, so that
// `Parse` fails with the words a real server uses (`values[0][tier]: Invalid value: "-x": ...`).

// Go's `%q`: printable ASCII as is, the usual escapes, other control bytes as \xNN. Bytes of
// multi-byte UTF-8 sequences pass through.
std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

// Go's `%#v` of a []string.
std::string GoStringSlice(const std::vector<std::string>& values) {
  std::string out = "[]string{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    out += GoQuote(values[i]);
  }
  return out + "}";
}

std::string FieldInvalid(std::string_view path, std::string_view bad_value_text,
                         std::string_view detail) {
  std::string out(path);
  out += ": Invalid value: ";
  out += bad_value_text;
  if (!detail.empty()) {
    out += ": ";
    out += detail;
  }
  return out;
}

// One message for several errors: duplicates dropped, more than one bracketed.
std::string Aggregate(const std::vector<std::string>& errs) {
  std::vector<std::string> unique;
  for (const std::string& e : errs) {
    if (std::find(unique.begin(), unique.end(), e) == unique.end()) unique.push_back(e);
  }
  if (unique.size() == 1) return unique.front();
  return "[" + Join(unique, ", ") + "]";
}

// Go's `strconv.ParseInt(s, 10, 64)`: optional sign, decimal digits only, no overflow.
std::optional<int64_t> ParseInt64(std::string_view s) {
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
    if (s.empty() || s.front() == '-') return std::nullopt;
  }
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// All the complaints apimachinery's `NewRequirement` would make, in its order.
std::vector<std::string> RequirementErrors(std::string_view key, LabelOperator op,
                                           const std::vector<std::string>& values) {
  std::vector<std::string> errs;
  if (std::vector<std::string> k = LabelKeyErrors(key); !k.empty()) {
    errs.push_back(FieldInvalid("key", GoQuote(key), Join(k, "; ")));
  }
  switch (op) {
    case LabelOperator::kIn:
    case LabelOperator::kNotIn:
      if (values.empty()) {
        errs.push_back(FieldInvalid("values", GoStringSlice(values),
                                    "for 'in', 'notin' operators, values set can't be empty"));
      }
      break;
    case LabelOperator::kEquals:
    case LabelOperator::kDoubleEquals:
    case LabelOperator::kNotEquals:
      if (values.size() != 1) {
        errs.push_back(FieldInvalid("values", GoStringSlice(values),
                                    "exact-match compatibility requires one single value"));
      }
      break;
    case LabelOperator::kExists:
    case LabelOperator::kDoesNotExist:
      if (!values.empty()) {
        errs.push_back(FieldInvalid("values", GoStringSlice(values),
                                    "values set must be empty for exists and does not exist"));
      }
      break;
    case LabelOperator::kGreaterThan:
    case LabelOperator::kLessThan:
      if (values.size() != 1) {
        errs.push_back(FieldInvalid("values", GoStringSlice(values),
                                    "for 'Gt', 'Lt' operators, exactly one value is required"));
      }
      for (size_t i = 0; i < values.size(); ++i) {
        if (!ParseInt64(values[i])) {
          errs.push_back(FieldInvalid("values[" + std::to_string(i) + "]", GoQuote(values[i]),
                                      "for 'Gt', 'Lt' operators, the value must be an integer"));
        }
      }
      break;
  }
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::vector<std::string> v = LabelValueErrors(values[i]); !v.empty()) {
      std::string path = "values[" + std::to_string(i) + "][";
      path += key;
      path += ']';
      errs.push_back(FieldInvalid(path, GoQuote(values[i]), Join(v, "; ")));
    }
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------
// Matching, shared by the `StringMapView` and `StringMap` overloads. `get(key)` returns the
// label's value or nullopt; neither allocates.

bool HasValue(const std::vector<std::string>& sorted_values, std::string_view v) {
  return std::binary_search(sorted_values.begin(), sorted_values.end(), v);
}

template <typename Get>
bool RequirementMatches(const LabelRequirement& r, const Get& get) {
  std::optional<std::string_view> v = get(std::string_view(r.key()));
  switch (r.op()) {
    case LabelOperator::kEquals:
    case LabelOperator::kDoubleEquals:
    case LabelOperator::kIn:
      return v && HasValue(r.values(), *v);
    case LabelOperator::kNotEquals:
    case LabelOperator::kNotIn:
      return !v || !HasValue(r.values(), *v);
    case LabelOperator::kExists:
      return v.has_value();
    case LabelOperator::kDoesNotExist:
      return !v;
    case LabelOperator::kGreaterThan:
    case LabelOperator::kLessThan: {
      if (!v || r.values().size() != 1) return false;
      // A label that is not an integer never satisfies an inequality.
      std::optional<int64_t> have = ParseInt64(*v);
      std::optional<int64_t> bound = ParseInt64(r.values().front());
      if (!have || !bound) return false;
      return r.op() == LabelOperator::kGreaterThan ? *have > *bound : *have < *bound;
    }
  }
  return false;
}

struct ViewGetter {
  const StringMapView& labels;
  std::optional<std::string_view> operator()(std::string_view k) const { return labels.Get(k); }
};

struct MapGetter {
  const StringMap& labels;
  std::optional<std::string_view> operator()(std::string_view k) const {
    auto it = labels.find(k);
    if (it == labels.end()) return std::nullopt;
    return std::string_view(it->second);
  }
};

const std::vector<LabelRequirement>& EmptyRequirements() {
  static const auto* const kEmpty = new std::vector<LabelRequirement>();
  return *kEmpty;
}

// ---------------------------------------------------------------------------------------------
// The lexer and parser. The structure mirrors apimachinery's recursive descent so that every
// input fails at the same token with the same words; the comments say where it is surprising.

enum class Tok {
  kEnd,
  kClosePar,
  kComma,
  kNot,  // `!`, the does-not-exist prefix
  kDoubleEquals,
  kEquals,
  kGreaterThan,
  kIdentifier,
  kIn,
  kLessThan,
  kNotEquals,
  kNotIn,
  kOpenPar,
};

struct Token {
  Tok tok;
  std::string_view text;  // "" for kEnd
};

bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsSpecial(char c) {
  switch (c) {
    case '=':
    case '!':
    case '(':
    case ')':
    case ',':
    case '<':
    case '>':
      return true;
    default:
      return false;
  }
}

// The token of a special character standing alone.
Tok SingleCharToken(char c) {
  switch (c) {
    case '!':
      return Tok::kNot;
    case '=':
      return Tok::kEquals;
    case '(':
      return Tok::kOpenPar;
    case ')':
      return Tok::kClosePar;
    case ',':
      return Tok::kComma;
    case '<':
      return Tok::kLessThan;
    default:
      return Tok::kGreaterThan;  // '>'
  }
}

// Splits the whole input up front. Runs of special characters become the longest operator they
// start with (`!=`, `==`, else one character: `=>` is `=` then `>`); anything else up to the next
// special character or whitespace is an identifier, or the keyword `in`/`notin`.
std::vector<Token> Lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  for (;;) {
    while (i < s.size() && IsWhitespace(s[i])) ++i;
    if (i == s.size()) break;
    char c = s[i];
    if (IsSpecial(c)) {
      bool pair = (c == '!' || c == '=') && i + 1 < s.size() && s[i + 1] == '=';
      std::string_view text = s.substr(i, pair ? 2 : 1);
      Tok tok = pair ? (c == '!' ? Tok::kNotEquals : Tok::kDoubleEquals) : SingleCharToken(c);
      out.push_back({tok, text});
      i += text.size();
      continue;
    }
    size_t start = i;
    while (i < s.size() && !IsSpecial(s[i]) && !IsWhitespace(s[i])) ++i;
    std::string_view text = s.substr(start, i - start);
    Tok tok = text == "in" ? Tok::kIn : text == "notin" ? Tok::kNotIn : Tok::kIdentifier;
    out.push_back({tok, text});
  }
  out.push_back({Tok::kEnd, ""});
  return out;
}

// `in` and `notin` are operators only right after a key; wherever a key or value may stand they
// are plain identifiers (`in in (in)` is valid).
enum class Context { kKeyAndOperator, kValues };

class Parser {
 public:
  explicit Parser(std::string_view text) : tokens_(Lex(text)) {}

  Result<std::vector<LabelRequirement>> Parse() {
    std::vector<LabelRequirement> reqs;
    for (;;) {
      Token t = Peek(Context::kValues);
      if (t.tok == Tok::kEnd) return reqs;
      if (t.tok != Tok::kIdentifier && t.tok != Tok::kNot) {
        return Fail(t, "expected: !, identifier, or 'end of string'");
      }
      Result<LabelRequirement> r = ParseRequirement();
      if (!r) return InvalidArgumentError("unable to parse requirement: " + r.error().message());
      reqs.push_back(*std::move(r));
      Token sep = Next(Context::kValues);
      if (sep.tok == Tok::kEnd) return reqs;
      if (sep.tok != Tok::kComma) return Fail(sep, "expected: ',' or 'end of string'");
      Token after = Peek(Context::kValues);
      if (after.tok != Tok::kIdentifier && after.tok != Tok::kNot) {
        return Fail(after, "expected: identifier after ','");
      }
    }
  }

 private:
  // `found '<token>', <what>`, apimachinery's phrasing.
  static Status Fail(const Token& t, std::string_view what) {
    std::string msg = "found '";
    msg += t.text;
    msg += "', ";
    msg += what;
    return InvalidArgumentError(std::move(msg));
  }

  Token Adjust(Token t, Context ctx) const {
    if (ctx == Context::kValues && (t.tok == Tok::kIn || t.tok == Tok::kNotIn)) {
      t.tok = Tok::kIdentifier;
    }
    return t;
  }
  Token Peek(Context ctx) const { return Adjust(tokens_[pos_], ctx); }
  // Never moves past the final kEnd.
  Token Next(Context ctx) {
    Token t = Peek(ctx);
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }

  Result<LabelRequirement> ParseRequirement() {
    // The key, and the operator when the key stands alone (`k` or `!k`).
    std::optional<LabelOperator> op;
    Token t = Next(Context::kValues);
    if (t.tok == Tok::kNot) {
      op = LabelOperator::kDoesNotExist;
      t = Next(Context::kValues);
    }
    if (t.tok != Tok::kIdentifier) return Fail(t, "expected: identifier");
    std::string key(t.text);
    if (std::vector<std::string> errs = LabelKeyErrors(key); !errs.empty()) {
      // apimachinery reports this with a nil field path, hence "<nil>".
      return InvalidArgumentError(FieldInvalid("<nil>", GoQuote(key), Join(errs, "; ")));
    }
    Tok la = Peek(Context::kValues).tok;
    if ((la == Tok::kEnd || la == Tok::kComma) && !op) op = LabelOperator::kExists;
    // `!k` followed by anything else ends the requirement here; the caller then rejects the
    // stray token (`!a=b` fails at '=').
    if (op) return LabelRequirement::Create(std::move(key), *op, {});

    Token o = Next(Context::kKeyAndOperator);
    switch (o.tok) {
      case Tok::kIn:
        op = LabelOperator::kIn;
        break;
      case Tok::kNotIn:
        op = LabelOperator::kNotIn;
        break;
      case Tok::kEquals:
        op = LabelOperator::kEquals;
        break;
      case Tok::kDoubleEquals:
        op = LabelOperator::kDoubleEquals;
        break;
      case Tok::kNotEquals:
        op = LabelOperator::kNotEquals;
        break;
      case Tok::kGreaterThan:
        op = LabelOperator::kGreaterThan;
        break;
      case Tok::kLessThan:
        op = LabelOperator::kLessThan;
        break;
      default:
        return Fail(o, "expected: in, notin, =, ==, !=, gt, lt");
    }
    std::vector<std::string> values;
    Status s = (*op == LabelOperator::kIn || *op == LabelOperator::kNotIn)
                   ? ParseValueSet(values)
                   : ParseExactValue(values);
    if (!s.ok()) return s;
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    return LabelRequirement::Create(std::move(key), *op, std::move(values));
  }

  // `( ... )`; `()` is the one empty value.
  Status ParseValueSet(std::vector<std::string>& values) {
    Token t = Next(Context::kValues);
    // apimachinery has no comma in this one message.
    if (t.tok != Tok::kOpenPar)
      return InvalidArgumentError("found '" + std::string(t.text) + "' expected: '('");
    Token la = Peek(Context::kValues);
    if (la.tok == Tok::kClosePar) {
      Next(Context::kValues);
      values.emplace_back();
      return Status::Ok();
    }
    if (la.tok != Tok::kIdentifier && la.tok != Tok::kComma) {
      return Fail(la, "expected: ',', ')' or identifier");
    }
    if (Status s = ParseValueList(values); !s.ok()) return s;
    if (Token close = Next(Context::kValues); close.tok != Tok::kClosePar) {
      return Fail(close, "expected: ')'");
    }
    return Status::Ok();
  }

  // Comma-separated values, any of them empty: `(a,,b)` and `(,a)` hold "". Stops before ')'.
  // As in apimachinery, `(a,,)` is an error: the second comma swallows the one before ')'.
  Status ParseValueList(std::vector<std::string>& values) {
    for (;;) {
      Token t = Next(Context::kValues);
      if (t.tok == Tok::kIdentifier) {
        values.emplace_back(t.text);
        Token la = Peek(Context::kValues);
        if (la.tok == Tok::kComma) continue;
        if (la.tok == Tok::kClosePar) return Status::Ok();
        return Fail(la, "expected: ',' or ')'");
      }
      if (t.tok != Tok::kComma) return Fail(t, "expected: ',', or identifier");
      if (values.empty()) values.emplace_back();  // a leading comma
      Tok la = Peek(Context::kValues).tok;
      if (la == Tok::kClosePar) {  // a trailing comma
        values.emplace_back();
        return Status::Ok();
      }
      if (la == Tok::kComma) {  // two commas in a row
        Next(Context::kValues);
        values.emplace_back();
      }
    }
  }

  // One value after `=`, `==`, `!=`, `>`, `<`; nothing before ',' or the end means "".
  Status ParseExactValue(std::vector<std::string>& values) {
    Tok la = Peek(Context::kValues).tok;
    if (la == Tok::kEnd || la == Tok::kComma) {
      values.emplace_back();
      return Status::Ok();
    }
    Token t = Next(Context::kValues);
    if (t.tok != Tok::kIdentifier) return Fail(t, "expected: identifier");
    values.emplace_back(t.text);
    return Status::Ok();
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

void SortByKey(std::vector<LabelRequirement>& reqs) {
  std::stable_sort(
      reqs.begin(), reqs.end(),
      [](const LabelRequirement& a, const LabelRequirement& b) { return a.key() < b.key(); });
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// LabelRequirement

Result<LabelRequirement> LabelRequirement::Create(std::string key, LabelOperator op,
                                                  std::vector<std::string> values) {
  if (std::vector<std::string> errs = RequirementErrors(key, op, values); !errs.empty()) {
    return InvalidArgumentError(Aggregate(errs));
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  LabelRequirement r;
  r.key_ = std::move(key);
  r.op_ = op;
  r.values_ = std::move(values);
  return r;
}

bool LabelRequirement::Matches(const StringMapView& labels) const {
  return RequirementMatches(*this, ViewGetter{labels});
}

std::string LabelRequirement::String() const {
  std::string out;
  out.reserve(key_.size() + 8 + values_.size() * 8);
  if (op_ == LabelOperator::kDoesNotExist) out += '!';
  out += key_;
  switch (op_) {
    case LabelOperator::kExists:
    case LabelOperator::kDoesNotExist:
      return out;
    case LabelOperator::kEquals:
      out += '=';
      break;
    case LabelOperator::kDoubleEquals:
      out += "==";
      break;
    case LabelOperator::kNotEquals:
      out += "!=";
      break;
    case LabelOperator::kGreaterThan:
      out += '>';
      break;
    case LabelOperator::kLessThan:
      out += '<';
      break;
    case LabelOperator::kIn:
      out += " in (";
      break;
    case LabelOperator::kNotIn:
      out += " notin (";
      break;
  }
  out += Join(values_, ",");
  if (op_ == LabelOperator::kIn || op_ == LabelOperator::kNotIn) out += ')';
  return out;
}

// ---------------------------------------------------------------------------------------------
// LabelSelector. `reqs_` is null for `Everything()` and `Nothing()`; otherwise it holds at least
// one requirement, so the hot path tests one pointer before anything else.

LabelSelector LabelSelector::Everything() { return LabelSelector(); }

LabelSelector LabelSelector::Nothing() {
  LabelSelector s;
  s.nothing_ = true;
  return s;
}

Result<LabelSelector> LabelSelector::Parse(std::string_view text) {
  Result<std::vector<LabelRequirement>> reqs = Parser(text).Parse();
  if (!reqs) return reqs.error();
  return FromRequirements(*std::move(reqs));
}

Result<LabelSelector> LabelSelector::FromMap(const StringMap& set) {
  std::vector<LabelRequirement> reqs;
  reqs.reserve(set.size());
  for (const auto& [k, v] : set) {
    Result<LabelRequirement> r = LabelRequirement::Create(k, LabelOperator::kEquals, {v});
    if (!r) return r.error();
    reqs.push_back(*std::move(r));
  }
  return FromRequirements(std::move(reqs));
}

LabelSelector LabelSelector::FromRequirements(std::vector<LabelRequirement> reqs) {
  LabelSelector s;
  if (reqs.empty()) return s;
  SortByKey(reqs);
  s.reqs_ = std::make_shared<const std::vector<LabelRequirement>>(std::move(reqs));
  return s;
}

bool LabelSelector::Matches(const StringMapView& labels) const {
  if (nothing_) return false;
  if (!reqs_) return true;
  for (const LabelRequirement& r : *reqs_) {
    if (!RequirementMatches(r, ViewGetter{labels})) return false;
  }
  return true;
}

bool LabelSelector::Matches(const StringMap& labels) const {
  if (nothing_) return false;
  if (!reqs_) return true;
  for (const LabelRequirement& r : *reqs_) {
    if (!RequirementMatches(r, MapGetter{labels})) return false;
  }
  return true;
}

bool LabelSelector::Matches(const Object& obj) const {
  if (nothing_) return false;
  if (!reqs_) return true;
  return Matches(obj.labels());
}

bool LabelSelector::Empty() const { return !nothing_ && !reqs_; }

const std::vector<LabelRequirement>& LabelSelector::requirements() const {
  return reqs_ ? *reqs_ : EmptyRequirements();
}

std::string LabelSelector::String() const {
  if (nothing_) return "<nothing>";
  std::string out;
  for (const LabelRequirement& r : requirements()) {
    if (!out.empty()) out += ',';
    out += r.String();
  }
  return out;
}

std::optional<std::string_view> LabelSelector::RequiresExactMatch(std::string_view key) const {
  for (const LabelRequirement& r : requirements()) {
    if (r.key() != key) continue;
    // Only the first requirement on `key` is consulted, as in apimachinery.
    bool exact = r.op() == LabelOperator::kEquals || r.op() == LabelOperator::kDoubleEquals ||
                 r.op() == LabelOperator::kIn;
    if (exact && r.values().size() == 1) return std::string_view(r.values().front());
    return std::nullopt;
  }
  return std::nullopt;
}

bool operator==(const LabelSelector& a, const LabelSelector& b) {
  return a.nothing_ == b.nothing_ && a.requirements() == b.requirements();
}

// ---------------------------------------------------------------------------------------------
// Validation helpers

Status ValidateLabelKey(std::string_view key) { return ErrorsToStatus(LabelKeyErrors(key)); }
Status ValidateLabelValue(std::string_view value) {
  return ErrorsToStatus(LabelValueErrors(value));
}
Status ValidateDns1123Subdomain(std::string_view name) {
  return ErrorsToStatus(Dns1123SubdomainErrors(name));
}
Status ValidateDns1123Label(std::string_view name) {
  return ErrorsToStatus(Dns1123LabelErrors(name));
}

}  // namespace kube
