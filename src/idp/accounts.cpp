// Accounts, pictures, follows and ad settings.
#include "domain.hpp"

#include "linksim/common/json.hpp"
#include "linksim/idp/repositories.hpp"

#include <boost/json/object.hpp>

#include <algorithm>

namespace linksim::idp {
namespace detail {

bool known_scope(std::string_view s) {
  return s == scope_profile || s == scope_followers || s == oidc::scope_openid ||
         s == oidc::scope_profile;
}

}  // namespace detail

namespace {

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

result<account> domain::accounts::load_locked(std::int64_t id) {
  auto a = ctx_.repos.accounts().find(id);
  if (!a) return make_error_code(errc::not_found);
  // Derived from the issuer, so the URL follows the server to another address or port.
  if (!a->picture_sha256.empty())
    a->picture_url = ctx_.cfg.issuer + "/pictures/" + a->picture_sha256;
  return std::move(*a);
}

bool within_chars(std::string_view text, std::size_t max) {
  if (text.size() > 4 * max) return false;  // more than `max` code points whatever they are
  const auto chars = utf8_length(text);
  return chars && *chars <= max;
}

result<account> domain::accounts::create(const new_account& n) {
  if (!valid_username(n.username)) return make_error_code(errc::username_invalid);
  if (!within_chars(n.display_name, max_name_chars) || !within_chars(n.bio, max_bio_chars))
    return make_error_code(errc::bad_field);
  // The slow hash runs outside the lock: other requests need not wait for it.
  const std::string hash = hash_password(n.password, ctx_.random, ctx_.cfg.password);
  std::lock_guard lock(ctx_.mutex);
  auto work = ctx_.repos.begin();
  if (!ctx_.repos.accounts().username_free(n.username, 0))
    return make_error_code(errc::username_taken);
  // Ids look like Instagram's and stay below 2^53, so JavaScript clients read them exactly.
  std::int64_t id = 0;
  do {
    id = 1784140000000000 + static_cast<std::int64_t>(ctx_.random.uniform(100'000'000'000'000));
  } while (ctx_.repos.accounts().exists(id));
  ctx_.repos.accounts().add(id, n, hash, ctx_.time.now());
  auto a = load_locked(id);
  work->commit();
  return a;
}

result<account> domain::accounts::get(std::int64_t id) {
  std::lock_guard lock(ctx_.mutex);
  return load_locked(id);
}

result<account> domain::accounts::find(std::string_view username) {
  std::lock_guard lock(ctx_.mutex);
  const auto id = ctx_.repos.accounts().by_username(username);
  if (!id) return make_error_code(errc::not_found);
  return load_locked(*id);
}

result<account> domain::accounts::update_profile(std::int64_t id, const profile_change& change) {
  if (change.username && !valid_username(*change.username))
    return make_error_code(errc::username_invalid);
  if (change.status == account_status::deleted) return make_error_code(errc::bad_field);
  if ((change.display_name && !within_chars(*change.display_name, max_name_chars)) ||
      (change.bio && !within_chars(*change.bio, max_bio_chars)))
    return make_error_code(errc::bad_field);
  std::lock_guard lock(ctx_.mutex);
  ctx_.forget_cached();  // the cached tokens carry this account
  auto work = ctx_.repos.begin();
  auto before = load_locked(id);
  if (!before) return before.error();
  if (before->status == account_status::deleted) return make_error_code(errc::account_deleted);
  account a = *before;

  // One outbox event per changed field, each with its own version.
  json::scratch memory;
  auto bump = [&](account_column column, std::string_view value) {
    ++a.version;
    ctx_.repos.accounts().write(id, column, value, a.version);
  };
  if (change.username && *change.username != a.username) {
    if (!ctx_.repos.accounts().username_free(*change.username, id))
      return make_error_code(errc::username_taken);
    const std::string previous = a.username;
    a.username = *change.username;
    bump(account_column::username, a.username);
    auto v = change_value("username", a.username, a, memory);
    v["previous_username"] = previous;
    outbox_.enqueue_change(a, "username", json::serialize(v));
  }
  if (change.display_name && *change.display_name != a.display_name) {
    a.display_name = *change.display_name;
    bump(account_column::display_name, a.display_name);
    outbox_.enqueue_change(a, "name",
                           json::serialize(change_value("name", a.display_name, a, memory)));
  }
  if (change.bio && *change.bio != a.bio) {
    a.bio = *change.bio;
    bump(account_column::bio, a.bio);
    outbox_.enqueue_change(a, "biography",
                           json::serialize(change_value("biography", a.bio, a, memory)));
  }
  if (change.type && *change.type != a.type) {
    a.type = *change.type;
    bump(account_column::type, to_string(a.type));
  }
  if (change.status && *change.status != a.status) {
    a.status = *change.status;
    bump(account_column::status, to_string(a.status));
    outbox_.enqueue_change(a, "account_status",
                           json::serialize(change_value("status", to_string(a.status), a, memory)));
  }
  work->commit();
  return a;  // as stored: every column written above was also set on `a`
}

result<void> domain::accounts::change_password(std::int64_t id, std::string_view password) {
  if (!password_within_bounds(password)) return make_error_code(errc::bad_field);
  const std::string hash = hash_password(password, ctx_.random, ctx_.cfg.password);
  std::lock_guard lock(ctx_.mutex);
  auto work = ctx_.repos.begin();
  auto before = load_locked(id);
  if (!before) return before.error();
  if (before->status == account_status::deleted) return make_error_code(errc::account_deleted);
  ctx_.repos.accounts().set_password_hash(id, hash);
  // Every browser logged in to it logs in again; the apps' grants stand, and a receiver of its
  // Shared Signals decides what the change means to it.
  ctx_.repos.sessions().remove_account(id);
  outbox_.enqueue_credential_change(id);
  work->commit();
  return {};
}

result<account> domain::accounts::set_picture(std::int64_t id, const picture& p) {
  static constexpr std::string_view allowed[] = {"image/png", "image/jpeg", "image/gif",
                                                 "image/webp"};
  if (std::find(std::begin(allowed), std::end(allowed), p.content_type) == std::end(allowed))
    return make_error_code(errc::unsupported_media_type);
  const std::string hash = to_hex(sha256(p.bytes));
  std::lock_guard lock(ctx_.mutex);
  ctx_.forget_cached();  // the cached tokens carry this account
  auto work = ctx_.repos.begin();
  auto before = load_locked(id);
  if (!before) return before.error();
  if (before->status == account_status::deleted) return make_error_code(errc::account_deleted);
  if (before->picture_sha256 == hash) return before;
  ctx_.repos.accounts().add_picture(hash, p);
  account a = *before;
  a.picture_sha256 = hash;
  a.picture_url = ctx_.cfg.issuer + "/pictures/" + hash;
  ++a.version;
  ctx_.repos.accounts().set_picture(id, a.picture_sha256, a.version);
  json::scratch memory;
  auto v = change_value("profile_picture_url", a.picture_url, a, memory);
  v["profile_picture_sha256"] = a.picture_sha256;
  outbox_.enqueue_change(a, "profile_picture", json::serialize(v));
  work->commit();
  return a;
}

result<picture> domain::accounts::get_picture(std::string_view sha256_hex) {
  std::lock_guard lock(ctx_.mutex);
  auto p = ctx_.repos.accounts().find_picture(sha256_hex);
  if (!p) return make_error_code(errc::not_found);
  return std::move(*p);
}

result<account> domain::accounts::remove(std::int64_t id) {
  std::lock_guard lock(ctx_.mutex);
  ctx_.forget_cached();  // the cached tokens carry this account
  auto work = ctx_.repos.begin();
  auto before = load_locked(id);
  if (!before) return before.error();
  if (before->status == account_status::deleted) return make_error_code(errc::account_deleted);
  account a = *before;
  a.status = account_status::deleted;
  ++a.version;
  // The accounts on the other side of its follows stop counting it.
  ctx_.repos.accounts().mark_deleted(id, a.version);
  // Tell clients while their grants still stand, then end every grant.
  json::scratch memory;
  outbox_.enqueue_change(a, "account_deletion",
                         json::serialize(boost::json::object{
                             {{"deleted", true}, {"version", a.version}}, memory.storage()}));
  for (const auto& [client_id, url] : ctx_.repos.clients().deletion_callbacks(id))
    outbox_.enqueue_callback(id, client_id, "data_deletion", url);
  ctx_.repos.grants().revoke_grants_of(id, unix_millis(ctx_.time.now()));
  ctx_.repos.sessions().remove_account(id);
  work->commit();
  return a;
}

result<void> domain::accounts::follow(std::int64_t follower, std::int64_t followee) {
  if (follower == followee) return make_error_code(errc::self_follow);
  std::lock_guard lock(ctx_.mutex);
  for (auto id : {follower, followee}) {
    auto a = load_locked(id);
    if (!a) return a.error();
    if (a->status == account_status::deleted) return make_error_code(errc::account_deleted);
  }
  auto work = ctx_.repos.begin();
  // Neither is deleted (checked above): each counts the other. Followed already: nothing to do.
  if (ctx_.repos.accounts().add_follow(follower, followee, ctx_.time.now())) work->commit();
  return {};
}

result<void> domain::accounts::unfollow(std::int64_t follower, std::int64_t followee) {
  std::lock_guard lock(ctx_.mutex);
  auto work = ctx_.repos.begin();
  // Each side counted the other only while the other was not deleted.
  if (!ctx_.repos.accounts().remove_follow(follower, followee))
    return make_error_code(errc::not_found);
  work->commit();
  return {};
}

std::vector<std::int64_t> domain::accounts::followers_of(std::int64_t id) {
  std::lock_guard lock(ctx_.mutex);
  return ctx_.repos.accounts().followers_of(id);
}

result<ad_settings> domain::accounts::get_ad_settings(std::int64_t id) {
  std::lock_guard lock(ctx_.mutex);
  auto a = load_locked(id);
  if (!a) return a.error();
  return ctx_.repos.accounts().find_ad_settings(id).value_or(ad_settings{});
}

result<ad_settings> domain::accounts::set_ad_settings(std::int64_t id, bool personalized_ads) {
  std::lock_guard lock(ctx_.mutex);
  auto a = load_locked(id);
  if (!a) return a.error();
  if (a->status == account_status::deleted) return make_error_code(errc::account_deleted);
  const auto now = ctx_.time.now();
  const bool before =
      ctx_.repos.accounts().find_ad_settings(id).value_or(ad_settings{}).personalized_ads;
  auto work = ctx_.repos.begin();
  ctx_.repos.accounts().set_ad_settings(id, personalized_ads, now);
  // Told to the receivers that asked, in the same unit of work; setting the same value again
  // tells nothing.
  if (before != personalized_ads) outbox_.enqueue_ad_setting(id, personalized_ads);
  work->commit();
  return ad_settings{personalized_ads, now};
}

}  // namespace linksim::idp
