// The Instagram-style identity provider's domain logic: accounts, OAuth clients, the
// authorization-code flow with PKCE, tokens, and webhook delivery through an outbox.
// It reads time from the clock, randomness from the random source, sends through the transport
// and reports every data flow it hands out to the recorder it is given: nothing else.
// All public functions are thread-safe; one mutex serialises their storage work.
#pragma once

#include "linksim/common/account_rules.hpp"
#include "linksim/common/clock.hpp"
#include "linksim/common/crypto.hpp"
#include "linksim/common/error.hpp"
#include "linksim/common/http.hpp"
#include "linksim/common/random.hpp"
#include "linksim/common/ssf.hpp"
#include "linksim/evidence/flow.hpp"
#include "linksim/idp/error.hpp"
#include "linksim/idp/provider_rules.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace linksim::store {
class database;
}

namespace linksim::idp {

using namespace std::chrono_literals;

class repositories;

enum class account_status { active, restricted, suspended, banned, deleted };
enum class account_type { personal, business };
std::string_view to_string(account_status s);
std::string_view to_string(account_type t);
std::optional<account_status> parse_status(std::string_view s);
std::optional<account_type> parse_type(std::string_view s);

// Characters (Unicode code points) a profile field may hold: Instagram's documented 150 for the
// bio; for the display name, which Instagram documents no limit for, linksim's own 64.
inline constexpr std::size_t max_bio_chars = 150;
inline constexpr std::size_t max_name_chars = 64;
// Whether `text` is valid UTF-8 of at most `max` code points.
bool within_chars(std::string_view text, std::size_t max);
// Bytes a password set through the admin API holds: at least 8, and at most 1 024, the work a
// hostile body can ask of the slow hash.
inline constexpr std::size_t min_password_bytes = 8;
inline constexpr std::size_t max_password_bytes = 1024;
inline bool password_within_bounds(std::string_view password) {
  return password.size() >= min_password_bytes && password.size() <= max_password_bytes;
}

struct account {
  std::int64_t id = 0;  // immutable, never reused
  std::string username;
  std::string display_name;
  std::string bio;
  std::string picture_url;     // empty when the account has no picture
  std::string picture_sha256;  // hex SHA-256 of the picture's bytes
  account_type type = account_type::personal;
  account_status status = account_status::active;
  std::int64_t version = 1;  // grows with every profile change; webhooks carry it
  std::int64_t followers_count = 0;
  std::int64_t follows_count = 0;
  time_point created_at;
};

struct new_account {
  std::string username;
  std::string password;
  std::string display_name;
  std::string bio;
  account_type type = account_type::personal;
};

// Fields left empty are unchanged.
struct profile_change {
  std::optional<std::string> username;
  std::optional<std::string> display_name;
  std::optional<std::string> bio;
  std::optional<account_type> type;
  std::optional<account_status> status;  // not `deleted`: use delete_account
};

struct picture {
  std::string content_type;
  std::string bytes;
};

struct client_registration {
  std::string name;                        // shown on the consent page
  std::string system;                      // the evidence log's name for it, e.g. "threads"
  std::vector<std::string> redirect_uris;  // matched exactly
  std::string deauthorize_url;             // optional: Meta's deauthorize callback
  std::string data_deletion_url;           // optional: Meta's data-deletion callback
  // RFC 7591 §2: client_secret_basic (the default), client_secret_post, or none: a public
  // client (a single-page or native app) that has no secret and proves itself by PKCE alone.
  std::string token_endpoint_auth_method = "client_secret_basic";
  // Browser origins ("https://app.example") that may call the token endpoint across origins.
  std::vector<std::string> allowed_origins;
  // OpenID Connect Dynamic Client Registration 1.0 section 2: how its ID tokens are signed,
  // RS256 (the default there) or EdDSA.
  std::string id_token_signed_response_alg = "RS256";
};

struct client {
  std::string id;
  std::string secret;  // the app secret: it also signs webhooks; empty for a public client
  std::string name;
  std::string system;
  std::vector<std::string> redirect_uris;
  std::string webhook_secret;  // "whsec_..." for the Standard Webhooks signature
  std::string deauthorize_url;
  std::string data_deletion_url;
  std::string token_endpoint_auth_method = "client_secret_basic";
  std::vector<std::string> allowed_origins;
  std::string id_token_signed_response_alg = "RS256";
  bool is_public() const { return token_endpoint_auth_method == "none"; }
  bool allows_origin(std::string_view origin) const {
    return std::find(allowed_origins.begin(), allowed_origins.end(), origin) !=
           allowed_origins.end();
  }
};

// The webhook fields a client can subscribe to. Meta documents no field for an Instagram
// username or profile change: these are linksim's extension.

struct subscription {
  std::string client_id;
  std::string callback_url;
  std::string verify_token;
  std::vector<std::string> fields;
  bool active = false;  // false once the receiver answered 410
};

// What the browser asked for at /oauth/authorize.
struct authorize_request {
  std::string client_id;
  std::string redirect_uri;
  std::string response_type;
  std::string scope;  // space- or comma-separated
  std::string state;
  std::string code_challenge;
  std::string code_challenge_method;
  std::string nonce;    // OpenID Connect: echoed in the ID token
  std::string prompt;   // OpenID Connect: none, or any of login, consent, select_account
  std::string max_age;  // OpenID Connect: seconds since the login that may pass, as given
};

// A validated authorization request waiting for the user's login and consent.
struct pending_authorization {
  std::string id;
  std::string client_id;
  std::string client_name;
  std::string redirect_uri;
  std::vector<std::string> scopes;
  std::string state;
  bool prompt_none = false;             // answer at once, without a page
  bool prompt_login = false;            // the browser logs in again
  std::optional<std::int64_t> max_age;  // seconds
};

// Where the browser goes once its authorization request is valid.
struct authorization_next {
  enum class page { login, consent, client } to = page::login;
  std::string redirect;  // for `client`: the redirect URI with a code or an error
};

// Shared Signals (OpenID SSF 1.0, with the RISC and CAEP event types): what a receiver asks of
// a stream, and what a poll (RFC 8936) gives and takes. The event types are common/ssf.hpp's.

// A receiver's stream.
struct ssf_stream {
  std::string id;
  std::string client_id;  // the receiver, the SETs' audience
  std::string method;     // ssf::poll_method or ssf::push_method
  std::string endpoint_url;
  std::string authorization_header;  // push: sent with each SET
  std::vector<std::string> events_requested;
  std::string status = "enabled";  // enabled, paused (SETs held), disabled (none made)
  std::string reason;
  std::string description;
  std::int64_t created_at = 0;
};

// A stream's configuration as a receiver sends it; what is not given stays as it was (or, on
// creation, takes its default).
struct ssf_stream_request {
  std::optional<std::string> method;
  std::optional<std::string> endpoint_url;
  std::optional<std::string> authorization_header;
  std::optional<std::vector<std::string>> events_requested;
  std::optional<std::string> description;
};
// Streams one receiver may hold at a time.
inline constexpr std::size_t max_ssf_streams = 16;

struct ssf_poll_request {
  std::vector<std::string> ack;                             // jtis received and processed
  std::vector<std::pair<std::string, std::string>> errors;  // jti, error code (setErrs)
  std::size_t max_events = 100;
  bool return_immediately = true;
};

struct ssf_poll_answer {
  std::vector<std::pair<std::string, std::string>> sets;  // jti, SET
  bool more_available = false;
};

struct token_response {
  std::string access_token;
  std::string refresh_token;  // empty where the grant issues none
  std::int64_t expires_in = 0;
  std::vector<std::string> scopes;
  std::int64_t user_id = 0;
  std::string id_token;  // OpenID Connect, when the grant has the openid scope
  // What the ID token tells the client about the account (data categories), as declared.
  std::vector<std::string> id_token_categories;
};

struct introspection {
  bool active = false;
  std::string client_id;
  std::string username;
  std::int64_t user_id = 0;
  std::vector<std::string> scopes;
  std::string token_type;  // "access_token" or "refresh_token"
  std::int64_t issued_at = 0;
  std::int64_t expires_at = 0;
};

// What a valid bearer token stands for.
struct token_grant {
  std::int64_t user_id = 0;
  std::string client_id;
  std::string client_system;
  std::vector<std::string> scopes;
  account subject;  // read with the token; followers_count and follows_count are not filled
};

enum class delivery_state { pending, delivered, dead, disabled };
std::string_view to_string(delivery_state s);
std::optional<delivery_state> parse_delivery_state(std::string_view s);

struct delivery {
  std::int64_t id = 0;
  std::int64_t event_id = 0;
  std::string client_id;
  std::string kind;  // "webhook", "deauthorize", "data_deletion"
  std::string field;
  std::int64_t account_id = 0;
  std::string url;
  delivery_state state = delivery_state::pending;
  std::int64_t attempts = 0;
  time_point next_attempt_at;
  int last_status = 0;        // 0: no HTTP answer
  std::string last_response;  // the start of the last answer's body, or the transport error
};

inline constexpr std::size_t default_pending_sign_ins = 100'000;  // config::max_pending_sign_ins

struct config {
  std::string issuer = "http://127.0.0.1";  // the base URL; `iss` in authorization responses
  std::string system_name = "idp";          // this service's name in the evidence log
  provider_rules rules;
  milliseconds code_ttl = 1h;  // Meta: authorization codes live one hour
  milliseconds authorization_request_ttl = 15min;
  // Authorization requests waiting for login and consent, and codes waiting to be redeemed: at
  // most this many of each are held (in memory). Past it, a new request is sent back with
  // temporarily_unavailable and a consent is answered 503. Expired ones are dropped once a
  // minute, and at once when the bound is reached.
  std::size_t max_pending_sign_ins = default_pending_sign_ins;
  milliseconds short_token_ttl = 1h;
  milliseconds id_token_ttl = 10min;       // an ID token is read once, at the sign-in
  milliseconds long_token_ttl = 60 * 24h;  // Meta: long-lived tokens last 60 days
  milliseconds long_token_min_refresh_age = 24h;
  milliseconds refresh_token_ttl = 90 * 24h;
  milliseconds session_ttl = 30 * 24h;
  password_cost password;
  // Delay before attempt n+1 (Standard Webhooks' schedule), each with ±jitter.
  std::vector<milliseconds> retry_schedule = {0ms, 5s, 5min, 30min, 2h, 5h, 10h, 14h, 20h, 24h};
  double retry_jitter = 0.1;
  // Meta retries "over the next 36 hours": a delivery still failing after this is dead.
  milliseconds retry_window = 36h;
  // Deliveries read from the queue per dispatch round.
  std::size_t dispatch_batch = 64;
  // Changes per webhook request. Meta may batch up to 1 000 changes in one request ("batching
  // is not guaranteed"): changes due together for one client then travel as the entries of one
  // body, under one signature, and are retried together. 1 sends each change on its own.
  std::size_t webhook_batch = 1;
  // With batching, how long a change may wait for others to share its request: a change's first
  // attempt falls due at the next multiple of the window (on the clock), so the changes made in
  // one window go out together. 0: each change is due when made (it still shares a request
  // with whatever else is due at that moment).
  milliseconds webhook_batch_window{0};
  // How long a poll with `returnImmediately: false` waits for a SET before it is answered with
  // none (RFC 8936 section 2.4 leaves the time to the transmitter). Receivers' HTTP timeouts
  // must be longer.
  milliseconds ssf_poll_hold = 4s;
};

inline constexpr std::size_t max_webhook_batch = 1000;

// The company-wide ad settings of an account (Accounts Center's "ad preferences").
struct ad_settings {
  bool personalized_ads = true;  // the default until the person turns them off
  time_point updated_at{};       // zero while the defaults apply
};

class service {
 public:
  // Creates the schema in `db` if needed. The references must outlive the service.
  service(store::database& db, const clock& clock, random_source& random,
          evidence::recorder& recorder, http::transport& transport, config cfg);
  // Over the repositories given, which must outlive the service.
  service(repositories& repos, const clock& clock, random_source& random,
          evidence::recorder& recorder, http::transport& transport, config cfg);
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  const config& settings() const { return cfg_; }
  random_source& random();

