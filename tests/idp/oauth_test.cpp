// Tests of the OAuth logic on a manual clock: code lifetime, Meta's long-lived tokens,
// sessions with several accounts, and what inactive accounts can do.
#include "support.hpp"

#include <algorithm>

#include <gtest/gtest.h>

namespace linksim::idp {
namespace {

using namespace std::chrono_literals;
using testing::challenge_for;
using testing::idp_fixture;
using testing::verifier_for;

std::string query_value(std::string_view url, std::string_view key) {
  const auto q = url.find('?');
  const auto hash = url.find('#');
  auto p =
      http::parse_form(url.substr(q + 1, hash == std::string_view::npos ? hash : hash - q - 1));
  const auto* v = p ? http::find_param(*p, key) : nullptr;
  return v ? *v : std::string();
}

struct flow : idp_fixture {
  client app = make_client();
  account alice = make_account("alice");
  std::string verifier = verifier_for();

  // Runs authorize → login → consent and returns the redirect URL.
  result<std::string> consent(const account& who, std::string scope = "user_profile") {
    auto p = idp.begin_authorization(
        {app.id, "http://app.test/cb", "code", scope, "st", challenge_for(verifier), "S256"});
    if (!p) return p.error();
    const std::string session = idp.open_session(who.id, "");
    return idp.approve(p->id, session, who.id);
  }
  std::string code(const account& who) { return query_value(*consent(who), "code"); }
};

TEST(Authorize, RedirectCarriesCodeStateAndIssuer) {
  flow f;
  auto url = f.consent(f.alice);
  ASSERT_TRUE(url);
  EXPECT_TRUE(url->starts_with("http://app.test/cb?code="));
  EXPECT_EQ(query_value(*url, "state"), "st");
  EXPECT_EQ(query_value(*url, "iss"), "http://idp.test") << *url;
  EXPECT_TRUE(url->ends_with("#_"));
}

TEST(Authorize, RejectsBadRequestsBeforeAnyLogin) {
  flow f;
  const std::string ch = challenge_for(f.verifier);
  auto check = [&](authorize_request r, idp::error expected) {
    EXPECT_TRUE(is(f.idp.begin_authorization(r).error(), expected)) << static_cast<int>(expected);
  };
  check({"nope", "http://app.test/cb", "code", "", "", ch, "S256"}, idp::error::unknown_client);
  check({f.app.id, "http://app.test/cb/", "code", "", "", ch, "S256"},
        idp::error::redirect_uri_unregistered);
  check({f.app.id, "http://app.test/cb", "token", "", "", ch, "S256"},
        idp::error::unsupported_response_type);
  check({f.app.id, "http://app.test/cb", "code", "", "", "", ""}, idp::error::pkce_required);
  check({f.app.id, "http://app.test/cb", "code", "", "", ch, "plain"},
        idp::error::pkce_method_unsupported);
  check({f.app.id, "http://app.test/cb", "code", "", "", ch, ""},
        idp::error::pkce_method_unsupported);
  check({f.app.id, "http://app.test/cb", "code", "email", "", ch, "S256"},
        idp::error::invalid_scope);
}

TEST(Authorize, InactiveAccountsCannotConsent) {
  flow f;
  ASSERT_TRUE(f.idp.update_profile(f.alice.id, {.status = account_status::suspended}));
  EXPECT_TRUE(is(f.consent(f.alice).error(), errc::account_inactive));
}

TEST(Authorize, SessionHoldsSeveralAccountsAndOnlyThoseCanConsent) {
  flow f;
  const auto bob = f.make_account("bob");
  const auto carol = f.make_account("carol");
  std::string s = f.idp.open_session(f.alice.id, "");
  EXPECT_EQ(f.idp.open_session(bob.id, s), s);
  const auto accounts = f.idp.session_accounts(s);
  ASSERT_EQ(accounts.size(), 2u);
  auto p = f.idp.begin_authorization(
      {f.app.id, "http://app.test/cb", "code", "", "", challenge_for(f.verifier), "S256"});
  EXPECT_TRUE(is(f.idp.approve(p->id, s, carol.id).error(), idp::error::session_account_unknown));
  EXPECT_TRUE(f.idp.approve(p->id, s, bob.id));
  // A request is used once.
  EXPECT_TRUE(
      is(f.idp.approve(p->id, s, bob.id).error(), idp::error::authorization_request_unknown));
}

// The sign-in pages read a session's accounts from a cache: it must follow every change.
TEST(Authorize, SessionAccountsFollowRenamesDeletionsNewAccountsAndExpiry) {
  flow f;
  const auto bob = f.make_account("bob");
  std::string s = f.idp.open_session(f.alice.id, "");
  ASSERT_EQ(f.idp.session_accounts(s).size(), 1u);
  EXPECT_EQ(f.idp.open_session(bob.id, s), s);
  ASSERT_EQ(f.idp.session_accounts(s).size(), 2u);
  ASSERT_TRUE(f.idp.update_profile(bob.id, {.username = "robert"}));
  const auto now = f.idp.session_accounts(s);
  EXPECT_TRUE(std::ranges::any_of(now, [](const account& a) { return a.username == "robert"; }));
  ASSERT_TRUE(f.idp.delete_account(f.alice.id));
  const auto left = f.idp.session_accounts(s);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].id, bob.id);
  f.clock.advance(30 * 24h + 1ms);
  EXPECT_TRUE(f.idp.session_accounts(s).empty());
}

