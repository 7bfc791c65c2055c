// Keeping profiles in step with the provider: its token and profile APIs, signed webhooks,
// Meta's signed_request callbacks and reconciliation polling.
#include "internal.hpp"
#include "mirror.hpp"

#include "linksim/common/account_rules.hpp"
#include "linksim/common/crypto.hpp"
#include "linksim/common/json.hpp"
#include "linksim/store/sqlite.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <charconv>

namespace linksim::threads_sim {
namespace bj = boost::json;

namespace detail {

namespace {
std::optional<std::int64_t> to_id(const bj::value* v) {
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (!v->is_string()) return std::nullopt;
  const auto& s = v->as_string();
  std::int64_t id = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return id;
}

std::string text_of(const bj::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}
}  // namespace

std::string to_json(const idp_profile& p) {
  json::scratch memory;
  bj::array followers(memory.storage());
  for (auto f : p.followers) followers.emplace_back(std::to_string(f));
  return json::serialize(
      bj::object{{{"id", std::to_string(p.id)},
                  {"username", p.username},
                  {"name", p.name},
                  {"biography", p.biography},
                  {"profile_picture_url", p.picture_url},
                  {"profile_picture_sha256", p.picture_sha256},
                  {"account_status", p.status},
                  {"version", p.version},
                  {"followers", bj::object{{{"data", std::move(followers)}}, memory.storage()}}},
                 memory.storage()});
}

result<idp_profile> parse_me(std::string_view body) {
  json::scratch memory;
  auto o = json::parse_object(body, memory.storage());
  if (!o) return make_error_code(errc::upstream_bad_response);
  idp_profile p;
  const auto id = to_id(o->if_contains("id"));
  const auto* version = o->if_contains("version");
  if (!id || !version || !version->is_int64()) return make_error_code(errc::upstream_bad_response);
  p.id = *id;
  p.version = version->as_int64();
  p.username = text_of(*o, "username");
  p.name = text_of(*o, "name");
  p.biography = text_of(*o, "biography");
  p.picture_url = text_of(*o, "profile_picture_url");
  p.picture_sha256 = text_of(*o, "profile_picture_sha256");
  p.status = text_of(*o, "account_status");
  if (p.username.empty() || p.status.empty()) return make_error_code(errc::upstream_bad_response);
  if (const auto* f = o->if_contains("followers"); f && f->is_object()) {
    if (const auto* data = f->as_object().if_contains("data"); data && data->is_array())
      for (const auto& v : data->as_array())
        if (auto fid = to_id(&v)) p.followers.push_back(*fid);
  }
  return p;
}

result<idp_profile> from_json(std::string_view text) {
  return parse_me(text);
}

const std::vector<std::string>& import_categories() {
  static const std::vector<std::string> c{
      "user.unique_id",      "user.account.username",   "user.name",
      "user.content.public", "user.content.self_image", "user.social.followers"};
  return c;
}

const std::vector<std::string>& snapshot_categories() {
  static const std::vector<std::string> c{
      "user.unique_id",      "user.account.username",   "user.name",
      "user.content.public", "user.content.self_image", "user.account"};
  return c;
}

}  // namespace detail

namespace {

http::request form_post(std::string url, const http::params& p) {
  http::request r;
  r.method = "POST";
  r.target = std::move(url);
  r.headers.set("Content-Type", "application/x-www-form-urlencoded");
  r.body = http::form_encode(p);
  return r;
}

// The provider's answer to a token request as an error: 5xx and no answer mean try later.
boost::system::error_code token_error(const result<http::response>& res, errc on_refusal) {
  if (!res || res->status >= 500) return make_error_code(errc::upstream_unavailable);
  if (res->status == 400 || res->status == 401) return make_error_code(on_refusal);
  return make_error_code(errc::upstream_bad_response);
}

}  // namespace

result<service::tokens> service::parse_tokens(const http::response& r, time_point now) {
  json::scratch memory;
  auto o = json::parse_object(r.body, memory.storage());
  if (!o) return make_error_code(errc::upstream_bad_response);
  const auto* access = o->if_contains("access_token");
  const auto* expires = o->if_contains("expires_in");
  if (!access || !access->is_string() || !expires || !expires->is_int64())
    return make_error_code(errc::upstream_bad_response);
  tokens t;
  t.access = std::string(access->as_string());
  if (const auto* refresh = o->if_contains("refresh_token"); refresh && refresh->is_string())
    t.refresh = std::string(refresh->as_string());
  t.access_expires_at = now + std::chrono::seconds(expires->as_int64());
  return t;
}

result<service::tokens> service::redeem_code(std::string_view code, std::string_view verifier) {
  auto res = transport_.send(
      form_post(cfg_.idp_url + "/oauth/token", {{"grant_type", "authorization_code"},
                                                {"code", std::string(code)},
                                                {"redirect_uri", redirect_uri()},
                                                {"code_verifier", std::string(verifier)},
                                                {"client_id", cfg_.client_id},
                                                {"client_secret", cfg_.client_secret}}));
  if (!res || res->status != 200) return token_error(res, errc::login_state_invalid);
  return parse_tokens(*res, clock_.now());
}

result<service::tokens> service::refresh_tokens(const std::string& refresh_token) {
  auto res = transport_.send(
      form_post(cfg_.idp_url + "/oauth/token", {{"grant_type", "refresh_token"},
                                                {"refresh_token", refresh_token},
                                                {"client_id", cfg_.client_id},
                                                {"client_secret", cfg_.client_secret}}));
  if (!res || res->status != 200) return token_error(res, errc::reauthorization_required);
  return parse_tokens(*res, clock_.now());
}

result<idp_profile> service::fetch_me(const std::string& access_token, bool with_followers,
                                      std::string* raw_body) {
  http::request r;
  r.target = cfg_.idp_url +
             "/me?fields=id,username,name,biography,profile_picture_url,profile_picture_sha256,"
             "account_status,version" +
             (with_followers ? ",followers" : "");
  r.headers.set("Authorization", "Bearer " + access_token);
  auto res = transport_.send(std::move(r));
  if (!res || res->status >= 500) return make_error_code(errc::upstream_unavailable);
  if (res->status != 200) {
    // Meta's code 190: the token is no good any more (expired, revoked, account deleted).
    auto o = json::parse_object(res->body);
    const auto* err = o ? o->if_contains("error") : nullptr;
    const auto* code = err && err->is_object() ? err->as_object().if_contains("code") : nullptr;
    if (code && code->is_int64() && code->as_int64() == 190)
      return make_error_code(errc::reauthorization_required);
    return make_error_code(errc::upstream_bad_response);
  }
  if (raw_body) *raw_body = res->body;
  return detail::parse_me(res->body);
}

void service::store_tokens(std::int64_t profile_id, const tokens& t) {
  db_.cached(
         "INSERT INTO links (profile_id, access_token, refresh_token, access_expires_at) "
         "VALUES (?, ?, ?, ?) ON CONFLICT (profile_id) DO UPDATE SET "
         "access_token = excluded.access_token, refresh_token = excluded.refresh_token, "
         "access_expires_at = excluded.access_expires_at")
      .bind_all(profile_id, t.access, t.refresh, unix_millis(t.access_expires_at))
      .run();
}

void service::set_username(std::int64_t profile_id, std::int64_t ig_user_id,
                           const std::string& username, std::int64_t version) {
  // The provider's usernames are unique, so a profile here holding the same name has a stale
  // mirror: the other half of a swap whose change has not arrived yet. It gives the name up and
  // is polled at once; its own change or that poll gives it its new name.
  // A holder linked to the same provider account (only where one account may have two
  // profiles, a fault profile) has no other name to take: it waits a whole interval, so the two
  // trade the name at the polling pace instead of taking it from each other forever at once.
  db_.cached(
         "UPDATE profiles SET username = NULL, next_sync_at = CASE WHEN ig_user_id = ? "
         "THEN ? ELSE ? END WHERE username = ? AND id != ?")
      .bind_all(ig_user_id, unix_millis(clock_.now()) + cfg_.reconcile_interval.count(),
                unix_millis(clock_.now()), username, profile_id)
      .run();
  db_.cached("UPDATE profiles SET username = ?, username_version = ? WHERE id = ?")
      .bind_all(username, version, profile_id)
      .run();
}

void service::set_username(profile& p, const std::string& username, std::int64_t version) {
  set_username(p.id, p.ig_user_id, username, version);
  p.username = username;
  p.username_version = version;
}

std::vector<std::string> service::apply_snapshot(profile& p, const idp_profile& ig) {
  const auto& r = cfg_.rules;
  std::vector<std::string> applied;
  auto newer = [&](std::int64_t have) { return !r.order_by_version || ig.version > have; };
  // A profile that gave its name up (set_username) takes the provider's current one whatever the
  // versions say: the change that took its name may have been older than its own, and a
  // snapshot is what the provider holds now.
  const bool gave_name_up = p.username.empty() && r.order_by_version;
  // The username is written at once (set_username); the other fields are decided on `p` and
  // written back with the sync times in one statement.
  for (const auto& f : mirror::fields()) {
    if (!f.differs || !f.mirrored(r)) continue;  // a group's other fields come with its first
    const bool username = f.update_sql.empty();
    if (!newer(p.*f.version) && !(username && gave_name_up)) continue;
    if (f.differs(p, ig)) {
      if (username)
        set_username(p, ig.username, ig.version);
      else
        f.take(p, ig);
      applied.emplace_back(f.group);
    }
    p.*f.version = ig.version;
  }
  const auto now = unix_millis(clock_.now());
  db_.cached(
         "UPDATE profiles SET username_version = ?, picture_url = ?, picture_sha256 = ?, "
         "picture_version = ?, display_name = ?, bio = ?, bio_version = ?, ig_status = ?, "
         "status_version = ?, last_synced_at = ?, next_sync_at = ? WHERE id = ?")
      .bind_all(p.username_version, p.picture_url, p.picture_sha256, p.picture_version,
                p.display_name, p.bio, p.bio_version, p.ig_status, p.status_version, now,
                now + cfg_.reconcile_interval.count(), p.id)
      .run();
  p.last_synced_at = from_unix_millis(now);
  return applied;
}

// --- Webhooks ---

result<std::string> service::handshake(const http::params& query) {
  const auto* mode = http::find_param(query, "hub.mode");
  const auto* token = http::find_param(query, "hub.verify_token");
  const auto* challenge = http::find_param(query, "hub.challenge");
  if (!mode || *mode != "subscribe" || !challenge) return make_error_code(errc::bad_field);
  if (!token || cfg_.webhook_verify_token.empty() ||
      !constant_time_equal(*token, cfg_.webhook_verify_token))
    return make_error_code(errc::verify_token_mismatch);
  return *challenge;
}

namespace {
// One change of an envelope, pointing into the parsed envelope, which must outlive it.
struct change {
  std::int64_t account = 0;
  std::string_view field;
  const bj::object* value = nullptr;
  std::int64_t version = 0;
};

result<std::vector<change>> changes_of(const bj::object& envelope) {
  const auto* entries = envelope.if_contains("entry");
  if (!entries || !entries->is_array()) return make_error_code(errc::bad_json);
  std::vector<change> out;
  for (const auto& e : entries->as_array()) {
    if (!e.is_object()) return make_error_code(errc::bad_json);
    const auto* id = e.as_object().if_contains("id");
    const auto* changes = e.as_object().if_contains("changes");
    if (!id || !id->is_string() || !changes || !changes->is_array())
      return make_error_code(errc::bad_json);
    std::int64_t account = 0;
    const auto& s = id->as_string();
    if (std::from_chars(s.data(), s.data() + s.size(), account).ec != std::errc{})
      return make_error_code(errc::bad_json);
    for (const auto& c : changes->as_array()) {
      const auto* co = c.if_object();
      const auto* field = co ? co->if_contains("field") : nullptr;
      const auto* value = co ? co->if_contains("value") : nullptr;
      if (!field || !field->is_string() || !value || !value->is_object())
        return make_error_code(errc::bad_json);
      const auto* version = value->as_object().if_contains("version");
      if (!version || !version->is_int64()) return make_error_code(errc::bad_json);
      out.push_back({account, field->as_string(), &value->as_object(), version->as_int64()});
    }
  }
  return out;
}

std::string value_text(const bj::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}
}  // namespace

void service::write_change(const mirror::field& f, const mirror_versions& p,
                           const std::array<std::string, 2>& values, std::int64_t version) {
  if (f.update_sql.empty()) {
    set_username(p.id, p.ig_user_id, values[0], version);
    return;
  }
  auto& update = db_.cached(f.update_sql);
  int column = 1;
  for (std::size_t i = 0; i < f.keys.size(); ++i)
    if (!f.keys[i].empty()) update.bind(column++, values[i]);
  update.bind(column++, version).bind(column, p.id).run();
}

result<webhook_outcome> service::receive_webhook(std::string_view raw_body,
                                                 std::string_view signature_header) {
  // The signature covers the exact bytes received: check it before reading anything.
  if (cfg_.rules.verify_webhook_signatures) {
    const std::string expected = "sha256=" + to_hex(hmac_sha256(cfg_.client_secret, raw_body));
    if (!constant_time_equal(signature_header, expected))
      return make_error_code(errc::signature_invalid);
  }
  json::scratch memory;  // the envelope is read here and dropped with the request
  auto envelope = json::parse_object(raw_body, memory.storage());
  if (!envelope) return envelope.error();
  auto changes = changes_of(*envelope);
  if (!changes) return changes.error();

  webhook_outcome out;
  const auto& r = cfg_.rules;
  std::lock_guard lock(mutex_);
  store::transaction tx(db_);
  const auto now = unix_millis(clock_.now());
  // Every change is recorded with the digest of the body it came in (a batch is hashed once).
  const std::string body_digest = to_hex(sha256(raw_body));
  for (const auto& c : *changes) {
    std::string key = std::to_string(c.account);
    key += '/';
    key += c.field;
    key += '/';
    key += std::to_string(c.version);
    db_.cached("INSERT OR IGNORE INTO applied_changes (change_key, received_at) VALUES (?, ?)")
        .bind_all(key, now)
        .run();
    std::string outcome;
    if (db_.changes() == 0) {
      ++out.duplicates;
      outcome = "duplicate";
    } else {
      const auto profiles = versions_locked(c.account);
      if (profiles.empty()) outcome = "no profile";
      for (const auto& p : profiles) {
        auto newer = [&](std::int64_t have) { return !r.order_by_version || c.version > have; };
        const std::string tag = "profile " + std::to_string(p.id) + ": ";
        auto stale = [&] {
          ++out.stale;
          outcome += tag + "stale; ";
        };
        auto applied = [&] {
          ++out.applied;
          outcome += tag + "applied; ";
        };
        auto ignored = [&](std::string_view why) {
          ++out.ignored;
          outcome += tag + "ignored (" + std::string(why) + "); ";
        };
        if (c.field == "account_deletion") {
          // Final whatever its version: the profile is closed and its sign-ins end.
          db_.cached("UPDATE profiles SET ig_deleted = 1 WHERE id = ?").bind(1, p.id).run();
          db_.cached("DELETE FROM sessions WHERE profile_id = ?").bind(1, p.id).run();
          db_.cached("DELETE FROM links WHERE profile_id = ?").bind(1, p.id).run();
          applied();
        } else if (const auto* f = mirror::find(c.field); !f) {
          ignored("unknown field");
        } else if (!f->mirrored(r)) {
          ignored(f->not_mirrored);
        } else if (!newer(p.*f->held)) {
          stale();
        } else {
          write_change(*f, p, {value_text(*c.value, f->keys[0]), value_text(*c.value, f->keys[1])},
                       c.version);
          applied();
        }
      }
      if (profiles.empty()) ++out.ignored;
    }
    record_hashed(cfg_.idp_system, cfg_.system_name, c.account, categories_of_field(c.field),
                  "webhook.receive", body_digest,
                  std::string(c.field) + " v" + std::to_string(c.version) + ": " + outcome);
  }
  tx.commit();
  return out;
}

}  // namespace linksim::threads_sim
