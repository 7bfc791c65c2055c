// The dependent service's side of cross-product data use (seeds 001 and 002, docs/ads.md):
// activity shared with the company's ad platform for personalization and, while the account's
// ad settings and the browser's GPC signal allow it, for advertising; the feed's sponsored post;
// the support assistant, whose conversations go to improve the company's AI; and the notice
// that a deleted profile's activity must go. Every call here runs with no lock held.
#include "domain.hpp"

#include "linksim/common/json.hpp"
#include "linksim/idp/internal_api.hpp"
#include "linksim/threads_sim/repositories.hpp"

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

result<http::response> domain::cross_product::call_ads(std::string method, std::string_view path,
                                                       std::string body) {
  http::request req;
  req.method = std::move(method);
  req.target = ctx_.cfg.ads_url;
  req.target += path;
  req.headers.set("Authorization", "Bearer " + ctx_.cfg.ads_token);
  if (!body.empty()) {
    req.headers.set("Content-Type", "application/json");
    req.body = std::move(body);
  }
  return ctx_.transport.send(std::move(req));
}

bool domain::cross_product::gpc_opted_out(std::int64_t profile_id) {
  std::lock_guard lock(ctx_.mutex);
  return ctx_.repos.profiles().opted_out(profile_id);
}

void domain::cross_product::note_gpc(std::int64_t profile_id) {
  if (!ctx_.cfg.rules.honour_gpc) return;
  std::int64_t notice = 0;
  {
    std::lock_guard lock(ctx_.mutex);
    auto work = ctx_.repos.begin();
    auto p = ctx_.load_profile(profile_id);
    if (!p) return;
    if (!ctx_.repos.profiles().add_opt_out(profile_id, ctx_.time.now())) return;  // told already
    notice = enqueue_notice_locked(
        "opt_out", profile_id, p->ig_user_id,
        json::serialize(bj::object{{"subject", std::to_string(p->ig_user_id)}, {"source", "gpc"}}));
    work->commit();
  }
  send_notice_now(notice);
}

// Advertising use needs the account's company-wide setting on (asked of the provider each time:
// a setting changed a second ago counts) and no GPC opt-out on this profile. When the provider
// cannot be asked, the answer is no.
bool domain::cross_product::advertising_allowed(std::int64_t profile_id, std::int64_t subject) {
  if (ctx_.cfg.rules.honour_gpc && gpc_opted_out(profile_id)) return false;
  if (!ctx_.cfg.rules.honour_ad_settings) return true;
  const auto on = idp::read_personalized_ads(ctx_.transport, ctx_.cfg.idp_url,
                                             ctx_.cfg.internal_token, subject);
  return on && *on;
}

std::int64_t domain::cross_product::enqueue_activity_locked(std::int64_t profile_id,
                                                            std::int64_t subject,
                                                            std::string_view kind,
                                                            std::string_view text,
                                                            const request_context& ctx) {
  // What the event carries: what the person did (its kind), the text it is about (a post, the
  // post liked, the name followed, the bio) and the device.
  std::vector<std::string> categories{"user.behavior"};
  if (!text.empty()) categories.emplace_back("user.content.public");
  if (!ctx.device.empty()) categories.emplace_back("user.device.device_id");
  bj::array cs;
  for (auto& c : categories) cs.emplace_back(c);
  // What the notice will say, but for its purposes: those are decided when it is sent, by the
  // account's settings at that moment.
  return enqueue_notice_locked(
      "activity", profile_id, subject,
      json::serialize(bj::object{
          {"kind", kind}, {"text", text}, {"device", ctx.device}, {"categories", std::move(cs)}}));
}

std::int64_t domain::cross_product::enqueue_notice_locked(std::string_view kind,
                                                          std::int64_t profile_id,
                                                          std::int64_t subject,
                                                          std::string_view body) {
  if (ctx_.cfg.ads_url.empty() || subject == 0) return 0;
  const auto now = ctx_.time.now();
  const std::int64_t id = ctx_.repos.notices().add(kind, profile_id, subject, body, now);
  queue_.emplace(unix_millis(now),
                 id);  // dropped when met if the transaction does not commit
  return id;
}

void domain::cross_product::send_notice_now(std::int64_t id) {
  if (id == 0) return;
  // A dispatch in progress (the background one, which may be waiting on a platform that is
  // down) will send it, or the next one: the request that made the change does not wait.
  std::unique_lock dispatching(dispatch_mutex_, std::try_to_lock);
  if (dispatching.owns_lock()) send_notice(id);
}

std::size_t domain::cross_product::dispatch_notices() {
  std::lock_guard dispatching(dispatch_mutex_);
  std::vector<std::int64_t> due;
  {
    std::lock_guard lock(ctx_.mutex);
    const auto now = unix_millis(ctx_.time.now());
    for (auto it = queue_.begin(); it != queue_.end() && it->first <= now; ++it)
      due.push_back(it->second);
  }
  std::size_t sent = 0;
  for (auto id : due) sent += send_notice(id) ? 1 : 0;
  return sent;
}

