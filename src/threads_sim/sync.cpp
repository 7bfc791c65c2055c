// The dependent service as the provider's client: redeeming and refreshing tokens, reading /me
// and keeping the tokens, and the webhook subscription handshake.
#include "domain.hpp"

#include "linksim/common/crypto.hpp"
#include "linksim/common/http.hpp"
#include "linksim/common/json.hpp"
#include "linksim/threads_sim/repositories.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace linksim::threads_sim {
namespace bj = boost::json;

namespace detail {

namespace {
std::optional<std::int64_t> to_id(const bj::value* v) {
  if (!v) return std::nullopt;
  // An id is a positive whole number, as a JSON number or a string of digits.
  if (v->is_int64()) return v->as_int64() > 0 ? std::optional(v->as_int64()) : std::nullopt;
  if (!v->is_string()) return std::nullopt;
  return http::parse_id(v->as_string());
}

std::string text_of(const bj::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}
}  // namespace

std::string to_json(const idp_profile& p) {
  json::scratch memory;
  bj::array followers(memory.storage());
  for (auto f : p.followers) followers.emplace_back(std::to_string(f));
  return json::serialize(
      bj::object{{{"id", std::to_string(p.id)},
                  {"username", p.username},
                  {"name", p.name},
                  {"biography", p.biography},
                  {"profile_picture_url", p.picture_url},
                  {"profile_picture_sha256", p.picture_sha256},
                  {"account_status", p.status},
                  {"version", p.version},
                  {"followers", bj::object{{{"data", std::move(followers)}}, memory.storage()}}},
                 memory.storage()});
}

result<idp_profile> parse_me(std::string_view body) {
  json::scratch memory;
  auto o = json::parse_object(body, memory.storage());
  if (!o) return make_error_code(errc::upstream_bad_response);
  idp_profile p;
  const auto id = to_id(o->if_contains("id"));
  const auto* version = o->if_contains("version");
  if (!id || !version || !version->is_int64()) return make_error_code(errc::upstream_bad_response);
  p.id = *id;
  p.version = version->as_int64();
  p.username = text_of(*o, "username");
  p.name = text_of(*o, "name");
  p.biography = text_of(*o, "biography");
  p.picture_url = text_of(*o, "profile_picture_url");
  p.picture_sha256 = text_of(*o, "profile_picture_sha256");
  p.status = text_of(*o, "account_status");
  p.account_type = text_of(*o, "account_type");
  if (p.username.empty() || p.status.empty()) return make_error_code(errc::upstream_bad_response);
  if (const auto* f = o->if_contains("followers"); f && f->is_object()) {
    if (const auto* data = f->as_object().if_contains("data"); data && data->is_array())
      for (const auto& v : data->as_array())
        if (auto fid = to_id(&v)) p.followers.push_back(*fid);
  }
  return p;
}

result<idp_profile> from_json(std::string_view text) {
  return parse_me(text);
}

std::vector<std::string> categories_of(const idp_profile& p) {
  std::vector<std::string> c{"user.unique_id", "user.account.username", "user.account"};
  if (!p.name.empty()) c.emplace_back("user.name");
  if (!p.biography.empty()) c.emplace_back("user.content.public");
  if (!p.picture_url.empty() || !p.picture_sha256.empty())
    c.emplace_back("user.content.self_image");
  if (!p.followers.empty()) c.emplace_back("user.social.followers");
  return c;
}

}  // namespace detail

namespace {

http::request form_post(std::string url, const http::params& p) {
  http::request r;
  r.method = "POST";
  r.target = std::move(url);
  r.headers.set("Content-Type", "application/x-www-form-urlencoded");
  r.body = http::form_encode(p);
  return r;
}

// The provider's answer to a token request as an error: 5xx and no answer mean try later.
boost::system::error_code token_error(const result<http::response>& res, error on_refusal) {
  if (!res || res->status >= 500) return make_error_code(errc::upstream_unavailable);
  if (res->status == 400 || res->status == 401) return make_error_code(on_refusal);
  return make_error_code(errc::upstream_bad_response);
}

}  // namespace

result<link_tokens> domain::provider_client::parse_tokens(const http::response& r, time_point now) {
  json::scratch memory;
  auto o = json::parse_object(r.body, memory.storage());
  if (!o) return make_error_code(errc::upstream_bad_response);
  const auto* access = o->if_contains("access_token");
  const auto* expires = o->if_contains("expires_in");
  if (!access || !access->is_string() || !expires || !expires->is_int64())
    return make_error_code(errc::upstream_bad_response);
  link_tokens t;
  t.access = std::string(access->as_string());
  if (const auto* refresh = o->if_contains("refresh_token"); refresh && refresh->is_string())
    t.refresh = std::string(refresh->as_string());
  t.access_expires_at = now + std::chrono::seconds(expires->as_int64());
  t.user_id = detail::to_id(o->if_contains("user_id")).value_or(0);
  return t;
}

