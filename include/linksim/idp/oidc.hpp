// OpenID Connect Core 1.0 on the provider, beside Meta's API: its scopes and at_hash. The ID
// token is a JWS signed with EdDSA (common/jose.hpp).
#pragma once

#include "linksim/common/jose.hpp"

#include <string>
#include <string_view>

namespace linksim::idp::oidc {

inline constexpr std::string_view scope_openid = "openid";
inline constexpr std::string_view scope_profile = "profile";
using jose::algorithm;
using jose::rs256;

// The JOSE primitives are common/jose.hpp's: a receiver of the provider's tokens checks them too.
using jose::jwk;
using jose::sign_jwt;
using jose::signing_key;
using jose::verify_jwt;

// OIDC Core §3.1.3.6: the left half of the hash of the access token, base64url, with the hash
// of the ID token's alg: SHA-256 for RS256, SHA-512 for EdDSA over Ed25519.
std::string at_hash(std::string_view access_token, std::string_view alg = algorithm);

}  // namespace linksim::idp::oidc
