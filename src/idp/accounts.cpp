// Accounts, pictures, follows and ad settings.
#include "internal.hpp"
#include "schema.hpp"

#include "linksim/common/json.hpp"
#include "linksim/store/sqlite.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>

namespace linksim::idp {
namespace detail {

bool known_scope(std::string_view s) {
  return s == scope_profile || s == scope_followers;
}

}  // namespace detail

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

bool username_free(store::database& db, std::string_view username, std::int64_t except_id) {
  auto& q = db.cached(
      "SELECT 1 FROM accounts WHERE username = ? COLLATE NOCASE AND status != 'deleted' AND id != "
      "?");
  q.bind_all(username, except_id);
  return !q.step();
}

// The value of a change as its webhook carries it, built in `memory` (it is serialized at once).
boost::json::object change_value(std::string_view key, std::string_view text, const account& a,
                                 json::scratch& memory) {
  boost::json::object o(memory.storage());
  o.reserve(3);
  o[key] = boost::json::string_view(text.data(), text.size());
  o["version"] = a.version;
  return o;
}

}  // namespace

std::string_view to_string(account_status s) {
  switch (s) {
    case account_status::active:
      return "active";
    case account_status::restricted:
      return "restricted";
    case account_status::suspended:
      return "suspended";
    case account_status::banned:
      return "banned";
    case account_status::deleted:
      return "deleted";
  }
  return "active";
}

std::string_view to_string(account_type t) {
  return t == account_type::business ? "business" : "personal";
}

std::optional<account_status> parse_status(std::string_view s) {
  for (auto v : {account_status::active, account_status::restricted, account_status::suspended,
                 account_status::banned, account_status::deleted}) {
    if (to_string(v) == s) return v;
  }
  return std::nullopt;
}

std::optional<account_type> parse_type(std::string_view s) {
  if (s == "personal") return account_type::personal;
  if (s == "business") return account_type::business;
  return std::nullopt;
}

service::service(store::database& db, const clock& clock, random_source& random,
                 evidence::recorder& recorder, http::transport& transport, config cfg)
    : db_(db),
      clock_(clock),
      random_(random),
      recorder_(recorder),
      transport_(transport),
      cfg_(std::move(cfg)) {
  store::migrate(db_, schema::migrations());
  // Changes are numbered on from the last one stored. Deliveries are inserted in the order of
  // their changes, so the newest webhook delivery holds the highest number; changes made before
  // version 10 are numbered in the events table.
  // Read once: prepared for this, not kept in the statement cache.
  auto q = db_.prepare(
      "SELECT max(coalesce((SELECT event_id FROM deliveries WHERE event_id IS NOT NULL "
      "ORDER BY id DESC LIMIT 1), 0), coalesce((SELECT max(id) FROM events), 0))");
  if (q.step()) last_event_id_ = q.get_int(0);
  // The pending deliveries, in the order they fall due (one scan of the outbox at start).
  auto pending = db_.prepare("SELECT next_attempt_at, id FROM deliveries WHERE state = 'pending'");
  while (pending.step()) outbox_queue_.emplace(pending.get_int(0), pending.get_int(1));
}

service::~service() = default;

result<account> service::load_account(std::int64_t id) {
  static const std::string sql =
      "SELECT " + std::string(account_columns) + " FROM accounts a WHERE id = ?";
  auto& q = db_.cached(sql);
  q.bind(1, id);
  if (!q.step()) return make_error_code(errc::not_found);
  account a = read_account(q);
  // Derived from the issuer, so the URL follows the server to another address or port.
  if (!a.picture_sha256.empty()) a.picture_url = cfg_.issuer + "/pictures/" + a.picture_sha256;
  return a;
}

bool within_chars(std::string_view text, std::size_t max) {
  if (text.size() > 4 * max) return false;  // more than `max` code points whatever they are
  const auto chars = utf8_length(text);
  return chars && *chars <= max;
}

