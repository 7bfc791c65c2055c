// The identity provider's front: builds the domain parts over the repositories and hands each
// call to the part that owns it.
#include "domain.hpp"

namespace linksim::idp {

void domain::context::record_flow_hashed(std::string_view to_system, std::int64_t subject,
                                         const std::vector<std::string>& categories,
                                         std::string_view purpose, std::string_view channel,
                                         std::string payload_digest, std::string note) const {
  recorder.record({time.now(), cfg.system_name, std::string(to_system), std::to_string(subject),
                   categories, std::string(purpose), std::string(channel),
                   std::move(payload_digest), std::move(note)});
}

domain::outbox::outbox(context& ctx, clients& clients, shared_signals& signals)
    : ctx_(ctx), clients_(clients), signals_(signals) {
  // Changes are numbered on from the last one stored, and the pending deliveries are queued in
  // the order they fall due (one scan of the outbox at start).
  last_event_id_ = ctx_.repos.outbox().last_event_id();
  for (const auto& due : ctx_.repos.outbox().pending()) queue_.insert(due);
}

struct service::parts {
  parts(repositories& repos, const clock& clock, random_source& random,
        evidence::recorder& recorder, http::transport& transport, const config& cfg)
      : ctx{repos, clock, random, recorder, transport, cfg, {}, {}, {}, {}},
        clients(ctx),
        signals(ctx),
        outbox(ctx, clients, signals),
        accounts(ctx, outbox),
        authorization(ctx, clients, accounts),
        tokens(ctx, clients, accounts, outbox) {}
  domain::context ctx;
  domain::clients clients;
  domain::shared_signals signals;
  domain::outbox outbox;
  domain::accounts accounts;
  domain::authorization authorization;
  domain::tokens tokens;
};

service::service(store::database& db, const clock& clock, random_source& random,
                 evidence::recorder& recorder, http::transport& transport, config cfg)
    : own_repos_(sqlite_repositories(db)),
      cfg_(std::move(cfg)),
      parts_(std::make_unique<parts>(*own_repos_, clock, random, recorder, transport, cfg_)) {}

service::service(repositories& repos, const clock& clock, random_source& random,
                 evidence::recorder& recorder, http::transport& transport, config cfg)
    : cfg_(std::move(cfg)),
      parts_(std::make_unique<parts>(repos, clock, random, recorder, transport, cfg_)) {}

service::~service() = default;

random_source& service::random() {
  return parts_->ctx.random;
}

// --- Accounts ---

result<account> service::create_account(const new_account& n) {
  return parts_->accounts.create(n);
}
result<account> service::get_account(std::int64_t id) {
  return parts_->accounts.get(id);
}
result<account> service::find_account(std::string_view username) {
  return parts_->accounts.find(username);
}
result<account> service::update_profile(std::int64_t id, const profile_change& change) {
  return parts_->accounts.update_profile(id, change);
}
result<void> service::change_password(std::int64_t id, std::string_view password) {
  return parts_->accounts.change_password(id, password);
}
result<account> service::set_picture(std::int64_t id, const picture& p) {
  return parts_->accounts.set_picture(id, p);
}
result<picture> service::get_picture(std::string_view sha256_hex) {
  return parts_->accounts.get_picture(sha256_hex);
}
result<account> service::delete_account(std::int64_t id) {
  return parts_->accounts.remove(id);
}
result<void> service::follow(std::int64_t follower, std::int64_t followee) {
  return parts_->accounts.follow(follower, followee);
}
result<void> service::unfollow(std::int64_t follower, std::int64_t followee) {
  return parts_->accounts.unfollow(follower, followee);
}
std::vector<std::int64_t> service::followers_of(std::int64_t id) {
  return parts_->accounts.followers_of(id);
}
result<ad_settings> service::get_ad_settings(std::int64_t id) {
  return parts_->accounts.get_ad_settings(id);
}
result<ad_settings> service::set_ad_settings(std::int64_t id, bool personalized_ads) {
  return parts_->accounts.set_ad_settings(id, personalized_ads);
}
result<void> service::deauthorize(std::int64_t account_id, std::string_view client_id) {
  return parts_->tokens.deauthorize(account_id, client_id);
}
result<std::vector<std::pair<std::string, std::string>>> service::apps_of(std::int64_t account_id) {
  return parts_->tokens.apps_of(account_id);
}

// --- Shared Signals ---

result<ssf_stream> service::ssf_create(const client& c, const ssf_stream_request& r) {
  return parts_->signals.create(c, r);
}
std::vector<ssf_stream> service::ssf_streams(const client& c) {
  return parts_->signals.streams(c);
}
result<ssf_stream> service::ssf_stream_of(const client& c, std::string_view id) {
  return parts_->signals.get(c, id);
}
result<ssf_stream> service::ssf_update(const client& c, std::string_view id,
                                       const ssf_stream_request& r, bool replace) {
  return parts_->signals.update(c, id, r, replace);
}
result<void> service::ssf_delete(const client& c, std::string_view id) {
  return parts_->signals.remove(c, id);
}
result<ssf_stream> service::ssf_set_status(const client& c, std::string_view id,
                                           std::string_view status, std::string_view reason) {
  return parts_->signals.set_status(c, id, status, reason);
}
result<void> service::ssf_subject(const client& c, std::string_view id, std::int64_t account_id,
                                  bool add) {
  return parts_->signals.subject(c, id, account_id, add);
}
result<void> service::ssf_verify(const client& c, std::string_view id, std::string_view state) {
  return parts_->signals.verify(c, id, state);
}
result<ssf_poll_answer> service::ssf_poll(const client& c, std::string_view id,
                                          const ssf_poll_request& r) {
  return parts_->signals.poll(c, id, r);
}
result<std::string> service::ssf_sign(std::string_view claims) {
  return parts_->signals.sign(claims);
}
std::int64_t service::ssf_newest_waiting() {
  return parts_->signals.newest_waiting();
}
std::uint64_t service::ssf_generation() const {
  return parts_->signals.generation();
}

// --- Clients and webhook subscriptions ---

result<client> service::register_client(const client_registration& r) {
  return parts_->clients.register_client(r);
}
result<client> service::get_client(std::string_view id) {
  return parts_->clients.get(id);
}
result<subscription> service::subscribe(std::string_view client_id, std::string callback_url,
                                        std::string verify_token, std::vector<std::string> fields) {
  return parts_->outbox.subscribe(client_id, std::move(callback_url), std::move(verify_token),
                                  std::move(fields));
}
result<subscription> service::get_subscription(std::string_view client_id) {
  return parts_->outbox.get_subscription(client_id);
}

// --- The authorization endpoint ---

result<pending_authorization> service::begin_authorization(const authorize_request& req) {
  return parts_->authorization.begin(req);
}
result<pending_authorization> service::get_authorization(std::string_view id) {
  return parts_->authorization.get(id);
}
result<account> service::authenticate_user(std::string_view username, std::string_view password) {
  return parts_->authorization.authenticate_user(username, password);
}
std::string service::open_session(std::int64_t account_id, std::string_view existing_session) {
  return parts_->authorization.open_session(account_id, existing_session);
}
std::vector<account> service::session_accounts(std::string_view session) {
  return parts_->authorization.session_accounts(session);
}
result<std::string> service::approve(std::string_view request_id, std::string_view session,
                                     std::int64_t account_id) {
  return parts_->authorization.approve(request_id, session, account_id);
}
result<std::string> service::deny(std::string_view request_id) {
  return parts_->authorization.deny(request_id);
}
authorization_next service::next_after_authorization(const pending_authorization& p,
                                                     std::string_view session) {
  return parts_->authorization.next(p, session);
}
std::string service::error_redirect(const authorize_request& req,
                                    const boost::system::error_code& ec) {
  return parts_->authorization.error_redirect(req, ec);
}

// --- The token endpoints ---

result<client> service::authenticate_client(std::string_view id, std::string_view secret) {
  return parts_->clients.authenticate(id, secret);
}
bool service::origin_allowed(std::string_view origin) {
  return parts_->clients.origin_allowed(origin);
}
result<token_response> service::exchange_code(const client& c, std::string_view code,
                                              std::string_view redirect_uri,
                                              std::string_view code_verifier, bool with_refresh) {
  return parts_->tokens.exchange_code(c, code, redirect_uri, code_verifier, with_refresh);
}
result<token_response> service::refresh(const client& c, std::string_view refresh_token) {
  return parts_->tokens.refresh(c, refresh_token);
}
result<token_response> service::exchange_long_lived(std::string_view client_secret,
                                                    std::string_view access_token) {
  return parts_->tokens.exchange_long_lived(client_secret, access_token);
}
result<token_response> service::refresh_long_lived(std::string_view access_token) {
  return parts_->tokens.refresh_long_lived(access_token);
}
void service::revoke(const client& c, std::string_view token) {
  parts_->tokens.revoke(c, token);
}
introspection service::introspect(const client& c, std::string_view token) {
  return parts_->tokens.introspect(c, token);
}
std::string service::jwks() {
  return parts_->tokens.jwks();
}
std::string service::rotate_signing_key() {
  return parts_->tokens.rotate_key();
}
result<token_grant> service::check_access_token(std::string_view token) {
  return parts_->tokens.check_access_token(token);
}

// --- Webhooks ---

std::size_t service::dispatch_due() {
  return parts_->outbox.dispatch_due();
}
std::optional<time_point> service::next_delivery_due() {
  return parts_->outbox.next_due();
}
std::vector<delivery> service::deliveries(std::optional<delivery_state> state, std::size_t limit) {
  return parts_->outbox.deliveries(state, limit);
}
result<delivery> service::replay(std::int64_t delivery_id) {
  return parts_->outbox.replay(delivery_id);
}

// --- Evidence ---

void service::record_flow(std::string_view to_system, std::int64_t subject,
                          const std::vector<std::string>& categories, std::string_view purpose,
                          std::string_view channel, std::string_view payload, std::string note) {
  parts_->ctx.record_flow_hashed(to_system, subject, categories, purpose, channel,
                                 to_hex(sha256(payload)), std::move(note));
}

}  // namespace linksim::idp
