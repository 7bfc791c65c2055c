// The provider's HTTP routes: each parses its input, calls the service and formats the answer.
#include "linksim/idp/routes.hpp"

#include "internal.hpp"
#include "pages.hpp"

#include "linksim/common/html.hpp"
#include "linksim/common/json.hpp"
#include "linksim/idp/service.hpp"
#include "linksim/store/sqlite.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <charconv>

namespace linksim::idp {

error_info describe(const boost::system::error_code& ec) {
  if (ec.category() != error_category()) return {500, "internal_error"};
  switch (static_cast<errc>(ec.value())) {
    case errc::bad_json:
    case errc::bad_form:
    case errc::missing_field:
    case errc::bad_field:
    case errc::unknown_client:
    case errc::redirect_uri_unregistered:
    case errc::pkce_required:
    case errc::pkce_method_unsupported:
    case errc::authorization_request_unknown:
    case errc::session_account_unknown:
    case errc::callback_url_invalid:
    case errc::subscription_handshake_failed:
      return {400, "invalid_request"};
    case errc::username_invalid:
      return {400, "username_invalid"};
    case errc::self_follow:
      return {400, "self_follow"};
    case errc::not_found:
      return {404, "not_found"};
    case errc::method_not_allowed:
      return {405, "method_not_allowed"};
    case errc::unsupported_media_type:
      return {415, "unsupported_media_type"};
    case errc::admin_unauthorized:
      return {401, "unauthorized"};
    case errc::unsupported_response_type:
      return {400, "unsupported_response_type"};
    case errc::invalid_scope:
      return {400, "invalid_scope"};
    case errc::invalid_client:
      return {401, "invalid_client"};
    case errc::unsupported_grant_type:
      return {400, "unsupported_grant_type"};
    case errc::code_not_found:
    case errc::code_expired:
    case errc::code_reused:
    case errc::code_client_mismatch:
    case errc::redirect_uri_mismatch:
    case errc::pkce_verifier_missing:
    case errc::pkce_verifier_malformed:
    case errc::pkce_verifier_mismatch:
    case errc::refresh_token_invalid:
    case errc::refresh_token_replayed:
    case errc::token_too_young:
    case errc::token_wrong_kind:
      return {400, "invalid_grant"};
    case errc::access_denied:
      return {403, "access_denied"};
    case errc::csrf_mismatch:
      return {403, "csrf_mismatch"};
    case errc::token_invalid:
    case errc::token_expired:
      return {401, "invalid_token"};
    case errc::insufficient_scope:
      return {403, "insufficient_scope"};
    case errc::username_taken:
      return {409, "username_taken"};
    case errc::login_failed:
      return {401, "login_failed"};
    case errc::account_inactive:
      return {403, "account_inactive"};
    case errc::account_deleted:
      return {410, "account_deleted"};
    case errc::delivery_not_replayable:
      return {409, "delivery_not_replayable"};
    case errc::upstream_unavailable:
      return {503, "upstream_unavailable"};
    case errc::upstream_bad_response:
      return {502, "upstream_bad_response"};
    default:  // the dependent service's errors: the provider never returns them
      return {500, "internal_error"};
  }
}

namespace {

namespace bj = boost::json;
using http::request;
using http::response;

// RFC 6749 §5.2: error descriptions carry no CR, LF or TAB, and only printable ASCII.
std::string clean(std::string s) {
  for (char& c : s)
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') c = ' ';
  return s;
}

response no_store(response r) {
  r.headers.set("Cache-Control", "no-store");
  r.headers.set("Pragma", "no-cache");
  return r;
}

// Errors of the standard OAuth endpoints (RFC 6749 §5.2).
response oauth_error(const boost::system::error_code& ec) {
  const auto info = describe(ec);
  return no_store(json::response(
      info.status, bj::object{{"error", info.code}, {"error_description", clean(ec.message())}}));
}

// Errors of Meta's OAuth endpoints.
response meta_oauth_error(const boost::system::error_code& ec) {
  const auto info = describe(ec);
  const int status = info.status == 401 ? 400 : info.status;
  return no_store(json::response(status, bj::object{{"error_type", "OAuthException"},
                                                    {"code", status},
                                                    {"error_message", clean(ec.message())}}));
}

// Errors of the Graph-style profile API. Meta answers an invalid token with code 190.
response graph_error(service& s, const boost::system::error_code& ec) {
  int code = 100;
  int status = 400;
  if (is(ec, errc::token_invalid) || is(ec, errc::token_expired)) code = 190;
  if (is(ec, errc::insufficient_scope)) {
    code = 10;
    status = 403;
  }
  bj::object err{{"message", ec.message()},
                 {"type", code == 100 ? "GraphMethodException" : "OAuthException"},
                 {"code", code},
                 {"fbtrace_id", s.random().token(9)}};
  if (is(ec, errc::token_expired)) err["error_subcode"] = 463;
  return json::response(status, bj::object{{"error", std::move(err)}});
}

// Errors of the admin API.
response admin_error(const boost::system::error_code& ec, std::string_view detail = {}) {
  const auto info = describe(ec);
  bj::object err{{"code", info.code}, {"message", ec.message()}};
  if (!detail.empty()) err["detail"] = detail;
  return json::response(info.status, bj::object{{"error", std::move(err)}});
}

// What is wrong with a display name or bio, for the admin API's detail; nullopt when both fit.
std::optional<std::string> profile_text_problem(const std::string* name, const std::string* bio) {
  if (name && !within_chars(*name, max_name_chars))
    return "name is at most " + std::to_string(max_name_chars) + " characters";
  if (bio && !within_chars(*bio, max_bio_chars))
    return "biography is at most " + std::to_string(max_bio_chars) + " characters";
  return std::nullopt;
}

response html(int status, std::string body) {
  return html::page(status, std::move(body));
}

// The consent page. Its form's answer is a redirect to the client, and browsers hold redirects
// after a form submission to form-action too (CSP 3): the client's origin is allowed beside
// 'self'.
response consent_html(int status, std::string body, std::string_view redirect_uri) {
  std::string form_action = "'self'";
  const auto scheme_end = redirect_uri.find("://");
  if (scheme_end != std::string_view::npos) {
    const auto origin = redirect_uri.substr(0, redirect_uri.find_first_of("/?#", scheme_end + 3));
    // A host may hold characters that mean something in a policy: such an origin is left out.
    if (origin.find_first_of(";,'\" ") == std::string_view::npos) {
      form_action += ' ';  // appended in steps: GCC 12 warns falsely (-Wrestrict) on " " + ...
      form_action += origin;
    }
  }
  return html::page(status, std::move(body), {.form_action = form_action});
}

using http::redirect;

using http::parse_id;

bool is_form(const request& req) {
  return req.headers.get("Content-Type").starts_with("application/x-www-form-urlencoded");
}

std::string param(const http::params& p, std::string_view name) {
  const auto* v = http::find_param(p, name);
  return v ? *v : std::string();
}

bool any_repeated(const http::params& p) {
  for (std::size_t i = 0; i < p.size(); ++i)
    for (std::size_t j = i + 1; j < p.size(); ++j)
      if (p[i].first == p[j].first) return true;
  return false;
}

bj::object account_json(const account& a) {
  return {{"id", std::to_string(a.id)},
          {"username", a.username},
          {"name", a.display_name},
          {"biography", a.bio},
          {"profile_picture_url", a.picture_url},
          {"profile_picture_sha256", a.picture_sha256},
          {"account_type", to_string(a.type)},
          {"status", to_string(a.status)},
          {"version", a.version},
          {"followers_count", a.followers_count},
          {"follows_count", a.follows_count},
          {"created_time", unix_seconds(a.created_at)}};
}

bj::object client_json(const client& c) {
  bj::array uris;
  for (const auto& u : c.redirect_uris) uris.emplace_back(u);
  return {{"client_id", c.id},
          {"client_secret", c.secret},
          {"name", c.name},
          {"system", c.system},
          {"redirect_uris", std::move(uris)},
          {"webhook_secret", c.webhook_secret},
          {"deauthorize_url", c.deauthorize_url},
          {"data_deletion_url", c.data_deletion_url}};
}

bj::object delivery_json(const delivery& d) {
  return {{"id", d.id},
          {"event_id", d.event_id},
          {"client_id", d.client_id},
          {"kind", d.kind},
          {"field", d.field},
          {"account_id", std::to_string(d.account_id)},
          {"url", d.url},
          {"state", to_string(d.state)},
          {"attempts", d.attempts},
          {"next_attempt_at", unix_seconds(d.next_attempt_at)},
          {"last_status", d.last_status},
          {"last_response", d.last_response}};
}

std::string token_scope(const token_response& t) {
  return join(t.scopes, " ");
}

class router {
 public:
  router(service& s, route_options o) : s_(s), o_(std::move(o)) {}

