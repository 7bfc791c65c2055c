// Sign-in through the provider, the confirmation step, profiles, content and deletion.
#include "linksim/threads_sim/service.hpp"

#include "internal.hpp"

#include "linksim/common/crypto.hpp"
#include "linksim/common/json.hpp"
#include "linksim/idp/service.hpp"
#include "linksim/store/sqlite.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>

namespace linksim::threads_sim {
namespace {

constexpr store::migration migrations[] = {
    {1, R"sql(
CREATE TABLE profiles (
  id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: kept content must not change owner
  ig_user_id INTEGER NOT NULL,
  username TEXT COLLATE NOCASE UNIQUE,   -- NULL while a swap waits for its other half
  display_name TEXT NOT NULL DEFAULT '',
  bio TEXT NOT NULL DEFAULT '',
  picture_url TEXT NOT NULL DEFAULT '',
  picture_sha256 TEXT NOT NULL DEFAULT '',
  ig_status TEXT NOT NULL DEFAULT 'active',
  ig_deleted INTEGER NOT NULL DEFAULT 0,
  needs_login INTEGER NOT NULL DEFAULT 0,
  username_version INTEGER NOT NULL DEFAULT 0,
  picture_version INTEGER NOT NULL DEFAULT 0,
  status_version INTEGER NOT NULL DEFAULT 0,
  bio_version INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  last_synced_at INTEGER NOT NULL,
  next_sync_at INTEGER NOT NULL
);
CREATE INDEX profiles_ig ON profiles(ig_user_id);
CREATE INDEX profiles_next_sync ON profiles(next_sync_at) WHERE ig_deleted = 0 AND needs_login = 0;
CREATE TABLE links (
  profile_id INTEGER PRIMARY KEY,
  access_token TEXT NOT NULL,
  refresh_token TEXT NOT NULL,
  access_expires_at INTEGER NOT NULL
);
CREATE TABLE sessions (
  token_hash BLOB PRIMARY KEY,
  profile_id INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_profile ON sessions(profile_id);
CREATE TABLE login_states (
  state TEXT PRIMARY KEY,
  browser_hash BLOB NOT NULL,
  verifier TEXT NOT NULL,
  intent TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE link_requests (
  id TEXT PRIMARY KEY,
  browser_hash BLOB NOT NULL,
  intent TEXT NOT NULL,
  ig_json TEXT NOT NULL,
  access_token TEXT NOT NULL,
  refresh_token TEXT NOT NULL,
  access_expires_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE posts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  profile_id INTEGER NOT NULL,
  text TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX posts_profile ON posts(profile_id, id);
CREATE TABLE likes (
  profile_id INTEGER NOT NULL,
  post_id INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (profile_id, post_id)
) WITHOUT ROWID;
CREATE INDEX likes_post ON likes(post_id);
CREATE TABLE follows (
  follower INTEGER NOT NULL,
  followee INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (follower, followee)
) WITHOUT ROWID;
CREATE INDEX follows_followee ON follows(followee);
-- Webhook changes already applied, recorded in the transaction of their effect.
-- Meta's data-deletion callback: what each confirmation code stands for.
CREATE TABLE deletion_requests (
  code TEXT PRIMARY KEY,
  profiles_deleted INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE applied_changes (
  change_key TEXT PRIMARY KEY,
  received_at INTEGER NOT NULL
) WITHOUT ROWID;
)sql"},
    {2, R"sql(
-- Profiles whose browser sent Sec-GPC: 1: no advertising use of their activity from then on.
CREATE TABLE ad_opt_outs (
  profile_id INTEGER PRIMARY KEY REFERENCES profiles (id) ON DELETE CASCADE,
  source TEXT NOT NULL,
  at INTEGER NOT NULL
);
)sql"},
    {3, R"sql(
-- The transactional outbox of notices to the ad platform: written in the transaction of the
-- change they tell of, sent at once after it commits, retried on the schedule below until
-- delivered (then deleted: a delivered notice's content is the ad platform's to keep, not ours)
-- or dead, which an operator sees in GET /admin/ads-notices and can replay.
CREATE TABLE ads_notices (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('activity', 'deletion', 'opt_out')),
  profile_id INTEGER NOT NULL,  -- not a reference: a deletion notice outlives its profile
  subject INTEGER NOT NULL,     -- the provider account id
  body TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_status INTEGER NOT NULL DEFAULT 0,
  last_response TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ads_notices_profile ON ads_notices (profile_id);
)sql"},
};

std::string_view to_string(intent i) {
  return i == intent::signup ? "signup" : "login";
}

digest browser_hash(std::string_view key) {
  return sha256(key);
}

}  // namespace

service::service(store::database& db, const clock& clock, random_source& random,
                 evidence::recorder& recorder, http::transport& transport, config cfg)
    : db_(db),
      clock_(clock),
      random_(random),
      recorder_(recorder),
      transport_(transport),
      cfg_(std::move(cfg)) {
  if (cfg_.rules.name.empty()) cfg_.rules = behaviours().front();
  store::migrate(db_, migrations);
  // The one-profile rule is the schema's, so no code path can get around it; a fault profile
  // that breaks the rule runs without the index.
  if (cfg_.rules.one_profile_per_account) {
    try {
      db_.exec(
          "CREATE UNIQUE INDEX IF NOT EXISTS profiles_one_per_account ON profiles(ig_user_id)");
    } catch (const store::error& e) {
      if (!e.is_constraint()) throw;
      throw store::error(e.code(), db_.path().string() +
                                       " holds two profiles for one Instagram account (written "
                                       "under fault.two_profiles); profile " +
                                       cfg_.rules.name + " cannot run on it");
    }
  } else {
    db_.exec("DROP INDEX IF EXISTS profiles_one_per_account");
  }
  // Notices left pending by the last run are sent when due, as if it had never stopped.
  auto q = db_.prepare("SELECT next_attempt_at, id FROM ads_notices WHERE state = 'pending'");
  while (q.step()) notice_queue_.emplace(q.get_int(0), q.get_int(1));
}

service::~service() = default;

void service::record(std::string_view from, std::string_view to, std::int64_t subject,
                     const std::vector<std::string>& categories, std::string_view channel,
                     std::string_view payload, std::string note, std::string_view purpose) {
  record_hashed(from, to, subject, categories, channel, to_hex(sha256(payload)), std::move(note),
                purpose);
}

void service::record_hashed(std::string_view from, std::string_view to, std::int64_t subject,
                            const std::vector<std::string>& categories, std::string_view channel,
                            std::string payload_digest, std::string note,
                            std::string_view purpose) {
  evidence::flow f;
  f.time = clock_.now();
  f.from = std::string(from);
  f.to = std::string(to);
  f.subject = std::to_string(subject);
  f.categories = categories;
  f.purpose = std::string(purpose);
  f.channel = std::string(channel);
  f.payload_digest = std::move(payload_digest);
  f.note = std::move(note);
  recorder_.record(f);
}

// --- Signing in ---

login_start service::begin_login(intent purpose) {
  login_start s;
  s.browser_key = random_.token(32);
  const std::string state = random_.token(24);
  const std::string verifier = random_.token(48);  // 64 base64url characters (RFC 7636 §4.1)
  {
    std::lock_guard lock(mutex_);
    const auto now = unix_millis(clock_.now());
    db_.cached("DELETE FROM login_states WHERE expires_at <= ?").bind(1, now).run();
    db_.cached(
           "INSERT INTO login_states (state, browser_hash, verifier, intent, expires_at) "
           "VALUES (?, ?, ?, ?, ?)")
        .bind_all(state, std::span<const std::uint8_t>(browser_hash(s.browser_key)), verifier,
                  to_string(purpose), now + cfg_.login_ttl.count())
        .run();
  }
  s.authorize_url = cfg_.idp_url + "/oauth/authorize?" +
                    http::form_encode({{"client_id", cfg_.client_id},
                                       {"redirect_uri", redirect_uri()},
                                       {"response_type", "code"},
                                       {"scope", "user_profile,user_followers"},
                                       {"state", state},
                                       {"code_challenge", base64url_encode(sha256(verifier))},
                                       {"code_challenge_method", "S256"}});
  return s;
}

result<callback_result> service::complete_login(std::string_view browser_key,
                                                const http::params& query) {
  const auto* state = http::find_param(query, "state");
  if (!state || browser_key.empty()) return make_error_code(errc::login_state_invalid);
  std::string verifier;
  intent purpose = intent::login;
  {
    // The state is single-use: taken out whatever the outcome.
    std::lock_guard lock(mutex_);
    auto& q = db_.cached(
        "DELETE FROM login_states WHERE state = ? AND expires_at > ? "
        "RETURNING browser_hash, verifier, intent");
    q.bind_all(*state, unix_millis(clock_.now()));
    if (!q.step()) return make_error_code(errc::login_state_invalid);
    const auto stored = q.get_blob(0);
    verifier = q.get_text(1);
    purpose = q.get_text(2) == "signup" ? intent::signup : intent::login;
    const digest expected = browser_hash(browser_key);
    q.step();
    if (!constant_time_equal(as_chars(stored), as_chars(expected)))
      return make_error_code(errc::login_state_invalid);
  }
  // RFC 9207: the response must come from the provider the request went to.
  const auto* iss = http::find_param(query, "iss");
  if (!iss || *iss != cfg_.idp_url) return make_error_code(errc::issuer_mismatch);
  if (const auto* e = http::find_param(query, "error")) {
    if (*e == "access_denied") return make_error_code(errc::access_denied);
    return make_error_code(errc::upstream_bad_response);
  }
  const auto* code = http::find_param(query, "code");
  if (!code) return make_error_code(errc::upstream_bad_response);

  auto t = redeem_code(*code, verifier);
  if (!t) return t.error();
  std::string raw;
  auto ig = fetch_me(t->access, true, &raw);
  if (!ig) return ig.error();
  if (ig->status != "active") return make_error_code(errc::account_inactive);

  std::lock_guard lock(mutex_);
  store::transaction tx(db_);
  auto existing = profiles_locked(ig->id, counts::without);
  callback_result out;
  if (!existing.empty() && (purpose == intent::login || cfg_.rules.one_profile_per_account)) {
    if (purpose == intent::signup) return make_error_code(errc::already_linked);
    // Signing into an existing profile: the login is also a reconciliation.
    profile p = existing.front();
    if (p.ig_deleted) return make_error_code(errc::profile_deleted_upstream);
    const auto applied = apply_snapshot(p, *ig);
    store_tokens(p.id, *t);
    db_.cached("UPDATE profiles SET needs_login = 0 WHERE id = ?").bind(1, p.id).run();
    record(cfg_.idp_system, cfg_.system_name, ig->id, detail::snapshot_categories(), "login.sync",
           raw, "profile " + std::to_string(p.id) + "; applied: " + join(applied, ","));
    out.session = open_session(p.id);
    tx.commit();
    out.signed_in = load_profile(p.id).value();
    return out;
  }
  link_request lr;
  lr.id = random_.token(24);
  lr.purpose = purpose;
  lr.ig = *ig;
  const auto now = unix_millis(clock_.now());
  db_.cached("DELETE FROM link_requests WHERE expires_at <= ?").bind(1, now).run();
  db_.cached(
         "INSERT INTO link_requests (id, browser_hash, intent, ig_json, access_token, "
         "refresh_token, access_expires_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .bind_all(lr.id, std::span<const std::uint8_t>(browser_hash(browser_key)), to_string(purpose),
                detail::to_json(*ig), t->access, t->refresh, unix_millis(t->access_expires_at),
                now + cfg_.link_ttl.count())
      .run();
  tx.commit();
  out.confirm = get_link_request_locked(lr.id, browser_key).value();
  return out;
}

result<link_request> service::get_link_request_locked(std::string_view id,
                                                      std::string_view browser_key) {
  auto& q = db_.cached(
      "SELECT browser_hash, intent, ig_json FROM link_requests WHERE id = ? AND expires_at > ?");
  q.bind_all(id, unix_millis(clock_.now()));
  if (!q.step()) return make_error_code(errc::link_request_unknown);
  const auto stored = q.get_blob(0);
  if (!constant_time_equal(as_chars(stored), as_chars(browser_hash(browser_key))))
    return make_error_code(errc::link_request_unknown);
  link_request lr;
  lr.id = std::string(id);
  lr.purpose = q.get_text(1) == "signup" ? intent::signup : intent::login;
  auto ig = detail::from_json(q.get_text(2));
  q.reset();
  if (!ig) return make_error_code(errc::link_request_unknown);
  lr.ig = std::move(*ig);
  for (auto f : lr.ig.followers) {
    auto& c = db_.cached("SELECT 1 FROM profiles WHERE ig_user_id = ? AND ig_deleted = 0 LIMIT 1");
    c.bind(1, f);
    if (c.step()) ++lr.followers_with_profiles;
    c.reset();
  }
  return lr;
}

result<link_request> service::get_link_request(std::string_view id, std::string_view browser_key) {
  std::lock_guard lock(mutex_);
  return get_link_request_locked(id, browser_key);
}

result<std::pair<profile, std::string>> service::confirm_link(std::string_view id,
                                                              std::string_view browser_key,
                                                              std::string_view handle) {
  std::int64_t notice = 0;
  auto linked = link_profile(id, browser_key, handle, notice);
  send_notice_now(notice);
  return linked;
}

result<std::pair<profile, std::string>> service::link_profile(std::string_view id,
                                                              std::string_view browser_key,
                                                              std::string_view handle,
                                                              std::int64_t& notice) {
  std::lock_guard lock(mutex_);
  // Everything below is one transaction: an interrupted import leaves no profile, no follows
  // and the link request still waiting.
  store::transaction tx(db_);
  auto lr = get_link_request_locked(id, browser_key);
  if (!lr) return lr.error();
  tokens t;
  {
    auto& q = db_.cached(
        "SELECT access_token, refresh_token, access_expires_at FROM link_requests WHERE id = ?");
    q.bind(1, id);
    q.step();
    t = {q.get_text(0), q.get_text(1), from_unix_millis(q.get_int(2))};
    q.reset();
  }
  const auto& ig = lr->ig;
  if (cfg_.rules.one_profile_per_account && !profiles_locked(ig.id, counts::without).empty())
    return make_error_code(errc::already_linked);

  std::string username = ig.username;
  if (cfg_.rules.username == field_rule::independent) {
    username = handle.empty() ? ig.username : std::string(handle);
    if (!idp::valid_username(username)) return make_error_code(errc::username_invalid);
    if (profile_by_username(username)) return make_error_code(errc::username_taken);
  }
  const auto now = unix_millis(clock_.now());
  db_.cached(
         "INSERT INTO profiles (ig_user_id, display_name, bio, picture_url, picture_sha256, "
         "ig_status, username_version, picture_version, status_version, bio_version, created_at, "
         "last_synced_at, next_sync_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .bind_all(ig.id, ig.name, ig.biography, ig.picture_url, ig.picture_sha256, ig.status,
                ig.version, ig.version, ig.version, ig.version, now, now,
                now + cfg_.reconcile_interval.count())
      .run();
  profile p;
  p.id = db_.last_insert_rowid();
  p.ig_user_id = ig.id;
  if (cfg_.rules.username == field_rule::mirror) {
    set_username(p, username, ig.version);
  } else {
    // A copied or chosen handle is the service's own: when it is taken here, a suffix makes it
    // unique (a mirrored one is unique on the provider already).
    std::string candidate = username;
    for (int n = 2; profile_by_username(candidate); ++n) candidate = username + std::to_string(n);
    db_.cached("UPDATE profiles SET username = ? WHERE id = ?").bind_all(candidate, p.id).run();
  }
  std::int64_t imported = 0;
  for (auto f : ig.followers) {
    auto& c = db_.cached(
        "INSERT OR IGNORE INTO follows (follower, followee, created_at) "
        "SELECT id, ?, ? FROM profiles WHERE ig_user_id = ? AND ig_deleted = 0 AND id != ?");
    c.bind_all(p.id, now, f, p.id).run();
    imported += db_.changes();
  }
  store_tokens(p.id, t);
  db_.cached("DELETE FROM link_requests WHERE id = ?").bind(1, id).run();
  record(cfg_.idp_system, cfg_.system_name, ig.id, detail::import_categories(), "link.import",
         detail::to_json(ig),
         "profile " + std::to_string(p.id) + "; follows imported: " + std::to_string(imported));
  std::string session = open_session(p.id);
  // The new profile's public information goes to the ad platform like any activity.
  auto linked = load_profile(p.id).value();
  notice =
      enqueue_activity_locked(linked.id, linked.ig_user_id, "profile", linked.bio,
                              {"user.account.username", "user.name", "user.content.public"}, {});
  tx.commit();
  return std::pair{std::move(linked), std::move(session)};
}

// --- Sessions ---

std::string service::open_session(std::int64_t profile_id) {
  std::string token = random_.token(32);
  const auto now = unix_millis(clock_.now());
  db_.cached("INSERT INTO sessions (token_hash, profile_id, expires_at) VALUES (?, ?, ?)")
      .bind_all(std::span<const std::uint8_t>(sha256(token)), profile_id,
                now + cfg_.session_ttl.count())
      .run();
  return token;
}

result<profile> service::session_profile(std::string_view session) {
  if (session.empty()) return make_error_code(errc::not_signed_in);
  std::lock_guard lock(mutex_);
  auto& q = db_.cached("SELECT profile_id FROM sessions WHERE token_hash = ? AND expires_at > ?");
  q.bind_all(std::span<const std::uint8_t>(sha256(session)), unix_millis(clock_.now()));
  if (!q.step()) return make_error_code(errc::not_signed_in);
  const auto id = q.get_int(0);
  q.reset();
  auto p = load_profile(id);
  if (!p) return make_error_code(errc::not_signed_in);
  if (p->ig_deleted) return make_error_code(errc::profile_deleted_upstream);
  if (detail::hidden_status(p->ig_status)) return make_error_code(errc::profile_unavailable);
  return p;
}

void service::end_session(std::string_view session) {
  std::lock_guard lock(mutex_);
  db_.cached("DELETE FROM sessions WHERE token_hash = ?")
      .bind(1, std::span<const std::uint8_t>(sha256(session)))
      .run();
}

// --- Profiles ---

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
}  // namespace

result<profile> service::load_profile(std::int64_t id, counts c) {
  static const std::string with = "SELECT " + std::string(profile_columns) +
                                  std::string(profile_counts) + " FROM profiles p WHERE id = ?";
  static const std::string without =
      "SELECT " + std::string(profile_columns) + " FROM profiles p WHERE id = ?";
  const bool with_counts = c == counts::with;
  auto& q = db_.cached(with_counts ? with : without);
  q.bind(1, id);
  if (!q.step()) return make_error_code(errc::profile_not_found);
  profile p = read_profile(q, with_counts);
  q.reset();
  return p;
}

result<profile> service::get_profile(std::int64_t id) {
  std::lock_guard lock(mutex_);
  return load_profile(id);
}

std::vector<profile> service::profiles_of_account(std::int64_t ig_user_id, counts c) {
  std::lock_guard lock(mutex_);
  return profiles_locked(ig_user_id, c);
}

std::vector<profile> service::profiles_locked(std::int64_t ig_user_id, counts c) {
  // One query for all of them; the counts only where they are shown.
  static const std::string with = "SELECT " + std::string(profile_columns) +
                                  std::string(profile_counts) +
                                  " FROM profiles p WHERE ig_user_id = ? ORDER BY id";
  static const std::string without = "SELECT " + std::string(profile_columns) +
                                     " FROM profiles p WHERE ig_user_id = ? ORDER BY id";
  const bool with_counts = c == counts::with;
  auto& q = db_.cached(with_counts ? with : without);
  q.bind(1, ig_user_id);
  std::vector<profile> out;
  while (q.step()) out.push_back(read_profile(q, with_counts));
  return out;
}

std::vector<service::field_versions> service::versions_locked(std::int64_t ig_user_id) {
  auto& q = db_.cached(
      "SELECT id, ig_user_id, username_version, picture_version, status_version, bio_version "
      "FROM profiles WHERE ig_user_id = ? ORDER BY id");
  q.bind(1, ig_user_id);
  std::vector<field_versions> out;
  while (q.step())
    out.push_back(
        {q.get_int(0), q.get_int(1), q.get_int(2), q.get_int(3), q.get_int(4), q.get_int(5)});
  return out;
}

std::optional<std::int64_t> service::profile_by_username(std::string_view username) {
  auto& q = db_.cached("SELECT id FROM profiles WHERE username = ?");
  q.bind(1, username);
  if (!q.step()) return std::nullopt;
  const auto id = q.get_int(0);
  q.reset();
  return id;
}

result<profile> service::public_profile(std::string_view username) {
  std::lock_guard lock(mutex_);
  auto id = profile_by_username(username);
  if (!id) return make_error_code(errc::profile_not_found);
  auto p = load_profile(*id);
  if (!p) return p.error();
  if (p->ig_deleted) return make_error_code(errc::profile_deleted_upstream);
  if (detail::hidden_status(p->ig_status)) return make_error_code(errc::profile_unavailable);
  return p;
}

result<profile> service::edit_profile(std::int64_t profile_id, const profile_edit& edit) {
  const auto& r = cfg_.rules;
  std::lock_guard lock(mutex_);
  store::transaction tx(db_);
  auto p = load_profile(profile_id);
  if (!p) return p.error();
  std::vector<std::string> categories;
  if (edit.username && *edit.username != p->username) {
    if (r.username == field_rule::mirror && !r.username_editable)
      return make_error_code(errc::username_read_only);
    if (!idp::valid_username(*edit.username)) return make_error_code(errc::username_invalid);
    if (auto other = profile_by_username(*edit.username); other && *other != profile_id)
      return make_error_code(errc::username_taken);
    db_.cached("UPDATE profiles SET username = ? WHERE id = ?")
        .bind_all(*edit.username, profile_id)
        .run();
    categories.emplace_back("user.account.username");
  }
  if (edit.picture_url && *edit.picture_url != p->picture_url) {
    if (r.picture == field_rule::mirror) return make_error_code(errc::picture_read_only);
    if (!edit.picture_url->empty() && !edit.picture_url->starts_with("https://") &&
        !edit.picture_url->starts_with("http://"))
      return make_error_code(errc::bad_field);
    // A picture set here is the service's own: no provider hash describes it.
    db_.cached("UPDATE profiles SET picture_url = ?, picture_sha256 = '' WHERE id = ?")
        .bind_all(*edit.picture_url, profile_id)
        .run();
    categories.emplace_back("user.content.self_image");
  }
  if (edit.display_name && *edit.display_name != p->display_name) {
    if (edit.display_name->size() > 64) return make_error_code(errc::bad_field);
    db_.cached("UPDATE profiles SET display_name = ? WHERE id = ?")
        .bind_all(*edit.display_name, profile_id)
        .run();
    categories.emplace_back("user.name");
  }
  if (edit.bio && *edit.bio != p->bio) {
    if (edit.bio->size() > 150) return make_error_code(errc::bad_field);  // Instagram's limit
    db_.cached("UPDATE profiles SET bio = ? WHERE id = ?").bind_all(*edit.bio, profile_id).run();
    categories.emplace_back("user.content.public");
  }
  if (!categories.empty()) {
    // The edit stays on the service: recorded as the user's own input, never sent anywhere.
    record("user", cfg_.system_name, p->ig_user_id, categories, "threads.settings",
           join(categories, ","), "profile " + std::to_string(profile_id));
  }
  tx.commit();
  return load_profile(profile_id);
}

// --- Content ---

result<post> service::create_post(std::int64_t profile_id, std::string_view text,
                                  const request_context& ctx) {
  if (text.empty() || text.size() > 500) return make_error_code(errc::text_invalid);
  post out;
  std::int64_t notice = 0;
  {
    std::lock_guard lock(mutex_);
    store::transaction tx(db_);
    auto p = load_profile(profile_id);
    if (!p) return p.error();
    const auto now = clock_.now();
    db_.cached("INSERT INTO posts (profile_id, text, created_at) VALUES (?, ?, ?)")
        .bind_all(profile_id, text, unix_millis(now))
        .run();
    out.id = db_.last_insert_rowid();
    out.profile_id = profile_id;
    out.author = p->username;
    out.text = std::string(text);
    out.created_at = now;
    notice = enqueue_activity_locked(profile_id, p->ig_user_id, "post", text,
                                     {"user.content.public"}, ctx);
    tx.commit();
  }
  send_notice_now(notice);
  return out;
}

namespace {
// A post is readable while its author's profile exists and is visible; under a profile that
// keeps content after deletion, posts of deleted profiles stay readable too.
constexpr std::string_view post_select =
    "SELECT po.id, po.profile_id, coalesce(pr.username, ''), po.text, po.created_at, "
    "(SELECT count(*) FROM likes WHERE post_id = po.id), pr.id IS NULL, "
    "coalesce(pr.ig_deleted, 0), coalesce(pr.ig_status, 'active') "
    "FROM posts po LEFT JOIN profiles pr ON pr.id = po.profile_id ";

struct post_row {
  post p;
  bool orphan;
  bool author_closed;
};

post_row read_post(store::statement& q) {
  post_row r;
  r.p.id = q.get_int(0);
  r.p.profile_id = q.get_int(1);
  r.p.author = q.get_text(2);
  r.p.text = q.get_text(3);
  r.p.created_at = from_unix_millis(q.get_int(4));
  r.p.likes = q.get_int(5);
  r.orphan = q.get_int(6) != 0;
  r.author_closed = q.get_int(7) != 0 || detail::hidden_status(q.get_text(8));
  return r;
}
}  // namespace

result<post> service::get_post(std::int64_t post_id) {
  std::lock_guard lock(mutex_);
  static const std::string sql = std::string(post_select) + "WHERE po.id = ?";
  auto& q = db_.cached(sql);
  q.bind(1, post_id);
  if (!q.step()) return make_error_code(errc::not_found);
  auto r = read_post(q);
  q.reset();
  if (r.author_closed) return make_error_code(errc::not_found);
  return r.p;
}

std::vector<post> service::posts_of(std::int64_t profile_id, std::size_t limit) {
  std::lock_guard lock(mutex_);
  static const std::string sql =
      std::string(post_select) + "WHERE po.profile_id = ? ORDER BY po.id DESC LIMIT ?";
  auto& q = db_.cached(sql);
  q.bind_all(profile_id, static_cast<std::int64_t>(limit));
  std::vector<post> out;
  while (q.step()) out.push_back(read_post(q).p);
  return out;
}

result<post> service::like(std::int64_t profile_id, std::int64_t post_id,
                           const request_context& ctx) {
  std::int64_t notice = 0;
  {
    std::lock_guard lock(mutex_);
    store::transaction tx(db_);
    static const std::string sql = std::string(post_select) + "WHERE po.id = ?";
    auto& q = db_.cached(sql);
    q.bind(1, post_id);
    if (!q.step()) return make_error_code(errc::not_found);
    auto r = read_post(q);
    q.reset();
    if (r.author_closed || (r.orphan && cfg_.rules.delete_content_with_profile))
      return make_error_code(errc::not_found);
    db_.cached("INSERT OR IGNORE INTO likes (profile_id, post_id, created_at) VALUES (?, ?, ?)")
        .bind_all(profile_id, post_id, unix_millis(clock_.now()))
        .run();
    if (db_.changes() == 0) return make_error_code(errc::already_liked);
    auto me = load_profile(profile_id);
    if (me)
      notice = enqueue_activity_locked(profile_id, me->ig_user_id, "like", r.p.text,
                                       {"user.behavior"}, ctx);
    tx.commit();
  }
  auto liked = get_post(post_id);
  send_notice_now(notice);
  return liked;
}

result<void> service::follow(std::int64_t profile_id, std::string_view username,
                             const request_context& ctx) {
  std::int64_t notice = 0;
  {
    std::lock_guard lock(mutex_);
    store::transaction tx(db_);
    auto other = profile_by_username(username);
    if (!other) return make_error_code(errc::profile_not_found);
    if (*other == profile_id) return make_error_code(errc::self_follow);
    auto p = load_profile(*other);
    if (!p || p->ig_deleted || detail::hidden_status(p->ig_status))
      return make_error_code(errc::profile_not_found);
    db_.cached("INSERT OR IGNORE INTO follows (follower, followee, created_at) VALUES (?, ?, ?)")
        .bind_all(profile_id, *other, unix_millis(clock_.now()))
        .run();
    auto me = load_profile(profile_id);
    if (me)
      notice = enqueue_activity_locked(profile_id, me->ig_user_id, "follow", username,
                                       {"user.behavior"}, ctx);
    tx.commit();
  }
  send_notice_now(notice);
  return {};
}

result<void> service::unfollow(std::int64_t profile_id, std::string_view username) {
  std::lock_guard lock(mutex_);
  auto other = profile_by_username(username);
  if (!other) return make_error_code(errc::profile_not_found);
  db_.cached("DELETE FROM follows WHERE follower = ? AND followee = ?")
      .bind_all(profile_id, *other)
      .run();
  return {};
}

bool service::follows(std::int64_t follower, std::int64_t followee) {
  std::lock_guard lock(mutex_);
  auto& q = db_.cached("SELECT 1 FROM follows WHERE follower = ? AND followee = ?");
  q.bind_all(follower, followee);
  const bool found = q.step();
  q.reset();
  return found;
}

std::vector<std::string> service::followers_of(std::int64_t profile_id) {
  std::lock_guard lock(mutex_);
  auto& q = db_.cached(
      "SELECT coalesce(p.username, '') FROM follows f JOIN profiles p ON p.id = f.follower "
      "WHERE f.followee = ? ORDER BY f.created_at, p.id");
  q.bind(1, profile_id);
  std::vector<std::string> out;
  while (q.step()) out.push_back(q.get_text(0));
  return out;
}

// --- Deletion ---

void service::remove_profile(std::int64_t profile_id) {
  db_.cached("DELETE FROM sessions WHERE profile_id = ?").bind(1, profile_id).run();
  db_.cached("DELETE FROM links WHERE profile_id = ?").bind(1, profile_id).run();
  if (cfg_.rules.delete_content_with_profile) {
    db_.cached("DELETE FROM likes WHERE post_id IN (SELECT id FROM posts WHERE profile_id = ?)")
        .bind(1, profile_id)
        .run();
    db_.cached("DELETE FROM likes WHERE profile_id = ?").bind(1, profile_id).run();
    db_.cached("DELETE FROM posts WHERE profile_id = ?").bind(1, profile_id).run();
    db_.cached("DELETE FROM follows WHERE follower = ? OR followee = ?")
        .bind_all(profile_id, profile_id)
        .run();
  }
  db_.cached("DELETE FROM profiles WHERE id = ?").bind(1, profile_id).run();
  // Activity not yet told is the profile's data too, and goes with it; the deletion notice
  // written after this tells the ad platform to erase what it was told already.
  db_.cached("DELETE FROM ads_notices WHERE profile_id = ? AND kind != 'deletion'")
      .bind(1, profile_id)
      .run();
}

result<void> service::delete_profile(std::int64_t profile_id) {
  std::string token;
  std::int64_t subject = 0, deletion_notice = 0;
  {
    std::lock_guard lock(mutex_);
    store::transaction tx(db_);
    auto p = load_profile(profile_id);
    if (!p) return p.error();
    subject = p->ig_user_id;
    auto& q = db_.cached("SELECT refresh_token FROM links WHERE profile_id = ?");
    q.bind(1, profile_id);
    if (q.step()) token = q.get_text(0);
    q.reset();
    remove_profile(profile_id);
    deletion_notice = enqueue_notice_locked(
        "deletion", profile_id, subject,
        json::serialize(boost::json::object{{"subject", std::to_string(subject)}}));
    tx.commit();
  }
  // Good manners after the fact: the profile is gone whether or not the provider hears of it.
  if (!token.empty()) {
    http::request req;
    req.method = "POST";
    req.target = cfg_.idp_url + "/oauth/revoke";
    req.headers.set("Content-Type", "application/x-www-form-urlencoded");
    req.body = http::form_encode({{"token", token},
                                  {"token_type_hint", "refresh_token"},
                                  {"client_id", cfg_.client_id},
                                  {"client_secret", cfg_.client_secret}});
    auto res = transport_.send(req);
    std::lock_guard lock(mutex_);
    record(cfg_.system_name, cfg_.idp_system, subject, {"user.authorization.credentials"},
           "oauth.revoke", "",
           res ? "HTTP " + std::to_string(res->status) : "not sent: " + res.error().message());
  }
  send_notice_now(deletion_notice);
  return {};
}

}  // namespace linksim::threads_sim
