// OAuth 2.0 authorization code with PKCE, Meta's token exchanges, revocation and introspection.
#include "domain.hpp"

#include "linksim/common/json.hpp"
#include "linksim/idp/repositories.hpp"

#include <algorithm>

namespace linksim::idp {
namespace {

bool pkce_chars(std::string_view s) {
  // RFC 7636 §4.1: unreserved characters only.
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
  });
}

std::string with_query(std::string_view uri, const http::params& p) {
  std::string out(uri);
  out += uri.find('?') == std::string_view::npos ? '?' : '&';
  out += http::form_encode(p);
  return out;
}

std::string oauth_error_name(const boost::system::error_code& ec) {
  if (is(ec, error::unsupported_response_type)) return "unsupported_response_type";
  if (is(ec, error::invalid_scope)) return "invalid_scope";
  if (is(ec, errc::access_denied)) return "access_denied";
  if (is(ec, error::login_required)) return "login_required";
  if (is(ec, error::consent_required)) return "consent_required";
  // RFC 6749 §4.1.2.1: overloaded, as when the requests waiting are at their bound.
  if (is(ec, errc::upstream_unavailable)) return "temporarily_unavailable";
  return "invalid_request";
}

using token_row = grant_repository::token_row;

// An access token that is neither revoked (itself or its grant) nor expired.
result<token_row> live_access_token(grant_repository& grants, std::string_view token,
                                    std::int64_t now) {
  auto t = grants.find_token(sha256(token));
  if (!t || t->kind != "access" || t->revoked_at || t->grant_revoked_at)
    return make_error_code(error::token_invalid);
  if (t->expires_at <= now) return make_error_code(error::token_expired);
  return *t;
}

}  // namespace

result<pending_authorization> domain::authorization::begin(const authorize_request& req) {
  auto c = clients_.get(req.client_id);
  if (!c) return make_error_code(error::unknown_client);
  // RFC 9700 §4.1.3: exact string match, no normalisation.
  if (std::find(c->redirect_uris.begin(), c->redirect_uris.end(), req.redirect_uri) ==
      c->redirect_uris.end()) {
    return make_error_code(error::redirect_uri_unregistered);
  }
  if (req.response_type != "code") return make_error_code(error::unsupported_response_type);
  if (req.code_challenge.empty()) return make_error_code(error::pkce_required);
  // RFC 7636 §4.3: an absent method means "plain", which this server refuses.
  if (req.code_challenge_method != "S256") return make_error_code(error::pkce_method_unsupported);
  if (req.code_challenge.size() != 43 || !pkce_chars(req.code_challenge))
    return make_error_code(errc::bad_field);
  auto scopes = split_list(req.scope, " ,");
  if (scopes.empty()) scopes.emplace_back(detail::scope_profile);
  for (const auto& s : scopes)
    if (!detail::known_scope(s)) return make_error_code(error::invalid_scope);

  pending_authorization p{ctx_.random.token(16), c->id,  c->name,
                          req.redirect_uri,      scopes, req.state};
  // OpenID Connect Core 3.1.2.1: prompt is a space-separated set; "none" stands alone.
  const auto prompts = split_list(req.prompt, " ");
  for (const auto& v : prompts) {
    if (v != "none" && v != "login" && v != "consent" && v != "select_account")
      return make_error_code(error::prompt_invalid);
    if (v == "none" && prompts.size() > 1) return make_error_code(error::prompt_invalid);
    p.prompt_none = p.prompt_none || v == "none";
    p.prompt_login = p.prompt_login || v == "login";
  }
  if (!req.max_age.empty()) {
    if (req.max_age.size() > 9 || !std::all_of(req.max_age.begin(), req.max_age.end(),
                                               [](char x) { return x >= '0' && x <= '9'; }))
      return make_error_code(error::max_age_invalid);
    p.max_age = std::stoll(req.max_age);
  }
  std::lock_guard lock(ctx_.mutex);
  const auto now = ctx_.time.now();
  if (now >= next_sweep_ || pending_.size() >= ctx_.cfg.max_pending_sign_ins) {
    // Abandoned sign-ins pile up otherwise; once a minute is plenty.
    std::erase_if(pending_, [now](const auto& kv) { return kv.second.expires_at <= now; });
    std::erase_if(ctx_.codes, [now](const auto& kv) { return kv.second.expires_at <= now; });
    next_sweep_ = now + std::chrono::minutes(1);
    if (pending_.size() >= ctx_.cfg.max_pending_sign_ins)
      return make_error_code(errc::upstream_unavailable);
  }
  pending_.emplace(p.id, stored_authorization{p, req.code_challenge,
                                              now + ctx_.cfg.authorization_request_ttl, req.nonce});
  return p;
}

