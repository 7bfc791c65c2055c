// Tests of the OpenSSL wrappers against published vectors.
#include "linksim/common/crypto.hpp"
#include "linksim/common/random.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace linksim {
namespace {

TEST(Sha256, MatchesFipsVectors) {
  EXPECT_EQ(to_hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HmacSha256, MatchesRfc4231Case2) {
  EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// One context per thread is re-keyed on each call: an empty key after a non-empty one must be
// the empty key, not the previous one.
TEST(HmacSha256, EachCallUsesItsOwnKeyEvenWhenEmpty) {
  const std::string empty_empty =
      "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad";
  EXPECT_EQ(to_hex(hmac_sha256("", "")), empty_empty);
  EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(to_hex(hmac_sha256("", "")), empty_empty);
}

// Each thread keeps a context for each of the last eight keys: published vectors, a key that is
// a prefix of another, a key longer than SHA-256's block, and more keys than are kept, called in
// an order that makes every context be reused, replaced and used again.
TEST(HmacSha256, KeptKeysGiveEachKeyItsOwnMac) {
  struct vector {
    std::string key, data, mac;
  };
  std::vector<vector> known = {
      {std::string(20, '\x0b'), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},  // RFC 4231 case 1
      {"Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},  // case 2
      {"Jef", "what do ya want for nothing?",
       "89630a7f7bb95aced9efa60255f18a10e7d378665751be11dd40bb9594158c29"},  // openssl dgst
      {std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},  // case 6
  };
  std::vector<std::string> first;
  for (int i = 0; i < 12; ++i)
    first.push_back(to_hex(hmac_sha256("key " + std::to_string(i), "message")));
  for (int round = 0; round < 3; ++round) {
    for (int i = 11; i >= 0; --i) {
      const auto& v = known[static_cast<std::size_t>(i) % known.size()];
      EXPECT_EQ(to_hex(hmac_sha256(v.key, v.data)), v.mac) << round << " " << i;
      EXPECT_EQ(to_hex(hmac_sha256("key " + std::to_string(i), "message")),
                first[static_cast<std::size_t>(i)])
          << round << " " << i;
      EXPECT_EQ(to_hex(hmac_sha256(v.key, v.data)), v.mac) << round << " " << i;
    }
  }
  // Twelve keys, one message: twelve different MACs.
  std::sort(first.begin(), first.end());
  EXPECT_EQ(std::unique(first.begin(), first.end()), first.end());
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(Hex, RoundTripsAndRejectsBadInput) {
  const std::vector<std::uint8_t> b{0x00, 0xab, 0xff};
  EXPECT_EQ(to_hex(b), "00abff");
  EXPECT_EQ(from_hex("00ABff"), b);
  EXPECT_FALSE(from_hex("abc"));
  EXPECT_FALSE(from_hex("zz"));
}

TEST(Base64, MatchesRfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(as_bytes(plain)), encoded);
    auto back = base64_decode(encoded);
    ASSERT_TRUE(back) << encoded;
    EXPECT_EQ(as_chars(*back), plain);
  }
  EXPECT_FALSE(base64_decode("Zm9"));
  EXPECT_FALSE(base64_decode("Zm 9"));
  EXPECT_FALSE(base64_decode("Z=9v"));
  // Every character next to the alphabet's ranges, the URL-safe ones and a non-ASCII byte.
  for (const char* bad :
       {"Zm9@", "Zm9[", "Zm9`", "Zm9{", "Zm9:", "Zm9-", "Zm9_", "Zm9\xc3", "Zm9\t"})
    EXPECT_FALSE(base64_decode(bad)) << bad;
}

TEST(Base64Url, UsesUrlAlphabetWithoutPadding) {
  const std::vector<std::uint8_t> b{0xfb, 0xff, 0xbf};
  EXPECT_EQ(base64url_encode(b), "-_-_");
  EXPECT_EQ(base64url_decode("-_-_"), b);
  EXPECT_EQ(base64url_encode(std::string_view("f")), "Zg");
  EXPECT_EQ(base64url_decode("Zg"), std::vector<std::uint8_t>{'f'});
  EXPECT_FALSE(base64url_decode("+/"));
}

TEST(Ed25519, MatchesRfc8032Test1AndRejectsTampering) {
  auto seed = from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  ASSERT_TRUE(seed);
  const auto key = ed25519_key::from_seed(std::span<const std::uint8_t, 32>(seed->data(), 32));
  EXPECT_EQ(to_hex(key.public_key),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const auto sig = key.sign({});
  EXPECT_EQ(to_hex(sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39"
            "701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  EXPECT_TRUE(ed25519_verify(key.public_key, {}, sig));
  auto bad = sig;
  bad[0] ^= 1;
  EXPECT_FALSE(ed25519_verify(key.public_key, {}, bad));
  EXPECT_FALSE(ed25519_verify(key.public_key, as_bytes("x"), sig));
}

// The prepared OpenSSL key gives the same signature as a key made field by field (Ed25519 is
// deterministic), and a key whose fields were changed afterwards does not sign with it.
TEST(Ed25519, APreparedKeySignsAsTheSeedDoes) {
  seeded_random r(3);
  const auto key = ed25519_key::generate(r);
  ASSERT_TRUE(key.prepared);
  ed25519_key plain;
  plain.seed = key.seed;
  plain.public_key = key.public_key;
  EXPECT_EQ(to_hex(key.sign(as_bytes("note"))), to_hex(plain.sign(as_bytes("note"))));
  const auto other = ed25519_key::generate(r);
  ed25519_key mixed = key;  // the other key's fields under this key's prepared form
  mixed.seed = other.seed;
  mixed.public_key = other.public_key;
  const auto sig = mixed.sign(as_bytes("note"));
  EXPECT_TRUE(ed25519_verify(other.public_key, as_bytes("note"), sig));
}

TEST(PasswordHash, VerifiesOnlyTheRightPassword) {
  seeded_random random(1);
  const password_cost cheap{1u << 10, 8, 1};
  const std::string h = hash_password("correct horse", random, cheap);
  EXPECT_TRUE(h.starts_with("scrypt$1024$8$1$"));
  EXPECT_TRUE(verify_password("correct horse", h));
  EXPECT_FALSE(verify_password("correct hors", h));
  EXPECT_FALSE(verify_password("correct horse", "scrypt$1024$8$1$bad"));
  EXPECT_FALSE(verify_password("correct horse", "plain"));
  // Salted: the same password hashes differently each time.
  EXPECT_NE(hash_password("correct horse", random, cheap), h);
}

// RFC 7914 §12, the third vector (P = "password", S = "NaCl", N = 1024, r = 8, p = 16): the
// first 32 bytes of its 64 (PBKDF2's blocks are independent, so a 32-byte key is that prefix).
TEST(PasswordHash, MatchesTheRfc7914Vector) {
  const std::string rfc = "scrypt$1024$8$16$TmFDbA$_bq-HJ00cgB4VucZDQHp_nxq18vII3gw53N2Y0s3MWI";
  EXPECT_TRUE(verify_password("password", rfc));
  EXPECT_FALSE(verify_password("passwore", rfc));
  EXPECT_FALSE(verify_password(
      "password", "scrypt$1024$8$15$TmFDbA$_bq-HJ00cgB4VucZDQHp_nxq18vII3gw53N2Y0s3MWI"));
}

}  // namespace
}  // namespace linksim
