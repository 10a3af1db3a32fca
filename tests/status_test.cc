#include "kube/status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>

namespace kube {
namespace {

using ::testing::HasSubstr;

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.http_code(), 0);
  EXPECT_EQ(s.reason(), "");
  EXPECT_EQ(s.retry_after(), std::nullopt);
  EXPECT_EQ(s.ToString(), "ok");
  EXPECT_EQ(Status::Ok(), Status());
}

TEST(StatusTest, CodeNames) {
  EXPECT_EQ(StatusCodeName(StatusCode::kOk), "ok");
  EXPECT_EQ(StatusCodeName(StatusCode::kInvalidArgument), "invalid_argument");
  EXPECT_EQ(StatusCodeName(StatusCode::kNotFound), "not_found");
  EXPECT_EQ(StatusCodeName(StatusCode::kGone), "gone");
  EXPECT_EQ(StatusCodeName(StatusCode::kDeadlineExceeded), "deadline_exceeded");
  EXPECT_EQ(StatusCodeName(StatusCode::kInternal), "internal");
}

TEST(StatusTest, Constructors) {
  struct Case {
    Status s;
    StatusCode code;
  };
  const Case cases[] = {
      {InvalidArgumentError("m"), StatusCode::kInvalidArgument},
      {NotFoundError("m"), StatusCode::kNotFound},
      {AlreadyExistsError("m"), StatusCode::kAlreadyExists},
      {ConflictError("m"), StatusCode::kConflict},
      {GoneError("m"), StatusCode::kGone},
      {UnavailableError("m"), StatusCode::kUnavailable},
      {DeadlineExceededError("m"), StatusCode::kDeadlineExceeded},
      {DataLossError("m"), StatusCode::kDataLoss},
      {CancelledError("m"), StatusCode::kCancelled},
      {InternalError("m"), StatusCode::kInternal},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(StatusCodeName(c.code));
    EXPECT_FALSE(c.s.ok());
    EXPECT_EQ(c.s.code(), c.code);
    EXPECT_EQ(c.s.message(), "m");
  }
}

TEST(StatusTest, ToStringAndStreaming) {
  Status s = NotFoundError("deployments.apps \"web\" not found");
  EXPECT_EQ(s.ToString(), "not_found: deployments.apps \"web\" not found");
  s.set_http_code(404).set_reason("NotFound");
  EXPECT_EQ(s.ToString(), "not_found: deployments.apps \"web\" not found (404 NotFound)");
  std::ostringstream os;
  os << s;
  EXPECT_EQ(os.str(), s.ToString());
  EXPECT_EQ(Status(StatusCode::kGone, "x").set_http_code(410).ToString(), "gone: x (410)");
  EXPECT_EQ(Status(StatusCode::kGone, "x").set_reason("Expired").ToString(), "gone: x (Expired)");
}

TEST(StatusTest, WithContextKeepsCodeAndServerFields) {
  Status s = StatusFromHttp(409, "", "the object has been modified");
  Status c = s.WithContext("update pods/web");
  EXPECT_EQ(c.code(), StatusCode::kConflict);
  EXPECT_EQ(c.message(), "update pods/web: the object has been modified");
  EXPECT_EQ(c.http_code(), 409);
  EXPECT_EQ(c.reason(), "Conflict");
}

TEST(StatusTest, SettersChainOnTemporaries) {
  Status s = Status(StatusCode::kUnavailable, "slow down")
                 .set_http_code(429)
                 .set_reason("TooManyRequests")
                 .set_retry_after(std::chrono::seconds(3));
  EXPECT_EQ(s.retry_after(), std::chrono::seconds(3));
  EXPECT_TRUE(IsTooManyRequests(s));
}

TEST(StatusTest, EqualityComparesCodeMessageHttpAndReason) {
  EXPECT_EQ(NotFoundError("a"), NotFoundError("a"));
  EXPECT_FALSE(NotFoundError("a") == NotFoundError("b"));
  EXPECT_FALSE(NotFoundError("a") == GoneError("a"));
  EXPECT_FALSE(NotFoundError("a") == NotFoundError("a").set_http_code(404));
  EXPECT_FALSE(NotFoundError("a") == NotFoundError("a").set_reason("NotFound"));
}

