// JWS compact serialization with EdDSA and RS256 (RFC 7515, RFC 8037, RFC 7518) and the JWK Set
// (RFC 7517).
#include "linksim/common/jose.hpp"

#include "linksim/common/json.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <array>

namespace linksim::jose {

signing_key signing_key::generate(random_source& random) {
  signing_key k;
  k.key = ed25519_key::generate(random);
  const digest d = sha256(k.key.public_key);
  k.kid = base64url_encode(std::span<const std::uint8_t>(d).subspan(0, 12));
  return k;
}

signing_key signing_key::generate_rsa(random_source& random) {
  signing_key k;
  k.rsa = std::make_shared<const rsa_key>(rsa_key::generate(random));
  const digest d = sha256(k.rsa->n);
  k.kid = base64url_encode(std::span<const std::uint8_t>(d).subspan(0, 12));
  return k;
}

std::string sign_jwt(const signing_key& k, const boost::json::object& claims,
                     std::string_view typ) {
  const boost::json::object header{{"alg", k.alg()}, {"typ", typ}, {"kid", k.kid}};
  const std::string input =
      base64url_encode(json::serialize(header)) + "." + base64url_encode(json::serialize(claims));
  if (k.rsa) return input + "." + base64url_encode(k.rsa->sign_sha256(as_bytes(input)));
  const auto signature = k.key.sign(as_bytes(input));
  return input + "." + base64url_encode(signature);
}

boost::json::object jwk(const signing_key& k) {
  if (k.rsa)
    return {{"kty", "RSA"},
            {"n", base64url_encode(k.rsa->n)},
            {"e", base64url_encode(k.rsa->e)},
            {"kid", k.kid},
            {"use", "sig"},
            {"alg", rs256}};
  return {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", base64url_encode(k.key.public_key)},
          {"kid", k.kid}, {"use", "sig"},     {"alg", algorithm}};
}

namespace {

struct parts {
  jws read;
  std::string_view signing_input;
  std::vector<std::uint8_t> signature;
};

result<parts> split(std::string_view jwt) {
  const auto bad = make_error_code(errc::bad_field);
  const auto dot1 = jwt.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : jwt.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || jwt.find('.', dot2 + 1) != std::string_view::npos)
    return bad;
  const auto header_bytes = base64url_decode(jwt.substr(0, dot1));
  const auto payload_bytes = base64url_decode(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = base64url_decode(jwt.substr(dot2 + 1));
  if (!header_bytes || !payload_bytes || !signature) return bad;
  auto header = json::parse_object(as_chars(*header_bytes));
  auto claims = json::parse_object(as_chars(*payload_bytes));
  if (!header || !claims) return bad;
  return parts{
      {std::move(*header), std::move(*claims)}, jwt.substr(0, dot2), std::move(*signature)};
}

}  // namespace

result<jws> read_unverified(std::string_view jwt) {
  auto p = split(jwt);
  if (!p) return p.error();
  return std::move(p->read);
}

namespace {

// The key's base64url member `name`, decoded; nullopt when absent or not base64url.
std::optional<std::vector<std::uint8_t>> member(const boost::json::object& key,
                                                std::string_view name) {
  const auto* v = key.if_contains(name);
  return v && v->is_string() ? base64url_decode(v->as_string()) : std::nullopt;
}

bool string_is(const boost::json::object& o, std::string_view name, std::string_view want) {
  const auto* v = o.if_contains(name);
  return v && v->is_string() && v->as_string() == want;
}

}  // namespace

result<jws> verify(std::string_view jwt, const boost::json::object& jwks) {
  const auto bad = make_error_code(errc::bad_field);
  auto p = split(jwt);
  if (!p) return bad;
  const auto* alg = p->read.header.if_contains("alg");
  const auto* kid = p->read.header.if_contains("kid");
  if (!alg || !alg->is_string() || !kid || !kid->is_string()) return bad;
  const bool eddsa = alg->as_string() == algorithm;
  if (!eddsa && alg->as_string() != rs256) return bad;
  const auto* keys = jwks.if_contains("keys");
  if (!keys || !keys->is_array()) return bad;
  for (const auto& entry : keys->as_array()) {
    if (!entry.is_object() || entry.as_object().if_contains("kid") == nullptr ||
        entry.as_object().at("kid") != *kid)
      continue;
    const auto& key = entry.as_object();
    // The header's alg must be the key's: an RSA key never checks an EdDSA header, nor the
    // reverse, whatever the header says.
    if (key.contains("alg") && !string_is(key, "alg", alg->as_string())) return bad;
    if (eddsa) {
      const auto raw = member(key, "x");
      if (!string_is(key, "kty", "OKP") || !string_is(key, "crv", "Ed25519") || !raw ||
          raw->size() != 32 || p->signature.size() != 64)
        return bad;
      std::array<std::uint8_t, 32> pub{};
      std::copy(raw->begin(), raw->end(), pub.begin());
      if (!ed25519_verify(pub, as_bytes(p->signing_input), p->signature)) return bad;
    } else {
      const auto n = member(key, "n");
      const auto e = member(key, "e");
      if (!string_is(key, "kty", "RSA") || !n || !e ||
          !rsa_sha256_verify(*n, *e, as_bytes(p->signing_input), p->signature))
        return bad;
    }
    return std::move(p->read);
  }
  return make_error_code(errc::not_found);
}

result<boost::json::object> verify_jwt(std::string_view jwt, const boost::json::object& jwks) {
  auto v = verify(jwt, jwks);
  if (!v) return make_error_code(errc::bad_field);
  return std::move(v->claims);
}

}  // namespace linksim::jose
