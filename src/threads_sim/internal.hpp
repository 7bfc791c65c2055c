// Helpers shared by the dependent service's implementation files.
#pragma once

#include "linksim/common/text.hpp"
#include "linksim/threads_sim/service.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace linksim::threads_sim::detail {

// The provider statuses that hide a profile from everyone (see docs/linkage.md): its content is
// kept and comes back when the provider reinstates the account.
inline bool hidden_status(std::string_view status) {
  return status == "suspended" || status == "banned";
}

// A provider profile as stored with a link request, and back.
std::string to_json(const idp_profile& p);
result<idp_profile> from_json(std::string_view text);
// Reads /me's answer. errc::upstream_bad_response when it is not a profile.
result<idp_profile> parse_me(std::string_view body);

// The data categories a profile read from the provider carries: those of its fields that hold
// a value (an account without a name shares no name).
std::vector<std::string> categories_of(const idp_profile& p);

}  // namespace linksim::threads_sim::detail