TEST(StatusTest, StatusFromHttpSynthesisesReasons) {
  struct Case {
    int http;
    std::string_view reason;  // as passed in
    StatusCode code;
    std::string_view want_reason;
  };
  const Case cases[] = {
      {400, "", StatusCode::kInvalidArgument, "BadRequest"},
      {401, "", StatusCode::kUnauthorized, "Unauthorized"},
      {403, "", StatusCode::kForbidden, "Forbidden"},
      {404, "", StatusCode::kNotFound, "NotFound"},
      {405, "", StatusCode::kInvalidArgument, "MethodNotAllowed"},
      {406, "", StatusCode::kInvalidArgument, "NotAcceptable"},
      {409, "", StatusCode::kConflict, "Conflict"},
      {409, "AlreadyExists", StatusCode::kAlreadyExists, "AlreadyExists"},
      {410, "", StatusCode::kGone, "Expired"},
      {410, "Gone", StatusCode::kGone, "Gone"},
      {415, "", StatusCode::kInvalidArgument, "UnsupportedMediaType"},
      {422, "", StatusCode::kInvalidArgument, "Invalid"},
      {429, "", StatusCode::kUnavailable, "TooManyRequests"},
      {500, "", StatusCode::kInternal, "InternalError"},
      {502, "", StatusCode::kInternal, "InternalError"},
      {503, "", StatusCode::kUnavailable, "InternalError"},
      {504, "", StatusCode::kDeadlineExceeded, "Timeout"},
      {418, "", StatusCode::kInvalidArgument, "Unknown"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.http);
    Status s = StatusFromHttp(c.http, std::string(c.reason), "msg");
    EXPECT_EQ(s.code(), c.code);
    EXPECT_EQ(s.reason(), c.want_reason);
    EXPECT_EQ(s.http_code(), c.http);
    EXPECT_EQ(s.message(), "msg");
  }
}

TEST(StatusTest, PredicatesMatchApimachinery) {
  EXPECT_TRUE(IsNotFound(StatusFromHttp(404, "", "")));
  EXPECT_TRUE(IsNotFound(NotFoundError("lister miss")));
  EXPECT_FALSE(IsNotFound(GoneError("")));
  EXPECT_TRUE(IsAlreadyExists(StatusFromHttp(409, "AlreadyExists", "")));
  EXPECT_FALSE(IsAlreadyExists(StatusFromHttp(409, "", "")));
  EXPECT_TRUE(IsConflict(StatusFromHttp(409, "", "")));
  EXPECT_FALSE(IsConflict(StatusFromHttp(409, "AlreadyExists", "")));
  EXPECT_TRUE(IsUnauthorized(StatusFromHttp(401, "", "")));
  EXPECT_TRUE(IsForbidden(StatusFromHttp(403, "", "")));
  EXPECT_TRUE(IsTooManyRequests(StatusFromHttp(429, "", "")));
  EXPECT_TRUE(IsInvalid(StatusFromHttp(422, "", "")));
  EXPECT_TRUE(IsTimeout(StatusFromHttp(504, "", "")));
  EXPECT_TRUE(IsInternalError(StatusFromHttp(500, "", "")));
  EXPECT_FALSE(IsInternalError(StatusFromHttp(503, "ServiceUnavailable", "")));
  // A known reason decides over the HTTP code.
  EXPECT_TRUE(
      IsNotFound(Status(StatusCode::kInternal, "").set_http_code(500).set_reason("NotFound")));
  // "Unknown" is no reason: the code decides.
  EXPECT_TRUE(
      IsNotFound(Status(StatusCode::kInternal, "").set_http_code(404).set_reason("Unknown")));
}

