// The provider's OAuth endpoints: the browser's sign-in and consent pages (with their CSRF
// double-submit cookie), the token endpoint in RFC 6749's and Meta's dialects, revocation,
// introspection and the server metadata.
#include "common.hpp"

#include <algorithm>

namespace linksim::idp::web {
namespace {

class oauth_routes {
 public:
  explicit oauth_routes(service& s) : s_(s) {}

  // --- Browser pages ---

  // The CSRF token of this browser (double-submit cookie), creating one if absent.
  std::string csrf_token(const request& req) {
    std::string t = req.cookie("idp_csrf");
    return t.size() < 20 ? s_.random().token(24) : t;
  }

  // A page carrying `csrf` in its form; sets the cookie when the browser does not have it yet.
  response csrf_page(const request& req, const std::string& csrf, std::string body) {
    return with_csrf_cookie(req, csrf, html(200, std::move(body)));
  }
  response with_csrf_cookie(const request& req, const std::string& csrf, response page) {
    if (req.cookie("idp_csrf") != csrf)
      page.headers.add("Set-Cookie",
                       "idp_csrf=" + csrf + "; Path=/oauth; HttpOnly; SameSite=Strict");
    return page;
  }

  bool csrf_ok(const request& req, const http::params& form) {
    const std::string cookie = req.cookie("idp_csrf");
    return !cookie.empty() && constant_time_equal(cookie, param(form, "csrf"));
  }

  response authorize(const request& req) {
    auto q = http::parse_form(req.query());
    if (!q) return html(400, pages::error("Bad request", q.error().message()));
    authorize_request a{param(*q, "client_id"),
                        param(*q, "redirect_uri"),
                        param(*q, "response_type"),
                        param(*q, "scope"),
                        param(*q, "state"),
                        param(*q, "code_challenge"),
                        param(*q, "code_challenge_method"),
                        param(*q, "nonce"),
                        param(*q, "prompt"),
                        param(*q, "max_age")};
    auto p = s_.begin_authorization(a);
    if (!p) {
      // RFC 6749 §4.1.2.1: with an unknown client or redirect URI, never redirect.
      if (is(p.error(), error::unknown_client) || is(p.error(), error::redirect_uri_unregistered))
        return html(400, pages::error("This link cannot be used", p.error().message()));
      return redirect(302, s_.error_redirect(a, p.error()));
    }
    const auto next = s_.next_after_authorization(*p, req.cookie("idp_session"));
    using page = authorization_next::page;
    if (next.to == page::client) return redirect(302, next.redirect);
    return redirect(302, std::string(next.to == page::consent ? "/oauth/consent" : "/oauth/login") +
                             "?request=" + http::percent_encode(p->id));
  }

  response login_page(const request& req) {
    auto q = http::parse_form(req.query());
    auto p = s_.get_authorization(q ? param(*q, "request") : "");
    if (!p) return html(400, pages::error("Sign-in expired", p.error().message()));
    const std::string csrf = csrf_token(req);
    return csrf_page(req, csrf, pages::login(*p, csrf, "", ""));
  }

  response login_submit(const request& req) {
    auto form = http::parse_form(req.body);
    if (!form || !is_form(req)) return html(400, pages::error("Bad request", "expected a form"));
    auto p = s_.get_authorization(param(*form, "request"));
    if (!p) return html(400, pages::error("Sign-in expired", p.error().message()));
    if (!csrf_ok(req, *form))
      return html(403,
                  pages::error("Please try again", make_error_code(errc::csrf_mismatch).message()));
    const std::string username = param(*form, "username");
    auto a = s_.authenticate_user(username, param(*form, "password"));
    if (!a) {
      const auto info = describe(a.error());
      return with_challenge(html(info.status, pages::login(*p, req.cookie("idp_csrf"),
                                                           a.error().message(), username)),
                            info);
    }
    const std::string session = s_.open_session(a->id, req.cookie("idp_session"));
    response r = redirect(303, "/oauth/consent?request=" + http::percent_encode(p->id) +
                                   "&account=" + std::to_string(a->id));
    r.headers.add("Set-Cookie", "idp_session=" + session + "; Path=/; HttpOnly; SameSite=Lax");
    return r;
  }

