// The dependent service's side of cross-product data use (seeds 001 and 002, docs/ads.md):
// activity shared with the company's ad platform for personalization and, while the account's
// ad settings and the browser's GPC signal allow it, for advertising; the feed's sponsored post;
// the support assistant, whose conversations go to improve the company's AI; and the notice
// that a deleted profile's activity must go. Every call here runs with no lock held.
#include "internal.hpp"

#include "linksim/common/json.hpp"
#include "linksim/idp/internal_api.hpp"
#include "linksim/store/sqlite.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <cctype>

namespace linksim::threads_sim {
namespace bj = boost::json;

namespace {
constexpr std::string_view advertising = "marketing.advertising.first_party.targeted";
constexpr std::string_view personalization = "personalize.content";
constexpr std::string_view train_ai = "train_ai_system";
}  // namespace

result<http::response> service::call_ads(std::string method, std::string path, std::string body) {
  http::request req;
  req.method = std::move(method);
  req.target = cfg_.ads_url + path;
  req.headers.set("Authorization", "Bearer " + cfg_.ads_token);
  if (!body.empty()) {
    req.headers.set("Content-Type", "application/json");
    req.body = std::move(body);
  }
  return transport_.send(std::move(req));
}

bool service::gpc_opted_out(std::int64_t profile_id) {
  std::lock_guard lock(mutex_);
  auto& q = db_.cached("SELECT 1 FROM ad_opt_outs WHERE profile_id = ?");
  q.bind(1, profile_id);
  const bool out = q.step();
  q.reset();
  return out;
}

void service::note_gpc(std::int64_t profile_id) {
  if (!cfg_.rules.honour_gpc) return;
  std::int64_t subject = 0;
  {
    std::lock_guard lock(mutex_);
    auto p = load_profile(profile_id);
    if (!p) return;
    db_.cached("INSERT OR IGNORE INTO ad_opt_outs (profile_id, source, at) VALUES (?, 'gpc', ?)")
        .bind_all(profile_id, unix_millis(clock_.now()))
        .run();
    if (db_.changes() == 0) return;  // told already
    subject = p->ig_user_id;
  }
  if (cfg_.ads_url.empty()) return;
  const std::string body =
      json::serialize(bj::object{{"subject", std::to_string(subject)}, {"source", "gpc"}});
  auto r = call_ads("POST", "/v1/opt-outs", body);
  std::lock_guard lock(mutex_);
  record(cfg_.system_name, "ads", subject, {"user.account.settings"}, "ads.opt_out", body,
         r ? "Sec-GPC: 1; HTTP " + std::to_string(r->status)
           : "Sec-GPC: 1; not sent: " + r.error().message());
}

// Advertising use needs the account's company-wide setting on (asked of the provider each time:
// a setting changed a second ago counts) and no GPC opt-out on this profile. When the provider
// cannot be asked, the answer is no.
bool service::advertising_allowed(std::int64_t profile_id, std::int64_t subject) {
  if (cfg_.rules.honour_gpc && gpc_opted_out(profile_id)) return false;
  if (!cfg_.rules.honour_ad_settings) return true;
  const auto on =
      idp::read_personalized_ads(transport_, cfg_.idp_url, cfg_.internal_token, subject);
  return on && *on;
}

void service::share_activity(std::int64_t profile_id, std::int64_t subject, std::string_view kind,
                             std::string_view text, std::vector<std::string> categories,
                             const request_context& ctx) {
  if (cfg_.ads_url.empty() || subject == 0) return;
  std::vector<std::string> purposes{std::string(personalization)};
  if (advertising_allowed(profile_id, subject)) purposes.emplace_back(advertising);
  if (!ctx.device.empty()) categories.emplace_back("user.device.device_id");
  bj::array ps;
  for (const auto& p : purposes) ps.emplace_back(p);
  const std::string body = json::serialize(bj::object{{"subject", std::to_string(subject)},
                                                      {"kind", kind},
                                                      {"text", text},
                                                      {"device", ctx.device},
                                                      {"purposes", std::move(ps)}});
  // Best effort: a post does not fail because the ad platform is away, and what it never
  // received is not recorded as sent.
  auto r = call_ads("POST", "/v1/activity", body);
  if (!r || r->status != 202) return;
  std::lock_guard lock(mutex_);
  for (const auto& p : purposes)
    record(cfg_.system_name, "ads", subject, categories, "ads.activity", body, std::string(kind),
           p);
}

void service::tell_ads_deleted(std::int64_t subject) {
  if (cfg_.ads_url.empty() || subject == 0) return;
  const std::string body = json::serialize(bj::object{{"subject", std::to_string(subject)}});
  auto r = call_ads("POST", "/v1/deletions", body);
  std::string note;
  if (r && r->status == 200) {
    auto o = json::parse_object(r->body);
    const std::int64_t erased =
        o && o->if_contains("erased_activity") && o->at("erased_activity").is_int64()
            ? o->at("erased_activity").as_int64()
            : -1;
    note = "retention: " + std::to_string(erased) +
           " activity rows erased; impression counts kept without the account id";
  } else {
    note = r ? "HTTP " + std::to_string(r->status) : "not sent: " + r.error().message();
  }
  std::lock_guard lock(mutex_);
  record(cfg_.system_name, "ads", subject, {"user.unique_id"}, "ads.deletion", body,
         std::move(note));
}

result<feed_page> service::feed(std::int64_t profile_id) {
  feed_page out;
  std::int64_t subject = 0;
  {
    std::lock_guard lock(mutex_);
    auto p = load_profile(profile_id);
    if (!p) return p.error();
    subject = p->ig_user_id;
  }
  // The profile's own posts and those of the profiles it follows.
  std::vector<std::int64_t> authors{profile_id};
  {
    std::lock_guard lock(mutex_);
    auto& q = db_.cached("SELECT followee FROM follows WHERE follower = ? ORDER BY followee");
    q.bind(1, profile_id);
    while (q.step()) authors.push_back(q.get_int(0));
    q.reset();
  }
  for (auto a : authors)
    for (auto& p : posts_of(a, 20)) out.posts.push_back(std::move(p));
  std::sort(out.posts.begin(), out.posts.end(),
            [](const post& a, const post& b) { return a.id > b.id; });
  if (out.posts.size() > 20) out.posts.resize(20);
  if (cfg_.ads_url.empty()) return out;
  const bool personalize = advertising_allowed(profile_id, subject);
  auto r = call_ads("GET",
                    "/v1/sponsored?surface=threads&subject=" + std::to_string(subject) +
                        "&personalize=" + (personalize ? "1" : "0"),
                    {});
  if (r && r->status == 200) {
    if (auto o = json::parse_object(r->body)) {
      sponsored_post s;
      auto field = [&](const char* k) {
        auto v = json::get_string(*o, k);
        return v && *v ? **v : std::string();
      };
      s.campaign = field("campaign");
      s.advertiser = field("advertiser");
      s.text = field("text");
      const auto* pz = o->if_contains("personalized");
      s.personalized = pz && pz->is_bool() && pz->as_bool();
      if (!s.campaign.empty()) out.sponsored = std::move(s);
    }
  }
  return out;
}

result<std::string> service::ask_assistant(std::int64_t profile_id, std::string_view message) {
  if (message.empty() || message.size() > 2000) return make_error_code(errc::text_invalid);
  std::int64_t subject = 0;
  {
    std::lock_guard lock(mutex_);
    auto p = load_profile(profile_id);
    if (!p) return p.error();
    subject = p->ig_user_id;
  }
  // A support assistant that knows the linkage rules, and nothing else.
  std::string m(message);
  for (auto& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string answer =
      "I can help with your profile, its link to Instagram, and deleting your profile.";
  if (m.find("username") != std::string::npos || m.find("name") != std::string::npos)
    answer =
        "Your username follows your Instagram username: change it on Instagram and it "
        "changes here within minutes.";
  else if (m.find("delete") != std::string::npos || m.find("unlink") != std::string::npos)
    answer =
        "The only way to unlink is to delete your profile: Settings > Delete profile. "
        "Your posts, likes and follows go with it.";
  else if (m.find("ad") != std::string::npos)
    answer =
        "Turn personalised ads off in your Instagram account's ad settings, or send the "
        "Global Privacy Control signal from your browser.";
  if (!cfg_.ads_url.empty()) {
    const std::string transcript = "user: " + std::string(message) + "\nassistant: " + answer;
    const std::string body = json::serialize(
        bj::object{{"subject", std::to_string(subject)}, {"transcript", transcript}});
    auto r = call_ads("POST", "/v1/ai/transcripts", body);
    if (r && r->status == 202) {
      std::lock_guard lock(mutex_);
      record(cfg_.system_name, "ads", subject, {"user.content.private"}, "ai.training", body,
             "support assistant conversation", train_ai);
    }
  }
  return answer;
}

}  // namespace linksim::threads_sim
