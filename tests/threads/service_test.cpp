// The dependent service without sockets: the provider's handler answers its calls in-process.
// For what only the domain layer can show: an interrupted import, the schema's one-profile rule,
// and the error mapping.
#include "support.hpp"

#include "linksim/common/json.hpp"
#include "linksim/threads_sim/routes.hpp"
#include "linksim/threads_sim/service.hpp"

#include <gtest/gtest.h>

namespace linksim::testing {
namespace {

using threads_sim::intent;

TEST(Import, AnInterruptedImportLeavesNothingHalfLinked) {
  world w;
  const auto alice = w.account("alice");
  const auto bob = w.account("bob");
  ASSERT_TRUE(w.provider.idp.follow(bob, alice));
  std::string bob_key;
  auto b = w.sign_in("bob", bob_key);
  ASSERT_TRUE(b && b->confirm);
  ASSERT_TRUE(w.threads->confirm_link(b->confirm->id, bob_key));

  std::string key;
  auto r = w.sign_in("alice", key);
  ASSERT_TRUE(r && r->confirm) << (r ? "" : r.error().message());
  EXPECT_EQ(r->confirm->followers_with_profiles, 1);
  // The process dies while the followers are imported (after the profile row is written).
  w.db.exec(
      "CREATE TEMP TRIGGER crash BEFORE INSERT ON follows "
      "BEGIN SELECT RAISE(ABORT, 'crash during import'); END");
  EXPECT_THROW((void)w.threads->confirm_link(r->confirm->id, key), store::error);
  EXPECT_TRUE(w.threads->profiles_of_account(alice).empty());
  auto q = w.db.prepare("SELECT count(*) FROM follows");
  q.step();
  EXPECT_EQ(q.get_int(0), 0);
  // After the restart the same confirmation completes.
  w.db.exec("DROP TRIGGER crash");
  auto done = w.threads->confirm_link(r->confirm->id, key);
  ASSERT_TRUE(done) << done.error().message();
  EXPECT_EQ(done->first.username, "alice");
  EXPECT_EQ(done->first.followers, 1);
}

// Signs `username` up twice, each time through the confirmation page, and counts the profiles
// of the account then.
std::size_t profiles_after_two_sign_ups(world& w, const std::string& username,
                                        std::int64_t account) {
  for (int i = 0; i < 2; ++i) {
    std::string key;
    auto r = w.sign_in(username, key);
    EXPECT_TRUE(r && r->confirm);
    if (!r || !r->confirm) break;
    EXPECT_TRUE(w.threads->confirm_link(r->confirm->id, key));
  }
  return w.threads->profiles_of_account(account).size();
}

TEST(Import, TheOneProfileRuleIsTheSchemas) {
  world w("fault.two_profiles");
  const auto alice = w.account("alice");
  EXPECT_EQ(profiles_after_two_sign_ups(w, "alice", alice), 2u);
  // The database now breaks the rule: `documented` refuses to open it rather than run on it.
  EXPECT_THROW(w.open("documented"), store::error);
}

TEST(Import, AProfileThatAllowsTwoProfilesLiftsTheRuleFromADatabaseThatHeldIt) {
  world w;  // `documented` writes the rule into the schema
  const auto alice = w.account("alice");
  w.open("fault.two_profiles");
  EXPECT_EQ(profiles_after_two_sign_ups(w, "alice", alice), 2u);
}

TEST(Import, ASecondSignUpIsRefusedBeforeTheConfirmationPage) {
  world w;
  w.account("alice");
  std::string key;
  auto r = w.sign_in("alice", key);
  ASSERT_TRUE(w.threads->confirm_link(r->confirm->id, key));
  auto again = w.sign_in("alice", key);
  ASSERT_FALSE(again);
  EXPECT_TRUE(is(again.error(), threads_sim::error::already_linked));
}

// The ad platform's answer to a deletion notice.
result<http::response> erased(const http::request& req) {
  http::response r;
  r.status = req.target.ends_with("/v1/deletions") ? 200 : 202;
  r.body = R"({"erased_activity":1})";
  return r;
}

std::int64_t signed_up(world& w, const std::string& username) {
  const auto account = w.account(username);
  std::string key;
  auto r = w.sign_in(username, key);
  EXPECT_TRUE(r && r->confirm);
  auto linked = w.threads->confirm_link(r->confirm->id, key);
  EXPECT_TRUE(linked);
  (void)account;
  return linked ? linked->first.id : 0;
}

TEST(AdsNotices, ADeletionToldWhileThePlatformIsDownArrivesWhenItIsBack) {
  world w("documented", "http://ads.test");
  const auto profile = signed_up(w, "alice");
  ASSERT_TRUE(w.threads->create_post(profile, "hello"));
  ASSERT_TRUE(w.threads->delete_profile(profile));
  // The profile's activity went with it; the deletion notice waits, tried once.
  auto pending = w.threads->ads_notices();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].kind, "deletion");
  EXPECT_EQ(pending[0].state, "pending");
  EXPECT_EQ(pending[0].attempts, 1);
  EXPECT_EQ(w.threads->next_notice_due(), w.provider.clock.now() + std::chrono::seconds(5));
  w.provider.clock.advance(std::chrono::seconds(5));
  EXPECT_EQ(w.threads->dispatch_notices(), 1u);  // still down
  EXPECT_EQ(w.threads->ads_notices()[0].attempts, 2);
  w.to_provider.ads = erased;
  w.provider.clock.advance(std::chrono::minutes(4));
  EXPECT_EQ(w.threads->dispatch_notices(), 0u);  // not due for five minutes
  w.provider.clock.advance(std::chrono::minutes(1));
  EXPECT_EQ(w.threads->dispatch_notices(), 1u);
  EXPECT_TRUE(w.threads->ads_notices().empty());  // delivered, and not kept
  EXPECT_EQ(w.to_provider.to_ads.back().target, "http://ads.test/v1/deletions");
  EXPECT_FALSE(w.threads->next_notice_due());
}

