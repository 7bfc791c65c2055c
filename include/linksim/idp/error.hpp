// The identity provider's errors: OAuth 2.0 (RFC 6749 §4.1.2.1, §5.2; RFC 7636; RFC 9700),
// bearer tokens (Meta's code 190), its own sign-in and webhook subscriptions.
// Each service has its own error enum and category; what every service shares (input that
// cannot be read, peers and storage) is linksim::errc. The service's describe() maps both to HTTP.
#pragma once

#include "linksim/common/error.hpp"

namespace linksim::idp {

enum class error {
  unknown_client = 1,
  redirect_uri_unregistered,
  unsupported_response_type,
  invalid_scope,
  pkce_required,
  pkce_method_unsupported,
  invalid_client,
  unsupported_grant_type,
  code_not_found,
  code_expired,
  code_account_inactive,  // the account was restricted, suspended or banned after its consent
  code_reused,
  code_client_mismatch,
  redirect_uri_mismatch,
  pkce_verifier_missing,
  pkce_verifier_malformed,
  pkce_verifier_mismatch,
  refresh_token_invalid,
  refresh_token_replayed,
  authorization_request_unknown,
  token_invalid,
  token_expired,
  token_too_young,
  token_wrong_kind,
  insufficient_scope,
  login_failed,
  session_account_unknown,
  subscription_handshake_failed,
  client_auth_conflict,  // HTTP Basic and client_secret in the body
  client_id_conflict,    // a body client_id other than the Basic one
  auth_method_unsupported,
  id_token_alg_unsupported,
  origin_invalid,
  public_client_no_webhooks,
  prompt_invalid,  // OpenID Connect Core 3.1.2.1
  max_age_invalid,
  login_required,    // prompt=none, and the browser must log in
  consent_required,  // prompt=none, and the account never granted these scopes
};

const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace linksim::idp

template <>
struct boost::system::is_error_code_enum<linksim::idp::error> : std::true_type {};
