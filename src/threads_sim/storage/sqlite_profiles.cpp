// The dependent service's profile repository over SQLite.
#include "sqlite_parts.hpp"

#include "linksim/store/sqlite.hpp"

namespace linksim::threads_sim {
namespace {

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

}  // namespace

std::unique_ptr<profile_repository> make_sqlite_profiles(store::database& db) {
  return std::make_unique<sqlite_profiles>(db);
}

}  // namespace linksim::threads_sim
