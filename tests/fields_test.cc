// Tests for src/fields.cc: field selector parsing, escaping, canonical text and matching.
#include "kube/fields.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "kube/object.h"
#include "tests/testing/objects.h"

namespace kube {
namespace {

using ::testing::HasSubstr;

TEST(FieldSelectorTest, ParsesToCanonicalText) {
  struct Case {
    std::string input;
    std::string want_string;
  };
  const Case cases[] = {
      {"", ""},
      {",", ""},
      {",,", ""},
      {"metadata.name=web", "metadata.name=web"},
      {"metadata.name==web", "metadata.name==web"},
      {"status.phase!=Running", "status.phase!=Running"},
      {"spec.nodeName=", "spec.nodeName="},
      {"spec.nodeName!=", "spec.nodeName!="},
      // Terms are sorted by their text; empty terms are dropped.
      {"b=1,a=2", "a=2,b=1"},
      {"a=1,,b=2", "a=1,b=2"},
      {"a=1,", "a=1"},
      {",a=1", "a=1"},
      // Escapes in values.
      {"a=x\\,y", "a=x\\,y"},
      {"a=x\\=y", "a=x\\=y"},
      {"a=x\\\\y", "a=x\\\\y"},
      {"a=\\\\", "a=\\\\"},
      {"a=\\,\\=\\\\", "a=\\,\\=\\\\"},
      {"b=1,a=x\\,b\\=2", "a=x\\,b\\=2,b=1"},
      // The leftmost operator splits; the field part is taken as written.
      {"a!b=c", "a!b=c"},
      {"a b=c d", "a b=c d"},
      {"=x", "=x"},
      {"a=é", "a=é"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    Result<FieldSelector> s = FieldSelector::Parse(c.input);
    ASSERT_TRUE(s.has_value()) << s.error();
    EXPECT_EQ(s->String(), c.want_string);
    EXPECT_EQ(s->Empty(), c.want_string.empty());
    Result<FieldSelector> again = FieldSelector::Parse(s->String());
    ASSERT_TRUE(again.has_value()) << again.error();
    EXPECT_EQ(*again, *s);
    EXPECT_EQ(again->String(), c.want_string);
  }
}

TEST(FieldSelectorTest, ParseUnescapesValues) {
  struct Case {
    std::string input;
    std::vector<FieldRequirement> want;
  };
  const Case cases[] = {
      {"metadata.name=web", {{"metadata.name", FieldOperator::kEquals, "web"}}},
      {"metadata.name==web", {{"metadata.name", FieldOperator::kDoubleEquals, "web"}}},
      {"status.phase!=Running", {{"status.phase", FieldOperator::kNotEquals, "Running"}}},
      {"a=", {{"a", FieldOperator::kEquals, ""}}},
      {"a=x\\,y", {{"a", FieldOperator::kEquals, "x,y"}}},
      {"a=x\\=y", {{"a", FieldOperator::kEquals, "x=y"}}},
      {"a=x\\\\y", {{"a", FieldOperator::kEquals, "x\\y"}}},
      {"a!=\\\\\\,", {{"a", FieldOperator::kNotEquals, "\\,"}}},
      {"a!b=c", {{"a!b", FieldOperator::kEquals, "c"}}},
      {"b=2,a==1", {{"a", FieldOperator::kDoubleEquals, "1"}, {"b", FieldOperator::kEquals, "2"}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    Result<FieldSelector> s = FieldSelector::Parse(c.input);
    ASSERT_TRUE(s.has_value()) << s.error();
    EXPECT_EQ(s->requirements(), c.want);
  }
}

TEST(FieldSelectorTest, RejectsInvalidSelectors) {
  struct Case {
    std::string input;
    std::string want_error;
  };
  const Case cases[] = {
      {"abc", "invalid field selector: 'abc'; can't understand 'abc'"},
      {"a=1,b", "invalid field selector: 'a=1,b'; can't understand 'b'"},
      {"a=x\\,y,b", "can't understand 'b'"},
      {"a!b", "can't understand 'a!b'"},
      {"a=x\\y", "invalid field selector: invalid escape sequence: \\y"},
      {"a=x\\n", "invalid field selector: invalid escape sequence: \\n"},
      {"a=\\é", "invalid field selector: invalid escape sequence: \\é"},
      {"a=x\\", "invalid field selector: invalid escape sequence: \\"},
      {"a=x=y", "invalid field selector: unescaped character in value: ="},
      {"a=!=b", "unescaped character in value: ="},
      {"a!==b", "unescaped character in value: ="},
      {"a===b", "unescaped character in value: ="},
      {"a\\=b=c", "unescaped character in value: ="},
      {"b=1,a=x\\,b=2", "unescaped character in value: ="},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    Result<FieldSelector> s = FieldSelector::Parse(c.input);
    ASSERT_FALSE(s.has_value()) << "parsed as: " << s->String();
    EXPECT_EQ(s.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(s.error().message(), HasSubstr(c.want_error));
  }
}

TEST(FieldSelectorTest, EverythingAndOneTermEqual) {
  FieldSelector all = FieldSelector::Everything();
  EXPECT_TRUE(all.Empty());
  EXPECT_EQ(all.String(), "");
  EXPECT_TRUE(all.requirements().empty());
  EXPECT_EQ(all, FieldSelector::Parse("").value());
  EXPECT_FALSE(all.RequiresExactMatch("metadata.name").has_value());

  FieldSelector one = FieldSelector::OneTermEqual("metadata.name", "a,b=c\\d");
  EXPECT_FALSE(one.Empty());
  EXPECT_EQ(one.String(), "metadata.name=a\\,b\\=c\\\\d");
  EXPECT_EQ(FieldSelector::Parse(one.String()).value(), one);
  EXPECT_EQ(one.RequiresExactMatch("metadata.name"), std::optional<std::string_view>("a,b=c\\d"));
  EXPECT_NE(one, all);
  EXPECT_NE(FieldSelector::OneTermEqual("a", "1"), FieldSelector::Parse("a==1").value());
  EXPECT_EQ(FieldSelector::OneTermEqual("a", "1"), FieldSelector::Parse("a=1").value());
}

TEST(FieldSelectorTest, RequiresExactMatch) {
  struct Case {
    std::string input;
    std::string field;
    std::optional<std::string> want;
  };
  const Case cases[] = {
      {"metadata.name=web", "metadata.name", "web"},
      {"metadata.name==web", "metadata.name", "web"},
      {"metadata.name=", "metadata.name", ""},
      {"metadata.name!=web", "metadata.name", std::nullopt},
      {"metadata.namespace=a", "metadata.name", std::nullopt},
      {"", "metadata.name", std::nullopt},
      // A `!=` on the field does not hide a later `=`.
      {"metadata.name!=a,metadata.name=b", "metadata.name", "b"},
      {"metadata.namespace=ns,metadata.name=web", "metadata.name", "web"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    Result<FieldSelector> s = FieldSelector::Parse(c.input);
    ASSERT_TRUE(s.has_value()) << s.error();
    std::optional<std::string_view> got = s->RequiresExactMatch(c.field);
    ASSERT_EQ(got.has_value(), c.want.has_value());
    if (got) {
      EXPECT_EQ(*got, *c.want);
    }
  }
}

TEST(FieldSelectorTest, MatchesPods) {
  testing::PodOptions scheduled;
  scheduled.node_name = "node-1";
  testing::PodOptions unscheduled;
  unscheduled.phase = "Pending";
  ObjectPtr running = testing::MakePod("default", "web", scheduled);
  ObjectPtr pending = testing::MakePod("kube-system", "pending", unscheduled);
  struct Case {
    std::string input;
    bool want_running;
    bool want_pending;
  };
  const Case cases[] = {
      {"", true, true},
      {"metadata.name=web", true, false},
      {"metadata.name==web", true, false},
      {"metadata.name!=web", false, true},
      {"metadata.name=", false, false},
      {"metadata.namespace=default", true, false},
      {"metadata.namespace!=default", false, true},
      {"metadata.namespace=kube-system", false, true},
      // spec.nodeName is absent on the unscheduled Pod and reads as "".
      {"spec.nodeName=node-1", true, false},
      {"spec.nodeName=", false, true},
      {"spec.nodeName!=", true, false},
      {"spec.nodeName!=node-1", false, true},
      {"status.phase=Running", true, false},
      {"status.phase!=Running", false, true},
      {"status.phase=Pending", false, true},
      // Conjunctions.
      {"metadata.namespace=default,status.phase=Running", true, false},
      {"metadata.name=web,status.phase=Pending", false, false},
      {"status.phase!=Succeeded,status.phase!=Failed", true, true},
      // A path that is absent everywhere.
      {"spec.missing=", true, true},
      {"spec.missing!=", false, false},
      {"spec.missing=x", false, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    Result<FieldSelector> s = FieldSelector::Parse(c.input);
    ASSERT_TRUE(s.has_value()) << s.error();
    EXPECT_EQ(s->Matches(*running), c.want_running);
    EXPECT_EQ(s->Matches(*pending), c.want_pending);
  }
}

TEST(FieldSelectorTest, MatchesScalarsByText) {
  ObjectPtr obj = testing::MakeObject(
      "apps/v1", "Deployment", "default", "web", "1", {},
      R"("spec":{"replicas":3,"paused":true,"ratio":1.5,"text":"a,b=c","quoted":"x\"y",)"
      R"("nothing":null,"negative":-2})");
  ObjectPtr cluster = testing::MakeObject("v1", "Node", "", "node-1", "1");
  struct Case {
    std::string input;
    bool want;
  };
  const Case cases[] = {
      {"spec.replicas=3", true},     {"spec.replicas==3", true},
      {"spec.replicas=4", false},    {"spec.replicas!=4", true},
      {"spec.replicas!=3", false},   {"spec.paused=true", true},
      {"spec.paused=false", false},  {"spec.paused!=false", true},
      {"spec.ratio=1.5", true},      {"spec.negative=-2", true},
      {"spec.text=a\\,b\\=c", true}, {"spec.text=a", false},
      {"spec.quoted=x\"y", true},    {"spec.quoted=x\\\\\"y", false},
      {"spec.nothing=", true},       {"spec.nothing!=", false},
      {"spec.absent=", true},        {"metadata.name=web,spec.replicas=3,spec.paused=true", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    Result<FieldSelector> s = FieldSelector::Parse(c.input);
    ASSERT_TRUE(s.has_value()) << s.error();
    EXPECT_EQ(s->Matches(*obj), c.want);
  }
  // Cluster-scoped objects have an empty namespace.
  EXPECT_TRUE(FieldSelector::Parse("metadata.namespace=").value().Matches(*cluster));
  EXPECT_TRUE(FieldSelector::OneTermEqual("metadata.name", "node-1").Matches(*cluster));
  EXPECT_TRUE(FieldSelector::Everything().Matches(*cluster));
}

}  // namespace
}  // namespace kube
