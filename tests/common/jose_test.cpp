// JWS with EdDSA and RS256: keys drawn from a seeded stream are the same every time, each
// signature verifies against the key set, and a header cannot make a key serve another
// algorithm than its own.
#include "linksim/common/jose.hpp"
#include "linksim/common/json.hpp"
#include "linksim/common/random.hpp"

#include <gtest/gtest.h>

namespace linksim {
namespace {

namespace bj = boost::json;

bj::object set_of(std::initializer_list<bj::object> keys) {
  bj::array a;
  for (const auto& k : keys) a.push_back(k);
  return {{"keys", std::move(a)}};
}

TEST(Rsa, TheSameStreamGivesTheSameKeyAndItsSignaturesVerify) {
  seeded_random a(11), b(11), c(12);
  const auto k = rsa_key::generate(a);
  EXPECT_EQ(k.n, rsa_key::generate(b).n);
  EXPECT_NE(k.n, rsa_key::generate(c).n);
  ASSERT_EQ(k.n.size(), 256u);  // 2048 bits, the top one set
  EXPECT_GE(k.n.front(), 0x80);
  EXPECT_EQ(k.e, (std::vector<std::uint8_t>{0x01, 0x00, 0x01}));
  const auto sig = k.sign_sha256(as_bytes("message"));
  EXPECT_EQ(sig, k.sign_sha256(as_bytes("message")));  // PKCS #1 v1.5 is deterministic
  EXPECT_TRUE(rsa_sha256_verify(k.n, k.e, as_bytes("message"), sig));
  EXPECT_FALSE(rsa_sha256_verify(k.n, k.e, as_bytes("messagf"), sig));
  auto bent = sig;
  bent[100] ^= 1;
  EXPECT_FALSE(rsa_sha256_verify(k.n, k.e, as_bytes("message"), bent));
  // Keys outside the bounds are refused before any work: a short modulus, a long exponent.
  const std::vector<std::uint8_t> short_n(k.n.begin(), k.n.begin() + 128);
  EXPECT_FALSE(rsa_sha256_verify(short_n, k.e, as_bytes("message"), sig));
  EXPECT_FALSE(rsa_sha256_verify(k.n, std::vector<std::uint8_t>(5, 1), as_bytes("message"), sig));
  EXPECT_THROW(rsa_key::generate(a, 1024), std::invalid_argument);
}

TEST(Jose, BothAlgorithmsSignAndVerifyAgainstTheKeySet) {
  seeded_random random(3);
  const auto ed = jose::signing_key::generate(random);
  const auto rs = jose::signing_key::generate_rsa(random);
  const auto keys = set_of({jose::jwk(ed), jose::jwk(rs)});
  EXPECT_EQ(jose::jwk(rs).at("kty"), "RSA");
  EXPECT_EQ(jose::jwk(rs).at("alg"), "RS256");
  for (const auto* k : {&ed, &rs}) {
    const std::string jwt = jose::sign_jwt(*k, {{"sub", "1"}});
    const auto v = jose::verify(jwt, keys);
    ASSERT_TRUE(v) << k->alg();
    EXPECT_EQ(v->header.at("alg").as_string(), k->alg());
    EXPECT_EQ(v->header.at("kid").as_string(), k->kid);
    EXPECT_EQ(v->claims.at("sub"), "1");
    // Another payload under the same signature fails.
    const auto dot = jwt.find('.');
    const std::string forged = jwt.substr(0, dot + 1) +
                               base64url_encode(std::string_view(R"({"sub":"2"})")) +
                               jwt.substr(jwt.rfind('.'));
    EXPECT_FALSE(jose::verify(forged, keys));
    // A key set without the kid: not_found, so a receiver fetches the set again.
    EXPECT_EQ(jose::verify(jwt, set_of({})).error(), make_error_code(errc::not_found));
  }
}

// An RS256 token whose header claims EdDSA (or the reverse) under the other key's kid is refused,
// as is a key whose own alg differs from the header's.
TEST(Jose, AHeaderCannotMakeAKeyServeAnotherAlgorithm) {
  seeded_random random(4);
  const auto ed = jose::signing_key::generate(random);
  const auto rs = jose::signing_key::generate_rsa(random);
  const auto rewrite = [](const std::string& jwt, const bj::object& header) {
    return base64url_encode(json::serialize(header)) + jwt.substr(jwt.find('.'));
  };
  const std::string by_rsa = jose::sign_jwt(rs, {{"sub", "1"}});
  const std::string by_ed = jose::sign_jwt(ed, {{"sub", "1"}});
  // The RSA key, relabelled as the Ed25519 one's kid, and the reverse.
  EXPECT_FALSE(
      jose::verify(rewrite(by_rsa, {{"alg", "EdDSA"}, {"kid", rs.kid}}), set_of({jose::jwk(rs)})));
  EXPECT_FALSE(
      jose::verify(rewrite(by_ed, {{"alg", "RS256"}, {"kid", ed.kid}}), set_of({jose::jwk(ed)})));
  // A key that says it is for EdDSA never checks an RS256 header, even with RSA members.
  auto mislabelled = jose::jwk(rs);
  mislabelled["alg"] = "EdDSA";
  EXPECT_FALSE(jose::verify(by_rsa, set_of({mislabelled})));
  // Without its alg member the RSA key still checks only RS256.
  auto bare = jose::jwk(rs);
  bare.erase("alg");
  EXPECT_TRUE(jose::verify(by_rsa, set_of({bare})));
  EXPECT_FALSE(jose::verify(rewrite(by_rsa, {{"alg", "HS256"}, {"kid", rs.kid}}), set_of({bare})));
  EXPECT_FALSE(jose::verify(rewrite(by_rsa, {{"alg", "none"}, {"kid", rs.kid}}), set_of({bare})));
}

}  // namespace
}  // namespace linksim