result<link_tokens> domain::provider_client::redeem_code(std::string_view code,
                                                         std::string_view verifier) {
  auto res = ctx_.transport.send(
      form_post(ctx_.cfg.idp_url + "/oauth/token", {{"grant_type", "authorization_code"},
                                                    {"code", std::string(code)},
                                                    {"redirect_uri", ctx_.redirect_uri()},
                                                    {"code_verifier", std::string(verifier)},
                                                    {"client_id", ctx_.cfg.client_id},
                                                    {"client_secret", ctx_.cfg.client_secret}}));
  if (res)
    ctx_.record(ctx_.cfg.system_name, ctx_.cfg.idp_system, 0, {"user.authorization.credentials"},
                "oauth.token", code, "authorization code and PKCE verifier redeemed",
                "essential.service.authentication");
  if (!res || res->status != 200) return token_error(res, error::login_state_invalid);
  auto t = parse_tokens(*res, ctx_.time.now());
  // The code's answer names the account it was granted for: the profile read next must be its.
  if (t && t->user_id == 0) return make_error_code(errc::upstream_bad_response);
  return t;
}

result<link_tokens> domain::provider_client::refresh_tokens(const std::string& refresh_token) {
  auto res = ctx_.transport.send(
      form_post(ctx_.cfg.idp_url + "/oauth/token", {{"grant_type", "refresh_token"},
                                                    {"refresh_token", refresh_token},
                                                    {"client_id", ctx_.cfg.client_id},
                                                    {"client_secret", ctx_.cfg.client_secret}}));
  if (res)
    ctx_.record(ctx_.cfg.system_name, ctx_.cfg.idp_system, 0, {"user.authorization.credentials"},
                "oauth.token", refresh_token, "refresh token redeemed",
                "essential.service.authentication");
  if (!res || res->status != 200) return token_error(res, error::reauthorization_required);
  return parse_tokens(*res, ctx_.time.now());
}

result<idp_profile> domain::provider_client::fetch_me(const std::string& access_token,
                                                      bool with_followers, std::string* raw_body) {
  http::request r;
  r.target = ctx_.cfg.idp_url +
             "/me?fields=id,username,name,biography,profile_picture_url,profile_picture_sha256,"
             "account_status,account_type,version" +
             (with_followers ? ",followers" : "");
  r.headers.set("Authorization", "Bearer " + access_token);
  auto res = ctx_.transport.send(std::move(r));
  if (res)
    ctx_.record(ctx_.cfg.system_name, ctx_.cfg.idp_system, 0, {"user.authorization.credentials"},
                "graph.me", access_token, "access token presented for the profile");
  if (!res || res->status >= 500) return make_error_code(errc::upstream_unavailable);
  if (res->status != 200) {
    // Meta's code 190: the token is no good any more (expired, revoked, account deleted).
    auto o = json::parse_object(res->body);
    const auto* err = o ? o->if_contains("error") : nullptr;
    const auto* code = err && err->is_object() ? err->as_object().if_contains("code") : nullptr;
    if (code && code->is_int64() && code->as_int64() == 190)
      return make_error_code(error::reauthorization_required);
    return make_error_code(errc::upstream_bad_response);
  }
  if (raw_body) *raw_body = res->body;
  return detail::parse_me(res->body);
}

void domain::provider_client::store_tokens(std::int64_t profile_id, const link_tokens& t) {
  ctx_.repos.links().store(profile_id, t);
}

// --- Webhooks ---

result<std::string> domain::mirror_updates::handshake(const http::params& query) {
  const auto* mode = http::find_param(query, "hub.mode");
  const auto* token = http::find_param(query, "hub.verify_token");
  const auto* challenge = http::find_param(query, "hub.challenge");
  if (!mode || *mode != "subscribe" || !challenge) return make_error_code(errc::bad_field);
  if (!token || ctx_.cfg.webhook_verify_token.empty() ||
      !constant_time_equal(*token, ctx_.cfg.webhook_verify_token))
    return make_error_code(error::verify_token_mismatch);
  return *challenge;
}

}  // namespace linksim::threads_sim
