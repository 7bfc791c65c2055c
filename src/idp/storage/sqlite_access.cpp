// The provider's client, login-session and grant repositories over SQLite.
#include "sqlite_parts.hpp"

#include "linksim/common/json.hpp"
#include "linksim/common/text.hpp"
#include "linksim/store/sqlite.hpp"

#include <boost/json/array.hpp>

namespace linksim::idp {
namespace {

std::span<const std::uint8_t> bytes(const digest& d) {
  return d;
}

class sqlite_clients final : public client_repository {
 public:
  explicit sqlite_clients(store::database& db) : db_(db) {}

  void add(const client& c) override {
    db_.prepare(
           "INSERT INTO clients (id, secret, name, system, redirect_uris, webhook_secret, "
           "deauthorize_url, data_deletion_url, auth_method, allowed_origins, id_token_alg) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind_all(c.id, c.secret, c.name, c.system, list(c.redirect_uris), c.webhook_secret,
                  c.deauthorize_url, c.data_deletion_url, c.token_endpoint_auth_method,
                  list(c.allowed_origins), c.id_token_signed_response_alg)
        .run();
  }

  std::optional<client> find(std::string_view id) override {
    auto& q = db_.cached(
        "SELECT id, secret, name, system, redirect_uris, webhook_secret, deauthorize_url, "
        "data_deletion_url, auth_method, allowed_origins, id_token_alg FROM clients WHERE id = ?");
    q.bind(1, id);
    if (!q.step()) return std::nullopt;
    client c{q.get_text(0), q.get_text(1), q.get_text(2), q.get_text(3), {},
             q.get_text(5), q.get_text(6), q.get_text(7), q.get_text(8), {}};
    c.redirect_uris = unlist(q.get_text(4));
    c.allowed_origins = unlist(q.get_text(9));
    c.id_token_signed_response_alg = q.get_text(10);
    q.reset();
    return c;
  }

  bool origin_registered(std::string_view origin) override {
    auto& q = db_.cached(
        "SELECT 1 FROM clients, json_each(clients.allowed_origins) WHERE json_each.value = ? "
        "LIMIT 1");
    q.bind(1, origin);
    const bool found = q.step();
    q.reset();
    return found;
  }

  bool id_token_alg_registered(std::string_view alg) override {
    auto& q = db_.cached("SELECT 1 FROM clients WHERE id_token_alg = ? LIMIT 1");
    q.bind(1, alg);
    const bool found = q.step();
    q.reset();
    return found;
  }

  // A list of strings as a JSON array in one column.
  static std::string list(const std::vector<std::string>& v) {
    boost::json::array a;
    for (const auto& s : v) a.emplace_back(s);
    return json::serialize(a);
  }
  static std::vector<std::string> unlist(const std::string& text) {
    std::vector<std::string> out;
    auto o = json::parse_object(R"({"u":)" + text + "}");
    if (o && o->at("u").is_array())
      for (const auto& u : o->at("u").as_array())
        if (u.is_string()) out.emplace_back(u.as_string());
    return out;
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
           "INSERT INTO session_accounts (session, account_id, added_at, logged_in_at, place) "
           "VALUES (?1, ?2, ?3, ?3, (SELECT coalesce(max(place), 0) + 1 FROM session_accounts "
           "WHERE session = ?1)) ON CONFLICT (session, account_id) DO UPDATE SET logged_in_at = "
           "excluded.logged_in_at")
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
        "ORDER BY sa.added_at, sa.place, sa.account_id");
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

  std::optional<std::int64_t> logged_in_at(const digest& hash, std::int64_t account_id) override {
    auto& q = db_.cached(
        "SELECT logged_in_at FROM session_accounts WHERE session = ? AND account_id = ?");
    q.bind_all(bytes(hash), account_id);
    std::optional<std::int64_t> out;
    if (q.step()) out = q.get_int(0);
    q.reset();
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

  std::vector<std::pair<std::string, std::string>> apps_of(std::int64_t account_id) override {
    auto q = db_.prepare(
        "SELECT client_id, scope FROM grants WHERE account_id = ? AND revoked_at IS NULL "
        "ORDER BY client_id, id");
    q.bind_all(account_id);
    std::vector<std::pair<std::string, std::string>> out;
    while (q.step()) out.emplace_back(q.get_text(0), q.get_text(1));
    return out;
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

}  // namespace

std::unique_ptr<client_repository> make_sqlite_clients(store::database& db) {
  return std::make_unique<sqlite_clients>(db);
}

std::unique_ptr<session_repository> make_sqlite_sessions(store::database& db) {
  return std::make_unique<sqlite_sessions>(db);
}

std::unique_ptr<grant_repository> make_sqlite_grants(store::database& db) {
  return std::make_unique<sqlite_grants>(db);
}

}  // namespace linksim::idp