  // --- Accounts (the admin API) ---
  // errc::username_invalid, username_taken, bad_field (a name or bio too long).
  result<account> create_account(const new_account& n);
  // errc::not_found.
  result<account> get_account(std::int64_t id);
  result<account> find_account(std::string_view username);  // case-insensitive
  // errc::not_found, account_deleted, username_invalid, username_taken, bad_field.
  result<account> update_profile(std::int64_t id, const profile_change& change);
  // A new password (8 to 1024 bytes): the account's logins elsewhere end, and receivers of its
  // Shared Signals hear a CAEP credential-change. errc::not_found, account_deleted, bad_field.
  result<void> change_password(std::int64_t id, std::string_view password);
  // errc::not_found, account_deleted, unsupported_media_type.
  result<account> set_picture(std::int64_t id, const picture& p);
  result<picture> get_picture(std::string_view sha256_hex);
  // Marks the account deleted (its username becomes free), revokes its tokens and tells
  // subscribed clients. errc::not_found, account_deleted.
  result<account> delete_account(std::int64_t id);
  // errc::not_found, account_deleted, self_follow.
  result<void> follow(std::int64_t follower, std::int64_t followee);
  result<void> unfollow(std::int64_t follower, std::int64_t followee);
  std::vector<std::int64_t> followers_of(std::int64_t id);
  // The account's ad settings, which every product of the company honours. errc::not_found;
  // setting them on a deleted account: errc::account_deleted.
  result<ad_settings> get_ad_settings(std::int64_t id);
  result<ad_settings> set_ad_settings(std::int64_t id, bool personalized_ads);
  // The user removes the app: revokes its grants and calls its deauthorize URL.
  result<void> deauthorize(std::int64_t account_id, std::string_view client_id);
  // The apps the account has authorized and not removed (Instagram's "Apps and websites"):
  // each client with a standing grant, and the grant's scope. errc::not_found.
  result<std::vector<std::pair<std::string, std::string>>> apps_of(std::int64_t account_id);

