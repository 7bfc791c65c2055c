// The dependent service: its construction, evidence, sessions, profiles and deletion.
#include "linksim/threads_sim/service.hpp"

#include "internal.hpp"

#include "linksim/common/account_rules.hpp"
#include "linksim/common/crypto.hpp"
#include "linksim/common/json.hpp"
#include "linksim/store/error.hpp"
#include "linksim/threads_sim/repositories.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>

namespace linksim::threads_sim {

service::service(store::database& db, const clock& clock, random_source& random,
                 evidence::recorder& recorder, http::transport& transport, config cfg)
    : own_repos_(sqlite_repositories(db)),
      repos_(*own_repos_),
      clock_(clock),
      random_(random),
      recorder_(recorder),
      transport_(transport),
      cfg_(std::move(cfg)) {
  start();
}

service::service(repositories& repos, const clock& clock, random_source& random,
                 evidence::recorder& recorder, http::transport& transport, config cfg)
    : repos_(repos),
      clock_(clock),
      random_(random),
      recorder_(recorder),
      transport_(transport),
      cfg_(std::move(cfg)) {
  start();
}

void service::start() {
  if (cfg_.rules.name.empty()) cfg_.rules = behaviours().front();
  // The one-profile rule is the schema's, so no code path can get around it; a fault profile
  // that breaks the rule runs without it.
  repos_.enforce_one_profile_per_account(cfg_.rules.one_profile_per_account, cfg_.rules.name);
  // Notices left pending by the last run are sent when due, as if it had never stopped.
  for (const auto& due : repos_.notices().pending()) notice_queue_.insert(due);
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
  const auto now = clock_.now();
  if (fail_next_import_) {  // the test seam: the process dies as it writes the session
    fail_next_import_ = false;
    throw store::error(4 /* SQLITE_ABORT */, "step: crash during the import");
  }
  repos_.sessions().add(sha256(token), profile_id, now + cfg_.session_ttl);
  return token;
}

result<profile> service::session_profile(std::string_view session) {
  if (session.empty()) return make_error_code(error::not_signed_in);
  std::lock_guard lock(mutex_);
  const auto id = repos_.sessions().find(sha256(session), clock_.now());
  if (!id) return make_error_code(error::not_signed_in);
  auto p = load_profile(*id);
  if (!p) return make_error_code(error::not_signed_in);
  if (p->ig_deleted) return make_error_code(error::profile_deleted_upstream);
  if (detail::hidden_status(p->ig_status)) return make_error_code(error::profile_unavailable);
  return p;
}

void service::end_session(std::string_view session) {
  std::lock_guard lock(mutex_);
  repos_.sessions().remove(sha256(session));
}

// --- Profiles ---

result<profile> service::load_profile(std::int64_t id, counts c) {
  auto p = repos_.profiles().find(id, c == counts::with);
  if (!p) return make_error_code(error::profile_not_found);
  return std::move(*p);
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
  return repos_.profiles().of_account(ig_user_id, c == counts::with);
}

std::vector<mirror_versions> service::versions_locked(std::int64_t ig_user_id) {
  return repos_.profiles().versions(ig_user_id);
}

std::optional<std::int64_t> service::profile_by_username(std::string_view username) {
  return repos_.profiles().by_username(username);
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
  auto work = repos_.begin();
  auto p = load_profile(profile_id);
  if (!p) return p.error();
  std::vector<std::string> categories;
  if (edit.username && *edit.username != p->username) {
    if (r.username == field_rule::mirror && !r.username_editable)
      return make_error_code(error::username_read_only);
    if (!valid_username(*edit.username)) return make_error_code(errc::username_invalid);
    if (auto other = profile_by_username(*edit.username); other && *other != profile_id)
      return make_error_code(errc::username_taken);
    repos_.profiles().set_username(profile_id, *edit.username);
    categories.emplace_back("user.account.username");
  }
  if (edit.picture_url && *edit.picture_url != p->picture_url) {
    if (r.picture == field_rule::mirror) return make_error_code(error::picture_read_only);
    if (!edit.picture_url->empty() && !edit.picture_url->starts_with("https://") &&
        !edit.picture_url->starts_with("http://"))
      return make_error_code(errc::bad_field);
    // A picture set here is the service's own: no provider hash describes it.
    repos_.profiles().set_own_picture(profile_id, *edit.picture_url);
    categories.emplace_back("user.content.self_image");
  }
  if (edit.display_name && *edit.display_name != p->display_name) {
    if (edit.display_name->size() > 64) return make_error_code(errc::bad_field);
    repos_.profiles().set_display_name(profile_id, *edit.display_name);
    categories.emplace_back("user.name");
  }
  if (edit.bio && *edit.bio != p->bio) {
    if (edit.bio->size() > 150) return make_error_code(errc::bad_field);  // Instagram's limit
    repos_.profiles().set_bio(profile_id, *edit.bio);
    categories.emplace_back("user.content.public");
  }
  if (!categories.empty()) {
    // The edit stays on the service: recorded as the user's own input, never sent anywhere.
    record("user", cfg_.system_name, p->ig_user_id, categories, "threads.settings",
           join(categories, ","), "profile " + std::to_string(profile_id));
  }
  work->commit();
  return load_profile(profile_id);
}

// --- Deletion ---

void service::remove_profile(std::int64_t profile_id) {
  // Activity not yet told is the profile's data too, and goes with it; the deletion notice
  // written after this tells the ad platform to erase what it was told already.
  repos_.profiles().remove(profile_id, cfg_.rules.delete_content_with_profile);
}

result<void> service::delete_profile(std::int64_t profile_id) {
  std::string token;
  std::int64_t subject = 0, deletion_notice = 0;
  {
    std::lock_guard lock(mutex_);
    auto work = repos_.begin();
    auto p = load_profile(profile_id);
    if (!p) return p.error();
    subject = p->ig_user_id;
    if (auto linked = repos_.links().of_profile(profile_id); linked && linked->tokens)
      token = linked->tokens->refresh;
    remove_profile(profile_id);
    deletion_notice = enqueue_notice_locked(
        "deletion", profile_id, subject,
        json::serialize(boost::json::object{{"subject", std::to_string(subject)}}));
    work->commit();
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