  response consent_page(const request& req) {
    auto q = http::parse_form(req.query());
    auto p = s_.get_authorization(q ? param(*q, "request") : "");
    if (!p) return html(400, pages::error("Sign-in expired", p.error().message()));
    const auto accounts = s_.session_accounts(req.cookie("idp_session"));
    if (accounts.empty())
      return redirect(302, "/oauth/login?request=" + http::percent_encode(p->id));
    const auto wanted = parse_id(q ? param(*q, "account") : "");
    std::int64_t selected = wanted.value_or(accounts.back().id);
    const std::string csrf = csrf_token(req);
    return with_csrf_cookie(
        req, csrf,
        consent_html(200, pages::consent(*p, accounts, selected, csrf, ""), p->redirect_uri));
  }

  response consent_submit(const request& req) {
    auto form = http::parse_form(req.body);
    if (!form || !is_form(req)) return html(400, pages::error("Bad request", "expected a form"));
    const std::string request_id = param(*form, "request");
    auto p = s_.get_authorization(request_id);
    if (!p) return html(400, pages::error("Sign-in expired", p.error().message()));
    if (!csrf_ok(req, *form))
      return html(403,
                  pages::error("Please try again", make_error_code(errc::csrf_mismatch).message()));
    if (param(*form, "decision") != "allow") {
      auto to = s_.deny(request_id);
      if (!to) return html(400, pages::error("Sign-in expired", to.error().message()));
      return redirect(302, *to);
    }
    const auto account_id = parse_id(param(*form, "account_id"));
    const std::string session = req.cookie("idp_session");
    auto to = s_.approve(request_id, session, account_id.value_or(0));
    if (!to) {
      return consent_html(describe(to.error()).status,
                          pages::consent(*p, s_.session_accounts(session), account_id.value_or(0),
                                         req.cookie("idp_csrf"), to.error().message()),
                          p->redirect_uri);
    }
    return redirect(302, *to);
  }

  // --- Token endpoints ---

  // Client authentication by HTTP Basic (RFC 6749 §2.3.1) or by form fields; not both.
  result<client> client_auth(const request& req, const http::params& form) {
    const std::string form_id = param(form, "client_id"),
                      form_secret = param(form, "client_secret");
    if (auto basic = basic_credentials(req)) {
      if (!form_secret.empty()) return make_error_code(error::client_auth_conflict);
      if (!*basic) return basic->error();
      const auto& [id, secret] = **basic;
      if (!form_id.empty() && form_id != id) return make_error_code(error::client_id_conflict);
      return s_.authenticate_client(id, secret);
    }
    if (form_id.empty()) return make_error_code(error::invalid_client);
    return s_.authenticate_client(form_id, form_secret);
  }

  result<http::params> token_form(const request& req) {
    if (!is_form(req)) return make_error_code(errc::unsupported_media_type);
    auto form = http::parse_form(req.body);
    if (!form) return form.error();
    // RFC 6749 §3.2: parameters must not be repeated.
    if (any_repeated(*form)) return make_error_code(errc::bad_field);
    return form;
  }

  void record_token(const client& c, const token_response& t, const std::string& body) {
    std::vector<std::string> categories{"user.unique_id", "user.authorization.credentials"};
    for (const auto& more : t.id_token_categories)
      if (std::find(categories.begin(), categories.end(), more) == categories.end())
        categories.push_back(more);
    s_.record_flow(c.system, t.user_id, categories, "essential.service.authentication",
                   "oauth.token", body);
  }

  // The browser origin of a request when the client it names registered it: the answer may be
  // read by that page.
  std::string cors_origin(const request& req, const http::params* form) {
    const std::string origin(req.headers.get("Origin"));
    if (origin.empty()) return {};
    std::string id = form ? param(*form, "client_id") : std::string();
    if (id.empty()) {
      // A Basic client: its id before the colon.
      const auto auth = req.headers.get("Authorization");
      if (auth.starts_with("Basic "))
        if (auto raw = base64_decode(auth.substr(6))) {
          const std::string_view pair = as_chars(*raw);
          if (auto id_form = http::parse_form("x=" + std::string(pair.substr(0, pair.find(':')))))
            if (!id_form->empty()) id = id_form->front().second;
        }
    }
    auto c = s_.get_client(id);
    return c && c->allows_origin(origin) ? origin : std::string();
  }

