// The dependent service's error category: a sentence for every error code, shown to people and
// clients.
#include "linksim/threads_sim/error.hpp"

#include <string>

namespace linksim::threads_sim {
namespace {

const char* message_of(error e) {
  switch (e) {
    case error::already_linked:
      return "this Instagram account is already linked to another Threads profile";
    case error::username_read_only:
      return "the username mirrors the Instagram username and cannot be changed here";
    case error::picture_read_only:
      return "the profile picture mirrors the Instagram picture and cannot be changed here";
    case error::name_read_only:
      return "the display name mirrors the Instagram name and cannot be changed here";
    case error::not_signed_in:
      return "sign in first";
    case error::login_state_invalid:
      return "the sign-in attempt is unknown, expired or belongs to another browser";
    case error::issuer_mismatch:
      return "the authorization response came from an unexpected issuer";
    case error::link_request_unknown:
      return "the link request is unknown or expired: log in with Instagram again";
    case error::profile_not_found:
      return "no such profile";
    case error::profile_unavailable:
      return "this profile is unavailable while its Instagram account is suspended";
    case error::profile_deleted_upstream:
      return "the Instagram account this profile was linked to has been deleted";
    case error::signature_invalid:
      return "the X-Hub-Signature-256 header does not match the body";
    case error::signed_request_invalid:
      return "the signed_request's signature does not match its payload (HMAC-SHA256 with the "
             "client secret)";
    case error::verify_token_mismatch:
      return "hub.verify_token does not match";
    case error::already_liked:
      return "this post is already liked";
    case error::text_invalid:
      return "a post holds 1 to 500 characters";
    case error::reauthorization_required:
      return "the identity provider no longer accepts this profile's token: log in again";
    case error::push_unauthorized:
      return "the Authorization header is not the one this stream was given";
    case error::set_invalid:
      return "not a Security Event Token: a JWS typed secevent+jwt with iss, aud, iat, jti, "
             "sub_id and events";
    case error::set_key_invalid:
      return "the SET is not signed by a key of the transmitter's key set";
    case error::set_issuer_invalid:
      return "the SET's iss is not the identity provider";
    case error::set_audience_invalid:
      return "the SET's aud is not this service";
    case error::bio_read_only:
      return "the bio was copied from Instagram at sign-up and cannot be changed here";
    case error::account_type_refused:
      return "only a personal Instagram account can sign up here";
  }
  return "unknown linksim.threads error";
}

// Boost's error_category has a protected non-virtual destructor by design.
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "linksim.threads"; }
  std::string message(int ev) const override { return message_of(static_cast<error>(ev)); }
};

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const category_impl instance;
  return instance;
}

}  // namespace linksim::threads_sim
