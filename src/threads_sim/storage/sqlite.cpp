// The dependent service's SQLite repositories: every statement it runs, over the schema in
// schema.cpp.
#include "schema.hpp"

#include "linksim/store/sqlite.hpp"
#include "linksim/threads_sim/repositories.hpp"

namespace linksim::threads_sim {
namespace {

std::span<const std::uint8_t> bytes(const digest& d) {
  return d;
}

// A profile's row, and what its page shows: followers, follows and posts, counted.
constexpr std::string_view profile_columns =
    "id, ig_user_id, username, display_name, bio, picture_url, picture_sha256, ig_status, "
    "ig_deleted, needs_login, username_version, picture_version, status_version, bio_version, "
    "created_at, last_synced_at";
constexpr std::string_view profile_counts =
    ", (SELECT count(*) FROM follows WHERE followee = p.id), "
    "(SELECT count(*) FROM follows WHERE follower = p.id), "
    "(SELECT count(*) FROM posts WHERE profile_id = p.id)";

profile read_profile(const store::statement& q, bool with_counts) {
  profile p;
  p.id = q.get_int(0);
  p.ig_user_id = q.get_int(1);
  p.username = q.get_opt_text(2).value_or("");
  p.display_name = q.get_text(3);
  p.bio = q.get_text(4);
  p.picture_url = q.get_text(5);
  p.picture_sha256 = q.get_text(6);
  p.ig_status = q.get_text(7);
  p.ig_deleted = q.get_int(8) != 0;
  p.needs_login = q.get_int(9) != 0;
  p.username_version = q.get_int(10);
  p.picture_version = q.get_int(11);
  p.status_version = q.get_int(12);
  p.bio_version = q.get_int(13);
  p.created_at = from_unix_millis(q.get_int(14));
  p.last_synced_at = from_unix_millis(q.get_int(15));
  if (with_counts) {
    p.followers = q.get_int(16);
    p.following = q.get_int(17);
    p.posts = q.get_int(18);
  }
  return p;
}

class sqlite_profiles final : public profile_repository {
 public:
  explicit sqlite_profiles(store::database& db) : db_(db) {}

  std::optional<profile> find(std::int64_t id, bool with_counts) override {
    static const std::string with = "SELECT " + std::string(profile_columns) +
                                    std::string(profile_counts) + " FROM profiles p WHERE id = ?";
    static const std::string without =
        "SELECT " + std::string(profile_columns) + " FROM profiles p WHERE id = ?";
    auto& q = db_.cached(with_counts ? with : without);
    q.bind(1, id);
    if (!q.step()) return std::nullopt;
    profile p = read_profile(q, with_counts);
    q.reset();
    return p;
  }

  std::vector<profile> of_account(std::int64_t ig_user_id, bool with_counts) override {
    // One query for all of them; the counts only where they are shown.
    static const std::string with = "SELECT " + std::string(profile_columns) +
                                    std::string(profile_counts) +
                                    " FROM profiles p WHERE ig_user_id = ? ORDER BY id";
    static const std::string without = "SELECT " + std::string(profile_columns) +
                                       " FROM profiles p WHERE ig_user_id = ? ORDER BY id";
    auto& q = db_.cached(with_counts ? with : without);
    q.bind(1, ig_user_id);
    std::vector<profile> out;
    while (q.step()) out.push_back(read_profile(q, with_counts));
    return out;
  }

  std::vector<mirror_versions> versions(std::int64_t ig_user_id) override {
    auto& q = db_.cached(
        "SELECT id, ig_user_id, username_version, picture_version, status_version, bio_version "
        "FROM profiles WHERE ig_user_id = ? ORDER BY id");
    q.bind(1, ig_user_id);
    std::vector<mirror_versions> out;
    while (q.step())
      out.push_back(
          {q.get_int(0), q.get_int(1), q.get_int(2), q.get_int(3), q.get_int(4), q.get_int(5)});
    return out;
  }

  std::optional<std::int64_t> by_username(std::string_view username) override {
    auto& q = db_.cached("SELECT id FROM profiles WHERE username = ?");
    q.bind(1, username);
    if (!q.step()) return std::nullopt;
    const auto id = q.get_int(0);
    q.reset();
    return id;
  }

  bool has_open_profile(std::int64_t ig_user_id) override {
    auto& c = db_.cached("SELECT 1 FROM profiles WHERE ig_user_id = ? AND ig_deleted = 0 LIMIT 1");
    c.bind(1, ig_user_id);
    const bool found = c.step();
    c.reset();
    return found;
  }

