// What the dependent service's HTTP routes share: its error answers as JSON or as a page, with the
// fix a person can make; form parameters; the JSON of its records; and the request's context.
#pragma once

#include "../pages.hpp"

#include "linksim/common/crypto.hpp"
#include "linksim/common/html.hpp"
#include "linksim/common/json.hpp"
#include "linksim/http/router.hpp"
#include "linksim/threads_sim/routes.hpp"
#include "linksim/threads_sim/service.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace linksim::threads_sim::web {

namespace bj = boost::json;
using http::request;
using http::response;
using http::route_match;
using http::with_challenge;

inline constexpr std::string_view already_linked_fix =
    "To link it to a new profile, log in to the existing profile and delete it: Settings > "
    "Delete profile. After deletion, you can link the Instagram account to a new profile.";

inline std::string fix_for(const boost::system::error_code& ec) {
  if (is(ec, error::already_linked)) return std::string(already_linked_fix);
  if (is(ec, error::username_read_only))
    return "Change your username on Instagram; it changes here within minutes.";
  if (is(ec, error::picture_read_only)) return "Change your picture on Instagram.";
  if (is(ec, error::login_state_invalid) || is(ec, error::link_request_unknown))
    return "Start again with \"Log in with Instagram\".";
  if (is(ec, errc::account_inactive))
    return "Instagram accounts that are restricted, suspended or banned cannot sign up.";
  return {};
}

inline response json_error(const boost::system::error_code& ec, std::string_view detail = {}) {
  const auto info = describe(ec);
  bj::object err{{"code", info.code}, {"message", ec.message()}};
  if (!detail.empty()) err["detail"] = detail;
  if (auto fix = fix_for(ec); !fix.empty()) err["fix"] = fix;
  return with_challenge(json::response(info.status, bj::object{{"error", std::move(err)}}), info);
}

inline response html(int status, std::string body) {
  // Profile pictures come from the provider, on another origin.
  return html::page(status, std::move(body), {.img_src = "http: https:"});
}

inline response error_page(const boost::system::error_code& ec) {
  const auto info = describe(ec);
  std::string title = "Something went wrong";
  if (is(ec, error::already_linked)) title = "Already linked";
  if (is(ec, errc::access_denied)) title = "Not linked";
  if (is(ec, error::profile_deleted_upstream)) title = "Profile unavailable";
  if (is(ec, error::profile_unavailable)) title = "Profile unavailable";
  if (is(ec, error::profile_not_found) || is(ec, errc::not_found)) title = "Not found";
  return with_challenge(html(info.status, pages::message(title, ec.message(), fix_for(ec))), info);
}

using http::redirect;

inline std::string param(const http::params& p, std::string_view name) {
  const auto* v = http::find_param(p, name);
  return v ? *v : std::string();
}

inline bj::object public_json(const profile& p) {
  return {{"id", std::to_string(p.id)},
          {"ig_user_id", std::to_string(p.ig_user_id)},
          {"username", p.username},
          {"name", p.display_name},
          {"bio", p.bio},
          {"profile_picture_url", p.picture_url},
          {"profile_picture_sha256", p.picture_sha256},
          {"followers_count", p.followers},
          {"following_count", p.following},
          {"posts_count", p.posts}};
}

inline bj::object admin_json(const profile& p) {
  auto o = public_json(p);
  o["ig_status"] = p.ig_status;
  o["ig_deleted"] = p.ig_deleted;
  o["needs_login"] = p.needs_login;
  o["username_version"] = p.username_version;
  o["picture_version"] = p.picture_version;
  o["status_version"] = p.status_version;
  o["created_at"] = unix_millis(p.created_at);
  o["last_synced_at"] = unix_millis(p.last_synced_at);
  return o;
}

inline bj::object post_json(const post& p) {
  return {{"id", std::to_string(p.id)}, {"profile_id", std::to_string(p.profile_id)},
          {"author", p.author},         {"text", p.text},
          {"likes", p.likes},           {"created_at", unix_millis(p.created_at)}};
}

// What the request says beyond its body (see request_context). A GPC signal counts on any
// signed-in request and is noted before the request is served.
inline request_context context_of(service& s, const request& req, std::int64_t profile_id,
                                  std::string_view session) {
  if (req.headers.get("Sec-GPC") == "1") s.note_gpc(profile_id);
  return {to_hex(sha256(session)).substr(0, 16)};
}

// The route groups; each registers its routes on the service's router.
void add_page_routes(http::router& r, service& s);
void add_meta_routes(http::router& r, service& s);
void add_api_routes(http::router& r, service& s);
void add_admin_routes(http::router& r, service& s, const route_options& o);

}  // namespace linksim::threads_sim::web
