// Tests for src/labels.cc: the label selector grammar, its errors (apimachinery's words),
// canonical text, matching, and the validation helpers.
#include "kube/labels.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kube/object.h"
#include "tests/testing/objects.h"

namespace kube {
namespace {

using ::testing::HasSubstr;

std::string Repeat(std::string_view s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// The name-part regex message, with apimachinery's examples (note the double spaces).
constexpr std::string_view kNameMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
constexpr std::string_view kValueMsg =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
constexpr std::string_view kSubdomainMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
constexpr std::string_view kDnsLabelMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

// --- Parsing: valid input --------------------------------------------------------------------

TEST(LabelSelectorTest, ParsesValidSelectorsToCanonicalText) {
  struct Case {
    std::string input;
    std::string want_string;
  };
  const std::string name63 = Repeat("a", 63);
  const std::string prefix253 = "a" + Repeat(".a", 126);
  const Case cases[] = {
      // Empty and blank input select everything.
      {"", ""},
      {"   ", ""},
      {" \t\r\n", ""},
      // Every operator.
      {"x", "x"},
      {"!x", "!x"},
      {"x=a", "x=a"},
      {"x==a", "x==a"},
      {"x!=a", "x!=a"},
      {"x in (a,b)", "x in (a,b)"},
      {"x notin (a,b)", "x notin (a,b)"},
      {"x>5", "x>5"},
      {"x<10", "x<10"},
      {"x>007", "x>007"},
      {"x<0", "x<0"},
      // Value sets are sorted and deduplicated.
      {"x in (b,a)", "x in (a,b)"},
      {"x notin (c,a,c,b)", "x notin (a,b,c)"},
      {"x in (a,a)", "x in (a)"},
      // Empty values.
      {"x=", "x="},
      {"x==", "x=="},
      {"x!=", "x!="},
      {"x=,y", "x=,y"},
      {"x in ()", "x in ()"},
      {"x in (,)", "x in ()"},
      {"x in (,a)", "x in (,a)"},
      {"x in (a,)", "x in (,a)"},
      {"x in (a,,b)", "x in (,a,b)"},
      {"x notin ()", "x notin ()"},
      // Keywords are identifiers outside operator position.
      {"x in (in)", "x in (in)"},
      {"x in (notin,in)", "x in (in,notin)"},
      {"in", "in"},
      {"!notin", "!notin"},
      {"in in (in)", "in in (in)"},
      {"notin notin (notin)", "notin notin (notin)"},
      {"x=in", "x=in"},
      {"x!=notin", "x!=notin"},
      // Whitespace between tokens, of every kind, or none.
      {" x = a ", "x=a"},
      {"\tx\r\n==\na", "x==a"},
      {"x  !=  a", "x!=a"},
      {"x in(a)", "x in (a)"},
      {"x notin(a)", "x notin (a)"},
      {"x in ( a , b )", "x in (a,b)"},
      {"x > 5", "x>5"},
      {"! x", "!x"},
      {" x = a , y in ( b , c ) , ! z ", "x=a,y in (b,c),!z"},
      // Requirements are sorted by key; equal keys keep their order.
      {"b=1,a=2", "a=2,b=1"},
      {"c,!b,a", "a,!b,c"},
      {"a=2,a=1", "a=2,a=1"},
      {"x<10,x>1", "x<10,x>1"},
      {"a,a=1", "a,a=1"},
      // Keys with prefixes and the characters names allow.
      {"example.com/app=web", "example.com/app=web"},
      {"app.kubernetes.io/name in (web)", "app.kubernetes.io/name in (web)"},
      {"A.b-c_D=e.F-g_9", "A.b-c_D=e.F-g_9"},
      {"1=2", "1=2"},
      {name63 + "=" + name63, name63 + "=" + name63},
      {prefix253 + "/" + name63, prefix253 + "/" + name63},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    Result<LabelSelector> s = LabelSelector::Parse(c.input);
    ASSERT_TRUE(s.has_value()) << s.error();
    EXPECT_EQ(s->String(), c.want_string);
    EXPECT_EQ(s->Empty(), c.want_string.empty());
    EXPECT_FALSE(s->IsNothing());
    // The canonical text parses back to an equal selector with the same text.
    Result<LabelSelector> again = LabelSelector::Parse(s->String());
    ASSERT_TRUE(again.has_value()) << again.error();
    EXPECT_EQ(*again, *s);
    EXPECT_EQ(again->String(), c.want_string);
  }
}

TEST(LabelSelectorTest, ParseBuildsRequirements) {
  Result<LabelSelector> s = LabelSelector::Parse("tier notin (b,a),!gone,app=web,n>3");
  ASSERT_TRUE(s.has_value()) << s.error();
  const std::vector<LabelRequirement>& reqs = s->requirements();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].key(), "app");
  EXPECT_EQ(reqs[0].op(), LabelOperator::kEquals);
  EXPECT_THAT(reqs[0].values(), ::testing::ElementsAre("web"));
  EXPECT_EQ(reqs[1].key(), "gone");
  EXPECT_EQ(reqs[1].op(), LabelOperator::kDoesNotExist);
  EXPECT_TRUE(reqs[1].values().empty());
  EXPECT_EQ(reqs[2].key(), "n");
  EXPECT_EQ(reqs[2].op(), LabelOperator::kGreaterThan);
  EXPECT_THAT(reqs[2].values(), ::testing::ElementsAre("3"));
  EXPECT_EQ(reqs[3].key(), "tier");
  EXPECT_EQ(reqs[3].op(), LabelOperator::kNotIn);
  EXPECT_THAT(reqs[3].values(), ::testing::ElementsAre("a", "b"));

