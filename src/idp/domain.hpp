// The identity provider's domain, one class per concern: accounts, clients, authorization (the
// sign-in and consent), tokens and the webhook outbox. Each works through the repository
// interfaces and the shared context; `idp::service` owns them and hands each call to its owner.
#pragma once

#include "internal.hpp"

#include "linksim/idp/oidc.hpp"
#include "linksim/idp/repositories.hpp"

#include <atomic>
#include <cstring>
#include <mutex>
#include <set>
#include <unordered_map>
#include <vector>

namespace linksim::idp::domain {

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};
struct digest_hash {
  std::size_t operator()(const digest& d) const noexcept {
    std::size_t h;
    std::memcpy(&h, d.data(), sizeof h);
    return h;
  }
};

// Authorization codes issued at consent and not yet redeemed, by the hash of the code. Sign-in
// state: a restart loses them and the client's exchange fails (invalid_grant), as a code lost in
// transit would. The grant, the spent code and the tokens are written in one unit of work when
// the code is redeemed, so each sign-in costs one commit, and a code used twice is found in
// storage and revokes its grant even across a restart.
struct issued_code {
  std::string client_id;
  std::int64_t account_id = 0;
  std::string scope;
  std::string redirect_uri;
  std::string code_challenge;
  time_point consented_at;
  time_point expires_at;
  bool spent = false;           // a failed redemption used it up; kept until it expires
  std::string nonce;            // OpenID Connect: from the authorization request
  time_point authenticated_at;  // when the browser's session logged in to the account
};

// What every part shares: the lock that serialises storage and the caches, the configuration,
// the sources of time and randomness, and the caches that carry account fields.
struct context {
  repositories& repos;
  const linksim::clock& time;
  random_source& random;
  evidence::recorder& recorder;
  http::transport& transport;
  const config& cfg;
  std::mutex mutex;  // guards the repositories and everything below

  // Valid access tokens by hash, with their account, for the profile API's hot path. This
  // service owns its storage exclusively, so every change comes through it: whatever revokes a
  // token or changes an account calls forget_cached() in the same locked section.
  struct cached_token {
    token_grant grant;
    std::int64_t expires_at;
  };
  std::unordered_map<digest, cached_token, digest_hash> token_cache;
  // The accounts of each login session, by the session's hash, for the sign-in pages (each step
  // of a sign-in reads them). Dropped with forget_cached() and when the session gains an account.
  struct cached_session {
    std::vector<account> accounts;
    std::int64_t expires_at = 0;  // the session's own expiry, unix milliseconds
  };
  std::unordered_map<digest, cached_session, digest_hash> session_cache;
  std::unordered_map<digest, issued_code, digest_hash> codes;
  // The ID-token keys, oldest first: the key before (tokens it signed still verify), the key
  // that signs, and the next key, published before it signs so that a relying party holding a
  // cached key set already knows it after a rotation (openid-client fetches the set again at
  // most once a minute). They are made at the first use (a run that never uses OpenID Connect
  // draws nothing from the randomness for them). A rotation makes the next key sign, adds a
  // new next key, and retires the oldest.
  std::vector<oidc::signing_key> oidc_keys;
  // The RS256 keys for the clients that ask for it, kept the same way. An RSA key takes about a
  // tenth of a second to make, so they are made only when wanted: at the first RS256 token, or
  // at the first read of the key set once such a client is registered (a relying party that
  // reads the set before its first sign-in finds the key there).
  std::vector<oidc::signing_key> rsa_keys;
  // The delay before attempt `attempts` + 1 of a delivery: the retry schedule, with jitter.
  milliseconds retry_delay(std::int64_t attempts);
  // The key that signs with `alg` (EdDSA, or RS256).
  const oidc::signing_key& oidc_key_locked(std::string_view alg = oidc::algorithm) {
    const bool rsa = alg == oidc::rs256;
    auto& keys = rsa ? rsa_keys : oidc_keys;
    if (keys.empty()) {
      keys.push_back(make_key(rsa));
      keys.push_back(make_key(rsa));
    }
    return keys[keys.size() - 2];
  }
  // Rotates the EdDSA keys, and the RS256 keys if made; returns the EdDSA key that now signs.
  const oidc::signing_key& rotate_oidc_key_locked() {
    oidc_key_locked();
    for (auto* keys : {&oidc_keys, &rsa_keys}) {
      if (keys->empty()) continue;
      keys->push_back(make_key(keys == &rsa_keys));
      if (keys->size() > 3) keys->erase(keys->begin());
    }
    return oidc_keys[oidc_keys.size() - 2];
  }
  oidc::signing_key make_key(bool rsa) {
    return rsa ? oidc::signing_key::generate_rsa(random) : oidc::signing_key::generate(random);
  }

