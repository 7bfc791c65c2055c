// The identity provider's error category: a sentence for every error code, shown to people.
#include "linksim/idp/error.hpp"

#include <string>

namespace linksim::idp {
namespace {

const char* message_of(error e) {
  switch (e) {
    case error::unknown_client:
      return "unknown client_id";
    case error::redirect_uri_unregistered:
      return "redirect_uri is missing or does not exactly match a URI registered for this client";
    case error::unsupported_response_type:
      return "response_type must be 'code'";
    case error::invalid_scope:
      return "the requested scope is unknown";
    case error::pkce_required:
      return "code_challenge is required (PKCE with S256)";
    case error::pkce_method_unsupported:
      return "code_challenge_method must be S256";
    case error::invalid_client:
      return "client authentication failed";
    case error::client_auth_conflict:
      return "the client authenticated twice, with HTTP Basic and with client_secret in the body: "
             "use one method (RFC 6749 section 2.3)";
    case error::auth_method_unsupported:
      return "token_endpoint_auth_method is client_secret_basic, client_secret_post or none";
    case error::id_token_alg_unsupported:
      return "id_token_signed_response_alg is RS256 (the default) or EdDSA";
    case error::origin_invalid:
      return "an allowed origin is a scheme, a host and an optional port, such as "
             "https://app.example";
    case error::public_client_no_webhooks:
      return "a public client has no secret to sign webhooks and callbacks with: they are for "
             "confidential clients";
    case error::prompt_invalid:
      return "prompt is none alone, or any of login, consent and select_account";
    case error::max_age_invalid:
      return "max_age is a whole number of seconds";
    case error::login_required:
      return "prompt=none, and the user must log in";
    case error::consent_required:
      return "prompt=none, and the user has not granted these scopes to this client";
    case error::client_id_conflict:
      return "client_id in the body is not the client of the HTTP Basic credentials";
    case error::unsupported_grant_type:
      return "unsupported grant_type";
    case error::code_not_found:
      return "Matching code was not found or was already used";
    case error::code_expired:
      return "the authorization code has expired";
    case error::code_account_inactive:
      return "the account the code was granted for is restricted, suspended or banned";
    case error::code_reused:
      return "Matching code was not found or was already used; tokens issued from it are revoked";
    case error::code_client_mismatch:
      return "the authorization code was issued to another client";
    case error::redirect_uri_mismatch:
      return "redirect_uri does not match the one used in the authorization request";
    case error::pkce_verifier_missing:
      return "code_verifier is required for this code";
    case error::pkce_verifier_malformed:
      return "code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]";
    case error::pkce_verifier_mismatch:
      return "code_verifier does not match the code_challenge";
    case error::refresh_token_invalid:
      return "the refresh token is invalid, expired or revoked";
    case error::refresh_token_replayed:
      return "the refresh token was already used; every token of its grant is revoked";
    case error::authorization_request_unknown:
      return "the authorization request is unknown or expired";
    case error::token_invalid:
      return "Invalid OAuth access token - Cannot parse access token";
    case error::token_expired:
      return "Error validating access token: Session has expired";
    case error::token_too_young:
      return "the token must be at least 24 hours old to be refreshed";
    case error::token_wrong_kind:
      return "this grant needs a different kind of token";
    case error::insufficient_scope:
      return "the token's scope does not cover the requested fields";
    case error::login_failed:
      return "the username or password is incorrect";
    case error::session_account_unknown:
      return "that account is not logged in in this browser";
    case error::subscription_handshake_failed:
      return "the callback did not answer the hub.challenge handshake";
  }
  return "unknown linksim.idp error";
}

// Boost's error_category has a protected non-virtual destructor by design.
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "linksim.idp"; }
  std::string message(int ev) const override { return message_of(static_cast<error>(ev)); }
};

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const category_impl instance;
  return instance;
}

}  // namespace linksim::idp