  response with_cors(const request& req, const http::params* form, response r) {
    const auto origin = cors_origin(req, form);
    return origin.empty() ? r : allow_origin(std::move(r), origin);
  }

  response token_preflight(const request& req) {
    const auto origin = req.headers.get("Origin");
    return preflight(origin, s_.origin_allowed(origin));
  }

  response userinfo_preflight(const request& req) {
    response r = token_preflight(req);
    if (r.status == 204) r.headers.set("Access-Control-Allow-Methods", "GET, POST");
    return r;
  }

  response token(const request& req) {
    auto form = token_form(req);
    auto r = token_answer(req, form);
    return with_cors(req, form ? &*form : nullptr, std::move(r));
  }

  response token_answer(const request& req, const result<http::params>& form) {
    if (!form)
      return oauth_error(is(form.error(), errc::unsupported_media_type)
                             ? make_error_code(errc::bad_form)
                             : form.error());
    auto c = client_auth(req, *form);
    if (!c) return oauth_error(c.error());  // its 401 names HTTP Basic, however the client tried
    const std::string grant = param(*form, "grant_type");
    result<token_response> t = make_error_code(error::unsupported_grant_type);
    if (grant == "authorization_code") {
      t = s_.exchange_code(*c, param(*form, "code"), param(*form, "redirect_uri"),
                           param(*form, "code_verifier"), true);
    } else if (grant == "refresh_token") {
      t = s_.refresh(*c, param(*form, "refresh_token"));
    } else if (grant.empty()) {
      t = make_error_code(errc::missing_field);
    }
    if (!t) return oauth_error(t.error());
    json::scratch memory;
    bj::object body{{{"access_token", t->access_token},
                     {"token_type", "bearer"},
                     {"expires_in", t->expires_in},
                     {"scope", token_scope(*t)},
                     {"user_id", std::to_string(t->user_id)}},
                    memory.storage()};
    if (!t->refresh_token.empty()) body["refresh_token"] = t->refresh_token;
    if (!t->id_token.empty()) body["id_token"] = t->id_token;
    response r = no_store(json::response(200, body));
    record_token(*c, *t, r.body);
    return r;
  }

  response meta_access_token(const request& req) {
    auto form = token_form(req);
    if (!form) return meta_oauth_error(form.error());
    auto c = s_.authenticate_client(param(*form, "client_id"), param(*form, "client_secret"));
    if (!c) return meta_oauth_error(c.error());
    if (param(*form, "grant_type") != "authorization_code")
      return meta_oauth_error(make_error_code(error::unsupported_grant_type));
    auto t = s_.exchange_code(*c, param(*form, "code"), param(*form, "redirect_uri"),
                              param(*form, "code_verifier"), false);
    if (!t) return meta_oauth_error(t.error());
    response r = no_store(json::response(
        200, bj::object{{"access_token", t->access_token}, {"user_id", t->user_id}}));
    record_token(*c, *t, r.body);
    return r;
  }

  response meta_long_lived(const request& req) {
    auto q = http::parse_form(req.query());
    if (!q) return meta_oauth_error(q.error());
    if (param(*q, "grant_type") != "ig_exchange_token")
      return meta_oauth_error(make_error_code(error::unsupported_grant_type));
    auto t = s_.exchange_long_lived(param(*q, "client_secret"), param(*q, "access_token"));
    if (!t) return meta_oauth_error(t.error());
    return no_store(json::response(200, bj::object{{"access_token", t->access_token},
                                                   {"token_type", "bearer"},
                                                   {"expires_in", t->expires_in}}));
  }

  response meta_refresh(const request& req) {
    auto q = http::parse_form(req.query());
    if (!q) return meta_oauth_error(q.error());
    if (param(*q, "grant_type") != "ig_refresh_token")
      return meta_oauth_error(make_error_code(error::unsupported_grant_type));
    auto t = s_.refresh_long_lived(param(*q, "access_token"));
    if (!t) return meta_oauth_error(t.error());
    return no_store(json::response(200, bj::object{{"access_token", t->access_token},
                                                   {"token_type", "bearer"},
                                                   {"expires_in", t->expires_in}}));
  }