  response operator()(const request& req) {
    try {
      return route(req);
    } catch (const store::error& e) {
      // The disk, not the request: tell the caller to retry rather than fail for good.
      if (o_.log) o_.log(std::string("idp: storage: ") + e.what());
      return json::storage_unavailable();
    }
  }

 private:
  response route(const request& req) {
    const auto path = req.path();
    const auto& m = req.method;
    if (path == "/oauth/authorize") return m == "GET" ? authorize(req) : not_allowed("GET");
    if (path == "/oauth/login")
      return m == "GET"    ? login_page(req)
             : m == "POST" ? login_submit(req)
                           : not_allowed("GET, POST");
    if (path == "/oauth/consent")
      return m == "GET"    ? consent_page(req)
             : m == "POST" ? consent_submit(req)
                           : not_allowed("GET, POST");
    if (path == "/oauth/token") return m == "POST" ? token(req) : not_allowed("POST");
    if (path == "/oauth/access_token")
      return m == "POST" ? meta_access_token(req) : not_allowed("POST");
    if (path == "/access_token") return m == "GET" ? meta_long_lived(req) : not_allowed("GET");
    if (path == "/refresh_access_token") return m == "GET" ? meta_refresh(req) : not_allowed("GET");
    if (path == "/oauth/revoke") return m == "POST" ? revoke(req) : not_allowed("POST");
    if (path == "/oauth/introspect") return m == "POST" ? introspect(req) : not_allowed("POST");
    if (path == "/.well-known/oauth-authorization-server")
      return m == "GET" ? metadata() : not_allowed("GET");
    if (path == "/me") return m == "GET" ? me(req) : not_allowed("GET");
    if (path == "/healthz") return json::response(200, bj::object{{"status", "ok"}});
    const auto seg = http::path_segments(path);
    if (seg.size() == 2 && seg[0] == "pictures")
      return m == "GET" ? picture(seg[1]) : not_allowed("GET");
    if (!seg.empty() && seg[0] == "admin") return admin(req, seg);
    if (seg.size() == 4 && seg[0] == "internal" && seg[1] == "accounts" && seg[3] == "ad-settings")
      return m == "GET" ? internal_ad_settings(req, seg[2]) : not_allowed("GET");
    return admin_error(make_error_code(errc::not_found), "no route for " + std::string(path));
  }

