// The dependent service's front: builds the domain parts over the repositories and hands each
// call to the part that owns it.
#include "domain.hpp"

namespace linksim::threads_sim {

struct service::parts {
  parts(repositories& repos, const clock& clock, random_source& random,
        evidence::recorder& recorder, http::transport& transport, const config& cfg)
      : ctx{repos, clock, random, recorder, transport, cfg, {}, false},
        provider(ctx),
        mirror(ctx),
        ads(ctx),
        profiles(ctx, ads),
        linkage(ctx, provider, mirror, ads),
        reconciliation(ctx, provider, mirror),
        signals(ctx, reconciliation, mirror),
        callbacks(ctx, profiles, ads),
        content(ctx, ads) {}
  domain::context ctx;
  domain::provider_client provider;
  domain::mirror_updates mirror;
  domain::cross_product ads;
  domain::profiles profiles;
  domain::linkage linkage;
  domain::reconciliation reconciliation;
  domain::signals signals;
  domain::callbacks callbacks;
  domain::content content;
};

namespace {

config with_rules(config cfg) {
  if (cfg.rules.name.empty()) cfg.rules = behaviours().front();
  return cfg;
}

}  // namespace

service::service(store::database& db, const clock& clock, random_source& random,
                 evidence::recorder& recorder, http::transport& transport, config cfg)
    : own_repos_(sqlite_repositories(db)),
      cfg_(with_rules(std::move(cfg))),
      parts_(std::make_unique<parts>(*own_repos_, clock, random, recorder, transport, cfg_)) {
  start();
}

service::service(repositories& repos, const clock& clock, random_source& random,
                 evidence::recorder& recorder, http::transport& transport, config cfg)
    : cfg_(with_rules(std::move(cfg))),
      parts_(std::make_unique<parts>(repos, clock, random, recorder, transport, cfg_)) {
  start();
}

void service::start() {
  auto& repos = parts_->ctx.repos;
  // The one-profile rule is the schema's, so no code path can get around it; a fault profile
  // that breaks the rule, or keeps no account id to hold it by, runs without it.
  repos.enforce_one_profile_per_account(
      cfg_.rules.one_profile_per_account && cfg_.rules.keep_account_id, cfg_.rules.name);
  // Notices left pending by the last run are sent when due, as if it had never stopped.
  for (const auto& due : repos.notices().pending()) parts_->ads.queue_.insert(due);
}

service::~service() = default;

random_source& service::random() {
  return parts_->ctx.random;
}

void service::fail_next_import() {
  parts_->ctx.fail_next_import = true;
}

// --- Signing in ---

login_start service::begin_login(intent purpose) {
  return parts_->linkage.begin_login(purpose);
}
result<callback_result> service::complete_login(std::string_view browser_key,
                                                const http::params& query) {
  return parts_->linkage.complete_login(browser_key, query);
}
result<link_request> service::get_link_request(std::string_view id, std::string_view browser_key) {
  return parts_->linkage.get_link_request(id, browser_key);
}
result<std::pair<profile, std::string>> service::confirm_link(std::string_view id,
                                                              std::string_view browser_key,
                                                              std::string_view handle) {
  return parts_->linkage.confirm_link(id, browser_key, handle);
}

// --- Profiles and sessions ---

result<profile> service::session_profile(std::string_view session) {
  return parts_->profiles.session_profile(session);
}
void service::end_session(std::string_view session) {
  parts_->profiles.end_session(session);
}
result<profile> service::get_profile(std::int64_t id) {
  return parts_->profiles.get(id);
}
std::vector<profile> service::profiles_of_account(std::int64_t ig_user_id, counts c) {
  return parts_->profiles.of_account(ig_user_id, c);
}
result<profile> service::public_profile(std::string_view username) {
  return parts_->profiles.public_profile(username);
}
result<profile> service::edit_profile(std::int64_t profile_id, const profile_edit& edit) {
  return parts_->profiles.edit(profile_id, edit);
}
result<void> service::delete_profile(std::int64_t profile_id) {
  return parts_->profiles.remove(profile_id);
}

// --- Content ---

result<post> service::create_post(std::int64_t profile_id, std::string_view text,
                                  const request_context& ctx) {
  return parts_->content.create_post(profile_id, text, ctx);
}
result<post> service::like(std::int64_t profile_id, std::int64_t post_id,
                           const request_context& ctx) {
  return parts_->content.like(profile_id, post_id, ctx);
}
result<post> service::get_post(std::int64_t post_id) {
  return parts_->content.get_post(post_id);
}
std::vector<post> service::posts_of(std::int64_t profile_id, std::size_t limit) {
  return parts_->content.posts_of(profile_id, limit);
}
result<void> service::follow(std::int64_t profile_id, std::string_view username,
                             const request_context& ctx) {
  return parts_->content.follow(profile_id, username, ctx);
}
result<void> service::unfollow(std::int64_t profile_id, std::string_view username) {
  return parts_->content.unfollow(profile_id, username);
}
bool service::follows(std::int64_t follower, std::int64_t followee) {
  return parts_->content.follows(follower, followee);
}
std::vector<std::string> service::followers_of(std::int64_t profile_id) {
  return parts_->content.followers_of(profile_id);
}

// --- Cross-product data use ---

void service::note_gpc(std::int64_t profile_id) {
  parts_->ads.note_gpc(profile_id);
}
bool service::gpc_opted_out(std::int64_t profile_id) {
  return parts_->ads.gpc_opted_out(profile_id);
}
result<feed_page> service::feed(std::int64_t profile_id) {
  return parts_->ads.feed(profile_id);
}
result<std::string> service::ask_assistant(std::int64_t profile_id, std::string_view message) {
  return parts_->ads.ask_assistant(profile_id, message);
}
std::size_t service::dispatch_notices() {
  return parts_->ads.dispatch_notices();
}
std::optional<time_point> service::next_notice_due() {
  return parts_->ads.next_notice_due();
}
std::vector<ads_notice> service::ads_notices(std::optional<std::string_view> state) {
  return parts_->ads.ads_notices(state);
}
result<void> service::replay_ads_notice(std::int64_t id) {
  return parts_->ads.replay_ads_notice(id);
}

// --- The provider's webhooks and callbacks ---

result<std::string> service::handshake(const http::params& query) {
  return parts_->mirror.handshake(query);
}
result<webhook_outcome> service::receive_webhook(std::string_view raw_body,
                                                 std::string_view signature_header) {
  return parts_->mirror.receive_webhook(raw_body, signature_header);
}
result<void> service::deauthorize(std::string_view signed_request) {
  return parts_->callbacks.deauthorize(signed_request);
}
result<std::string> service::data_deletion(std::string_view signed_request) {
  return parts_->callbacks.data_deletion(signed_request);
}
result<std::int64_t> service::deletion_status(std::string_view confirmation_code) {
  return parts_->callbacks.deletion_status(confirmation_code);
}

// --- Shared Signals ---

result<void> service::connect_signals() {
  return parts_->signals.connect();
}
result<signal_outcome> service::receive_set(std::string_view set, std::string_view authorization) {
  return parts_->signals.receive_pushed(set, authorization);
}
result<std::size_t> service::poll_signals(bool wait) {
  return parts_->signals.poll(wait);
}
std::optional<time_point> service::next_signals_poll() {
  return parts_->signals.next_poll();
}

// --- Reconciliation ---

std::size_t service::reconcile_due() {
  return parts_->reconciliation.reconcile_due();
}
result<profile> service::reconcile(std::int64_t profile_id) {
  return parts_->reconciliation.reconcile(profile_id);
}
std::optional<time_point> service::next_reconcile_due() {
  return parts_->reconciliation.next_due();
}

}  // namespace linksim::threads_sim