  std::int64_t add(const idp_profile& ig, time_point now, time_point next_sync) override {
    db_.cached(
           "INSERT INTO profiles (ig_user_id, display_name, bio, picture_url, picture_sha256, "
           "ig_status, username_version, picture_version, status_version, bio_version, "
           "created_at, last_synced_at, next_sync_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
           "?)")
        .bind_all(ig.id, ig.name, ig.biography, ig.picture_url, ig.picture_sha256, ig.status,
                  ig.version, ig.version, ig.version, ig.version, unix_millis(now),
                  unix_millis(now), unix_millis(next_sync))
        .run();
    return db_.last_insert_rowid();
  }

  void set_username(std::int64_t id, std::string_view username) override {
    db_.cached("UPDATE profiles SET username = ? WHERE id = ?").bind_all(username, id).run();
  }

  void set_own_picture(std::int64_t id, std::string_view url) override {
    db_.cached("UPDATE profiles SET picture_url = ?, picture_sha256 = '' WHERE id = ?")
        .bind_all(url, id)
        .run();
  }

  void set_display_name(std::int64_t id, std::string_view name) override {
    db_.cached("UPDATE profiles SET display_name = ? WHERE id = ?").bind_all(name, id).run();
  }

  void set_bio(std::int64_t id, std::string_view bio) override {
    db_.cached("UPDATE profiles SET bio = ? WHERE id = ?").bind_all(bio, id).run();
  }

  void take_username(std::int64_t id, std::int64_t ig_user_id, std::string_view username,
                     std::int64_t version, time_point now, time_point later) override {
    db_.cached(
           "UPDATE profiles SET username = NULL, next_sync_at = CASE WHEN ig_user_id = ? "
           "THEN ? ELSE ? END WHERE username = ? AND id != ?")
        .bind_all(ig_user_id, unix_millis(later), unix_millis(now), username, id)
        .run();
    db_.cached("UPDATE profiles SET username = ?, username_version = ? WHERE id = ?")
        .bind_all(username, version, id)
        .run();
  }

  void write_field(std::string_view webhook_field, std::int64_t id,
                   const std::array<std::string, 2>& values, std::int64_t version) override {
    if (webhook_field == "profile_picture") {
      db_.cached(
             "UPDATE profiles SET picture_url = ?, picture_sha256 = ?, picture_version = ? "
             "WHERE id = ?")
          .bind_all(values[0], values[1], version, id)
          .run();
    } else if (webhook_field == "name") {
      db_.cached("UPDATE profiles SET display_name = ?, bio_version = ? WHERE id = ?")
          .bind_all(values[0], version, id)
          .run();
    } else if (webhook_field == "biography") {
      db_.cached("UPDATE profiles SET bio = ?, bio_version = ? WHERE id = ?")
          .bind_all(values[0], version, id)
          .run();
    } else if (webhook_field == "account_status") {
      db_.cached("UPDATE profiles SET ig_status = ?, status_version = ? WHERE id = ?")
          .bind_all(values[0], version, id)
          .run();
    } else {
      throw std::logic_error("no column for the mirrored field " + std::string(webhook_field));
    }
  }

  void save_snapshot(const profile& p, time_point synced, time_point next_sync) override {
    db_.cached(
           "UPDATE profiles SET username_version = ?, picture_url = ?, picture_sha256 = ?, "
           "picture_version = ?, display_name = ?, bio = ?, bio_version = ?, ig_status = ?, "
           "status_version = ?, last_synced_at = ?, next_sync_at = ? WHERE id = ?")
        .bind_all(p.username_version, p.picture_url, p.picture_sha256, p.picture_version,
                  p.display_name, p.bio, p.bio_version, p.ig_status, p.status_version,
                  unix_millis(synced), unix_millis(next_sync), p.id)
        .run();
  }

  void close(std::int64_t id) override {
    db_.cached("UPDATE profiles SET ig_deleted = 1 WHERE id = ?").bind(1, id).run();
  }

  void set_needs_login(std::int64_t id, bool needs) override {
    if (needs)
      db_.cached("UPDATE profiles SET needs_login = 1 WHERE id = ?").bind(1, id).run();
    else
      db_.cached("UPDATE profiles SET needs_login = 0 WHERE id = ?").bind(1, id).run();
  }

  void set_next_sync(std::int64_t id, time_point at) override {
    db_.cached("UPDATE profiles SET next_sync_at = ? WHERE id = ?")
        .bind_all(unix_millis(at), id)
        .run();
  }

