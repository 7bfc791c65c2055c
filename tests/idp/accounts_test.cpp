// Tests of accounts: Instagram's username rules, case-insensitive uniqueness, profile changes
// going to the outbox, deletion and follows.
#include "support.hpp"

#include <gtest/gtest.h>

#include <random>
#include <tuple>

namespace linksim::idp {
namespace {

using testing::idp_fixture;

TEST(Username, FollowsInstagramRules) {
  for (const char* ok :
       {"a", "alice", "alice.b", "al_ice", "A1_.b2", "abcdefghijklmnopqrstuvwxyz1234"})
    EXPECT_TRUE(valid_username(ok)) << ok;
  for (const char* bad : {"", ".alice", "alice.", "al..ice", "al ice", "alice!", "élodie",
                          "abcdefghijklmnopqrstuvwxyz12345"})
    EXPECT_FALSE(valid_username(bad)) << bad;
}

TEST(Accounts, UsernamesAreUniqueIgnoringCase) {
  idp_fixture f;
  const auto a = f.make_account("Alice");
  EXPECT_TRUE(is(f.idp.create_account({"alice", "password1"}).error(), errc::username_taken));
  EXPECT_TRUE(is(f.idp.create_account({"bad name", "password1"}).error(), errc::username_invalid));
  EXPECT_EQ(f.idp.find_account("ALICE")->id, a.id);
  EXPECT_GE(a.id, 1784140000000000);
  EXPECT_LT(a.id, 1LL << 53);
}

TEST(Accounts, RenameFreesTheOldNameAndVersionsEachChange) {
  idp_fixture f;
  const auto a = f.make_account("alice");
  f.make_account("bob");
  EXPECT_TRUE(is(f.idp.update_profile(a.id, {.username = "BOB"}).error(), errc::username_taken));
  auto renamed = f.idp.update_profile(a.id, {.username = "alice2", .bio = "new bio"});
  ASSERT_TRUE(renamed);
  EXPECT_EQ(renamed->username, "alice2");
  EXPECT_EQ(renamed->version, a.version + 2);  // one version per changed field
  EXPECT_EQ(renamed->id, a.id);                // the id never changes
  EXPECT_TRUE(f.idp.create_account({"alice", "password1"}));
}

// update_profile answers with the account as stored, without reading it back.
TEST(Accounts, NameAndBioAreBoundedInCharacters) {
  idp_fixture f;
  const std::string name64(64, 'n'), bio150 = std::string(148, 'b') + "\xc3\xa9";  // 149 chars
  auto a = f.idp.create_account(
      {.username = "alice", .password = "pw-alice-123", .display_name = name64, .bio = bio150});
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_TRUE(
      is(f.idp.update_profile(a->id, {.display_name = name64 + "n"}).error(), errc::bad_field));
  EXPECT_TRUE(
      is(f.idp.update_profile(a->id, {.bio = std::string(151, 'b')}).error(), errc::bad_field));
  EXPECT_TRUE(is(f.idp.update_profile(a->id, {.display_name = std::string(1'000'000, 'x')}).error(),
                 errc::bad_field));
  // Counted in characters, not bytes: 64 two-byte letters fit.
  std::string accented;
  for (int i = 0; i < 64; ++i) accented += "\xc3\xa9";
  EXPECT_TRUE(f.idp.update_profile(a->id, {.display_name = accented}));
  EXPECT_TRUE(
      is(f.idp.update_profile(a->id, {.display_name = "bad \xff"}).error(), errc::bad_field));
  EXPECT_TRUE(
      is(f.idp
             .create_account(
                 {.username = "bob", .password = "pw-bob-1234", .bio = std::string(151, 'b')})
             .error(),
         errc::bad_field));
}

TEST(Accounts, AnUpdateAnswersWithTheAccountAsStored) {
  idp_fixture f;
  const auto a = f.make_account("alice");
  const auto b = f.make_account("bob");
  ASSERT_TRUE(f.idp.follow(b.id, a.id));
  ASSERT_TRUE(f.idp.set_picture(a.id, {"image/png", "png bytes"}));
  const auto updated = f.idp.update_profile(a.id, {.username = "alice2",
                                                   .display_name = "Alice",
                                                   .bio = "bio",
                                                   .type = account_type::business,
                                                   .status = account_status::restricted});
  ASSERT_TRUE(updated);
  const auto stored = f.idp.get_account(a.id);
  ASSERT_TRUE(stored);
  auto same = [](const account& x, const account& y) {
    return std::tie(x.id, x.username, x.display_name, x.bio, x.picture_url, x.picture_sha256,
                    x.type, x.status, x.version, x.followers_count, x.follows_count,
                    x.created_at) ==
           std::tie(y.id, y.username, y.display_name, y.bio, y.picture_url, y.picture_sha256,
                    y.type, y.status, y.version, y.followers_count, y.follows_count, y.created_at);
  };
  EXPECT_TRUE(same(*updated, *stored));
  EXPECT_EQ(stored->followers_count, 1);
  EXPECT_FALSE(stored->picture_url.empty());
}

TEST(Accounts, DeletionFreesTheUsernameAndEndsTokens) {
  idp_fixture f;
  const auto a = f.make_account("alice");
  auto deleted = f.idp.delete_account(a.id);
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, account_status::deleted);
  EXPECT_TRUE(is(f.idp.delete_account(a.id).error(), errc::account_deleted));
  EXPECT_TRUE(is(f.idp.update_profile(a.id, {.bio = "x"}).error(), errc::account_deleted));
  auto again = f.idp.create_account({"alice", "password1"});
  ASSERT_TRUE(again);
  EXPECT_NE(again->id, a.id);
}

TEST(Accounts, FollowsCountOnlyLivingAccounts) {
  idp_fixture f;
  const auto a = f.make_account("alice"), b = f.make_account("bob"), c = f.make_account("carol");
  ASSERT_TRUE(f.idp.follow(b.id, a.id));
  ASSERT_TRUE(f.idp.follow(c.id, a.id));
  ASSERT_TRUE(f.idp.follow(c.id, a.id));  // idempotent
  EXPECT_TRUE(is(f.idp.follow(a.id, a.id).error(), errc::self_follow));
  EXPECT_EQ(f.idp.get_account(a.id)->followers_count, 2);
  ASSERT_TRUE(f.idp.delete_account(c.id));
  EXPECT_EQ(f.idp.get_account(a.id)->followers_count, 1);
  EXPECT_EQ(f.idp.followers_of(a.id), std::vector<std::int64_t>{b.id});
}

// The counts an account is read with are kept by follow, unfollow and deletion. After every step
// of a random sequence of them they equal what the follows table says: the accounts on the
// other side that are not deleted.
TEST(Accounts, FollowCountsStayThoseOfTheFollowsTable) {
  idp_fixture f;
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(f.make_account("user" + std::to_string(i)).id);
  auto counted = f.db.prepare(
      "SELECT a.id, a.followers_count, a.follows_count, "
      "(SELECT count(*) FROM follows x JOIN accounts o ON o.id = x.follower "
      " WHERE x.followee = a.id AND o.status != 'deleted'), "
      "(SELECT count(*) FROM follows x JOIN accounts o ON o.id = x.followee "
      " WHERE x.follower = a.id AND o.status != 'deleted') FROM accounts a");
  std::mt19937_64 rng(7);
  int follows = 0, unfollows = 0, deletions = 0;
  for (int step = 0; step < 400; ++step) {
    const auto x = ids[rng() % ids.size()], y = ids[rng() % ids.size()];
    const auto op = rng() % 20;
    if (op < 11) {
      if (f.idp.follow(x, y)) ++follows;
    } else if (op < 19) {
      if (f.idp.unfollow(x, y)) ++unfollows;
    } else if (f.idp.delete_account(x)) {
      ++deletions;
    }
    while (counted.step()) {
      ASSERT_EQ(counted.get_int(1), counted.get_int(3))
          << "followers of " << counted.get_int(0) << " after step " << step;
      ASSERT_EQ(counted.get_int(2), counted.get_int(4))
          << "follows of " << counted.get_int(0) << " after step " << step;
    }
    counted.reset();
    // The account as read agrees with the list of its followers.
    const auto a = f.idp.get_account(x);
    ASSERT_TRUE(a);
    EXPECT_EQ(static_cast<std::size_t>(a->followers_count), f.idp.followers_of(x).size());
  }
  // The sequence did all three, several times.
  EXPECT_GT(follows, 50);
  EXPECT_GT(unfollows, 10);
  EXPECT_GE(deletions, 3);
}

TEST(Accounts, PicturesAreStoredByContentHash) {
  idp_fixture f;
  const auto a = f.make_account("alice");
  EXPECT_TRUE(
      is(f.idp.set_picture(a.id, {"text/html", "<x>"}).error(), errc::unsupported_media_type));
  auto p = f.idp.set_picture(a.id, {"image/png", "\x89PNG fake bytes"});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->picture_sha256, to_hex(sha256("\x89PNG fake bytes")));
  EXPECT_EQ(p->picture_url, "http://idp.test/pictures/" + p->picture_sha256);
  EXPECT_EQ(f.idp.get_picture(p->picture_sha256)->bytes, "\x89PNG fake bytes");
  // A picture of many pages (most of it in overflow pages) comes back byte for byte, and one
  // uploaded again is stored once.
  std::string big(300'000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7919 % 251);
  const auto b = f.make_account("bob");
  for (auto id : {a.id, b.id}) ASSERT_TRUE(f.idp.set_picture(id, {"image/jpeg", big}));
  const auto got = f.idp.get_picture(to_hex(sha256(big)));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->content_type, "image/jpeg");
  EXPECT_TRUE(got->bytes == big);
  auto rows = f.db.prepare("SELECT count(*) FROM pictures");
  ASSERT_TRUE(rows.step());
  EXPECT_EQ(rows.get_int(0), 2);
}