  // Emptied node by node: clear() also zeroes the whole bucket array, which for a table that
  // once grew to thousands of entries cost a memset of tens of KiB on every account change,
  // however few entries it held.
  void forget_cached() {
    for (auto it = token_cache.begin(); it != token_cache.end();) it = token_cache.erase(it);
    for (auto it = session_cache.begin(); it != session_cache.end();) it = session_cache.erase(it);
  }

  // Records that `categories` of `subject` went to `to_system` through `channel`; the payload
  // already hashed (hex SHA-256) when `hashed`.
  void record_flow_hashed(std::string_view to_system, std::int64_t subject,
                          const std::vector<std::string>& categories, std::string_view purpose,
                          std::string_view channel, std::string payload_digest,
                          std::string note) const;
};

// Registered clients, read from storage once each: they never change once registered.
class clients {
 public:
  explicit clients(context& ctx) : ctx_(ctx) {}
  result<client> register_client(const client_registration& r);
  result<client> get(std::string_view id);
  result<client> authenticate(std::string_view id, std::string_view secret);
  // Whether some client registered this browser origin (a CORS preflight names no client).
  bool origin_allowed(std::string_view origin);
  result<const client*> find_locked(std::string_view id);  // with the context's mutex held

 private:
  context& ctx_;
  std::unordered_map<std::string, client, string_hash, std::equal_to<>> cache_;
};

// Shared Signals (OpenID SSF 1.0) as a transmitter: receivers' streams, and the Security Event
// Tokens (RFC 8417) made for them in the unit of work of each change, beside its webhook
// deliveries (the same transactional outbox), kept until a poll (RFC 8936) acknowledges them.
class shared_signals {
 public:
  explicit shared_signals(context& ctx);
  result<ssf_stream> create(const client& c, const ssf_stream_request& r);
  std::vector<ssf_stream> streams(const client& c);
  result<ssf_stream> get(const client& c, std::string_view id);
  // `replace`: what the request leaves out takes its default (PUT); else it stays (PATCH).
  result<ssf_stream> update(const client& c, std::string_view id, const ssf_stream_request& r,
                            bool replace);
  result<void> remove(const client& c, std::string_view id);
  result<ssf_stream> set_status(const client& c, std::string_view id, std::string_view status,
                                std::string_view reason);
  // Adds or removes an account: only one that granted the receiver access may be named.
  result<void> subject(const client& c, std::string_view id, std::int64_t account_id, bool add);
  result<void> verify(const client& c, std::string_view id, std::string_view state);
  result<ssf_poll_answer> poll(const client& c, std::string_view id, const ssf_poll_request& r);
  std::int64_t newest_waiting();
  result<std::string> sign(std::string_view claims);
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  // Push delivery (RFC 8935): sends the SETs due to push streams, retried and given up on as
  // the webhooks are. Called by the outbox's dispatch, without the mutex held.
  std::size_t dispatch_due();
  std::optional<std::int64_t> next_due_locked() const;  // unix milliseconds

  // With the context's mutex held, inside the unit of work of the change.
  void on_change(const account& a, std::string_view field);
  void on_app_removed(std::int64_t account_id, std::string_view client_id);
  void on_credential_change(std::int64_t account_id);
  void on_ad_setting(std::int64_t account_id, bool personalized_ads);

