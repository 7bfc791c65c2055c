// Helpers shared by the identity provider's implementation files.
#pragma once

#include "linksim/common/text.hpp"
#include "linksim/idp/service.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace linksim::idp::detail {

// SHA-256 of a secret value: tokens, codes and sessions are stored only as hashes.
inline std::span<const std::uint8_t> hash_bytes(const digest& d) {
  return d;
}

// The scopes the provider knows: what each lets a client read.
inline constexpr std::string_view scope_profile = "user_profile";
inline constexpr std::string_view scope_followers = "user_followers";
bool known_scope(std::string_view s);

}  // namespace linksim::idp::detail
