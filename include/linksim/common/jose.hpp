// JSON Web Signatures (RFC 7515, compact serialization) with EdDSA over Ed25519 (RFC 8037), and
// their keys as a JWK Set (RFC 7517): what the provider signs ID tokens and Security Event Tokens
// with, and what a receiver checks them by. EdDSA signatures are deterministic, so a simulated run
// with a seed gives the same tokens.
#pragma once

#include "linksim/common/crypto.hpp"
#include "linksim/common/error.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace linksim::jose {

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

struct jws {
  boost::json::object header;
  boost::json::object claims;
};

// The header and claims of a compact JWS, read without checking anything: for a reader that
// only sorts messages (the simulated network's fault filters), never for one that trusts them.
// errc::bad_field when it is not three base64url parts with JSON objects in the first two.
result<jws> read_unverified(std::string_view jwt);

// Checks a JWS against a JWK Set: the header's kid names a key of the set, alg is EdDSA, and the
// signature holds. errc::not_found when no key of the set has the header's kid (a receiver
// fetches the set again: the key may be new); errc::bad_field for anything else.
result<jws> verify(std::string_view jwt, const boost::json::object& jwks);
// The claims of a JWS that `verify` accepts.
result<boost::json::object> verify_jwt(std::string_view jwt, const boost::json::object& jwks);

}  // namespace linksim::jose
