// The scenario actions (see actions.hpp): for each, its arguments, checks and execution.
#include "actions.hpp"

#include "linksim/ads/service.hpp"
#include "linksim/common/json.hpp"
#include "linksim/sim/world.hpp"

#include <boost/json.hpp>

#include <charconv>

namespace linksim::harness::detail {
namespace {

namespace bj = boost::json;
using answer = std::optional<http::response>;

std::string arg(const step& s, const char* k) {
  const auto it = s.args.find(k);
  return it == s.args.end() ? std::string() : it->second;
}

// A partner's API key, by the partner's id; an unknown partner sends its id as a key.
std::string partner_key(const std::string& id) {
  for (const auto& p : ads::default_partners())
    if (p.id == id) return p.key;
  return id;
}

// Scenario accounts' passwords: fixed, long enough for the provider's rule.
std::string password_of(const std::string& account) {
  return "password-" + account;
}

std::string json_str(const std::string& k, const std::string& v) {
  return bj::serialize(bj::object{{k, v}});
}

// An account change on the provider's admin API: PATCH with one field.
answer patch_account(action_context& c, const step& s, const char* field, const char* from) {
  return c.admin("idp", "PATCH", idp_path(c, arg(s, "account")), json_str(field, arg(s, from)));
}

// --- Checks ---

void check_create(action_checker& p, const argument_nodes& at, step& s) {
  const std::string& u = s.args["username"];
  if (p.created().contains(u)) p.fail(at["username"], "account '" + u + "' is created twice");
  p.created().insert(u);
  if (s.args.contains("type") && s.args["type"] != "personal" && s.args["type"] != "business")
    p.fail(at["type"], "type is personal or business");
}

void check_request(action_checker& p, const argument_nodes& at, step& s) {
  (void)p.system(at["system"]);
  const std::string m = s.args.contains("method") ? s.args["method"] : "GET";
  if (m != "GET" && m != "POST" && m != "PATCH" && m != "PUT" && m != "DELETE")
    p.fail(at["method"], "method is GET, POST, PATCH, PUT or DELETE");
  s.args["method"] = m;
  if (!s.args["path"].starts_with("/")) p.fail(at["path"], "path starts with /");
  // {id:ACCOUNT} and {post:LABEL} in the path or body stand for ids known at run time.
  for (const char* k : {"path", "body"}) {
    const std::string& t = s.args[k];
    for (auto open = t.find('{'); open != std::string::npos; open = t.find('{', open + 1)) {
      const auto close = t.find('}', open);
      if (close == std::string::npos) break;
      const std::string ref = t.substr(open + 1, close - open - 1);
      if (ref.starts_with("id:")) {
        if (!p.created().contains(ref.substr(3)))
          p.fail(at[k], "{" + ref + "}: no account '" + ref.substr(3) + "' yet");
      } else if (ref.starts_with("post:")) {
        if (!p.posts().contains(ref.substr(5)))
          p.fail(at[k], "{" + ref + "}: no earlier post has label '" + ref.substr(5) + "'");
      }
    }
  }
}

void check_partner(action_checker& p, const argument_nodes& at, step& s) {
  const std::string& k = s.args["asks"];
  if (k != "report" && k != "audience" && k != "purchase")
    p.fail(at["asks"], "a partner asks for a report, an audience or a purchase");
  if (s.args.contains("price_cents")) (void)p.integer(at["price_cents"], 1, 1'000'000'000);
  if ((k == "purchase") != s.args.contains("price_cents"))
    p.fail(at.value, "price_cents goes with a purchase, and only with it");
}

// --- Execution ---

answer create(action_context& c, const step& s) {
  const std::string username = arg(s, "username");
  bj::object body{{"username", username}, {"password", password_of(username)}};
  if (s.args.contains("name")) body["name"] = arg(s, "name");
  if (s.args.contains("bio")) body["biography"] = arg(s, "bio");
  if (s.args.contains("type")) body["account_type"] = arg(s, "type");
  auto r = c.admin("idp", "POST", "/admin/accounts", bj::serialize(body));
  if (r.status == 201) {
    if (auto o = json::parse_object(r.body)) {
      const auto* v = o->if_contains("id");
      const std::string text = v && v->is_string() ? std::string(v->as_string()) : std::string();
      std::int64_t id = 0;
      std::from_chars(text.data(), text.data() + text.size(), id);
      c.created(username, id);
    }
  } else if (!s.http.status) {
    c.fail(s.where, "create " + username, "201", c.answer(r));
  }
  return r;
}

answer set_picture(action_context& c, const step& s) {
  http::request req;
  req.method = "PUT";
  req.target = origin("idp") + idp_path(c, arg(s, "account")) + "/picture";
  req.body = arg(s, "content");
  req.headers.set("Content-Type",
                  s.args.contains("content_type") ? arg(s, "content_type") : "image/png");
  req.headers.set("Authorization", std::string("Bearer ") + sim::world::admin_token);
  auto res = c.world().net().endpoint("operator").send(std::move(req));
  return res ? *res : http::response{0, {}, res.error().message()};
}

answer edit(action_context& c, const step& s) {
  bj::object body;
  for (const char* k : {"username", "name", "bio"})
    if (s.args.contains(k)) body[k] = arg(s, k);
  if (s.args.contains("picture")) body["profile_picture_url"] = arg(s, "picture");
  return c.as_user(arg(s, "account"), "PATCH", "/api/me", bj::serialize(body));
}

answer post(action_context& c, const step& s) {
  auto r = c.as_user(arg(s, "account"), "POST", "/api/posts", json_str("text", arg(s, "text")),
                     arg(s, "gpc") == "true");
  if (r.status == 201 && s.args.contains("label"))
    if (auto o = json::parse_object(r.body)) {
      const auto* v = o->if_contains("id");
      c.posted(arg(s, "label"), v && v->is_int64() ? v->as_int64() : 0);
    }
  return r;
}

answer like(action_context& c, const step& s) {
  const auto id = c.post_id(arg(s, "post"));
  return c.as_user(arg(s, "account"), "POST",
                   "/api/posts/" + std::to_string(id.value_or(0)) + "/like", {},
                   arg(s, "gpc") == "true");
}

answer request(action_context& c, const step& s) {
  const std::string bearer = s.args.contains("as") ? c.session_of(arg(s, "as")) : std::string();
  return c.send(c.world().browser_transport(), arg(s, "method"),
                origin(arg(s, "system")) + c.with_ids(arg(s, "path")), c.with_ids(arg(s, "body")),
                bearer);
}

answer partner(action_context& c, const step& s) {
  const std::string key = partner_key(arg(s, "partner"));
  const std::string q = "?campaign=" + http::percent_encode(arg(s, "campaign"));
  auto& t = c.world().net().endpoint("partner:" + arg(s, "partner"));
  if (arg(s, "asks") == "report")
    return c.send(t, "GET", origin("ads") + "/v1/partners/reports" + q, {}, key);
  if (arg(s, "asks") == "audience")
    return c.send(t, "GET", origin("ads") + "/v1/partners/audiences" + q, {}, key);
  return c.send(t, "POST", origin("ads") + "/v1/partners/purchases",
                bj::serialize(bj::object{{"campaign", arg(s, "campaign")},
                                         {"price_cents", std::stoll(arg(s, "price_cents"))}}),
                key);
}

std::vector<action_def> make_actions() {
  using p = action_checker;
  using c = action_context;
  const std::vector<std::string_view> account{"account"};
  const std::vector<std::string_view> gpc{"gpc"};
  auto set_status = [&](std::string_view key, std::string_view status, std::string_view doc) {
    return action_def{
        key,
        action::set_status,
        doc,
        "account",
        account,
        {},
        {{"status", status}},
        false,
        nullptr,
        [](c& x, const step& s) -> answer { return patch_account(x, s, "status", "status"); }};
  };
  auto sign_in = [&](std::string_view key, std::string_view via, std::string_view doc) {
    return action_def{key,
                      action::sign_up,
                      doc,
                      "account",
                      account,
                      {"browser"},
                      {{"via", via}},
                      false,
                      nullptr,
                      [](c& x, const step& s) -> answer {
                        x.sign_up(s, arg(s, "account"), arg(s, "browser"), arg(s, "via"));
                        return std::nullopt;
                      }};
  };
  return {
      // On the identity provider, through its admin API.
      {"create",
       action::create,
       "creates a provider account named by its username",
       "username",
       {"username"},
       {"name", "bio", "type"},
       {},
       false,
       check_create,
       create},
      {"rename",
       action::rename,
       "renames the account on the provider",
       {},
       {"account", "to"},
       {},
       {},
       false,
       nullptr,
       [](c& x, const step& s) -> answer { return patch_account(x, s, "username", "to"); }},
      {"set_name",
       action::set_name,
       "changes the account's display name",
       {},
       {"account", "name"},
       {},
       {},
       false,
       nullptr,
       [](c& x, const step& s) -> answer { return patch_account(x, s, "name", "name"); }},
      {"set_bio",
       action::set_bio,
       "changes the account's biography",
       {},
       {"account", "bio"},
       {},
       {},
       false,
       nullptr,
       [](c& x, const step& s) -> answer { return patch_account(x, s, "biography", "bio"); }},
      {"set_picture",
       action::set_picture,
       "uploads a new picture for the account",
       {},
       {"account", "content"},
       {"content_type"},
       {},
       false,
       nullptr,
       set_picture},
      set_status("suspend", "suspended", "suspends the account on the provider"),
      set_status("restrict", "restricted", "restricts the account on the provider"),
      set_status("ban", "banned", "bans the account on the provider"),
      set_status("reinstate", "active", "makes the account active again"),
      {"delete_account",
       action::delete_account,
       "deletes the account on the provider",
       "account",
       account,
       {},
       {},
       false,
       nullptr,
       [](c& x, const step& s) -> answer {
         return x.admin("idp", "DELETE", idp_path(x, arg(s, "account")));
       }},
      {"follow",
       action::follow,
       "the account follows another on the provider",
       {},
       {"account", "target"},
       {},
       {},
       false,
       nullptr,
       [](c& x, const step& s) -> answer {
         return x.admin("idp", "POST", idp_path(x, arg(s, "account")) + "/follows",
                        json_str("target_id", std::to_string(x.id_of(arg(s, "target")))));
       }},
      {"unfollow",
       action::unfollow,
       "the account stops following another on the provider",
       {},
       {"account", "target"},
       {},
       {},
       false,
       nullptr,
       [](c& x, const step& s) -> answer {
         return x.admin("idp", "DELETE",
                        idp_path(x, arg(s, "account")) + "/follows/" +
                            std::to_string(x.id_of(arg(s, "target"))));
       }},
      // On the dependent service, as its user.
      sign_in("sign_up", "/signup", "signs up through the provider's pages and Link Account"),
      sign_in("log_in", "/login", "logs in through the provider's pages"),
      {"edit",
       action::edit,
       "edits the profile on the service",
       {},
       account,
       {"username", "name", "bio", "picture"},
       {},
       false,
       nullptr,
       edit},
      {"post",
       action::post,
       "posts on the service; a label names the post for later steps",
       {},
       {"account", "text"},
       {"label", "gpc"},
       {},
       false,
       [](p& x, const argument_nodes&, step& s) {
         if (s.args.contains("label")) x.posts().insert(s.args["label"]);
       },
       post},
      {"like",
       action::like,
       "likes a labelled post",
       {},
       {"account", "post"},
       gpc,
       {},
       false,
       [](p& x, const argument_nodes& at, step& s) {
         if (!x.posts().contains(s.args["post"]))
           x.fail(at["post"], "no earlier post has label '" + s.args["post"] + "'");
       },
       like},
      {"follow_on_threads",
       action::follow_on_threads,
       "follows another profile on the service",
       {},
       {"account", "target"},
       gpc,
       {},
       false,
       nullptr,
       [](c& x, const step& s) -> answer {
         return x.as_user(arg(s, "account"), "POST", "/api/follows",
                          json_str("username", x.current_username(arg(s, "target"))),
                          arg(s, "gpc") == "true");
       }},
      {"feed",
       action::feed,
       "reads the feed, with its sponsored post",
       "account",
       account,
       gpc,
       {},
       false,
       nullptr,
       [](c& x, const step& s) -> answer {
         return x.as_user(arg(s, "account"), "GET", "/api/feed", {}, arg(s, "gpc") == "true");
       }},
      {"ask_assistant",
       action::ask_assistant,
       "asks the support assistant",
       {},
       {"account", "message"},
       {},
       {},
       false,
       nullptr,
       [](c& x, const step& s) -> answer {
         return x.as_user(arg(s, "account"), "POST", "/api/assistant",
                          json_str("message", arg(s, "message")));
       }},
      // Cross-product: the company's ad settings and its ad platform.
      {"ad_settings",
       action::ad_settings,
       "sets the account's company-wide ad settings",
       {},
       {"account", "personalized_ads"},
       {},
       {},
       false,
       [](p& x, const argument_nodes& at, step& s) {
         s.args["personalized_ads"] = x.boolean(at["personalized_ads"]) ? "true" : "false";
       },
       [](c& x, const step& s) -> answer {
         return x.admin(
             "idp", "PUT", idp_path(x, arg(s, "account")) + "/ad-settings",
             bj::serialize(bj::object{{"personalized_ads", arg(s, "personalized_ads") == "true"}}));
       }},
      {"instagram_ad",
       action::instagram_ad,
       "the provider's own feed asks for a sponsored post",
       "account",
       account,
       {},
       {},
       false,
       nullptr,
       [](c& x, const step& s) -> answer {
         return x.send(x.world().net().endpoint("idp"), "GET",
                       origin("ads") + "/v1/sponsored?surface=instagram&subject=" +
                           std::to_string(x.id_of(arg(s, "account"))),
                       {}, sim::world::idp_at_ads_token);
       }},
      {"partner",
       action::partner,
       "a partner asks for a report, an audience or a purchase",
       {},
       {"partner", "asks", "campaign"},
       {"price_cents"},
       {},
       false,
       check_partner,
       partner},
      {"unfollow_on_threads",
       action::unfollow_on_threads,
       "stops following a profile",
       {},
       {"account", "target"},
       {},
       {},
       false,
       nullptr,
       [](c& x, const step& s) -> answer {
         return x.as_user(arg(s, "account"), "DELETE",
                          "/api/follows/" + x.current_username(arg(s, "target")));
       }},
      {"delete_profile",
       action::delete_profile,
       "deletes the profile: the only way to unlink",
       "account",
       account,
       {},
       {},
       false,
       nullptr,
       [](c& x, const step& s) -> answer {
         return x.as_user(arg(s, "account"), "DELETE", "/api/me");
       }},
      {"request",
       action::request,
       "any HTTP request to a service, as a browser",
       {},
       {"system", "path"},
       {"method", "as", "body"},
       {},
       false,
       check_request,
       request},
      // On the world.
      {"advance",
       action::advance,
       "lets simulated time pass",
       "by",
       {"by"},
       {},
       {},
       true,
       [](p& x, const argument_nodes& at, step& s) { s.duration = x.duration(at["by"]); },
       [](c& x, const step& s) -> answer {
         x.world().run_for(s.duration);
         return std::nullopt;
       }},
      {"restart",
       action::restart,
       "restarts the dependent service from its files",
       "system",
       {"system"},
       {},
       {},
       true,
       [](p& x, const argument_nodes& at, step& s) {
         if (s.args["system"] != "threads")
           x.fail(at["system"], "only the dependent service restarts: 'restart: threads'");
       },
       [](c& x, const step&) -> answer {
         x.world().restart_threads();
         return std::nullopt;
       }},
      {"outage",
       action::outage,
       "makes a system unreachable for a while",
       {},
       {"system", "for"},
       {},
       {},
       true,
       [](p& x, const argument_nodes& at, step& s) {
         (void)x.system(at["system"]);
         s.duration = x.duration(at["for"]);
       },
       [](c& x, const step& s) -> answer {
         auto& w = x.world();
         w.net().add_outage({arg(s, "system"), w.sched().now(), w.sched().now() + s.duration});
         return std::nullopt;
       }},
      {"crash",
       action::crash,
       "the dependent service dies during its next import",
       {},
       {"system", "during"},
       {},
       {},
       true,
       [](p& x, const argument_nodes& at, step& s) {
         if (s.args["system"] != "threads" || s.args["during"] != "import")
           x.fail(at.value,
                  "the crash the simulation knows: 'crash: {system: threads, during: import}'");
       },
       [](c& x, const step&) -> answer {
         x.world().crash_threads_during_next_import();
         return std::nullopt;
       }},
  };
}

}  // namespace

std::string origin(const std::string& system) {
  if (system == "ads") return sim::world::ads_origin;
  return system == "idp" ? sim::world::idp_origin : sim::world::threads_origin;
}

std::string idp_path(const action_context& c, const std::string& account) {
  return "/admin/accounts/" + std::to_string(c.id_of(account));
}

const std::vector<action_def>& actions() {
  static const std::vector<action_def> all = make_actions();
  return all;
}

const action_def* find_action(std::string_view key) {
  for (const auto& a : actions())
    if (a.key == key) return &a;
  return nullptr;
}

const action_def& definition_of(action kind) {
  for (const auto& a : actions())
    if (a.kind == kind) return a;
  throw std::logic_error("no action of kind " + std::string(to_string(kind)));
}

}  // namespace linksim::harness::detail
