// OpenSSL 3 behind plain functions: every return value is checked.
#include "linksim/common/crypto.hpp"

#include "linksim/common/random.hpp"
#include "openssl_handles.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <memory>
#include <stdexcept>
#include <vector>

namespace linksim {
namespace {

using openssl::md_ctx_ptr;
using openssl::pkey_ptr;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// OpenSSL 3 looks a digest's implementation up on every init unless given a fetched one: fetch
// SHA-256 once, and keep one context per thread (hashing is on every request's path).
const EVP_MD* sha256_md() {
  static const struct fetched {
    EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    ~fetched() { EVP_MD_free(md); }
  } f;
  if (!f.md) openssl::failed("EVP_MD_fetch SHA256");
  return f.md;
}

EVP_MD_CTX* thread_md_ctx() {
  thread_local md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!ctx) openssl::failed("EVP_MD_CTX_new");
  return ctx.get();
}

// HMAC() looks up both the MAC and the digest on every call (EVP_Q_mac). Each thread keeps
// HMAC-SHA256 contexts instead, set up once, each holding one key: a process signs with a few
// keys over and over (each client's secret, each webhook signing key), and a context given
// no key at init starts again from the key it holds, without hashing the key into its inner
// and outer pads again (227 against 395 ns for a 100-byte message here). Up to eight keys are
// kept, the one kept longest replaced first, and their copies wiped when replaced or when the
// thread ends. They are compared plainly: every key is one of the process's own secrets, never a
// caller's input.
class hmac_contexts {
 public:
  hmac_contexts() {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (mac) {
      base_ = EVP_MAC_CTX_new(mac);
      EVP_MAC_free(mac);  // the context keeps its own reference
    }
    char digest_name[] = "SHA256";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
        OSSL_PARAM_construct_end()};
    if (base_ && EVP_MAC_CTX_set_params(base_, params) != 1) {
      EVP_MAC_CTX_free(base_);
      base_ = nullptr;
    }
  }
  ~hmac_contexts() {
    for (auto& k : keyed_) {
      if (!k.key.empty()) OPENSSL_cleanse(k.key.data(), k.key.size());
      EVP_MAC_CTX_free(k.ctx);
    }
    EVP_MAC_CTX_free(base_);
  }
  hmac_contexts(const hmac_contexts&) = delete;
  hmac_contexts& operator=(const hmac_contexts&) = delete;

  // A context ready for update, holding `key`.
  EVP_MAC_CTX* for_key(std::span<const std::uint8_t> key) {
    if (!base_) openssl::failed("HMAC-SHA256 context");
    for (auto& k : keyed_) {
      if (k.ctx && k.key.size() == key.size() &&
          std::equal(key.begin(), key.end(), k.key.begin())) {
        if (EVP_MAC_init(k.ctx, nullptr, 0, nullptr) != 1) openssl::failed("HMAC-SHA256 init");
        return k.ctx;
      }
    }
    keyed& k = keyed_[next_];
    next_ = (next_ + 1) % keyed_.size();
    if (!k.key.empty()) OPENSSL_cleanse(k.key.data(), k.key.size());
    k.key.assign(key.begin(), key.end());
    if (!k.ctx) k.ctx = EVP_MAC_CTX_dup(base_);
    if (!k.ctx) openssl::failed("HMAC-SHA256 context");
    // A null key would mean "the key this context holds": an empty key is a valid pointer.
    static const std::uint8_t empty = 0;
    if (EVP_MAC_init(k.ctx, key.empty() ? &empty : key.data(), key.size(), nullptr) != 1) {
      k.key.clear();  // holds no key now
      openssl::failed("HMAC-SHA256 init");
    }
    return k.ctx;
  }

 private:
  struct keyed {
    std::vector<std::uint8_t> key;
    EVP_MAC_CTX* ctx = nullptr;
  };
  EVP_MAC_CTX* base_ = nullptr;
  std::array<keyed, 8> keyed_{};
  std::size_t next_ = 0;
};

}  // namespace

digest sha256_concat(std::initializer_list<std::span<const std::uint8_t>> parts) {
  EVP_MD_CTX* ctx = thread_md_ctx();
  if (EVP_DigestInit_ex2(ctx, sha256_md(), nullptr) != 1) openssl::failed("SHA-256 init");
  for (auto part : parts) {
    if (EVP_DigestUpdate(ctx, part.data(), part.size()) != 1) openssl::failed("SHA-256 update");
  }
  digest out;
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, out.data(), &len) != 1 || len != out.size()) {
    openssl::failed("SHA-256 final");
  }
  return out;
}

digest sha256(std::span<const std::uint8_t> data) {
  return sha256_concat({data});
}

std::array<std::uint8_t, 64> sha512(std::span<const std::uint8_t> data) {
  std::array<std::uint8_t, 64> out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha512(), nullptr) != 1 ||
      len != out.size())
    openssl::failed("SHA-512");
  return out;
}

