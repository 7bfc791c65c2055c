// The dependent service's HTTP surface: its route table and how its errors show over HTTP.
#include "common.hpp"

namespace linksim::threads_sim {

namespace {
// The API's session is a cookie the log-in sets (draft-broyer-http-cookie-auth's scheme).
constexpr std::string_view session_challenge =
    "Cookie realm=\"threads\", form-action=\"/login\", cookie-name=\"threads_session\"";
}  // namespace

error_info describe(const boost::system::error_code& ec) {
  if (ec.category() == error_category()) {
    switch (static_cast<error>(ec.value())) {
      case error::text_invalid:
        return {400, "text_invalid"};
      case error::login_state_invalid:
        return {400, "login_state_invalid"};
      case error::issuer_mismatch:
        return {400, "issuer_mismatch"};
      case error::link_request_unknown:
        return {400, "link_request_unknown"};
      case error::not_signed_in:
        return {401, "not_signed_in", session_challenge};
      case error::signature_invalid:
      case error::signed_request_invalid:
        // The signature is the message's, not an HTTP authentication scheme: no challenge to
        // name, so the refusal is 403 (RFC 9110 section 15.5.4), never a 401 without one.
        return {403, "signature_invalid"};
      case error::reauthorization_required:
        return {401, "reauthorization_required", session_challenge};
      // RFC 8935 section 2.3's error codes.
      case error::push_unauthorized:
        return {401, "authentication_failed", "Bearer"};
      case error::set_invalid:
        return {400, "invalid_request"};
      case error::set_key_invalid:
        return {400, "invalid_key"};
      case error::set_issuer_invalid:
        return {400, "invalid_issuer"};
      case error::set_audience_invalid:
        return {400, "invalid_audience"};
      case error::username_read_only:
        return {403, "username_read_only"};
      case error::picture_read_only:
        return {403, "picture_read_only"};
      case error::name_read_only:
        return {403, "name_read_only"};
      case error::bio_read_only:
        return {403, "bio_read_only"};
      case error::account_type_refused:
        return {403, "account_type_refused"};
      case error::verify_token_mismatch:
        return {403, "verify_token_mismatch"};
      case error::profile_unavailable:
        return {403, "profile_unavailable"};
      case error::profile_not_found:
        return {404, "not_found"};
      case error::already_linked:
        return {409, "already_linked"};
      case error::already_liked:
        return {409, "already_liked"};
      case error::profile_deleted_upstream:
        return {410, "profile_deleted_upstream"};
    }
  }
  if (is(ec, errc::delivery_not_replayable)) return {409, "notice_not_replayable"};
  if (auto shared = http::describe_shared(ec)) return *shared;
  return {500, "internal_error"};
}

http::handler make_handler(service& s, const route_options& options) {
  auto r = std::make_shared<http::router>(
      "threads",
      [](const boost::system::error_code& ec, std::string_view path) {
        // The APIs answer JSON; a browser asking for a page that is not there gets a page.
        if (is(ec, errc::not_found) && !path.starts_with("/api/") && !path.starts_with("/admin"))
          return web::error_page(ec);
        return web::json_error(ec);
      },
      options.log);
  r->on("GET", "/healthz", [](const http::request&, const http::route_match&) {
    return json::response(200, boost::json::object{{"status", "ok"}});
  });
  web::add_page_routes(*r, s);
  web::add_meta_routes(*r, s);
  web::add_api_routes(*r, s);
  web::add_admin_routes(*r, s, options);
  return [r](const http::request& req) { return (*r)(req); };
}

}  // namespace linksim::threads_sim
