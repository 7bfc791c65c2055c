// The identity provider's SQLite repositories: every statement it runs, over the schema in
// schema.cpp.
#include "schema.hpp"

#include "linksim/common/json.hpp"
#include "linksim/common/text.hpp"
#include "linksim/idp/repositories.hpp"
#include "linksim/store/sqlite.hpp"

#include <boost/json/array.hpp>

namespace linksim::idp {
namespace {

std::span<const std::uint8_t> bytes(const digest& d) {
  return d;
}

constexpr std::string_view account_columns =
    "id, username, display_name, bio, '', picture_sha256, type, status, version, "
    "created_at, followers_count, follows_count";

account read_account(const store::statement& q) {
  account a;
  a.id = q.get_int(0);
  a.username = q.get_text(1);
  a.display_name = q.get_text(2);
  a.bio = q.get_text(3);
  a.picture_sha256 = q.get_text(5);
  a.type = parse_type(q.get_text(6)).value_or(account_type::personal);
  a.status = parse_status(q.get_text(7)).value_or(account_status::active);
  a.version = q.get_int(8);
  a.created_at = from_unix_millis(q.get_int(9));
  a.followers_count = q.get_int(10);
  a.follows_count = q.get_int(11);
  return a;
}

class sqlite_accounts final : public account_repository {
 public:
  explicit sqlite_accounts(store::database& db) : db_(db) {}

  std::optional<account> find(std::int64_t id) override {
    static const std::string sql =
        "SELECT " + std::string(account_columns) + " FROM accounts a WHERE id = ?";
    auto& q = db_.cached(sql);
    q.bind(1, id);
    if (!q.step()) return std::nullopt;
    return read_account(q);
  }

  bool exists(std::int64_t id) override {
    return db_.cached("SELECT 1 FROM accounts WHERE id = ?").bind(1, id).step();
  }

  std::optional<std::int64_t> by_username(std::string_view username) override {
    auto& q = db_.cached(
        "SELECT id FROM accounts WHERE username = ? COLLATE NOCASE "
        "AND status != 'deleted'");
    q.bind(1, username);
    if (!q.step()) return std::nullopt;
    return q.get_int(0);
  }

  bool username_free(std::string_view username, std::int64_t except_id) override {
    auto& q = db_.cached(
        "SELECT 1 FROM accounts WHERE username = ? COLLATE NOCASE AND status != 'deleted' AND id "
        "!= ?");
    q.bind_all(username, except_id);
    return !q.step();
  }

  void add(std::int64_t id, const new_account& n, std::string_view password_hash,
           time_point at) override {
    db_.cached(
           "INSERT INTO accounts (id, username, password_hash, display_name, bio, type, status, "
           "version, created_at) VALUES (?, ?, ?, ?, ?, ?, 'active', 1, ?)")
        .bind_all(id, n.username, password_hash, n.display_name, n.bio, to_string(n.type),
                  unix_millis(at))
        .run();
  }

  void write(std::int64_t id, account_column column, std::string_view value,
             std::int64_t version) override {
    // One cached statement per column.
    static constexpr const char* sql[] = {
        "UPDATE accounts SET username = ?, version = ? WHERE id = ?",
        "UPDATE accounts SET display_name = ?, version = ? WHERE id = ?",
        "UPDATE accounts SET bio = ?, version = ? WHERE id = ?",
        "UPDATE accounts SET type = ?, version = ? WHERE id = ?",
        "UPDATE accounts SET status = ?, version = ? WHERE id = ?",
    };
    db_.cached(sql[static_cast<std::size_t>(column)]).bind_all(value, version, id).run();
  }

  void set_picture(std::int64_t id, std::string_view sha256_hex, std::int64_t version) override {
    db_.cached("UPDATE accounts SET picture_sha256 = ?, version = ? WHERE id = ?")
        .bind_all(sha256_hex, version, id)
        .run();
  }

