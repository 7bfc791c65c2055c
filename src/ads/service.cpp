// The ad platform's domain logic: activity, targeting, partners and erasure.
#include "linksim/ads/service.hpp"

#include "linksim/common/crypto.hpp"
#include "linksim/common/json.hpp"
#include "linksim/idp/internal_api.hpp"
#include "linksim/store/sqlite.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace linksim::ads {
namespace {

constexpr store::migration migrations[] = {
    {1, R"sql(
-- What the company's products sent, one row per purpose it was sent for.
CREATE TABLE activity (
  id INTEGER PRIMARY KEY,
  subject INTEGER NOT NULL,
  from_system TEXT NOT NULL,
  kind TEXT NOT NULL,
  text TEXT NOT NULL,
  device TEXT NOT NULL,
  purpose TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX activity_subject ON activity (subject, purpose);
-- Opt-outs of advertising use of one product's data (a GPC signal seen there).
CREATE TABLE opt_outs (
  subject INTEGER NOT NULL,
  from_system TEXT NOT NULL,
  source TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (subject, from_system)
) WITHOUT ROWID;
-- Sponsored posts shown. `viewer` is the account id, or 'erased-<n>' once the account's profile
-- is deleted: the counts stay, the identity goes.
CREATE TABLE impressions (
  id INTEGER PRIMARY KEY,
  campaign TEXT NOT NULL,
  viewer TEXT NOT NULL,
  surface TEXT NOT NULL,
  personalized INTEGER NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX impressions_campaign ON impressions (campaign);
CREATE INDEX impressions_viewer ON impressions (viewer);
-- Conversations with the support assistant, kept to improve the company's AI.
CREATE TABLE training_examples (
  id INTEGER PRIMARY KEY,
  subject INTEGER NOT NULL,
  from_system TEXT NOT NULL,
  transcript TEXT NOT NULL,
  at INTEGER NOT NULL
);
)sql"},
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

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

service::service(store::database& db, const clock& clock, evidence::recorder& recorder,
                 http::transport& transport, config cfg)
    : db_(db), clock_(clock), recorder_(recorder), transport_(transport), cfg_(std::move(cfg)) {
  for (const auto& p : cfg_.partners) {
    if (p.kind != "advertiser" && p.kind != "measurement")
      throw std::invalid_argument("partner " + p.id + ": kind is advertiser or measurement");
    for (const auto& u : p.purposes)
      if (cfg_.rules.refuse_sale && evidence::covers(purpose_sale, u))
        throw std::invalid_argument("partner " + p.id + ": a contract cannot allow " + u +
                                    ": personal data is never sold");
  }
  store::migrate(db_, migrations);
}

service::~service() = default;

std::string service::system_of(std::string_view token) const {
  for (const auto& [name, t] : cfg_.systems)
    if (!t.empty() && constant_time_equal(t, token)) return name;
  return {};
}

void service::record(std::string_view to, std::int64_t subject, std::vector<std::string> categories,
                     std::string_view purpose, std::string_view channel, std::string_view payload,
                     std::string note, std::string_view from) {
  recorder_.record({clock_.now(), std::string(from.empty() ? cfg_.system_name : from),
                    std::string(to), subject ? std::to_string(subject) : std::string(),
                    std::move(categories), std::string(purpose), std::string(channel),
                    to_hex(sha256(payload)), std::move(note)});
}

result<void> service::ingest(const activity& a) {
  if (a.subject <= 0 || a.kind.empty() || a.purposes.empty())
    return make_error_code(errc::bad_field);
  std::lock_guard lock(mutex_);
  store::transaction tx(db_);
  auto& q = db_.cached(
      "INSERT INTO activity (subject, from_system, kind, text, device, purpose, at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)");
  for (const auto& p : a.purposes) {
    q.bind_all(a.subject, a.from_system, a.kind, a.text, a.device, p, unix_millis(clock_.now()));
    q.run();
    q.reset();
  }
  tx.commit();
  return {};
}

void service::opt_out(std::int64_t subject, std::string_view from_system, std::string_view source) {
  std::lock_guard lock(mutex_);
  db_.cached(
         "INSERT OR IGNORE INTO opt_outs (subject, from_system, source, at) VALUES (?, ?, ?, ?)")
      .bind_all(subject, from_system, source, unix_millis(clock_.now()))
      .run();
}

std::int64_t service::erase(std::int64_t subject) {
  if (!cfg_.rules.erase_ads_on_deletion) return 0;
  std::lock_guard lock(mutex_);
  store::transaction tx(db_);
  db_.cached("DELETE FROM activity WHERE subject = ?").bind_all(subject).run();
  const std::int64_t erased = db_.changes();
  db_.cached("DELETE FROM training_examples WHERE subject = ?").bind_all(subject).run();
  db_.cached("DELETE FROM opt_outs WHERE subject = ?").bind_all(subject).run();
  // One pseudonym for all of the account's impressions: reach stays right, the id goes.
  auto n = db_.prepare(
      "SELECT count(DISTINCT viewer) + 1 FROM impressions WHERE viewer LIKE 'erased-%'");
  n.step();
  db_.cached("UPDATE impressions SET viewer = ? WHERE viewer = ?")
      .bind_all("erased-" + std::to_string(n.get_int(0)), std::to_string(subject))
      .run();
  tx.commit();
  return erased;
}

result<sponsored> service::sponsored_for(std::int64_t subject, std::string_view surface,
                                         std::string_view to_system, bool may_personalize) {
  if (cfg_.campaigns.empty()) return make_error_code(errc::not_found);
  // The account's settings, asked of the provider each time (no lock held meanwhile): an
  // unreachable provider means no personalization.
  const auto settings =
      idp::read_personalized_ads(transport_, cfg_.idp_url, cfg_.internal_token, subject);
  if (!settings && is(settings.error(), errc::account_deleted)) {
    erase(subject);
    return settings.error();
  }
  bool allowed = may_personalize && settings && *settings;
  if (!cfg_.rules.honour_ad_settings) allowed = may_personalize;

  std::lock_guard lock(mutex_);
  store::transaction tx(db_);
  if (allowed) {
    auto& o = db_.cached("SELECT 1 FROM opt_outs WHERE subject = ? LIMIT 1");
    o.bind_all(subject);
    if (o.step()) allowed = false;
    o.reset();
  }
  std::size_t pick = 0;
  bool personalized = false;
  std::vector<std::string> sources;
  if (allowed) {
    std::vector<std::int64_t> score(cfg_.campaigns.size(), 0);
    auto& q = db_.cached(
        "SELECT text, from_system FROM activity WHERE subject = ? AND purpose LIKE "
        "'marketing.advertising%' ORDER BY id");
    q.bind_all(subject);
    while (q.step()) {
      const std::string text = lower(q.get_text(0));
      const std::string from = q.get_text(1);
      for (std::size_t i = 0; i < cfg_.campaigns.size(); ++i)
        for (const auto& k : cfg_.campaigns[i].keywords)
          if (text.find(k) != std::string::npos) {
            ++score[i];
            if (std::find(sources.begin(), sources.end(), from) == sources.end())
              sources.push_back(from);
          }
    }
    q.reset();
    const auto best = std::max_element(score.begin(), score.end());
    if (*best > 0) {
      pick = static_cast<std::size_t>(best - score.begin());
      personalized = true;
    }
  }
  if (!personalized) {
    // Not about the person: the campaigns take turns. Impressions are never deleted, so the
    // largest id is their count, read from the end of the B-tree instead of a full scan.
    auto& c = db_.cached("SELECT coalesce(max(id), 0) FROM impressions");
    c.step();
    pick = static_cast<std::size_t>(c.get_int(0)) % cfg_.campaigns.size();
    c.reset();
  }
  const auto& c = cfg_.campaigns[pick];
  db_.cached(
         "INSERT INTO impressions (campaign, viewer, surface, personalized, at) "
         "VALUES (?, ?, ?, ?, ?)")
      .bind_all(c.id, std::to_string(subject), surface, personalized ? 1 : 0,
                unix_millis(clock_.now()))
      .run();
  tx.commit();
  sponsored out{c.id, c.advertiser, c.text, personalized};
  std::string from_list;
  for (const auto& s : sources) from_list += (from_list.empty() ? "" : ", ") + s;
  if (personalized)
    record(to_system, subject, {"user.behavior", "user.content.public"}, purpose_targeted,
           "ads.sponsored", c.id,
           "campaign " + c.id + " on " + std::string(surface) + ", chosen from " + from_list +
               " activity");
  else
    record(to_system, subject, {}, purpose_contextual, "ads.sponsored", c.id,
           "campaign " + c.id + " on " + std::string(surface) + ", not personalized");
  return out;
}

// --- Partners ---

std::vector<std::int64_t> service::viewers_locked(std::string_view campaign_id) {
  std::vector<std::int64_t> ids;
  auto& v = db_.cached(
      "SELECT DISTINCT viewer FROM impressions WHERE campaign = ? AND viewer NOT LIKE "
      "'erased-%' ORDER BY viewer");
  v.bind_all(campaign_id);
  while (v.step()) ids.push_back(std::stoll(v.get_text(0)));
  v.reset();
  return ids;
}

const partner* service::partner_of(std::string_view key) const {
  for (const auto& p : cfg_.partners)
    if (!p.key.empty() && constant_time_equal(p.key, key)) return &p;
  return nullptr;
}

bool service::allows(const partner& p, std::string_view purpose) const {
  return std::any_of(p.purposes.begin(), p.purposes.end(),
                     [&](const std::string& u) { return evidence::covers(u, purpose); });
}

void service::refuse(const partner& p, std::string_view purpose, std::string_view what,
                     const boost::system::error_code& why) {
  record(cfg_.system_name, 0, {}, purpose, "partner.request", what,
         "refused: " + std::string(what) + ": " + why.message(), "partner:" + p.id);
}

result<campaign_counts> service::report(std::string_view partner_key,
                                        std::string_view campaign_id) {
  const partner* p = partner_of(partner_key);
  if (!p) return make_error_code(error::partner_unauthorized);
  const auto c = std::find_if(cfg_.campaigns.begin(), cfg_.campaigns.end(),
                              [&](const campaign& x) { return x.id == campaign_id; });
  if (c == cfg_.campaigns.end()) return make_error_code(errc::not_found);
  const std::string what = "report on " + c->id;
  // An advertiser sees its own campaigns; a measurement company measures any.
  if (!allows(*p, purpose_reporting) || (p->kind == "advertiser" && c->advertiser != p->id)) {
    const auto ec = make_error_code(error::outside_contract);
    refuse(*p, purpose_reporting, what, ec);
    return ec;
  }
  campaign_counts out;
  out.campaign = c->id;
  {
    std::lock_guard lock(mutex_);
    auto& q =
        db_.cached("SELECT count(*), count(DISTINCT viewer) FROM impressions WHERE campaign = ?");
    q.bind_all(c->id);
    q.step();
    out.impressions = q.get_int(0);
    out.reach = q.get_int(1);
    q.reset();
    if (!cfg_.rules.aggregate_reports) {
      out.viewers = viewers_locked(c->id);
    }
  }
  out.suppressed = out.reach < cfg_.min_group_size;
  if (out.suppressed) {
    out.impressions = 0;
    out.reach = 0;
  }
  std::vector<std::string> categories;
  std::string note;
  if (out.suppressed) {
    note = "aggregate: suppressed (fewer than " + std::to_string(cfg_.min_group_size) + " viewers)";
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
  record("partner:" + p->id, 0, std::move(categories), purpose_reporting, "partner.report", payload,
         std::move(note));
  return out;
}

result<std::vector<std::int64_t>> service::audience(std::string_view partner_key,
                                                    std::string_view campaign_id) {
  const partner* p = partner_of(partner_key);
  if (!p) return make_error_code(error::partner_unauthorized);
  const std::string what = "per-person audience of " + std::string(campaign_id);
  if (!allows(*p, purpose_third_party_ads)) {
    const auto ec = make_error_code(error::outside_contract);
    refuse(*p, purpose_third_party_ads, what, ec);
    return ec;
  }
  std::vector<std::int64_t> ids;
  {
    std::lock_guard lock(mutex_);
    ids = viewers_locked(campaign_id);
  }
  for (auto id : ids)
    record("partner:" + p->id, id, {"user.unique_id"}, purpose_third_party_ads, "partner.audience",
           what, "per-person audience of " + std::string(campaign_id));
  return ids;
}

result<purchase> service::buy(std::string_view partner_key, std::string_view campaign_id,
                              std::int64_t price_cents) {
  const partner* p = partner_of(partner_key);
  if (!p) return make_error_code(error::partner_unauthorized);
  const std::string what = "purchase of the audience of " + std::string(campaign_id) + " for " +
                           std::to_string(price_cents) + " cents";
  if (cfg_.rules.refuse_sale) {
    const auto ec = make_error_code(error::sale_refused);
    refuse(*p, purpose_sale, what, ec);
    return ec;
  }
  purchase out;
  out.price_cents = price_cents;
  {
    std::lock_guard lock(mutex_);
    out.accounts = viewers_locked(campaign_id);
  }
  for (auto id : out.accounts)
    record("partner:" + p->id, id, {"user.unique_id", "user.behavior"}, purpose_sale,
           "partner.sale", what, "sold: " + what);
  return out;
}

result<void> service::train(std::int64_t subject, std::string_view from_system,
                            std::string_view transcript) {
  if (subject <= 0 || transcript.empty()) return make_error_code(errc::bad_field);
  std::lock_guard lock(mutex_);
  db_.cached(
         "INSERT INTO training_examples (subject, from_system, transcript, at) VALUES (?, ?, ?, ?)")
      .bind_all(subject, from_system, transcript, unix_millis(clock_.now()))
      .run();
  return {};
}

service::holdings service::held_about(std::int64_t subject) {
  std::lock_guard lock(mutex_);
  holdings h;
  auto a = db_.prepare("SELECT count(*) FROM activity WHERE subject = ?");
  a.bind_all(subject);
  a.step();
  h.activity = a.get_int(0);
  auto i = db_.prepare("SELECT count(*) FROM impressions WHERE viewer = ?");
  i.bind_all(std::to_string(subject));
  i.step();
  h.impressions = i.get_int(0);
  auto o = db_.prepare("SELECT 1 FROM opt_outs WHERE subject = ?");
  o.bind_all(subject);
  h.opted_out = o.step();
  return h;
}

}  // namespace linksim::ads