result<pending_authorization> domain::authorization::get(std::string_view id) {
  std::lock_guard lock(ctx_.mutex);
  auto it = pending_.find(id);
  if (it == pending_.end() || it->second.expires_at <= ctx_.time.now())
    return make_error_code(error::authorization_request_unknown);
  return it->second.request;
}

std::string domain::authorization::error_redirect(const authorize_request& req,
                                                  const boost::system::error_code& ec) {
  http::params p{{"error", oauth_error_name(ec)}, {"error_description", ec.message()}};
  if (!req.state.empty()) p.emplace_back("state", req.state);
  p.emplace_back("iss", ctx_.cfg.issuer);
  return with_query(req.redirect_uri, p);
}

result<std::string> domain::authorization::approve(std::string_view request_id,
                                                   std::string_view session,
                                                   std::int64_t account_id) {
  const auto accounts = session_accounts(session);
  auto chosen = std::find_if(accounts.begin(), accounts.end(),
                             [&](const account& a) { return a.id == account_id; });
  if (chosen == accounts.end()) return make_error_code(error::session_account_unknown);
  // Without a choice, the app gets the account the browser logged in first.
  if (!ctx_.cfg.rules.offer_account_choice) chosen = accounts.begin();
  if (chosen->status != account_status::active && ctx_.cfg.rules.refuse_inactive_accounts)
    return make_error_code(errc::account_inactive);
  const std::int64_t chosen_id = chosen->id;

  std::lock_guard lock(ctx_.mutex);
  const auto now = ctx_.time.now();
  auto it = pending_.find(request_id);
  if (it == pending_.end() || it->second.expires_at <= now)
    return make_error_code(error::authorization_request_unknown);
  // Refused while the codes are at their bound, the request stays: consent can be given again.
  if (ctx_.codes.size() >= ctx_.cfg.max_pending_sign_ins) {
    std::erase_if(ctx_.codes, [now](const auto& kv) { return kv.second.expires_at <= now; });
    if (ctx_.codes.size() >= ctx_.cfg.max_pending_sign_ins)
      return make_error_code(errc::upstream_unavailable);
  }
  const stored_authorization r = std::move(it->second);
  pending_.erase(it);  // a request is answered once
  const std::string& redirect_uri = r.request.redirect_uri;
  const std::string& state = r.request.state;
  const std::string code = ctx_.random.token(32);
  issued_code k{r.request.client_id, chosen_id, join(r.request.scopes, " "), redirect_uri,
                r.code_challenge,    now,       now + ctx_.cfg.code_ttl};
  k.nonce = r.nonce;
  const auto logged_in = ctx_.repos.sessions().logged_in_at(sha256(session), chosen_id);
  k.authenticated_at = logged_in ? from_unix_millis(*logged_in) : now;
  ctx_.codes.emplace(sha256(code), std::move(k));
  http::params p{{"code", code}};
  if (!state.empty()) p.emplace_back("state", state);
  p.emplace_back("iss", ctx_.cfg.issuer);  // RFC 9207
  // Meta appends "#_" to the redirect; it is not part of the code.
  return with_query(redirect_uri, p) + "#_";
}

