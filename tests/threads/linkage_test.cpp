// The dependent service's sign-in and sessions through its functions: the login state, the
// provider's answers, the one profile per account, sessions after the provider account changes,
// and reconciliation's schedule.
#include "support.hpp"

#include <gtest/gtest.h>

namespace linksim::testing {
namespace {

TEST(Login, ACallbackFromAnotherBrowserIsRefused) {
  world w;
  (void)w.account("alice");
  std::string key;
  auto start = w.threads->begin_login(intent::signup);
  auto q = http::parse_form("state=x&code=y&iss=http%3A%2F%2Fidp.test").value();
  auto r = w.threads->complete_login(start.browser_key, q);  // a state this browser never had
  ASSERT_FALSE(r);
  EXPECT_TRUE(is(r.error(), threads_sim::error::login_state_invalid));
  EXPECT_EQ(threads_sim::describe(r.error()).status, 400);
}

TEST(Login, ACallbackNamingAnotherIssuerIsRefused) {
  world w;
  (void)w.account("alice");
  auto start = w.threads->begin_login(intent::signup);
  const auto url = start.authorize_url;
  const auto state = http::query_param(url, "state");
  auto q = http::parse_form("state=" + http::percent_encode(state) +
                            "&code=c&iss=http%3A%2F%2Fevil.test")
               .value();
  auto r = w.threads->complete_login(start.browser_key, q);
  ASSERT_FALSE(r);
  EXPECT_TRUE(is(r.error(), threads_sim::error::issuer_mismatch));
}

TEST(Login, TheProvidersRefusalIsAccessDenied) {
  world w;
  auto start = w.threads->begin_login(intent::signup);
  const auto state = http::query_param(start.authorize_url, "state");
  auto q = http::parse_form("state=" + http::percent_encode(state) +
                            "&error=access_denied&iss=http%3A%2F%2Fidp.test")
               .value();
  auto r = w.threads->complete_login(start.browser_key, q);
  ASSERT_FALSE(r);
  EXPECT_TRUE(is(r.error(), errc::access_denied));
}

TEST(Login, AnAccountRestrictedBeforeTheCallbackCannotSignUp) {
  world w;
  const auto id = w.account("alice");
  // The provider approved, then restricted the account before the service read /me.
  w.before_callback = [&] {
    ASSERT_TRUE(w.provider.idp.update_profile(id, {.status = idp::account_status::restricted}));
  };
  std::string key;
  auto r = w.sign_in("alice", key);
  // The provider refuses the code (400 invalid_grant, as RFC 6749 section 5.2 has it), which
  // the service reports as a sign-in to start again; nothing is created.
  ASSERT_FALSE(r);
  EXPECT_TRUE(is(r.error(), threads_sim::error::login_state_invalid)) << r.error().message();
  EXPECT_TRUE(w.threads->profiles_of_account(id).empty());
}

TEST(Login, ALinkedAccountLogsInToItsProfileWithoutAConfirmation) {
  world w;
  const auto p = sign_up(w, "alice");
  auto start = w.threads->begin_login(intent::login);
  (void)start;
  std::string key;
  auto r = w.sign_in("alice", key);  // the helper starts a sign-up: an existing profile signs in
  ASSERT_FALSE(r);
  EXPECT_TRUE(is(r.error(), threads_sim::error::already_linked));
  EXPECT_EQ(w.threads->profiles_of_account(p.ig_user_id).size(), 1u);
}

TEST(Login, AConfirmationIsSingleUseAndBoundToItsBrowser) {
  world w;
  (void)w.account("alice");
  std::string key;
  auto r = w.sign_in("alice", key);
  ASSERT_TRUE(r && r->confirm);
  auto other = w.threads->confirm_link(r->confirm->id, "another-browser");
  ASSERT_FALSE(other);
  EXPECT_TRUE(is(other.error(), threads_sim::error::link_request_unknown));
  ASSERT_TRUE(w.threads->confirm_link(r->confirm->id, key));
  auto again = w.threads->confirm_link(r->confirm->id, key);
  ASSERT_FALSE(again);
  EXPECT_TRUE(is(again.error(), threads_sim::error::link_request_unknown));
}

TEST(Sessions, ASessionEndsWithItsProfileAndWithTheProviderAccount) {
  world w;
  (void)w.account("alice");
  std::string key;
  auto r = w.sign_in("alice", key);
  ASSERT_TRUE(r && r->confirm);
  auto [p, session] = w.threads->confirm_link(r->confirm->id, key).value();
  ASSERT_TRUE(w.threads->session_profile(session));
  EXPECT_TRUE(is(w.threads->session_profile("").error(), threads_sim::error::not_signed_in));
  // The provider deletes the account: its webhook closes the profile and ends its sessions.
  ASSERT_TRUE(w.threads
                  ->receive_webhook(webhook(w, p.ig_user_id, "account_deletion", {}, 9).body,
                                    webhook(w, p.ig_user_id, "account_deletion", {}, 9).signature)
                  .value()
                  .applied);
  EXPECT_TRUE(is(w.threads->session_profile(session).error(), threads_sim::error::not_signed_in));
  EXPECT_TRUE(w.threads->get_profile(p.id)->ig_deleted);
  auto pub = w.threads->public_profile(p.username);
  ASSERT_FALSE(pub);
  EXPECT_TRUE(is(pub.error(), threads_sim::error::profile_deleted_upstream));
}

TEST(Sessions, LoggingOutEndsTheSession) {
  world w;
  (void)w.account("alice");
  std::string key;
  auto r = w.sign_in("alice", key);
  ASSERT_TRUE(r && r->confirm);
  const auto session = w.threads->confirm_link(r->confirm->id, key).value().second;
  w.threads->end_session(session);
  EXPECT_TRUE(is(w.threads->session_profile(session).error(), threads_sim::error::not_signed_in));
}

TEST(Reconcile, AProfileIsPolledOnceItsIntervalHasPassed) {
  world w;
  const auto p = sign_up(w, "alice");
  EXPECT_EQ(w.threads->reconcile_due(), 0u);  // just synced at sign-up
  const auto due = w.threads->next_reconcile_due();
  ASSERT_TRUE(due);
  ASSERT_TRUE(w.provider.idp.update_profile(p.ig_user_id, {.username = "alice.later"}));
  w.provider.clock.set(*due);
  EXPECT_EQ(w.threads->reconcile_due(), 1u);
  EXPECT_EQ(w.threads->get_profile(p.id)->username, "alice.later");
  EXPECT_EQ(w.threads->reconcile_due(), 0u);  // and not again until the next interval
}

TEST(Profiles, UnderIndependentTheHandleIsChosenAtSignUpAndIsUnique) {
  world w("independent");
  (void)w.account("alice");
  (void)w.account("bob");
  std::string a_key, b_key;
  auto a = w.sign_in("alice", a_key);
  ASSERT_TRUE(a && a->confirm);
  ASSERT_TRUE(w.threads->confirm_link(a->confirm->id, a_key, "the.handle"));
  auto b = w.sign_in("bob", b_key);
  ASSERT_TRUE(b && b->confirm);
  auto taken = w.threads->confirm_link(b->confirm->id, b_key, "the.handle");
  ASSERT_FALSE(taken);
  EXPECT_TRUE(is(taken.error(), errc::username_taken));
  auto bad = w.threads->confirm_link(b->confirm->id, b_key, "no spaces");
  ASSERT_FALSE(bad);
  EXPECT_TRUE(is(bad.error(), errc::username_invalid));
}

TEST(Content, FollowingAnUnknownUsernameIsNotFound) {
  world w;
  const auto p = sign_up(w, "alice");
  auto r = w.threads->follow(p.id, "nobody");
  ASSERT_FALSE(r);
  EXPECT_EQ(threads_sim::describe(r.error()).status, 404);
}

}  // namespace
}  // namespace linksim::testing
