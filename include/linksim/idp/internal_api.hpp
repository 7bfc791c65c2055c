// The client side of the provider's internal API, for the company's other systems: the one
// place that knows its path, its authentication and its answer.
#pragma once

#include "linksim/common/error.hpp"
#include "linksim/common/http.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace linksim::idp {

// Whether the account's ad settings allow personalised ads: GET
// <idp_url>/internal/accounts/<id>/ad-settings with the system's token.
// errc::account_deleted (the provider answered 410), upstream_unavailable (not reached),
// upstream_bad_response (any other answer).
result<bool> read_personalized_ads(http::transport& t, std::string_view idp_url,
                                   std::string_view token, std::int64_t account);

// Writes a name or a biography to the account, as a cross-product profile sync does: PATCH
// <idp_url>/internal/accounts/<id>/profile with the system's token. The provider's answer's
// status, or upstream_unavailable when it was not reached.
result<int> write_profile(http::transport& t, std::string_view idp_url, std::string_view token,
                          std::int64_t account, const std::optional<std::string>& name,
                          const std::optional<std::string>& biography);

}  // namespace linksim::idp
