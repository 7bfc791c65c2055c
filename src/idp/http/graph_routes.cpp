// The provider's profile API (Meta's /me with its fields), its pictures, and the company's
// internal API through which other products read an account's ad settings.
#include "common.hpp"

#include <algorithm>

namespace linksim::idp::web {
namespace {

class graph_routes {
 public:
  graph_routes(service& s, route_options o) : s_(s), o_(std::move(o)) {}

  // --- Profile API ---

  response me(const request& req) {
    auto q = http::parse_form(req.query());
    if (!q) return graph_error(s_, q.error());
    std::string token;
    if (const auto auth = req.headers.get("Authorization"); auth.starts_with("Bearer "))
      token = std::string(auth.substr(7));
    else
      token = param(*q, "access_token");
    auto g = s_.check_access_token(token);
    if (!g) return graph_error(s_, g.error());
    std::optional<account> a = g->subject;
    bool counts_read = false;

    auto fields = split_list(param(*q, "fields"), ",");
    if (fields.empty()) fields = {"id", "username"};
    const bool may_followers =
        std::find(g->scopes.begin(), g->scopes.end(), detail::scope_followers) != g->scopes.end();
    json::scratch memory;
    bj::object body(memory.storage());
    std::vector<std::string> categories;
    // A field without a value shares nothing: an account without a name gives no name.
    auto add_category = [&](std::string c, bool has_value = true) {
      if (!has_value) return;
      if (std::find(categories.begin(), categories.end(), c) == categories.end())
        categories.push_back(std::move(c));
    };
    for (const auto& f : fields) {
      if (f == "id") {
        body["id"] = std::to_string(a->id);
        add_category("user.unique_id");
      } else if (f == "username") {
        body["username"] = a->username;
        add_category("user.account.username");
      } else if (f == "name") {
        body["name"] = a->display_name;
        add_category("user.name", !a->display_name.empty());
      } else if (f == "biography") {
        body["biography"] = a->bio;
        add_category("user.content.public", !a->bio.empty());
      } else if (f == "profile_picture_url" || f == "profile_picture_sha256") {
        body[f] = f == "profile_picture_url" ? a->picture_url : a->picture_sha256;
        add_category("user.content.self_image",
                     !a->picture_url.empty() || !a->picture_sha256.empty());
      } else if (f == "account_type") {
        body["account_type"] = to_string(a->type);
        add_category("user.account");
      } else if (f == "account_status") {
        body["account_status"] = to_string(a->status);
        add_category("user.account");
      } else if (f == "version") {
        body["version"] = a->version;
      } else if (f == "followers_count" || f == "follows_count" || f == "followers") {
        if (!may_followers) return graph_error(s_, make_error_code(error::insufficient_scope));
        if (f != "followers" && !counts_read) {
          // The counts are not read with the token: read them once, now.
          if (auto full = s_.get_account(a->id)) a = *full;
          counts_read = true;
        }
        if (f == "followers_count") {
          body[f] = a->followers_count;
          add_category("user.social.followers", a->followers_count > 0);
        } else if (f == "follows_count") {
          body[f] = a->follows_count;
          add_category("user.social.followers", a->follows_count > 0);
        } else {
          bj::array ids;
          for (auto id : s_.followers_of(a->id)) ids.emplace_back(std::to_string(id));
          add_category("user.social.followers", !ids.empty());
          body["followers"] = bj::object{{"data", std::move(ids)}};
        }
      } else {
        return graph_error(s_, make_error_code(errc::bad_field));
      }
    }
    response r = json::response(200, body);
    s_.record_flow(g->client_system, a->id, categories, "essential.service", "graph.me", r.body,
                   "fields=" + join(fields, ","));
    return r;
  }

  response picture(std::string_view sha) {
    auto p = s_.get_picture(sha);
    if (!p) return admin_error(p.error());
    response r;
    r.headers.set("Content-Type", p->content_type);
    r.headers.set("Cache-Control", "public, max-age=31536000, immutable");
    r.body = std::move(p->bytes);
    return r;
  }