TEST(StatusTest, GoneCoversExpiredGoneAndBodyLess410) {
  EXPECT_TRUE(IsGone(StatusFromHttp(410, "Expired", "too old resource version")));
  EXPECT_TRUE(IsGone(StatusFromHttp(410, "Gone", "")));
  // A proxy's 410 without a Status body: no reason at all.
  EXPECT_TRUE(IsGone(Status(StatusCode::kInternal, "").set_http_code(410)));
  EXPECT_TRUE(IsGone(StatusFromHttp(410, "", "")));
  EXPECT_TRUE(IsGone(GoneError("relist")));
  EXPECT_TRUE(IsResourceExpired(StatusFromHttp(410, "", "")));
  EXPECT_FALSE(IsGone(StatusFromHttp(404, "", "")));
  EXPECT_FALSE(IsGone(Status()));
  // Expired or Gone as a reason counts even with another code.
  EXPECT_TRUE(IsGone(Status(StatusCode::kInternal, "").set_http_code(500).set_reason("Expired")));
}

TEST(StatusTest, TooLargeResourceVersion) {
  EXPECT_TRUE(IsTooLargeResourceVersion(
      StatusFromHttp(504, "Timeout", "Too large resource version: 99, current: 12")));
  EXPECT_TRUE(IsTooLargeResourceVersion(
      StatusFromHttp(504, "Timeout", "Timeout: Too large resource version: 99, current: 12")));
  EXPECT_TRUE(IsTooLargeResourceVersion(
      InternalError("any message").set_cause(StatusCause::kResourceVersionTooLarge)));
  EXPECT_FALSE(IsTooLargeResourceVersion(StatusFromHttp(504, "Timeout", "timed out")));
}

// The condition is a typed cause, set where the error is made: a message that merely quotes the
// phrase (another error's text, a 500 from a proxy) does not make it so.
TEST(StatusTest, TooLargeResourceVersionIsTheCauseNotTheMessage) {
  EXPECT_FALSE(IsTooLargeResourceVersion(InternalError("cause ResourceVersionTooLarge")));
  EXPECT_FALSE(IsTooLargeResourceVersion(
      StatusFromHttp(500, "InternalError", "etcd: Too large resource version: 99")));
  EXPECT_EQ(StatusFromHttp(504, "Timeout", "timed out").cause(), StatusCause::kNone);
  // WithContext keeps the cause.
  EXPECT_TRUE(IsTooLargeResourceVersion(
      StatusFromHttp(504, "Timeout", "Too large resource version: 9").WithContext("watch")));
}

TEST(ResultTest, HoldsAValue) {
  Result<int> r = 7;
  EXPECT_TRUE(r.has_value());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 7);
  EXPECT_EQ(*r, 7);
  EXPECT_EQ(r.value_or(3), 7);
  EXPECT_TRUE(r.error().ok());
  EXPECT_TRUE(r.status().ok());
  *r = 8;
  EXPECT_EQ(r.value(), 8);
}

TEST(ResultTest, HoldsAnError) {
  Result<std::string> r = NotFoundError("nope");
  EXPECT_FALSE(r.has_value());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.error(), NotFoundError("nope"));
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.value_or("fallback"), "fallback");
}

TEST(ResultTest, ValueOnErrorThrowsBadResultAccess) {
  Result<int> r = GoneError("expired");
  EXPECT_THROW((void)r.value(), BadResultAccess);
  EXPECT_THROW((void)*r, BadResultAccess);
  try {
    (void)r.value();
    FAIL() << "no throw";
  } catch (const BadResultAccess& e) {
    EXPECT_EQ(e.status(), GoneError("expired"));
    EXPECT_THAT(e.what(), HasSubstr("gone: expired"));
  }
  const Result<int>& cr = r;
  EXPECT_THROW((void)cr.value(), BadResultAccess);
  EXPECT_THROW((void)std::move(r).value(), BadResultAccess);
}

TEST(ResultTest, OkStatusBecomesInternal) {
  Result<int> r = Status();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInternal);
}

TEST(ResultTest, ConvertsAndMoves) {
  Result<std::string> from_literal = "abc";  // constructible, not the same type
  EXPECT_EQ(*from_literal, "abc");
  EXPECT_EQ(from_literal->size(), 3u);
  Result<std::unique_ptr<int>> owned = std::make_unique<int>(5);
  std::unique_ptr<int> taken = std::move(owned).value();
  EXPECT_EQ(*taken, 5);
  Result<std::unique_ptr<int>> again = std::make_unique<int>(6);
  std::unique_ptr<int> deref = *std::move(again);
  EXPECT_EQ(*deref, 6);
}

}  // namespace
}  // namespace kube