result<account> service::create_account(const new_account& n) {
  if (!valid_username(n.username)) return make_error_code(errc::username_invalid);
  if (!within_chars(n.display_name, max_name_chars) || !within_chars(n.bio, max_bio_chars))
    return make_error_code(errc::bad_field);
  // The slow hash runs outside the lock: other requests need not wait for it.
  const std::string hash = hash_password(n.password, random_, cfg_.password);
  std::lock_guard lock(mutex_);
  store::transaction tx(db_);
  if (!username_free(db_, n.username, 0)) return make_error_code(errc::username_taken);
  // Ids look like Instagram's and stay below 2^53, so JavaScript clients read them exactly.
  std::int64_t id = 0;
  do {
    id = 1784140000000000 + static_cast<std::int64_t>(random_.uniform(100'000'000'000'000));
  } while (db_.cached("SELECT 1 FROM accounts WHERE id = ?").bind(1, id).step());
  db_.cached(
         "INSERT INTO accounts (id, username, password_hash, display_name, bio, type, status, "
         "version, created_at) VALUES (?, ?, ?, ?, ?, ?, 'active', 1, ?)")
      .bind_all(id, n.username, hash, n.display_name, n.bio, to_string(n.type),
                unix_millis(clock_.now()))
      .run();
  auto a = load_account(id);
  tx.commit();
  return a;
}

result<account> service::get_account(std::int64_t id) {
  std::lock_guard lock(mutex_);
  return load_account(id);
}

result<account> service::find_account(std::string_view username) {
  std::lock_guard lock(mutex_);
  auto& q = db_.cached(
      "SELECT id FROM accounts WHERE username = ? COLLATE NOCASE "
      "AND status != 'deleted'");
  q.bind(1, username);
  if (!q.step()) return make_error_code(errc::not_found);
  return load_account(q.get_int(0));
}

result<account> service::update_profile(std::int64_t id, const profile_change& change) {
  if (change.username && !valid_username(*change.username))
    return make_error_code(errc::username_invalid);
  if (change.status == account_status::deleted) return make_error_code(errc::bad_field);
  if ((change.display_name && !within_chars(*change.display_name, max_name_chars)) ||
      (change.bio && !within_chars(*change.bio, max_bio_chars)))
    return make_error_code(errc::bad_field);
  std::lock_guard lock(mutex_);
  forget_cached();  // the cached tokens carry this account
  store::transaction tx(db_);
  auto before = load_account(id);
  if (!before) return before.error();
  if (before->status == account_status::deleted) return make_error_code(errc::account_deleted);
  account a = *before;

  // One outbox event per changed field, each with its own version.
  json::scratch memory;
  auto bump = [&](std::string_view column, const std::string& value) {
    ++a.version;
    // Five columns, so five cached statements.
    db_.cached("UPDATE accounts SET " + std::string(column) + " = ?, version = ? WHERE id = ?")
        .bind_all(value, a.version, id)
        .run();
  };
  if (change.username && *change.username != a.username) {
    if (!username_free(db_, *change.username, id)) return make_error_code(errc::username_taken);
    const std::string previous = a.username;
    a.username = *change.username;
    bump("username", a.username);
    auto v = change_value("username", a.username, a, memory);
    v["previous_username"] = previous;
    enqueue_change(a, "username", json::serialize(v));
  }
  if (change.display_name && *change.display_name != a.display_name) {
    a.display_name = *change.display_name;
    bump("display_name", a.display_name);
    enqueue_change(a, "name", json::serialize(change_value("name", a.display_name, a, memory)));
  }
  if (change.bio && *change.bio != a.bio) {
    a.bio = *change.bio;
    bump("bio", a.bio);
    enqueue_change(a, "biography", json::serialize(change_value("biography", a.bio, a, memory)));
  }
  if (change.type && *change.type != a.type) {
    a.type = *change.type;
    bump("type", std::string(to_string(a.type)));
  }
  if (change.status && *change.status != a.status) {
    a.status = *change.status;
    bump("status", std::string(to_string(a.status)));
    enqueue_change(a, "account_status",
                   json::serialize(change_value("status", to_string(a.status), a, memory)));
  }
  tx.commit();
  return a;  // as stored: every column written above was also set on `a`
}

