// The provider's account repository over SQLite: accounts, pictures, follows and ad settings.
#include "sqlite_parts.hpp"

#include "linksim/common/json.hpp"
#include "linksim/common/text.hpp"
#include "linksim/store/sqlite.hpp"

#include <boost/json/array.hpp>

namespace linksim::idp {
namespace {

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

  void set_password_hash(std::int64_t id, std::string_view password_hash) override {
    db_.cached("UPDATE accounts SET password_hash = ? WHERE id = ?")
        .bind_all(password_hash, id)
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

}  // namespace

std::unique_ptr<account_repository> make_sqlite_accounts(store::database& db) {
  return std::make_unique<sqlite_accounts>(db);
}

}  // namespace linksim::idp
