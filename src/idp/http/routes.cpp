// The provider's HTTP surface: its route table and how its errors show over HTTP.
#include "common.hpp"

namespace linksim::idp {

error_info describe(const boost::system::error_code& ec) {
  if (ec.category() == error_category()) {
    switch (static_cast<error>(ec.value())) {
      case error::unknown_client:
      case error::redirect_uri_unregistered:
      case error::pkce_required:
      case error::pkce_method_unsupported:
      case error::authorization_request_unknown:
      case error::session_account_unknown:
      case error::subscription_handshake_failed:
      case error::client_auth_conflict:
      case error::client_id_conflict:
      case error::public_client_no_webhooks:
        return {400, "invalid_request"};
      case error::auth_method_unsupported:
      case error::id_token_alg_unsupported:
      case error::origin_invalid:
        return {400, "invalid_client_metadata"};  // RFC 7591 §3.2.2
      case error::prompt_invalid:
      case error::max_age_invalid:
        return {400, "invalid_request"};
      case error::login_required:
        return {400, "login_required"};
      case error::consent_required:
        return {400, "consent_required"};
      case error::unsupported_response_type:
        return {400, "unsupported_response_type"};
      case error::invalid_scope:
        return {400, "invalid_scope"};
      case error::invalid_client:
        return {401, "invalid_client", "Basic realm=\"linksim\""};
      case error::unsupported_grant_type:
        return {400, "unsupported_grant_type"};
      case error::code_not_found:
      case error::code_expired:
      case error::code_account_inactive:
      case error::code_reused:
      case error::code_client_mismatch:
      case error::redirect_uri_mismatch:
      case error::pkce_verifier_missing:
      case error::pkce_verifier_malformed:
      case error::pkce_verifier_mismatch:
      case error::refresh_token_invalid:
      case error::refresh_token_replayed:
      case error::token_too_young:
      case error::token_wrong_kind:
        return {400, "invalid_grant"};
      case error::token_invalid:
      case error::token_expired:
        return {401, "invalid_token", "Bearer realm=\"linksim\", error=\"invalid_token\""};
      case error::insufficient_scope:
        return {403, "insufficient_scope"};
      case error::login_failed:
        return {
            401, "login_failed",
            "Cookie realm=\"linksim\", form-action=\"/oauth/login\", cookie-name=\"idp_session\""};
    }
  }
  if (is(ec, errc::callback_url_invalid)) return {400, "invalid_request"};
  if (is(ec, errc::delivery_not_replayable)) return {409, "delivery_not_replayable"};
  if (auto shared = http::describe_shared(ec)) return *shared;
  return {500, "internal_error"};
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
  web::add_ssf_routes(*r, s);
  return [r](const http::request& req) { return (*r)(req); };
}

}  // namespace linksim::idp
