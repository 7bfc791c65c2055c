// The provider's admin API: accounts (the account owner's own actions, which the scenarios and
// the simulation take through it), clients and their webhook subscriptions, and the webhook
// outbox's deliveries. Every route needs "Authorization: Bearer <admin token>".
#include "common.hpp"

#include <algorithm>

namespace linksim::idp::web {
namespace {

const std::string password_bounds = "password holds " + std::to_string(min_password_bytes) +
                                    " to " + std::to_string(max_password_bytes) + " bytes";

class admin_routes {
 public:
  explicit admin_routes(service& s) : s_(s) {}

  response ad_settings(std::int64_t id) {
    auto a = s_.get_ad_settings(id);
    return a ? json::response(200, ad_settings_json(*a)) : admin_error(a.error());
  }

  response put_ad_settings(const request& req, std::int64_t id) {
    auto body = json::parse_object(req.body);
    if (!body) return admin_error(body.error());
    if (auto unknown = json::unknown_field(*body, {"personalized_ads"}))
      return admin_error(make_error_code(errc::bad_field), *unknown);
    const auto* v = body->if_contains("personalized_ads");
    if (!v || !v->is_bool())
      return admin_error(make_error_code(errc::bad_field), "personalized_ads is true or false");
    auto a = s_.set_ad_settings(id, v->as_bool());
    return a ? json::response(200, ad_settings_json(*a)) : admin_error(a.error());
  }

  response unfollow(std::int64_t id, std::string_view target) {
    auto r = s_.unfollow(id, parse_id(target).value_or(0));
    if (!r) return admin_error(r.error());
    return json::response(200, bj::object{{"following", false}});
  }

  response followers(std::int64_t id) {
    bj::array ids;
    for (auto f : s_.followers_of(id)) ids.emplace_back(std::to_string(f));
    return json::response(200, bj::object{{"followers", std::move(ids)}});
  }

  response deauthorize(const request& req, std::int64_t id) {
    auto body = json::parse_object(req.body);
    if (!body) return admin_error(body.error());
    if (auto unknown = json::unknown_field(*body, {"client_id"}))
      return admin_error(make_error_code(errc::bad_field), *unknown);
    auto cid = json::get_string(*body, "client_id");
    if (!cid) return admin_error(cid.error(), "client_id must be a string");
    if (!*cid || (*cid)->empty())
      return admin_error(make_error_code(errc::missing_field), "client_id");
    auto r = s_.deauthorize(id, **cid);
    if (!r) return admin_error(r.error(), "no active grant of this client for this account");
    return json::response(200, bj::object{{"deauthorized", true}});
  }

  response get_client(std::string_view id) {
    auto c = s_.get_client(id);
    if (!c) return admin_error(make_error_code(errc::not_found));
    return json::response(200, client_json(*c));
  }

  response deliveries(const request& req) {
    auto q = http::parse_form(req.query());
    std::optional<delivery_state> state;
    if (q && http::find_param(*q, "state")) {
      state = parse_delivery_state(param(*q, "state"));
      if (!state)
        return admin_error(make_error_code(errc::bad_field),
                           "state is pending, delivered, dead or disabled");
    }
    bj::array out;
    for (const auto& d : s_.deliveries(state)) out.push_back(delivery_json(d));
    return json::response(200, bj::object{{"deliveries", std::move(out)}});
  }

  response replay(std::string_view id) {
    auto d = s_.replay(parse_id(id).value_or(0));
    if (!d) return admin_error(d.error());
    return json::response(200, delivery_json(*d));
  }

  response dispatch() {
    const auto n = s_.dispatch_due();
    return json::response(200, bj::object{{"attempted", n}});
  }

  response with_account(const result<account>& a, int status) {
    if (!a) return admin_error(a.error());
    return json::response(status, account_json(*a));
  }

  response lookup_account(const request& req) {
    auto q = http::parse_form(req.query());
    if (!q || !http::find_param(*q, "username"))
      return admin_error(make_error_code(errc::missing_field), "username");
    return with_account(s_.find_account(param(*q, "username")), 200);
  }

