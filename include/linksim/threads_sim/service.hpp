// The Threads-style dependent service's domain logic. It has no passwords: a profile exists only
// as the link to an identity-provider account, made through "Log in with Instagram" (an OAuth
// client of the provider) and kept in step by signed webhooks and reconciliation polling. The
// rules it follows are a behaviour profile (behaviour.hpp).
// It reads time from the clock, randomness from the random source, reaches the provider through
// the transport and reports every data flow to the recorder: nothing else. Public functions are
// thread-safe; no lock is held while a request to the provider is in flight.
#pragma once

#include "linksim/common/clock.hpp"
#include "linksim/common/error.hpp"
#include "linksim/common/http.hpp"
#include "linksim/common/random.hpp"
#include "linksim/evidence/flow.hpp"
#include "linksim/threads_sim/behaviour.hpp"
#include "linksim/threads_sim/error.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace linksim::store {
class database;
}

namespace linksim::threads_sim {

using namespace std::chrono_literals;

struct config {
  std::string base_url = "http://127.0.0.1";  // this service; the redirect URI is base/callback
  std::string system_name = "threads";        // this service's name in the evidence log
  std::string idp_system = "idp";
  std::string idp_url;  // the provider's base URL: its issuer, for browsers and server calls
  std::string client_id;
  std::string client_secret;               // the app secret: also verifies X-Hub-Signature-256
  std::string webhook_verify_token;        // expected in the subscription handshake
  milliseconds reconcile_interval = 5min;  // "within minutes"
  milliseconds reconcile_retry = 30s;      // after the provider could not be reached
  std::size_t reconcile_batch = 64;
  milliseconds login_ttl = 10min;  // state and PKCE verifier of one sign-in attempt
  milliseconds link_ttl = 15min;   // a confirmation page waiting for "Link Account"
  milliseconds session_ttl = 30 * 24h;
  behaviour rules;  // default: `documented`
  channel changes = channel::webhook;
  milliseconds signals_poll_interval = 1min;  // ssf_poll: how often the stream is polled
  // The company's ad platform (src/ads): unset, no activity leaves the service.
  std::string ads_url;
  std::string ads_token;       // this service's token for the ad platform
  std::string internal_token;  // this service's token for the provider's internal API
};

// What a request tells the service beyond its body: the device identifier the session stands
// for. (The browser's Sec-GPC signal is noted by note_gpc before the request is served.)
struct request_context {
  std::string device;
};

struct sponsored_post {
  std::string campaign;
  std::string advertiser;
  std::string text;
  bool personalized = false;
};

// What a sign-in attempt is for. `signup` refuses an account that already has a profile;
// `login` signs into it (and offers to create one when there is none).
enum class intent { login, signup };

// The provider's view of an account, as /me returned it.
struct idp_profile {
  std::int64_t id = 0;
  std::string username;
  std::string name;
  std::string biography;
  std::string picture_url;
  std::string picture_sha256;
  std::string status;        // active, restricted, suspended, banned
  std::string account_type;  // personal or business
  std::int64_t version = 0;
  std::vector<std::int64_t> followers;  // provider ids
};

struct profile {
  std::int64_t id = 0;
  std::int64_t ig_user_id = 0;
  std::string username;  // empty while a swap waits for its other half (see docs/linkage.md)
  std::string display_name;
  std::string bio;
  std::string picture_url;
  std::string picture_sha256;
  std::string ig_status = "active";   // the provider account's last known status
  bool ig_deleted = false;            // the provider account is gone: the profile is closed
  bool needs_login = false;           // the provider rejected its token: the next login fixes it
  std::int64_t username_version = 0;  // the provider version each mirrored field was taken at
  std::int64_t picture_version = 0;
  std::int64_t status_version = 0;
  std::int64_t bio_version = 0;  // only used where bio mirrors (a fault profile)
  time_point created_at;
  time_point last_synced_at;
  std::int64_t followers = 0;  // filled by get_profile and the public lookups
  std::int64_t following = 0;
  std::int64_t posts = 0;
};

struct post {
  std::int64_t id = 0;
  std::int64_t profile_id = 0;
  std::string author;  // the author's username at read time
  std::string text;
  std::int64_t likes = 0;
  time_point created_at;
};

// A notice to the ad platform waiting in the outbox (pending) or given up on (dead); delivered
// ones are deleted.
struct ads_notice {
  std::int64_t id = 0;
  std::string kind;  // activity, deletion, opt_out
  std::int64_t profile_id = 0;
  std::int64_t subject = 0;  // the provider account
  std::string state;         // pending, dead
  std::int64_t attempts = 0;
  time_point next_attempt_at;
  int last_status = 0;  // 0: no answer
  std::string last_response;
};

struct feed_page {
  std::vector<post> posts;  // the profile's and those it follows, newest first
  std::optional<sponsored_post> sponsored;
};

// Fields left empty are unchanged.
struct profile_edit {
  std::optional<std::string> username;
  std::optional<std::string> display_name;
  std::optional<std::string> bio;
  std::optional<std::string> picture_url;
};

struct login_start {
  std::string authorize_url;  // where to send the browser
  std::string browser_key;    // set as a cookie: binds the attempt to this browser
};

// A provider account waiting on the confirmation page.
struct link_request {
  std::string id;
  intent purpose = intent::login;
  idp_profile ig;
  std::int64_t followers_with_profiles = 0;  // how many follows the import would create
};

struct callback_result {
  std::optional<link_request> confirm;  // a new profile: show the confirmation page
  std::optional<profile> signed_in;     // an existing profile: signed in
  std::string session;                  // set when signed_in
};

// What a webhook delivery did, for the receiver's answer and the tests.
struct webhook_outcome {
  std::size_t applied = 0;
  std::size_t duplicates = 0;
  std::size_t stale = 0;    // older than what the profile already has
  std::size_t ignored = 0;  // not mirrored under this profile, or no profile for the account
};

// What one Security Event Token did, for the push answer and the tests.
struct signal_outcome {
  std::string event;    // the event type URI
  std::string outcome;  // "applied", "duplicate", "re-read", "ignored (why)", ...
};

namespace mirror {
struct field;
}

// The client id and secret the provider gave a running service, kept in the service's database
// (store_registration) so that a restart does not register again. stored_registration migrates
// the database first; nullopt when none is stored.
// The provider's tokens a profile holds.
struct link_tokens {
  std::string access;
  std::string refresh;
  time_point access_expires_at;
  std::int64_t user_id = 0;  // the account the grant is for, as the token answer names it
};

class repositories;

struct registration {
  std::string client_id;
  std::string client_secret;
};
std::optional<registration> stored_registration(store::database& db);
void store_registration(store::database& db, const registration& r);

// A profile as a webhook's change is checked against it: its id and each mirrored field's version.
struct mirror_versions {
  std::int64_t id = 0, ig_user_id = 0, username = 0, picture = 0, status = 0, bio = 0;
};

class service {
 public:
  // Creates the schema in `db` if needed. The references must outlive the service.
  // Throws store::error when the database holds two profiles for one account and the behaviour
  // forbids it (a database written under `fault.two_profiles`).
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
  std::string redirect_uri() const { return cfg_.base_url + "/callback"; }

