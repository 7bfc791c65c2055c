// OpenID Connect Core 1.0 on the provider, beside Meta's API: the ID token as a JWS (RFC 7515)
// signed with EdDSA over Ed25519 (RFC 8037), its keys as a JWK Set (RFC 7517), and at_hash.
// EdDSA signatures are deterministic, so a simulated run with a seed gives the same tokens.
#pragma once

#include "linksim/common/crypto.hpp"
#include "linksim/common/error.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace linksim::idp::oidc {

inline constexpr std::string_view scope_openid = "openid";
inline constexpr std::string_view scope_profile = "profile";
inline constexpr std::string_view algorithm = "EdDSA";

struct signing_key {
  std::string kid;  // base64url of the first 12 bytes of the SHA-256 of the public key
  ed25519_key key;
  static signing_key generate(random_source& random);
};

// header.payload.signature, with {"alg":"EdDSA","typ":typ,"kid":...}; a Security Event Token
// is typed "secevent+jwt" (RFC 8417 section 2.3).
std::string sign_jwt(const signing_key& k, const boost::json::object& claims,
                     std::string_view typ = "JWT");

// The key as a JWK: {"kty":"OKP","crv":"Ed25519","x","kid","use":"sig","alg":"EdDSA"}.
boost::json::object jwk(const signing_key& k);

// OIDC Core §3.1.3.6: the left half of the hash of the access token, base64url. For EdDSA over
// Ed25519 the hash is SHA-512.
std::string at_hash(std::string_view access_token);

// Checks a JWS against a JWK Set: the header's kid names a key of the set, alg is EdDSA, and the
// signature holds. Returns the claims; errc::bad_field otherwise (the token is not used).
result<boost::json::object> verify_jwt(std::string_view jwt, const boost::json::object& jwks);

}  // namespace linksim::idp::oidc