  void mark_deleted(std::int64_t id, std::int64_t version) override {
    db_.cached("UPDATE accounts SET status = 'deleted', version = ? WHERE id = ?")
        .bind_all(version, id)
        .run();
    db_.cached(
           "UPDATE accounts SET follows_count = follows_count - 1 "
           "WHERE id IN (SELECT follower FROM follows WHERE followee = ?)")
        .bind(1, id)
        .run();
    db_.cached(
           "UPDATE accounts SET followers_count = followers_count - 1 "
           "WHERE id IN (SELECT followee FROM follows WHERE follower = ?)")
        .bind(1, id)
        .run();
  }

  std::optional<credentials> credentials_of(std::string_view username) override {
    auto& q = db_.cached(
        "SELECT id, password_hash, status FROM accounts WHERE username = ? COLLATE NOCASE "
        "AND status != 'deleted'");
    q.bind(1, username);
    if (!q.step()) return std::nullopt;
    credentials c{q.get_int(0), q.get_text(1), q.get_text(2)};
    q.reset();
    return c;
  }

  std::optional<std::string> status_of(std::int64_t id) override {
    auto& q = db_.cached("SELECT status FROM accounts WHERE id = ?");
    q.bind(1, id);
    if (!q.step()) return std::nullopt;
    return q.get_text(0);
  }

  void add_picture(std::string_view sha256_hex, const picture& p) override {
    db_.cached("INSERT OR IGNORE INTO pictures (sha256, content_type, bytes) VALUES (?, ?, ?)")
        .bind_all(sha256_hex, p.content_type, as_bytes(p.bytes))
        .run();
  }

  std::optional<picture> find_picture(std::string_view sha256_hex) override {
    auto& q = db_.cached("SELECT content_type, bytes FROM pictures WHERE sha256 = ?");
    q.bind(1, sha256_hex);
    if (!q.step()) return std::nullopt;
    const auto blob = q.get_blob(1);
    return picture{q.get_text(0), std::string(as_chars(blob))};
  }

  bool add_follow(std::int64_t follower, std::int64_t followee, time_point at) override {
    db_.cached("INSERT OR IGNORE INTO follows (follower, followee, created_at) VALUES (?, ?, ?)")
        .bind_all(follower, followee, unix_millis(at))
        .run();
    if (db_.changes() == 0) return false;
    db_.cached("UPDATE accounts SET follows_count = follows_count + 1 WHERE id = ?")
        .bind(1, follower)
        .run();
    db_.cached("UPDATE accounts SET followers_count = followers_count + 1 WHERE id = ?")
        .bind(1, followee)
        .run();
    return true;
  }

  bool remove_follow(std::int64_t follower, std::int64_t followee) override {
    db_.cached("DELETE FROM follows WHERE follower = ? AND followee = ?")
        .bind_all(follower, followee)
        .run();
    if (db_.changes() == 0) return false;
    db_.cached(
           "UPDATE accounts SET follows_count = follows_count - 1 WHERE id = ?1 AND "
           "(SELECT status FROM accounts WHERE id = ?2) != 'deleted'")
        .bind_all(follower, followee)
        .run();
    db_.cached(
           "UPDATE accounts SET followers_count = followers_count - 1 WHERE id = ?2 AND "
           "(SELECT status FROM accounts WHERE id = ?1) != 'deleted'")
        .bind_all(follower, followee)
        .run();
    return true;
  }

  std::vector<std::int64_t> followers_of(std::int64_t id) override {
    std::vector<std::int64_t> out;
    auto& q = db_.cached(
        "SELECT f.follower FROM follows f JOIN accounts a ON a.id = f.follower "
        "WHERE f.followee = ? AND a.status != 'deleted' ORDER BY f.follower");
    q.bind(1, id);
    while (q.step()) out.push_back(q.get_int(0));
    return out;
  }

  std::optional<ad_settings> find_ad_settings(std::int64_t id) override {
    auto& q =
        db_.cached("SELECT personalized_ads, updated_at FROM ad_settings WHERE account_id = ?");
    q.bind(1, id);
    if (!q.step()) return std::nullopt;
    return ad_settings{q.get_int(0) != 0, from_unix_millis(q.get_int(1))};
  }