TEST(Accounts, InactiveAccountsCannotLogIn) {
  idp_fixture f;
  const auto a = f.make_account("alice");
  EXPECT_TRUE(f.idp.authenticate_user("ALICE", "password-alice"));
  EXPECT_TRUE(is(f.idp.authenticate_user("alice", "wrong").error(), idp::error::login_failed));
  EXPECT_TRUE(is(f.idp.authenticate_user("nobody", "x").error(), idp::error::login_failed));
  for (auto s : {account_status::restricted, account_status::suspended, account_status::banned}) {
    ASSERT_TRUE(f.idp.update_profile(a.id, {.status = s}));
    EXPECT_TRUE(
        is(f.idp.authenticate_user("alice", "password-alice").error(), errc::account_inactive))
        << to_string(s);
  }
}

// A provider on a database file, opened afresh (the fixture keeps one for its whole life).
struct provider_on {
  store::database db;
  manual_clock clock{default_epoch};
  seeded_random random{1};
  testing::memory_recorder recorder;
  testing::scripted_transport transport;
  service idp{db, clock, random, recorder, transport, idp_fixture::make_config()};
  explicit provider_on(const std::filesystem::path& file) : db(file) {}
};

// Version 11 keeps each account's follow counts, and version 10 moved each change into its
// deliveries: a database older than that has none of these columns. (SQLite drops a column that
// no index or rule names.)
constexpr std::string_view accounts_before_version_11 =
    "ALTER TABLE accounts DROP COLUMN followers_count; "
    "ALTER TABLE accounts DROP COLUMN follows_count; ";