TEST(Token, CodeExpiresAfterAnHour) {
  flow f;
  const auto c = f.code(f.alice);
  f.clock.advance(1h + 1ms);
  EXPECT_TRUE(is(f.idp.exchange_code(f.app, c, "http://app.test/cb", f.verifier, true).error(),
                 idp::error::code_expired));
}

// Codes wait for redemption in memory; the grant, the spent code and the tokens are written
// together. A restart loses codes not yet redeemed, but a redeemed code's reuse is still caught.
TEST(Token, ARestartLosesWaitingCodesButStillCatchesTheReuseOfRedeemedOnes) {
  flow f;
  const auto redeemed = f.code(f.alice);
  const auto waiting = f.code(f.alice);
  auto t = f.idp.exchange_code(f.app, redeemed, "http://app.test/cb", f.verifier, true);
  ASSERT_TRUE(t);
  ASSERT_TRUE(f.idp.check_access_token(t->access_token));

  idp::service restarted{f.db, f.clock, f.random, f.recorder, f.transport, flow::make_config()};
  EXPECT_TRUE(
      is(restarted.exchange_code(f.app, waiting, "http://app.test/cb", f.verifier, true).error(),
         idp::error::code_not_found));
  EXPECT_TRUE(
      is(restarted.exchange_code(f.app, redeemed, "http://app.test/cb", f.verifier, true).error(),
         idp::error::code_reused));
  EXPECT_FALSE(restarted.check_access_token(t->access_token));  // what the code bought is gone
}

TEST(Token, AFailedRedemptionSpendsTheCode) {
  flow f;
  const auto c = f.code(f.alice);
  EXPECT_TRUE(
      is(f.idp.exchange_code(f.app, c, "http://app.test/cb", std::string(43, 'x'), true).error(),
         idp::error::pkce_verifier_mismatch));
  EXPECT_TRUE(is(f.idp.exchange_code(f.app, c, "http://app.test/cb", f.verifier, true).error(),
                 idp::error::code_reused));
}

TEST(Token, DeauthorizingDropsCodesNotYetRedeemed) {
  flow f;
  ASSERT_TRUE(f.idp.exchange_code(f.app, f.code(f.alice), "http://app.test/cb", f.verifier, true));
  const auto waiting = f.code(f.alice);
  ASSERT_TRUE(f.idp.deauthorize(f.alice.id, f.app.id));
  EXPECT_TRUE(
      is(f.idp.exchange_code(f.app, waiting, "http://app.test/cb", f.verifier, true).error(),
         idp::error::code_not_found));
}