 private:
  result<ssf_stream> owned_locked(const client& c, std::string_view id);
  result<void> check_locked(ssf_stream& s, const ssf_stream_request& r, bool replace);
  // `emit_locked` to every stream the account has a standing grant with, about it (iss_sub).
  void emit_about_locked(std::int64_t account_id, std::string_view type,
                         const boost::json::object& event);
  void emit_locked(const ssf_stream& s, std::optional<std::int64_t> account_id,
                   std::string_view type, boost::json::object event, boost::json::object sub_id);

  context& ctx_;
  std::set<std::pair<std::int64_t, std::int64_t>> push_queue_;  // (due, SET id), mutex held
  // Whether any stream exists: without one, a change costs no query (mutex held). Set when a
  // stream is made; only a restart clears it after the last is deleted.
  bool any_stream_ = false;
  std::atomic<std::uint64_t> generation_{0};  // see service::ssf_generation
};

// The transactional outbox: subscriptions, the changes and callbacks queued in the same unit of
// work as what caused them, and their at-least-once delivery.
class outbox {
 public:
  outbox(context& ctx, clients& clients, shared_signals& signals);
  result<subscription> subscribe(std::string_view client_id, std::string callback_url,
                                 std::string verify_token, std::vector<std::string> fields);
  result<subscription> get_subscription(std::string_view client_id);
  // With the context's mutex held, inside the unit of work of the change.
  void enqueue_change(const account& a, std::string_view field, std::string_view value_json);
  void enqueue_callback(std::int64_t account_id, std::string_view client_id, std::string_view kind,
                        std::string_view url);
  // The person removed the app: its deauthorize callback, and a session-revoked SET.
  void enqueue_app_removed(std::int64_t account_id, const client& c);
  // The account's password changed: a credential-change SET (no webhook tells of it).
  void enqueue_credential_change(std::int64_t account_id);
  // The personalized-ads setting changed: an opt-out or opt-in SET (no webhook tells of it).
  void enqueue_ad_setting(std::int64_t account_id, bool personalized_ads);
  std::size_t dispatch_due();
  std::optional<time_point> next_due();
  std::vector<delivery> deliveries(std::optional<delivery_state> state, std::size_t limit);
  result<delivery> replay(std::int64_t delivery_id);

 private:
  struct request_batch;
  struct settlement;
  std::vector<queued_delivery> due_deliveries();  // with the mutex held
  std::vector<request_batch> group_deliveries(std::vector<queued_delivery> due);
  settlement settle(const request_batch& b, const result<http::response>& res);
  void store_settlements(const std::vector<settlement>& round);
  // Enables the client's subscription and makes its held (`disabled`) webhook deliveries due
  // now, in the order of their changes, sent to `new_url` when given. Inside a unit of work.
  void release_held_webhooks(std::string_view client_id, std::optional<std::string_view> new_url);
  std::string signed_request(const client& c, std::int64_t account_id, bool with_expiry);

  context& ctx_;
  clients& clients_;
  shared_signals& signals_;
  std::int64_t last_event_id_ = 0;  // the number of the last change put in the outbox
  // The pending deliveries in the order they fall due: (next_attempt_at in unix milliseconds,
  // id). Every pending row has its entry, from its insert or settlement on, and the whole set is
  // read from storage at start. An entry can outlive its row's pending state (an insert rolled
  // back, a client disabled by a 410): the dispatcher checks each entry against its row and
  // drops the ones that no longer match. Kept here instead of a partial index, which every
  // change and every settlement wrote and which the rollback journal copied.
  std::set<std::pair<std::int64_t, std::int64_t>> queue_;
  std::mutex dispatch_mutex_;  // held for a whole dispatch_due()
};

