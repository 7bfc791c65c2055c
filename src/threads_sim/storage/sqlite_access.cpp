// The dependent service's session, token and sign-in repositories over SQLite.
#include "sqlite_parts.hpp"

#include "linksim/store/sqlite.hpp"

namespace linksim::threads_sim {
namespace {

std::span<const std::uint8_t> bytes(const digest& d) {
  return d;
}

class sqlite_sessions final : public session_repository {
 public:
  explicit sqlite_sessions(store::database& db) : db_(db) {}

  void add(const digest& token_hash, std::int64_t profile_id, time_point expires) override {
    db_.cached("INSERT INTO sessions (token_hash, profile_id, expires_at) VALUES (?, ?, ?)")
        .bind_all(bytes(token_hash), profile_id, unix_millis(expires))
        .run();
  }

  std::optional<std::int64_t> find(const digest& token_hash, time_point now) override {
    auto& q = db_.cached("SELECT profile_id FROM sessions WHERE token_hash = ? AND expires_at > ?");
    q.bind_all(bytes(token_hash), unix_millis(now));
    if (!q.step()) return std::nullopt;
    const auto id = q.get_int(0);
    q.reset();
    return id;
  }

  void remove(const digest& token_hash) override {
    db_.cached("DELETE FROM sessions WHERE token_hash = ?").bind(1, bytes(token_hash)).run();
  }

  void remove_of(std::int64_t profile_id) override {
    db_.cached("DELETE FROM sessions WHERE profile_id = ?").bind(1, profile_id).run();
  }

 private:
  store::database& db_;
};

class sqlite_links final : public link_repository {
 public:
  explicit sqlite_links(store::database& db) : db_(db) {}

  void store(std::int64_t profile_id, const link_tokens& t) override {
    db_.cached(
           "INSERT INTO links (profile_id, access_token, refresh_token, access_expires_at) "
           "VALUES (?, ?, ?, ?) ON CONFLICT (profile_id) DO UPDATE SET "
           "access_token = excluded.access_token, refresh_token = excluded.refresh_token, "
           "access_expires_at = excluded.access_expires_at")
        .bind_all(profile_id, t.access, t.refresh, unix_millis(t.access_expires_at))
        .run();
  }

  std::optional<linked> of_profile(std::int64_t profile_id) override {
    auto& q = db_.cached(
        "SELECT l.access_token, l.refresh_token, l.access_expires_at, p.ig_user_id "
        "FROM profiles p LEFT JOIN links l ON l.profile_id = p.id WHERE p.id = ?");
    q.bind(1, profile_id);
    if (!q.step()) return std::nullopt;
    linked out;
    if (!q.is_null(0))
      out.tokens = link_tokens{q.get_text(0), q.get_text(1), from_unix_millis(q.get_int(2))};
    out.ig_user_id = q.get_int(3);
    q.reset();
    return out;
  }

  void remove(std::int64_t profile_id) override {
    db_.cached("DELETE FROM links WHERE profile_id = ?").bind(1, profile_id).run();
  }

 private:
  store::database& db_;
};

class sqlite_sign_ins final : public sign_in_repository {
 public:
  explicit sqlite_sign_ins(store::database& db) : db_(db) {}

  void add_login_state(std::string_view state, const digest& browser_hash,
                       std::string_view verifier, std::string_view intent, time_point now,
                       time_point expires) override {
    db_.cached("DELETE FROM login_states WHERE expires_at <= ?").bind(1, unix_millis(now)).run();
    db_.cached(
           "INSERT INTO login_states (state, browser_hash, verifier, intent, expires_at) "
           "VALUES (?, ?, ?, ?, ?)")
        .bind_all(state, bytes(browser_hash), verifier, intent, unix_millis(expires))
        .run();
  }

  std::optional<login_state> take_login_state(std::string_view state, time_point now) override {
    auto& q = db_.cached(
        "DELETE FROM login_states WHERE state = ? AND expires_at > ? "
        "RETURNING browser_hash, verifier, intent");
    q.bind_all(state, unix_millis(now));
    if (!q.step()) return std::nullopt;
    login_state out{q.get_blob(0), q.get_text(1), q.get_text(2)};
    q.step();  // a RETURNING statement deletes as it is run to its end
    return out;
  }

  void add_link_request(std::string_view id, const digest& browser_hash, std::string_view intent,
                        std::string_view ig_json, const link_tokens& t, time_point now,
                        time_point expires) override {
    db_.cached("DELETE FROM link_requests WHERE expires_at <= ?").bind(1, unix_millis(now)).run();
    db_.cached(
           "INSERT INTO link_requests (id, browser_hash, intent, ig_json, access_token, "
           "refresh_token, access_expires_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .bind_all(id, bytes(browser_hash), intent, ig_json, t.access, t.refresh,
                  unix_millis(t.access_expires_at), unix_millis(expires))
        .run();
  }

  std::optional<link_request> find_link_request(std::string_view id, time_point now) override {
    auto& q = db_.cached(
        "SELECT browser_hash, intent, ig_json FROM link_requests WHERE id = ? AND expires_at > ?");
    q.bind_all(id, unix_millis(now));
    if (!q.step()) return std::nullopt;
    link_request out{q.get_blob(0), q.get_text(1), q.get_text(2)};
    q.reset();
    return out;
  }

  link_tokens link_request_tokens(std::string_view id) override {
    auto& q = db_.cached(
        "SELECT access_token, refresh_token, access_expires_at FROM link_requests WHERE id = ?");
    q.bind(1, id);
    q.step();
    link_tokens t{q.get_text(0), q.get_text(1), from_unix_millis(q.get_int(2))};
    q.reset();
    return t;
  }

  void remove_link_request(std::string_view id) override {
    db_.cached("DELETE FROM link_requests WHERE id = ?").bind(1, id).run();
  }

 private:
  store::database& db_;
};

}  // namespace

std::unique_ptr<session_repository> make_sqlite_sessions(store::database& db) {
  return std::make_unique<sqlite_sessions>(db);
}

std::unique_ptr<link_repository> make_sqlite_links(store::database& db) {
  return std::make_unique<sqlite_links>(db);
}

std::unique_ptr<sign_in_repository> make_sqlite_sign_ins(store::database& db) {
  return std::make_unique<sqlite_sign_ins>(db);
}

}  // namespace linksim::threads_sim
