// The linksim error category: a sentence for every error code, shown to people and clients.
#include "linksim/common/error.hpp"

#include <string>

namespace linksim {
namespace {

const char* message_of(errc e) {
  switch (e) {
    case errc::bad_json:
      return "the body is not valid JSON";
    case errc::bad_form:
      return "the body is not a valid application/x-www-form-urlencoded form";
    case errc::missing_field:
      return "a required field is missing";
    case errc::bad_field:
      return "a field has a value of the wrong type or form";
    case errc::not_found:
      return "no such resource";
    case errc::method_not_allowed:
      return "this method is not allowed on this resource";
    case errc::unsupported_media_type:
      return "unsupported content type";
    case errc::admin_unauthorized:
      return "the admin API needs 'Authorization: Bearer <admin token>'";
    case errc::unknown_client:
      return "unknown client_id";
    case errc::redirect_uri_unregistered:
      return "redirect_uri is missing or does not exactly match a URI registered for this client";
    case errc::unsupported_response_type:
      return "response_type must be 'code'";
    case errc::invalid_scope:
      return "the requested scope is unknown";
    case errc::pkce_required:
      return "code_challenge is required (PKCE with S256)";
    case errc::pkce_method_unsupported:
      return "code_challenge_method must be S256";
    case errc::invalid_client:
      return "client authentication failed";
    case errc::unsupported_grant_type:
      return "unsupported grant_type";
    case errc::code_not_found:
      return "Matching code was not found or was already used";
    case errc::code_expired:
      return "the authorization code has expired";
    case errc::code_reused:
      return "Matching code was not found or was already used; tokens issued from it are revoked";
    case errc::code_client_mismatch:
      return "the authorization code was issued to another client";
    case errc::redirect_uri_mismatch:
      return "redirect_uri does not match the one used in the authorization request";
    case errc::pkce_verifier_missing:
      return "code_verifier is required for this code";
    case errc::pkce_verifier_malformed:
      return "code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]";
    case errc::pkce_verifier_mismatch:
      return "code_verifier does not match the code_challenge";
    case errc::refresh_token_invalid:
      return "the refresh token is invalid, expired or revoked";
    case errc::refresh_token_replayed:
      return "the refresh token was already used; every token of its grant is revoked";
    case errc::access_denied:
      return "the user denied the request";
    case errc::authorization_request_unknown:
      return "the authorization request is unknown or expired";
    case errc::csrf_mismatch:
      return "the form's CSRF token does not match; reload the page";
    case errc::token_invalid:
      return "Invalid OAuth access token - Cannot parse access token";
    case errc::token_expired:
      return "Error validating access token: Session has expired";
    case errc::token_too_young:
      return "the token must be at least 24 hours old to be refreshed";
    case errc::token_wrong_kind:
      return "this grant needs a different kind of token";
    case errc::insufficient_scope:
      return "the token's scope does not cover the requested fields";
    case errc::username_invalid:
      return "usernames are 1 to 30 letters, digits, periods and underscores, neither starting nor "
             "ending with a period, with no two periods in a row";
    case errc::username_taken:
      return "this username is taken";
    case errc::login_failed:
      return "the username or password is incorrect";
    case errc::account_inactive:
      return "this account is restricted, suspended or banned";
    case errc::account_deleted:
      return "this account has been deleted";
    case errc::self_follow:
      return "an account cannot follow itself";
    case errc::session_account_unknown:
      return "that account is not logged in in this browser";
    case errc::subscription_handshake_failed:
      return "the callback did not answer the hub.challenge handshake";
    case errc::callback_url_invalid:
      return "the callback URL must be an absolute http(s) URL";
    case errc::delivery_not_replayable:
      return "only dead or disabled deliveries can be replayed";
    case errc::already_linked:
      return "this Instagram account is already linked to another Threads profile";
    case errc::username_read_only:
      return "the username mirrors the Instagram username and cannot be changed here";
    case errc::picture_read_only:
      return "the profile picture mirrors the Instagram picture and cannot be changed here";
    case errc::not_signed_in:
      return "sign in first";
    case errc::login_state_invalid:
      return "the sign-in attempt is unknown, expired or belongs to another browser";
    case errc::issuer_mismatch:
      return "the authorization response came from an unexpected issuer";
    case errc::link_request_unknown:
      return "the link request is unknown or expired: log in with Instagram again";
    case errc::profile_not_found:
      return "no such profile";
    case errc::profile_unavailable:
      return "this profile is unavailable while its Instagram account is suspended";
    case errc::profile_deleted_upstream:
      return "the Instagram account this profile was linked to has been deleted";
    case errc::signature_invalid:
      return "the X-Hub-Signature-256 header does not match the body";
    case errc::signed_request_invalid:
      return "the signed_request's signature does not match its payload (HMAC-SHA256 with the "
             "client secret)";
    case errc::verify_token_mismatch:
      return "hub.verify_token does not match";
    case errc::already_liked:
      return "this post is already liked";
    case errc::text_invalid:
      return "a post holds 1 to 500 characters";
    case errc::reauthorization_required:
      return "the identity provider no longer accepts this profile's token: log in again";
    case errc::partner_unauthorized:
      return "the partner key is missing or unknown";
    case errc::outside_contract:
      return "the partner's contract does not allow this use of the data";
    case errc::sale_refused:
      return "personal data is never exchanged for payment";
    case errc::upstream_unavailable:
      return "a service this request depends on is unavailable";
    case errc::upstream_bad_response:
      return "a service this request depends on answered badly";
  }
  return "unknown linksim error";
}

// Boost's error_category has a protected non-virtual destructor by design.
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "linksim"; }
  std::string message(int ev) const override { return message_of(static_cast<errc>(ev)); }
};

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const category_impl instance;
  return instance;
}

}  // namespace linksim
