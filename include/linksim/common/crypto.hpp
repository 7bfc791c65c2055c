// Hashes, MACs, encodings, signatures and password hashing, all over OpenSSL 3.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace linksim {

class random_source;

using digest = std::array<std::uint8_t, 32>;

inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(std::span<const std::uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

digest sha256(std::span<const std::uint8_t> data);
inline digest sha256(std::string_view s) {
  return sha256(as_bytes(s));
}
// SHA-256 of the concatenation of `parts`, without copying them together.
digest sha256_concat(std::initializer_list<std::span<const std::uint8_t>> parts);
digest hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data);
std::array<std::uint8_t, 64> sha512(std::span<const std::uint8_t> data);
inline digest hmac_sha256(std::string_view key, std::string_view data) {
  return hmac_sha256(as_bytes(key), as_bytes(data));
}

// Compares in time that depends only on the lengths (CRYPTO_memcmp), for MACs and secrets.
bool constant_time_equal(std::string_view a, std::string_view b);

std::string to_hex(std::span<const std::uint8_t> data);
// nullopt when `hex` has an odd length or a non-hex character. Accepts both cases.
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view hex);

// RFC 4648 §4 base64 with padding.
std::string base64_encode(std::span<const std::uint8_t> data);
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);
// RFC 4648 §5 base64url without padding; decoding also accepts padding.
std::string base64url_encode(std::span<const std::uint8_t> data);
inline std::string base64url_encode(std::string_view s) {
  return base64url_encode(as_bytes(s));
}
std::optional<std::vector<std::uint8_t>> base64url_decode(std::string_view text);

// Ed25519 (RFC 8032). Keys are the raw 32-byte forms.
struct ed25519_key {
  std::array<std::uint8_t, 32> seed;        // the private key
  std::array<std::uint8_t, 32> public_key;  // derived from the seed

  static ed25519_key generate(random_source& random);
  static ed25519_key from_seed(std::span<const std::uint8_t, 32> seed);
  // Thread-safe. A key made by generate() or from_seed() keeps OpenSSL's form of itself, so a
  // signature does not derive the public key again (half the cost of signing).
  std::array<std::uint8_t, 64> sign(std::span<const std::uint8_t> message) const;

  std::shared_ptr<const void> prepared;  // OpenSSL's key (EVP_PKEY), shared by copies
};
bool ed25519_verify(std::span<const std::uint8_t, 32> public_key,
                    std::span<const std::uint8_t> message, std::span<const std::uint8_t> signature);

// RSA (RFC 8017) for RS256: RSASSA-PKCS1-v1_5 with SHA-256. Public values big-endian.
struct rsa_key {
  std::vector<std::uint8_t> n;  // the modulus
  std::vector<std::uint8_t> e;  // the public exponent (65537)
  // A key whose primes are drawn from `random`: the same stream gives the same key (a seeded
  // simulation stays reproducible). `bits` 2048 to 4096; 2048 takes about a tenth of a second.
  static rsa_key generate(random_source& random, int bits = 2048);
  // Thread-safe.
  std::vector<std::uint8_t> sign_sha256(std::span<const std::uint8_t> message) const;

  std::shared_ptr<const void> prepared;  // OpenSSL's key (EVP_PKEY), shared by copies
};
// False for a bad signature, and for a modulus outside 2048 to 4096 bits or an exponent over
// 32 bits (the work a key from elsewhere may ask for is bounded).
bool rsa_sha256_verify(std::span<const std::uint8_t> n, std::span<const std::uint8_t> e,
                       std::span<const std::uint8_t> message,
                       std::span<const std::uint8_t> signature);

// scrypt (RFC 7914). The default costs ~16 MiB and tens of milliseconds per hash; tests lower it.
struct password_cost {
  std::uint64_t n = 1u << 14;
  std::uint64_t r = 8;
  std::uint64_t p = 1;
};
// Returns "scrypt$N$r$p$<base64url salt>$<base64url key>".
std::string hash_password(std::string_view password, random_source& random,
                          password_cost cost = {});
// False for a wrong password and for a malformed `encoded`.
bool verify_password(std::string_view password, std::string_view encoded);

}  // namespace linksim