  void set_ad_settings(std::int64_t id, bool personalized_ads, time_point at) override {
    db_.cached(
           "INSERT INTO ad_settings (account_id, personalized_ads, updated_at) VALUES (?, ?, ?) "
           "ON CONFLICT (account_id) DO UPDATE SET personalized_ads = excluded.personalized_ads, "
           "updated_at = excluded.updated_at")
        .bind_all(id, personalized_ads ? 1 : 0, unix_millis(at))
        .run();
  }

 private:
  store::database& db_;
};

class sqlite_clients final : public client_repository {
 public:
  explicit sqlite_clients(store::database& db) : db_(db) {}

  void add(const client& c) override {
    boost::json::array uris;
    for (const auto& u : c.redirect_uris) uris.emplace_back(u);
    db_.prepare(
           "INSERT INTO clients (id, secret, name, system, redirect_uris, webhook_secret, "
           "deauthorize_url, data_deletion_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .bind_all(c.id, c.secret, c.name, c.system, json::serialize(uris), c.webhook_secret,
                  c.deauthorize_url, c.data_deletion_url)
        .run();
  }

  std::optional<client> find(std::string_view id) override {
    auto& q = db_.cached(
        "SELECT id, secret, name, system, redirect_uris, webhook_secret, deauthorize_url, "
        "data_deletion_url FROM clients WHERE id = ?");
    q.bind(1, id);
    if (!q.step()) return std::nullopt;
    client c{q.get_text(0), q.get_text(1), q.get_text(2), q.get_text(3), {},
             q.get_text(5), q.get_text(6), q.get_text(7)};
    auto uris = json::parse_object(R"({"u":)" + q.get_text(4) + "}");
    q.reset();
    if (uris) {
      for (const auto& u : uris->at("u").as_array()) c.redirect_uris.emplace_back(u.as_string());
    }
    return c;
  }

  void subscribe(const subscription& s) override {
    db_.cached(
           "INSERT INTO subscriptions (client_id, callback_url, verify_token, fields, active) "
           "VALUES (?, ?, ?, ?, 1) ON CONFLICT (client_id) DO UPDATE SET "
           "callback_url = excluded.callback_url, verify_token = excluded.verify_token, "
           "fields = excluded.fields, active = 1")
        .bind_all(s.client_id, s.callback_url, s.verify_token, join(s.fields, ","))
        .run();
  }

  std::optional<subscription> subscription_of(std::string_view client_id) override {
    auto& q = db_.cached(
        "SELECT callback_url, verify_token, fields, active FROM subscriptions WHERE client_id = ?");
    q.bind(1, client_id);
    if (!q.step()) return std::nullopt;
    return subscription{std::string(client_id), q.get_text(0), q.get_text(1),
                        split_list(q.get_text(2), ","), q.get_int(3) != 0};
  }

  void set_active(std::string_view client_id, bool active) override {
    if (active)
      db_.cached("UPDATE subscriptions SET active = 1 WHERE client_id = ?")
          .bind(1, client_id)
          .run();
    else
      db_.cached("UPDATE subscriptions SET active = 0 WHERE client_id = ?")
          .bind(1, client_id)
          .run();
  }

  std::vector<subscriber> subscribers(std::int64_t account_id, std::string_view field) override {
    // The fields are a comma-separated list of known names: an exact search (LIKE would read
    // the '_' of "profile_picture" as a wildcard).
    auto& q = db_.cached(
        "SELECT s.client_id, s.callback_url, s.active FROM subscriptions s "
        "WHERE instr(',' || s.fields || ',', ',' || ?2 || ',') > 0 "
        "AND EXISTS (SELECT 1 FROM grants g WHERE g.client_id = s.client_id "
        "AND g.account_id = ?1 AND g.revoked_at IS NULL)");
    q.bind_all(account_id, field);
    std::vector<subscriber> to;
    while (q.step()) to.push_back({q.get_text(0), q.get_text(1), q.get_int(2) != 0});
    return to;
  }