  response create_account(const request& req) {
    auto body = json::parse_object(req.body);
    if (!body) return admin_error(body.error());
    if (auto unknown = json::unknown_field(
            *body, {"username", "password", "name", "biography", "account_type"}))
      return admin_error(make_error_code(errc::bad_field), *unknown);
    new_account n;
    for (auto [key, out] : {std::pair{"username", &n.username},
                            {"password", &n.password},
                            {"name", &n.display_name},
                            {"biography", &n.bio}}) {
      auto v = json::get_string(*body, key);
      if (!v) return admin_error(v.error(), std::string(key) + " must be a string");
      if (*v) *out = **v;
    }
    if (n.username.empty()) return admin_error(make_error_code(errc::missing_field), "username");
    // Accounts the simulation makes may have shorter passwords; one made here holds the
    // bounds a new password does.
    if (!password_within_bounds(n.password))
      return admin_error(make_error_code(errc::bad_field), password_bounds);
    const auto t = json::get_string(*body, "account_type");
    if (!t) return admin_error(t.error(), "account_type");
    if (*t) {
      auto type = parse_type(**t);
      if (!type)
        return admin_error(make_error_code(errc::bad_field),
                           "account_type is personal or business");
      n.type = *type;
    }
    // The accounts hold the rule on a name's and a bio's length; a refusal says which broke it.
    auto made = s_.create_account(n);
    if (!made && is(made.error(), errc::bad_field))
      return admin_error(made.error(),
                         profile_text_problem(&n.display_name, &n.bio).value_or(std::string()));
    return with_account(made, 201);
  }

  response update_account(const request& req, std::int64_t id) {
    auto body = json::parse_object(req.body);
    if (!body) return admin_error(body.error());
    if (auto unknown =
            json::unknown_field(*body, {"username", "name", "biography", "account_type", "status"}))
      return admin_error(make_error_code(errc::bad_field), *unknown);
    profile_change c;
    for (auto [key, out] :
         {std::pair{"username", &c.username}, {"name", &c.display_name}, {"biography", &c.bio}}) {
      auto v = json::get_string(*body, key);
      if (!v) return admin_error(v.error(), std::string(key) + " must be a string");
      *out = *v;
    }
    const auto t = json::get_string(*body, "account_type");
    if (!t) return admin_error(t.error(), "account_type");
    if (*t) {
      c.type = parse_type(**t);
      if (!c.type)
        return admin_error(make_error_code(errc::bad_field),
                           "account_type is personal or business");
    }
    const auto st = json::get_string(*body, "status");
    if (!st) return admin_error(st.error(), "status");
    if (*st) {
      c.status = parse_status(**st);
      if (!c.status || *c.status == account_status::deleted)
        return admin_error(make_error_code(errc::bad_field),
                           "status is active, restricted, suspended or banned (DELETE to delete)");
    }
    auto updated = s_.update_profile(id, c);
    if (!updated && is(updated.error(), errc::bad_field))
      return admin_error(updated.error(),
                         profile_text_problem(c.display_name ? &*c.display_name : nullptr,
                                              c.bio ? &*c.bio : nullptr)
                             .value_or(std::string()));
    return with_account(updated, 200);
  }

  // {"password": "..."}: 204.
  response change_password(const request& req, std::int64_t id) {
    auto body = json::parse_object(req.body);
    if (!body) return admin_error(body.error());
    if (auto unknown = json::unknown_field(*body, {"password"}))
      return admin_error(make_error_code(errc::bad_field), *unknown);
    auto p = json::get_string(*body, "password");
    if (!p) return admin_error(p.error(), "password must be a string");
    if (!*p) return admin_error(make_error_code(errc::missing_field), "password");
    // The provider's rule on a password's length is the one its accounts apply.
    if (auto done = s_.change_password(id, **p); !done)
      return admin_error(done.error(), is(done.error(), errc::bad_field) ? password_bounds : "");
    return response{204, {}, {}};
  }

  response follow(const request& req, std::int64_t id) {
    auto body = json::parse_object(req.body);
    if (!body) return admin_error(body.error());
    if (auto unknown = json::unknown_field(*body, {"target_id"}))
      return admin_error(make_error_code(errc::bad_field), *unknown);
    auto target = json::get_int(*body, "target_id");
    if (!target || !*target) return admin_error(make_error_code(errc::missing_field), "target_id");
    auto r = s_.follow(id, **target);
    if (!r) return admin_error(r.error());
    return json::response(200, bj::object{{"following", true}});
  }

