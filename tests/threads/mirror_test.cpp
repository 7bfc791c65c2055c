// The dependent service's domain: the mirror's rules by webhook and by poll, profiles, content,
// deletion and Meta's callbacks, through the service's functions (no HTTP).
#include "support.hpp"

#include <gtest/gtest.h>

namespace linksim::testing {
namespace {

namespace bj = boost::json;

result<threads_sim::webhook_outcome> deliver(world& w, const signed_webhook& h) {
  return w.threads->receive_webhook(h.body, h.signature);
}

TEST(Mirror, AWebhookRenameIsAppliedOnceAndItsDuplicateIsCounted) {
  world w;
  const auto p = sign_up(w, "alice");
  const auto h = webhook(w, p.ig_user_id, "username", {{"username", "alice.new"}}, 5);
  auto out = deliver(w, h);
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_EQ(out->applied, 1);
  EXPECT_EQ(w.threads->get_profile(p.id)->username, "alice.new");
  out = deliver(w, h);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->applied, 0);
  EXPECT_EQ(out->duplicates, 1);
}

TEST(Mirror, AnOlderChangeIsStaleAndNeverOverwritesANewerOne) {
  world w;
  const auto p = sign_up(w, "alice");
  ASSERT_TRUE(deliver(w, webhook(w, p.ig_user_id, "username", {{"username", "newest"}}, 9)));
  auto out = deliver(w, webhook(w, p.ig_user_id, "username", {{"username", "older"}}, 7));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->stale, 1);
  EXPECT_EQ(w.threads->get_profile(p.id)->username, "newest");
}

TEST(Mirror, UnderFaultOldOverwritesNewTheOlderChangeWins) {
  world w("fault.old_overwrites_new");
  const auto p = sign_up(w, "alice");
  ASSERT_TRUE(deliver(w, webhook(w, p.ig_user_id, "username", {{"username", "newest"}}, 9)));
  auto out = deliver(w, webhook(w, p.ig_user_id, "username", {{"username", "older"}}, 7));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->applied, 1);
  EXPECT_EQ(w.threads->get_profile(p.id)->username, "older");
}

TEST(Mirror, APictureChangeWritesItsUrlAndDigestTogether) {
  world w;
  const auto p = sign_up(w, "alice");
  auto out = deliver(w, webhook(w, p.ig_user_id, "profile_picture",
                                {{"profile_picture_url", "http://idp.test/pictures/ab"},
                                 {"profile_picture_sha256", "ab"}},
                                4));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->applied, 1);
  const auto now = w.threads->get_profile(p.id).value();
  EXPECT_EQ(now.picture_url, "http://idp.test/pictures/ab");
  EXPECT_EQ(now.picture_sha256, "ab");
  EXPECT_EQ(now.picture_version, 4);
}

TEST(Mirror, NameAndBiographyAreCopiedOnceSoTheirChangesAreIgnored) {
  world w;
  const auto p = sign_up(w, "alice");
  auto out = deliver(w, webhook(w, p.ig_user_id, "biography", {{"biography", "new bio"}}, 3));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->ignored, 1);
  EXPECT_EQ(w.threads->get_profile(p.id)->bio, p.bio);
}

TEST(Mirror, UnderFaultBioOverwrittenNameAndBiographyFollowTheProvider) {
  world w("fault.bio_overwritten");
  const auto p = sign_up(w, "alice");
  ASSERT_TRUE(deliver(w, webhook(w, p.ig_user_id, "name", {{"name", "Alice A."}}, 3)));
  ASSERT_TRUE(deliver(w, webhook(w, p.ig_user_id, "biography", {{"biography", "new bio"}}, 4)));
  const auto now = w.threads->get_profile(p.id).value();
  EXPECT_EQ(now.display_name, "Alice A.");
  EXPECT_EQ(now.bio, "new bio");
  // Name and biography share a version: an older name change is stale after the biography's.
  auto out = deliver(w, webhook(w, p.ig_user_id, "name", {{"name", "Old"}}, 2));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->stale, 1);
}