  std::vector<std::pair<std::string, std::string>> deletion_callbacks(
      std::int64_t account_id) override {
    auto q = db_.prepare(
        "SELECT DISTINCT c.id, c.data_deletion_url FROM grants g JOIN clients c ON c.id = "
        "g.client_id "
        "WHERE g.account_id = ? AND g.revoked_at IS NULL AND c.data_deletion_url != ''");
    q.bind(1, account_id);
    std::vector<std::pair<std::string, std::string>> out;
    while (q.step()) out.emplace_back(q.get_text(0), q.get_text(1));
    return out;
  }

 private:
  store::database& db_;
};

class sqlite_sessions final : public session_repository {
 public:
  explicit sqlite_sessions(store::database& db) : db_(db) {}

  bool valid(const digest& hash, std::int64_t now_ms) override {
    auto& q = db_.cached("SELECT 1 FROM sessions WHERE hash = ? AND expires_at > ?");
    q.bind_all(bytes(hash), now_ms);
    return q.step();
  }

  void add(const digest& hash, std::int64_t expires_ms) override {
    db_.cached("INSERT INTO sessions (hash, expires_at) VALUES (?, ?)")
        .bind_all(bytes(hash), expires_ms)
        .run();
  }

  void add_account(const digest& hash, std::int64_t account_id, std::int64_t at_ms) override {
    db_.cached(
           "INSERT OR IGNORE INTO session_accounts (session, account_id, added_at) "
           "VALUES (?, ?, ?)")
        .bind_all(bytes(hash), account_id, at_ms)
        .run();
  }

  std::pair<std::vector<account>, std::int64_t> accounts(const digest& hash,
                                                         std::int64_t now_ms) override {
    // One query, and no follower counts (the pages do not show them).
    auto& q = db_.cached(
        "SELECT a.id, a.username, a.display_name, a.status, s.expires_at FROM session_accounts "
        "sa JOIN sessions s ON s.hash = sa.session JOIN accounts a ON a.id = sa.account_id "
        "WHERE s.hash = ? AND s.expires_at > ? AND a.status != 'deleted' "
        "ORDER BY sa.added_at, sa.account_id");
    q.bind_all(bytes(hash), now_ms);
    std::pair<std::vector<account>, std::int64_t> out{{}, 0};
    while (q.step()) {
      account a;
      a.id = q.get_int(0);
      a.username = q.get_text(1);
      a.display_name = q.get_text(2);
      a.status = parse_status(q.get_text(3)).value_or(account_status::active);
      out.second = q.get_int(4);
      out.first.push_back(std::move(a));
    }
    return out;
  }

  void remove_account(std::int64_t account_id) override {
    db_.cached("DELETE FROM session_accounts WHERE account_id = ?").bind(1, account_id).run();
  }

 private:
  store::database& db_;
};

class sqlite_grants final : public grant_repository {
 public:
  explicit sqlite_grants(store::database& db) : db_(db) {}

  std::optional<token_row> find_token(const digest& hash) override {
    static const std::string sql =
        "SELECT t.kind, t.lifetime, t.issued_at, t.expires_at, t.used_at, t.revoked_at, g.id, "
        "g.client_id, g.account_id, g.scope, g.revoked_at, c.system, c.secret "
        "FROM tokens t JOIN grants g ON g.id = t.grant_id "
        "JOIN clients c ON c.id = g.client_id WHERE t.hash = ?";
    auto& q = db_.cached(sql);
    q.bind(1, bytes(hash));
    if (!q.step()) return std::nullopt;
    return token_row{q.get_text(0),    q.get_text(1),    q.get_int(2),      q.get_int(3),
                     q.get_opt_int(4), q.get_opt_int(5), q.get_int(6),      q.get_text(7),
                     q.get_int(8),     q.get_text(9),    q.get_opt_int(10), q.get_text(11),
                     q.get_text(12)};
  }

