// Helpers shared by the identity provider's implementation files.
#pragma once

#include "linksim/common/text.hpp"
#include "linksim/idp/service.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace linksim::idp::detail {

// The scopes the provider knows: what each lets a client read.
inline constexpr std::string_view scope_profile = "user_profile";
inline constexpr std::string_view scope_followers = "user_followers";
bool known_scope(std::string_view s);

// An absolute http(s) URL with a host: a callback, a webhook or a push endpoint.
bool is_http_url(std::string_view url);

}  // namespace linksim::idp::detail
