// OAuth 2.0 authorization code with PKCE, Meta's token exchanges, revocation and introspection.
#include "internal.hpp"

#include "linksim/store/sqlite.hpp"

#include <algorithm>

namespace linksim::idp {
namespace {

using detail::hash_bytes;

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
  return "invalid_request";
}

constexpr std::string_view token_columns =
    "t.kind, t.lifetime, t.issued_at, t.expires_at, t.used_at, t.revoked_at, g.id, g.client_id, "
    "g.account_id, g.scope, g.revoked_at, c.system, c.secret";

struct token_row {
  std::string kind, lifetime;
  std::int64_t issued_at, expires_at;
  std::optional<std::int64_t> used_at, revoked_at;
  std::int64_t grant_id;
  std::string client_id;
  std::int64_t account_id;
  std::string scope;
  std::optional<std::int64_t> grant_revoked_at;
  std::string client_system, client_secret;
};

std::optional<token_row> find_token(store::database& db, std::string_view token) {
  static const std::string sql = "SELECT " + std::string(token_columns) +
                                 " FROM tokens t JOIN grants g ON g.id = t.grant_id "
                                 "JOIN clients c ON c.id = g.client_id WHERE t.hash = ?";
  auto& q = db.cached(sql);
  q.bind(1, hash_bytes(sha256(token)));
  if (!q.step()) return std::nullopt;
  return token_row{q.get_text(0),     q.get_text(1),  q.get_int(2),  q.get_int(3), q.get_opt_int(4),
                   q.get_opt_int(5),  q.get_int(6),   q.get_text(7), q.get_int(8), q.get_text(9),
                   q.get_opt_int(10), q.get_text(11), q.get_text(12)};
}

// An access token that is neither revoked (itself or its grant) nor expired.
result<token_row> live_access_token(store::database& db, std::string_view token, std::int64_t now) {
  auto t = find_token(db, token);
  if (!t || t->kind != "access" || t->revoked_at || t->grant_revoked_at)
    return make_error_code(error::token_invalid);
  if (t->expires_at <= now) return make_error_code(error::token_expired);
  return *t;
}

}  // namespace

result<pending_authorization> service::begin_authorization(const authorize_request& req) {
  auto c = get_client(req.client_id);
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

  pending_authorization p{random_.token(16), c->id, c->name, req.redirect_uri, scopes, req.state};
  std::lock_guard lock(mutex_);
  const auto now = clock_.now();
  if (now >= next_sweep_ || pending_.size() >= max_pending_authorizations) {
    // Abandoned sign-ins pile up otherwise; once a minute is plenty.
    std::erase_if(pending_, [now](const auto& kv) { return kv.second.expires_at <= now; });
    std::erase_if(codes_, [now](const auto& kv) { return kv.second.expires_at <= now; });
    next_sweep_ = now + std::chrono::minutes(1);
    if (pending_.size() >= max_pending_authorizations)
      return make_error_code(errc::upstream_unavailable);
  }
  pending_.emplace(
      p.id, stored_authorization{p, req.code_challenge, now + cfg_.authorization_request_ttl});
  return p;
}

result<pending_authorization> service::get_authorization(std::string_view id) {
  std::lock_guard lock(mutex_);
  auto it = pending_.find(id);
  if (it == pending_.end() || it->second.expires_at <= clock_.now())
    return make_error_code(error::authorization_request_unknown);
  return it->second.request;
}

std::string service::error_redirect(const authorize_request& req,
                                    const boost::system::error_code& ec) {
  http::params p{{"error", oauth_error_name(ec)}, {"error_description", ec.message()}};
  if (!req.state.empty()) p.emplace_back("state", req.state);
  p.emplace_back("iss", cfg_.issuer);
  return with_query(req.redirect_uri, p);
}