  std::optional<access_row> find_access(const digest& hash) override {
    static const std::string sql =
        "SELECT t.kind, t.expires_at, t.revoked_at, g.revoked_at, g.client_id, g.scope, "
        "c.system, a.id, a.username, a.display_name, a.bio, a.picture_sha256, a.type, a.status, "
        "a.version, a.created_at FROM tokens t JOIN grants g ON g.id = t.grant_id "
        "JOIN clients c ON c.id = g.client_id JOIN accounts a ON a.id = g.account_id "
        "WHERE t.hash = ?";
    auto& q = db_.cached(sql);
    q.bind(1, bytes(hash));
    if (!q.step()) return std::nullopt;
    access_row r;
    r.kind = q.get_text(0);
    r.expires_at = q.get_int(1);
    r.revoked = !q.is_null(2) || !q.is_null(3);
    if (r.kind != "access" || r.revoked) return r;
    token_grant& g = r.grant;
    g.client_id = q.get_text(4);
    g.scopes = split_list(q.get_text(5), " ");
    g.client_system = q.get_text(6);
    account& a = g.subject;
    a.id = g.user_id = q.get_int(7);
    a.username = q.get_text(8);
    a.display_name = q.get_text(9);
    a.bio = q.get_text(10);
    a.picture_sha256 = q.get_text(11);
    a.type = parse_type(q.get_text(12)).value_or(account_type::personal);
    a.status = parse_status(q.get_text(13)).value_or(account_status::active);
    a.version = q.get_int(14);
    a.created_at = from_unix_millis(q.get_int(15));
    return r;
  }

  void add_token(const digest& hash, std::int64_t grant_id, std::string_view kind,
                 std::string_view lifetime, std::int64_t issued_at,
                 std::int64_t expires_at) override {
    db_.cached(
           "INSERT INTO tokens (hash, grant_id, kind, lifetime, issued_at, expires_at) "
           "VALUES (?, ?, ?, ?, ?, ?)")
        .bind_all(bytes(hash), grant_id, kind, lifetime, issued_at, expires_at)
        .run();
  }

  void mark_used(const digest& hash, std::int64_t at) override {
    db_.cached("UPDATE tokens SET used_at = ? WHERE hash = ?").bind_all(at, bytes(hash)).run();
  }

  void revoke_token(const digest& hash, std::int64_t at) override {
    db_.cached("UPDATE tokens SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL")
        .bind_all(at, bytes(hash))
        .run();
  }

  std::int64_t add_grant(std::string_view client_id, std::int64_t account_id,
                         std::string_view scope, std::int64_t at) override {
    db_.cached("INSERT INTO grants (client_id, account_id, scope, created_at) VALUES (?, ?, ?, ?)")
        .bind_all(client_id, account_id, scope, at)
        .run();
    return db_.last_insert_rowid();
  }

  std::pair<std::int64_t, std::string> grant_subject(std::int64_t grant_id) override {
    auto& g = db_.cached("SELECT account_id, scope FROM grants WHERE id = ?");
    g.bind(1, grant_id);
    g.step();
    return {g.get_int(0), g.get_text(1)};
  }

  void revoke_grant(std::int64_t grant_id, std::int64_t at) override {
    // Every token check also reads its grant's revoked_at: revoking the grant revokes them all.
    db_.cached("UPDATE grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
        .bind_all(at, grant_id)
        .run();
  }

  void revoke_grants_of(std::int64_t account_id, std::int64_t at) override {
    db_.cached("UPDATE grants SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL")
        .bind_all(at, account_id)
        .run();
  }

  std::vector<std::int64_t> live_grants(std::int64_t account_id,
                                        std::string_view client_id) override {
    auto q = db_.prepare(
        "SELECT id FROM grants WHERE account_id = ? AND client_id = ? AND revoked_at IS NULL");
    q.bind_all(account_id, client_id);
    std::vector<std::int64_t> grants;
    while (q.step()) grants.push_back(q.get_int(0));
    return grants;
  }

  std::optional<std::pair<std::int64_t, std::string>> redeemed_code(const digest& hash) override {
    auto& q = db_.cached(
        "SELECT k.grant_id, g.client_id FROM codes k "
        "JOIN grants g ON g.id = k.grant_id WHERE k.hash = ?");
    q.bind(1, bytes(hash));
    if (!q.step()) return std::nullopt;
    return std::pair{q.get_int(0), q.get_text(1)};
  }

  void add_redeemed_code(const digest& hash, std::int64_t grant_id, std::string_view redirect_uri,
                         std::string_view code_challenge, std::int64_t expires_at,
                         std::int64_t used_at) override {
    db_.cached(
           "INSERT INTO codes (hash, grant_id, redirect_uri, code_challenge, expires_at, used_at) "
           "VALUES (?, ?, ?, ?, ?, ?)")
        .bind_all(bytes(hash), grant_id, redirect_uri, code_challenge, expires_at, used_at)
        .run();
  }

 private:
  store::database& db_;
};

class sqlite_outbox final : public outbox_repository {
 public:
  explicit sqlite_outbox(store::database& db) : db_(db) {}

