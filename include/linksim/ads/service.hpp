// The company's cross-product ad and personalization platform (seeds 001 and 002): the third
// system. The dependent service sends it activity (posts, likes, follows, profile information,
// a device identifier) tagged with purposes; it picks sponsored posts for the dependent service's
// feed and for the identity provider's own surface; it answers partners (advertisers and
// measurement companies) within their contracts, with aggregate reports only; and it erases an
// account's activity when the account's profile is deleted.
// Like the other services it reads time from the clock, reaches the identity provider through
// the transport and reports every flow it sends to the recorder; the behaviour profile decides
// the rules the seeded faults break (aggregate reports, no sale, erasure on deletion).
#pragma once

#include "linksim/ads/error.hpp"
#include "linksim/common/clock.hpp"
#include "linksim/common/error.hpp"
#include "linksim/common/http.hpp"
#include "linksim/evidence/flow.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace linksim::store {
class database;
}

namespace linksim::ads {

class repositories;

// Purposes (fideslang data uses). `sale` is not a fideslang key: linksim's extension under
// third_party_sharing, for the one use seed 002 says never happens.
inline constexpr std::string_view purpose_targeted = "marketing.advertising.first_party.targeted";
inline constexpr std::string_view purpose_contextual =
    "marketing.advertising.first_party.contextual";
inline constexpr std::string_view purpose_personalize = "personalize.content";
inline constexpr std::string_view purpose_reporting = "analytics.reporting.ad_performance";
inline constexpr std::string_view purpose_third_party_ads =
    "marketing.advertising.third_party.targeted";
inline constexpr std::string_view purpose_sale = "third_party_sharing.sale";
inline constexpr std::string_view purpose_train_ai = "train_ai_system";

struct campaign {
  std::string id;
  std::string advertiser;  // the partner that runs it
  std::string text;
  std::vector<std::string> keywords;  // what targeting looks for in a person's activity
};

// A partner and its contract: the purposes it may receive data for, and for an advertiser the
// campaigns it may ask about (its own).
struct partner {
  std::string id;
  std::string kind;  // "advertiser" or "measurement"
  std::string key;   // its API key
  std::vector<std::string> purposes;
};

// The company's rules the platform keeps (seeds 001 and 002), as the behaviour profile sets them
// (sim::ads_rules_of): each is one a fault profile breaks.
struct platform_rules {
  bool honour_ad_settings = true;      // no advertising use once the account's ads are off
  bool aggregate_reports = true;       // partners see counts per campaign, never an account id
  bool refuse_sale = true;             // no configuration exchanges personal data for payment
  bool erase_ads_on_deletion = true;   // a deleted profile's activity leaves the platform
  bool keep_partner_contracts = true;  // a partner gets only what its contract's purposes allow
  bool suppress_small_groups = true;   // counts of fewer viewers than min_group_size are withheld
  bool count_distinct_viewers = true;  // a report's reach counts each viewer once
  bool use_activity_across_products = true;  // one product's activity chooses another's ads
  bool count_every_impression = true;        // a report's impressions count every showing
  bool personalize_ads = true;               // sponsored posts are chosen from activity
};

struct config {
  std::string system_name = "ads";
  std::string idp_system = "idp";
  std::string idp_url;         // for the account's ad settings
  std::string internal_token;  // this platform's token for the provider's internal API
  // The company systems that may send activity and ask for sponsored posts: {system, token}.
  std::vector<std::pair<std::string, std::string>> systems;
  // Below this many distinct viewers a campaign's counts are suppressed in partner reports.
  // Real platforms use thresholds in the tens to hundreds; small here so scenarios reach it.
  std::int64_t min_group_size = 3;
  std::vector<campaign> campaigns;
  std::vector<partner> partners;
  platform_rules rules;
};

// The campaigns and partners `linksim serve` and the simulation start with.
std::vector<campaign> default_campaigns();
std::vector<partner> default_partners();

// One piece of activity a company product sends.
struct activity {
  std::int64_t subject = 0;  // the provider account's id
  std::string from_system;   // the product it happened on
  std::string kind;          // post, like, follow, profile
  std::string text;          // a post's text, a profile's bio
  std::string device;        // the device identifier the product saw
  std::vector<std::string> purposes;
};

struct sponsored {
  std::string campaign;
  std::string advertiser;
  std::string text;
  bool personalized = false;  // chosen from the person's activity
};

struct campaign_counts {
  std::string campaign;
  std::int64_t impressions = 0;
  std::int64_t reach = 0;             // distinct viewers
  bool suppressed = false;            // reach below the minimum group size: counts withheld
  std::vector<std::int64_t> viewers;  // only ever filled under fault.partner_user_ids
};

struct purchase {
  std::vector<std::int64_t> accounts;
  std::int64_t price_cents = 0;
};

class service {
 public:
  // Throws std::invalid_argument for a contract that allows a purpose the behaviour forbids
  // (`sale`, unless a fault profile) or a partner of an unknown kind.
  // Over SQLite in `db`, migrated to the current schema.
  service(store::database& db, const clock& clock, evidence::recorder& recorder,
          http::transport& transport, config cfg);
  // Over the repositories given, which must outlive the service.
  service(repositories& repos, const clock& clock, evidence::recorder& recorder,
          http::transport& transport, config cfg);
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  const config& settings() const { return cfg_; }
  // The company system a token belongs to; empty when none.
  std::string system_of(std::string_view token) const;

  // Stores activity for the purposes it came with. errc::bad_field (no subject or kind).
  result<void> ingest(const activity& a);
  // The person opted out of advertising use of `from_system`'s data (a GPC signal there).
  void opt_out(std::int64_t subject, std::string_view from_system, std::string_view source);
  // The account's profile was deleted: its activity and opt-outs go; impressions stay as
  // counts without the account id. Returns how many activity rows were erased (0 when the
  // behaviour keeps them).
  std::int64_t erase(std::int64_t subject);

  // A sponsored post for `subject` on `surface` ("threads" or "instagram"), for `to_system`.
  // Personalized only when `may_personalize`, the account's ad settings allow it and the person
  // has not opted out; the account's activity is then used, and the flow says so.
  // errc::not_found (no campaign), account_deleted.
  result<sponsored> sponsored_for(std::int64_t subject, std::string_view surface,
                                  std::string_view to_system, bool may_personalize);

  // --- Partners ---
  // ads::error::partner_unauthorized, outside_contract, not_found (no such campaign).
  result<campaign_counts> report(std::string_view partner_key, std::string_view campaign);
  // Per-person data for a campaign's audience: outside every contract the platform signs.
  // ads::error::partner_unauthorized, outside_contract.
  result<std::vector<std::int64_t>> audience(std::string_view partner_key,
                                             std::string_view campaign);
  // Personal data for money: ads::error::sale_refused, unless the behaviour is fault.sale_flow.
  result<purchase> buy(std::string_view partner_key, std::string_view campaign,
                       std::int64_t price_cents);

  // A conversation with a product's support assistant, kept to improve the company's AI.
  // errc::bad_field.
  result<void> train(std::int64_t subject, std::string_view from_system,
                     std::string_view transcript);

  // What the platform holds about an account, for the admin API and tests.
  struct holdings {
    std::int64_t activity = 0;
    std::int64_t impressions = 0;
    bool opted_out = false;
  };
  holdings held_about(std::int64_t subject);

 private:
  struct parts;
  std::unique_ptr<repositories> own_repos_;  // the SQLite ones, when built from a database
  config cfg_;
  std::unique_ptr<parts> parts_;
};

}  // namespace linksim::ads