  response register_client(const request& req) {
    auto body = json::parse_object(req.body);
    if (!body) return admin_error(body.error());
    if (auto unknown =
            json::unknown_field(*body, {"name", "system", "redirect_uris", "deauthorize_url",
                                        "data_deletion_url", "token_endpoint_auth_method",
                                        "allowed_origins", "id_token_signed_response_alg"}))
      return admin_error(make_error_code(errc::bad_field), *unknown);
    client_registration r;
    for (auto [key, out] : {std::pair{"name", &r.name},
                            {"system", &r.system},
                            {"deauthorize_url", &r.deauthorize_url},
                            {"data_deletion_url", &r.data_deletion_url},
                            {"token_endpoint_auth_method", &r.token_endpoint_auth_method},
                            {"id_token_signed_response_alg", &r.id_token_signed_response_alg}}) {
      auto v = json::get_string(*body, key);
      if (!v) return admin_error(v.error(), std::string(key) + " must be a string");
      if (*v) *out = **v;
    }
    if (const auto* origins = body->if_contains("allowed_origins")) {
      if (!origins->is_array())
        return admin_error(make_error_code(errc::bad_field), "allowed_origins: an array");
      for (const auto& o : origins->as_array()) {
        if (!o.is_string())
          return admin_error(make_error_code(errc::bad_field), "allowed_origins: strings");
        r.allowed_origins.emplace_back(o.as_string());
      }
    }
    const auto* uris = body->if_contains("redirect_uris");
    if (!uris || !uris->is_array() || uris->as_array().empty())
      return admin_error(make_error_code(errc::missing_field), "redirect_uris: a non-empty array");
    for (const auto& u : uris->as_array()) {
      if (!u.is_string()) return admin_error(make_error_code(errc::bad_field), "redirect_uris");
      r.redirect_uris.emplace_back(u.as_string());
    }
    auto c = s_.register_client(r);
    if (!c) return admin_error(c.error());
    return json::response(201, client_json(*c));
  }

  response subscribe(const request& req, std::string_view client_id) {
    auto body = json::parse_object(req.body);
    if (!body) return admin_error(body.error());
    if (auto unknown = json::unknown_field(*body, {"callback_url", "verify_token", "fields"}))
      return admin_error(make_error_code(errc::bad_field), *unknown);
    auto url = json::get_string(*body, "callback_url");
    auto token = json::get_string(*body, "verify_token");
    if (!url || !*url) return admin_error(make_error_code(errc::missing_field), "callback_url");
    if (!token || !*token) return admin_error(make_error_code(errc::missing_field), "verify_token");
    std::vector<std::string> fields;
    if (const auto* f = body->if_contains("fields")) {
      if (!f->is_array()) return admin_error(make_error_code(errc::bad_field), "fields: an array");
      for (const auto& v : f->as_array()) {
        if (!v.is_string()) return admin_error(make_error_code(errc::bad_field), "fields");
        fields.emplace_back(v.as_string());
      }
    }
    auto s = s_.subscribe(client_id, **url, **token, fields);
    if (!s) return admin_error(s.error());
    return json::response(201, subscription_json(*s));
  }

  // The client's subscription as it stands: `active` is false once a receiver's 410 disabled
  // it, until the operator replays a held delivery. The verify token is the client's secret.
  response get_subscription(std::string_view client_id) {
    auto s = s_.get_subscription(client_id);
    if (!s) return admin_error(s.error());
    return json::response(200, subscription_json(*s));
  }

  static bj::object subscription_json(const subscription& s) {
    bj::array fs;
    for (const auto& f : s.fields) fs.emplace_back(f);
    return {{"client_id", s.client_id},
            {"callback_url", s.callback_url},
            {"fields", std::move(fs)},
            {"active", s.active}};
  }

