// The dependent service's rules over real sockets, both services running. Each rule is a
// function that reports whether it held; every test runs it under `documented`, where it must
// hold, and under the fault profile that breaks it, where it must not: so each check can fail.
#include "linkage_support.hpp"

#include "linksim/evidence/flow.hpp"

namespace linksim::testing {
namespace {

std::vector<evidence::flow> flows(linked_world& w) {
  std::vector<evidence::flow> out;
  for (std::uint64_t i = 0; i < w.idp.evidence.size(); ++i)
    out.push_back(evidence::parse_entry(w.idp.evidence.entry(i)).value());
  return out;
}

std::size_t count_flows(linked_world& w, std::string_view channel, std::string_view from = {},
                        std::string_view to = {}) {
  std::size_t n = 0;
  for (const auto& f : flows(w))
    if (f.channel == channel && (from.empty() || f.from == from) && (to.empty() || f.to == to)) ++n;
  return n;
}

std::string str(const boost::json::object& o, std::string_view key) {
  return std::string(o.at(key).as_string());
}

TEST(Linkage, SignUpShowsWhatIsSharedThenImportsProfileAndFollowers) {
  linked_world w;
  const auto alice = w.account("alice");
  const auto bob = w.account("bob");
  ASSERT_TRUE(w.provider().update_profile(alice, {.bio = "hello from alice"}));
  ASSERT_TRUE(w.provider().follow(bob, alice));
  browser bb;
  w.join(bb, "bob");

  browser b;
  auto page = w.start(b, "alice");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Link Account"), std::string::npos);
  EXPECT_NE(page.body.find("public profile information"), std::string::npos);
  EXPECT_NE(page.body.find("1 of your Instagram followers"), std::string::npos) << page.body;
  // Nothing exists before the confirmation.
  EXPECT_TRUE(w.profiles_of(alice).empty());
  EXPECT_EQ(count_flows(w, "link.import"), 1u);  // bob's

  auto r = w.press_link(b, page);
  ASSERT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(r.headers.get("Location"), "/settings?welcome=1");
  auto p = w.profile_of(alice);
  EXPECT_EQ(str(p, "username"), "alice");
  EXPECT_EQ(str(p, "name"), "alice N");
  EXPECT_EQ(str(p, "bio"), "hello from alice");
  EXPECT_EQ(p.at("followers_count").as_int64(), 1);  // bob, who follows alice on the provider
  auto followers = json_of(w.get("/api/profiles/alice/followers")).at("data").as_array();
  ASSERT_EQ(followers.size(), 1u);
  EXPECT_EQ(followers[0].as_string(), "bob");
  EXPECT_EQ(count_flows(w, "link.import", "idp", "threads"), 2u);
  // The public page shows the mirrored profile.
  auto pub = w.get("/@alice");
  EXPECT_EQ(pub.status, 200);
  EXPECT_NE(pub.body.find("hello from alice"), std::string::npos);
  // Pressing the button twice does not make a second profile.
  EXPECT_EQ(w.press_link(b, page).status, 400);
}

TEST(Linkage, TheStateAndIssuerOfTheCallbackAreChecked) {
  linked_world w;
  w.account("alice");
  browser b;
  auto r = b.get(w.base + "/signup");
  const std::string back = w.idp.sign_in_at(b, std::string(r.headers.get("Location")), "alice");
  // Another browser (no login cookie) cannot finish this sign-in.
  browser other;
  EXPECT_EQ(other.get(back).status, 400);
  // A changed issuer is refused even with the right browser.
  const std::string iss = http::percent_encode(w.idp.base);
  std::string forged = back;
  forged.replace(forged.find(iss), iss.size(), http::percent_encode("http://evil.example"));
  EXPECT_EQ(b.get(forged).status, 400);
  // The state was single-use: the genuine callback now fails too.
  EXPECT_EQ(b.get(back).status, 400);
}

bool one_profile_per_account(const std::string& profile) {
  linked_world w(profile);
  const auto alice = w.account("alice");
  browser b1;
  w.join(b1, "alice");
  browser b2;
  auto second = w.start(b2, "alice");
  if (second.status == 409) {
    EXPECT_NE(second.body.find("already linked to another Threads profile"), std::string::npos);
    EXPECT_NE(second.body.find("Delete profile"), std::string::npos) << "names the fix";
  } else {
    w.press_link(b2, second);
  }
  return w.profiles_of(alice).size() == 1;
}

TEST(Linkage, OneProfilePerInstagramAccount) {
  EXPECT_TRUE(one_profile_per_account("documented"));
  EXPECT_FALSE(one_profile_per_account("fault.two_profiles"));
}

// Seed 004: the profile keeps a foreign key to the account's id, so what names the account by id
// (the admin view, a rename's webhook) finds it.
bool kept_by_account_id(const std::string& profile) {
  linked_world w(profile);
  const auto alice = w.account("alice");
  browser b;
  w.join(b, "alice");
  if (w.profiles_of(alice).size() != 1) return false;
  EXPECT_TRUE(w.provider().update_profile(alice, {.username = "alice.renamed"}));
  w.deliver();
  return w.get("/api/profiles/alice.renamed").status == 200;
}

TEST(Linkage, TheProfileIsKeptByTheAccountsId) {
  EXPECT_TRUE(kept_by_account_id("documented"));
  EXPECT_FALSE(kept_by_account_id("fault.account_id_not_kept"));
}

TEST(Linkage, LoggingInAgainOpensTheExistingProfileAndSyncsIt) {
  linked_world w;
  const auto alice = w.account("alice");
  browser b1;
  w.join(b1, "alice");
  ASSERT_TRUE(w.provider().update_profile(alice, {.username = "alice.renamed"}));
  browser b2;
  auto r = w.start(b2, "alice.renamed", "/login", false, "alice");
  ASSERT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(r.headers.get("Location"), "/@alice.renamed");
  EXPECT_EQ(w.username_of(alice), "alice.renamed");
  EXPECT_EQ(count_flows(w, "login.sync"), 1u);
}

TEST(Linkage, SuspendedOrBannedAccountsCannotSignUp) {
  for (const auto status : {idp::account_status::suspended, idp::account_status::banned,
                            idp::account_status::restricted}) {
    linked_world w;
    const auto carol = w.account("carol");
    ASSERT_TRUE(w.provider().update_profile(carol, {.status = status}));
    browser b;
    auto r = b.get(w.base + "/signup");
    const std::string authorize(r.headers.get("Location"));
    r = b.get(authorize);
    const std::string next(r.headers.get("Location"));
    b.get(w.idp.base + next);
    r = b.post_form(w.idp.base + "/oauth/login",
                    {{"request", query_value("http://x" + next, "request")},
                     {"csrf", b.cookie("idp_csrf")},
                     {"username", "carol"},
                     {"password", "pw-carol-123"}});
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_TRUE(w.profiles_of(carol).empty());
  }
}

bool username_is_read_only(const std::string& profile) {
  linked_world w(profile);
  const auto alice = w.account("alice");
  browser b;
  const auto session = w.join(b, "alice");
  auto r = w.call("PATCH", "/api/me", R"({"username":"someone.else"})", session);
  if (r.status == 403) {
    EXPECT_EQ(json_of(r).at("error").at("code"), "username_read_only");
  }
  return r.status == 403 && w.username_of(alice) == "alice";
}

// Every JSON body carries only the fields its endpoint reads: a surplus one is refused, named,
// and nothing is changed.
TEST(Linkage, EveryJsonBodyRefusesAFieldItDoesNotRead) {
  linked_world w("documented");
  const auto alice = w.account("alice");
  browser b;
  const auto session = w.join(b, "alice");
  for (const auto& [method, path, body] :
       {std::tuple{"PATCH", "/api/me", R"({"bio":"new bio","surplus":1})"},
        {"POST", "/api/posts", R"({"text":"hello","surplus":1})"},
        {"POST", "/api/follows", R"({"username":"alice","surplus":1})"},
        {"POST", "/api/assistant", R"({"message":"hi","surplus":1})"}}) {
    auto r = w.call(method, path, body, session);
    EXPECT_EQ(r.status, 400) << path << " " << r.body;
    const auto err = json_of(r).at("error");
    EXPECT_EQ(err.at("code"), "invalid_request") << path;
    EXPECT_NE(std::string(err.at("detail").as_string()).find("unknown field 'surplus'"),
              std::string::npos)
        << path << " " << r.body;
  }
  EXPECT_NE(str(w.profile_of(alice), "bio"), "new bio");
}

TEST(Linkage, UsernameIsAReadOnlyMirror) {
  EXPECT_TRUE(username_is_read_only("documented"));
  EXPECT_FALSE(username_is_read_only("fault.username_editable"));
  EXPECT_FALSE(username_is_read_only("howto"));  // seed 003's table: editable on the service
}

bool rename_arrives_by_webhook(const std::string& profile) {
  linked_world w(profile);
  const auto alice = w.account("alice");
  browser b;
  w.join(b, "alice");
  EXPECT_TRUE(w.provider().update_profile(alice, {.username = "alice.new"}));
  EXPECT_GE(w.deliver(), 1u);
  const bool mirrored = w.username_of(alice) == "alice.new";
  if (mirrored) {
    EXPECT_EQ(w.get("/@alice.new").status, 200);
    EXPECT_EQ(w.get("/@alice").status, 404);
  }
  return mirrored;
}

TEST(Linkage, RenameOnTheProviderReachesTheProfileByWebhook) {
  EXPECT_TRUE(rename_arrives_by_webhook("documented"));
  EXPECT_FALSE(rename_arrives_by_webhook("fault.rename_not_propagated"));
  EXPECT_FALSE(rename_arrives_by_webhook("howto"));
}

bool rename_converges_by_polling(const std::string& profile) {
  linked_world w(profile, 5min);
  const auto alice = w.account("alice");
  browser b;
  w.join(b, "alice");
  EXPECT_TRUE(w.provider().update_profile(alice, {.username = "alice.polled"}));
  // Every webhook is lost: none is ever delivered. Before the interval nothing is polled.
  EXPECT_EQ(w.poll_after(2min), 0u);
  EXPECT_EQ(w.username_of(alice), "alice");
  EXPECT_EQ(w.poll_after(3min), 1u);
  return w.username_of(alice) == "alice.polled";
}

TEST(Linkage, WithEveryWebhookLostPollingConvergesWithinTheInterval) {
  EXPECT_TRUE(rename_converges_by_polling("documented"));
  EXPECT_FALSE(rename_converges_by_polling("fault.rename_not_propagated"));
}

TEST(Linkage, PollingKeepsWorkingAcrossAccessTokenExpiry) {
  linked_world w;
  const auto alice = w.account("alice");
  browser b;
  w.join(b, "alice");
  // Access tokens live an hour: polls after that refresh (with rotation) and go on.
  for (int i = 0; i < 30; ++i) w.poll_after(6min);
  ASSERT_TRUE(w.provider().update_profile(alice, {.username = "alice.later"}));
  w.poll_after(6min);
  EXPECT_EQ(w.username_of(alice), "alice.later");
  EXPECT_FALSE(w.profile_of(alice).at("needs_login").as_bool());
}

bool bio_copied_once(const std::string& profile) {
  linked_world w(profile);
  const auto alice = w.account("alice");
  EXPECT_TRUE(w.provider().update_profile(alice, {.bio = "first bio"}));
  browser b;
  const auto session = w.join(b, "alice");
  EXPECT_TRUE(w.provider().update_profile(alice, {.display_name = "Alice IG", .bio = "ig bio 2"}));
  w.deliver();
  w.poll_after(6min);
  const auto p = w.profile_of(alice);
  const bool kept = str(p, "bio") == "first bio" && str(p, "name") == "alice N";
  // Edits on the service stay there: the provider's bio does not change, and no flow of the bio
  // goes from the service to the provider.
  auto r = w.call("PATCH", "/api/me", R"({"bio":"threads bio"})", session);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(w.provider().get_account(alice)->bio, "ig bio 2");
  for (const auto& f : flows(w)) {
    if (f.from != "threads" || f.to != "idp") continue;
    for (const auto& c : f.categories) EXPECT_NE(c, "user.content.public") << f.channel;
  }
  return kept;
}

TEST(Linkage, BioAndNameAreCopiedOnceAndNeverOverwritten) {
  EXPECT_TRUE(bio_copied_once("documented"));
  EXPECT_FALSE(bio_copied_once("fault.bio_overwritten"));
}

// Seed 003: edits of the name and bio on the service leave the provider account as it was, and
// nothing about them goes from the service to the provider.
bool edits_stay_on_service(const std::string& profile) {
  linked_world w(profile);
  const auto alice = w.account("alice");
  EXPECT_TRUE(w.provider().update_profile(alice, {.display_name = "Alice IG", .bio = "ig bio"}));
  browser b;
  const auto session = w.join(b, "alice");
  auto r = w.call("PATCH", "/api/me", R"({"bio":"threads bio","name":"Alice T"})", session);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(str(w.profile_of(alice), "bio"), "threads bio");
  const auto a = w.provider().get_account(alice);
  bool held = a && a->bio == "ig bio" && a->display_name == "Alice IG";
  for (const auto& f : flows(w))
    if (f.from == "threads" && f.to == "idp")
      for (const auto& c : f.categories)
        if (c == "user.content.public" || c == "user.name") held = false;
  return held;
}

TEST(Linkage, EditsOnTheServiceNeverReachTheProvider) {
  EXPECT_TRUE(edits_stay_on_service("documented"));
  EXPECT_FALSE(edits_stay_on_service("fault.edits_sent_to_instagram"));
}

TEST(Linkage, PictureMirrorsTheProviderAndCannotBeSetOnTheService) {
  linked_world w;
  const auto alice = w.account("alice");
  browser b;
  const auto session = w.join(b, "alice");
  auto a = w.provider().set_picture(alice, {"image/png", std::string("\x89PNG-alice", 10)});
  ASSERT_TRUE(a);
  w.deliver();
  EXPECT_EQ(str(w.profile_of(alice), "profile_picture_sha256"), a->picture_sha256);
  auto r =
      w.call("PATCH", "/api/me", R"({"profile_picture_url":"https://example.com/x.png"})", session);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(json_of(r).at("error").at("code"), "picture_read_only");

  // Seed 003's table (the `howto` profile): the picture is the service's own after set-up.
  linked_world h("howto");
  const auto bob = h.account("bob");
  browser hb;
  const auto hs = h.join(hb, "bob");
  ASSERT_TRUE(h.provider().set_picture(bob, {"image/png", std::string("\x89PNG-bob", 8)}));
  h.deliver();
  EXPECT_EQ(str(h.profile_of(bob), "profile_picture_sha256"), "");
  EXPECT_EQ(h.call("PATCH", "/api/me", R"({"profile_picture_url":"https://example.com/b.png"})", hs)
                .status,
            200);
}

bool deletion_removes_content(const std::string& profile) {
  linked_world w(profile);
  const auto alice = w.account("alice");
  const auto bob = w.account("bob");
  browser ab, bb;
  const auto as = w.join(ab, "alice");
  const auto bs = w.join(bb, "bob");
  auto post = w.call("POST", "/api/posts", R"({"text":"a post by alice"})", as);
  EXPECT_EQ(post.status, 201);
  const std::string post_id(json_of(post).at("id").as_string());
  EXPECT_EQ(w.call("POST", "/api/posts/" + post_id + "/like", "", bs).status, 200);
  EXPECT_EQ(w.call("POST", "/api/follows", R"({"username":"alice"})", bs).status, 200);
  EXPECT_EQ(w.call("POST", "/api/follows", R"({"username":"bob"})", as).status, 200);
  EXPECT_EQ(w.profile_of(bob).at("followers_count").as_int64(), 1);

  EXPECT_EQ(w.call("DELETE", "/api/me", "", as).status, 200);
  EXPECT_TRUE(w.profiles_of(alice).empty());
  EXPECT_EQ(w.get("/api/me", as).status, 401) << "the session ended with the profile";
  // The provider account is free again; a new profile takes its current username.
  EXPECT_TRUE(w.provider().update_profile(alice, {.username = "alice.again"}));
  browser again;
  w.join(again, "alice.again", "alice");
  const auto fresh = w.profile_of(alice);
  EXPECT_EQ(str(fresh, "username"), "alice.again");
  EXPECT_EQ(fresh.at("posts_count").as_int64(), 0);

  const bool post_gone = w.get("/api/posts/" + post_id).status == 404;
  const bool follows_gone = w.profile_of(bob).at("followers_count").as_int64() == 0 &&
                            w.profile_of(bob).at("following_count").as_int64() == 0;
  return post_gone && follows_gone;
}

TEST(Linkage, UnlinkingOnlyByDeletingTheProfileWhichTakesItsContent) {
  EXPECT_TRUE(deletion_removes_content("documented"));
  EXPECT_FALSE(deletion_removes_content("fault.content_kept"));
}

TEST(Linkage, TheProviderRevokesTheDeletedProfilesToken) {
  linked_world w;
  w.account("alice");
  browser b;
  const auto session = w.join(b, "alice");
  ASSERT_EQ(w.call("DELETE", "/api/me", "", session).status, 200);
  EXPECT_EQ(count_flows(w, "oauth.revoke", "threads", "idp"), 1u);
}

TEST(Linkage, ProviderDeletionClosesTheProfileThenTheDeletionCallbackErasesIt) {
  linked_world w;
  const auto alice = w.account("alice");
  browser b;
  const auto session = w.join(b, "alice");
  auto post = w.call("POST", "/api/posts", R"({"text":"still here?"})", session);
  ASSERT_EQ(post.status, 201);
  const std::string post_id(json_of(post).at("id").as_string());
  auto gone = w.provider().delete_account(alice);
  ASSERT_TRUE(gone);
  // The account_deletion webhook closes the profile at once: reads and sign-ins answer 410.
  auto r = w.post_webhook(alice, "account_deletion",
                          R"({"deleted":true,"version":)" + std::to_string(gone->version) + "}");
  ASSERT_EQ(r.status, 200);
  r = w.get("/api/profiles/alice");
  EXPECT_EQ(r.status, 410);
  EXPECT_EQ(json_of(r).at("error").at("code"), "profile_deleted_upstream");
  EXPECT_EQ(w.get("/@alice").status, 410);
  EXPECT_EQ(w.get("/api/me", session).status, 401) << "its sessions ended";
  EXPECT_EQ(w.get("/api/posts/" + post_id).status, 404);
  EXPECT_TRUE(w.profile_of(alice).at("ig_deleted").as_bool());
  // The provider's own deliveries: the same webhook (a duplicate now) and Meta's data-deletion
  // callback, which erases the profile and its content.
  w.deliver();
  EXPECT_TRUE(w.profiles_of(alice).empty());
  EXPECT_EQ(count_flows(w, "callback.data_deletion", "idp", "threads"), 1u);  // sent
  EXPECT_EQ(count_flows(w, "callback.receive.data_deletion", "idp", "threads"), 1u);
}

TEST(Linkage, ProviderSuspensionHidesTheProfileUntilReinstated) {
  linked_world w;
  const auto alice = w.account("alice");
  browser b;
  const auto session = w.join(b, "alice");
  ASSERT_TRUE(w.provider().update_profile(alice, {.status = idp::account_status::suspended}));
  w.deliver();
  EXPECT_EQ(w.get("/api/profiles/alice").status, 403);
  EXPECT_EQ(w.get("/api/me", session).status, 403);
  ASSERT_TRUE(w.provider().update_profile(alice, {.status = idp::account_status::active}));
  w.deliver();
  EXPECT_EQ(w.get("/api/profiles/alice").status, 200);
  EXPECT_EQ(w.get("/api/me", session).status, 200);
}

bool bad_signatures_refused(const std::string& profile) {
  linked_world w(profile);
  const auto alice = w.account("alice");
  browser b;
  w.join(b, "alice");
  auto r = w.post_webhook(alice, "username", R"({"username":"forged","version":99})",
                          "not-the-app-secret");
  const bool refused = r.status == 403 && w.username_of(alice) == "alice";
  if (refused) {
    EXPECT_EQ(json_of(r).at("error").at("code"), "signature_invalid");
  }
  // A missing header is refused the same way.
  r = w.send("POST", "/webhooks/instagram", R"({"object":"user","entry":[]})", "application/json");
  if (profile == "documented") {
    EXPECT_EQ(r.status, 403);
  }
  return refused;
}

TEST(Linkage, WebhooksWithABadSignatureAreRefusedAndChangeNothing) {
  EXPECT_TRUE(bad_signatures_refused("documented"));
  EXPECT_FALSE(bad_signatures_refused("fault.unsigned_webhooks"));
}

bool older_never_overwrites_newer(const std::string& profile) {
  linked_world w(profile);
  const auto alice = w.account("alice");
  browser b;
  w.join(b, "alice");
  const auto v = w.provider().get_account(alice)->version;
  auto newer = R"({"username":"alice.v3","version":)" + std::to_string(v + 3) + "}";
  auto older = R"({"username":"alice.v2","version":)" + std::to_string(v + 2) + "}";
  auto r = w.post_webhook(alice, "username", newer);
  EXPECT_EQ(json_of(r).at("applied").as_int64(), 1);
  // A duplicate is recognised and applied once.
  r = w.post_webhook(alice, "username", newer);
  EXPECT_EQ(json_of(r).at("duplicates").as_int64(), 1);
  r = w.post_webhook(alice, "username", older);
  EXPECT_EQ(r.status, 200);
  return w.username_of(alice) == "alice.v3";
}

TEST(Linkage, DuplicatesApplyOnceAndAnOlderChangeNeverOverwritesANewer) {
  EXPECT_TRUE(older_never_overwrites_newer("documented"));
  EXPECT_FALSE(older_never_overwrites_newer("fault.old_overwrites_new"));
}

// alice and bob swap names through a temporary one; the three webhooks arrive in `order`.
void swap_in_order(const std::vector<int>& order) {
  linked_world w;
  const auto a = w.account("alice");
  const auto bob = w.account("bob");
  browser ab, bb;
  w.join(ab, "alice");
  w.join(bb, "bob");
  struct change {
    std::int64_t account;
    std::string username;
    std::int64_t version;
  };
  std::vector<change> changes;
  auto rename = [&](std::int64_t id, const std::string& name) {
    auto acc = w.provider().update_profile(id, {.username = name});
    ASSERT_TRUE(acc);
    changes.push_back({id, name, acc->version});
  };
  rename(a, "alice.tmp");
  rename(bob, "alice");
  rename(a, "bob");
  for (int i : order) {
    const auto& c = changes[static_cast<std::size_t>(i)];
    auto r = w.post_webhook(
        c.account, "username",
        R"({"username":")" + c.username + R"(","version":)" + std::to_string(c.version) + "}");
    EXPECT_EQ(r.status, 200) << r.body;
  }
  // A profile that gave its name up to the other half of the swap is polled at once.
  w.service().reconcile_due();
  EXPECT_EQ(w.username_of(a), "bob");
  EXPECT_EQ(w.username_of(bob), "alice");
}

TEST(Linkage, AUsernameSwapConvergesInAnyDeliveryOrder) {
  std::vector<int> order{0, 1, 2};
  do {
    SCOPED_TRACE(::testing::PrintToString(order));
    swap_in_order(order);
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST(Linkage, DeliveredTwiceByTheProviderAppliesOnce) {
  linked_world w;
  const auto alice = w.account("alice");
  browser b;
  w.join(b, "alice");
  ASSERT_TRUE(w.provider().update_profile(alice, {.username = "alice.once"}));
  w.deliver();
  // The provider replays what it delivered (an at-least-once network resends): same id, same
  // version, so the receiver counts it a duplicate.
  auto d = w.provider().deliveries(idp::delivery_state::delivered);
  ASSERT_FALSE(d.empty());
  const auto before = count_flows(w, "webhook.receive");
  auto body = R"({"username":"alice.once","version":)" +
              std::to_string(w.provider().get_account(alice)->version) + "}";
  auto r = w.post_webhook(alice, "username", body);
  EXPECT_EQ(json_of(r).at("duplicates").as_int64(), 1);
  EXPECT_EQ(count_flows(w, "webhook.receive"), before + 1);
  EXPECT_EQ(w.username_of(alice), "alice.once");
}

TEST(Linkage, TheSubscriptionHandshakeNeedsTheVerifyToken) {
  linked_world w;  // subscribing already ran the handshake with the right token
  EXPECT_EQ(w.get("/webhooks/instagram?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=c1")
                .status,
            403);
  auto r =
      w.get("/webhooks/instagram?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=c2");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "c2");
}

TEST(Linkage, TwoAccountsInOneBrowserTheUserChoosesWhichToLink) {
  linked_world w;
  const auto alice = w.account("alice");
  const auto bob = w.account("bob");
  browser b;
  w.join(b, "alice");
  // Same browser, logged in to alice at the provider: log in to bob as well and pick bob.
  auto page = w.start(b, "bob", "/signup", true);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("@bob"), std::string::npos);
  ASSERT_EQ(w.press_link(b, page).status, 303);
  EXPECT_EQ(w.username_of(bob), "bob");
  EXPECT_EQ(w.username_of(alice), "alice");
}

TEST(Linkage, TheIndependentProfileKeepsItsOwnHandle) {
  linked_world w("independent");
  const auto alice = w.account("alice");
  browser b;
  auto page = w.start(b, "alice");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Choose your handle"), std::string::npos);
  ASSERT_EQ(w.press_link(b, page, "alice.threads").status, 303);
  ASSERT_TRUE(w.provider().update_profile(alice, {.username = "alice.ig2"}));
  w.deliver();
  w.poll_after(6min);
  EXPECT_EQ(w.username_of(alice), "alice.threads");
}

TEST(Linkage, BrowserPagesNeedTheCsrfToken) {
  linked_world w;
  w.account("alice");
  browser b;
  w.join(b, "alice");
  auto r = b.post_form(w.base + "/posts", {{"text", "no token"}});
  EXPECT_EQ(r.status, 403);
  r = b.post_form(w.base + "/posts", {{"text", "with token"}, {"csrf", b.cookie("threads_csrf")}});
  EXPECT_EQ(r.status, 303);
  EXPECT_NE(b.get(w.base + "/@alice").body.find("with token"), std::string::npos);
}

TEST(Linkage, BadInputGetsAJsonError) {
  linked_world w;
  w.account("alice");
  browser b;
  const auto session = w.join(b, "alice");
  auto r = w.call("PATCH", "/api/me", "{not json", session);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json_of(r).at("error").at("code"), "invalid_request");
  r = w.call("PATCH", "/api/me", R"({"bio":42})", session);
  EXPECT_EQ(r.status, 400);
  r = w.call("POST", "/api/posts", R"({"text":""})", session);
  EXPECT_EQ(json_of(r).at("error").at("code"), "text_invalid");
  r = w.send("POST", "/webhooks/instagram", "[1,2", "application/json",
             {{"X-Hub-Signature-256",
               "sha256=" + to_hex(hmac_sha256(w.threads.client().secret, "[1,2"))}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(w.get("/api/me").status, 401);
  EXPECT_EQ(w.call("PUT", "/settings").status, 405);
}

TEST(Linkage, MetaDataDeletionCallbackDeletesTheProfile) {
  linked_world w;
  const auto alice = w.account("alice");
  browser b;
  w.join(b, "alice");
  // The provider's data-deletion callback, signed with the app secret (signed_request).
  const std::string payload =
      base64url_encode(R"({"algorithm":"HMAC-SHA256","issued_at":1767225600,"user_id":")" +
                       std::to_string(alice) + R"("})");
  const std::string sr =
      base64url_encode(hmac_sha256(w.threads.client().secret, payload)) + "." + payload;
  auto r = w.send("POST", "/ig/data-deletion", http::form_encode({{"signed_request", sr}}),
                  "application/x-www-form-urlencoded");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto code = str(json_of(r), "confirmation_code");
  EXPECT_TRUE(w.profiles_of(alice).empty());
  r = w.get("/ig/deletion-status?code=" + code);
  EXPECT_EQ(json_of(r).at("profiles_deleted").as_int64(), 1);
  // A forged one is refused.
  r = w.send("POST", "/ig/data-deletion",
             http::form_encode({{"signed_request", "AAAA." + payload}}),
             "application/x-www-form-urlencoded");
  EXPECT_EQ(r.status, 403);
}

}  // namespace
}  // namespace linksim::testing