  response not_allowed(std::string allow) {
    response r = admin_error(make_error_code(errc::method_not_allowed));
    r.headers.set("Allow", std::move(allow));
    return r;
  }

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
                        param(*q, "code_challenge_method")};
    auto p = s_.begin_authorization(a);
    if (!p) {
      // RFC 6749 §4.1.2.1: with an unknown client or redirect URI, never redirect.
      if (is(p.error(), errc::unknown_client) || is(p.error(), errc::redirect_uri_unregistered))
        return html(400, pages::error("This link cannot be used", p.error().message()));
      return redirect(302, s_.error_redirect(a, p.error()));
    }
    const bool logged_in = !s_.session_accounts(req.cookie("idp_session")).empty();
    const bool force_login = param(*q, "prompt") == "login";
    return redirect(302,
                    std::string(logged_in && !force_login ? "/oauth/consent" : "/oauth/login") +
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
      return html(describe(a.error()).status,
                  pages::login(*p, req.cookie("idp_csrf"), a.error().message(), username));
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
  result<client> client_auth(const request& req, const http::params& form, bool* used_basic) {
    const auto auth = req.headers.get("Authorization");
    const std::string form_id = param(form, "client_id"),
                      form_secret = param(form, "client_secret");
    if (auth.starts_with("Basic ")) {
      *used_basic = true;
      if (!form_secret.empty()) return make_error_code(errc::bad_field);
      auto raw = base64_decode(auth.substr(6));
      if (!raw) return make_error_code(errc::invalid_client);
      const std::string_view pair = as_chars(*raw);
      const auto colon = pair.find(':');
      if (colon == std::string_view::npos) return make_error_code(errc::invalid_client);
      // The id and secret are form-encoded before being joined (RFC 6749 §2.3.1).
      auto id = http::parse_form("x=" + std::string(pair.substr(0, colon)));
      auto secret = http::parse_form("x=" + std::string(pair.substr(colon + 1)));
      if (!id || !secret || id->empty() || secret->empty())
        return make_error_code(errc::invalid_client);
      return s_.authenticate_client(id->front().second, secret->front().second);
    }
    if (form_id.empty()) return make_error_code(errc::invalid_client);
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
    s_.record_flow(c.system, t.user_id, {"user.unique_id", "user.authorization.credentials"},
                   "essential.service.authentication", "oauth.token", body);
  }

  response token(const request& req) {
    auto form = token_form(req);
    if (!form)
      return oauth_error(is(form.error(), errc::unsupported_media_type)
                             ? make_error_code(errc::bad_form)
                             : form.error());
    bool basic = false;
    auto c = client_auth(req, *form, &basic);
    if (!c) {
      response r = oauth_error(c.error());
      if (r.status == 401 && basic) r.headers.set("WWW-Authenticate", "Basic realm=\"linksim\"");
      return r;
    }
    const std::string grant = param(*form, "grant_type");
    result<token_response> t = make_error_code(errc::unsupported_grant_type);
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
                     {"user_id", t->user_id}},
                    memory.storage()};
    if (!t->refresh_token.empty()) body["refresh_token"] = t->refresh_token;
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
      return meta_oauth_error(make_error_code(errc::unsupported_grant_type));
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
      return meta_oauth_error(make_error_code(errc::unsupported_grant_type));
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
      return meta_oauth_error(make_error_code(errc::unsupported_grant_type));
    auto t = s_.refresh_long_lived(param(*q, "access_token"));
    if (!t) return meta_oauth_error(t.error());
    return no_store(json::response(200, bj::object{{"access_token", t->access_token},
                                                   {"token_type", "bearer"},
                                                   {"expires_in", t->expires_in}}));
  }