  service& s_;  // the lambdas of add_admin_routes call the service directly too
};

}  // namespace

void add_admin_routes(http::router& r, service& s, const route_options& o) {
  auto self = std::make_shared<admin_routes>(s);
  // The refusal carries the Bearer challenge of its error (RFC 6750 section 3).
  r.guard_prefix(
      "/admin",
      http::bearer_guard(o.admin_token, admin_error(make_error_code(errc::admin_unauthorized))));
  // An account's routes: the id is a number, or the answer is 404.
  auto account = [&](std::string_view method, std::string_view pattern, auto f) {
    r.on(method, pattern, [self, f](const request& req, const route_match& m) {
      const auto id = parse_id(m["id"]);
      if (!id) return admin_error(make_error_code(errc::not_found), "account ids are numbers");
      return f(*self, req, m, *id);
    });
  };
  auto plain = [&](std::string_view method, std::string_view pattern, auto f) {
    r.on(method, pattern,
         [self, f](const request& req, const route_match& m) { return f(*self, req, m); });
  };
  using a = admin_routes;
  plain("POST", "/admin/accounts", [](a& x, auto& req, auto&) { return x.create_account(req); });
  plain("GET", "/admin/accounts", [](a& x, auto& req, auto&) { return x.lookup_account(req); });
  account("GET", "/admin/accounts/{id}", [](a& x, auto&, auto&, std::int64_t id) {
    return x.with_account(x.s_.get_account(id), 200);
  });
  account("PATCH", "/admin/accounts/{id}",
          [](a& x, auto& req, auto&, std::int64_t id) { return x.update_account(req, id); });
  account("DELETE", "/admin/accounts/{id}", [](a& x, auto&, auto&, std::int64_t id) {
    return x.with_account(x.s_.delete_account(id), 200);
  });
  account("PUT", "/admin/accounts/{id}/password",
          [](a& x, auto& req, auto&, std::int64_t id) { return x.change_password(req, id); });
  account("PUT", "/admin/accounts/{id}/picture", [](a& x, auto& req, auto&, std::int64_t id) {
    return x.with_account(
        x.s_.set_picture(id, {std::string(req.headers.get("Content-Type")), req.body}), 200);
  });
  account("GET", "/admin/accounts/{id}/ad-settings",
          [](a& x, auto&, auto&, std::int64_t id) { return x.ad_settings(id); });
  account("PUT", "/admin/accounts/{id}/ad-settings",
          [](a& x, auto& req, auto&, std::int64_t id) { return x.put_ad_settings(req, id); });
  account("POST", "/admin/accounts/{id}/follows",
          [](a& x, auto& req, auto&, std::int64_t id) { return x.follow(req, id); });
  account("DELETE", "/admin/accounts/{id}/follows/{target}",
          [](a& x, auto&, auto& m, std::int64_t id) { return x.unfollow(id, m["target"]); });
  account("GET", "/admin/accounts/{id}/followers",
          [](a& x, auto&, auto&, std::int64_t id) { return x.followers(id); });
  account("GET", "/admin/accounts/{id}/apps", [](a& x, auto&, auto&, std::int64_t id) {
    auto apps = x.s_.apps_of(id);
    if (!apps) return admin_error(apps.error());
    bj::array data;
    for (const auto& [client, scope] : *apps)
      data.push_back(bj::object{{"client_id", client}, {"scope", scope}});
    return json::response(200, bj::object{{"data", std::move(data)}});
  });
  account("POST", "/admin/accounts/{id}/deauthorize",
          [](a& x, auto& req, auto&, std::int64_t id) { return x.deauthorize(req, id); });
  plain("POST", "/admin/clients", [](a& x, auto& req, auto&) { return x.register_client(req); });
  plain("POST", "/admin/keys/rotate", [](a& x, auto&, auto&) {
    return json::response(200, bj::object{{"kid", x.s_.rotate_signing_key()}});
  });
  plain("GET", "/admin/clients/{client}",
        [](a& x, auto&, auto& m) { return x.get_client(m["client"]); });
  plain("POST", "/admin/clients/{client}/subscriptions",
        [](a& x, auto& req, auto& m) { return x.subscribe(req, m["client"]); });
  plain("GET", "/admin/clients/{client}/subscriptions",
        [](a& x, auto&, auto& m) { return x.get_subscription(m["client"]); });
  plain("GET", "/admin/deliveries", [](a& x, auto& req, auto&) { return x.deliveries(req); });
  plain("POST", "/admin/deliveries/{id}/replay",
        [](a& x, auto&, auto& m) { return x.replay(m["id"]); });
  plain("POST", "/admin/webhooks/dispatch", [](a& x, auto&, auto&) { return x.dispatch(); });
}

}  // namespace linksim::idp::web