std::optional<time_point> domain::cross_product::next_notice_due() {
  std::lock_guard lock(ctx_.mutex);
  if (queue_.empty()) return std::nullopt;
  return from_unix_millis(queue_.begin()->first);
}

namespace {
// Retries of a notice the ad platform did not take: the provider's webhook schedule (Standard
// Webhooks), without jitter, so that a simulation replays exactly. After the last, it is dead.
constexpr milliseconds notice_retry_schedule[] = {
    std::chrono::seconds(5), std::chrono::minutes(5), std::chrono::minutes(30),
    std::chrono::hours(2),   std::chrono::hours(5),   std::chrono::hours(10),
    std::chrono::hours(14),  std::chrono::hours(20),  std::chrono::hours(24)};
}  // namespace

bool domain::cross_product::send_notice(std::int64_t id) {
  std::string kind, stored;
  std::int64_t profile_id = 0, subject = 0, attempts = 0, was_due = 0;
  {
    std::lock_guard lock(ctx_.mutex);
    auto n = ctx_.repos.notices().find_pending(id);
    const bool found = n.has_value();
    if (found) {
      kind = std::move(n->kind);
      profile_id = n->profile_id;
      subject = n->subject;
      stored = std::move(n->body);
      attempts = n->attempts;
      was_due = n->due;
    }
    if (!found || was_due > unix_millis(ctx_.time.now())) {
      // Delivered, dead, rolled back or due later: the queue keeps only the row's own time, so
      // that no stale entry stays due (a simulation would wake for it again and again).
      std::erase_if(
          queue_, [&](const auto& e) { return e.second == id && (!found || e.first != was_due); });
      if (found) queue_.emplace(was_due, id);
      return false;
    }
  }
  result<http::response> r = make_error_code(errc::upstream_unavailable);
  bool delivered = false;
  if (kind == "activity") {
    const auto o = json::parse_object(stored);
    std::vector<std::string> categories;
    for (const auto& c : o->at("categories").as_array()) categories.emplace_back(c.as_string());
    std::vector<std::string> purposes{std::string(personalization)};
    if (advertising_allowed(profile_id, subject)) purposes.emplace_back(advertising);
    bj::array ps;
    for (const auto& p : purposes) ps.emplace_back(p);
    const std::string body = json::serialize(bj::object{{"subject", std::to_string(subject)},
                                                        {"kind", o->at("kind")},
                                                        {"text", o->at("text")},
                                                        {"device", o->at("device")},
                                                        {"purposes", std::move(ps)}});
    r = call_ads("POST", "/v1/activity", body);
    delivered = r && r->status == 202;
    // What the platform never received is not recorded as sent.
    if (delivered) {
      std::lock_guard lock(ctx_.mutex);
      for (const auto& p : purposes)
        ctx_.record(ctx_.cfg.system_name, "ads", subject, categories, "ads.activity", body,
                    std::string(o->at("kind").as_string()), p);
    }
  } else if (kind == "deletion") {
    r = call_ads("POST", "/v1/deletions", stored);
    delivered = r && r->status == 200;
    std::string note;
    if (delivered) {
      auto o = json::parse_object(r->body);
      const auto* erased = o ? o->if_contains("erased_activity") : nullptr;
      note = erased && erased->is_int64() && erased->as_int64() >= 0
                 ? "retention: " + std::to_string(erased->as_int64()) + " activity rows erased"
                 : std::string(
                       "retention: the platform's answer does not say how many activity "
                       "rows it erased");
      note += "; impression counts kept without the account id";
    } else {
      note = r ? "HTTP " + std::to_string(r->status) : "not sent: " + r.error().message();
    }
    std::lock_guard lock(ctx_.mutex);
    ctx_.record(ctx_.cfg.system_name, "ads", subject, {"user.unique_id"}, "ads.deletion", stored,
                std::move(note));
  } else {
    r = call_ads("POST", "/v1/opt-outs", stored);
    delivered = r && r->status >= 200 && r->status < 300;
    std::lock_guard lock(ctx_.mutex);
    ctx_.record(ctx_.cfg.system_name, "ads", subject, {"user.account.settings"}, "ads.opt_out",
                stored,
                r ? "Sec-GPC: 1; HTTP " + std::to_string(r->status)
                  : "Sec-GPC: 1; not sent: " + r.error().message());
  }
  settle_notice(id, was_due, attempts + 1, delivered, r);
  return true;
}