  response revoke(const request& req) {
    auto form = token_form(req);
    if (!form) return oauth_error(form.error());
    bool basic = false;
    auto c = client_auth(req, *form, &basic);
    if (!c) return oauth_error(c.error());
    if (!http::find_param(*form, "token")) return oauth_error(make_error_code(errc::missing_field));
    s_.revoke(*c, param(*form, "token"));
    return no_store(response{});
  }

  response introspect(const request& req) {
    auto form = token_form(req);
    if (!form) return oauth_error(form.error());
    bool basic = false;
    auto c = client_auth(req, *form, &basic);
    if (!c) return oauth_error(c.error());
    const auto i = s_.introspect(*c, param(*form, "token"));
    // RFC 7662 §2.2: an inactive token says nothing more.
    if (!i.active) return no_store(json::response(200, bj::object{{"active", false}}));
    return no_store(json::response(200, bj::object{{"active", true},
                                                   {"scope", join(i.scopes, " ")},
                                                   {"client_id", i.client_id},
                                                   {"username", i.username},
                                                   {"token_type", i.token_type},
                                                   {"exp", i.expires_at},
                                                   {"iat", i.issued_at},
                                                   {"sub", std::to_string(i.user_id)},
                                                   {"iss", s_.settings().issuer}}));
  }