  void require_login(std::int64_t id, time_point next_sync) override {
    db_.cached("UPDATE profiles SET needs_login = 1, next_sync_at = ? WHERE id = ?")
        .bind_all(unix_millis(next_sync), id)
        .run();
  }

  std::vector<std::int64_t> due_for_sync(time_point now, std::size_t limit) override {
    auto& q = db_.cached(
        "SELECT id FROM profiles WHERE next_sync_at <= ? AND ig_deleted = 0 AND needs_login = 0 "
        "ORDER BY next_sync_at, id LIMIT ?");
    q.bind_all(unix_millis(now), static_cast<std::int64_t>(limit));
    std::vector<std::int64_t> due;
    while (q.step()) due.push_back(q.get_int(0));
    return due;
  }

  std::optional<time_point> next_sync_due() override {
    auto& q = db_.cached(
        "SELECT min(next_sync_at) FROM profiles WHERE ig_deleted = 0 AND needs_login = 0");
    q.step();
    auto v = q.get_opt_int(0);
    q.reset();
    if (!v) return std::nullopt;
    return from_unix_millis(*v);
  }

  bool add_opt_out(std::int64_t id, time_point at) override {
    db_.cached("INSERT OR IGNORE INTO ad_opt_outs (profile_id, source, at) VALUES (?, 'gpc', ?)")
        .bind_all(id, unix_millis(at))
        .run();
    return db_.changes() != 0;
  }

  bool opted_out(std::int64_t id) override {
    auto& q = db_.cached("SELECT 1 FROM ad_opt_outs WHERE profile_id = ?");
    q.bind(1, id);
    const bool out = q.step();
    q.reset();
    return out;
  }

  void remove(std::int64_t id, bool with_content) override {
    db_.cached("DELETE FROM sessions WHERE profile_id = ?").bind(1, id).run();
    db_.cached("DELETE FROM links WHERE profile_id = ?").bind(1, id).run();
    if (with_content) {
      db_.cached("DELETE FROM likes WHERE post_id IN (SELECT id FROM posts WHERE profile_id = ?)")
          .bind(1, id)
          .run();
      db_.cached("DELETE FROM likes WHERE profile_id = ?").bind(1, id).run();
      db_.cached("DELETE FROM posts WHERE profile_id = ?").bind(1, id).run();
      db_.cached("DELETE FROM follows WHERE follower = ? OR followee = ?").bind_all(id, id).run();
    }
    db_.cached("DELETE FROM profiles WHERE id = ?").bind(1, id).run();
    db_.cached("DELETE FROM ads_notices WHERE profile_id = ? AND kind != 'deletion'")
        .bind(1, id)
        .run();
  }

 private:
  store::database& db_;
};

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

// A post is readable while its author's profile exists and is visible; under a profile that
// keeps content after deletion, posts of deleted profiles stay readable too.
constexpr std::string_view post_select =
    "SELECT po.id, po.profile_id, coalesce(pr.username, ''), po.text, po.created_at, "
    "(SELECT count(*) FROM likes WHERE post_id = po.id), pr.id IS NULL, "
    "coalesce(pr.ig_deleted, 0), coalesce(pr.ig_status, 'active') "
    "FROM posts po LEFT JOIN profiles pr ON pr.id = po.profile_id ";

content_repository::post_row read_post(store::statement& q) {
  content_repository::post_row r;
  r.p.id = q.get_int(0);
  r.p.profile_id = q.get_int(1);
  r.p.author = q.get_text(2);
  r.p.text = q.get_text(3);
  r.p.created_at = from_unix_millis(q.get_int(4));
  r.p.likes = q.get_int(5);
  r.orphan = q.get_int(6) != 0;
  r.author_deleted = q.get_int(7) != 0;
  r.author_status = q.get_text(8);
  return r;
}

class sqlite_content final : public content_repository {
 public:
  explicit sqlite_content(store::database& db) : db_(db) {}

  std::int64_t add_post(std::int64_t profile_id, std::string_view text, time_point at) override {
    db_.cached("INSERT INTO posts (profile_id, text, created_at) VALUES (?, ?, ?)")
        .bind_all(profile_id, text, unix_millis(at))
        .run();
    return db_.last_insert_rowid();
  }

  std::optional<post_row> find_post(std::int64_t id) override {
    static const std::string sql = std::string(post_select) + "WHERE po.id = ?";
    auto& q = db_.cached(sql);
    q.bind(1, id);
    if (!q.step()) return std::nullopt;
    auto r = read_post(q);
    q.reset();
    return r;
  }