// Version 14 dropped the pending deliveries' index (they are queued in memory): older databases
// have it.
// Version 19 added the clients' ID token algorithm, version 18 the session accounts' login
// times, version 16 the Shared Signals streams, subjects and events, and version 15 the
// clients' authentication method and allowed origins.
constexpr std::string_view clients_before_version_15 =
    "ALTER TABLE clients DROP COLUMN id_token_alg; "
    "ALTER TABLE session_accounts DROP COLUMN logged_in_at; ALTER TABLE session_accounts DROP "
    "COLUMN place; DROP TABLE ssf_events; DROP TABLE ssf_subjects; DROP TABLE ssf_streams; "
    "ALTER TABLE clients DROP COLUMN auth_method; ALTER TABLE clients DROP COLUMN "
    "allowed_origins; ";
constexpr std::string_view deliveries_before_version_14 =
    "CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE state = 'pending'; ";
constexpr std::string_view deliveries_before_version_10 =
    "ALTER TABLE deliveries DROP COLUMN value; ALTER TABLE deliveries DROP COLUMN created_at; ";

// Version 4 was given to two migrations: a database created between them is at version 4
// without the ad settings table. Opening it gives it the table, and the settings work.
TEST(Migrations, ADatabaseAtTheFirstVersion4GetsItsAdSettings) {
  testing::temp_dir dir;
  std::int64_t id = 0;
  {
    provider_on p(dir / "idp.db");
    id = p.idp.create_account({"alice", "password-alice", "Alice", ""})->id;
    // Back to that database: as version 4 left it, but without the table.
    p.db.exec(std::string(clients_before_version_15) + std::string(deliveries_before_version_14) +
              std::string(accounts_before_version_11) + std::string(deliveries_before_version_10) +
              "DROP TABLE ad_settings; CREATE INDEX tokens_grant ON tokens (grant_id); "
              "DROP INDEX deliveries_pending; "
              "CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at); "
              "PRAGMA user_version=4");
  }
  provider_on p(dir / "idp.db");
  auto set = p.idp.set_ad_settings(id, false);
  ASSERT_TRUE(set) << set.error().message();
  EXPECT_FALSE(p.idp.get_ad_settings(id)->personalized_ads);
}