TEST(Mirror, UnderHowtoTheUsernameIsNotMirrored) {
  world w("howto");
  const auto p = sign_up(w, "alice");
  auto out = deliver(w, webhook(w, p.ig_user_id, "username", {{"username", "elsewhere"}}, 5));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->ignored, 1);
  EXPECT_EQ(w.threads->get_profile(p.id)->username, "alice");
}

TEST(Mirror, AStatusChangeIsTakenAndAnUnknownFieldIgnored) {
  world w;
  const auto p = sign_up(w, "alice");
  auto out = deliver(w, webhook(w, p.ig_user_id, "account_status", {{"status", "restricted"}}, 2));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->applied, 1);
  EXPECT_EQ(w.threads->get_profile(p.id)->ig_status, "restricted");
  out = deliver(w, webhook(w, p.ig_user_id, "shoe_size", {{"size", "42"}}, 3));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->ignored, 1);
}

TEST(Mirror, AWrongSignatureIsRefusedBeforeTheBodyIsRead) {
  world w;
  auto out = w.threads->receive_webhook("not json at all", "sha256=00");
  ASSERT_FALSE(out);
  EXPECT_TRUE(is(out.error(), threads_sim::error::signature_invalid));
  EXPECT_EQ(threads_sim::describe(out.error()).status, 403);
}

TEST(Mirror, APollTakesWhatAWebhookWouldHaveBrought) {
  world w;
  const auto p = sign_up(w, "alice");
  ASSERT_TRUE(w.provider.idp.update_profile(p.ig_user_id, {.username = "alice.polled"}));
  // No webhook arrives: the reconciliation poll reads /me and applies the same rules.
  auto now = w.threads->reconcile(p.id);
  ASSERT_TRUE(now) << now.error().message();
  EXPECT_EQ(now->username, "alice.polled");
  EXPECT_GT(now->username_version, p.username_version);
}

TEST(Mirror, ANameTakenFromAStaleMirrorIsGivenUpAndTheNextPollRenamesIt) {
  world w;
  const auto alice = sign_up(w, "alice");
  const auto bob = sign_up(w, "bob");
  // On the provider alice became "alice2" and bob took "alice"; only bob's change arrives.
  ASSERT_TRUE(w.provider.idp.update_profile(alice.ig_user_id, {.username = "alice2"}));
  ASSERT_TRUE(w.provider.idp.update_profile(bob.ig_user_id, {.username = "alice"}));
  ASSERT_TRUE(deliver(w, webhook(w, bob.ig_user_id, "username", {{"username", "alice"}}, 50)));
  EXPECT_EQ(w.threads->get_profile(bob.id)->username, "alice");
  EXPECT_EQ(w.threads->get_profile(alice.id)->username, "");  // gave the name up
  auto healed = w.threads->reconcile(alice.id);
  ASSERT_TRUE(healed);
  EXPECT_EQ(healed->username, "alice2");
}