authorization_next domain::authorization::next(const pending_authorization& p,
                                               std::string_view session) {
  using page = authorization_next::page;
  const auto accounts = session_accounts(session);
  // The login the browser made last, and whether it is recent enough for max_age.
  std::optional<std::int64_t> last_login;
  const account* last = nullptr;
  if (!accounts.empty()) {
    const digest key = sha256(session);
    std::lock_guard lock(ctx_.mutex);
    for (const auto& a : accounts) {
      const auto at = ctx_.repos.sessions().logged_in_at(key, a.id);
      if (at && (!last_login || *at >= *last_login)) {
        last_login = at;
        last = &a;
      }
    }
  }
  bool fresh = last && !p.prompt_login;
  if (fresh && p.max_age) fresh = unix_millis(ctx_.time.now()) - *last_login <= *p.max_age * 1000;
  if (!p.prompt_none) return {fresh ? page::consent : page::login, {}};

  auto fail = [&](error e) {
    auto to = refuse(p.id, make_error_code(e));
    return authorization_next{page::client, to ? *to : std::string()};
  };
  if (!fresh) return fail(error::login_required);
  // Without a page, the account last logged in answers, if it granted this client every scope
  // asked for before (and the grant stands).
  bool covered = false;
  {
    std::lock_guard lock(ctx_.mutex);
    for (auto g : ctx_.repos.grants().live_grants(last->id, p.client_id)) {
      const auto granted = split_list(ctx_.repos.grants().grant_subject(g).second, " ,");
      covered = covered || std::all_of(p.scopes.begin(), p.scopes.end(), [&](const auto& s) {
                  return std::find(granted.begin(), granted.end(), s) != granted.end();
                });
    }
  }
  if (!covered) return fail(error::consent_required);
  auto to = approve(p.id, session, last->id);
  if (!to) return fail(error::consent_required);
  return {page::client, *to};
}

result<std::string> domain::authorization::refuse(std::string_view request_id,
                                                  const boost::system::error_code& ec) {
  std::lock_guard lock(ctx_.mutex);
  auto it = pending_.find(request_id);
  if (it == pending_.end()) return make_error_code(error::authorization_request_unknown);
  authorize_request r;
  r.redirect_uri = it->second.request.redirect_uri;
  r.state = it->second.request.state;
  pending_.erase(it);
  return error_redirect(r, ec);
}

result<std::string> domain::authorization::deny(std::string_view request_id) {
  std::lock_guard lock(ctx_.mutex);
  auto it = pending_.find(request_id);
  if (it == pending_.end() || it->second.expires_at <= ctx_.time.now())
    return make_error_code(error::authorization_request_unknown);
  const std::string redirect_uri = it->second.request.redirect_uri;
  const std::string state = it->second.request.state;
  pending_.erase(it);
  http::params p{{"error", "access_denied"},
                 {"error_reason", "user_denied"},
                 {"error_description", "The user denied your request."}};
  if (!state.empty()) p.emplace_back("state", state);
  p.emplace_back("iss", ctx_.cfg.issuer);
  return with_query(redirect_uri, p);
}

result<token_response> domain::tokens::issue(std::int64_t grant_id, bool with_refresh,
                                             milliseconds access_ttl, std::string_view lifetime) {
  const auto now = ctx_.time.now();
  token_response out;
  out.access_token = ctx_.random.token(32);
  out.expires_in = std::chrono::duration_cast<std::chrono::seconds>(access_ttl).count();
  auto& grants = ctx_.repos.grants();
  grants.add_token(sha256(out.access_token), grant_id, "access", lifetime, unix_millis(now),
                   unix_millis(now + access_ttl));
  if (with_refresh) {
    out.refresh_token = ctx_.random.token(32);
    grants.add_token(sha256(out.refresh_token), grant_id, "refresh", "refresh", unix_millis(now),
                     unix_millis(now + ctx_.cfg.refresh_token_ttl));
  }
  const auto [account_id, scope] = grants.grant_subject(grant_id);
  out.user_id = account_id;
  out.scopes = split_list(scope, " ");
  return out;
}

void domain::tokens::revoke_grant(std::int64_t grant_id) {
  ctx_.forget_cached();
  // Every token check also reads its grant's revoked_at: revoking the grant revokes them all.
  ctx_.repos.grants().revoke_grant(grant_id, unix_millis(ctx_.time.now()));
}