  std::vector<post> posts_of(std::int64_t profile_id, std::size_t limit) override {
    static const std::string sql =
        std::string(post_select) + "WHERE po.profile_id = ? ORDER BY po.id DESC LIMIT ?";
    auto& q = db_.cached(sql);
    q.bind_all(profile_id, static_cast<std::int64_t>(limit));
    std::vector<post> out;
    while (q.step()) out.push_back(read_post(q).p);
    return out;
  }

  bool add_like(std::int64_t profile_id, std::int64_t post_id, time_point at) override {
    db_.cached("INSERT OR IGNORE INTO likes (profile_id, post_id, created_at) VALUES (?, ?, ?)")
        .bind_all(profile_id, post_id, unix_millis(at))
        .run();
    return db_.changes() != 0;
  }

  void add_follow(std::int64_t follower, std::int64_t followee, time_point at) override {
    db_.cached("INSERT OR IGNORE INTO follows (follower, followee, created_at) VALUES (?, ?, ?)")
        .bind_all(follower, followee, unix_millis(at))
        .run();
  }

  void remove_follow(std::int64_t follower, std::int64_t followee) override {
    db_.cached("DELETE FROM follows WHERE follower = ? AND followee = ?")
        .bind_all(follower, followee)
        .run();
  }

  bool follows(std::int64_t follower, std::int64_t followee) override {
    auto& q = db_.cached("SELECT 1 FROM follows WHERE follower = ? AND followee = ?");
    q.bind_all(follower, followee);
    const bool found = q.step();
    q.reset();
    return found;
  }

  std::vector<std::string> follower_names(std::int64_t profile_id) override {
    auto& q = db_.cached(
        "SELECT coalesce(p.username, '') FROM follows f JOIN profiles p ON p.id = f.follower "
        "WHERE f.followee = ? ORDER BY f.created_at, p.id");
    q.bind(1, profile_id);
    std::vector<std::string> out;
    while (q.step()) out.push_back(q.get_text(0));
    return out;
  }

  std::vector<std::int64_t> followees(std::int64_t profile_id) override {
    auto& q = db_.cached("SELECT followee FROM follows WHERE follower = ? ORDER BY followee");
    q.bind(1, profile_id);
    std::vector<std::int64_t> out;
    while (q.step()) out.push_back(q.get_int(0));
    q.reset();
    return out;
  }

  std::int64_t import_follower(std::int64_t profile_id, std::int64_t follower_ig_user_id,
                               time_point at) override {
    db_.cached(
           "INSERT OR IGNORE INTO follows (follower, followee, created_at) "
           "SELECT id, ?, ? FROM profiles WHERE ig_user_id = ? AND ig_deleted = 0 AND id != ?")
        .bind_all(profile_id, unix_millis(at), follower_ig_user_id, profile_id)
        .run();
    return db_.changes();
  }

 private:
  store::database& db_;
};

class sqlite_notices final : public notice_repository {
 public:
  explicit sqlite_notices(store::database& db) : db_(db) {}

  std::int64_t add(std::string_view kind, std::int64_t profile_id, std::int64_t subject,
                   std::string_view body, time_point at) override {
    const auto now = unix_millis(at);
    db_.cached(
           "INSERT INTO ads_notices (kind, profile_id, subject, body, next_attempt_at, "
           "created_at) VALUES (?, ?, ?, ?, ?, ?)")
        .bind_all(kind, profile_id, subject, body, now, now)
        .run();
    return db_.last_insert_rowid();
  }

  std::vector<std::pair<std::int64_t, std::int64_t>> pending() override {
    auto q = db_.prepare("SELECT next_attempt_at, id FROM ads_notices WHERE state = 'pending'");
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    while (q.step()) out.emplace_back(q.get_int(0), q.get_int(1));
    return out;
  }

  std::optional<pending_notice> find_pending(std::int64_t id) override {
    auto& q = db_.cached(
        "SELECT kind, profile_id, subject, body, attempts, next_attempt_at FROM ads_notices "
        "WHERE id = ? AND state = 'pending'");
    q.bind(1, id);
    if (!q.step()) return std::nullopt;
    pending_notice n{q.get_text(0), q.get_int(1), q.get_int(2),
                     q.get_text(3), q.get_int(4), q.get_int(5)};
    q.reset();
    return n;
  }

  void remove(std::int64_t id) override {
    db_.cached("DELETE FROM ads_notices WHERE id = ?").bind(1, id).run();
  }