  response revoke(const request& req) {
    auto form = token_form(req);
    auto r = revoke_answer(form, req);
    return with_cors(req, form ? &*form : nullptr, std::move(r));
  }

  response revoke_answer(const result<http::params>& form, const request& req) {
    if (!form) return oauth_error(form.error());
    auto c = client_auth(req, *form);
    if (!c) return oauth_error(c.error());
    if (!http::find_param(*form, "token")) return oauth_error(make_error_code(errc::missing_field));
    s_.revoke(*c, param(*form, "token"));
    return no_store(response{});
  }

  response introspect(const request& req) {
    auto form = token_form(req);
    if (!form) return oauth_error(form.error());
    auto c = client_auth(req, *form);
    if (!c) return oauth_error(c.error());
    // RFC 7662 §2.1: the caller must be authenticated; a public client has nothing to do it with.
    if (c->is_public()) return oauth_error(make_error_code(error::invalid_client));
    const auto i = s_.introspect(*c, param(*form, "token"));
    // RFC 7662 §2.2: an inactive token says nothing more.
    if (!i.active) return no_store(json::response(200, bj::object{{"active", false}}));
    response r = no_store(json::response(200, bj::object{{"active", true},
                                                         {"scope", join(i.scopes, " ")},
                                                         {"client_id", i.client_id},
                                                         {"username", i.username},
                                                         {"token_type", i.token_type},
                                                         {"exp", i.expires_at},
                                                         {"iat", i.issued_at},
                                                         {"sub", std::to_string(i.user_id)},
                                                         {"iss", s_.settings().issuer}}));
    s_.record_flow(c->system, i.user_id, {"user.unique_id", "user.account.username"},
                   "essential.service.authentication", "oauth.introspect", r.body);
    return r;
  }

  response metadata() {
    const std::string& iss = s_.settings().issuer;
    // A public document: any page may read it.
    return allow_origin(json::response(200, metadata_fields(iss)), "*");
  }

  // OpenID Connect Discovery 1.0 §3: the RFC 8414 metadata and what OpenID Connect adds.
  response openid_configuration() {
    const std::string& iss = s_.settings().issuer;
    bj::object o = metadata_fields(iss);
    o["userinfo_endpoint"] = iss + "/oauth/userinfo";
    o["jwks_uri"] = iss + "/.well-known/jwks.json";
    o["subject_types_supported"] = bj::array{"public"};
    o["id_token_signing_alg_values_supported"] = bj::array{oidc::rs256, oidc::algorithm};
    o["claims_supported"] = bj::array{"iss",   "sub",     "aud",
                                      "exp",   "iat",     "auth_time",
                                      "nonce", "at_hash", "preferred_username",
                                      "name",  "picture"};
    return allow_origin(json::response(200, o), "*");
  }

  response jwks() {
    response r;
    r.headers.set("Content-Type", "application/json");
    r.body = s_.jwks();
    r.headers.set("Cache-Control", "public, max-age=300");
    return allow_origin(std::move(r), "*");
  }

  // OIDC Core §5.3: the claims about the account, for a token with the openid scope.
  response userinfo(const request& req) {
    const auto auth = req.headers.get("Authorization");
    auto bearer_error = [](const boost::system::error_code& ec) {
      const auto info = describe(ec);
      response r = json::response(
          info.status,
          bj::object{{"error", info.code}, {"error_description", clean(ec.message())}});
      r.headers.set("WWW-Authenticate",
                    "Bearer error=\"" + std::string(info.code) + "\"");  // RFC 6750 §3
      return no_store(std::move(r));
    };
    if (!auth.starts_with("Bearer ")) return bearer_error(make_error_code(error::token_invalid));
    auto g = s_.check_access_token(auth.substr(7));
    if (!g) return bearer_error(g.error());
    const auto has = [&](std::string_view s) {
      return std::find(g->scopes.begin(), g->scopes.end(), s) != g->scopes.end();
    };
    if (!has(oidc::scope_openid)) return bearer_error(make_error_code(error::insufficient_scope));
    const auto& a = g->subject;
    bj::object body{{"sub", std::to_string(a.id)}};
    std::vector<std::string> categories{"user.unique_id"};
    if (has(oidc::scope_profile) || has(detail::scope_profile)) {
      body["preferred_username"] = a.username;
      categories.emplace_back("user.account.username");
      if (!a.display_name.empty()) {
        body["name"] = a.display_name;
        categories.emplace_back("user.name");
      }
      if (!a.picture_url.empty()) {
        body["picture"] = a.picture_url;
        categories.emplace_back("user.content.self_image");
      }
    }
    response r = no_store(json::response(200, body));
    s_.record_flow(g->client_system, a.id, categories, "essential.service", "oidc.userinfo",
                   r.body);
    // The page of an origin the token's client registered may read it.
    const std::string origin(req.headers.get("Origin"));
    if (auto c = s_.get_client(g->client_id); c && !origin.empty() && c->allows_origin(origin))
      return allow_origin(std::move(r), origin);
    return r;
  }