TEST(AdsNotices, ANoticePendingWhenTheServiceStopsIsSentAfterItStarts) {
  world w("documented", "http://ads.test");
  const auto profile = signed_up(w, "alice");
  ASSERT_TRUE(w.threads->create_post(profile, "hello"));
  EXPECT_EQ(w.threads->ads_notices().size(), 2u);  // the new profile and the post
  w.open("documented");                            // a restart: the outbox is the database's
  w.to_provider.ads = erased;
  w.provider.clock.advance(std::chrono::seconds(5));
  EXPECT_EQ(w.threads->dispatch_notices(), 2u);
  EXPECT_TRUE(w.threads->ads_notices().empty());
  EXPECT_NE(w.to_provider.to_ads.back().body.find(R"("text":"hello")"), std::string::npos);
}

TEST(AdsNotices, AfterTheLastRetryANoticeIsDeadAndCanBeReplayed) {
  world w("documented", "http://ads.test");
  const auto profile = signed_up(w, "alice");
  ASSERT_TRUE(w.threads->delete_profile(profile));
  w.to_provider.ads = [](const http::request&) -> result<http::response> {
    http::response r;
    r.status = 500;
    return r;
  };
  while (auto next = w.threads->next_notice_due()) {
    w.provider.clock.set(*next);
    w.threads->dispatch_notices();
  }
  const auto dead = w.threads->ads_notices("dead");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].attempts, 10);  // at once, then the nine retries of the schedule
  EXPECT_EQ(dead[0].last_status, 500);
  EXPECT_TRUE(is(w.threads->replay_ads_notice(dead[0].id + 100).error(), errc::not_found));
  w.to_provider.ads = erased;
  ASSERT_TRUE(w.threads->replay_ads_notice(dead[0].id));
  EXPECT_TRUE(is(w.threads->replay_ads_notice(dead[0].id).error(), errc::delivery_not_replayable));
  EXPECT_EQ(w.threads->dispatch_notices(), 1u);
  EXPECT_TRUE(w.threads->ads_notices().empty());
}

TEST(AdsNotices, TheAdminApiShowsTheDeadLetterAndReplaysIt) {
  world w("documented", "http://ads.test");
  ASSERT_TRUE(w.threads->delete_profile(signed_up(w, "alice")));
  while (auto next = w.threads->next_notice_due()) {
    w.provider.clock.set(*next);
    w.threads->dispatch_notices();
  }
  auto admin = threads_sim::make_handler(*w.threads, {.admin_token = "admin-secret"});
  auto call = [&](std::string method, std::string target) {
    http::request r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.headers.set("Authorization", "Bearer admin-secret");
    return admin(r);
  };
  auto listed = call("GET", "/admin/ads-notices?state=dead");
  ASSERT_EQ(listed.status, 200);
  const auto notices = json::parse_object(listed.body)->at("notices").as_array();
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].at("kind"), "deletion");
  EXPECT_EQ(notices[0].at("attempts"), 10);
  const std::string id(notices[0].at("id").as_string());
  EXPECT_EQ(call("GET", "/admin/ads-notices?state=sent").status, 400);
  EXPECT_EQ(call("GET", "/admin/ads-notices/" + id + "/replay").status, 405);
  EXPECT_EQ(call("POST", "/admin/ads-notices/" + id + "/replay").status, 200);
  EXPECT_EQ(call("POST", "/admin/ads-notices/" + id + "/replay").status, 409);
  EXPECT_EQ(call("POST", "/admin/ads-notices/999/replay").status, 404);
}

