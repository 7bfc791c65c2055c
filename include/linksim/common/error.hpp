// The project's error codes: every expected failure is one of these, carried in a result.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <string_view>

namespace linksim {

enum class errc {
  // Input that could not be read.
  bad_json = 1,
  bad_form,
  missing_field,
  bad_field,
  not_found,
  method_not_allowed,
  unsupported_media_type,
  admin_unauthorized,

  // OAuth 2.0 (RFC 6749 §4.1.2.1, §5.2; RFC 7636; RFC 9700).
  unknown_client,
  redirect_uri_unregistered,
  unsupported_response_type,
  invalid_scope,
  pkce_required,
  pkce_method_unsupported,
  invalid_client,
  unsupported_grant_type,
  code_not_found,
  code_expired,
  code_reused,
  code_client_mismatch,
  redirect_uri_mismatch,
  pkce_verifier_missing,
  pkce_verifier_malformed,
  pkce_verifier_mismatch,
  refresh_token_invalid,
  refresh_token_replayed,
  access_denied,
  authorization_request_unknown,
  csrf_mismatch,

  // Bearer tokens (Meta's code 190).
  token_invalid,
  token_expired,
  token_too_young,
  token_wrong_kind,
  insufficient_scope,

  // Accounts.
  username_invalid,
  username_taken,
  login_failed,
  account_inactive,
  account_deleted,
  self_follow,
  session_account_unknown,

  // Webhooks.
  subscription_handshake_failed,
  callback_url_invalid,
  delivery_not_replayable,

  // The dependent service.
  already_linked,
  username_read_only,
  picture_read_only,
  not_signed_in,
  login_state_invalid,
  issuer_mismatch,
  link_request_unknown,
  profile_not_found,
  profile_unavailable,
  profile_deleted_upstream,
  signature_invalid,
  signed_request_invalid,
  verify_token_mismatch,
  already_liked,
  text_invalid,
  reauthorization_required,

  // The ad platform and its partners.
  partner_unauthorized,
  outside_contract,
  sale_refused,

  // Peers and storage.
  upstream_unavailable,
  upstream_bad_response,
};

const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

// True when `ec` is the given linksim error.
inline bool is(const boost::system::error_code& ec, errc e) noexcept {
  return ec == make_error_code(e);
}

template <class T>
using result = boost::system::result<T>;

}  // namespace linksim

template <>
struct boost::system::is_error_code_enum<linksim::errc> : std::true_type {};