TEST(Token, ShortLivedExchangesForLongLivedThatRefreshesOnlyWhenADayOld) {
  flow f;
  auto t = f.idp.exchange_code(f.app, f.code(f.alice), "http://app.test/cb", f.verifier, false);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->expires_in, 3600);
  EXPECT_TRUE(t->refresh_token.empty());  // Meta's endpoint issues none
  EXPECT_TRUE(
      is(f.idp.exchange_long_lived("wrong", t->access_token).error(), idp::error::invalid_client));
  auto ll = f.idp.exchange_long_lived(f.app.secret, t->access_token);
  ASSERT_TRUE(ll);
  EXPECT_EQ(ll->expires_in, 5184000);
  EXPECT_TRUE(is(f.idp.exchange_long_lived(f.app.secret, ll->access_token).error(),
                 idp::error::token_wrong_kind));
  EXPECT_TRUE(is(f.idp.refresh_long_lived(ll->access_token).error(), idp::error::token_too_young));
  EXPECT_TRUE(is(f.idp.refresh_long_lived(t->access_token).error(), idp::error::token_wrong_kind));
  f.clock.advance(24h);
  auto refreshed = f.idp.refresh_long_lived(ll->access_token);
  ASSERT_TRUE(refreshed);
  EXPECT_EQ(refreshed->expires_in, 5184000);
  f.clock.advance(59 * 24h +
                  1s);  // the first long-lived token is past its 60 days, the new one not
  EXPECT_TRUE(is(f.idp.check_access_token(ll->access_token).error(), idp::error::token_expired));
  EXPECT_TRUE(f.idp.check_access_token(refreshed->access_token));
  EXPECT_TRUE(is(f.idp.refresh_long_lived(ll->access_token).error(), idp::error::token_expired));
}

TEST(Token, AccessTokensExpireAfterAnHour) {
  flow f;
  auto t = f.idp.exchange_code(f.app, f.code(f.alice), "http://app.test/cb", f.verifier, true);
  ASSERT_TRUE(t);
  EXPECT_TRUE(f.idp.check_access_token(t->access_token));
  f.clock.advance(1h);
  EXPECT_TRUE(is(f.idp.check_access_token(t->access_token).error(), idp::error::token_expired));
  EXPECT_FALSE(f.idp.introspect(f.app, t->access_token).active);
  EXPECT_TRUE(f.idp.refresh(f.app, t->refresh_token));  // the refresh token lives on
}

TEST(Token, DeletingTheAccountEndsItsTokens) {
  flow f;
  auto t = f.idp.exchange_code(f.app, f.code(f.alice), "http://app.test/cb", f.verifier, true);
  ASSERT_TRUE(f.idp.delete_account(f.alice.id));
  EXPECT_TRUE(is(f.idp.check_access_token(t->access_token).error(), idp::error::token_invalid));
  EXPECT_TRUE(
      is(f.idp.refresh(f.app, t->refresh_token).error(), idp::error::refresh_token_invalid));
}

TEST(Token, ProfileReadsSeeRevocationRenameAndDeletionAtOnce) {
  flow f;
  auto t = f.idp.exchange_code(f.app, f.code(f.alice), "http://app.test/cb", f.verifier, true);
  ASSERT_TRUE(t);
  ASSERT_TRUE(f.idp.check_access_token(t->access_token));  // now remembered
  ASSERT_TRUE(f.idp.update_profile(f.alice.id, {.username = "alice.renamed"}));
  EXPECT_EQ(f.idp.check_access_token(t->access_token)->subject.username, "alice.renamed");
  ASSERT_TRUE(f.idp.set_picture(f.alice.id, {"image/png", "png"}));
  EXPECT_FALSE(f.idp.check_access_token(t->access_token)->subject.picture_url.empty());
  f.idp.revoke(f.app, t->access_token);
  EXPECT_TRUE(is(f.idp.check_access_token(t->access_token).error(), idp::error::token_invalid));

  auto t2 = f.idp.exchange_code(f.app, f.code(f.alice), "http://app.test/cb", f.verifier, true);
  ASSERT_TRUE(f.idp.check_access_token(t2->access_token));
  f.clock.advance(1h);
  EXPECT_TRUE(is(f.idp.check_access_token(t2->access_token).error(), idp::error::token_expired));

  auto t3 = f.idp.exchange_code(f.app, f.code(f.alice), "http://app.test/cb", f.verifier, true);
  ASSERT_TRUE(f.idp.check_access_token(t3->access_token));
  f.idp.revoke(f.app, t3->refresh_token);  // takes the grant's access token with it
  EXPECT_TRUE(is(f.idp.check_access_token(t3->access_token).error(), idp::error::token_invalid));

  auto t4 = f.idp.exchange_code(f.app, f.code(f.alice), "http://app.test/cb", f.verifier, true);
  ASSERT_TRUE(f.idp.check_access_token(t4->access_token));
  ASSERT_TRUE(f.idp.delete_account(f.alice.id));
  EXPECT_TRUE(is(f.idp.check_access_token(t4->access_token).error(), idp::error::token_invalid));
}

}  // namespace
}  // namespace linksim::idp
