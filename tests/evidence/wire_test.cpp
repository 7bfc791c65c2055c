// Observed flows: what the classifier reads off a message, and what it keeps of a secret.
#include "linksim/evidence/wire.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace linksim::evidence {
namespace {

bool has(const flow& f, std::string_view category) {
  return std::find(f.categories.begin(), f.categories.end(), category) != f.categories.end();
}

http::request json_post(std::string target, std::string body) {
  http::request r;
  r.method = "POST";
  r.target = std::move(target);
  r.headers.set("Content-Type", "application/json");
  r.headers.set("Authorization", "Bearer service-key-of-threads-0123456789");
  r.body = std::move(body);
  return r;
}

wire_message message(const std::string& from, const std::string& to, const http::request& req,
                     const http::response* res) {
  wire_message m;
  m.from = from;
  m.to = to;
  m.request = &req;
  m.response = res;
  return m;
}

TEST(Wire, AnActivityEventIsReadFromItsFieldsOncePerStatedPurpose) {
  const auto req = json_post("http://ads.sim/v1/activity",
                             R"({"subject":"17","kind":"like","text":"a post","device":"d-1",)"
                             R"("purposes":["personalize.content","marketing.advertising"]})");
  http::response res;
  res.status = 202;
  const wire_classifier c("key");
  const auto flows = c.flows_of(message("threads", "ads", req, &res));
  ASSERT_EQ(flows.size(), 2u);  // one per purpose; the empty answer carries nothing
  for (const auto& f : flows) {
    EXPECT_TRUE(f.observed);
    EXPECT_EQ(f.from, "threads");
    EXPECT_EQ(f.to, "ads");
    EXPECT_EQ(f.channel, "ads.activity");
    EXPECT_EQ(f.subject, "17");
    for (const char* k : {"user.unique_id", "user.behavior", "user.content.public",
                          "user.device.device_id", "system.authentication"})
      EXPECT_TRUE(has(f, k)) << k;
    EXPECT_EQ(f.note.find("service-key-of-threads"), std::string::npos);  // keyed, not kept
    EXPECT_NE(f.note.find(c.keyed("Bearer service-key-of-threads-0123456789")), std::string::npos);
  }
  EXPECT_EQ(flows[0].purpose, "personalize.content");
  EXPECT_EQ(flows[1].purpose, "marketing.advertising");
}

// A service that sends more than it says: a session token slipped into an unnamed field is
// found by its shape, classified as credentials and never written down as it was.
TEST(Wire, ATokenInAnyFieldIsFoundAndHidden) {
  const std::string token = "sess_9f8A7b6C5d4E3f2A1b0C9d8E";
  const auto req = json_post("http://ads.sim/v1/activity",
                             R"({"subject":"17","kind":"post","text":"hi","extra":")" + token +
                                 R"(","purposes":["personalize.content"]})");
  const wire_classifier c("key");
  const auto flows = c.flows_of(message("threads", "ads", req, nullptr));
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_TRUE(has(flows[0], "user.authorization.credentials"));
  EXPECT_EQ(flows[0].note.find(token), std::string::npos);
  EXPECT_NE(flows[0].note.find(c.keyed(token)), std::string::npos);
  // Another key, another hash: the log does not let a reader test guesses without the key.
  EXPECT_NE(c.keyed(token), wire_classifier("other").keyed(token));
  // Without the token the same event carries no credentials.
  const auto plain =
      json_post("http://ads.sim/v1/activity", R"({"subject":"17","kind":"post","text":"hi",)"
                                              R"("purposes":["personalize.content"]})");
  EXPECT_FALSE(has(c.flows_of(message("threads", "ads", plain, nullptr))[0],
                   "user.authorization.credentials"));
}

TEST(Wire, AnAnswerCarriesOnlyTheFieldsThatHoldAValue) {
  http::request req;
  req.target = "http://idp.sim/me?fields=id,username,name,biography";
  req.headers.set("Authorization", "Bearer user-access-token-0123456789abc");
  http::response res;
  res.headers.set("Content-Type", "application/json");
  res.body = R"({"id":"42","username":"bob","name":"","biography":"","followers":{"data":[]}})";
  const auto flows = wire_classifier("k").flows_of(message("threads", "idp", req, &res));
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[0].from, "threads");  // the request: the user's token, to the provider
  EXPECT_EQ(flows[0].channel, "graph.me");
  EXPECT_EQ(flows[0].categories, std::vector<std::string>{"user.authorization.credentials"});
  EXPECT_EQ(flows[1].from, "idp");  // the answer, back
  EXPECT_EQ(flows[1].subject, "42");
  EXPECT_EQ(flows[1].categories,
            (std::vector<std::string>{"user.account.username", "user.unique_id"}));
}