  void settle(std::int64_t id, bool dead, std::int64_t attempts, std::int64_t next, int last_status,
              std::string_view last_response) override {
    db_.cached(
           "UPDATE ads_notices SET state = ?, attempts = ?, next_attempt_at = ?, "
           "last_status = ?, last_response = ? WHERE id = ?")
        .bind_all(dead ? "dead" : "pending", attempts, next, last_status, last_response, id)
        .run();
  }

  std::vector<ads_notice> list(std::optional<std::string_view> state) override {
    auto q = db_.prepare(
        "SELECT id, kind, profile_id, subject, state, attempts, next_attempt_at, last_status, "
        "last_response FROM ads_notices WHERE ?1 IS NULL OR state = ?1 ORDER BY id LIMIT 1000");
    q.bind(1, state);
    std::vector<ads_notice> out;
    while (q.step())
      out.push_back({q.get_int(0), q.get_text(1), q.get_int(2), q.get_int(3), q.get_text(4),
                     q.get_int(5), from_unix_millis(q.get_int(6)), static_cast<int>(q.get_int(7)),
                     q.get_text(8)});
    return out;
  }

  bool revive(std::int64_t id, time_point now) override {
    db_.cached(
           "UPDATE ads_notices SET state = 'pending', attempts = 0, next_attempt_at = ? "
           "WHERE id = ? AND state = 'dead'")
        .bind_all(unix_millis(now), id)
        .run();
    return db_.changes() != 0;
  }

  bool exists(std::int64_t id) override {
    auto& q = db_.cached("SELECT 1 FROM ads_notices WHERE id = ?");
    q.bind(1, id);
    const bool found = q.step();
    q.reset();
    return found;
  }

 private:
  store::database& db_;
};

class sqlite_receipts final : public receipt_repository {
 public:
  explicit sqlite_receipts(store::database& db) : db_(db) {}

  bool first_receipt(std::string_view change_key, time_point at) override {
    db_.cached("INSERT OR IGNORE INTO applied_changes (change_key, received_at) VALUES (?, ?)")
        .bind_all(change_key, unix_millis(at))
        .run();
    return db_.changes() != 0;
  }

  void add_deletion_request(std::string_view code, std::int64_t profiles_deleted,
                            time_point at) override {
    db_.cached(
           "INSERT INTO deletion_requests (code, profiles_deleted, created_at) VALUES (?, ?, ?)")
        .bind_all(code, profiles_deleted, unix_millis(at))
        .run();
  }

  std::optional<std::int64_t> deletion_request(std::string_view code) override {
    auto& q = db_.cached("SELECT profiles_deleted FROM deletion_requests WHERE code = ?");
    q.bind(1, code);
    if (!q.step()) return std::nullopt;
    const auto n = q.get_int(0);
    q.reset();
    return n;
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
      : db_(db),
        profiles_(db),
        sessions_(db),
        links_(db),
        sign_ins_(db),
        content_(db),
        notices_(db),
        receipts_(db) {
    store::migrate(db_, schema::migrations());
  }

  store::work_scope begin() override { return std::make_unique<sqlite_work>(db_); }

  void enforce_one_profile_per_account(bool on, std::string_view behaviour_name) override {
    if (!on) {
      db_.exec("DROP INDEX IF EXISTS profiles_one_per_account");
      return;
    }
    try {
      db_.exec(
          "CREATE UNIQUE INDEX IF NOT EXISTS profiles_one_per_account ON profiles(ig_user_id)");
    } catch (const store::error& e) {
      if (!e.is_constraint()) throw;
      throw store::error(e.code(), db_.path().string() +
                                       " holds two profiles for one Instagram account (written "
                                       "under fault.two_profiles); profile " +
                                       std::string(behaviour_name) + " cannot run on it");
    }
  }

  profile_repository& profiles() override { return profiles_; }
  session_repository& sessions() override { return sessions_; }
  link_repository& links() override { return links_; }
  sign_in_repository& sign_ins() override { return sign_ins_; }
  content_repository& content() override { return content_; }
  notice_repository& notices() override { return notices_; }
  receipt_repository& receipts() override { return receipts_; }

 private:
  store::database& db_;
  sqlite_profiles profiles_;
  sqlite_sessions sessions_;
  sqlite_links links_;
  sqlite_sign_ins sign_ins_;
  sqlite_content content_;
  sqlite_notices notices_;
  sqlite_receipts receipts_;
};

}  // namespace

std::unique_ptr<repositories> sqlite_repositories(store::database& db) {
  return std::make_unique<sqlite_store>(db);
}

}  // namespace linksim::threads_sim
