// Partners and their contracts: what an advertiser or measurement company may ask, and the
// refusals the evidence log keeps for what it may not.
#include "domain.hpp"

#include "linksim/common/crypto.hpp"

#include <algorithm>

namespace linksim::ads::domain {

const partner* partners::partner_of(std::string_view key) const {
  for (const auto& p : ctx_.cfg.partners)
    if (!p.key.empty() && constant_time_equal(p.key, key)) return &p;
  return nullptr;
}

bool partners::allows(const partner& p, std::string_view purpose) const {
  return std::any_of(p.purposes.begin(), p.purposes.end(),
                     [&](const std::string& u) { return evidence::covers(u, purpose); });
}

void partners::refuse(const partner& p, std::string_view purpose, std::string_view what,
                      const boost::system::error_code& why) {
  ctx_.record(ctx_.cfg.system_name, 0, {}, purpose, "partner.request", what,
              "refused: " + std::string(what) + ": " + why.message(), "partner:" + p.id);
}

std::vector<std::int64_t> partners::viewers(std::string_view campaign) {
  std::lock_guard lock(ctx_.mutex);
  return ctx_.repos.impressions().viewers(campaign);
}

result<campaign_counts> partners::report(std::string_view partner_key,
                                         std::string_view campaign_id) {
  const auto& cfg = ctx_.cfg;
  const partner* p = partner_of(partner_key);
  if (!p) return make_error_code(error::partner_unauthorized);
  const auto c = std::find_if(cfg.campaigns.begin(), cfg.campaigns.end(),
                              [&](const campaign& x) { return x.id == campaign_id; });
  if (c == cfg.campaigns.end()) return make_error_code(errc::not_found);
  const std::string what = "report on " + c->id;
  // An advertiser sees its own campaigns; a measurement company measures any.
  if (cfg.rules.keep_partner_contracts &&
      (!allows(*p, purpose_reporting) || (p->kind == "advertiser" && c->advertiser != p->id))) {
    const auto ec = make_error_code(error::outside_contract);
    refuse(*p, purpose_reporting, what, ec);
    return ec;
  }
  campaign_counts out;
  out.campaign = c->id;
  {
    std::lock_guard lock(ctx_.mutex);
    const auto counts = ctx_.repos.impressions().count_campaign(c->id);
    out.impressions = cfg.rules.count_every_impression ? counts.impressions : counts.reach;
    out.reach = cfg.rules.count_distinct_viewers ? counts.reach : counts.impressions;
    if (!cfg.rules.aggregate_reports) out.viewers = ctx_.repos.impressions().viewers(c->id);
  }
  out.suppressed = cfg.rules.suppress_small_groups && out.reach < cfg.min_group_size;
  if (out.suppressed) {
    out.impressions = 0;
    out.reach = 0;
  }
  std::vector<std::string> categories;
  std::string note;
  if (out.suppressed) {
    note = "aggregate: suppressed (fewer than " + std::to_string(cfg.min_group_size) + " viewers)";
  } else {
    categories.push_back("user.behavior");
    note = "aggregate: " + std::to_string(out.impressions) + " impressions, reach " +
           std::to_string(out.reach);
  }
  if (!out.viewers.empty()) {
    categories.push_back("user.unique_id");
    note += "; with " + std::to_string(out.viewers.size()) + " viewer ids";
  }
  // The payload first: an argument moved from in the same call may be evaluated before it.
  const std::string payload = c->id + note;
  ctx_.record("partner:" + p->id, 0, std::move(categories), purpose_reporting, "partner.report",
              payload, std::move(note));
  return out;
}

result<std::vector<std::int64_t>> partners::audience(std::string_view partner_key,
                                                     std::string_view campaign_id) {
  const partner* p = partner_of(partner_key);
  if (!p) return make_error_code(error::partner_unauthorized);
  const std::string what = "per-person audience of " + std::string(campaign_id);
  if (ctx_.cfg.rules.keep_partner_contracts && !allows(*p, purpose_third_party_ads)) {
    const auto ec = make_error_code(error::outside_contract);
    refuse(*p, purpose_third_party_ads, what, ec);
    return ec;
  }
  const auto ids = viewers(campaign_id);
  for (auto id : ids)
    ctx_.record("partner:" + p->id, id, {"user.unique_id"}, purpose_third_party_ads,
                "partner.audience", what, "per-person audience of " + std::string(campaign_id));
  return ids;
}

result<purchase> partners::buy(std::string_view partner_key, std::string_view campaign_id,
                               std::int64_t price_cents) {
  const partner* p = partner_of(partner_key);
  if (!p) return make_error_code(error::partner_unauthorized);
  const std::string what = "purchase of the audience of " + std::string(campaign_id) + " for " +
                           std::to_string(price_cents) + " cents";
  if (ctx_.cfg.rules.refuse_sale) {
    const auto ec = make_error_code(error::sale_refused);
    refuse(*p, purpose_sale, what, ec);
    return ec;
  }
  purchase out;
  out.price_cents = price_cents;
  out.accounts = viewers(campaign_id);
  for (auto id : out.accounts)
    ctx_.record("partner:" + p->id, id, {"user.unique_id", "user.behavior"}, purpose_sale,
                "partner.sale", what, "sold: " + what);
  return out;
}

}  // namespace linksim::ads::domain
