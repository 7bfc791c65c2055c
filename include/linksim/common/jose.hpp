// JSON Web Signatures (RFC 7515, compact serialization) with EdDSA over Ed25519 (RFC 8037) or
// RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 section 3.3), and their keys as a JWK Set
// (RFC 7517): what the provider signs ID tokens and Security Event Tokens with, and what a
// receiver checks them by. Both signatures are deterministic, and keys are drawn from a
// random_source, so a simulated run with a seed gives the same tokens.
#pragma once

#include "linksim/common/crypto.hpp"
#include "linksim/common/error.hpp"

#include <boost/json/object.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace linksim::jose {

inline constexpr std::string_view algorithm = "EdDSA";  // the provider's own choice
inline constexpr std::string_view rs256 = "RS256";      // OIDC Core section 15.1's mandatory one

struct signing_key {
  std::string kid;  // base64url of the first 12 bytes of the SHA-256 of the public key
  ed25519_key key;  // EdDSA
  std::shared_ptr<const rsa_key> rsa;  // set for RS256
  std::string_view alg() const { return rsa ? rs256 : algorithm; }
  static signing_key generate(random_source& random);      // EdDSA
  static signing_key generate_rsa(random_source& random);  // RS256, 2048 bits
};

// header.payload.signature, with {"alg":k.alg(),"typ":typ,"kid":...}; a Security Event Token
// is typed "secevent+jwt" (RFC 8417 section 2.3).
std::string sign_jwt(const signing_key& k, const boost::json::object& claims,
                     std::string_view typ = "JWT");

// The public key as a JWK: {"kty":"OKP","crv":"Ed25519","x"} or {"kty":"RSA","n","e"}, with
// "kid", "use":"sig" and "alg".
boost::json::object jwk(const signing_key& k);

struct jws {
  boost::json::object header;
  boost::json::object claims;
};

// The header and claims of a compact JWS, read without checking anything: for a reader that
// only sorts messages (the simulated network's fault filters), never for one that trusts them.
// errc::bad_field when it is not three base64url parts with JSON objects in the first two.
result<jws> read_unverified(std::string_view jwt);

// Checks a JWS against a JWK Set: the header's kid names a key of the set, alg is EdDSA or
// RS256 and is the key's own (its kty, and its alg when it states one: no key serves two
// algorithms), and the signature holds. errc::not_found when no key of the set has the header's kid
// (a receiver fetches the set again: the key may be new); errc::bad_field for anything else.
result<jws> verify(std::string_view jwt, const boost::json::object& jwks);
// The claims of a JWS that `verify` accepts.
result<boost::json::object> verify_jwt(std::string_view jwt, const boost::json::object& jwks);

}  // namespace linksim::jose