digest hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data) {
  thread_local hmac_contexts contexts;
  EVP_MAC_CTX* ctx = contexts.for_key(key);
  digest out;
  std::size_t len = 0;
  if (EVP_MAC_update(ctx, data.data(), data.size()) != 1 ||
      EVP_MAC_final(ctx, out.data(), &len, out.size()) != 1 || len != out.size()) {
    openssl::failed("HMAC-SHA256");
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string to_hex(std::span<const std::uint8_t> data) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(data.size() * 2, '\0');
  char* p = out.data();
  for (auto b : data) {
    *p++ = digits[b >> 4];
    *p++ = digits[b & 0xf];
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::vector<std::uint8_t> out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string base64_encode(std::span<const std::uint8_t> data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  if (data.size() > INT_MAX) openssl::failed("EVP_EncodeBlock: input too large");
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                                static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0 || text.size() > INT_MAX) return std::nullopt;
  // EVP_DecodeBlock accepts whitespace and decodes padding to zero bytes: reject the one and
  // trim the other so that decoding is exact.
  for (char c : text) {
    const bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
    if (!alphabet) return std::nullopt;
  }
  std::size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  if (text.substr(0, text.size() - pad).find('=') != std::string_view::npos) return std::nullopt;
  std::vector<std::uint8_t> out(text.size() / 4 * 3);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::string base64url_encode(std::span<const std::uint8_t> data) {
  std::string s = base64_encode(data);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) {
    if (c == '+')
      c = '-';
    else if (c == '/')
      c = '_';
  }
  return s;
}

std::optional<std::vector<std::uint8_t>> base64url_decode(std::string_view text) {
  std::string s(text);
  for (char& c : s) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (c == '+' || c == '/')
      return std::nullopt;
  }
  while (s.size() % 4 != 0) s.push_back('=');
  return base64_decode(s);
}

ed25519_key ed25519_key::generate(random_source& random) {
  std::array<std::uint8_t, 32> seed;
  random.fill(seed);
  return from_seed(seed);
}

ed25519_key ed25519_key::from_seed(std::span<const std::uint8_t, 32> seed) {
  pkey_ptr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  if (!key) openssl::failed("EVP_PKEY_new_raw_private_key");
  ed25519_key out;
  std::copy(seed.begin(), seed.end(), out.seed.begin());
  std::size_t len = out.public_key.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), out.public_key.data(), &len) != 1 ||
      len != out.public_key.size()) {
    openssl::failed("EVP_PKEY_get_raw_public_key");
  }
  out.prepared = std::shared_ptr<const void>(key.release(), [](const void* k) {
    EVP_PKEY_free(static_cast<EVP_PKEY*>(const_cast<void*>(k)));
  });
  return out;
}

std::array<std::uint8_t, 64> ed25519_key::sign(std::span<const std::uint8_t> message) const {
  // A key set field by field (no prepared form, or one of another seed) is made for this call.
  pkey_ptr made;
  EVP_PKEY* key = static_cast<EVP_PKEY*>(const_cast<void*>(prepared.get()));
  if (key) {
    std::array<std::uint8_t, 32> pub;
    std::size_t n = pub.size();
    if (EVP_PKEY_get_raw_public_key(key, pub.data(), &n) != 1 || pub != public_key) key = nullptr;
  }
  if (!key) {
    made.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
    key = made.get();
  }
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!key || !ctx) openssl::failed("Ed25519 key");
  std::array<std::uint8_t, 64> sig;
  std::size_t len = sig.size();
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1 ||
      len != sig.size()) {
    openssl::failed("EVP_DigestSign");
  }
  return sig;
}

bool ed25519_verify(std::span<const std::uint8_t, 32> public_key,
                    std::span<const std::uint8_t> message,
                    std::span<const std::uint8_t> signature) {
  if (signature.size() != 64) return false;
  pkey_ptr key(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), public_key.size()));
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!key || !ctx) return false;
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                          message.size()) == 1;
}

namespace {

std::optional<digest> scrypt(std::string_view password, std::span<const std::uint8_t> salt,
                             password_cost cost) {
  // The KDF is fetched once per thread: EVP_PBE_scrypt fetches it by name on every call, which
  // cost more than the hash itself at the simulation's cost (N = 16, r = 1).
  struct fetched {
    EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "SCRYPT", nullptr);
    ~fetched() { EVP_KDF_free(kdf); }
  };
  thread_local fetched scrypt_kdf;
  if (!scrypt_kdf.kdf || cost.r > UINT32_MAX || cost.p > UINT32_MAX) return std::nullopt;
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(scrypt_kdf.kdf),
                                                                EVP_KDF_CTX_free);
  if (!ctx) return std::nullopt;
  // OpenSSL refuses by default above 32 MiB; allow what the cost needs plus headroom.
  std::uint64_t n = cost.n, maxmem = 128 * cost.n * cost.r * (cost.p + 1) + (1u << 20);
  std::uint32_t r = static_cast<std::uint32_t>(cost.r), p = static_cast<std::uint32_t>(cost.p);
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(password.data()),
                                        password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<std::uint8_t*>(salt.data()),
                                        salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end()};
  digest key;
  if (EVP_KDF_derive(ctx.get(), key.data(), key.size(), params) != 1) return std::nullopt;
  return key;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::string hash_password(std::string_view password, random_source& random, password_cost cost) {
  std::array<std::uint8_t, 16> salt;
  random.fill(salt);
  auto key = scrypt(password, salt, cost);
  if (!key) openssl::failed("EVP_PBE_scrypt");
  return "scrypt$" + std::to_string(cost.n) + "$" + std::to_string(cost.r) + "$" +
         std::to_string(cost.p) + "$" + base64url_encode(salt) + "$" + base64url_encode(*key);
}

bool verify_password(std::string_view password, std::string_view encoded) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const auto pos = encoded.find('$', start);
    parts.push_back(encoded.substr(start, pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  if (parts.size() != 6 || parts[0] != "scrypt") return false;
  auto n = parse_u64(parts[1]), r = parse_u64(parts[2]), p = parse_u64(parts[3]);
  auto salt = base64url_decode(parts[4]);
  auto expected = base64url_decode(parts[5]);
  if (!n || !r || !p || !salt || !expected || *n > (1u << 20) || *r > 32 || *p > 16) return false;
  auto key = scrypt(password, *salt, {*n, *r, *p});
  if (!key) return false;
  return constant_time_equal(as_chars(*key), as_chars(*expected));
}

}  // namespace linksim
