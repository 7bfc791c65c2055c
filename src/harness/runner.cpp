// The scenario runner: each step is an HTTP request through the simulated network (the
// provider's admin API, the dependent service's pages and JSON API), then the world runs what
// fell due at that instant. Expectations read state through the same APIs.
#include "linksim/harness/runner.hpp"

#include "linksim/ads/service.hpp"
#include "linksim/common/json.hpp"
#include "linksim/sim/browser.hpp"
#include "linksim/sim/world.hpp"
#include "linksim/threads_sim/service.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>

#include <unistd.h>

namespace linksim::harness {
namespace bj = boost::json;

namespace {

constexpr const char* admin_token = "sim-admin";

// A directory removed when the run ends (for scenarios that restart a service on its files).
class scratch_dir {
 public:
  explicit scratch_dir(std::uint64_t seed) {
    static std::atomic<std::uint64_t> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("linksim-run-" + std::to_string(::getpid()) + "-" + std::to_string(seed) + "-" +
             std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string body_excerpt(const std::string& body) {
  std::string s = body.substr(0, 300);
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return body.size() > 300 ? s + "..." : s;
}

std::string json_error_code(const std::string& body) {
  auto o = json::parse_object(body);
  if (!o) return {};
  const auto* e = o->if_contains("error");
  if (!e || !e->is_object()) return {};
  const auto* c = e->as_object().if_contains("code");
  return c && c->is_string() ? std::string(c->as_string()) : std::string();
}

std::string str_field(const bj::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::int64_t int_field(const bj::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_int64() ? v->as_int64() : 0;
}

// A failed expectation: thrown from deep in a step, caught by the runner.
struct mismatch {
  location where;
  std::string what, expected, actual;
};

class runner {
 public:
  runner(const scenario& s, const run_options& o, run_result& out) : s_(s), o_(o), out_(out) {
    const bool files = std::any_of(s.steps.begin(), s.steps.end(),
                                   [](const step& st) { return st.kind == action::restart; });
    if (files) dir_ = std::make_unique<scratch_dir>(out.seed);
    world_ = std::make_unique<sim::world>(
        sim::world_options{.seed = out.seed,
                           .profile = out.profile,
                           .reconcile_interval = s.reconcile_interval,
                           .dir = dir_ ? dir_->path() : std::filesystem::path(),
                           .in_memory = !files,
                           .webhook_batch = s.webhook_batch,
                           .webhook_batch_window = s.webhook_batch_window,
                           .expose = o.expose});
    start_ = world_->sched().now();
    if (o.keep_messages)
      world_->net().observe([this](const sim::message& m) { out_.messages.push_back(m); });
    for (const auto& f : s.faults)
      if (f.account.empty()) arm(f);
  }

  void run() {
    for (std::size_t i = 0; i < s_.steps.size(); ++i) {
      const step& st = s_.steps[i];
      try {
        perform(st);
        settle();
        check_state(st);
        if (o_.audit && !st.claims.empty()) record(i, st, nullptr);
      } catch (const mismatch& m) {
        if (!out_.failure)
          out_.failure = step_failure{i,      m.where,    std::string(to_string(st.kind)),
                                      m.what, m.expected, m.actual};
        if (o_.audit && !st.claims.empty()) {
          record(i, st, &m);  // the claim's verdict; the story goes on
        } else {
          if (o_.audit) out_.stopped_at = i;
          break;
        }
      }
      if (o_.audit) check_invariants(i, st);
      ++out_.steps_run;
    }
    finish();
  }

 private:
  // --- The audit's records ---

  // The provider ids of the accounts a step names.
  std::set<std::string> subjects_of(const step& st) const {
    std::set<std::string> out;
    auto add = [&](const std::string& account) {
      if (const auto it = ids_.find(account); it != ids_.end())
        out.insert(std::to_string(it->second));
    };
    for (const char* k : {"account", "target", "as"})
      if (const auto it = st.args.find(k); it != st.args.end()) add(it->second);
    for (const auto& e : st.profiles) add(e.account);
    for (const auto& e : st.accounts) add(e.account);
    for (const auto& e : st.flows) add(e.account);
    return out;
  }

  check_outcome outcome(std::size_t i, const step& st, const std::set<std::string>& subjects) {
    check_outcome c;
    c.step = i;
    c.where = st.where;
    c.claims = st.claims;
    const auto& log = world_->evidence();
    c.evidence_size = log.size();
    c.at = std::chrono::duration_cast<milliseconds>(world_->sched().now() - start_);
    for (std::size_t k = log.size(); k-- > 0 && c.leaves.size() < 12;)
      if (subjects.empty() || subjects.contains(log.at(k).subject)) c.leaves.push_back(k);
    std::reverse(c.leaves.begin(), c.leaves.end());
    return c;
  }

  void record(std::size_t i, const step& st, const mismatch* m) {
    check_outcome c = outcome(i, st, subjects_of(st));
    if (m) {
      c.passed = false;
      c.where = m->where;
      c.what = m->what;
      c.expected = m->expected;
      c.actual = m->actual;
    }
    out_.checks.push_back(std::move(c));
  }

  // Invariants hold after every step; each is reported once: its first break, or that it held.
  void check_invariants(std::size_t i, const step& st) {
    for (const auto& [name, claims] : o_.invariants) {
      if (broken_.contains(name)) continue;
      if (name == "one_profile_per_account") {
        for (const auto& [account, id] : ids_) {
          const auto n = world_->threads().profiles_of_account(id).size();
          if (n <= 1) continue;
          check_outcome c = outcome(i, st, {std::to_string(id)});
          c.claims = claims;
          c.invariant = name;
          c.passed = false;
          c.what = "live profiles of " + account;
          c.expected = "at most 1";
          c.actual = std::to_string(n);
          out_.checks.push_back(std::move(c));
          broken_.insert(name);
          break;
        }
      }
    }
    if (i + 1 != s_.steps.size()) return;
    for (const auto& [name, claims] : o_.invariants) {
      if (broken_.contains(name)) continue;
      check_outcome c = outcome(i, st, {});
      c.claims = claims;
      c.invariant = name;
      c.what = name + " after each of " + std::to_string(s_.steps.size()) + " steps";
      out_.checks.push_back(std::move(c));
    }
  }

 private:
  // --- Requests ---

  http::response send(http::transport& t, const std::string& method, const std::string& url,
                      const std::string& body = {}, const std::string& bearer = {},
                      bool gpc = false) {
    http::request r;
    if (gpc) r.headers.set("Sec-GPC", "1");
    r.method = method;
    r.target = url;
    if (!body.empty()) {
      r.body = body;
      r.headers.set("Content-Type", "application/json");
    }
    if (!bearer.empty()) r.headers.set("Authorization", "Bearer " + bearer);
    auto res = t.send(std::move(r));
    if (!res) {
      http::response failed;
      failed.status = 0;
      failed.body = res.error().message();
      return failed;
    }
    return *res;
  }
  http::response admin(const std::string& system, const std::string& method,
                       const std::string& path, const std::string& body = {}) {
    return send(world_->net().endpoint("operator"), method, origin(system) + path, body,
                admin_token);
  }
  http::response as_user(const std::string& account, const std::string& method,
                         const std::string& path, const std::string& body = {}, bool gpc = false) {
    return send(world_->browser_transport(), method, origin("threads") + path, body,
                sessions_[account], gpc);
  }
  static std::string origin(const std::string& system) {
    if (system == "ads") return sim::world::ads_origin;
    return system == "idp" ? sim::world::idp_origin : sim::world::threads_origin;
  }
  // A partner's API key, by the partner's id; an unknown partner sends its id as a key.
  static std::string partner_key(const std::string& id) {
    for (const auto& p : ads::default_partners())
      if (p.id == id) return p.key;
    return id;
  }

  std::int64_t id_of(const std::string& account) const { return ids_.at(account); }
  // Scenario accounts' passwords: fixed, long enough for the provider's rule.
  static std::string password_of(const std::string& account) { return "password-" + account; }
  std::string idp_path(const std::string& account) const {
    return "/admin/accounts/" + std::to_string(id_of(account));
  }
  static std::string json_str(const std::string& k, const std::string& v) {
    return bj::serialize(bj::object{{k, v}});
  }

  // --- Steps ---

  void perform(const step& st) {
    const auto& a = st.args;
    auto arg = [&](const char* k) {
      const auto it = a.find(k);
      return it == a.end() ? std::string() : it->second;
    };
    http::response r;
    r.status = -1;  // no answer to check
    const bool gpc = arg("gpc") == "true";
    switch (st.kind) {
      case action::create: {
        bj::object body{{"username", arg("username")}, {"password", password_of(arg("username"))}};
        if (a.contains("name")) body["name"] = arg("name");
        if (a.contains("bio")) body["biography"] = arg("bio");
        if (a.contains("type")) body["account_type"] = arg("type");
        r = admin("idp", "POST", "/admin/accounts", bj::serialize(body));
        if (r.status == 201) {
          auto o = json::parse_object(r.body);
          if (o) {
            std::int64_t id = 0;
            const std::string s = str_field(*o, "id");
            std::from_chars(s.data(), s.data() + s.size(), id);
            ids_[arg("username")] = id;
            for (const auto& f : s_.faults)
              if (f.account == arg("username")) arm(f);
          }
        } else if (!st.http.status) {
          fail(st.where, "create " + arg("username"), "201", answer(r));
        }
        break;
      }
      case action::rename:
        r = admin("idp", "PATCH", idp_path(arg("account")), json_str("username", arg("to")));
        break;
      case action::set_name:
        r = admin("idp", "PATCH", idp_path(arg("account")), json_str("name", arg("name")));
        break;
      case action::set_bio:
        r = admin("idp", "PATCH", idp_path(arg("account")), json_str("biography", arg("bio")));
        break;
      case action::set_status:
        r = admin("idp", "PATCH", idp_path(arg("account")), json_str("status", arg("status")));
        break;
      case action::set_picture: {
        http::request req;
        req.method = "PUT";
        req.target = origin("idp") + idp_path(arg("account")) + "/picture";
        req.body = arg("content");
        req.headers.set("Content-Type",
                        a.contains("content_type") ? arg("content_type") : "image/png");
        req.headers.set("Authorization", std::string("Bearer ") + admin_token);
        auto res = world_->net().endpoint("operator").send(std::move(req));
        r = res ? *res : http::response{0, {}, res.error().message()};
        break;
      }
      case action::delete_account:
        r = admin("idp", "DELETE", idp_path(arg("account")));
        break;
      case action::follow:
        r = admin("idp", "POST", idp_path(arg("account")) + "/follows",
                  json_str("target_id", std::to_string(id_of(arg("target")))));
        break;
      case action::unfollow:
        r = admin("idp", "DELETE",
                  idp_path(arg("account")) + "/follows/" + std::to_string(id_of(arg("target"))));
        break;
      case action::sign_up:
        sign_up(st, arg("account"), arg("browser"), a.contains("via") ? arg("via") : "/signup");
        return;
      case action::edit: {
        bj::object body;
        for (const char* k : {"username", "name", "bio"})
          if (a.contains(k)) body[k] = arg(k);
        if (a.contains("picture")) body["profile_picture_url"] = arg("picture");
        r = as_user(arg("account"), "PATCH", "/api/me", bj::serialize(body));
        break;
      }
      case action::post:
        r = as_user(arg("account"), "POST", "/api/posts", json_str("text", arg("text")), gpc);
        if (r.status == 201 && a.contains("label")) {
          if (auto o = json::parse_object(r.body)) post_ids_[arg("label")] = int_field(*o, "id");
        }
        break;
      case action::like: {
        const auto it = post_ids_.find(arg("post"));
        const std::string id = it == post_ids_.end() ? "0" : std::to_string(it->second);
        r = as_user(arg("account"), "POST", "/api/posts/" + id + "/like", {}, gpc);
        break;
      }
      case action::follow_on_threads:
        r = as_user(arg("account"), "POST", "/api/follows",
                    json_str("username", current_username(arg("target"))), gpc);
        break;
      case action::unfollow_on_threads:
        r = as_user(arg("account"), "DELETE", "/api/follows/" + current_username(arg("target")));
        break;
      case action::delete_profile:
        r = as_user(arg("account"), "DELETE", "/api/me");
        break;
      case action::request: {
        const std::string bearer = a.contains("as") ? sessions_[arg("as")] : std::string();
        r = send(world_->browser_transport(), arg("method"),
                 origin(arg("system")) + with_ids(arg("path")), with_ids(arg("body")), bearer);
        break;
      }
      case action::feed:
        r = as_user(arg("account"), "GET", "/api/feed", {}, gpc);
        break;
      case action::ask_assistant:
        r = as_user(arg("account"), "POST", "/api/assistant", json_str("message", arg("message")));
        break;
      case action::ad_settings:
        r = admin(
            "idp", "PUT", idp_path(arg("account")) + "/ad-settings",
            bj::serialize(bj::object{{"personalized_ads", arg("personalized_ads") == "true"}}));
        break;
      case action::instagram_ad:
        // The provider's own feed asks the company's ad platform, as the provider.
        r = send(world_->net().endpoint("idp"), "GET",
                 origin("ads") + "/v1/sponsored?surface=instagram&subject=" +
                     std::to_string(id_of(arg("account"))),
                 {}, sim::world::idp_at_ads_token);
        break;
      case action::partner: {
        const std::string key = partner_key(arg("partner"));
        const std::string q = "?campaign=" + http::percent_encode(arg("campaign"));
        auto& t = world_->net().endpoint("partner:" + arg("partner"));
        if (arg("asks") == "report")
          r = send(t, "GET", origin("ads") + "/v1/partners/reports" + q, {}, key);
        else if (arg("asks") == "audience")
          r = send(t, "GET", origin("ads") + "/v1/partners/audiences" + q, {}, key);
        else
          r = send(t, "POST", origin("ads") + "/v1/partners/purchases",
                   bj::serialize(bj::object{{"campaign", arg("campaign")},
                                            {"price_cents", std::stoll(arg("price_cents"))}}),
                   key);
        break;
      }
      case action::advance:
        world_->run_for(st.duration);
        return;
      case action::restart:
        world_->restart_threads();
        return;
      case action::crash:
        world_->crash_threads_during_next_import();
        return;
      case action::outage:
        world_->net().add_outage(
            {arg("system"), world_->sched().now(), world_->sched().now() + st.duration});
        return;
      case action::fault:
        arm(*st.fault);
        return;
      case action::expect:
        return;
    }
    check_http(st, r, {});
  }

  // Replaces {id:ACCOUNT} with the provider id and {post:LABEL} with the post's id.
  std::string with_ids(const std::string& t) const {
    std::string out;
    for (std::size_t i = 0; i < t.size();) {
      const auto close = t[i] == '{' ? t.find('}', i) : std::string::npos;
      const std::string ref = close == std::string::npos ? "" : t.substr(i + 1, close - i - 1);
      if (ref.starts_with("id:") && ids_.contains(ref.substr(3))) {
        out += std::to_string(ids_.at(ref.substr(3)));
      } else if (ref.starts_with("post:") && post_ids_.contains(ref.substr(5))) {
        out += std::to_string(post_ids_.at(ref.substr(5)));
      } else {
        out += t[i++];
        continue;
      }
      i = close + 1;
    }
    return out;
  }

  void arm(const fault_spec& f) {
    sim::fault_rule rule = f.rule;
    if (!f.account.empty()) rule.match.subject = std::to_string(id_of(f.account));
    world_->net().add_fault(std::move(rule));
  }

  void sign_up(const step& st, const std::string& account, const std::string& browser_name,
               const std::string& entry) {
    // The person types the username the account has now; the password never changes.
    const std::string username = current_username(account);
    std::unique_ptr<sim::browser> fresh;
    sim::browser* b = nullptr;
    if (browser_name.empty()) {
      fresh = std::make_unique<sim::browser>(world_->browser_transport(), sim::world::idp_origin,
                                             sim::world::threads_origin);
      b = fresh.get();
    } else {
      auto& slot = browsers_[browser_name];
      if (!slot)
        slot = std::make_unique<sim::browser>(world_->browser_transport(), sim::world::idp_origin,
                                              sim::world::threads_origin);
      b = slot.get();
    }
    const auto r = b->sign_up(username, password_of(account), id_of(account), entry);
    if (!r.session.empty() && (r.status == 303 || r.status == 302)) sessions_[account] = r.session;
    http::response as_http;
    as_http.status = r.status;
    // A linked sign-up's `contains` reads the Link Account page the person confirmed.
    as_http.body = r.error.empty() ? r.link_page : r.error;
    check_http(st, as_http, r.step);
  }

  std::string current_username(const std::string& account) {
    auto r = admin("idp", "GET", idp_path(account));
    if (r.status != 200) return account;
    auto o = json::parse_object(r.body);
    return o ? str_field(*o, "username") : account;
  }

  // Runs what fell due at this instant: webhooks sent at once, their effects.
  void settle() { world_->run_for(milliseconds{0}); }

  // --- Expectations ---

  [[noreturn]] static void fail(const location& where, std::string what, std::string expected,
                                std::string actual) {
    throw mismatch{where, std::move(what), std::move(expected), std::move(actual)};
  }
  static std::string answer(const http::response& r) {
    return std::to_string(r.status) + " " + body_excerpt(r.body);
  }

  void check_http(const step& st, const http::response& r, const std::string& stopped_at) {
    const auto& e = st.http;
    const bool expected_anything = e.status || e.error || e.step || e.contains;
    if (!expected_anything) {
      // Without an expectation an action must succeed.
      const bool ok = st.kind == action::sign_up ? (r.status == 303 || r.status == 302)
                                                 : (r.status >= 200 && r.status < 300);
      if (!ok)
        fail(st.where, "answer", st.kind == action::sign_up ? "303 (linked or signed in)" : "2xx",
             answer(r) + (stopped_at.empty() ? "" : " at " + stopped_at));
      return;
    }
    if (e.status && r.status != *e.status)
      fail(st.where, "status", std::to_string(*e.status),
           answer(r) + (stopped_at.empty() ? "" : " at " + stopped_at));
    if (e.error) {
      const std::string code = json_error_code(r.body);
      if (code != *e.error) fail(st.where, "error code", *e.error, code.empty() ? answer(r) : code);
    }
    if (e.step && stopped_at != *e.step)
      fail(st.where, "sign-up stopped at", *e.step, stopped_at.empty() ? "(none)" : stopped_at);
    if (e.contains && r.body.find(*e.contains) == std::string::npos)
      fail(st.where, "body contains", *e.contains, body_excerpt(r.body));
  }

  void check_state(const step& st) {
    for (const auto& e : st.profiles) check_profile(e);
    for (const auto& e : st.accounts) check_account(e);
    for (const auto& e : st.flows) check_flows(e);
  }

  std::optional<bj::object> idp_account(const std::string& account) {
    auto r = admin("idp", "GET", idp_path(account));
    if (r.status != 200) return std::nullopt;
    auto o = json::parse_object(r.body);
    return o ? *o : bj::object{};
  }

  void check_profile(const expect_profile& e) {
    const std::string who = "profile of " + e.account;
    auto r =
        admin("threads", "GET", "/admin/profiles?ig_user_id=" + std::to_string(id_of(e.account)));
    if (r.status != 200) fail(e.where, who, "the admin API to answer", answer(r));
    auto o = json::parse_object(r.body);
    const auto* data = o ? o->if_contains("data") : nullptr;
    if (!data || !data->is_array()) fail(e.where, who, "a list of profiles", answer(r));
    const auto& list = data->as_array();
    if (e.profiles && static_cast<int>(list.size()) != *e.profiles)
      fail(e.where, who + ": number of profiles", std::to_string(*e.profiles),
           std::to_string(list.size()));
    const bool wants_fields =
        e.username || e.name || e.bio || e.mirrors || e.closed || e.posts || e.followers;
    if (wants_fields && list.empty()) fail(e.where, who, "a profile", "none");
    const bj::object empty;
    const auto& p = list.empty() ? empty : list.back().as_object();  // the newest
    auto field = [&](const char* what, const std::optional<std::string>& want, const char* key) {
      if (want && str_field(p, key) != *want)
        fail(e.where, who + ": " + what, *want, str_field(p, key));
    };
    field("username", e.username, "username");
    field("name", e.name, "name");
    field("bio", e.bio, "bio");
    if (e.closed) {
      const auto* d = p.if_contains("ig_deleted");
      const bool closed = d && d->is_bool() && d->as_bool();
      if (closed != *e.closed)
        fail(e.where, who + ": closed", *e.closed ? "true" : "false", closed ? "true" : "false");
    }
    if (e.posts && int_field(p, "posts_count") != *e.posts)
      fail(e.where, who + ": posts", std::to_string(*e.posts),
           std::to_string(int_field(p, "posts_count")));
    if (e.followers && int_field(p, "followers_count") != *e.followers)
      fail(e.where, who + ": followers", std::to_string(*e.followers),
           std::to_string(int_field(p, "followers_count")));
    if (e.mirrors) {
      const auto ig = idp_account(e.account);
      if (!ig) fail(e.where, who + ": mirrors", "a provider account to compare with", "none");
      const bool same =
          str_field(p, "username") == str_field(*ig, "username") &&
          str_field(p, "profile_picture_sha256") == str_field(*ig, "profile_picture_sha256");
      if (same != *e.mirrors)
        fail(e.where, who + ": mirrors the provider",
             *e.mirrors ? "username and picture equal" : "a difference",
             "threads " + str_field(p, "username") + " / " +
                 str_field(p, "profile_picture_sha256").substr(0, 12) + ", provider " +
                 str_field(*ig, "username") + " / " +
                 str_field(*ig, "profile_picture_sha256").substr(0, 12));
    }
    if (e.public_status) {
      std::string name = e.username.value_or(str_field(p, "username"));
      if (name.empty()) name = current_username(e.account);
      auto pub =
          send(world_->browser_transport(), "GET", origin("threads") + "/api/profiles/" + name);
      if (pub.status != *e.public_status)
        fail(e.where, who + ": GET /api/profiles/" + name, std::to_string(*e.public_status),
             answer(pub));
    }
  }

  void check_account(const expect_account& e) {
    const std::string who = "provider account " + e.account;
    auto r = admin("idp", "GET", idp_path(e.account));
    if (r.status != 200) {
      if (e.status && (*e.status == "deleted" || *e.status == "missing") &&
          (r.status == 404 || r.status == 410))
        return;
      fail(e.where, who, "the admin API to answer", answer(r));
    }
    const auto parsed = json::parse_object(r.body);
    const bj::object o = parsed ? *parsed : bj::object{};
    auto field = [&](const char* what, const std::optional<std::string>& want, const char* key) {
      if (want && str_field(o, key) != *want)
        fail(e.where, who + ": " + what, *want, str_field(o, key));
    };
    field("username", e.username, "username");
    field("name", e.name, "name");
    field("bio", e.bio, "biography");
    field("status", e.status, "status");
  }

  void check_flows(const expect_flows& e) {
    const std::string subject =
        e.account.empty() ? std::string() : std::to_string(id_of(e.account));
    int n = 0;
    const time_point since = start_ + e.since;
    const auto& log = world_->evidence();
    for (std::size_t i = 0; i < log.size(); ++i) {
      const auto f = log.at(i);
      if (e.since.count() >= 0 && f.time < since) continue;
      if (!e.channel.empty() && f.channel != e.channel) continue;
      if (!e.from.empty() && f.from != e.from) continue;
      if (!e.to.empty() && f.to != e.to) continue;
      if (!subject.empty() && f.subject != subject) continue;
      if (!e.purpose.empty() && !evidence::covers(e.purpose, f.purpose)) continue;
      if (!e.note.empty() && f.note.find(e.note) == std::string::npos) continue;
      if (!e.category.empty() &&
          std::none_of(f.categories.begin(), f.categories.end(),
                       [&](const std::string& c) { return evidence::covers(e.category, c); }))
        continue;
      ++n;
    }
    std::string what = "flows";
    for (const auto& [k, v] : {std::pair{"channel", e.channel},
                               {"from", e.from},
                               {"to", e.to},
                               {"account", e.account},
                               {"category", e.category},
                               {"purpose", e.purpose},
                               {"note", e.note}})
      if (!v.empty()) what += std::string(" ") + k + "=" + v;
    if (e.count && n != *e.count)
      fail(e.where, what, "count " + std::to_string(*e.count), std::to_string(n));
    if (e.min && n < *e.min)
      fail(e.where, what, "at least " + std::to_string(*e.min), std::to_string(n));
    if (e.max && n > *e.max)
      fail(e.where, what, "at most " + std::to_string(*e.max), std::to_string(n));
  }

  // --- The end ---

  std::string alias(const std::string& subject) const {
    for (const auto& [name, id] : ids_)
      if (std::to_string(id) == subject) return name;
    return subject;
  }

  void finish() {
    const auto flows = world_->evidence().flows();
    out_.passed = !out_.failure;
    out_.root = to_hex(world_->evidence().root());
    out_.entries = flows.size();
    out_.start = start_;
    out_.simulated = std::chrono::duration_cast<milliseconds>(world_->sched().now() - start_);
    out_.net = world_->net().stats();
    for (const auto& [name, id] : ids_) out_.aliases[std::to_string(id)] = name;
    if (o_.audit) out_.flows = flows;
    for (const auto& l : world_->service_log())
      out_.service_log.push_back(
          "+" + format_duration(std::chrono::duration_cast<milliseconds>(l.at - start_)) + " " +
          l.text);
    if (const auto more = world_->service_lines_dropped())
      out_.service_log.push_back("(" + std::to_string(more) + " more lines not kept)");
    if (!out_.failure) return;  // the flows are only shown around a failure
    for (std::size_t i = 0; i < flows.size(); ++i) {
      const auto& f = flows[i];
      std::ostringstream line;
      line << "#" << i << " +"
           << format_duration(std::chrono::duration_cast<milliseconds>(f.time - start_)) << " "
           << f.from << " -> " << f.to << " " << f.channel << " [" << alias(f.subject) << "] "
           << f.note;
      out_.trace.push_back(line.str());
    }
    const std::size_t from = flows.size() > 8 ? flows.size() - 8 : 0;
    out_.flows_around.assign(out_.trace.begin() + static_cast<std::ptrdiff_t>(from),
                             out_.trace.end());
  }

  const scenario& s_;
  const run_options& o_;
  run_result& out_;
  std::set<std::string> broken_;  // invariants already reported broken
  std::unique_ptr<scratch_dir> dir_;
  std::unique_ptr<sim::world> world_;
  time_point start_;
  std::map<std::string, std::int64_t> ids_;
  std::map<std::string, std::string> sessions_;
  std::map<std::string, std::unique_ptr<sim::browser>> browsers_;
  std::map<std::string, std::int64_t> post_ids_;
};

}  // namespace

std::vector<std::string> known_invariants() {
  return {"one_profile_per_account"};
}

run_result run_scenario(const scenario& s, const run_options& o) {
  run_result out;
  out.name = s.name;
  out.file = s.file;
  out.profile = o.profile.value_or(s.profile);
  out.seed = o.seed.value_or(s.seed);
  const auto t0 = std::chrono::steady_clock::now();
  try {
    runner r(s, o, out);
    r.run();
  } catch (const std::exception& e) {
    out.passed = false;
    out.error = e.what();
  }
  out.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

std::string replay_command(const run_result& r, const run_options& o, bool real_http) {
  return "linksim run " + r.file + " --seed " + std::to_string(r.seed) +
         (o.profile ? " --profile " + *o.profile : std::string()) +
         (real_http ? " --real-http" : "");
}

}  // namespace linksim::harness
