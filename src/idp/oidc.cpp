// at_hash for ID tokens.
#include "linksim/idp/oidc.hpp"

namespace linksim::idp::oidc {

std::string at_hash(std::string_view access_token, std::string_view alg) {
  if (alg == rs256) {
    const auto h = sha256(access_token);
    return base64url_encode(std::span<const std::uint8_t>(h).subspan(0, h.size() / 2));
  }
  const auto h = sha512(as_bytes(access_token));
  return base64url_encode(std::span<const std::uint8_t>(h).subspan(0, h.size() / 2));
}

}  // namespace linksim::idp::oidc
