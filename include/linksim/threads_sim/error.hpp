// The dependent service's errors: sign-in through the provider, profiles and their mirror,
// content, signed webhooks and callbacks.
// Each service has its own error enum and category; what every service shares (input that
// cannot be read, peers and storage) is linksim::errc. The service's describe() maps both to HTTP.
#pragma once

#include "linksim/common/error.hpp"

namespace linksim::threads_sim {

enum class error {
  already_linked = 1,
  username_read_only,
  picture_read_only,
  name_read_only,
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
  push_unauthorized,     // a pushed SET without the stream's Authorization header
  set_invalid,           // not a Security Event Token this service can read
  set_key_invalid,       // not signed by a key of the transmitter's key set
  set_issuer_invalid,    // iss is not the provider
  set_audience_invalid,  // aud is not this service's client id
  bio_read_only,         // the behaviour locks the bio to the copy made at sign-up
  account_type_refused,  // the behaviour links personal accounts only
};

const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace linksim::threads_sim

template <>
struct boost::system::is_error_code_enum<linksim::threads_sim::error> : std::true_type {};
