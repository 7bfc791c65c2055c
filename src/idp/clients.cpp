// Clients: registration with their redirect URIs and callbacks, lookup and authentication.
#include "domain.hpp"

#include "linksim/idp/repositories.hpp"

#include <boost/url/parse.hpp>

namespace linksim::idp {

result<client> domain::clients::register_client(const client_registration& r) {
  if (r.redirect_uris.empty()) return make_error_code(errc::missing_field);
  for (const auto& uri : r.redirect_uris) {
    auto u = boost::urls::parse_absolute_uri(uri);
    if (!u || (u->scheme() != "http" && u->scheme() != "https") || u->has_fragment())
      return make_error_code(errc::callback_url_invalid);
  }
  for (const auto* url : {&r.deauthorize_url, &r.data_deletion_url}) {
    if (!url->empty() && !boost::urls::parse_absolute_uri(*url))
      return make_error_code(errc::callback_url_invalid);
  }
  const auto& method = r.token_endpoint_auth_method;
  if (method != "client_secret_basic" && method != "client_secret_post" && method != "none")
    return make_error_code(error::auth_method_unsupported);
  if (r.id_token_signed_response_alg != oidc::rs256 &&
      r.id_token_signed_response_alg != oidc::algorithm)
    return make_error_code(error::id_token_alg_unsupported);
  if (method == "none" && (!r.deauthorize_url.empty() || !r.data_deletion_url.empty()))
    return make_error_code(error::public_client_no_webhooks);
  for (const auto& origin : r.allowed_origins) {
    // An origin is a scheme, a host and an optional port: nothing else (RFC 6454).
    auto u = boost::urls::parse_absolute_uri(origin);
    if (!u || (u->scheme() != "http" && u->scheme() != "https") || !u->has_authority() ||
        !u->encoded_path().empty() || u->has_query() || u->has_fragment() || u->has_userinfo())
      return make_error_code(error::origin_invalid);
  }
  client c;
  // Numeric ids like Meta's app ids.
  c.id = std::to_string(1000000000000000 + ctx_.random.uniform(9000000000000000));
  const std::string secret =
      to_hex(std::span<const std::uint8_t>(sha256(ctx_.random.token(32))).subspan(0, 16));
  // A public client cannot keep a secret: it gets none, and nothing is signed for it.
  if (method != "none") c.secret = secret;
  c.token_endpoint_auth_method = method;
  c.allowed_origins = r.allowed_origins;
  c.id_token_signed_response_alg = r.id_token_signed_response_alg;
  std::vector<std::uint8_t> key(32);
  ctx_.random.fill(key);
  c.webhook_secret = "whsec_" + base64_encode(key);
  c.name = r.name.empty() ? "App " + c.id : r.name;
  c.system = r.system.empty() ? "client-" + c.id : r.system;
  c.redirect_uris = r.redirect_uris;
  c.deauthorize_url = r.deauthorize_url;
  c.data_deletion_url = r.data_deletion_url;
  std::lock_guard lock(ctx_.mutex);
  ctx_.repos.clients().add(c);
  return c;
}

result<client> domain::clients::get(std::string_view id) {
  std::lock_guard lock(ctx_.mutex);
  auto c = find_locked(id);
  if (!c) return c.error();
  return **c;
}

result<const client*> domain::clients::find_locked(std::string_view id) {
  // Clients never change once registered, so each is read from storage once.
  if (auto it = cache_.find(id); it != cache_.end()) return &it->second;
  auto c = ctx_.repos.clients().find(id);
  if (!c) return make_error_code(error::unknown_client);
  // Elements of an unordered_map keep their address: the pointer stays valid.
  const std::string key = c->id;
  return &cache_.emplace(key, std::move(*c)).first->second;
}

result<client> domain::clients::authenticate(std::string_view id, std::string_view secret) {
  auto c = get(id);
  if (!c) return make_error_code(error::invalid_client);
  // A public client is named, not authenticated; one that sends a secret is confused or forged.
  if (c->is_public()) return secret.empty() ? c : make_error_code(error::invalid_client);
  if (secret.empty() || !constant_time_equal(c->secret, secret))
    return make_error_code(error::invalid_client);
  return c;
}

bool domain::clients::origin_allowed(std::string_view origin) {
  if (origin.empty()) return false;
  std::lock_guard lock(ctx_.mutex);
  return ctx_.repos.clients().origin_registered(origin);
}

}  // namespace linksim::idp