// Accounts, pictures, follows and ad settings: each change and its outbox rows in one unit of
// work.
class accounts {
 public:
  accounts(context& ctx, outbox& outbox) : ctx_(ctx), outbox_(outbox) {}
  result<account> create(const new_account& n);
  result<account> get(std::int64_t id);
  result<account> find(std::string_view username);
  result<account> update_profile(std::int64_t id, const profile_change& change);
  result<account> set_picture(std::int64_t id, const picture& p);
  result<void> change_password(std::int64_t id, std::string_view password);
  result<picture> get_picture(std::string_view sha256_hex);
  result<account> remove(std::int64_t id);
  result<void> follow(std::int64_t follower, std::int64_t followee);
  result<void> unfollow(std::int64_t follower, std::int64_t followee);
  std::vector<std::int64_t> followers_of(std::int64_t id);
  result<ad_settings> get_ad_settings(std::int64_t id);
  result<ad_settings> set_ad_settings(std::int64_t id, bool personalized_ads);
  result<account> load_locked(std::int64_t id);  // with the mutex held

 private:
  context& ctx_;
  outbox& outbox_;
};

// The authorization endpoint and the provider's own sign-in: pending requests, login sessions,
// consent and the codes it issues.
class authorization {
 public:
  authorization(context& ctx, clients& clients, accounts& accounts)
      : ctx_(ctx), clients_(clients), accounts_(accounts) {}
  result<pending_authorization> begin(const authorize_request& req);
  result<pending_authorization> get(std::string_view id);
  result<account> authenticate_user(std::string_view username, std::string_view password);
  std::string open_session(std::int64_t account_id, std::string_view existing_session);
  std::vector<account> session_accounts(std::string_view session);
  result<std::string> approve(std::string_view request_id, std::string_view session,
                              std::int64_t account_id);
  result<std::string> deny(std::string_view request_id);
  // After a valid request: the login page, the consent page, or for prompt=none the client
  // at once, with a code (a standing grant covers the scopes) or login_required /
  // consent_required.
  authorization_next next(const pending_authorization& p, std::string_view session);
  // Ends a pending request with an error for the client (RFC 6749 section 4.1.2.1).
  result<std::string> refuse(std::string_view request_id, const boost::system::error_code& ec);
  std::string error_redirect(const authorize_request& req, const boost::system::error_code& ec);

 private:
  // Authorization requests waiting for login and consent. Sign-in state, not a commitment: a
  // restart loses them and the user signs in again; nothing issued depends on them.
  struct stored_authorization {
    pending_authorization request;
    std::string code_challenge;
    time_point expires_at;
    std::string nonce;
  };

  context& ctx_;
  clients& clients_;
  accounts& accounts_;
  std::unordered_map<std::string, stored_authorization, string_hash, std::equal_to<>> pending_;
  time_point next_sweep_{};  // when expired requests and codes are next dropped
};

// The token endpoints and the checks of a bearer token: grants, their tokens and revocation.
class tokens {
 public:
  tokens(context& ctx, clients& clients, accounts& accounts, outbox& outbox)
      : ctx_(ctx), clients_(clients), accounts_(accounts), outbox_(outbox) {}
  result<token_response> exchange_code(const client& c, std::string_view code,
                                       std::string_view redirect_uri,
                                       std::string_view code_verifier, bool with_refresh);
  result<token_response> refresh(const client& c, std::string_view refresh_token);
  result<token_response> exchange_long_lived(std::string_view client_secret,
                                             std::string_view access_token);
  result<token_response> refresh_long_lived(std::string_view access_token);
  void revoke(const client& c, std::string_view token);
  introspection introspect(const client& c, std::string_view token);
  result<token_grant> check_access_token(std::string_view token);
  result<void> deauthorize(std::int64_t account_id, std::string_view client_id);
  result<std::vector<std::pair<std::string, std::string>>> apps_of(std::int64_t account_id);
  std::string jwks();
  std::string rotate_key();  // the new key's kid

 private:
  result<token_response> issue(std::int64_t grant_id, bool with_refresh, milliseconds access_ttl,
                               std::string_view lifetime);
  void revoke_grant(std::int64_t grant_id);
  static bool has_scope(std::string_view scopes, std::string_view scope);
  std::string id_token(const client& c, const issued_code& k, std::string_view access_token,
                       time_point now);
  std::vector<std::string> id_token_categories(const issued_code& k);

  context& ctx_;
  clients& clients_;
  accounts& accounts_;
  outbox& outbox_;
};

}  // namespace linksim::idp::domain