result<token_response> domain::tokens::exchange_code(const client& c, std::string_view code,
                                                     std::string_view redirect_uri,
                                                     std::string_view verifier, bool with_refresh) {
  std::lock_guard lock(ctx_.mutex);
  const auto now = ctx_.time.now();
  const digest hash = sha256(code);
  auto it = ctx_.codes.find(hash);
  if (it == ctx_.codes.end()) {
    // Not waiting: either never issued (or lost in a restart), or redeemed already.
    auto work = ctx_.repos.begin();
    const auto redeemed = ctx_.repos.grants().redeemed_code(hash);
    if (!redeemed) return make_error_code(error::code_not_found);
    if (redeemed->second != c.id) return make_error_code(error::code_client_mismatch);
    // RFC 6749 §4.1.2: a code used twice may have leaked; take back what it bought.
    revoke_grant(redeemed->first);
    work->commit();
    return make_error_code(error::code_reused);
  }
  issued_code& k = it->second;
  if (k.client_id != c.id) return make_error_code(error::code_client_mismatch);
  if (k.spent) return make_error_code(error::code_reused);
  // From here on the code is spent, whatever else is wrong with the request.
  k.spent = true;
  const std::string status = ctx_.repos.accounts().status_of(k.account_id).value_or("");
  boost::system::error_code failure;
  if (k.expires_at <= now)
    failure = error::code_expired;
  else if (redirect_uri != k.redirect_uri)
    failure = error::redirect_uri_mismatch;
  else if (verifier.empty())
    failure = error::pkce_verifier_missing;
  else if (verifier.size() < 43 || verifier.size() > 128 || !pkce_chars(verifier))
    failure = error::pkce_verifier_malformed;
  else if (!constant_time_equal(base64url_encode(sha256(verifier)), k.code_challenge))
    failure = error::pkce_verifier_mismatch;
  else if (status != "active" && ctx_.cfg.rules.refuse_inactive_accounts)
    failure = error::code_account_inactive;  // RFC 6749 section 5.2: the grant is invalid
  if (failure) return failure;               // the entry stays, spent, until it expires

  // The grant, the spent code and the tokens: one commit.
  auto work = ctx_.repos.begin();
  const std::int64_t grant_id = ctx_.repos.grants().add_grant(k.client_id, k.account_id, k.scope,
                                                              unix_millis(k.consented_at));
  ctx_.repos.grants().add_redeemed_code(hash, grant_id, k.redirect_uri, k.code_challenge,
                                        unix_millis(k.expires_at), unix_millis(now));
  auto issued = issue(grant_id, with_refresh, ctx_.cfg.short_token_ttl, "short");
  if (issued && has_scope(k.scope, oidc::scope_openid)) {
    issued->id_token = id_token(c, k, issued->access_token, now);
    issued->id_token_categories = id_token_categories(k);
  }
  work->commit();
  ctx_.codes.erase(it);  // storage answers for it from now on
  return issued;
}

std::string domain::tokens::jwks() {
  std::lock_guard lock(ctx_.mutex);
  ctx_.oidc_key_locked();
  if (ctx_.rsa_keys.empty() && ctx_.repos.clients().id_token_alg_registered(oidc::rs256))
    ctx_.oidc_key_locked(oidc::rs256);
  // For each algorithm: the signing key first, then the next one, then the one before.
  boost::json::array keys;
  for (const auto* all : {&ctx_.oidc_keys, &ctx_.rsa_keys}) {
    if (all->empty()) continue;
    keys.push_back(oidc::jwk((*all)[all->size() - 2]));
    keys.push_back(oidc::jwk(all->back()));
    if (all->size() == 3) keys.push_back(oidc::jwk(all->front()));
  }
  return json::serialize(boost::json::object{{"keys", std::move(keys)}});
}

std::string domain::tokens::rotate_key() {
  std::lock_guard lock(ctx_.mutex);
  return ctx_.rotate_oidc_key_locked().kid;
}

bool domain::tokens::has_scope(std::string_view scopes, std::string_view scope) {
  const auto list = split_list(scopes, " ,");
  return std::find(list.begin(), list.end(), scope) != list.end();
}