  // --- Shared Signals (OpenID SSF 1.0), as a transmitter; the client is the receiver ---
  result<ssf_stream> ssf_create(const client& c, const ssf_stream_request& r);
  std::vector<ssf_stream> ssf_streams(const client& c);
  result<ssf_stream> ssf_stream_of(const client& c, std::string_view id);  // errc::not_found
  result<ssf_stream> ssf_update(const client& c, std::string_view id, const ssf_stream_request& r,
                                bool replace);
  result<void> ssf_delete(const client& c, std::string_view id);
  result<ssf_stream> ssf_set_status(const client& c, std::string_view id, std::string_view status,
                                    std::string_view reason);
  result<void> ssf_subject(const client& c, std::string_view id, std::int64_t account_id, bool add);
  result<void> ssf_verify(const client& c, std::string_view id, std::string_view state);
  result<ssf_poll_answer> ssf_poll(const client& c, std::string_view id, const ssf_poll_request& r);
  // The id of the newest SET waiting to be polled on any stream; 0 when none waits. The
  // simulation answers a receiver's held poll (RFC 8936 long polling) when it grows.
  std::int64_t ssf_newest_waiting();
  // `claims` (a JSON object) as a SET (typ secevent+jwt) signed with the provider's current
  // key, as the transmitter signs its own; errc::bad_json for anything else. No route reaches
  // it: it is how a scenario acts as the transmitter itself, to send a receiver SETs the
  // provider would never make (an empty jti, a subject in another format).
  result<std::string> ssf_sign(std::string_view claims);
  // Grows whenever a SET is queued or released for delivery: a held poll looks again only then.
  // Lock-free.
  std::uint64_t ssf_generation() const;