  // --- Signing in through the provider ---
  login_start begin_login(intent purpose);
  // The redirect back from the provider. threads_sim::error::login_state_invalid, issuer_mismatch,
  // access_denied (the user cancelled), upstream_unavailable, upstream_bad_response,
  // account_inactive (not active on the provider), already_linked (intent signup),
  // profile_deleted_upstream.
  result<callback_result> complete_login(std::string_view browser_key, const http::params& query);
  // threads_sim::error::link_request_unknown.
  result<link_request> get_link_request(std::string_view id, std::string_view browser_key);
  // "Link Account": creates the profile and imports the followers in one transaction, and
  // returns it with a new session. `handle` is the chosen username under the `independent`
  // rule (ignored otherwise). threads_sim::error::link_request_unknown, already_linked,
  // username_invalid, username_taken.
  result<std::pair<profile, std::string>> confirm_link(std::string_view id,
                                                       std::string_view browser_key,
                                                       std::string_view handle = {});

  // --- Sessions ---
  // threads_sim::error::not_signed_in, profile_deleted_upstream, profile_unavailable.
  result<profile> session_profile(std::string_view session);
  void end_session(std::string_view session);

  // --- Profiles and content ---
  // threads_sim::error::profile_not_found. No visibility checks: for the owner and the admin API.
  result<profile> get_profile(std::int64_t id);
  // Without counts, followers, following and posts are left at zero: for a caller that compares
  // profiles and never shows them.
  enum class counts { with, without };
  std::vector<profile> profiles_of_account(std::int64_t ig_user_id, counts c = counts::with);
  // What the public may read: threads_sim::error::profile_not_found, profile_deleted_upstream,
  // profile_unavailable.
  result<profile> public_profile(std::string_view username);
  // threads_sim::error::username_read_only, picture_read_only, username_invalid, username_taken,
  // bad_field.
  result<profile> edit_profile(std::int64_t profile_id, const profile_edit& edit);
  // threads_sim::error::text_invalid. Post, like and follow also share the activity with the ad
  // platform (cross_product.cpp), for the purposes the account's settings and `ctx` allow.
  result<post> create_post(std::int64_t profile_id, std::string_view text,
                           const request_context& ctx = {});
  // errc::not_found (no such post, or its author cannot be read), already_liked.
  result<post> like(std::int64_t profile_id, std::int64_t post_id, const request_context& ctx = {});
  // A post as the public sees it: errc::not_found.
  result<post> get_post(std::int64_t post_id);
  std::vector<post> posts_of(std::int64_t profile_id, std::size_t limit = 50);
  // threads_sim::error::profile_not_found, self_follow.
  result<void> follow(std::int64_t profile_id, std::string_view username,
                      const request_context& ctx = {});
  result<void> unfollow(std::int64_t profile_id, std::string_view username);
  bool follows(std::int64_t follower, std::int64_t followee);
  // Usernames of the profiles following `profile_id`.
  std::vector<std::string> followers_of(std::int64_t profile_id);
  // The only way to unlink: deletes the profile, its sessions and stored tokens, and (unless
  // the behaviour keeps them) its posts, likes and follows; revokes the provider token.
  result<void> delete_profile(std::int64_t profile_id);

