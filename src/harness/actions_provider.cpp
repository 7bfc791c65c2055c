// The scenario actions on the identity provider, as the account's owner on its admin API, and on
// the company's ad settings and ad platform (see actions.hpp).
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

// An account change on the provider's admin API: PATCH with one field.
answer patch_account(action_context& c, const step& s, const char* field, const char* from) {
  return c.admin("idp", "PATCH", idp_path(c, arg(s, "account")), json_str(field, arg(s, from)));
}

void check_create(action_checker& p, const argument_nodes& at, step& s) {
  const std::string& u = s.args["username"];
  if (p.created().contains(u)) p.fail(at["username"], "account '" + u + "' is created twice");
  p.created().insert(u);
  if (s.args.contains("type") && s.args["type"] != "personal" && s.args["type"] != "business")
    p.fail(at["type"], "type is personal or business");
}

void check_partner(action_checker& p, const argument_nodes& at, step& s) {
  const std::string& k = s.args["asks"];
  if (k != "report" && k != "audience" && k != "purchase")
    p.fail(at["asks"], "a partner asks for a report, an audience or a purchase");
  if (s.args.contains("price_cents")) (void)p.integer(at["price_cents"], 1, 1'000'000'000);
  if ((k == "purchase") != s.args.contains("price_cents"))
    p.fail(at.value, "price_cents goes with a purchase, and only with it");
}

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

}  // namespace

std::vector<action_def> provider_actions() {
  using c = action_context;
  const std::vector<std::string_view> account{"account"};
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
      {"remove_app",
       action::remove_app,
       "removes the dependent service from the account's apps on the provider: its grants are "
       "revoked and the deauthorize callback follows",
       "account",
       account,
       {},
       {},
       false,
       nullptr,
       [](c& x, const step& s) -> answer {
         return x.admin("idp", "POST", idp_path(x, arg(s, "account")) + "/deauthorize",
                        json_str("client_id", x.world().client_id()));
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
  };
}

std::vector<action_def> ad_actions() {
  using p = action_checker;
  using c = action_context;
  const std::vector<std::string_view> account{"account"};
  return {
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
         // The provider's feed is the scenario's: it asks in the provider's name.
         return x.send(x.world().net().scripted_endpoint("idp"), "GET",
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
  };
}

}  // namespace linksim::harness::detail
