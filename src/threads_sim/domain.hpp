// The dependent service's domain, one class per concern: profiles (with their sessions),
// linkage (sign-in through the provider and the one profile per account), the mirror, the
// provider's client side (tokens and /me), reconciliation, Meta's callbacks, content, and the
// cross-product notices to the ad platform. Each works through the repository interfaces and
// the shared context; `threads_sim::service` owns them and hands each call to its owner.
#pragma once

#include "internal.hpp"
#include "mirror.hpp"

#include "linksim/threads_sim/repositories.hpp"

#include <boost/json/object.hpp>

#include <mutex>
#include <set>

namespace linksim::threads_sim::domain {

using counts = service::counts;

// What every part shares: the lock that serialises storage, the configuration, the sources of
// time and randomness, and the helpers every part reads profiles and records flows with.
struct context {
  repositories& repos;
  const linksim::clock& time;
  random_source& random;
  evidence::recorder& recorder;
  http::transport& transport;
  const config& cfg;
  std::mutex mutex;               // guards the repositories
  bool fail_next_import = false;  // see service::fail_next_import

  std::string redirect_uri() const { return cfg.base_url + "/callback"; }
  void record(std::string_view from, std::string_view to, std::int64_t subject,
              const std::vector<std::string>& categories, std::string_view channel,
              std::string_view payload, std::string note,
              std::string_view purpose = "essential.service") const;
  void record_hashed(std::string_view from, std::string_view to, std::int64_t subject,
                     const std::vector<std::string>& categories, std::string_view channel,
                     std::string payload_digest, std::string note,
                     std::string_view purpose = "essential.service") const;
  // The helpers below run with the mutex held.
  result<profile> load_profile(std::int64_t id, counts c = counts::with);
  std::vector<profile> profiles_locked(std::int64_t ig_user_id, counts c = counts::with);
  std::optional<std::int64_t> profile_by_username(std::string_view username);
  // A new session for the profile; returns its token.
  std::string open_session(std::int64_t profile_id);
};

// The service as the provider's OAuth client: redeeming and refreshing tokens, reading /me.
class provider_client {
 public:
  explicit provider_client(context& ctx) : ctx_(ctx) {}
  result<link_tokens> redeem_code(std::string_view code, std::string_view verifier);
  result<link_tokens> refresh_tokens(const std::string& refresh_token);
  result<idp_profile> fetch_me(const std::string& access_token, bool with_followers,
                               std::string* raw_body);
  void store_tokens(std::int64_t profile_id, const link_tokens& t);  // with the mutex held

 private:
  static result<link_tokens> parse_tokens(const http::response& r, time_point now);
  context& ctx_;
};

// The mirror (see mirror.hpp): a change of the provider's account reaching its profiles by a
// signed webhook or by a /me snapshot.
class mirror_updates {
 public:
  explicit mirror_updates(context& ctx) : ctx_(ctx) {}
  result<std::string> handshake(const http::params& query);
  result<webhook_outcome> receive_webhook(std::string_view raw_body,
                                          std::string_view signature_header);
  // With the mutex held, inside a unit of work.
  std::vector<std::string> apply_snapshot(profile& p, const idp_profile& ig);
  void set_username(profile& p, const std::string& username, std::int64_t version);

 private:
  void set_username(std::int64_t profile_id, std::int64_t ig_user_id, const std::string& username,
                    std::int64_t version);
  // The part of a mirrored username the behaviour keeps: all of it (up to the provider's 30).
  std::string kept_username(const std::string& username) const;
  void write_change(const mirror::field& f, const mirror_versions& p,
                    const std::array<std::string, 2>& values, std::int64_t version);
  context& ctx_;
};

// The notices to the company's ad platform (an outbox), the feed's sponsored post, the GPC
// signal and the support assistant (seeds 001 and 002).
class cross_product {
 public:
  explicit cross_product(context& ctx) : ctx_(ctx) {}
  void note_gpc(std::int64_t profile_id);
  bool gpc_opted_out(std::int64_t profile_id);
  result<feed_page> feed(std::int64_t profile_id);
  result<std::string> ask_assistant(std::int64_t profile_id, std::string_view message);
  std::size_t dispatch_notices();
  std::optional<time_point> next_notice_due();
  std::vector<ads_notice> ads_notices(std::optional<std::string_view> state);
  result<void> replay_ads_notice(std::int64_t id);
  // With the mutex held, inside the unit of work of the change; returns the notice's id (0 when
  // no notice is sent).
  std::int64_t enqueue_activity_locked(std::int64_t profile_id, std::int64_t subject,
                                       std::string_view kind, std::string_view text,
                                       const request_context& ctx);
  std::int64_t enqueue_notice_locked(std::string_view kind, std::int64_t profile_id,
                                     std::int64_t subject, std::string_view body);
  // After the commit, with no lock held.
  void send_notice_now(std::int64_t id);

 private:
  result<http::response> call_ads(std::string method, std::string_view path, std::string body);
  bool advertising_allowed(std::int64_t profile_id, std::int64_t subject);
  bool send_notice(std::int64_t id);
  void settle_notice(std::int64_t id, std::int64_t was_due, std::int64_t attempts, bool delivered,
                     const result<http::response>& r);