  // --- Clients and webhook subscriptions ---
  // errc::missing_field (no redirect URI), callback_url_invalid.
  result<client> register_client(const client_registration& r);
  result<client> get_client(std::string_view id);
  // Runs Meta's hub.challenge handshake against the callback, then stores the subscription.
  // errc::not_found, callback_url_invalid, bad_field (unknown field),
  // subscription_handshake_failed.
  result<subscription> subscribe(std::string_view client_id, std::string callback_url,
                                 std::string verify_token, std::vector<std::string> fields);
  result<subscription> get_subscription(std::string_view client_id);

  // --- The authorization endpoint (RFC 6749 §4.1.1, RFC 7636, RFC 9207) ---
  // idp::error::unknown_client and redirect_uri_unregistered must be shown as an error page; the
  // others may be sent back to the (then trusted) redirect URI.
  result<pending_authorization> begin_authorization(const authorize_request& req);
  result<pending_authorization> get_authorization(std::string_view id);
  // idp::error::login_failed, account_inactive.
  result<account> authenticate_user(std::string_view username, std::string_view password);
  // A login session: the accounts logged in in one browser. Returns the session token.
  std::string open_session(std::int64_t account_id, std::string_view existing_session);
  // The accounts logged in with `session`, oldest first: id, username, display name and status
  // only.
  std::vector<account> session_accounts(std::string_view session);
  // On allow: the redirect URL carrying code, state and iss. idp::error::session_account_unknown,
  // account_inactive, authorization_request_unknown.
  result<std::string> approve(std::string_view request_id, std::string_view session,
                              std::int64_t account_id);
  // The redirect URL carrying error=access_denied.
  result<std::string> deny(std::string_view request_id);
  authorization_next next_after_authorization(const pending_authorization& p,
                                              std::string_view session);
  // The redirect URL for an error found at the authorization endpoint (RFC 6749 §4.1.2.1).
  std::string error_redirect(const authorize_request& req, const boost::system::error_code& ec);

