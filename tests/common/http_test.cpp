// Tests of the plain HTTP helpers.
#include "linksim/common/http.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace linksim::http {
namespace {

TEST(ParseForm, DecodesPercentAndPlus) {
  auto p = parse_form("a=1&redirect_uri=https%3A%2F%2Fx.test%2Fcb&name=J+Doe");
  ASSERT_TRUE(p);
  ASSERT_EQ(p->size(), 3u);
  EXPECT_EQ(*find_param(*p, "redirect_uri"), "https://x.test/cb");
  EXPECT_EQ(*find_param(*p, "name"), "J Doe");
  EXPECT_EQ(find_param(*p, "missing"), nullptr);
}

TEST(ParseForm, ReportsRepeatedParameters) {
  auto p = parse_form("code=a&code=b");
  ASSERT_TRUE(p);
  bool repeated = false;
  EXPECT_EQ(*find_param(*p, "code", &repeated), "a");
  EXPECT_TRUE(repeated);
}

TEST(ParseForm, StopsAtTheEndOfASubstring) {
  const std::string_view url = "code=x&iss=y#_";
  auto p = parse_form(url.substr(0, url.find('#')));
  ASSERT_TRUE(p);
  EXPECT_EQ(*find_param(*p, "iss"), "y");
}

TEST(ParseForm, RejectsBadEscapes) {
  EXPECT_FALSE(parse_form("a=%zz"));
}

TEST(FormEncode, RoundTrips) {
  params in{{"redirect_uri", "http://127.0.0.1:8/cb?x=1"}, {"state", "a b&c"}};
  auto out = parse_form(form_encode(in));
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, in);
}

TEST(Request, SplitsTargetAndReadsCookies) {
  request r;
  r.target = "/oauth/authorize?client_id=1";
  r.headers.set("cookie", "a=1; idp_session=xyz ;b=2");
  EXPECT_EQ(r.path(), "/oauth/authorize");
  EXPECT_EQ(r.query(), "client_id=1");
  EXPECT_EQ(r.cookie("idp_session"), "xyz");
  EXPECT_EQ(r.cookie("nope"), "");
  EXPECT_EQ(r.headers.get("COOKIE"), "a=1; idp_session=xyz ;b=2");
}

// Field names match whatever the case of their letters, and only of their letters: '[' and '{'
// (which differ by the same bit as 'A' and 'a') name different fields.
TEST(Headers, NamesMatchWithoutRegardToTheCaseOfTheirLetters) {
  headers h;
  h.set("X-Hub-Signature-256", "a");
  h.set("x[", "b");
  EXPECT_EQ(h.get("x-hub-signature-256"), "a");
  EXPECT_EQ(h.get("X-HUB-SIGNATURE-256"), "a");
  EXPECT_EQ(h.get("x["), "b");
  EXPECT_EQ(h.get("X{"), "");
  EXPECT_EQ(h.get("x{"), "");
  EXPECT_EQ(h.get("X-Hub-Signature-25"), "");
  h.set("x-hub-signature-256", "c");  // replaces the field of the same name
  EXPECT_EQ(h.get("X-Hub-Signature-256"), "c");
  EXPECT_EQ(h.fields.size(), 2u);
}

TEST(HttpDate, ReadsTheThreeFormsOfRfc9110) {
  // RFC 9110 section 5.6.7's example, 784111777 s after the epoch, in each form.
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
  EXPECT_EQ(parse_http_date("Fri, 04 Dec 2026 18:00:00 GMT"), 1796407200);
}

TEST(HttpDate, RefusesWhatIsNotOne) {
  for (const char* bad :
       {"", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 31 Feb 1994 08:49:37 GMT",
        "Sun, 06 Now 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT", "Sun Nov 6 08:49:37 1994", "1994-11-06T08:49:37Z"}) {
    EXPECT_FALSE(parse_http_date(bad)) << bad;
  }
}

TEST(RetryAfter, IsSecondsOrADateFromNow) {
  const std::int64_t now = 784111777;
  EXPECT_EQ(retry_after_seconds("120", now), 120);
  EXPECT_EQ(retry_after_seconds("Sun, 06 Nov 1994 08:51:37 GMT", now), 120);
  EXPECT_EQ(retry_after_seconds("Sun, 06 Nov 1994 08:00:00 GMT", now), 0);  // already past
  EXPECT_EQ(retry_after_seconds("99999999999999999999999", now),
            std::numeric_limits<std::int64_t>::max());
  EXPECT_FALSE(retry_after_seconds("-5", now));
  EXPECT_FALSE(retry_after_seconds("soon", now));
  EXPECT_FALSE(retry_after_seconds("", now));
}

}  // namespace
}  // namespace linksim::http
