// The dependent service's content, ad-notice and receipt repositories over SQLite.
#include "sqlite_parts.hpp"

#include "linksim/store/sqlite.hpp"

namespace linksim::threads_sim {
namespace {

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

  void forget_account(std::int64_t ig_user_id) override {
    // Keys are "<account>/<field>/<version>": the account's keys sort between "<id>/" and
    // "<id>0" ('0' follows '/'), a range the primary key finds.
    const std::string id = std::to_string(ig_user_id);
    db_.cached("DELETE FROM applied_changes WHERE change_key >= ? AND change_key < ?")
        .bind_all(id + "/", id + "0")
        .run();
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

}  // namespace

std::unique_ptr<content_repository> make_sqlite_content(store::database& db) {
  return std::make_unique<sqlite_content>(db);
}

std::unique_ptr<notice_repository> make_sqlite_notices(store::database& db) {
  return std::make_unique<sqlite_notices>(db);
}

std::unique_ptr<receipt_repository> make_sqlite_receipts(store::database& db) {
  return std::make_unique<sqlite_receipts>(db);
}

}  // namespace linksim::threads_sim