  // RFC 8414 §2.
  static bj::object metadata_fields(const std::string& iss) {
    return bj::object{
        {"issuer", iss},
        {"authorization_endpoint", iss + "/oauth/authorize"},
        {"token_endpoint", iss + "/oauth/token"},
        {"revocation_endpoint", iss + "/oauth/revoke"},
        {"introspection_endpoint", iss + "/oauth/introspect"},
        {"response_types_supported", bj::array{"code"}},
        {"grant_types_supported", bj::array{"authorization_code", "refresh_token"}},
        {"code_challenge_methods_supported", bj::array{"S256"}},
        {"token_endpoint_auth_methods_supported",
         bj::array{"client_secret_basic", "client_secret_post", "none"}},
        {"revocation_endpoint_auth_methods_supported",
         bj::array{"client_secret_basic", "client_secret_post"}},
        {"introspection_endpoint_auth_methods_supported",
         bj::array{"client_secret_basic", "client_secret_post"}},
        {"scopes_supported", bj::array{"user_profile", "user_followers", "openid", "profile"}},
        {"authorization_response_iss_parameter_supported", true}};
  }

 private:
  service& s_;
};

}  // namespace

void add_oauth_routes(http::router& r, service& s) {
  auto self = std::make_shared<oauth_routes>(s);
  auto on = [&](std::string_view method, std::string_view pattern,
                response (oauth_routes::*f)(const request&)) {
    r.on(method, pattern,
         [self, f](const request& req, const route_match&) { return ((*self).*f)(req); });
  };
  on("GET", "/oauth/authorize", &oauth_routes::authorize);
  on("GET", "/oauth/login", &oauth_routes::login_page);
  on("POST", "/oauth/login", &oauth_routes::login_submit);
  on("GET", "/oauth/consent", &oauth_routes::consent_page);
  on("POST", "/oauth/consent", &oauth_routes::consent_submit);
  on("POST", "/oauth/token", &oauth_routes::token);
  on("POST", "/oauth/access_token", &oauth_routes::meta_access_token);
  on("GET", "/access_token", &oauth_routes::meta_long_lived);
  on("GET", "/refresh_access_token", &oauth_routes::meta_refresh);
  on("POST", "/oauth/revoke", &oauth_routes::revoke);
  on("OPTIONS", "/oauth/token", &oauth_routes::token_preflight);
  on("OPTIONS", "/oauth/revoke", &oauth_routes::token_preflight);
  on("POST", "/oauth/introspect", &oauth_routes::introspect);
  r.on("GET", "/.well-known/oauth-authorization-server",
       [self](const request&, const route_match&) { return self->metadata(); });
  r.on("GET", "/.well-known/openid-configuration",
       [self](const request&, const route_match&) { return self->openid_configuration(); });
  r.on("GET", "/.well-known/jwks.json",
       [self](const request&, const route_match&) { return self->jwks(); });
  on("GET", "/oauth/userinfo", &oauth_routes::userinfo);
  on("POST", "/oauth/userinfo", &oauth_routes::userinfo);
  on("OPTIONS", "/oauth/userinfo", &oauth_routes::userinfo_preflight);
  r.on("OPTIONS", "/.well-known/oauth-authorization-server",
       [](const request&, const route_match&) {
         response p = preflight("*", true);
         p.headers.set("Access-Control-Allow-Methods", "GET");
         return p;
       });
}

}  // namespace linksim::idp::web