  // --- The token endpoints ---
  // idp::error::invalid_client.
  result<client> authenticate_client(std::string_view id, std::string_view secret);
  // Whether some client registered `origin` (for a CORS preflight, which names no client).
  bool origin_allowed(std::string_view origin);
  // RFC 6749 §4.1.3 with RFC 7636 §4.6. Reuse revokes the tokens issued from the code.
  // `with_refresh` issues a refresh token (the standard endpoint) or not (Meta's).
  result<token_response> exchange_code(const client& c, std::string_view code,
                                       std::string_view redirect_uri,
                                       std::string_view code_verifier, bool with_refresh);
  // RFC 6749 §6 with rotation; a replayed refresh token revokes its whole grant (RFC 9700 §4.14).
  result<token_response> refresh(const client& c, std::string_view refresh_token);
  // Meta's ig_exchange_token: a short-lived token for a 60-day one.
  result<token_response> exchange_long_lived(std::string_view client_secret,
                                             std::string_view access_token);
  // Meta's ig_refresh_token: only for long-lived tokens at least 24 hours old.
  result<token_response> refresh_long_lived(std::string_view access_token);
  // RFC 7009: revoking an unknown token succeeds; a refresh token takes its grant with it.
  void revoke(const client& c, std::string_view token);
  // RFC 7662: inactive for anything expired, revoked, unknown or another client's.
  introspection introspect(const client& c, std::string_view token);
  // Checks a bearer token for the profile API and reads its account in the same query.
  // idp::error::token_invalid, token_expired (also for a deleted account: its grants are revoked).
  result<token_grant> check_access_token(std::string_view token);
  // OpenID Connect: the keys that sign ID tokens, as a JWK Set ({"keys":[...]}, RFC 7517 §5).
  std::string jwks();
  // Signs ID tokens with a new key from now on; the JWK Set keeps the previous one. Returns the
  // new key's kid.
  std::string rotate_signing_key();

  // --- Webhooks ---
  // Sends the deliveries due now (at most one batch) and returns how many were sent.
  std::size_t dispatch_due();
  std::optional<time_point> next_delivery_due();
  std::vector<delivery> deliveries(std::optional<delivery_state> state, std::size_t limit = 100);
  // Puts a dead or disabled delivery back in the queue, due now.
  // errc::not_found, delivery_not_replayable.
  result<delivery> replay(std::int64_t delivery_id);

  // --- Evidence ---
  // Records that `fields` of `subject` went to `to_system` through `channel`.
  void record_flow(std::string_view to_system, std::int64_t subject,
                   const std::vector<std::string>& categories, std::string_view purpose,
                   std::string_view channel, std::string_view payload, std::string note = {});

 private:
  struct parts;
  std::unique_ptr<repositories> own_repos_;  // the SQLite ones, when built from a database
  config cfg_;
  std::unique_ptr<parts> parts_;
};

}  // namespace linksim::idp
