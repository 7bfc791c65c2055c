// The errors every part of linksim shares, carried in a result: input that cannot be read, what
// both services refuse alike, peers and storage. Each service adds its own enum and category
// (idp/error.hpp, threads_sim/error.hpp, ads/error.hpp).
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

  // What a person does that both the provider and the dependent service refuse alike.
  access_denied,
  csrf_mismatch,
  username_invalid,
  username_taken,
  account_inactive,
  account_deleted,
  self_follow,

  // Outgoing calls and their outboxes.
  callback_url_invalid,
  delivery_not_replayable,

  // Peers and storage.
  upstream_unavailable,
  upstream_bad_response,
};

const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

// True when `ec` is the given error, of this enum or a service's.
template <class E>
requires boost::system::is_error_code_enum<E>::value bool is(const boost::system::error_code& ec,
                                                             E e) noexcept {
  return ec == make_error_code(e);
}

template <class T>
using result = boost::system::result<T>;

}  // namespace linksim

template <>
struct boost::system::is_error_code_enum<linksim::errc> : std::true_type {};