// OIDC Core §2 and §3.1.3.6. `sub` is the account id, which never changes; preferred_username
// changes with every rename, so a client must key its users on `sub`.
std::string domain::tokens::id_token(const client& c, const issued_code& k,
                                     std::string_view access_token, time_point now) {
  const auto iat = unix_seconds(now);
  boost::json::object claims{
      {"iss", ctx_.cfg.issuer},
      {"sub", std::to_string(k.account_id)},
      {"aud", c.id},
      {"iat", iat},
      {"exp", iat + ctx_.cfg.id_token_ttl.count() / 1000},
      {"auth_time", unix_seconds(k.authenticated_at)},
      {"at_hash", oidc::at_hash(access_token, c.id_token_signed_response_alg)}};
  if (!k.nonce.empty()) claims["nonce"] = k.nonce;
  if (has_scope(k.scope, oidc::scope_profile) || has_scope(k.scope, detail::scope_profile)) {
    if (auto a = accounts_.load_locked(k.account_id)) {
      claims["preferred_username"] = a->username;
      if (!a->display_name.empty()) claims["name"] = a->display_name;
      if (!a->picture_url.empty()) claims["picture"] = a->picture_url;
    }
  }
  return oidc::sign_jwt(ctx_.oidc_key_locked(c.id_token_signed_response_alg), claims);
}

// What an ID token tells the client, declared apart from the claims id_token() writes (so the
// audit compares the two): the subject always; with a profile scope the username, and the name
// and picture the account has.
std::vector<std::string> domain::tokens::id_token_categories(const issued_code& k) {
  std::vector<std::string> out{"user.unique_id"};
  if (!has_scope(k.scope, oidc::scope_profile) && !has_scope(k.scope, detail::scope_profile))
    return out;
  const auto a = accounts_.load_locked(k.account_id);
  if (!a) return out;
  out.emplace_back("user.account.username");
  if (!a->display_name.empty()) out.emplace_back("user.name");
  if (!a->picture_url.empty()) out.emplace_back("user.content.self_image");
  return out;
}

result<token_response> domain::tokens::refresh(const client& c, std::string_view refresh_token) {
  std::lock_guard lock(ctx_.mutex);
  const auto now = unix_millis(ctx_.time.now());
  auto work = ctx_.repos.begin();
  auto t = ctx_.repos.grants().find_token(sha256(refresh_token));
  if (!t || t->kind != "refresh" || t->client_id != c.id)
    return make_error_code(error::refresh_token_invalid);
  if (t->used_at) {
    // RFC 9700 §4.14.2: a rotated refresh token came back, so one of the two holders is an
    // attacker. Revoke the whole family.
    revoke_grant(t->grant_id);
    work->commit();
    return make_error_code(error::refresh_token_replayed);
  }
  if (t->revoked_at || t->grant_revoked_at || t->expires_at <= now)
    return make_error_code(error::refresh_token_invalid);
  ctx_.repos.grants().mark_used(sha256(refresh_token), now);
  auto issued = issue(t->grant_id, true, ctx_.cfg.short_token_ttl, "short");
  work->commit();
  return issued;
}

result<token_response> domain::tokens::exchange_long_lived(std::string_view client_secret,
                                                           std::string_view access_token) {
  std::lock_guard lock(ctx_.mutex);
  const auto now = unix_millis(ctx_.time.now());
  auto work = ctx_.repos.begin();
  auto t = live_access_token(ctx_.repos.grants(), access_token, now);
  if (!t) return t.error();
  // A public client has no secret to exchange with: its tokens stay short-lived.
  if (t->client_secret.empty() || !constant_time_equal(t->client_secret, client_secret))
    return make_error_code(error::invalid_client);
  if (t->lifetime != "short") return make_error_code(error::token_wrong_kind);
  auto issued = issue(t->grant_id, false, ctx_.cfg.long_token_ttl, "long");
  work->commit();
  return issued;
}

result<token_response> domain::tokens::refresh_long_lived(std::string_view access_token) {
  std::lock_guard lock(ctx_.mutex);
  const auto now = unix_millis(ctx_.time.now());
  auto work = ctx_.repos.begin();
  auto t = live_access_token(ctx_.repos.grants(), access_token, now);
  if (!t) return t.error();
  if (t->lifetime != "long") return make_error_code(error::token_wrong_kind);
  if (now - t->issued_at < ctx_.cfg.long_token_min_refresh_age.count())
    return make_error_code(error::token_too_young);
  // The old token stays valid until it expires: Meta documents no revocation on refresh.
  auto issued = issue(t->grant_id, false, ctx_.cfg.long_token_ttl, "long");
  work->commit();
  return issued;
}

