// The provider's HTTP surface: its route table and how its errors show over HTTP.
#include "common.hpp"

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

http::handler make_handler(service& s, const route_options& options) {
  auto r = std::make_shared<http::router>(
      "idp",
      [](const boost::system::error_code& ec, std::string_view path) {
        return web::admin_error(ec,
                                path.empty() ? std::string() : "no route for " + std::string(path));
      },
      options.log);
  r->on("GET", "/healthz", [](const http::request&, const http::route_match&) {
    return json::response(200, boost::json::object{{"status", "ok"}});
  });
  web::add_oauth_routes(*r, s);
  web::add_graph_routes(*r, s, options);
  web::add_admin_routes(*r, s, options);
  return [r](const http::request& req) { return (*r)(req); };
}

}  // namespace linksim::idp