result<std::string> service::approve(std::string_view request_id, std::string_view session,
                                     std::int64_t account_id) {
  const auto accounts = session_accounts(session);
  const auto chosen = std::find_if(accounts.begin(), accounts.end(),
                                   [&](const account& a) { return a.id == account_id; });
  if (chosen == accounts.end()) return make_error_code(error::session_account_unknown);
  if (chosen->status != account_status::active) return make_error_code(errc::account_inactive);

  std::lock_guard lock(mutex_);
  const auto now = clock_.now();
  auto it = pending_.find(request_id);
  if (it == pending_.end() || it->second.expires_at <= now)
    return make_error_code(error::authorization_request_unknown);
  const stored_authorization r = std::move(it->second);
  pending_.erase(it);  // a request is answered once
  const std::string& redirect_uri = r.request.redirect_uri;
  const std::string& state = r.request.state;
  if (codes_.size() >= max_pending_authorizations) {
    std::erase_if(codes_, [now](const auto& kv) { return kv.second.expires_at <= now; });
    if (codes_.size() >= max_pending_authorizations)
      return make_error_code(errc::upstream_unavailable);
  }
  const std::string code = random_.token(32);
  codes_.emplace(sha256(code),
                 issued_code{r.request.client_id, account_id, join(r.request.scopes, " "),
                             redirect_uri, r.code_challenge, now, now + cfg_.code_ttl});
  http::params p{{"code", code}};
  if (!state.empty()) p.emplace_back("state", state);
  p.emplace_back("iss", cfg_.issuer);  // RFC 9207
  // Meta appends "#_" to the redirect; it is not part of the code.
  return with_query(redirect_uri, p) + "#_";
}

result<std::string> service::deny(std::string_view request_id) {
  std::lock_guard lock(mutex_);
  auto it = pending_.find(request_id);
  if (it == pending_.end() || it->second.expires_at <= clock_.now())
    return make_error_code(error::authorization_request_unknown);
  const std::string redirect_uri = it->second.request.redirect_uri;
  const std::string state = it->second.request.state;
  pending_.erase(it);
  http::params p{{"error", "access_denied"},
                 {"error_reason", "user_denied"},
                 {"error_description", "The user denied your request."}};
  if (!state.empty()) p.emplace_back("state", state);
  p.emplace_back("iss", cfg_.issuer);
  return with_query(redirect_uri, p);
}

result<token_response> service::issue_tokens(std::int64_t grant_id, bool with_refresh,
                                             milliseconds access_ttl, std::string_view lifetime) {
  const auto now = clock_.now();
  token_response out;
  out.access_token = random_.token(32);
  out.expires_in = std::chrono::duration_cast<std::chrono::seconds>(access_ttl).count();
  auto& ins = db_.cached(
      "INSERT INTO tokens (hash, grant_id, kind, lifetime, issued_at, expires_at) "
      "VALUES (?, ?, ?, ?, ?, ?)");
  ins.bind_all(hash_bytes(sha256(out.access_token)), grant_id, "access", lifetime, unix_millis(now),
               unix_millis(now + access_ttl))
      .run();
  if (with_refresh) {
    out.refresh_token = random_.token(32);
    auto& r = db_.cached(
        "INSERT INTO tokens (hash, grant_id, kind, lifetime, issued_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?)");
    r.bind_all(hash_bytes(sha256(out.refresh_token)), grant_id, "refresh", "refresh",
               unix_millis(now), unix_millis(now + cfg_.refresh_token_ttl))
        .run();
  }
  auto& g = db_.cached("SELECT account_id, scope FROM grants WHERE id = ?");
  g.bind(1, grant_id);
  g.step();
  out.user_id = g.get_int(0);
  out.scopes = split_list(g.get_text(1), " ");
  return out;
}

