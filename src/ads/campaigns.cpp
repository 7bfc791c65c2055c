// Choosing a sponsored post for an account on a surface.
#include "domain.hpp"

#include "linksim/idp/internal_api.hpp"

#include <algorithm>
#include <cctype>

namespace linksim::ads::domain {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

result<sponsored> campaigns::sponsored_for(std::int64_t subject, std::string_view surface,
                                           std::string_view to_system, bool may_personalize) {
  const auto& cfg = ctx_.cfg;
  if (cfg.campaigns.empty()) return make_error_code(errc::not_found);
  // The account's settings, asked of the provider each time (no lock held meanwhile): an
  // unreachable provider means no personalization.
  const auto settings =
      idp::read_personalized_ads(ctx_.transport, cfg.idp_url, cfg.internal_token, subject);
  if (!settings && is(settings.error(), errc::account_deleted)) {
    erasure_.erase(subject);
    return settings.error();
  }
  bool allowed = cfg.rules.personalize_ads && may_personalize && settings && *settings;
  if (!cfg.rules.honour_ad_settings) allowed = cfg.rules.personalize_ads && may_personalize;

  std::lock_guard lock(ctx_.mutex);
  auto work = ctx_.repos.begin();
  if (allowed && ctx_.repos.activity().opted_out(subject)) allowed = false;
  std::size_t pick = 0;
  bool personalized = false;
  std::vector<std::string> sources;
  if (allowed) {
    std::vector<std::int64_t> score(cfg.campaigns.size(), 0);
    ctx_.repos.activity().for_each_advertising(
        subject, [&](std::string_view raw, std::string_view from) {
          if (!cfg.rules.use_activity_across_products && from != to_system) return;
          const std::string text = lower(raw);
          for (std::size_t i = 0; i < cfg.campaigns.size(); ++i)
            for (const auto& k : cfg.campaigns[i].keywords)
              if (text.find(k) != std::string::npos) {
                ++score[i];
                if (std::find(sources.begin(), sources.end(), from) == sources.end())
                  sources.emplace_back(from);
              }
        });
    const auto best = std::max_element(score.begin(), score.end());
    if (*best > 0) {
      pick = static_cast<std::size_t>(best - score.begin());
      personalized = true;
    }
  }
  // Not about the person: the campaigns take turns.
  if (!personalized)
    pick = static_cast<std::size_t>(ctx_.repos.impressions().total()) % cfg.campaigns.size();
  const auto& c = cfg.campaigns[pick];
  ctx_.repos.impressions().add(c.id, subject, surface, personalized, ctx_.time.now());
  work->commit();
  sponsored out{c.id, c.advertiser, c.text, personalized};
  std::string from_list;
  for (const auto& s : sources) from_list += (from_list.empty() ? "" : ", ") + s;
  if (personalized)
    // The choice tells what was learnt of the person's activity; the copy is the advertiser's.
    ctx_.record(to_system, subject, {"user.behavior"}, purpose_targeted, "ads.sponsored", c.id,
                "campaign " + c.id + " on " + std::string(surface) + ", chosen from " + from_list +
                    " activity");
  else
    ctx_.record(to_system, subject, {}, purpose_contextual, "ads.sponsored", c.id,
                "campaign " + c.id + " on " + std::string(surface) + ", not personalized");
  return out;
}

}  // namespace linksim::ads::domain