void domain::tokens::revoke(const client& c, std::string_view token) {
  std::lock_guard lock(ctx_.mutex);
  auto work = ctx_.repos.begin();
  auto t = ctx_.repos.grants().find_token(sha256(token));
  // RFC 7009 §2.2: an unknown token, or one of another client, is answered as if revoked, so
  // the endpoint says nothing about tokens the caller does not hold.
  if (!t || t->client_id != c.id) return;
  if (t->kind == "refresh") {
    // RFC 7009 §2.1: revoking a refresh token also ends the access tokens of its grant.
    revoke_grant(t->grant_id);
  } else {
    ctx_.forget_cached();
    ctx_.repos.grants().revoke_token(sha256(token), unix_millis(ctx_.time.now()));
  }
  work->commit();
}

introspection domain::tokens::introspect(const client& c, std::string_view token) {
  std::lock_guard lock(ctx_.mutex);
  const auto now = unix_millis(ctx_.time.now());
  auto t = ctx_.repos.grants().find_token(sha256(token));
  introspection out;
  if (!t || t->client_id != c.id || t->revoked_at || t->grant_revoked_at || t->used_at ||
      t->expires_at <= now) {
    return out;
  }
  out.active = true;
  out.client_id = t->client_id;
  out.user_id = t->account_id;
  auto a = accounts_.load_locked(t->account_id);
  if (a) out.username = a->username;
  out.scopes = split_list(t->scope, " ");
  out.token_type = t->kind == "refresh" ? "refresh_token" : "access_token";
  out.issued_at = t->issued_at / 1000;
  out.expires_at = t->expires_at / 1000;
  return out;
}

result<token_grant> domain::tokens::check_access_token(std::string_view token) {
  // The profile API's hot path: the token, its grant, its client and its account in one read.
  const digest key = sha256(token);
  std::lock_guard lock(ctx_.mutex);
  const std::int64_t now = unix_millis(ctx_.time.now());
  if (auto it = ctx_.token_cache.find(key); it != ctx_.token_cache.end()) {
    if (it->second.expires_at <= now) return make_error_code(error::token_expired);
    return it->second.grant;
  }
  auto row = ctx_.repos.grants().find_access(key);
  if (!row || row->kind != "access" || row->revoked) return make_error_code(error::token_invalid);
  const std::int64_t expires_at = row->expires_at;
  if (expires_at <= now) return make_error_code(error::token_expired);
  token_grant& g = row->grant;
  account& a = g.subject;
  if (!a.picture_sha256.empty()) a.picture_url = ctx_.cfg.issuer + "/pictures/" + a.picture_sha256;
  if (ctx_.token_cache.size() >= 4096) ctx_.token_cache.clear();  // bounded: refilled on demand
  ctx_.token_cache.emplace(key, context::cached_token{g, expires_at});
  return g;
}

result<std::vector<std::pair<std::string, std::string>>> domain::tokens::apps_of(
    std::int64_t account_id) {
  std::lock_guard lock(ctx_.mutex);
  if (auto a = accounts_.load_locked(account_id); !a) return a.error();
  return ctx_.repos.grants().apps_of(account_id);
}

result<void> domain::tokens::deauthorize(std::int64_t account_id, std::string_view client_id) {
  auto c = clients_.get(client_id);
  if (!c) return make_error_code(errc::not_found);
  std::lock_guard lock(ctx_.mutex);
  // Codes this account consented to and the app has not redeemed yet go with the grants.
  std::erase_if(ctx_.codes, [&](const auto& kv) {
    return kv.second.account_id == account_id && kv.second.client_id == client_id;
  });
  auto work = ctx_.repos.begin();
  const auto grants = ctx_.repos.grants().live_grants(account_id, client_id);
  if (grants.empty()) return make_error_code(errc::not_found);
  for (auto g : grants) revoke_grant(g);
  outbox_.enqueue_app_removed(account_id, *c);
  work->commit();
  return {};
}

}  // namespace linksim::idp