// Version 9 rebuilt the deliveries and tokens with their CHECK lists written as comparisons.
// A database at version 8 keeps every delivery and token through it, and the rules still hold.
TEST(Migrations, Version9KeepsDeliveriesAndTokensAndTheirRules) {
  testing::temp_dir dir;
  {
    provider_on p(dir / "idp.db");
    const auto id = p.idp.create_account({"alice", "password-alice", "Alice", ""})->id;
    p.db.exec(
        "INSERT INTO clients (id, secret, name, system, redirect_uris, webhook_secret) VALUES "
        "('app', 's', 'App', 'app', 'https://app.example/cb', 'whsec_c2VjcmV0')");
    p.db.exec(
        "INSERT INTO grants (id, client_id, account_id, scope, created_at) VALUES (7, "
        "'app', " +
        std::to_string(id) + ", 'user_profile', 0)");
    p.db.exec("INSERT INTO events (id, account_id, field, value, version, created_at) VALUES (3, " +
              std::to_string(id) + ", 'username', '{}', 2, 0)");
    p.db.exec(
        "INSERT INTO deliveries (event_id, client_id, kind, account_id, field, url, state, "
        "next_attempt_at, window_start) VALUES (3, 'app', 'webhook', " +
        std::to_string(id) +
        ", 'username', 'https://app.example/hook', 'pending', 5, 5), (3, 'app', 'webhook', " +
        std::to_string(id) + ", 'username', 'https://app.example/hook', 'dead', 6, 6)");
    p.db.exec(
        "INSERT INTO tokens (hash, grant_id, kind, lifetime, issued_at, expires_at) VALUES "
        "(x'01', 7, 'access', 'long', 1, 2), (x'02', 7, 'refresh', 'refresh', 1, 3)");
    p.db.exec(std::string(clients_before_version_15) + std::string(deliveries_before_version_14) +
              std::string(accounts_before_version_11) + std::string(deliveries_before_version_10) +
              "PRAGMA user_version=8");
  }
  provider_on p(dir / "idp.db");
  auto rows = p.db.prepare(
      "SELECT (SELECT group_concat(state || ':' || next_attempt_at) FROM deliveries), "
      "(SELECT group_concat(hex(hash) || ':' || lifetime) FROM tokens), "
      "(SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'deliveries_pending' "
      "AND tbl_name = 'deliveries')");
  ASSERT_TRUE(rows.step());
  EXPECT_EQ(rows.get_text(0), "pending:5,dead:6");
  EXPECT_EQ(rows.get_text(1), "01:long,02:refresh");
  EXPECT_EQ(rows.get_int(2), 0);  // made again by version 9, dropped by 14 (queued in memory)
  rows.reset();
  // A client from before version 19 keeps the EdDSA ID tokens it had.
  const auto app = p.idp.get_client("app");
  ASSERT_TRUE(app);
  EXPECT_EQ(app->id_token_signed_response_alg, "EdDSA");
  for (const char* bad :
       {"UPDATE deliveries SET state = 'lost'", "UPDATE deliveries SET kind = 'email'",
        "UPDATE tokens SET lifetime = 'forever'"}) {
    try {
      p.db.exec(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const store::error& e) {
      EXPECT_TRUE(e.is_constraint()) << bad << ": " << e.what();
    }
  }
}

// Version 10 moved each change's value and time from the events table into its deliveries. A
// pending delivery made before it is sent with its change, and new changes are numbered after
// every change stored before, including one that had no delivery.
TEST(Migrations, Version10MovesEachChangeIntoItsDeliveriesAndNumbersOn) {
  testing::temp_dir dir;
  std::int64_t id = 0;
  {
    provider_on p(dir / "idp.db");
    id = p.idp.create_account({"alice", "password-alice", "Alice", ""})->id;
    const std::string account = std::to_string(id);
    p.db.exec(
        "INSERT INTO clients (id, secret, name, system, redirect_uris, webhook_secret) VALUES "
        "('app', 's', 'App', 'app', 'https://app.example/cb', 'whsec_c2VjcmV0'); "
        "INSERT INTO subscriptions (client_id, callback_url, verify_token, fields, active) "
        "VALUES ('app', 'https://app.example/hook', 'vt', 'username', 1); "
        "INSERT INTO grants (id, client_id, account_id, scope, created_at) VALUES (7, 'app', " +
        account + ", 'user_profile', 0); " + std::string(clients_before_version_15) +
        std::string(deliveries_before_version_14) + std::string(accounts_before_version_11) +
        std::string(deliveries_before_version_10) +
        "INSERT INTO events (id, account_id, field, value, version, created_at) VALUES "
        "(3, " +
        account +
        ", 'username', '{\"username\":\"al\",\"version\":2}', 2, 7000), "
        "(41, " +
        account +
        ", 'biography', '{\"biography\":\"b\",\"version\":3}', 3, 8000); "
        "INSERT INTO deliveries (event_id, client_id, kind, account_id, field, url, state, "
        "next_attempt_at, window_start) VALUES (3, 'app', 'webhook', " +
        account +
        ", 'username', 'https://app.example/hook', 'pending', 0, 0); "
        "PRAGMA user_version=9");
  }
  provider_on p(dir / "idp.db");
  auto row = p.db.prepare("SELECT value, created_at FROM deliveries WHERE event_id = 3");
  ASSERT_TRUE(row.step());
  EXPECT_EQ(row.get_text(0), R"({"username":"al","version":2})");
  EXPECT_EQ(row.get_int(1), 7000);
  row.reset();

  ASSERT_TRUE(p.idp.update_profile(id, {.username = "alice.new"}));
  p.idp.dispatch_due();
  ASSERT_EQ(p.transport.sent.size(), 2u);
  EXPECT_EQ(p.transport.sent[0].headers.get("webhook-id"), "evt_3");
  EXPECT_NE(
      p.transport.sent[0].body.find(
          R"("time":7,"changes":[{"field":"username","value":{"username":"al","version":2}}])"),
      std::string::npos)
      << p.transport.sent[0].body;
  EXPECT_EQ(p.transport.sent[1].headers.get("webhook-id"), "evt_42");
  EXPECT_NE(p.transport.sent[1].body.find(R"("username":"alice.new")"), std::string::npos)
      << p.transport.sent[1].body;
}

// Version 11 counted each account's followers and follows into two columns, leaving out
// deleted accounts as the reads before it did.
TEST(Migrations, Version11CountsTheFollowsOfEveryAccount) {
  testing::temp_dir dir;
  std::vector<std::int64_t> ids;
  {
    provider_on p(dir / "idp.db");
    for (const char* name : {"alice", "bob", "carol", "dave"})
      ids.push_back(p.idp.create_account({name, std::string("password-") + name, name, ""})->id);
    // bob, carol and dave follow alice; alice follows bob; dave is deleted.
    for (auto follower : {ids[1], ids[2], ids[3]}) ASSERT_TRUE(p.idp.follow(follower, ids[0]));
    ASSERT_TRUE(p.idp.follow(ids[0], ids[1]));
    ASSERT_TRUE(p.idp.follow(ids[3], ids[1]));
    ASSERT_TRUE(p.idp.delete_account(ids[3]));
    p.db.exec(std::string(clients_before_version_15) + std::string(deliveries_before_version_14) +
              std::string(accounts_before_version_11) + "PRAGMA user_version=10");
  }
  provider_on p(dir / "idp.db");
  const auto alice = p.idp.get_account(ids[0]), bob = p.idp.get_account(ids[1]);
  EXPECT_EQ(alice->followers_count, 2);  // bob and carol
  EXPECT_EQ(alice->follows_count, 1);
  EXPECT_EQ(bob->followers_count, 1);  // alice
  EXPECT_EQ(bob->follows_count, 1);
}

// Changes are numbered on from the stored deliveries when the provider starts again.
TEST(Outbox, ChangesAreNumberedOnAfterARestart) {
  testing::temp_dir dir;
  std::int64_t id = 0;
  const auto webhook_ids = [](provider_on& p) {
    p.idp.dispatch_due();
    std::vector<std::string> ids;
    for (const auto& r : p.transport.sent) ids.emplace_back(r.headers.get("webhook-id"));
    p.transport.sent.clear();
    return ids;
  };
  const auto subscribe = [](provider_on& p, std::int64_t account) {
    p.db.exec(
        "INSERT INTO clients (id, secret, name, system, redirect_uris, webhook_secret) VALUES "
        "('app', 's', 'App', 'app', 'https://app.example/cb', 'whsec_c2VjcmV0'); "
        "INSERT INTO subscriptions (client_id, callback_url, verify_token, fields, active) "
        "VALUES ('app', 'https://app.example/hook', 'vt', 'username', 1); "
        "INSERT INTO grants (client_id, account_id, scope, created_at) VALUES ('app', " +
        std::to_string(account) + ", 'user_profile', 0)");
  };
  {
    provider_on p(dir / "idp.db");
    id = p.idp.create_account({"alice", "password-alice", "Alice", ""})->id;
    subscribe(p, id);
    ASSERT_TRUE(p.idp.update_profile(id, {.username = "a1"}));
    ASSERT_TRUE(p.idp.update_profile(id, {.username = "a2"}));
    EXPECT_EQ(webhook_ids(p), (std::vector<std::string>{"evt_1", "evt_2"}));
  }
  provider_on p(dir / "idp.db");
  ASSERT_TRUE(p.idp.update_profile(id, {.username = "a3"}));
  EXPECT_EQ(webhook_ids(p), (std::vector<std::string>{"evt_3"}));
}

}  // namespace
}  // namespace linksim::idp