  // --- The company's internal API ---

  // Another product of the company reads the account's ad settings before using its data for
  // advertising: a flow of user.account.settings to that system.
  // The system an internal token names; null for none or a wrong one.
  const std::string* internal_system(const request& req) const {
    const auto auth = req.headers.get("Authorization");
    if (!auth.starts_with("Bearer ")) return nullptr;
    for (const auto& [name, token] : o_.internal_tokens)
      if (!token.empty() && constant_time_equal(auth.substr(7), token)) return &name;
    return nullptr;
  }

  response internal_ad_settings(const request& req, std::string_view id_text) {
    const std::string* system = internal_system(req);
    if (!system) return admin_error(make_error_code(errc::admin_unauthorized));
    const auto id = parse_id(id_text);
    if (!id) return admin_error(make_error_code(errc::not_found), "account ids are numbers");
    auto a = s_.get_ad_settings(*id);
    if (!a) return admin_error(a.error());
    auto r = json::response(200, ad_settings_json(*a));
    s_.record_flow(*system, *id, {"user.account.settings"}, "essential.service", "settings.read",
                   r.body, a->personalized_ads ? "personalized_ads on" : "personalized_ads off");
    return r;
  }

  // Another product of the company writes a name or a biography to the account, as a
  // cross-product profile sync does: {"name": "...", "biography": "..."}. The change reaches
  // the account's linked clients as any change does. The request is the sender's to declare.
  response internal_profile(const request& req, std::string_view id_text) {
    const std::string* system = internal_system(req);
    if (!system) return admin_error(make_error_code(errc::admin_unauthorized));
    const auto id = parse_id(id_text);
    if (!id) return admin_error(make_error_code(errc::not_found), "account ids are numbers");
    auto body = json::parse_object(req.body);
    if (!body) return admin_error(body.error());
    if (auto unknown = json::unknown_field(*body, {"name", "biography"}))
      return admin_error(make_error_code(errc::bad_field), *unknown);
    profile_change c;
    for (auto [key, out] : {std::pair{"name", &c.display_name}, {"biography", &c.bio}}) {
      auto v = json::get_string(*body, key);
      if (!v) return admin_error(v.error(), std::string(key) + " must be a string");
      if (*v) *out = **v;
    }
    if (!c.display_name && !c.bio)
      return admin_error(make_error_code(errc::missing_field), "name or biography");
    if (auto problem = profile_text_problem(c.display_name ? &*c.display_name : nullptr,
                                            c.bio ? &*c.bio : nullptr))
      return admin_error(make_error_code(errc::bad_field), *problem);
    auto a = s_.update_profile(*id, c);
    if (!a) return admin_error(a.error());
    auto r = json::response(
        200, bj::object{
                 {"id", std::to_string(a->id)}, {"name", a->display_name}, {"biography", a->bio}});
    // The answer hands the profile as it now stands back to the sender.
    s_.record_flow(*system, *id, {"user.name", "user.content.public"}, "essential.service",
                   "profile.sync", r.body);
    return r;
  }

 private:
  service& s_;
  route_options o_;
};

}  // namespace

void add_graph_routes(http::router& r, service& s, const route_options& o) {
  auto self = std::make_shared<graph_routes>(s, o);
  r.on("GET", "/me", [self](const request& req, const route_match&) { return self->me(req); });
  r.on("GET", "/pictures/{sha}",
       [self](const request&, const route_match& m) { return self->picture(m["sha"]); });
  r.on("GET", "/internal/accounts/{id}/ad-settings",
       [self](const request& req, const route_match& m) {
         return self->internal_ad_settings(req, m["id"]);
       });
  r.on("PATCH", "/internal/accounts/{id}/profile",
       [self](const request& req, const route_match& m) {
         return self->internal_profile(req, m["id"]);
       });
}

}  // namespace linksim::idp::web