  response metadata() {
    const std::string& iss = s_.settings().issuer;
    return json::response(
        200, bj::object{{"issuer", iss},
                        {"authorization_endpoint", iss + "/oauth/authorize"},
                        {"token_endpoint", iss + "/oauth/token"},
                        {"revocation_endpoint", iss + "/oauth/revoke"},
                        {"introspection_endpoint", iss + "/oauth/introspect"},
                        {"response_types_supported", bj::array{"code"}},
                        {"grant_types_supported", bj::array{"authorization_code", "refresh_token"}},
                        {"code_challenge_methods_supported", bj::array{"S256"}},
                        {"token_endpoint_auth_methods_supported",
                         bj::array{"client_secret_basic", "client_secret_post"}},
                        {"revocation_endpoint_auth_methods_supported",
                         bj::array{"client_secret_basic", "client_secret_post"}},
                        {"introspection_endpoint_auth_methods_supported",
                         bj::array{"client_secret_basic", "client_secret_post"}},
                        {"scopes_supported", bj::array{"user_profile", "user_followers"}},
                        {"authorization_response_iss_parameter_supported", true}});
  }

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
    auto add_category = [&](std::string c) {
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
        add_category("user.name");
      } else if (f == "biography") {
        body["biography"] = a->bio;
        add_category("user.content.public");
      } else if (f == "profile_picture_url" || f == "profile_picture_sha256") {
        body[f] = f == "profile_picture_url" ? a->picture_url : a->picture_sha256;
        add_category("user.content.self_image");
      } else if (f == "account_type") {
        body["account_type"] = to_string(a->type);
        add_category("user.account");
      } else if (f == "account_status") {
        body["account_status"] = to_string(a->status);
        add_category("user.account");
      } else if (f == "version") {
        body["version"] = a->version;
      } else if (f == "followers_count" || f == "follows_count" || f == "followers") {
        if (!may_followers) return graph_error(s_, make_error_code(errc::insufficient_scope));
        add_category("user.social.followers");
        if (f != "followers" && !counts_read) {
          // The counts are not read with the token: read them once, now.
          if (auto full = s_.get_account(a->id)) a = *full;
          counts_read = true;
        }
        if (f == "followers_count")
          body[f] = a->followers_count;
        else if (f == "follows_count")
          body[f] = a->follows_count;
        else {
          bj::array ids;
          for (auto id : s_.followers_of(a->id)) ids.emplace_back(std::to_string(id));
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

  static bj::object ad_settings_json(const ad_settings& a) {
    return {{"personalized_ads", a.personalized_ads}};
  }

  // Another product of the company reads the account's ad settings before using its data for
  // advertising: a flow of user.account.settings to that system.
  response internal_ad_settings(const request& req, std::string_view id_text) {
    const auto auth = req.headers.get("Authorization");
    const std::string* system = nullptr;
    if (auth.starts_with("Bearer "))
      for (const auto& [name, token] : o_.internal_tokens)
        if (!token.empty() && constant_time_equal(auth.substr(7), token)) system = &name;
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

  // --- Admin API ---

  response admin(const request& req, const std::vector<std::string_view>& seg) {
    const auto auth = req.headers.get("Authorization");
    if (o_.admin_token.empty() || !auth.starts_with("Bearer ") ||
        !constant_time_equal(auth.substr(7), o_.admin_token)) {
      response r = admin_error(make_error_code(errc::admin_unauthorized));
      r.headers.set("WWW-Authenticate", "Bearer realm=\"linksim-admin\"");
      return r;
    }
    const auto& m = req.method;
    if (seg.size() == 2 && seg[1] == "accounts") {
      if (m == "POST") return create_account(req);
      if (m == "GET") return lookup_account(req);
      return not_allowed("GET, POST");
    }
    if (seg.size() >= 3 && seg[1] == "accounts") {
      const auto id = parse_id(seg[2]);
      if (!id) return admin_error(make_error_code(errc::not_found), "account ids are numbers");
      if (seg.size() == 3) {
        if (m == "GET") return with_account(s_.get_account(*id), 200);
        if (m == "PATCH") return update_account(req, *id);
        if (m == "DELETE") return with_account(s_.delete_account(*id), 200);
        return not_allowed("GET, PATCH, DELETE");
      }
      if (seg.size() == 4 && seg[3] == "picture") {
        if (m != "PUT") return not_allowed("PUT");
        return with_account(
            s_.set_picture(*id, {std::string(req.headers.get("Content-Type")), req.body}), 200);
      }
      if (seg.size() == 4 && seg[3] == "ad-settings") {
        if (m == "GET") {
          auto a = s_.get_ad_settings(*id);
          return a ? json::response(200, ad_settings_json(*a)) : admin_error(a.error());
        }
        if (m != "PUT") return not_allowed("GET, PUT");
        auto body = json::parse_object(req.body);
        if (!body) return admin_error(body.error());
        const auto* v = body->if_contains("personalized_ads");
        if (!v || !v->is_bool())
          return admin_error(make_error_code(errc::bad_field), "personalized_ads is true or false");
        auto a = s_.set_ad_settings(*id, v->as_bool());
        return a ? json::response(200, ad_settings_json(*a)) : admin_error(a.error());
      }
      if (seg.size() == 4 && seg[3] == "follows") {
        if (m != "POST") return not_allowed("POST");
        return follow(req, *id);
      }
      if (seg.size() == 5 && seg[3] == "follows") {
        if (m != "DELETE") return not_allowed("DELETE");
        const auto target = parse_id(seg[4]);
        auto r = s_.unfollow(*id, target.value_or(0));
        if (!r) return admin_error(r.error());
        return json::response(200, bj::object{{"following", false}});
      }
      if (seg.size() == 4 && seg[3] == "followers") {
        if (m != "GET") return not_allowed("GET");
        bj::array ids;
        for (auto f : s_.followers_of(*id)) ids.emplace_back(std::to_string(f));
        return json::response(200, bj::object{{"followers", std::move(ids)}});
      }
      if (seg.size() == 4 && seg[3] == "deauthorize") {
        if (m != "POST") return not_allowed("POST");
        auto body = json::parse_object(req.body);
        if (!body) return admin_error(body.error());
        auto cid = json::get_string(*body, "client_id");
        if (!cid || !*cid) return admin_error(make_error_code(errc::missing_field), "client_id");
        auto r = s_.deauthorize(*id, **cid);
        if (!r) return admin_error(r.error(), "no active grant of this client for this account");
        return json::response(200, bj::object{{"deauthorized", true}});
      }
    }
    if (seg.size() == 2 && seg[1] == "clients") {
      if (m != "POST") return not_allowed("POST");
      return register_client(req);
    }
    if (seg.size() == 3 && seg[1] == "clients") {
      if (m != "GET") return not_allowed("GET");
      auto c = s_.get_client(seg[2]);
      if (!c) return admin_error(make_error_code(errc::not_found));
      return json::response(200, client_json(*c));
    }
    if (seg.size() == 4 && seg[1] == "clients" && seg[3] == "subscriptions") {
      if (m != "POST") return not_allowed("POST");
      return subscribe(req, seg[2]);
    }
    if (seg.size() == 2 && seg[1] == "deliveries") {
      if (m != "GET") return not_allowed("GET");
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
    if (seg.size() == 4 && seg[1] == "deliveries" && seg[3] == "replay") {
      if (m != "POST") return not_allowed("POST");
      auto d = s_.replay(parse_id(seg[2]).value_or(0));
      if (!d) return admin_error(d.error());
      return json::response(200, delivery_json(*d));
    }
    if (seg.size() == 3 && seg[1] == "webhooks" && seg[2] == "dispatch") {
      if (m != "POST") return not_allowed("POST");
      const auto n = s_.dispatch_due();
      return json::response(200, bj::object{{"attempted", n}});
    }
    return admin_error(make_error_code(errc::not_found));
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
    if (auto problem = profile_text_problem(&n.display_name, &n.bio))
      return admin_error(make_error_code(errc::bad_field), *problem);
    if (n.password.size() < 8)
      return admin_error(make_error_code(errc::bad_field), "password needs at least 8 characters");
    const auto t = json::get_string(*body, "account_type");
    if (!t) return admin_error(t.error(), "account_type");
    if (*t) {
      auto type = parse_type(**t);
      if (!type)
        return admin_error(make_error_code(errc::bad_field),
                           "account_type is personal or business");
      n.type = *type;
    }
    return with_account(s_.create_account(n), 201);
  }

  response update_account(const request& req, std::int64_t id) {
    auto body = json::parse_object(req.body);
    if (!body) return admin_error(body.error());
    profile_change c;
    for (auto [key, out] :
         {std::pair{"username", &c.username}, {"name", &c.display_name}, {"biography", &c.bio}}) {
      auto v = json::get_string(*body, key);
      if (!v) return admin_error(v.error(), std::string(key) + " must be a string");
      *out = *v;
    }
    if (auto problem = profile_text_problem(c.display_name ? &*c.display_name : nullptr,
                                            c.bio ? &*c.bio : nullptr))
      return admin_error(make_error_code(errc::bad_field), *problem);
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
    for (const auto& kv : *body) {
      static constexpr std::string_view known[] = {"username", "name", "biography", "account_type",
                                                   "status"};
      if (std::find(std::begin(known), std::end(known), kv.key()) == std::end(known))
        return admin_error(make_error_code(errc::bad_field),
                           "unknown field " + std::string(kv.key()));
    }
    return with_account(s_.update_profile(id, c), 200);
  }

  response follow(const request& req, std::int64_t id) {
    auto body = json::parse_object(req.body);
    if (!body) return admin_error(body.error());
    auto target = json::get_int(*body, "target_id");
    if (!target || !*target) return admin_error(make_error_code(errc::missing_field), "target_id");
    auto r = s_.follow(id, **target);
    if (!r) return admin_error(r.error());
    return json::response(200, bj::object{{"following", true}});
  }

  response register_client(const request& req) {
    auto body = json::parse_object(req.body);
    if (!body) return admin_error(body.error());
    client_registration r;
    for (auto [key, out] : {std::pair{"name", &r.name},
                            {"system", &r.system},
                            {"deauthorize_url", &r.deauthorize_url},
                            {"data_deletion_url", &r.data_deletion_url}}) {
      auto v = json::get_string(*body, key);
      if (!v) return admin_error(v.error(), std::string(key) + " must be a string");
      if (*v) *out = **v;
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
    bj::array fs;
    for (const auto& f : s->fields) fs.emplace_back(f);
    return json::response(201, bj::object{{"client_id", s->client_id},
                                          {"callback_url", s->callback_url},
                                          {"fields", std::move(fs)},
                                          {"active", s->active}});
  }

  service& s_;
  route_options o_;
};

}  // namespace

http::handler make_handler(service& s, route_options options) {
  return router(s, std::move(options));
}

}  // namespace linksim::idp