void service::revoke_grant(std::int64_t grant_id) {
  forget_cached();
  // Every token check also reads its grant's revoked_at: revoking the grant revokes them all.
  db_.cached("UPDATE grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
      .bind_all(unix_millis(clock_.now()), grant_id)
      .run();
}

result<token_response> service::exchange_code(const client& c, std::string_view code,
                                              std::string_view redirect_uri,
                                              std::string_view verifier, bool with_refresh) {
  std::lock_guard lock(mutex_);
  const auto now = clock_.now();
  const digest hash = sha256(code);
  auto it = codes_.find(hash);
  if (it == codes_.end()) {
    // Not waiting: either never issued (or lost in a restart), or redeemed already.
    store::transaction tx(db_);
    auto& q = db_.cached(
        "SELECT k.grant_id, g.client_id FROM codes k "
        "JOIN grants g ON g.id = k.grant_id WHERE k.hash = ?");
    q.bind(1, hash_bytes(hash));
    if (!q.step()) return make_error_code(error::code_not_found);
    const std::int64_t grant_id = q.get_int(0);
    if (q.get_text(1) != c.id) return make_error_code(error::code_client_mismatch);
    // RFC 6749 §4.1.2: a code used twice may have leaked; take back what it bought.
    revoke_grant(grant_id);
    tx.commit();
    return make_error_code(error::code_reused);
  }
  issued_code& k = it->second;
  if (k.client_id != c.id) return make_error_code(error::code_client_mismatch);
  if (k.spent) return make_error_code(error::code_reused);
  // From here on the code is spent, whatever else is wrong with the request.
  k.spent = true;
  std::string status;
  {
    auto& q = db_.cached("SELECT status FROM accounts WHERE id = ?");
    q.bind(1, k.account_id);
    if (q.step()) status = q.get_text(0);
  }
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
  else if (status != "active")
    failure = errc::account_inactive;
  if (failure) return failure;  // the entry stays, spent, until it expires

  // The grant, the spent code and the tokens: one commit.
  store::transaction tx(db_);
  db_.cached("INSERT INTO grants (client_id, account_id, scope, created_at) VALUES (?, ?, ?, ?)")
      .bind_all(k.client_id, k.account_id, k.scope, unix_millis(k.consented_at))
      .run();
  const std::int64_t grant_id = db_.last_insert_rowid();
  db_.cached(
         "INSERT INTO codes (hash, grant_id, redirect_uri, code_challenge, expires_at, used_at) "
         "VALUES (?, ?, ?, ?, ?, ?)")
      .bind_all(hash_bytes(hash), grant_id, k.redirect_uri, k.code_challenge,
                unix_millis(k.expires_at), unix_millis(now))
      .run();
  auto tokens = issue_tokens(grant_id, with_refresh, cfg_.short_token_ttl, "short");
  tx.commit();
  codes_.erase(it);  // the database answers for it from now on
  return tokens;
}

result<token_response> service::refresh(const client& c, std::string_view refresh_token) {
  std::lock_guard lock(mutex_);
  const auto now = unix_millis(clock_.now());
  store::transaction tx(db_);
  auto t = find_token(db_, refresh_token);
  if (!t || t->kind != "refresh" || t->client_id != c.id)
    return make_error_code(error::refresh_token_invalid);
  if (t->used_at) {
    // RFC 9700 §4.14.2: a rotated refresh token came back, so one of the two holders is an
    // attacker. Revoke the whole family.
    revoke_grant(t->grant_id);
    tx.commit();
    return make_error_code(error::refresh_token_replayed);
  }
  if (t->revoked_at || t->grant_revoked_at || t->expires_at <= now)
    return make_error_code(error::refresh_token_invalid);
  db_.cached("UPDATE tokens SET used_at = ? WHERE hash = ?")
      .bind_all(now, hash_bytes(sha256(refresh_token)))
      .run();
  auto tokens = issue_tokens(t->grant_id, true, cfg_.short_token_ttl, "short");
  tx.commit();
  return tokens;
}

result<token_response> service::exchange_long_lived(std::string_view client_secret,
                                                    std::string_view access_token) {
  std::lock_guard lock(mutex_);
  const auto now = unix_millis(clock_.now());
  store::transaction tx(db_);
  auto t = live_access_token(db_, access_token, now);
  if (!t) return t.error();
  if (!constant_time_equal(t->client_secret, client_secret))
    return make_error_code(error::invalid_client);
  if (t->lifetime != "short") return make_error_code(error::token_wrong_kind);
  auto tokens = issue_tokens(t->grant_id, false, cfg_.long_token_ttl, "long");
  tx.commit();
  return tokens;
}

result<token_response> service::refresh_long_lived(std::string_view access_token) {
  std::lock_guard lock(mutex_);
  const auto now = unix_millis(clock_.now());
  store::transaction tx(db_);
  auto t = live_access_token(db_, access_token, now);
  if (!t) return t.error();
  if (t->lifetime != "long") return make_error_code(error::token_wrong_kind);
  if (now - t->issued_at < cfg_.long_token_min_refresh_age.count())
    return make_error_code(error::token_too_young);
  // The old token stays valid until it expires: Meta documents no revocation on refresh.
  auto tokens = issue_tokens(t->grant_id, false, cfg_.long_token_ttl, "long");
  tx.commit();
  return tokens;
}

void service::revoke(const client& c, std::string_view token) {
  std::lock_guard lock(mutex_);
  store::transaction tx(db_);
  auto t = find_token(db_, token);
  // RFC 7009 §2.2: an unknown token, or one of another client, is answered as if revoked, so
  // the endpoint says nothing about tokens the caller does not hold.
  if (!t || t->client_id != c.id) return;
  if (t->kind == "refresh") {
    // RFC 7009 §2.1: revoking a refresh token also ends the access tokens of its grant.
    revoke_grant(t->grant_id);
  } else {
    forget_cached();
    db_.cached("UPDATE tokens SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL")
        .bind_all(unix_millis(clock_.now()), hash_bytes(sha256(token)))
        .run();
  }
  tx.commit();
}

introspection service::introspect(const client& c, std::string_view token) {
  std::lock_guard lock(mutex_);
  const auto now = unix_millis(clock_.now());
  auto t = find_token(db_, token);
  introspection out;
  if (!t || t->client_id != c.id || t->revoked_at || t->grant_revoked_at || t->used_at ||
      t->expires_at <= now) {
    return out;
  }
  out.active = true;
  out.client_id = t->client_id;
  out.user_id = t->account_id;
  auto a = load_account(t->account_id);
  if (a) out.username = a->username;
  out.scopes = split_list(t->scope, " ");
  out.token_type = t->kind == "refresh" ? "refresh_token" : "access_token";
  out.issued_at = t->issued_at / 1000;
  out.expires_at = t->expires_at / 1000;
  return out;
}

result<token_grant> service::check_access_token(std::string_view token) {
  // The profile API's hot path: the token, its grant, its client and its account in one query.
  static const std::string sql =
      "SELECT t.kind, t.expires_at, t.revoked_at, g.revoked_at, g.client_id, g.scope, c.system, "
      "a.id, a.username, a.display_name, a.bio, a.picture_sha256, a.type, a.status, a.version, "
      "a.created_at FROM tokens t JOIN grants g ON g.id = t.grant_id "
      "JOIN clients c ON c.id = g.client_id JOIN accounts a ON a.id = g.account_id "
      "WHERE t.hash = ?";
  const digest key = sha256(token);
  std::lock_guard lock(mutex_);
  const std::int64_t now = unix_millis(clock_.now());
  if (auto it = token_cache_.find(key); it != token_cache_.end()) {
    if (it->second.expires_at <= now) return make_error_code(error::token_expired);
    return it->second.grant;
  }
  auto& q = db_.cached(sql);
  q.bind(1, hash_bytes(key));
  if (!q.step() || q.get_text(0) != "access" || !q.is_null(2) || !q.is_null(3))
    return make_error_code(error::token_invalid);
  const std::int64_t expires_at = q.get_int(1);
  if (expires_at <= now) return make_error_code(error::token_expired);
  token_grant g;
  g.client_id = q.get_text(4);
  g.scopes = split_list(q.get_text(5), " ");
  g.client_system = q.get_text(6);
  account& a = g.subject;
  a.id = g.user_id = q.get_int(7);
  a.username = q.get_text(8);
  a.display_name = q.get_text(9);
  a.bio = q.get_text(10);
  a.picture_sha256 = q.get_text(11);
  if (!a.picture_sha256.empty()) a.picture_url = cfg_.issuer + "/pictures/" + a.picture_sha256;
  a.type = parse_type(q.get_text(12)).value_or(account_type::personal);
  a.status = parse_status(q.get_text(13)).value_or(account_status::active);
  a.version = q.get_int(14);
  a.created_at = from_unix_millis(q.get_int(15));
  if (token_cache_.size() >= 4096) token_cache_.clear();  // bounded: refilled on demand
  token_cache_.emplace(key, cached_token{g, expires_at});
  return g;
}

result<void> service::deauthorize(std::int64_t account_id, std::string_view client_id) {
  auto c = get_client(client_id);
  if (!c) return make_error_code(errc::not_found);
  std::lock_guard lock(mutex_);
  // Codes this account consented to and the app has not redeemed yet go with the grants.
  std::erase_if(codes_, [&](const auto& kv) {
    return kv.second.account_id == account_id && kv.second.client_id == client_id;
  });
  store::transaction tx(db_);
  auto q = db_.prepare(
      "SELECT id FROM grants WHERE account_id = ? AND client_id = ? AND revoked_at IS NULL");
  q.bind_all(account_id, client_id);
  std::vector<std::int64_t> grants;
  while (q.step()) grants.push_back(q.get_int(0));
  if (grants.empty()) return make_error_code(errc::not_found);
  for (auto g : grants) revoke_grant(g);
  if (!c->deauthorize_url.empty())
    enqueue_callback(account_id, c->id, "deauthorize", c->deauthorize_url);
  tx.commit();
  return {};
}

}  // namespace linksim::idp