  Result<LabelSelector> in = LabelSelector::Parse("x in ()");
  ASSERT_TRUE(in.has_value());
  EXPECT_THAT(in->requirements()[0].values(), ::testing::ElementsAre(""));
}

// --- Parsing: errors ---------------------------------------------------------------------------

TEST(LabelSelectorTest, RejectsInvalidSelectors) {
  struct Case {
    std::string input;
    std::string want_error;  // a substring of the message
  };
  const std::string name64 = Repeat("a", 64);
  const std::string prefix254 = "a" + Repeat(".a", 126) + "a";
  const Case cases[] = {
      // Stray tokens where a requirement should start or end.
      {",", "found ',', expected: !, identifier, or 'end of string'"},
      {",x", "found ',', expected: !, identifier, or 'end of string'"},
      {"=a", "found '=', expected: !, identifier, or 'end of string'"},
      {"!=a", "found '!=', expected: !, identifier, or 'end of string'"},
      {"(x)", "found '(', expected: !, identifier, or 'end of string'"},
      {"x=a b", "found 'b', expected: ',' or 'end of string'"},
      {"x=a=b", "found '=', expected: ',' or 'end of string'"},
      {"x in (a)b", "found 'b', expected: ',' or 'end of string'"},
      {"x in (a))", "found ')', expected: ',' or 'end of string'"},
      {"!a=b", "found '=', expected: ',' or 'end of string'"},
      {"!a b", "found 'b', expected: ',' or 'end of string'"},
      {"x>1 2", "found '2', expected: ',' or 'end of string'"},
      // A trailing or doubled comma.
      {"x=a,", "found '', expected: identifier after ','"},
      {"x=a, ", "found '', expected: identifier after ','"},
      {"x=a,,y", "found ',', expected: identifier after ','"},
      {"x,=a", "found '=', expected: identifier after ','"},
      // A key is missing.
      {"!", "unable to parse requirement: found '', expected: identifier"},
      {"!!x", "unable to parse requirement: found '!', expected: identifier"},
      {"!(x)", "unable to parse requirement: found '(', expected: identifier"},
      // A missing or unknown operator.
      {"x y", "unable to parse requirement: found 'y', expected: in, notin, =, ==, !=, gt, lt"},
      {"x (a)", "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"},
      {"x)", "unable to parse requirement: found ')', expected: in, notin, =, ==, !=, gt, lt"},
      {"xin (a)", "found '(', expected: in, notin, =, ==, !=, gt, lt"},
      // Set operators without their parentheses (apimachinery has no comma in this one).
      {"x in a", "unable to parse requirement: found 'a' expected: '('"},
      {"x notin a", "unable to parse requirement: found 'a' expected: '('"},
      {"x in", "unable to parse requirement: found '' expected: '('"},
      {"x in ,", "unable to parse requirement: found ',' expected: '('"},
      // Unclosed or malformed value sets.
      {"x in (", "unable to parse requirement: found '', expected: ',', ')' or identifier"},
      {"x in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"},
      {"x in ((a))", "unable to parse requirement: found '(', expected: ',', ')' or identifier"},
      {"x in (a", "unable to parse requirement: found '', expected: ',' or ')'"},
      {"x in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'"},
      {"x in (a=b)", "unable to parse requirement: found '=', expected: ',' or ')'"},
      {"x in (a,", "unable to parse requirement: found '', expected: ',', or identifier"},
      {"x in (a,,)", "unable to parse requirement: found ')', expected: ',', or identifier"},
      {"x in (,(", "unable to parse requirement: found '(', expected: ',', or identifier"},
      // Exact-match operators need an identifier, not a set.
      {"x=(a)", "unable to parse requirement: found '(', expected: identifier"},
      {"x!=)", "unable to parse requirement: found ')', expected: identifier"},
      {"x>(1,2)", "unable to parse requirement: found '(', expected: identifier"},
      {"x==!", "unable to parse requirement: found '!', expected: identifier"},
      // `>` and `<` need one 64-bit integer.
      {"x>a",
       "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' "
       "operators, the value must be an integer"},
      {"x<1.5",
       "values[0]: Invalid value: \"1.5\": for 'Gt', 'Lt' operators, the value must be "
       "an integer"},
      {"x>",
       "values[0]: Invalid value: \"\": for 'Gt', 'Lt' operators, the value must be an "
       "integer"},
      {"x>,y", "values[0]: Invalid value: \"\": for 'Gt', 'Lt' operators"},
      {"x>99999999999999999999", "the value must be an integer"},
      {"x>0x10", "the value must be an integer"},
      {"x>-1", "unable to parse requirement: values[0][x]: Invalid value: \"-1\": " +
                   std::string(kValueMsg)},
      // Bad keys.
      {"-x", "unable to parse requirement: <nil>: Invalid value: \"-x\": name part " +
                 std::string(kNameMsg)},
      {"x-=a", "<nil>: Invalid value: \"x-\": name part must consist of"},
      {"x.", "name part must consist of"},
      {"a@b", "<nil>: Invalid value: \"a@b\": name part must consist of"},
      {name64, "<nil>: Invalid value: \"" + name64 +
                   "\": name part must be no more than 63 "
                   "characters"},
      {"a/b/c=d", "<nil>: Invalid value: \"a/b/c\": a valid label key " + std::string(kNameMsg) +
                      " with an optional DNS subdomain prefix and '/' (e.g. "
                      "'example.com/MyName')"},
      {"/a", "<nil>: Invalid value: \"/a\": prefix part must be non-empty"},
      {"a/", "<nil>: Invalid value: \"a/\": name part must be non-empty; name part " +
                 std::string(kNameMsg)},
      {"/", "prefix part must be non-empty; name part must be non-empty; name part must"},
      {"Example.com/a",
       "<nil>: Invalid value: \"Example.com/a\": prefix part " + std::string(kSubdomainMsg)},
      {"-a.com/b", "prefix part a lowercase RFC 1123 subdomain"},
      {prefix254 + "/a", "prefix part must be no more than 253 characters"},
      {"x\"y", "<nil>: Invalid value: \"x\\\"y\": name part"},
      {"!-x", "<nil>: Invalid value: \"-x\""},
      // Bad values.
      {"x=-a", "unable to parse requirement: values[0][x]: Invalid value: \"-a\": " +
                   std::string(kValueMsg)},
      {"x=a-", "values[0][x]: Invalid value: \"a-\""},
      {"x=a/b", "values[0][x]: Invalid value: \"a/b\""},
      {"x!=a@b", "values[0][x]: Invalid value: \"a@b\""},
      {"x=" + name64,
       "values[0][x]: Invalid value: \"" + name64 + "\": must be no more than 63 characters"},
      {"x in (a,-b)", "values[0][x]: Invalid value: \"-b\""},  // index in sorted order
      {"x notin (a,b-)", "values[1][x]: Invalid value: \"b-\""},
      {"x in (a,-b,c-)", "[values[0][x]: Invalid value: \"-b\": " + std::string(kValueMsg) +
                             ", values[2][x]: Invalid value: \"c-\": " + std::string(kValueMsg) +
                             "]"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    Result<LabelSelector> s = LabelSelector::Parse(c.input);
    ASSERT_FALSE(s.has_value()) << "parsed as: " << s->String();
    EXPECT_EQ(s.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(s.error().message(), HasSubstr(c.want_error));
  }
}

TEST(LabelSelectorTest, ParseErrorMessagesAreExact) {
  struct Case {
    std::string input;
    std::string want_message;
  };
  const Case cases[] = {
      {"x=a,", "found '', expected: identifier after ','"},
      {"x in (a", "unable to parse requirement: found '', expected: ',' or ')'"},
      {"x y", "unable to parse requirement: found 'y', expected: in, notin, =, ==, !=, gt, lt"},
      {"-x", "unable to parse requirement: <nil>: Invalid value: \"-x\": name part " +
                 std::string(kNameMsg)},
      {"x=-a", "unable to parse requirement: values[0][x]: Invalid value: \"-a\": " +
                   std::string(kValueMsg)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    Result<LabelSelector> s = LabelSelector::Parse(c.input);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().message(), c.want_message);
  }
}

// --- Requirements ------------------------------------------------------------------------------

TEST(LabelRequirementTest, CreateValidatesOperatorArity) {
  struct Case {
    std::string name;  // for the trace
    std::string key;
    LabelOperator op;
    std::vector<std::string> values;
    std::string want_error;  // "" when valid
  };
  const Case cases[] = {
      {"in-empty",
       "x",
       LabelOperator::kIn,
       {},
       "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"},
      {"notin-empty", "x", LabelOperator::kNotIn, {}, "values set can't be empty"},
      {"equals-two",
       "x",
       LabelOperator::kEquals,
       {"a", "b"},
       "values: Invalid value: []string{\"a\", \"b\"}: exact-match compatibility requires one "
       "single value"},
      {"double-equals-none",
       "x",
       LabelOperator::kDoubleEquals,
       {},
       "exact-match compatibility requires one single value"},
      {"not-equals-two", "x", LabelOperator::kNotEquals, {"a", "b"}, "requires one single value"},
      {"exists-value",
       "x",
       LabelOperator::kExists,
       {"a"},
       "values: Invalid value: []string{\"a\"}: values set must be empty for exists and does not "
       "exist"},
      {"does-not-exist-value",
       "x",
       LabelOperator::kDoesNotExist,
       {"a"},
       "values set must be empty"},
      {"gt-two",
       "x",
       LabelOperator::kGreaterThan,
       {"1", "2"},
       "values: Invalid value: []string{\"1\", \"2\"}: for 'Gt', 'Lt' operators, exactly one "
       "value is required"},
      {"lt-none", "x", LabelOperator::kLessThan, {}, "exactly one value is required"},
      {"gt-not-integer",
       "x",
       LabelOperator::kGreaterThan,
       {"ten"},
       "values[0]: Invalid value: \"ten\": for 'Gt', 'Lt' operators, the value must be an "
       "integer"},
      {"bad-key", "a/b/c", LabelOperator::kExists, {}, "key: Invalid value: \"a/b/c\": a valid"},
      {"bad-key-and-value",
       "-x",
       LabelOperator::kEquals,
       {"-a"},
       "[key: Invalid value: \"-x\": name part " + std::string(kNameMsg) +
           ", values[0][-x]: Invalid value: \"-a\": " + std::string(kValueMsg) + "]"},
      {"in-ok", "x", LabelOperator::kIn, {"a"}, ""},
      {"in-empty-value-ok", "x", LabelOperator::kIn, {""}, ""},
      {"exists-ok", "x", LabelOperator::kExists, {}, ""},
      {"gt-ok", "x", LabelOperator::kGreaterThan, {"9223372036854775807"}, ""},
      {"gt-overflow",
       "x",
       LabelOperator::kGreaterThan,
       {"9223372036854775808"},
       "the value must be an integer"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Result<LabelRequirement> r = LabelRequirement::Create(c.key, c.op, c.values);
    if (c.want_error.empty()) {
      EXPECT_TRUE(r.has_value()) << r.error();
    } else {
      ASSERT_FALSE(r.has_value());
      EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
      EXPECT_THAT(r.error().message(), HasSubstr(c.want_error));
    }
  }
}

TEST(LabelRequirementTest, CreateSortsAndDeduplicatesValues) {
  Result<LabelRequirement> r = LabelRequirement::Create("x", LabelOperator::kIn, {"b", "a", "b"});
  ASSERT_TRUE(r.has_value()) << r.error();
  EXPECT_THAT(r->values(), ::testing::ElementsAre("a", "b"));
  EXPECT_EQ(r->String(), "x in (a,b)");
  Result<LabelRequirement> same = LabelRequirement::Create("x", LabelOperator::kIn, {"a", "b"});
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(*r, *same);
}

TEST(LabelRequirementTest, StringOfEveryOperator) {
  struct Case {
    LabelOperator op;
    std::vector<std::string> values;
    std::string want;
  };
  const Case cases[] = {
      {LabelOperator::kEquals, {"v"}, "k=v"},        {LabelOperator::kDoubleEquals, {"v"}, "k==v"},
      {LabelOperator::kNotEquals, {"v"}, "k!=v"},    {LabelOperator::kIn, {"b", "a"}, "k in (a,b)"},
      {LabelOperator::kNotIn, {"a"}, "k notin (a)"}, {LabelOperator::kExists, {}, "k"},
      {LabelOperator::kDoesNotExist, {}, "!k"},      {LabelOperator::kGreaterThan, {"5"}, "k>5"},
      {LabelOperator::kLessThan, {"-5"}, ""},  // "-5" is not a label value
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.want);
    Result<LabelRequirement> r = LabelRequirement::Create("k", c.op, c.values);
    if (c.want.empty()) {
      EXPECT_FALSE(r.has_value());
      continue;
    }
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_EQ(r->String(), c.want);
  }
}

// --- Matching ----------------------------------------------------------------------------------

const StringMap& TestLabels() {
  static const StringMap* const kLabels = new StringMap{
      {"app", "web"},
      {"tier", "db"},
      {"n", "10"},
      {"neg", "-3"},
      {"plus", "+4"},
      {"s", "abc"},
      {"empty", ""},
      {"big", "99999999999999999999"},
      {"example.com/team", "core"},
  };
  return *kLabels;
}

// A StringMapView over `m`; `storage` must outlive the view.
StringMapView ViewOf(const StringMap& m, std::vector<StringMapView::value_type>& storage) {
  storage.clear();
  for (const auto& [k, v] : m) storage.emplace_back(k, v);
  return StringMapView(storage);
}

TEST(LabelSelectorTest, MatchesLabelSets) {
  struct Case {
    std::string input;
    bool want;
  };
  const Case cases[] = {
      {"", true},
      // = and ==: present with the value.
      {"app=web", true},
      {"app=api", false},
      {"app==web", true},
      {"app==api", false},
      {"missing=web", false},
      // !=: absent keys match too.
      {"app!=web", false},
      {"app!=api", true},
      {"missing!=web", true},
      // in / notin.
      {"app in (api,web)", true},
      {"app in (api)", false},
      {"missing in (web)", false},
      {"app notin (api)", true},
      {"app notin (api,web)", false},
      {"missing notin (web)", true},
      // exists / does not exist.
      {"app", true},
      {"missing", false},
      {"!app", false},
      {"!missing", true},
      {"example.com/team", true},
      {"example.com/team=core", true},
      // > and <: integers only, key required.
      {"n>9", true},
      {"n>10", false},
      {"n<11", true},
      {"n<10", false},
      {"neg<0", true},  // a negative label value is still an integer
      {"neg>0", false},
      {"plus>3", true},
      {"s>1", false},
      {"s<1", false},
      {"empty>0", false},
      {"empty<1", false},
      {"big>1", false},
      {"big<1", false},
      {"missing>1", false},
      {"missing<1", false},
      // Empty values.
      {"empty=", true},
      {"empty==", true},
      {"empty!=", false},
      {"empty in ()", true},
      {"empty notin ()", false},
      {"empty", true},
      {"!empty", false},
      {"missing=", false},
      {"missing in ()", false},
      {"app=", false},
      // Conjunctions.
      {"app=web,tier=db", true},
      {"app=web,tier=cache", false},
      {"app,!missing,n>5,tier in (db,cache),s notin (x)", true},
      {"app,!tier", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    Result<LabelSelector> s = LabelSelector::Parse(c.input);
    ASSERT_TRUE(s.has_value()) << s.error();
    std::vector<StringMapView::value_type> storage;
    StringMapView view = ViewOf(TestLabels(), storage);
    EXPECT_EQ(s->Matches(TestLabels()), c.want);
    EXPECT_EQ(s->Matches(view), c.want);
    if (s->requirements().size() == 1) {
      EXPECT_EQ(s->requirements()[0].Matches(view), c.want);
    }
  }
}

TEST(LabelSelectorTest, MatchesEmptyLabelSet) {
  struct Case {
    std::string input;
    bool want;
  };
  const Case cases[] = {
      {"", true},      {"x", false},   {"!x", true},        {"x=a", false},
      {"x==a", false}, {"x!=a", true}, {"x in (a)", false}, {"x notin (a)", true},
      {"x>1", false},  {"x<1", false}, {"x=", false},       {"x!=,!y", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    Result<LabelSelector> s = LabelSelector::Parse(c.input);
    ASSERT_TRUE(s.has_value()) << s.error();
    EXPECT_EQ(s->Matches(StringMap{}), c.want);
    EXPECT_EQ(s->Matches(StringMapView{}), c.want);
  }
}

// --- Everything, Nothing, FromMap, FromRequirements, RequiresExactMatch ------------------------

TEST(LabelSelectorTest, EverythingAndNothing) {
  LabelSelector all = LabelSelector::Everything();
  LabelSelector none = LabelSelector::Nothing();

  EXPECT_TRUE(all.Empty());
  EXPECT_FALSE(all.IsNothing());
  EXPECT_EQ(all.String(), "");
  EXPECT_TRUE(all.requirements().empty());
  EXPECT_TRUE(all.Matches(StringMap{}));
  EXPECT_TRUE(all.Matches(TestLabels()));
  EXPECT_FALSE(all.RequiresExactMatch("app").has_value());

  EXPECT_FALSE(none.Empty());
  EXPECT_TRUE(none.IsNothing());
  EXPECT_EQ(none.String(), "<nothing>");
  EXPECT_TRUE(none.requirements().empty());
  EXPECT_FALSE(none.Matches(StringMap{}));
  EXPECT_FALSE(none.Matches(TestLabels()));
  EXPECT_FALSE(none.Matches(StringMapView{}));
  EXPECT_FALSE(none.RequiresExactMatch("app").has_value());

  EXPECT_EQ(all, LabelSelector::Everything());
  EXPECT_EQ(none, LabelSelector::Nothing());
  EXPECT_NE(all, none);
  EXPECT_EQ(all, LabelSelector::Parse("").value());
  EXPECT_EQ(all, LabelSelector::FromRequirements({}));
  EXPECT_NE(none, LabelSelector::Parse("").value());
  EXPECT_FALSE(LabelSelector::Parse("<nothing>").has_value());
}

TEST(LabelSelectorTest, FromMapSelectsExactlyTheSet) {
  Result<LabelSelector> s = LabelSelector::FromMap({{"tier", "db"}, {"app", "web"}});
  ASSERT_TRUE(s.has_value()) << s.error();
  EXPECT_EQ(s->String(), "app=web,tier=db");
  EXPECT_EQ(*s, LabelSelector::Parse("tier=db,app=web").value());
  EXPECT_TRUE(s->Matches(TestLabels()));
  EXPECT_FALSE(s->Matches(StringMap{{"app", "web"}}));
  EXPECT_EQ(s->RequiresExactMatch("app"), std::optional<std::string_view>("web"));

  Result<LabelSelector> empty_value = LabelSelector::FromMap({{"a", ""}});
  ASSERT_TRUE(empty_value.has_value());
  EXPECT_EQ(empty_value->String(), "a=");

  Result<LabelSelector> empty = LabelSelector::FromMap({});
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(*empty, LabelSelector::Everything());
  EXPECT_TRUE(empty->Empty());
}

TEST(LabelSelectorTest, FromMapValidates) {
  struct Case {
    StringMap set;
    std::string want_error;
  };
  const Case cases[] = {
      {{{"bad key", "v"}}, "key: Invalid value: \"bad key\": name part must consist of"},
      {{{"a/b/c", "v"}}, "key: Invalid value: \"a/b/c\": a valid label key"},
      {{{"ok", "-v"}}, "values[0][ok]: Invalid value: \"-v\": a valid label must be"},
      {{{"ok", Repeat("v", 64)}}, "must be no more than 63 characters"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.want_error);
    Result<LabelSelector> s = LabelSelector::FromMap(c.set);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(s.error().message(), HasSubstr(c.want_error));
  }
}

TEST(LabelSelectorTest, FromRequirementsSortsStablyByKey) {
  auto req = [](std::string key, LabelOperator op, std::vector<std::string> values) {
    return LabelRequirement::Create(std::move(key), op, std::move(values)).value();
  };
  LabelSelector s = LabelSelector::FromRequirements({
      req("b", LabelOperator::kExists, {}),
      req("a", LabelOperator::kNotEquals, {"2"}),
      req("a", LabelOperator::kEquals, {"1"}),
  });
  EXPECT_EQ(s.String(), "a!=2,a=1,b");
  EXPECT_EQ(s, LabelSelector::Parse("b,a!=2,a=1").value());
  EXPECT_NE(s, LabelSelector::Parse("b,a=1,a!=2").value());
}

TEST(LabelSelectorTest, RequiresExactMatch) {
  struct Case {
    std::string input;
    std::string key;
    std::optional<std::string> want;
  };
  const Case cases[] = {
      {"app=web", "app", "web"},
      {"app==web", "app", "web"},
      {"app in (web)", "app", "web"},
      {"app=", "app", ""},
      {"app in (web,api)", "app", std::nullopt},
      {"app!=web", "app", std::nullopt},
      {"app notin (web)", "app", std::nullopt},
      {"app", "app", std::nullopt},
      {"n>1", "n", std::nullopt},
      {"tier=db", "app", std::nullopt},
      {"", "app", std::nullopt},
      {"tier=db,app=web", "app", "web"},
      // Only the first requirement on the key counts.
      {"app,app=web", "app", std::nullopt},
      {"app=web,app", "app", "web"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    Result<LabelSelector> s = LabelSelector::Parse(c.input);
    ASSERT_TRUE(s.has_value()) << s.error();
    std::optional<std::string_view> got = s->RequiresExactMatch(c.key);
    ASSERT_EQ(got.has_value(), c.want.has_value());
    if (got) {
      EXPECT_EQ(*got, *c.want);
    }
  }
}

TEST(LabelSelectorTest, CopiesShareAndCompareEqual) {
  LabelSelector a = LabelSelector::Parse("app=web,tier in (db)").value();
  LabelSelector b = a;
  EXPECT_EQ(a, b);
  EXPECT_EQ(&a.requirements(), &b.requirements());  // immutable, shared
  EXPECT_NE(a, LabelSelector::Parse("app=web").value());
  EXPECT_NE(LabelSelector::Parse("x=a").value(), LabelSelector::Parse("x==a").value());
}

// --- Validation helpers ------------------------------------------------------------------------

struct ValidationCase {
  std::string input;
  std::string want_message;  // "" when valid; otherwise the exact message
};

void CheckValidation(Status (*validate)(std::string_view), const ValidationCase& c) {
  SCOPED_TRACE(c.input);
  Status s = validate(c.input);
  if (c.want_message.empty()) {
    EXPECT_TRUE(s.ok()) << s;
  } else {
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message(), c.want_message);
  }
}

TEST(LabelValidationTest, Dns1123Subdomain) {
  const std::string max = Repeat("a", 253);
  const ValidationCase cases[] = {
      {"example.com", ""},
      {"a", ""},
      {"0", ""},
      {"a-b.c-d", ""},
      {"1.2.3.4", ""},
      {max, ""},
      {"", std::string(kSubdomainMsg)},
      {"Example.com", std::string(kSubdomainMsg)},
      {"-a", std::string(kSubdomainMsg)},
      {"a-", std::string(kSubdomainMsg)},
      {"a..b", std::string(kSubdomainMsg)},
      {".a", std::string(kSubdomainMsg)},
      {"a.", std::string(kSubdomainMsg)},
      {"a_b", std::string(kSubdomainMsg)},
      {"a b", std::string(kSubdomainMsg)},
      {max + "a", "must be no more than 253 characters"},
      {max + "-", "must be no more than 253 characters; " + std::string(kSubdomainMsg)},
  };
  for (const ValidationCase& c : cases) CheckValidation(&ValidateDns1123Subdomain, c);
}

TEST(LabelValidationTest, Dns1123Label) {
  const std::string max = Repeat("a", 63);
  const ValidationCase cases[] = {
      {"my-name", ""},
      {"123-abc", ""},
      {"a", ""},
      {max, ""},
      {"", std::string(kDnsLabelMsg)},
      {"My-name", std::string(kDnsLabelMsg)},
      {"-a", std::string(kDnsLabelMsg)},
      {"a-", std::string(kDnsLabelMsg)},
      {"a_b", std::string(kDnsLabelMsg)},
      {"a.b", "must not contain dots"},
      {"a..b", std::string(kDnsLabelMsg)},
      {max + "a", "must be no more than 63 characters"},
      {max + ".a", "must be no more than 63 characters; must not contain dots"},
  };
  for (const ValidationCase& c : cases) CheckValidation(&ValidateDns1123Label, c);
}

TEST(LabelValidationTest, LabelKey) {
  const std::string name63 = Repeat("a", 63);
  const ValidationCase cases[] = {
      {"app", ""},
      {"App_1.x-y", ""},
      {"example.com/app", ""},
      {"k8s.io/" + name63, ""},
      {"", "name part must be non-empty; name part " + std::string(kNameMsg)},
      {"-app", "name part " + std::string(kNameMsg)},
      {name63 + "a", "name part must be no more than 63 characters"},
      {"/app", "prefix part must be non-empty"},
      {"Example.com/app", "prefix part " + std::string(kSubdomainMsg)},
      {"a/b/c", "a valid label key " + std::string(kNameMsg) +
                    " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"},
  };
  for (const ValidationCase& c : cases) CheckValidation(&ValidateLabelKey, c);
}

TEST(LabelValidationTest, LabelValue) {
  const std::string max = Repeat("v", 63);
  const ValidationCase cases[] = {
      {"", ""},
      {"web", ""},
      {"My_value.1-2", ""},
      {max, ""},
      {"-web", std::string(kValueMsg)},
      {"web.", std::string(kValueMsg)},
      {"a/b", std::string(kValueMsg)},
      {"a b", std::string(kValueMsg)},
      {max + "v", "must be no more than 63 characters"},
      {max + "-", "must be no more than 63 characters; " + std::string(kValueMsg)},
  };
  for (const ValidationCase& c : cases) CheckValidation(&ValidateLabelValue, c);
}

// --- Objects -----------------------------------------------------------------------------------

TEST(LabelSelectorTest, MatchesObjectLabels) {
  testing::PodOptions labelled;
  labelled.labels = {{"app", "web"}, {"n", "3"}};
  ObjectPtr web = testing::MakePod("default", "web", labelled);
  ObjectPtr bare = testing::MakePod("default", "bare");
  struct Case {
    std::string input;
    bool want_web;
    bool want_bare;
  };
  const Case cases[] = {
      {"", true, true},          {"app=web", true, false},
      {"app!=web", false, true}, {"app notin (web)", false, true},
      {"!app", false, true},     {"n>2", true, false},
      {"n<3", false, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    LabelSelector s = LabelSelector::Parse(c.input).value();
    EXPECT_EQ(s.Matches(*web), c.want_web);
    EXPECT_EQ(s.Matches(*bare), c.want_bare);
  }
  EXPECT_TRUE(LabelSelector::Everything().Matches(*web));
  EXPECT_FALSE(LabelSelector::Nothing().Matches(*web));
}

}  // namespace
}  // namespace kube
