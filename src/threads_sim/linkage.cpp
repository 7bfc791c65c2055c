// Signing in through the provider: the login state and PKCE verifier, the callback, the
// confirmation step ("Link Account") and the one profile an account may have.
#include "linksim/threads_sim/service.hpp"

#include "domain.hpp"

#include "linksim/common/account_rules.hpp"
#include "linksim/common/crypto.hpp"
#include "linksim/threads_sim/repositories.hpp"

namespace linksim::threads_sim {

namespace {

std::string_view to_string(intent i) {
  return i == intent::signup ? "signup" : "login";
}

// The stored form back; anything but a sign-up reads as a log-in.
intent intent_from(std::string_view stored) {
  return stored == to_string(intent::signup) ? intent::signup : intent::login;
}

digest browser_hash(std::string_view key) {
  return sha256(key);
}

}  // namespace

// --- Signing in ---

login_start domain::linkage::begin_login(intent purpose) {
  login_start s;
  s.browser_key = ctx_.random.token(32);
  const std::string state = ctx_.random.token(24);
  const std::string verifier = ctx_.random.token(48);  // 64 base64url characters (RFC 7636 §4.1)
  {
    std::lock_guard lock(ctx_.mutex);
    const auto now = ctx_.time.now();
    ctx_.repos.sign_ins().add_login_state(state, browser_hash(s.browser_key), verifier,
                                          to_string(purpose), now, now + ctx_.cfg.login_ttl);
  }
  s.authorize_url = ctx_.cfg.idp_url + "/oauth/authorize?" +
                    http::form_encode({{"client_id", ctx_.cfg.client_id},
                                       {"redirect_uri", ctx_.redirect_uri()},
                                       {"response_type", "code"},
                                       {"scope", "user_profile,user_followers"},
                                       {"state", state},
                                       {"code_challenge", base64url_encode(sha256(verifier))},
                                       {"code_challenge_method", "S256"}});
  return s;
}

result<callback_result> domain::linkage::complete_login(std::string_view browser_key,
                                                        const http::params& query) {
  const auto* state = http::find_param(query, "state");
  if (!state || browser_key.empty()) return make_error_code(error::login_state_invalid);
  std::string verifier;
  intent purpose = intent::login;
  {
    // The state is single-use: taken out whatever the outcome.
    std::lock_guard lock(ctx_.mutex);
    auto taken = ctx_.repos.sign_ins().take_login_state(*state, ctx_.time.now());
    if (!taken) return make_error_code(error::login_state_invalid);
    verifier = std::move(taken->verifier);
    purpose = intent_from(taken->intent);
    const digest expected = browser_hash(browser_key);
    if (!constant_time_equal(as_chars(taken->browser_hash), as_chars(expected)))
      return make_error_code(error::login_state_invalid);
  }
  // RFC 9207: the response must come from the provider the request went to.
  const auto* iss = http::find_param(query, "iss");
  if (!iss || *iss != ctx_.cfg.idp_url) return make_error_code(error::issuer_mismatch);
  if (const auto* e = http::find_param(query, "error")) {
    if (*e == "access_denied") return make_error_code(errc::access_denied);
    return make_error_code(errc::upstream_bad_response);
  }
  const auto* code = http::find_param(query, "code");
  if (!code) return make_error_code(errc::upstream_bad_response);

  auto t = provider_.redeem_code(*code, verifier);
  if (!t) return t.error();
  std::string raw;
  auto ig = provider_.fetch_me(t->access, true, &raw);
  if (!ig) return ig.error();
  // A profile of another account than the one the grant is for is not used (as OpenID Connect
  // Core 5.3.2 has a client drop a userinfo answer whose sub is not the ID token's).
  if (ig->id != t->user_id && ctx_.cfg.rules.match_profile_to_grant)
    return make_error_code(errc::upstream_bad_response);
  if (ig->status != "active" && ctx_.cfg.rules.refuse_inactive_accounts)
    return make_error_code(errc::account_inactive);
  if (ig->account_type == "business" && !ctx_.cfg.rules.link_business_accounts)
    return make_error_code(error::account_type_refused);

  std::lock_guard lock(ctx_.mutex);
  auto work = ctx_.repos.begin();
  auto existing = ctx_.profiles_locked(ig->id, counts::without);
  callback_result out;
  if (!existing.empty() && (purpose == intent::login || ctx_.cfg.rules.one_profile_per_account)) {
    if (purpose == intent::signup) return make_error_code(error::already_linked);
    // Signing into an existing profile: the login is also a reconciliation.
    profile p = existing.front();
    if (p.ig_deleted) return make_error_code(error::profile_deleted_upstream);
    const auto applied = mirror_.apply_snapshot(p, *ig);
    provider_.store_tokens(p.id, *t);
    ctx_.repos.profiles().set_needs_login(p.id, false);
    ctx_.record(ctx_.cfg.idp_system, ctx_.cfg.system_name, ig->id, detail::categories_of(*ig),
                "login.sync", raw,
                "profile " + std::to_string(p.id) + "; applied: " + join(applied, ","));
    out.session = ctx_.open_session(p.id);
    work->commit();
    out.signed_in = ctx_.load_profile(p.id).value();
    return out;
  }
  link_request lr;
  lr.id = ctx_.random.token(24);
  lr.purpose = purpose;
  lr.ig = *ig;
  const auto now = ctx_.time.now();
  ctx_.repos.sign_ins().add_link_request(lr.id, browser_hash(browser_key), to_string(purpose),
                                         detail::to_json(*ig), *t, now, now + ctx_.cfg.link_ttl);
  work->commit();
  out.confirm = get_link_request_locked(lr.id, browser_key).value();
  return out;
}

result<link_request> domain::linkage::get_link_request_locked(std::string_view id,
                                                              std::string_view browser_key) {
  const auto stored = ctx_.repos.sign_ins().find_link_request(id, ctx_.time.now());
  if (!stored) return make_error_code(error::link_request_unknown);
  if (!constant_time_equal(as_chars(stored->browser_hash), as_chars(browser_hash(browser_key))))
    return make_error_code(error::link_request_unknown);
  link_request lr;
  lr.id = std::string(id);
  lr.purpose = intent_from(stored->intent);
  auto ig = detail::from_json(stored->ig_json);
  if (!ig) return make_error_code(error::link_request_unknown);
  lr.ig = std::move(*ig);
  for (auto f : lr.ig.followers)
    if (ctx_.repos.profiles().has_open_profile(f)) ++lr.followers_with_profiles;
  return lr;
}

result<link_request> domain::linkage::get_link_request(std::string_view id,
                                                       std::string_view browser_key) {
  std::lock_guard lock(ctx_.mutex);
  return get_link_request_locked(id, browser_key);
}

result<std::pair<profile, std::string>> domain::linkage::confirm_link(std::string_view id,
                                                                      std::string_view browser_key,
                                                                      std::string_view handle) {
  std::int64_t notice = 0;
  auto linked = link_profile(id, browser_key, handle, notice);
  ads_.send_notice_now(notice);
  return linked;
}

result<std::pair<profile, std::string>> domain::linkage::link_profile(std::string_view id,
                                                                      std::string_view browser_key,
                                                                      std::string_view handle,
                                                                      std::int64_t& notice) {
  std::lock_guard lock(ctx_.mutex);
  // Everything below is one transaction: an interrupted import leaves no profile, no follows
  // and the link request still waiting.
  auto work = ctx_.repos.begin();
  auto lr = get_link_request_locked(id, browser_key);
  if (!lr) return lr.error();
  const link_tokens t = ctx_.repos.sign_ins().link_request_tokens(id);
  idp_profile ig = lr->ig;
  if (!ctx_.cfg.rules.import_profile) {
    // The confirmation page listed them; the profile starts without them.
    ig.name.clear();
    ig.biography.clear();
    ig.followers.clear();
  }
  if (!ctx_.cfg.rules.import_picture) {
    ig.picture_url.clear();
    ig.picture_sha256.clear();
  }
  if (ctx_.cfg.rules.one_profile_per_account &&
      !ctx_.profiles_locked(ig.id, counts::without).empty())
    return make_error_code(error::already_linked);

  std::string username = ig.username;
  if (ctx_.cfg.rules.username == field_rule::independent) {
    username = handle.empty() ? ig.username : std::string(handle);
    if (!valid_username(username)) return make_error_code(errc::username_invalid);
    if (ctx_.profile_by_username(username)) return make_error_code(errc::username_taken);
  }
  const auto now = ctx_.time.now();
  idp_profile row = ig;
  // Without the account's id the profile is kept under its username alone: nothing that names
  // the account by id (a change, a poll, a deletion, a second sign-up) finds it again.
  if (!ctx_.cfg.rules.keep_account_id) row.id = 0;
  profile p;
  p.id = ctx_.repos.profiles().add(row, now, now + ctx_.cfg.reconcile_interval);
  p.ig_user_id = row.id;
  if (ctx_.cfg.rules.username == field_rule::mirror) {
    mirror_.set_username(p, username, ig.version);
  } else {
    // A copied or chosen handle is the service's own: when it is taken here, a suffix makes it
    // unique (a mirrored one is unique on the provider already).
    std::string candidate = username;
    for (int n = 2; ctx_.profile_by_username(candidate); ++n)
      candidate = username + std::to_string(n);
    ctx_.repos.profiles().set_username(p.id, candidate);
  }
  if (!ctx_.cfg.rules.atomic_import) {
    // The profile is kept before the rest is imported: a crash from here leaves it half made.
    work->commit();
    work = ctx_.repos.begin();
  }
  std::int64_t imported = 0;
  for (auto f : ig.followers) imported += ctx_.repos.content().import_follower(p.id, f, now);
  provider_.store_tokens(p.id, t);
  ctx_.repos.sign_ins().remove_link_request(id);
  ctx_.record(
      ctx_.cfg.idp_system, ctx_.cfg.system_name, ig.id, detail::categories_of(ig), "link.import",
      detail::to_json(ig),
      "profile " + std::to_string(p.id) + "; follows imported: " + std::to_string(imported));
  std::string session = ctx_.open_session(p.id);
  // The new profile's public information goes to the ad platform like any activity.
  auto linked = ctx_.load_profile(p.id).value();
  notice = ads_.enqueue_activity_locked(linked.id, linked.ig_user_id, "profile", linked.bio, {});
  work->commit();
  return std::pair{std::move(linked), std::move(session)};
}

}  // namespace linksim::threads_sim
