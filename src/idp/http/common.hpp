// What the provider's HTTP routes share: error bodies in the provider's three dialects (OAuth,
// Meta's Graph API, the admin API), pages, form parameters and the JSON of its records.
#pragma once

#include "../internal.hpp"
#include "../pages.hpp"

#include "linksim/common/html.hpp"
#include "linksim/common/json.hpp"
#include "linksim/http/router.hpp"
#include "linksim/idp/oidc.hpp"
#include "linksim/idp/routes.hpp"
#include "linksim/idp/service.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace linksim::idp::web {

namespace bj = boost::json;
using http::request;
using http::response;
using http::route_match;
using http::with_challenge;

inline std::string clean(std::string s) {
  for (char& c : s)
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') c = ' ';
  return s;
}

inline response no_store(response r) {
  r.headers.set("Cache-Control", "no-store");
  r.headers.set("Pragma", "no-cache");
  return r;
}

// Errors of the standard OAuth endpoints (RFC 6749 §5.2).
inline response oauth_error(const boost::system::error_code& ec) {
  const auto info = describe(ec);
  return no_store(with_challenge(
      json::response(info.status,
                     bj::object{{"error", info.code}, {"error_description", clean(ec.message())}}),
      info));
}

// Errors of Meta's OAuth endpoints.
inline response meta_oauth_error(const boost::system::error_code& ec) {
  const auto info = describe(ec);
  const int status = info.status == 401 ? 400 : info.status;
  return no_store(json::response(status, bj::object{{"error_type", "OAuthException"},
                                                    {"code", status},
                                                    {"error_message", clean(ec.message())}}));
}

// Errors of the Graph-style profile API. Meta answers an invalid token with code 190.
inline response graph_error(service& s, const boost::system::error_code& ec) {
  int code = 100;
  int status = 400;
  if (is(ec, error::token_invalid) || is(ec, error::token_expired)) code = 190;
  if (is(ec, error::insufficient_scope)) {
    code = 10;
    status = 403;
  }
  bj::object err{{"message", ec.message()},
                 {"type", code == 100 ? "GraphMethodException" : "OAuthException"},
                 {"code", code},
                 {"fbtrace_id", s.random().token(9)}};
  if (is(ec, error::token_expired)) err["error_subcode"] = 463;
  return json::response(status, bj::object{{"error", std::move(err)}});
}

// Errors of the admin API.
inline response admin_error(const boost::system::error_code& ec, std::string_view detail = {}) {
  const auto info = describe(ec);
  bj::object err{{"code", info.code}, {"message", ec.message()}};
  if (!detail.empty()) err["detail"] = detail;
  return with_challenge(json::response(info.status, bj::object{{"error", std::move(err)}}), info);
}

// Which of a display name or bio breaks the accounts' bounds, the detail of their refusal in the
// admin API; nullopt when both fit.
inline std::optional<std::string> profile_text_problem(const std::string* name,
                                                       const std::string* bio) {
  if (name && !within_chars(*name, max_name_chars))
    return "name is at most " + std::to_string(max_name_chars) + " characters";
  if (bio && !within_chars(*bio, max_bio_chars))
    return "biography is at most " + std::to_string(max_bio_chars) + " characters";
  return std::nullopt;
}

inline response html(int status, std::string body) {
  return html::page(status, std::move(body));
}

// The consent page. Its form's answer is a redirect to the client, and browsers hold redirects
// after a form submission to form-action too (CSP 3): the client's origin is allowed beside
// 'self'.
inline response consent_html(int status, std::string body, std::string_view redirect_uri) {
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

inline bool is_form(const request& req) {
  return req.headers.get("Content-Type").starts_with("application/x-www-form-urlencoded");
}

inline std::string param(const http::params& p, std::string_view name) {
  const auto* v = http::find_param(p, name);
  return v ? *v : std::string();
}

inline bool any_repeated(const http::params& p) {
  for (std::size_t i = 0; i < p.size(); ++i)
    for (std::size_t j = i + 1; j < p.size(); ++j)
      if (p[i].first == p[j].first) return true;
  return false;
}

inline bj::object account_json(const account& a) {
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

inline bj::object client_json(const client& c) {
  bj::array uris, origins;
  for (const auto& u : c.redirect_uris) uris.emplace_back(u);
  for (const auto& o : c.allowed_origins) origins.emplace_back(o);
  bj::object out{{"client_id", c.id},
                 {"token_endpoint_auth_method", c.token_endpoint_auth_method},
                 {"name", c.name},
                 {"system", c.system},
                 {"redirect_uris", std::move(uris)},
                 {"allowed_origins", std::move(origins)},
                 {"id_token_signed_response_alg", c.id_token_signed_response_alg},
                 {"deauthorize_url", c.deauthorize_url},
                 {"data_deletion_url", c.data_deletion_url}};
  // A public client has no secret; nothing is signed for it.
  if (!c.is_public()) {
    out["client_secret"] = c.secret;
    out["webhook_secret"] = c.webhook_secret;
  }
  return out;
}

// CORS (Fetch standard): lets a page of `origin` read the answer. An answer for one origin
// varies with the request's Origin; one for any ("*") does not.
inline response allow_origin(response r, std::string_view origin) {
  r.headers.set("Access-Control-Allow-Origin", std::string(origin));
  if (origin != "*") r.headers.add("Vary", "Origin");
  return r;
}

// The answer to a CORS preflight for POST with a form body: allowed for `origin`, or not.
inline response preflight(std::string_view origin, bool allowed) {
  if (!allowed)
    return json::response(403,
                          bj::object{{"error", "invalid_request"},
                                     {"error_description", "no client registered this origin"}});
  response r;
  r.status = 204;
  r.headers.set("Access-Control-Allow-Methods", "POST");
  r.headers.set("Access-Control-Allow-Headers", "Content-Type, Authorization");
  r.headers.set("Access-Control-Max-Age", "600");
  return allow_origin(std::move(r), origin);
}

inline bj::object delivery_json(const delivery& d) {
  return {{"id", std::to_string(d.id)},
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

inline std::string token_scope(const token_response& t) {
  return join(t.scopes, " ");
}

inline bj::object ad_settings_json(const ad_settings& a) {
  return {{"personalized_ads", a.personalized_ads}};
}

// The route groups; each registers its routes on the provider's router.
// HTTP Basic client credentials (RFC 6749 §2.3.1: the id and secret form-encoded, then joined).
// std::nullopt without a Basic header; invalid_client when it does not decode.
inline std::optional<result<std::pair<std::string, std::string>>> basic_credentials(
    const request& req) {
  const auto auth = req.headers.get("Authorization");
  if (!auth.starts_with("Basic ")) return std::nullopt;
  auto raw = base64_decode(auth.substr(6));
  if (!raw) return make_error_code(error::invalid_client);
  const std::string_view pair = as_chars(*raw);
  const auto colon = pair.find(':');
  if (colon == std::string_view::npos) return make_error_code(error::invalid_client);
  auto id = http::parse_form("x=" + std::string(pair.substr(0, colon)));
  auto secret = http::parse_form("x=" + std::string(pair.substr(colon + 1)));
  if (!id || !secret || id->empty() || secret->empty())
    return make_error_code(error::invalid_client);
  return std::make_pair(id->front().second, secret->front().second);
}

void add_oauth_routes(http::router& r, service& s);
void add_ssf_routes(http::router& r, service& s);
void add_graph_routes(http::router& r, service& s, const route_options& o);
void add_admin_routes(http::router& r, service& s, const route_options& o);

}  // namespace linksim::idp::web