TEST(SignedRequest, AForgedOneIsRefusedWithAMessageAboutSignedRequests) {
  world w;
  const auto r = w.threads->data_deletion("c2lnbmF0dXJl.eyJ1c2VyX2lkIjoiMSJ9");
  ASSERT_FALSE(r);
  EXPECT_TRUE(is(r.error(), threads_sim::error::signed_request_invalid));
  EXPECT_NE(r.error().message().find("signed_request"), std::string::npos);
  EXPECT_EQ(threads_sim::describe(r.error()).status, 403);
}

TEST(ErrorMapping, EveryServiceErrorHasAStatusAndACode) {
  for (int e = static_cast<int>(threads_sim::error::already_linked);
       e <= static_cast<int>(threads_sim::error::reauthorization_required); ++e) {
    const auto ec = make_error_code(static_cast<threads_sim::error>(e));
    const auto info = threads_sim::describe(ec);
    EXPECT_GE(info.status, 400) << ec.message();
    EXPECT_NE(info.code, "internal_error") << ec.message();
    EXPECT_NE(info.code, "invalid_request") << ec.message();
  }
  // The refusals a behaviour adds are the person's to read: 403 with their own code.
  for (const auto e :
       {threads_sim::error::bio_read_only, threads_sim::error::account_type_refused}) {
    const auto info = threads_sim::describe(make_error_code(e));
    EXPECT_EQ(info.status, 403);
    EXPECT_NE(info.code, "invalid_request");
  }
}

TEST(Behaviours, EachFaultProfileBreaksExactlyOneRule) {
  const auto documented = threads_sim::find_behaviour("documented").value();
  auto differences = [&](const threads_sim::behaviour& b) {
    int n = 0;
    n += b.username != documented.username;
    n += b.picture != documented.picture;
    n += b.bio != documented.bio;
    n += b.username_editable != documented.username_editable;
    n += b.one_profile_per_account != documented.one_profile_per_account;
    n += b.apply_username_changes != documented.apply_username_changes;
    n += b.delete_content_with_profile != documented.delete_content_with_profile;
    n += b.verify_webhook_signatures != documented.verify_webhook_signatures;
    n += b.order_by_version != documented.order_by_version;
    n += b.match_profile_to_grant != documented.match_profile_to_grant;
    n += b.honour_ad_settings != documented.honour_ad_settings;
    n += b.honour_gpc != documented.honour_gpc;
    n += b.aggregate_reports != documented.aggregate_reports;
    n += b.refuse_sale != documented.refuse_sale;
    n += b.erase_ads_on_deletion != documented.erase_ads_on_deletion;
    n += b.name_editable != documented.name_editable;
    n += b.import_profile != documented.import_profile;
    n += b.import_picture != documented.import_picture;
    n += b.link_business_accounts != documented.link_business_accounts;
    n += b.username_length != documented.username_length;
    n += b.count_every_impression != documented.count_every_impression;
    n += b.personalize_ads != documented.personalize_ads;
    n += b.list_shared_data != documented.list_shared_data;
    n += b.atomic_import != documented.atomic_import;
    n += b.erase_profile_on_deletion != documented.erase_profile_on_deletion;
    n += b.keep_partner_contracts != documented.keep_partner_contracts;
    n += b.retry_ads_notices != documented.retry_ads_notices;
    n += b.suppress_small_groups != documented.suppress_small_groups;
    n += b.close_on_account_deletion != documented.close_on_account_deletion;
    n += b.refuse_inactive_accounts != documented.refuse_inactive_accounts;
    n += b.offer_account_choice != documented.offer_account_choice;
    n += b.require_link != documented.require_link;
    n += b.bio_editable != documented.bio_editable;
    n += b.keep_edits_on_service != documented.keep_edits_on_service;
    n += b.keep_account_id != documented.keep_account_id;
    n += b.authenticate_pushes != documented.authenticate_pushes;
    n += b.redeliver_sets != documented.redeliver_sets;
    n += b.count_distinct_viewers != documented.count_distinct_viewers;
    n += b.use_activity_across_products != documented.use_activity_across_products;
    n += b.share_assistant_conversations != documented.share_assistant_conversations;
    return n;
  };
  int faults = 0;
  for (const auto& b : threads_sim::behaviours()) {
    if (!b.name.starts_with("fault.")) continue;
    ++faults;
    EXPECT_EQ(differences(b), 1) << b.name;
  }
  EXPECT_EQ(faults, 38);
}

}  // namespace
}  // namespace linksim::testing