void domain::cross_product::settle_notice(std::int64_t id, std::int64_t was_due,
                                          std::int64_t attempts, bool delivered,
                                          const result<http::response>& r) {
  std::lock_guard lock(ctx_.mutex);
  // The queue changes only after the row did: a storage error leaves the notice due as it was,
  // to be sent again (at least once).
  if (delivered) {
    ctx_.repos.notices().remove(id);
    queue_.erase({was_due, id});
    return;
  }
  const bool dead = static_cast<std::size_t>(attempts) > std::size(notice_retry_schedule) ||
                    !ctx_.cfg.rules.retry_ads_notices;
  const std::int64_t next =
      dead ? 0
           : unix_millis(ctx_.time.now() +
                         notice_retry_schedule[static_cast<std::size_t>(attempts) - 1]);
  ctx_.repos.notices().settle(id, dead, attempts, next, r ? r->status : 0,
                              r ? r->body.substr(0, 200) : r.error().message());
  queue_.erase({was_due, id});
  if (!dead) queue_.emplace(next, id);
}

std::vector<ads_notice> domain::cross_product::ads_notices(std::optional<std::string_view> state) {
  std::lock_guard lock(ctx_.mutex);
  return ctx_.repos.notices().list(state);
}

result<void> domain::cross_product::replay_ads_notice(std::int64_t id) {
  std::lock_guard lock(ctx_.mutex);
  const auto now = ctx_.time.now();
  if (!ctx_.repos.notices().revive(id, now))
    return make_error_code(ctx_.repos.notices().exists(id) ? errc::delivery_not_replayable
                                                           : errc::not_found);
  queue_.emplace(unix_millis(now), id);
  return {};
}

result<feed_page> domain::cross_product::feed(std::int64_t profile_id) {
  feed_page out;
  std::int64_t subject = 0;
  {
    std::lock_guard lock(ctx_.mutex);
    auto p = ctx_.load_profile(profile_id);
    if (!p) return p.error();
    subject = p->ig_user_id;
  }
  // The profile's own posts and those of the profiles it follows.
  std::vector<std::int64_t> authors{profile_id};
  {
    std::lock_guard lock(ctx_.mutex);
    for (auto followee : ctx_.repos.content().followees(profile_id)) authors.push_back(followee);
  }
  for (auto a : authors) {
    std::lock_guard lock(ctx_.mutex);
    for (auto& p : ctx_.repos.content().posts_of(a, 20)) out.posts.push_back(std::move(p));
  }
  std::sort(out.posts.begin(), out.posts.end(),
            [](const post& a, const post& b) { return a.id > b.id; });
  if (out.posts.size() > 20) out.posts.resize(20);
  if (ctx_.cfg.ads_url.empty()) return out;
  const bool personalize = advertising_allowed(profile_id, subject);
  const std::string target = "/v1/sponsored?surface=threads&subject=" + std::to_string(subject) +
                             "&personalize=" + (personalize ? "1" : "0");
  auto r = call_ads("GET", target, {});
  if (r) {
    std::lock_guard lock(ctx_.mutex);
    ctx_.record(ctx_.cfg.system_name, "ads", subject, {"user.unique_id"}, "ads.sponsored", target,
                "HTTP " + std::to_string(r->status),
                personalize ? "marketing.advertising.first_party.targeted"
                            : "marketing.advertising.first_party.contextual");
  }
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

result<std::string> domain::cross_product::ask_assistant(std::int64_t profile_id,
                                                         std::string_view message) {
  if (message.empty() || message.size() > 2000) return make_error_code(error::text_invalid);
  std::int64_t subject = 0;
  {
    std::lock_guard lock(ctx_.mutex);
    auto p = ctx_.load_profile(profile_id);
    if (!p) return p.error();
    subject = p->ig_user_id;
  }
  // A support assistant that knows the linkage rules, and nothing else.
  std::string m(message);
  for (auto& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string answer =
      "I can help with your profile, its link to Instagram, and deleting your profile.";
  if (m.find("username") != std::string::npos)
    answer =
        "Your username follows your Instagram username: change it on Instagram and it "
        "changes here within minutes.";
  else if (m.find("name") != std::string::npos)  // seed 004: the display name is independent
    answer =
        "Your display name is your own: change it in Settings. Instagram's display name does "
        "not replace it, and it does not change your username.";
  else if (m.find("delete") != std::string::npos || m.find("unlink") != std::string::npos)
    answer =
        "The only way to unlink is to delete your profile: Settings > Delete profile. "
        "Your posts, likes and follows go with it.";
  else if (m.find("ad") != std::string::npos)
    answer =
        "Turn personalised ads off in your Instagram account's ad settings, or send the "
        "Global Privacy Control signal from your browser.";
  if (!ctx_.cfg.ads_url.empty() && ctx_.cfg.rules.share_assistant_conversations) {
    const std::string transcript = "user: " + std::string(message) + "\nassistant: " + answer;
    const std::string body = json::serialize(
        bj::object{{"subject", std::to_string(subject)}, {"transcript", transcript}});
    auto r = call_ads("POST", "/v1/ai/transcripts", body);
    if (r) {  // sent, whatever the platform made of it
      std::lock_guard lock(ctx_.mutex);
      ctx_.record(ctx_.cfg.system_name, "ads", subject, {"user.content.private"}, "ai.training",
                  body, "support assistant conversation; HTTP " + std::to_string(r->status),
                  train_ai);
    }
  }
  return answer;
}

}  // namespace linksim::threads_sim
