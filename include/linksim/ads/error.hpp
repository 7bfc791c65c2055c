// The ad platform's errors: partners and their contracts.
// Each service has its own error enum and category; what every service shares (input that
// cannot be read, peers and storage) is linksim::errc. The service's describe() maps both to HTTP.
#pragma once

#include "linksim/common/error.hpp"

namespace linksim::ads {

enum class error {
  partner_unauthorized = 1,
  outside_contract,
  sale_refused,
};

const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace linksim::ads

template <>
struct boost::system::is_error_code_enum<linksim::ads::error> : std::true_type {};