result<account> service::set_picture(std::int64_t id, const picture& p) {
  static constexpr std::string_view allowed[] = {"image/png", "image/jpeg", "image/gif",
                                                 "image/webp"};
  if (std::find(std::begin(allowed), std::end(allowed), p.content_type) == std::end(allowed))
    return make_error_code(errc::unsupported_media_type);
  const std::string hash = to_hex(sha256(p.bytes));
  std::lock_guard lock(mutex_);
  forget_cached();  // the cached tokens carry this account
  store::transaction tx(db_);
  auto before = load_account(id);
  if (!before) return before.error();
  if (before->status == account_status::deleted) return make_error_code(errc::account_deleted);
  if (before->picture_sha256 == hash) return before;
  db_.cached("INSERT OR IGNORE INTO pictures (sha256, content_type, bytes) VALUES (?, ?, ?)")
      .bind_all(hash, p.content_type, as_bytes(p.bytes))
      .run();
  account a = *before;
  a.picture_sha256 = hash;
  a.picture_url = cfg_.issuer + "/pictures/" + hash;
  ++a.version;
  db_.cached("UPDATE accounts SET picture_sha256 = ?, version = ? WHERE id = ?")
      .bind_all(a.picture_sha256, a.version, id)
      .run();
  json::scratch memory;
  auto v = change_value("profile_picture_url", a.picture_url, a, memory);
  v["profile_picture_sha256"] = a.picture_sha256;
  enqueue_change(a, "profile_picture", json::serialize(v));
  tx.commit();
  return a;
}

result<picture> service::get_picture(std::string_view sha256_hex) {
  std::lock_guard lock(mutex_);
  auto& q = db_.cached("SELECT content_type, bytes FROM pictures WHERE sha256 = ?");
  q.bind(1, sha256_hex);
  if (!q.step()) return make_error_code(errc::not_found);
  const auto bytes = q.get_blob(1);
  return picture{q.get_text(0), std::string(as_chars(bytes))};
}

result<account> service::delete_account(std::int64_t id) {
  std::lock_guard lock(mutex_);
  forget_cached();  // the cached tokens carry this account
  store::transaction tx(db_);
  auto before = load_account(id);
  if (!before) return before.error();
  if (before->status == account_status::deleted) return make_error_code(errc::account_deleted);
  account a = *before;
  a.status = account_status::deleted;
  ++a.version;
  db_.cached("UPDATE accounts SET status = 'deleted', version = ? WHERE id = ?")
      .bind_all(a.version, id)
      .run();
  // The accounts on the other side of its follows stop counting it.
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
  // Tell clients while their grants still stand, then end every grant.
  json::scratch memory;
  enqueue_change(a, "account_deletion",
                 json::serialize(boost::json::object{{{"deleted", true}, {"version", a.version}},
                                                     memory.storage()}));
  auto clients = db_.prepare(
      "SELECT DISTINCT c.id, c.data_deletion_url FROM grants g JOIN clients c ON c.id = "
      "g.client_id "
      "WHERE g.account_id = ? AND g.revoked_at IS NULL AND c.data_deletion_url != ''");
  clients.bind(1, id);
  std::vector<std::pair<std::string, std::string>> to_notify;  // client id, URL
  while (clients.step()) to_notify.emplace_back(clients.get_text(0), clients.get_text(1));
  for (const auto& [client_id, url] : to_notify)
    enqueue_callback(id, client_id, "data_deletion", url);
  db_.cached("UPDATE grants SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL")
      .bind_all(unix_millis(clock_.now()), id)
      .run();
  db_.cached("DELETE FROM session_accounts WHERE account_id = ?").bind(1, id).run();
  tx.commit();
  return a;
}

