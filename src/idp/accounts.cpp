// Accounts, pictures, follows and clients, and the schema they live in.
#include "internal.hpp"

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

constexpr store::migration migrations[] = {
    {1, R"sql(
CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  display_name TEXT NOT NULL DEFAULT '',
  bio TEXT NOT NULL DEFAULT '',
  picture_sha256 TEXT NOT NULL DEFAULT '',
  type TEXT NOT NULL CHECK (type IN ('personal', 'business')),
  status TEXT NOT NULL
    CHECK (status IN ('active', 'restricted', 'suspended', 'banned', 'deleted')),
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
-- A deleted account frees its username.
CREATE UNIQUE INDEX accounts_username ON accounts (username COLLATE NOCASE)
  WHERE status != 'deleted';
CREATE TABLE pictures (
  sha256 TEXT PRIMARY KEY,
  content_type TEXT NOT NULL,
  bytes BLOB NOT NULL
);
CREATE TABLE follows (
  follower INTEGER NOT NULL REFERENCES accounts (id),
  followee INTEGER NOT NULL REFERENCES accounts (id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (follower, followee)
) WITHOUT ROWID;
CREATE INDEX follows_followee ON follows (followee);
CREATE TABLE clients (
  id TEXT PRIMARY KEY,
  secret TEXT NOT NULL,
  name TEXT NOT NULL,
  system TEXT NOT NULL,
  redirect_uris TEXT NOT NULL,
  webhook_secret TEXT NOT NULL,
  deauthorize_url TEXT NOT NULL DEFAULT '',
  data_deletion_url TEXT NOT NULL DEFAULT ''
);
CREATE TABLE subscriptions (
  client_id TEXT PRIMARY KEY REFERENCES clients (id),
  callback_url TEXT NOT NULL,
  verify_token TEXT NOT NULL,
  fields TEXT NOT NULL,
  active INTEGER NOT NULL
);
CREATE TABLE auth_requests (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients (id),
  redirect_uri TEXT NOT NULL,
  scope TEXT NOT NULL,
  state TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE sessions (
  hash BLOB PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE TABLE session_accounts (
  session BLOB NOT NULL REFERENCES sessions (hash) ON DELETE CASCADE,
  account_id INTEGER NOT NULL REFERENCES accounts (id),
  added_at INTEGER NOT NULL,
  PRIMARY KEY (session, account_id)
) WITHOUT ROWID;
CREATE TABLE grants (
  id INTEGER PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients (id),
  account_id INTEGER NOT NULL REFERENCES accounts (id),
  scope TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX grants_account ON grants (account_id, client_id);
CREATE TABLE codes (
  hash BLOB PRIMARY KEY,
  grant_id INTEGER NOT NULL REFERENCES grants (id),
  redirect_uri TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE TABLE tokens (
  hash BLOB PRIMARY KEY,
  grant_id INTEGER NOT NULL REFERENCES grants (id),
  kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
  lifetime TEXT NOT NULL CHECK (lifetime IN ('short', 'long', 'refresh')),
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  revoked_at INTEGER
);
CREATE INDEX tokens_grant ON tokens (grant_id);
-- The transactional outbox: a change and its deliveries commit together.
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL,
  field TEXT NOT NULL,
  value TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE deliveries (
  id INTEGER PRIMARY KEY,
  event_id INTEGER REFERENCES events (id),
  client_id TEXT NOT NULL REFERENCES clients (id),
  kind TEXT NOT NULL CHECK (kind IN ('webhook', 'deauthorize', 'data_deletion')),
  account_id INTEGER NOT NULL,
  field TEXT NOT NULL,
  url TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead', 'disabled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  window_start INTEGER NOT NULL,
  last_status INTEGER NOT NULL DEFAULT 0,
  last_response TEXT NOT NULL DEFAULT '',
  delivered_at INTEGER
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
)sql"},
    {2, R"sql(
CREATE INDEX auth_requests_expiry ON auth_requests (expires_at);
)sql"},
    {3, R"sql(
-- Tables keyed by a random value are clustered on that key (one B-tree, not a rowid table plus
-- an index): every commit of the sign-in path writes a page per B-tree it touches. Expired
-- authorization requests are swept once a minute, which needs no index.
DROP INDEX auth_requests_expiry;
CREATE TABLE auth_requests_new (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients (id),
  redirect_uri TEXT NOT NULL,
  scope TEXT NOT NULL,
  state TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO auth_requests_new SELECT * FROM auth_requests;
DROP TABLE auth_requests;
ALTER TABLE auth_requests_new RENAME TO auth_requests;
CREATE TABLE codes_new (
  hash BLOB PRIMARY KEY,
  grant_id INTEGER NOT NULL REFERENCES grants (id),
  redirect_uri TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
) WITHOUT ROWID;
INSERT INTO codes_new SELECT * FROM codes;
DROP TABLE codes;
ALTER TABLE codes_new RENAME TO codes;
CREATE TABLE tokens_new (
  hash BLOB PRIMARY KEY,
  grant_id INTEGER NOT NULL REFERENCES grants (id),
  kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
  lifetime TEXT NOT NULL CHECK (lifetime IN ('short', 'long', 'refresh')),
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  revoked_at INTEGER
) WITHOUT ROWID;
INSERT INTO tokens_new SELECT * FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_new RENAME TO tokens;
CREATE INDEX tokens_grant ON tokens (grant_id);
)sql"},
    {4, R"sql(
-- The account's company-wide ad settings (seed 001: "Meta's privacy and advertising settings").
-- No row: the defaults (personalised ads on).
CREATE TABLE ad_settings (
  account_id INTEGER PRIMARY KEY REFERENCES accounts (id),
  personalized_ads INTEGER NOT NULL CHECK (personalized_ads IN (0, 1)),
  updated_at INTEGER NOT NULL
);
)sql"},
    {4, R"sql(
-- Authorization requests waiting for consent are kept in memory (see service.hpp).
DROP TABLE auth_requests;
)sql"},
    {5, R"sql(
-- Tokens are revoked through their grant, which every token check reads: no per-grant index.
DROP INDEX tokens_grant;
)sql"},
    {6, R"sql(
-- Issued authorization codes wait for their redemption in memory (see service.hpp); a row here
-- is a code that was redeemed, kept so that its reuse revokes what it bought. Codes issued
-- but never redeemed before this version are dropped, as a restart drops them now.
DELETE FROM codes WHERE used_at IS NULL;
)sql"},
    {7, R"sql(
-- Deliveries are looked up by due time only while pending: the index leaves the others out, so
-- a delivery that is done costs one index deletion instead of a deletion and an insertion, and
-- the index stays the size of the queue rather than of the history.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE state = 'pending';
)sql"},
    {8, R"sql(
-- Version 4 was given to two migrations, the second (ad_settings) written after the first had
-- shipped: a database created in between is at version 4 without the table. Made here for it.
CREATE TABLE IF NOT EXISTS ad_settings (
  account_id INTEGER PRIMARY KEY REFERENCES accounts (id),
  personalized_ads INTEGER NOT NULL CHECK (personalized_ads IN (0, 1)),
  updated_at INTEGER NOT NULL
);
)sql"},
    {9, R"sql(
-- A CHECK on a list of three or more values (x IN ('a', 'b', 'c')) builds a temporary B-tree of
-- the list every time a statement checks it; SQLite codes lists of one or two as comparisons.
-- Each delivery's insert and change of state, and each token's insert, paid about 3 us for it:
-- the same rules as comparisons, in rebuilt tables. (The accounts' status list stays: an update
-- that leaves the status alone does not check it, and rebuilding the table that every other
-- one references is not worth one check per new account.)
CREATE TABLE deliveries_new (
  id INTEGER PRIMARY KEY,
  event_id INTEGER REFERENCES events (id),
  client_id TEXT NOT NULL REFERENCES clients (id),
  kind TEXT NOT NULL
    CHECK (kind = 'webhook' OR kind = 'deauthorize' OR kind = 'data_deletion'),
  account_id INTEGER NOT NULL,
  field TEXT NOT NULL,
  url TEXT NOT NULL,
  state TEXT NOT NULL
    CHECK (state = 'pending' OR state = 'delivered' OR state = 'dead' OR state = 'disabled'),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  window_start INTEGER NOT NULL,
  last_status INTEGER NOT NULL DEFAULT 0,
  last_response TEXT NOT NULL DEFAULT '',
  delivered_at INTEGER
);
INSERT INTO deliveries_new SELECT * FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE TABLE tokens_new (
  hash BLOB PRIMARY KEY,
  grant_id INTEGER NOT NULL REFERENCES grants (id),
  kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
  lifetime TEXT NOT NULL CHECK (lifetime = 'short' OR lifetime = 'long' OR lifetime = 'refresh'),
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  revoked_at INTEGER
) WITHOUT ROWID;
INSERT INTO tokens_new SELECT * FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_new RENAME TO tokens;
)sql"},
    {10, R"sql(
-- The outbox is one row a delivery: the change it carries (its JSON value and its time) moves
-- into the delivery, so a change costs one insert and writes one table's last page instead of
-- two. The events table keeps the changes made before this version, whose numbers the new ones
-- continue (the service's constructor); nothing writes to it any more.
CREATE TABLE deliveries_new (
  id INTEGER PRIMARY KEY,
  event_id INTEGER,  -- the change's number, shared by its deliveries; NULL for a callback
  client_id TEXT NOT NULL REFERENCES clients (id),
  kind TEXT NOT NULL
    CHECK (kind = 'webhook' OR kind = 'deauthorize' OR kind = 'data_deletion'),
  account_id INTEGER NOT NULL,
  field TEXT NOT NULL,
  url TEXT NOT NULL,
  state TEXT NOT NULL
    CHECK (state = 'pending' OR state = 'delivered' OR state = 'dead' OR state = 'disabled'),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  window_start INTEGER NOT NULL,
  last_status INTEGER NOT NULL DEFAULT 0,
  last_response TEXT NOT NULL DEFAULT '',
  delivered_at INTEGER,
  value TEXT,        -- the change as a JSON object, for a webhook
  created_at INTEGER -- when the change was made (unix milliseconds), for a webhook
);
INSERT INTO deliveries_new
  SELECT d.id, d.event_id, d.client_id, d.kind, d.account_id, d.field, d.url, d.state,
         d.attempts, d.next_attempt_at, d.window_start, d.last_status, d.last_response,
         d.delivered_at, e.value, e.created_at
  FROM deliveries d LEFT JOIN events e ON e.id = d.event_id;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE state = 'pending';
)sql"},
    {11, R"sql(
-- Each account keeps its follower and following counts, which every read of an account returns:
-- two columns kept by follow, unfollow and deletion instead of two counting subqueries on every
-- read. Each counts the accounts on the other side that are not deleted.
ALTER TABLE accounts ADD COLUMN followers_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN follows_count INTEGER NOT NULL DEFAULT 0;
UPDATE accounts SET
  followers_count = (SELECT count(*) FROM follows f JOIN accounts x ON x.id = f.follower
                     WHERE f.followee = accounts.id AND x.status != 'deleted'),
  follows_count = (SELECT count(*) FROM follows f JOIN accounts x ON x.id = f.followee
                   WHERE f.follower = accounts.id AND x.status != 'deleted');
)sql"},
    {12, R"sql(
-- Pictures are found by their hash only: clustered on it (one B-tree, not a rowid table and an
-- index on the hash), a new picture writes one page instead of two. What does not fit in about a
-- quarter of a page goes to overflow pages, as a rowid table's rows longer than a page do.
CREATE TABLE pictures_new (
  sha256 TEXT PRIMARY KEY,
  content_type TEXT NOT NULL,
  bytes BLOB NOT NULL
) WITHOUT ROWID;
INSERT INTO pictures_new SELECT sha256, content_type, bytes FROM pictures;
DROP TABLE pictures;
ALTER TABLE pictures_new RENAME TO pictures;
)sql"},
    {13, R"sql(
-- Whether an account's grant to a client still stands is answered by the index alone: each
-- change asks it for every subscribed client, and the grant's row was read only for revoked_at.
DROP INDEX grants_account;
CREATE INDEX grants_account ON grants (account_id, client_id, revoked_at);
)sql"},
    {14, R"sql(
-- The pending deliveries are queued in memory by due time, read from this table at start: the
-- partial index that ordered them cost every change and every settlement an index write.
DROP INDEX deliveries_pending;
)sql"},
};

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

const std::vector<std::string>& categories_of_field(std::string_view field) {
  // Read for every webhook sent and received: built once.
  static const std::vector<std::string> id{"user.unique_id"},
      username{"user.unique_id", "user.account.username"}, name{"user.unique_id", "user.name"},
      biography{"user.unique_id", "user.content.public"},
      picture{"user.unique_id", "user.content.self_image"},
      status{"user.unique_id", "user.account"};
  if (field == "username") return username;
  if (field == "name") return name;
  if (field == "biography") return biography;
  if (field == "profile_picture") return picture;
  if (field == "account_status") return status;
  return id;
}

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

bool valid_username(std::string_view u) {
  if (u.empty() || u.size() > 30 || u.front() == '.' || u.back() == '.') return false;
  if (u.find("..") != std::string_view::npos) return false;
  return std::all_of(u.begin(), u.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_';
  });
}

service::service(store::database& db, const clock& clock, random_source& random,
                 evidence::recorder& recorder, http::transport& transport, config cfg)
    : db_(db),
      clock_(clock),
      random_(random),
      recorder_(recorder),
      transport_(transport),
      cfg_(std::move(cfg)) {
  store::migrate(db_, migrations);
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

result<client> service::register_client(const client_registration& r) {
  if (r.redirect_uris.empty()) return make_error_code(errc::missing_field);
  for (const auto& uri : r.redirect_uris) {
    auto u = boost::urls::parse_absolute_uri(uri);
    if (!u || (u->scheme() != "http" && u->scheme() != "https") || u->has_fragment())
      return make_error_code(errc::callback_url_invalid);
  }
  for (const auto* url : {&r.deauthorize_url, &r.data_deletion_url}) {
    if (!url->empty() && !boost::urls::parse_absolute_uri(*url))
      return make_error_code(errc::callback_url_invalid);
  }
  client c;
  // Numeric ids like Meta's app ids.
  c.id = std::to_string(1000000000000000 + random_.uniform(9000000000000000));
  c.secret = to_hex(std::span<const std::uint8_t>(sha256(random_.token(32))).subspan(0, 16));
  std::vector<std::uint8_t> key(32);
  random_.fill(key);
  c.webhook_secret = "whsec_" + base64_encode(key);
  c.name = r.name.empty() ? "App " + c.id : r.name;
  c.system = r.system.empty() ? "client-" + c.id : r.system;
  c.redirect_uris = r.redirect_uris;
  c.deauthorize_url = r.deauthorize_url;
  c.data_deletion_url = r.data_deletion_url;
  boost::json::array uris;
  for (const auto& u : c.redirect_uris) uris.emplace_back(u);
  std::lock_guard lock(mutex_);
  db_.prepare(
         "INSERT INTO clients (id, secret, name, system, redirect_uris, webhook_secret, "
         "deauthorize_url, data_deletion_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .bind_all(c.id, c.secret, c.name, c.system, json::serialize(uris), c.webhook_secret,
                c.deauthorize_url, c.data_deletion_url)
      .run();
  return c;
}

result<client> service::get_client(std::string_view id) {
  std::lock_guard lock(mutex_);
  auto c = client_locked(id);
  if (!c) return c.error();
  return **c;
}

result<const client*> service::client_locked(std::string_view id) {
  // Clients never change once registered, so each is read from the database once.
  if (auto it = clients_.find(id); it != clients_.end()) return &it->second;
  auto& q = db_.cached(
      "SELECT id, secret, name, system, redirect_uris, webhook_secret, deauthorize_url, "
      "data_deletion_url FROM clients WHERE id = ?");
  q.bind(1, id);
  if (!q.step()) return make_error_code(errc::unknown_client);
  client c{q.get_text(0), q.get_text(1), q.get_text(2), q.get_text(3), {},
           q.get_text(5), q.get_text(6), q.get_text(7)};
  auto uris = json::parse_object(R"({"u":)" + q.get_text(4) + "}");
  q.reset();
  if (uris) {
    for (const auto& u : uris->at("u").as_array()) c.redirect_uris.emplace_back(u.as_string());
  }
  // Elements of an unordered_map keep their address: the pointer stays valid.
  return &clients_.emplace(c.id, std::move(c)).first->second;
}

result<client> service::authenticate_client(std::string_view id, std::string_view secret) {
  auto c = get_client(id);
  if (!c || !constant_time_equal(c->secret, secret)) return make_error_code(errc::invalid_client);
  return c;
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