TEST(Profiles, AMirroredUsernameCannotBeEditedButTheBioCan) {
  world w;
  const auto p = sign_up(w, "alice");
  auto r = w.threads->edit_profile(p.id, {.username = "mine"});
  ASSERT_FALSE(r);
  EXPECT_TRUE(is(r.error(), threads_sim::error::username_read_only));
  r = w.threads->edit_profile(p.id, {.picture_url = "http://x.test/p.png"});
  ASSERT_FALSE(r);
  EXPECT_TRUE(is(r.error(), threads_sim::error::picture_read_only));
  r = w.threads->edit_profile(p.id, {.bio = "written here"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->bio, "written here");
}

TEST(Content, PostsLikesAndFollowsKeepTheirRules) {
  world w;
  const auto alice = sign_up(w, "alice");
  const auto bob = sign_up(w, "bob");
  auto post = w.threads->create_post(alice.id, "hello");
  ASSERT_TRUE(post) << post.error().message();
  ASSERT_TRUE(w.threads->like(bob.id, post->id));
  auto again = w.threads->like(bob.id, post->id);
  ASSERT_FALSE(again);
  EXPECT_TRUE(is(again.error(), threads_sim::error::already_liked));
  EXPECT_FALSE(w.threads->create_post(alice.id, ""));
  auto self = w.threads->follow(alice.id, "alice");
  ASSERT_FALSE(self);
  EXPECT_TRUE(is(self.error(), errc::self_follow));
  ASSERT_TRUE(w.threads->follow(bob.id, "alice"));
  EXPECT_TRUE(w.threads->follows(bob.id, alice.id));
  ASSERT_TRUE(w.threads->unfollow(bob.id, "alice"));
  EXPECT_FALSE(w.threads->follows(bob.id, alice.id));
}

TEST(Deletion, DeletingTheProfileTakesItsContentAndFreesTheAccountToLinkAgain) {
  world w;
  const auto alice = sign_up(w, "alice");
  ASSERT_TRUE(w.threads->create_post(alice.id, "hello"));
  ASSERT_TRUE(w.threads->delete_profile(alice.id));
  EXPECT_FALSE(w.threads->get_profile(alice.id));
  EXPECT_TRUE(w.threads->posts_of(alice.id).empty());
  EXPECT_TRUE(w.threads->profiles_of_account(alice.ig_user_id).empty());
  std::string key;
  auto again = w.sign_in("alice", key);
  ASSERT_TRUE(again && again->confirm) << (again ? "" : again.error().message());
  auto relinked = w.threads->confirm_link(again->confirm->id, key);
  ASSERT_TRUE(relinked);
  EXPECT_NE(relinked->first.id, alice.id);
  EXPECT_EQ(relinked->first.posts, 0);
}

TEST(Callbacks, ADataDeletionRequestDeletesTheProfilesAndAnswersAStatus) {
  world w;
  const auto alice = sign_up(w, "alice");
  auto code = w.threads->data_deletion(signed_request(w, alice.ig_user_id));
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_TRUE(w.threads->profiles_of_account(alice.ig_user_id).empty());
  auto status = w.threads->deletion_status(*code);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 1);
  EXPECT_FALSE(w.threads->deletion_status("no-such-code"));
}

// A signed user_id that is not wholly a number names no account, even when a number starts it.
TEST(Callbacks, AUserIdWithTextAfterItsDigitsIsRefused) {
  world w;
  const auto alice = sign_up(w, "alice");
  const auto r =
      w.threads->data_deletion(signed_request(w, std::to_string(alice.ig_user_id) + "x"));
  ASSERT_FALSE(r);
  EXPECT_EQ(threads_sim::describe(r.error()).status, 400);
  EXPECT_EQ(w.threads->profiles_of_account(alice.ig_user_id).size(), 1u);
  EXPECT_FALSE(w.threads->deauthorize(signed_request(w, " " + std::to_string(alice.ig_user_id))));
}

// Ids are positive. Under fault.account_id_not_kept a profile is kept under id 0, and a signed
// callback or webhook naming account "0" or "-1" must still reach no profile.
TEST(Callbacks, AnIdOfZeroOrBelowNamesNoAccount) {
  world w("fault.account_id_not_kept");
  const auto alice = sign_up(w, "alice");
  ASSERT_EQ(alice.ig_user_id, 0);
  for (const std::int64_t id : {0, -1}) {
    SCOPED_TRACE(id);
    const auto r = w.threads->deauthorize(signed_request(w, id));
    ASSERT_FALSE(r);
    EXPECT_EQ(threads_sim::describe(r.error()).status, 400);
    EXPECT_FALSE(w.threads->data_deletion(signed_request(w, id)));
    EXPECT_FALSE(deliver(w, webhook(w, id, "username", {{"username", "mallory"}}, 5)));
  }
  const auto now = w.threads->get_profile(alice.id).value();
  EXPECT_FALSE(now.needs_login);
  EXPECT_EQ(now.username, "alice");
  EXPECT_EQ(w.threads->profiles_of_account(0).size(), 1u);
}

TEST(Callbacks, DeauthorizationForgetsTheTokensAndAsksForALogin) {
  world w;
  const auto alice = sign_up(w, "alice");
  ASSERT_TRUE(w.threads->deauthorize(signed_request(w, alice.ig_user_id)));
  const auto now = w.threads->get_profile(alice.id).value();
  EXPECT_TRUE(now.needs_login);
}

}  // namespace
}  // namespace linksim::testing