  std::int64_t last_event_id() override {
    // Deliveries are inserted in the order of their changes, so the newest webhook delivery
    // holds the highest number; changes made before version 10 are numbered in the events
    // table. Read once: prepared for this, not kept in the statement cache.
    auto q = db_.prepare(
        "SELECT max(coalesce((SELECT event_id FROM deliveries WHERE event_id IS NOT NULL "
        "ORDER BY id DESC LIMIT 1), 0), coalesce((SELECT max(id) FROM events), 0))");
    return q.step() ? q.get_int(0) : 0;
  }

  std::vector<std::pair<std::int64_t, std::int64_t>> pending() override {
    auto q = db_.prepare("SELECT next_attempt_at, id FROM deliveries WHERE state = 'pending'");
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    while (q.step()) out.emplace_back(q.get_int(0), q.get_int(1));
    return out;
  }

  std::int64_t add_webhook(std::int64_t event_id, std::string_view client_id,
                           std::int64_t account_id, std::string_view field, std::string_view url,
                           bool held, std::int64_t due, std::int64_t now,
                           std::string_view value_json) override {
    db_.cached(
           "INSERT INTO deliveries (event_id, client_id, kind, account_id, field, url, state, "
           "next_attempt_at, window_start, value, created_at) "
           "VALUES (?, ?, 'webhook', ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind_all(event_id, client_id, account_id, field, url, held ? "disabled" : "pending", due,
                  now, value_json, now)
        .run();
    return db_.last_insert_rowid();
  }

  std::int64_t add_callback(std::int64_t account_id, std::string_view client_id,
                            std::string_view kind, std::string_view url,
                            std::int64_t now) override {
    db_.cached(
           "INSERT INTO deliveries (event_id, client_id, kind, account_id, field, url, state, "
           "next_attempt_at, window_start) VALUES (NULL, ?, ?, ?, ?, ?, 'pending', ?, ?)")
        .bind_all(client_id, kind, account_id, kind, url, now, now)
        .run();
    return db_.last_insert_rowid();
  }

  std::vector<std::int64_t> release_held(std::string_view client_id, std::int64_t now,
                                         std::optional<std::string_view> new_url) override {
    auto& held = db_.cached(
        "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?1, "
        "window_start = ?1, url = coalesce(?3, url) "
        "WHERE client_id = ?2 AND kind = 'webhook' AND state = 'disabled' RETURNING id");
    held.bind_all(now, client_id, new_url);
    std::vector<std::int64_t> ids;
    while (held.step()) ids.push_back(held.get_int(0));
    held.reset();
    return ids;
  }

  std::optional<queued_delivery> due(std::int64_t id, std::int64_t at) override {
    auto& q = db_.cached(
        "SELECT client_id, kind, account_id, field, url, event_id, value, created_at, attempts, "
        "window_start FROM deliveries WHERE id = ? AND state = 'pending' AND next_attempt_at = ?");
    q.bind_all(id, at);
    if (!q.step()) {
      q.reset();
      return std::nullopt;
    }
    queued_delivery o;
    o.id = id;
    o.due_at = at;
    o.client_id = q.get_text(0);
    o.kind = q.get_text(1);
    o.account_id = q.get_int(2);
    o.field = q.get_text(3);
    o.url = q.get_text(4);
    o.event_id = q.get_int(5);
    o.value = q.get_text(6);
    o.created_at = q.get_int(7);
    o.attempts = q.get_int(8);
    o.window_start = from_unix_millis(q.get_int(9));
    q.reset();
    return o;
  }