  // Test seam, for the simulation's `crash` step: the next session write fails, with the storage
  // error a process that died there would leave (its transaction rolls back). An import ends with
  // one, after the profile, its follows and tokens are written. Once.
  void fail_next_import();

  // --- Cross-product data use (seeds 001 and 002; docs/ads.md) ---
  // The browser sent Sec-GPC: 1: the profile is opted out of advertising use of its activity
  // from now on, and the ad platform is told (once). Ignored under fault.gpc_ignored.
  void note_gpc(std::int64_t profile_id);
  bool gpc_opted_out(std::int64_t profile_id);
  // The profile's feed and a sponsored post from the ad platform (none when it cannot be
  // reached). threads_sim::error::profile_not_found.
  result<feed_page> feed(std::int64_t profile_id);
  // The support assistant: answers, and keeps the conversation to improve the company's AI.
  // threads_sim::error::text_invalid.
  result<std::string> ask_assistant(std::int64_t profile_id, std::string_view message);

  // --- Webhooks from the provider ---
  // The GET handshake: the challenge to echo. threads_sim::error::verify_token_mismatch, bad_field.
  result<std::string> handshake(const http::params& query);
  // A POST delivery: the signature is checked over `raw_body` before anything is parsed.
  // threads_sim::error::signature_invalid, bad_json.
  result<webhook_outcome> receive_webhook(std::string_view raw_body,
                                          std::string_view signature_header);
  // Meta's deauthorize and data-deletion callbacks (`signed_request`). The first forgets the
  // stored token; the second deletes the profile and returns a confirmation code.
  // threads_sim::error::signature_invalid, bad_field.
  result<void> deauthorize(std::string_view signed_request);
  result<std::string> data_deletion(std::string_view signed_request);
  // How many profiles a data-deletion request removed. errc::not_found.
  result<std::int64_t> deletion_status(std::string_view confirmation_code);

  // --- Shared Signals from the provider (config::changes ssf_push or ssf_poll) ---
  // Reads the transmitter's configuration and key set, and finds this service's stream there or
  // creates it: pushing to base_url + "/ssf/events" with an Authorization header only the two
  // sides know, or polled. errc::upstream_unavailable, upstream_bad_response.
  result<void> connect_signals();
  // A pushed SET (RFC 8935), with the request's Authorization header. The SET is checked before
  // anything is done: its signature against the transmitter's key set (fetched again once for a
  // key it does not know, as after a rotation), typ, iss, aud and iat; a jti seen before is a
  // duplicate. An identifier or status change carries no version, so the profile is read again
  // from /me, which has one. threads_sim::error::push_unauthorized, set_invalid, set_key_invalid,
  // set_issuer_invalid, set_audience_invalid.
  result<signal_outcome> receive_set(std::string_view set, std::string_view authorization);
  // Polls the stream (RFC 8936) until it holds nothing more, acknowledging each SET once it is
  // applied and reporting the refused ones as errors; returns how many SETs came.
  // errc::upstream_unavailable, upstream_bad_response. With `wait`, the first request is a long
  // poll (`returnImmediately: false`): the transmitter answers when a SET is queued or its hold
  // is over, and the next poll is due at once.
  result<std::size_t> poll_signals(bool wait = false);
  // When poll_signals is next due (ssf_poll only).
  std::optional<time_point> next_signals_poll();

  // --- Reconciliation ---
  // Polls the provider for profiles whose last sync is older than the interval (at most one
  // batch); returns how many were polled.
  std::size_t reconcile_due();
  // Polls one profile now. threads_sim::error::profile_not_found, reauthorization_required,
  // upstream_unavailable, upstream_bad_response.
  result<profile> reconcile(std::int64_t profile_id);
  std::optional<time_point> next_reconcile_due();

  // --- Notices to the ad platform (cross_product.cpp) ---
  // Activity, deletions and opt-outs are written to an outbox in the transaction of the change
  // and sent at once after it commits; what the platform does not take (no answer, or not the
  // expected 2xx) is retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h,
  // then dead. Sends the due ones; returns how many were sent.
  std::size_t dispatch_notices();
  std::optional<time_point> next_notice_due();
  // The outbox, oldest first; `state` pending or dead, or all.
  std::vector<ads_notice> ads_notices(std::optional<std::string_view> state = std::nullopt);
  // Makes a dead notice due now. errc::not_found, delivery_not_replayable (not dead).
  result<void> replay_ads_notice(std::int64_t id);

 private:
  struct parts;
  void start();                              // what both constructors do once the parts are built
  std::unique_ptr<repositories> own_repos_;  // the SQLite ones, when built from a database
  config cfg_;
  std::unique_ptr<parts> parts_;
};

}  // namespace linksim::threads_sim