// Follower counts tell of the person's followers when there are some; a count of zero, like an
// empty list, tells nothing.
TEST(Wire, FollowerCountsAreFollowersWhenAboveZero) {
  http::request req;
  req.target = "http://idp.sim/me?fields=id,followers_count,follows_count";
  req.headers.set("Authorization", "Bearer user-access-token-0123456789abc");
  const auto answer = [&](const std::string& body) {
    http::response res;
    res.headers.set("Content-Type", "application/json");
    res.body = body;
    return wire_classifier("k").flows_of(message("threads", "idp", req, &res)).at(1);
  };
  EXPECT_TRUE(
      has(answer(R"({"id":"42","followers_count":1,"follows_count":0})"), "user.social.followers"));
  EXPECT_TRUE(
      has(answer(R"({"id":"42","followers_count":0,"follows_count":3})"), "user.social.followers"));
  EXPECT_FALSE(
      has(answer(R"({"id":"42","followers_count":0,"follows_count":0})"), "user.social.followers"));
}

// An id of zero names no account: a message that carries one names nobody, and a real id in the
// same field does.
TEST(Wire, AnIdOfZeroNamesNoAccount) {
  const auto transcript = [](const std::string& subject) {
    const auto req = json_post("http://ads.sim/v1/ai/transcripts",
                               R"({"subject":")" + subject + R"(","transcript":"user: hi"})");
    return wire_classifier("k").flows_of(message("threads", "ads", req, nullptr)).at(0);
  };
  const auto nobody = transcript("0");
  EXPECT_FALSE(has(nobody, "user.unique_id"));
  EXPECT_TRUE(nobody.subject.empty() || nobody.subject == "0") << nobody.subject;
  EXPECT_TRUE(has(nobody, "user.content.private"));
  const auto someone = transcript("42");
  EXPECT_TRUE(has(someone, "user.unique_id"));
  EXPECT_EQ(someone.subject, "42");
}

// OpenID Connect: userinfo's claims are the account's id and username; an ID token in a token
// answer is hidden as a token.
TEST(Wire, OpenIdConnectClaimsAndIdTokensAreClassified) {
  http::request req;
  req.target = "http://idp.sim/oauth/userinfo";
  req.headers.set("Authorization", "Bearer user-access-token-0123456789abc");
  http::response res;
  res.headers.set("Content-Type", "application/json");
  res.body = R"({"sub":"42","preferred_username":"bob"})";
  const wire_classifier c("k");
  auto flows = c.flows_of(message("threads", "idp", req, &res));
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[1].channel, "oidc.userinfo");
  EXPECT_TRUE(has(flows[1], "user.unique_id"));
  EXPECT_TRUE(has(flows[1], "user.account.username"));
  const std::string id_token = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlc2lnbmF0dXJl";
  http::request token = json_post("http://idp.sim/oauth/token", "{}");
  res.body = R"({"access_token":"at-0123456789abcdefghijklmn","id_token":")" + id_token + R"("})";
  flows = c.flows_of(message("threads", "idp", token, &res));
  ASSERT_FALSE(flows.empty());
  EXPECT_TRUE(has(flows.back(), "user.authorization.credentials"));
  EXPECT_EQ(flows.back().note.find(id_token), std::string::npos);
}

TEST(Wire, AWebhookChangeIsClassifiedByItsField) {
  const auto req = json_post(
      "http://threads.sim/webhooks/instagram",
      R"({"object":"instagram","entry":[{"id":"42","changes":[{"field":"username","value":"bob.new"}]}]})");
  const auto flows = wire_classifier("k").flows_of(message("idp", "threads", req, nullptr));
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].channel, "webhook");
  EXPECT_EQ(flows[0].subject, "42");
  EXPECT_TRUE(has(flows[0], "user.account.username"));
  EXPECT_TRUE(has(flows[0], "user.unique_id"));
}

TEST(Wire, AMessageThatNeverArrivedMovedNothingAndAnErrorSaysNothingOfAnyone) {
  const auto req = json_post("http://ads.sim/v1/partners/purchases", R"({"campaign":"c"})");
  http::response refused;
  refused.status = 403;
  refused.headers.set("Content-Type", "application/json");
  refused.body = R"({"error":{"code":"sale_refused","message":"never"}})";
  auto m = message("partner:x", "ads", req, &refused);
  m.reached = false;
  m.answered = false;
  EXPECT_TRUE(wire_classifier("k").flows_of(m).empty());
  m.reached = m.answered = true;
  const auto flows = wire_classifier("k").flows_of(m);
  ASSERT_EQ(flows.size(), 1u);  // the request; the refusal carries no category
  EXPECT_EQ(flows[0].from, "partner:x");
  EXPECT_EQ(flows[0].purpose, "third_party_sharing.sale");
}

TEST(Wire, ABrowserIsThePersonUsingIt) {
  http::request req;
  req.method = "POST";
  req.target = "http://idp.sim/oauth/login";
  req.headers.set("Content-Type", "application/x-www-form-urlencoded");
  req.body = "username=bob&password=correct-horse";
  const auto flows = wire_classifier("k").flows_of(message("browser", "idp", req, nullptr));
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].from, "user");
  EXPECT_TRUE(has(flows[0], "user.authorization.password"));
  EXPECT_EQ(flows[0].note.find("correct-horse"), std::string::npos);
}

}  // namespace
}  // namespace linksim::evidence
