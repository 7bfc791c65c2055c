// The ad platform's front: checks the configuration, builds the domain parts over the
// repositories and hands each call to the part that owns it.
#include "linksim/ads/service.hpp"

#include "domain.hpp"

#include "linksim/common/crypto.hpp"

#include <stdexcept>

namespace linksim::ads {

std::vector<campaign> default_campaigns() {
  return {
      {"trail-shoes", "acme-outdoor", "Trail shoes for every hike.", {"hike", "trail", "mountain"}},
      {"espresso", "bean-co", "Espresso, ground fresh.", {"coffee", "espresso", "cafe"}},
      {"city-bikes", "acme-outdoor", "City bikes, built to last.", {"bike", "cycling", "commute"}},
  };
}

std::vector<partner> default_partners() {
  return {
      {"acme-outdoor", "advertiser", "partner-acme", {std::string(purpose_reporting)}},
      {"bean-co", "advertiser", "partner-bean", {std::string(purpose_reporting)}},
      {"measure-co", "measurement", "partner-measure", {std::string(purpose_reporting)}},
  };
}

void domain::context::record(std::string_view to, std::int64_t subject,
                             std::vector<std::string> categories, std::string_view purpose,
                             std::string_view channel, std::string_view payload, std::string note,
                             std::string_view from) const {
  recorder.record({time.now(), std::string(from.empty() ? cfg.system_name : from), std::string(to),
                   subject ? std::to_string(subject) : std::string(), std::move(categories),
                   std::string(purpose), std::string(channel), to_hex(sha256(payload)),
                   std::move(note)});
}

struct service::parts {
  parts(repositories& repos, const clock& clock, evidence::recorder& recorder,
        http::transport& transport, const config& cfg)
      : ctx{repos, clock, recorder, transport, cfg, {}},
        intake(ctx),
        erasure(ctx),
        campaigns(ctx, erasure),
        partners(ctx) {}
  domain::context ctx;
  domain::intake intake;
  domain::erasure erasure;
  domain::campaigns campaigns;
  domain::partners partners;
};

namespace {

config checked(config cfg) {
  for (const auto& p : cfg.partners) {
    if (p.kind != "advertiser" && p.kind != "measurement")
      throw std::invalid_argument("partner " + p.id + ": kind is advertiser or measurement");
    for (const auto& u : p.purposes)
      if (cfg.rules.refuse_sale && evidence::covers(purpose_sale, u))
        throw std::invalid_argument("partner " + p.id + ": a contract cannot allow " + u +
                                    ": personal data is never sold");
  }
  return cfg;
}

}  // namespace

service::service(store::database& db, const clock& clock, evidence::recorder& recorder,
                 http::transport& transport, config cfg)
    : cfg_(checked(std::move(cfg))) {
  own_repos_ = sqlite_repositories(db);
  parts_ = std::make_unique<parts>(*own_repos_, clock, recorder, transport, cfg_);
}

service::service(repositories& repos, const clock& clock, evidence::recorder& recorder,
                 http::transport& transport, config cfg)
    : cfg_(checked(std::move(cfg))),
      parts_(std::make_unique<parts>(repos, clock, recorder, transport, cfg_)) {}

service::~service() = default;

std::string service::system_of(std::string_view token) const {
  for (const auto& [name, t] : cfg_.systems)
    if (!t.empty() && constant_time_equal(t, token)) return name;
  return {};
}

result<void> service::ingest(const activity& a) {
  return parts_->intake.ingest(a);
}

void service::opt_out(std::int64_t subject, std::string_view from_system, std::string_view source) {
  parts_->intake.opt_out(subject, from_system, source);
}

result<void> service::train(std::int64_t subject, std::string_view from_system,
                            std::string_view transcript) {
  return parts_->intake.train(subject, from_system, transcript);
}

std::int64_t service::erase(std::int64_t subject) {
  return parts_->erasure.erase(subject);
}

service::holdings service::held_about(std::int64_t subject) {
  return parts_->erasure.held_about(subject);
}

result<sponsored> service::sponsored_for(std::int64_t subject, std::string_view surface,
                                         std::string_view to_system, bool may_personalize) {
  return parts_->campaigns.sponsored_for(subject, surface, to_system, may_personalize);
}

result<campaign_counts> service::report(std::string_view partner_key, std::string_view campaign) {
  return parts_->partners.report(partner_key, campaign);
}

result<std::vector<std::int64_t>> service::audience(std::string_view partner_key,
                                                    std::string_view campaign) {
  return parts_->partners.audience(partner_key, campaign);
}

result<purchase> service::buy(std::string_view partner_key, std::string_view campaign,
                              std::int64_t price_cents) {
  return parts_->partners.buy(partner_key, campaign, price_cents);
}

}  // namespace linksim::ads
