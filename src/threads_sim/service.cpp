// The dependent service: its construction, evidence, sessions, profiles and deletion.
#include "linksim/threads_sim/service.hpp"

#include "internal.hpp"
#include "schema.hpp"

#include "linksim/common/account_rules.hpp"
#include "linksim/common/crypto.hpp"
#include "linksim/common/json.hpp"
#include "linksim/store/sqlite.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>

namespace linksim::threads_sim {

service::service(store::database& db, const clock& clock, random_source& random,
                 evidence::recorder& recorder, http::transport& transport, config cfg)
    : db_(db),
      clock_(clock),
      random_(random),
      recorder_(recorder),
      transport_(transport),
      cfg_(std::move(cfg)) {
  if (cfg_.rules.name.empty()) cfg_.rules = behaviours().front();
  store::migrate(db_, schema::migrations());
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

// --- Sessions ---

std::string service::open_session(std::int64_t profile_id) {
  std::string token = random_.token(32);
  const auto now = unix_millis(clock_.now());
  if (fail_next_import_) {  // the test seam: the process dies as it writes the session
    fail_next_import_ = false;
    throw store::error(4 /* SQLITE_ABORT */, "step: crash during the import");
  }
  db_.cached("INSERT INTO sessions (token_hash, profile_id, expires_at) VALUES (?, ?, ?)")
      .bind_all(std::span<const std::uint8_t>(sha256(token)), profile_id,
                now + cfg_.session_ttl.count())
      .run();
  return token;
}

result<profile> service::session_profile(std::string_view session) {
  if (session.empty()) return make_error_code(error::not_signed_in);
  std::lock_guard lock(mutex_);
  auto& q = db_.cached("SELECT profile_id FROM sessions WHERE token_hash = ? AND expires_at > ?");
  q.bind_all(std::span<const std::uint8_t>(sha256(session)), unix_millis(clock_.now()));
  if (!q.step()) return make_error_code(error::not_signed_in);
  const auto id = q.get_int(0);
  q.reset();
  auto p = load_profile(id);
  if (!p) return make_error_code(error::not_signed_in);
  if (p->ig_deleted) return make_error_code(error::profile_deleted_upstream);
  if (detail::hidden_status(p->ig_status)) return make_error_code(error::profile_unavailable);
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
  if (!q.step()) return make_error_code(error::profile_not_found);
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

std::vector<mirror_versions> service::versions_locked(std::int64_t ig_user_id) {
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
  if (!id) return make_error_code(error::profile_not_found);
  auto p = load_profile(*id);
  if (!p) return p.error();
  if (p->ig_deleted) return make_error_code(error::profile_deleted_upstream);
  if (detail::hidden_status(p->ig_status)) return make_error_code(error::profile_unavailable);
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
      return make_error_code(error::username_read_only);
    if (!valid_username(*edit.username)) return make_error_code(errc::username_invalid);
    if (auto other = profile_by_username(*edit.username); other && *other != profile_id)
      return make_error_code(errc::username_taken);
    db_.cached("UPDATE profiles SET username = ? WHERE id = ?")
        .bind_all(*edit.username, profile_id)
        .run();
    categories.emplace_back("user.account.username");
  }
  if (edit.picture_url && *edit.picture_url != p->picture_url) {
    if (r.picture == field_rule::mirror) return make_error_code(error::picture_read_only);
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