  context& ctx_;
  std::mutex dispatch_mutex_;  // one notice dispatch at a time: none is sent twice
  std::set<std::pair<std::int64_t, std::int64_t>> queue_;  // (due, id) of pending notices
  friend class ::linksim::threads_sim::service;            // fills queue_ at start
};

// Profiles and their sessions: reading, editing and deleting them.
class profiles {
 public:
  profiles(context& ctx, cross_product& ads) : ctx_(ctx), ads_(ads) {}
  result<profile> session_profile(std::string_view session);
  void end_session(std::string_view session);
  result<profile> get(std::int64_t id);
  std::vector<profile> of_account(std::int64_t ig_user_id, counts c);
  result<profile> public_profile(std::string_view username);
  result<profile> edit(std::int64_t profile_id, const profile_edit& edit);
  result<void> remove(std::int64_t profile_id);
  void remove_locked(std::int64_t profile_id);  // with the mutex held, inside a unit of work

 private:
  context& ctx_;
  cross_product& ads_;
};

// Signing in through the provider: the login state and PKCE verifier, the callback, the
// confirmation step ("Link Account") and the one profile an account may have.
class linkage {
 public:
  linkage(context& ctx, provider_client& provider, mirror_updates& mirror, cross_product& ads)
      : ctx_(ctx), provider_(provider), mirror_(mirror), ads_(ads) {}
  login_start begin_login(intent purpose);
  result<callback_result> complete_login(std::string_view browser_key, const http::params& query);
  result<link_request> get_link_request(std::string_view id, std::string_view browser_key);
  result<std::pair<profile, std::string>> confirm_link(std::string_view id,
                                                       std::string_view browser_key,
                                                       std::string_view handle);

 private:
  result<link_request> get_link_request_locked(std::string_view id, std::string_view browser_key);
  result<std::pair<profile, std::string>> link_profile(std::string_view id,
                                                       std::string_view browser_key,
                                                       std::string_view handle,
                                                       std::int64_t& notice);
  context& ctx_;
  provider_client& provider_;
  mirror_updates& mirror_;
  cross_product& ads_;
};

// Polling the provider for a profile's current fields when webhooks may have been lost.
class reconciliation {
 public:
  reconciliation(context& ctx, provider_client& provider, mirror_updates& mirror)
      : ctx_(ctx), provider_(provider), mirror_(mirror) {}
  result<profile> reconcile(std::int64_t profile_id);
  std::size_t reconcile_due();
  std::optional<time_point> next_due();
  // Reads the profile's account from /me now and applies it; with no lock held.
  result<void> poll(std::int64_t profile_id);

 private:
  context& ctx_;
  provider_client& provider_;
  mirror_updates& mirror_;
  std::mutex sync_mutex_;  // held for a whole poll: one token rotation at a time
};

// The provider's Shared Signals stream, received (signals.cpp).
class signals {
 public:
  signals(context& ctx, reconciliation& reconcile, mirror_updates& mirror)
      : ctx_(ctx), reconcile_(reconcile), mirror_(mirror) {}
  result<void> connect();
  result<signal_outcome> receive_pushed(std::string_view set, std::string_view authorization);
  result<std::size_t> poll(bool wait);
  std::optional<time_point> next_poll();

 private:
  // A request to the transmitter with this service's client credentials.
  result<http::response> call(std::string method, std::string target, std::string body = {});
  result<boost::json::object> fetch_json(const std::string& url);
  std::string push_authorization() const;
  // Signature, typ, iss, aud, iat: the SET's claims, or why it is refused.
  result<boost::json::object> check(std::string_view set);
  result<signal_outcome> apply(std::string_view set);
  context& ctx_;
  reconciliation& reconcile_;
  mirror_updates& mirror_;
  std::mutex poll_mutex_;  // held while a poll applies and acknowledges: one at a time
  std::mutex mutex_;       // guards what follows: the stream and the key set as last read
  std::string stream_id_;
  std::string jwks_uri_;
  boost::json::object jwks_;
  std::optional<time_point> jwks_read_at_;
  time_point next_poll_{};
};

// Meta's signed_request callbacks: deauthorization and data deletion.
class callbacks {
 public:
  callbacks(context& ctx, profiles& profiles, cross_product& ads)
      : ctx_(ctx), profiles_(profiles), ads_(ads) {}
  result<void> deauthorize(std::string_view signed_request);
  result<std::string> data_deletion(std::string_view signed_request);
  result<std::int64_t> deletion_status(std::string_view confirmation_code);

 private:
  result<std::int64_t> verify_signed_request(std::string_view signed_request);
  context& ctx_;
  profiles& profiles_;
  cross_product& ads_;
};

// Posts, likes and follows, each with its notice to the ad platform.
class content {
 public:
  content(context& ctx, cross_product& ads) : ctx_(ctx), ads_(ads) {}
  result<post> create_post(std::int64_t profile_id, std::string_view text,
                           const request_context& ctx);
  result<post> like(std::int64_t profile_id, std::int64_t post_id, const request_context& ctx);
  result<post> get_post(std::int64_t post_id);
  std::vector<post> posts_of(std::int64_t profile_id, std::size_t limit);
  result<void> follow(std::int64_t profile_id, std::string_view username,
                      const request_context& ctx);
  result<void> unfollow(std::int64_t profile_id, std::string_view username);
  bool follows(std::int64_t follower, std::int64_t followee);
  std::vector<std::string> followers_of(std::int64_t profile_id);

 private:
  context& ctx_;
  cross_product& ads_;
};

}  // namespace linksim::threads_sim::domain
