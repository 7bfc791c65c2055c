// Profiles and their sessions: reading, editing and deleting them; and the context helpers every
// part reads profiles and records flows with.
#include "linksim/threads_sim/service.hpp"

#include "domain.hpp"

#include "linksim/common/account_rules.hpp"
#include "linksim/common/crypto.hpp"
#include "linksim/common/json.hpp"
#include "linksim/idp/internal_api.hpp"
#include "linksim/store/error.hpp"
#include "linksim/threads_sim/repositories.hpp"

#include <boost/json/object.hpp>

#include <mutex>

namespace linksim::threads_sim {

void domain::context::record(std::string_view from, std::string_view to, std::int64_t subject,
                             const std::vector<std::string>& categories, std::string_view channel,
                             std::string_view payload, std::string note,
                             std::string_view purpose) const {
  record_hashed(from, to, subject, categories, channel, to_hex(sha256(payload)), std::move(note),
                purpose);
}

void domain::context::record_hashed(std::string_view from, std::string_view to,
                                    std::int64_t subject,
                                    const std::vector<std::string>& categories,
                                    std::string_view channel, std::string payload_digest,
                                    std::string note, std::string_view purpose) const {
  evidence::flow f;
  f.time = time.now();
  f.from = std::string(from);
  f.to = std::string(to);
  f.subject = std::to_string(subject);
  f.categories = categories;
  f.purpose = std::string(purpose);
  f.channel = std::string(channel);
  f.payload_digest = std::move(payload_digest);
  f.note = std::move(note);
  recorder.record(f);
}

// --- Sessions ---

std::string domain::context::open_session(std::int64_t profile_id) {
  std::string token = random.token(32);
  const auto now = time.now();
  if (fail_next_import) {  // the test seam: the process dies as it writes the session
    fail_next_import = false;
    throw store::error(4 /* SQLITE_ABORT */, "step: crash during the import");
  }
  repos.sessions().add(sha256(token), profile_id, now + cfg.session_ttl);
  return token;
}

result<profile> domain::profiles::session_profile(std::string_view session) {
  if (session.empty()) return make_error_code(error::not_signed_in);
  std::lock_guard lock(ctx_.mutex);
  const auto id = ctx_.repos.sessions().find(sha256(session), ctx_.time.now());
  if (!id) return make_error_code(error::not_signed_in);
  auto p = ctx_.load_profile(*id);
  if (!p) return make_error_code(error::not_signed_in);
  if (p->ig_deleted) return make_error_code(error::profile_deleted_upstream);
  if (detail::hidden_status(p->ig_status)) return make_error_code(error::profile_unavailable);
  return p;
}

void domain::profiles::end_session(std::string_view session) {
  std::lock_guard lock(ctx_.mutex);
  ctx_.repos.sessions().remove(sha256(session));
}

// --- Profiles ---

result<profile> domain::context::load_profile(std::int64_t id, counts c) {
  auto p = repos.profiles().find(id, c == counts::with);
  if (!p) return make_error_code(error::profile_not_found);
  return std::move(*p);
}

result<profile> domain::profiles::get(std::int64_t id) {
  std::lock_guard lock(ctx_.mutex);
  return ctx_.load_profile(id);
}

std::vector<profile> domain::profiles::of_account(std::int64_t ig_user_id, counts c) {
  std::lock_guard lock(ctx_.mutex);
  return ctx_.profiles_locked(ig_user_id, c);
}

std::vector<profile> domain::context::profiles_locked(std::int64_t ig_user_id, counts c) {
  return repos.profiles().of_account(ig_user_id, c == counts::with);
}

std::optional<std::int64_t> domain::context::profile_by_username(std::string_view username) {
  return repos.profiles().by_username(username);
}

result<profile> domain::profiles::public_profile(std::string_view username) {
  std::lock_guard lock(ctx_.mutex);
  auto id = ctx_.profile_by_username(username);
  if (!id) return make_error_code(error::profile_not_found);
  auto p = ctx_.load_profile(*id);
  if (!p) return p.error();
  if (p->ig_deleted) return make_error_code(error::profile_deleted_upstream);
  if (detail::hidden_status(p->ig_status)) return make_error_code(error::profile_unavailable);
  return p;
}

result<profile> domain::profiles::edit(std::int64_t profile_id, const profile_edit& edit) {
  const auto& r = ctx_.cfg.rules;
  std::optional<std::string> sent_name, sent_bio;  // written back to the provider (a fault)
  std::unique_lock lock(ctx_.mutex);
  auto work = ctx_.repos.begin();
  auto p = ctx_.load_profile(profile_id);
  if (!p) return p.error();
  const std::int64_t subject = p->ig_user_id;
  std::vector<std::string> categories;
  if (edit.username && *edit.username != p->username) {
    if (r.username == field_rule::mirror && !r.username_editable)
      return make_error_code(error::username_read_only);
    if (!valid_username(*edit.username)) return make_error_code(errc::username_invalid);
    if (auto other = ctx_.profile_by_username(*edit.username); other && *other != profile_id)
      return make_error_code(errc::username_taken);
    ctx_.repos.profiles().set_username(profile_id, *edit.username);
    categories.emplace_back("user.account.username");
  }
  if (edit.picture_url && *edit.picture_url != p->picture_url) {
    if (r.picture == field_rule::mirror) return make_error_code(error::picture_read_only);
    if (!edit.picture_url->empty() && !edit.picture_url->starts_with("https://") &&
        !edit.picture_url->starts_with("http://"))
      return make_error_code(errc::bad_field);
    // A picture set here is the service's own: no provider hash describes it.
    ctx_.repos.profiles().set_own_picture(profile_id, *edit.picture_url);
    categories.emplace_back("user.content.self_image");
  }
  if (edit.display_name && *edit.display_name != p->display_name) {
    if (!r.name_editable) return make_error_code(error::name_read_only);
    if (edit.display_name->size() > 64) return make_error_code(errc::bad_field);
    ctx_.repos.profiles().set_display_name(profile_id, *edit.display_name);
    categories.emplace_back("user.name");
  }
  if (edit.bio && *edit.bio != p->bio) {
    if (!r.bio_editable) return make_error_code(error::bio_read_only);
    if (edit.bio->size() > 150) return make_error_code(errc::bad_field);  // Instagram's limit
    ctx_.repos.profiles().set_bio(profile_id, *edit.bio);
    categories.emplace_back("user.content.public");
  }
  if (!categories.empty()) {
    // The edit stays on the service: recorded as the user's own input, never sent anywhere.
    ctx_.record("user", ctx_.cfg.system_name, p->ig_user_id, categories, "threads.settings",
                join(categories, ","), "profile " + std::to_string(profile_id));
  }
  if (!r.keep_edits_on_service) {
    if (edit.display_name && *edit.display_name != p->display_name) sent_name = edit.display_name;
    if (edit.bio && *edit.bio != p->bio) sent_bio = edit.bio;
  }
  work->commit();
  if (sent_name || sent_bio) {
    // The edit is kept here whatever the provider answers; the call is made without the lock.
    lock.unlock();
    auto res = idp::write_profile(ctx_.transport, ctx_.cfg.idp_url, ctx_.cfg.internal_token,
                                  subject, sent_name, sent_bio);
    lock.lock();
    std::vector<std::string> sent;
    if (sent_name) sent.emplace_back("user.name");
    if (sent_bio) sent.emplace_back("user.content.public");
    ctx_.record(ctx_.cfg.system_name, ctx_.cfg.idp_system, subject, sent, "profile.sync",
                join(sent, ","),
                res ? "HTTP " + std::to_string(*res) : "not sent: " + res.error().message());
  }
  return ctx_.load_profile(profile_id);
}

// --- Deletion ---

void domain::profiles::remove_locked(std::int64_t profile_id) {
  if (!ctx_.cfg.rules.erase_profile_on_deletion) {
    // Closed, not erased: the row stays with the account id, and its sign-ins end.
    ctx_.repos.profiles().close(profile_id);
    ctx_.repos.sessions().remove_of(profile_id);
    ctx_.repos.links().remove(profile_id);
    return;
  }
  // Activity not yet told is the profile's data too, and goes with it; the deletion notice
  // written after this tells the ad platform to erase what it was told already.
  ctx_.repos.profiles().remove(profile_id, ctx_.cfg.rules.delete_content_with_profile);
}

result<void> domain::profiles::remove(std::int64_t profile_id) {
  std::string token;
  std::int64_t subject = 0, deletion_notice = 0;
  {
    std::lock_guard lock(ctx_.mutex);
    auto work = ctx_.repos.begin();
    auto p = ctx_.load_profile(profile_id);
    if (!p) return p.error();
    subject = p->ig_user_id;
    if (auto linked = ctx_.repos.links().of_profile(profile_id); linked && linked->tokens)
      token = linked->tokens->refresh;
    remove_locked(profile_id);
    ctx_.repos.receipts().forget_account(subject);
    deletion_notice = ads_.enqueue_notice_locked(
        "deletion", profile_id, subject,
        json::serialize(boost::json::object{{"subject", std::to_string(subject)}}));
    work->commit();
  }
  // Good manners after the fact: the profile is gone whether or not the provider hears of it.
  if (!token.empty()) {
    http::request req;
    req.method = "POST";
    req.target = ctx_.cfg.idp_url + "/oauth/revoke";
    req.headers.set("Content-Type", "application/x-www-form-urlencoded");
    req.body = http::form_encode({{"token", token},
                                  {"token_type_hint", "refresh_token"},
                                  {"client_id", ctx_.cfg.client_id},
                                  {"client_secret", ctx_.cfg.client_secret}});
    auto res = ctx_.transport.send(req);
    std::lock_guard lock(ctx_.mutex);
    ctx_.record(ctx_.cfg.system_name, ctx_.cfg.idp_system, subject,
                {"user.authorization.credentials"}, "oauth.revoke", "",
                res ? "HTTP " + std::to_string(res->status) : "not sent: " + res.error().message());
  }
  ads_.send_notice_now(deletion_notice);
  return {};
}

}  // namespace linksim::threads_sim