  void hold_webhooks(std::string_view client_id) override {
    db_.cached(
           "UPDATE deliveries SET state = 'disabled' WHERE client_id = ? AND kind = 'webhook' "
           "AND state = 'pending'")
        .bind(1, client_id)
        .run();
  }

  void settle(std::int64_t id, std::string_view state, std::int64_t attempts, std::int64_t next,
              int last_status, std::string_view last_response, std::int64_t at) override {
    db_.cached(
           "UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at = ?, "
           "last_status = ?, last_response = ?, delivered_at = CASE WHEN ? = 'delivered' "
           "THEN ? ELSE delivered_at END WHERE id = ?")
        .bind_all(state, attempts, next, last_status, last_response, state, at, id)
        .run();
  }

  std::vector<delivery> list(std::optional<delivery_state> state, std::optional<std::int64_t> id,
                             std::size_t limit) override {
    auto q = db_.prepare(
        "SELECT id, coalesce(event_id, 0), client_id, kind, field, account_id, url, state, "
        "attempts, next_attempt_at, last_status, last_response FROM deliveries "
        "WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR id = ?2) ORDER BY id DESC LIMIT ?3");
    q.bind(1, state ? std::optional<std::string_view>(to_string(*state)) : std::nullopt);
    q.bind(2, id);
    q.bind(3, static_cast<std::int64_t>(limit));
    std::vector<delivery> out;
    while (q.step()) {
      out.push_back({q.get_int(0), q.get_int(1), q.get_text(2), q.get_text(3), q.get_text(4),
                     q.get_int(5), q.get_text(6),
                     parse_delivery_state(q.get_text(7)).value_or(delivery_state::pending),
                     q.get_int(8), from_unix_millis(q.get_int(9)), static_cast<int>(q.get_int(10)),
                     q.get_text(11)});
    }
    return out;
  }

  std::optional<summary> find(std::int64_t id) override {
    auto& q = db_.cached("SELECT state, client_id, kind FROM deliveries WHERE id = ?");
    q.bind(1, id);
    if (!q.step()) return std::nullopt;
    return summary{q.get_text(0), q.get_text(1), q.get_text(2)};
  }

  void replay(std::int64_t id, std::int64_t now) override {
    db_.cached(
           "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?, "
           "window_start = ? WHERE id = ?")
        .bind_all(now, now, id)
        .run();
  }

 private:
  store::database& db_;
};

class sqlite_work final : public store::unit_of_work {
 public:
  explicit sqlite_work(store::database& db) : tx_(db) {}
  void commit() override { tx_.commit(); }

 private:
  store::transaction tx_;
};

class sqlite_store final : public repositories {
 public:
  explicit sqlite_store(store::database& db)
      : db_(db), accounts_(db), clients_(db), sessions_(db), grants_(db), outbox_(db) {
    store::migrate(db_, schema::migrations());
  }
  store::work_scope begin() override { return std::make_unique<sqlite_work>(db_); }
  account_repository& accounts() override { return accounts_; }
  client_repository& clients() override { return clients_; }
  session_repository& sessions() override { return sessions_; }
  grant_repository& grants() override { return grants_; }
  outbox_repository& outbox() override { return outbox_; }

 private:
  store::database& db_;
  sqlite_accounts accounts_;
  sqlite_clients clients_;
  sqlite_sessions sessions_;
  sqlite_grants grants_;
  sqlite_outbox outbox_;
};

}  // namespace

std::unique_ptr<repositories> sqlite_repositories(store::database& db) {
  return std::make_unique<sqlite_store>(db);
}

}  // namespace linksim::idp