result<void> service::follow(std::int64_t follower, std::int64_t followee) {
  if (follower == followee) return make_error_code(errc::self_follow);
  std::lock_guard lock(mutex_);
  for (auto id : {follower, followee}) {
    auto a = load_account(id);
    if (!a) return a.error();
    if (a->status == account_status::deleted) return make_error_code(errc::account_deleted);
  }
  store::transaction tx(db_);
  db_.cached("INSERT OR IGNORE INTO follows (follower, followee, created_at) VALUES (?, ?, ?)")
      .bind_all(follower, followee, unix_millis(clock_.now()))
      .run();
  if (db_.changes() == 0) return {};  // followed already
  // Neither is deleted (checked above): each counts the other.
  db_.cached("UPDATE accounts SET follows_count = follows_count + 1 WHERE id = ?")
      .bind(1, follower)
      .run();
  db_.cached("UPDATE accounts SET followers_count = followers_count + 1 WHERE id = ?")
      .bind(1, followee)
      .run();
  tx.commit();
  return {};
}

result<void> service::unfollow(std::int64_t follower, std::int64_t followee) {
  std::lock_guard lock(mutex_);
  store::transaction tx(db_);
  db_.cached("DELETE FROM follows WHERE follower = ? AND followee = ?")
      .bind_all(follower, followee)
      .run();
  if (db_.changes() == 0) return make_error_code(errc::not_found);
  // Each side counted the other only while the other was not deleted.
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
  tx.commit();
  return {};
}

std::vector<std::int64_t> service::followers_of(std::int64_t id) {
  std::lock_guard lock(mutex_);
  std::vector<std::int64_t> out;
  auto& q = db_.cached(
      "SELECT f.follower FROM follows f JOIN accounts a ON a.id = f.follower "
      "WHERE f.followee = ? AND a.status != 'deleted' ORDER BY f.follower");
  q.bind(1, id);
  while (q.step()) out.push_back(q.get_int(0));
  return out;
}

result<ad_settings> service::get_ad_settings(std::int64_t id) {
  std::lock_guard lock(mutex_);
  auto a = load_account(id);
  if (!a) return a.error();
  ad_settings out;
  auto& q = db_.cached("SELECT personalized_ads, updated_at FROM ad_settings WHERE account_id = ?");
  q.bind(1, id);
  if (q.step()) {
    out.personalized_ads = q.get_int(0) != 0;
    out.updated_at = from_unix_millis(q.get_int(1));
  }
  return out;
}

result<ad_settings> service::set_ad_settings(std::int64_t id, bool personalized_ads) {
  std::lock_guard lock(mutex_);
  auto a = load_account(id);
  if (!a) return a.error();
  if (a->status == account_status::deleted) return make_error_code(errc::account_deleted);
  const auto now = clock_.now();
  db_.cached(
         "INSERT INTO ad_settings (account_id, personalized_ads, updated_at) VALUES (?, ?, ?) "
         "ON CONFLICT (account_id) DO UPDATE SET personalized_ads = excluded.personalized_ads, "
         "updated_at = excluded.updated_at")
      .bind_all(id, personalized_ads ? 1 : 0, unix_millis(now))
      .run();
  return ad_settings{personalized_ads, now};
}

void service::record_flow(std::string_view to_system, std::int64_t subject,
                          const std::vector<std::string>& categories, std::string_view purpose,
                          std::string_view channel, std::string_view payload, std::string note) {
  record_flow_hashed(to_system, subject, categories, purpose, channel, to_hex(sha256(payload)),
                     std::move(note));
}

void service::record_flow_hashed(std::string_view to_system, std::int64_t subject,
                                 const std::vector<std::string>& categories,
                                 std::string_view purpose, std::string_view channel,
                                 std::string payload_digest, std::string note) {
  recorder_.record({clock_.now(), cfg_.system_name, std::string(to_system), std::to_string(subject),
                    categories, std::string(purpose), std::string(channel),
                    std::move(payload_digest), std::move(note)});
}

}  // namespace linksim::idp
