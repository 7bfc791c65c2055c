// RSA keys made from a random_source, and RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 section 8.2),
// over OpenSSL 3. OpenSSL's own key generator draws from its DRBG, which a seeded simulation
// cannot steer; this one searches for the primes in the stream it is given, so the same seed
// gives the same key.
#include "linksim/common/crypto.hpp"
#include "linksim/common/random.hpp"
#include "openssl_handles.hpp"

#include <openssl/core_names.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace linksim {
namespace {

using openssl::bn_ctx_ptr;
using openssl::bn_ptr;
using openssl::failed;
using openssl::md_ctx_ptr;
using openssl::param_bld_ptr;
using openssl::params_ptr;
using openssl::pkey_ctx_ptr;
using openssl::pkey_ptr;

bn_ptr fresh() {
  bn_ptr b(BN_secure_new());
  if (!b) failed("BN_secure_new");
  return b;
}

constexpr unsigned long public_exponent = 65537;

// A prime of `bits` bits with its two top bits set (so a product of two has exactly twice the
// bits) and p - 1 prime to the public exponent: the first such after a random odd start.
bn_ptr find_prime(random_source& random, int bits, BN_CTX* ctx) {
  std::vector<std::uint8_t> start(static_cast<std::size_t>(bits) / 8);
  bn_ptr p = fresh();
  bn_ptr p1 = fresh();
  bn_ptr e(BN_new());
  bn_ptr g = fresh();
  if (!e || BN_set_word(e.get(), public_exponent) != 1) failed("BN_set_word");
  for (;;) {
    random.fill(start);
    start.front() |= 0xC0;
    start.back() |= 0x01;
    if (!BN_bin2bn(start.data(), static_cast<int>(start.size()), p.get())) failed("BN_bin2bn");
    // About one odd number in 355 of this size is prime; a start whose walk runs this long
    // without one is left for a new start.
    for (int step = 0; step < 8192; ++step) {
      if (BN_num_bits(p.get()) != bits) break;
      const int prime = BN_check_prime(p.get(), ctx, nullptr);
      if (prime < 0) failed("BN_check_prime");
      if (prime == 1) {
        if (!BN_sub(p1.get(), p.get(), BN_value_one()) || !BN_gcd(g.get(), p1.get(), e.get(), ctx))
          failed("BN_gcd");
        if (BN_is_one(g.get())) return p;
      }
      if (BN_add_word(p.get(), 2) != 1) failed("BN_add_word");
    }
  }
}

std::vector<std::uint8_t> bytes_of(const BIGNUM* b) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(BN_num_bytes(b)));
  BN_bn2bin(b, out.data());
  return out;
}

std::shared_ptr<const void> share(EVP_PKEY* k) {
  return {k, [](const void* p) { EVP_PKEY_free(static_cast<EVP_PKEY*>(const_cast<void*>(p))); }};
}

// An RSA key from its parameters; `selection` EVP_PKEY_KEYPAIR or EVP_PKEY_PUBLIC_KEY.
pkey_ptr from_params(OSSL_PARAM_BLD* bld, int selection) {
  params_ptr params(OSSL_PARAM_BLD_to_param(bld));
  pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, selection, params.get()) != 1)
    return nullptr;
  return pkey_ptr(key);
}

}  // namespace

rsa_key rsa_key::generate(random_source& random, int bits) {
  if (bits < 2048 || bits > 4096 || bits % 16 != 0)
    throw std::invalid_argument("RSA keys are 2048 to 4096 bits, a multiple of 16");
  bn_ctx_ptr ctx(BN_CTX_secure_new());
  if (!ctx) failed("BN_CTX_secure_new");
  bn_ptr p = find_prime(random, bits / 2, ctx.get());
  bn_ptr q = find_prime(random, bits / 2, ctx.get());
  if (BN_cmp(p.get(), q.get()) == 0) return generate(random, bits);  // never in practice
  if (BN_cmp(p.get(), q.get()) < 0) std::swap(p, q);
  bn_ptr n = fresh(), e(BN_new()), d = fresh(), p1 = fresh(), q1 = fresh(), g = fresh(),
         lambda = fresh(), dp = fresh(), dq = fresh(), qinv = fresh();
  // d = e^-1 mod lcm(p - 1, q - 1) (RFC 8017 section 3.2), and the CRT values.
  if (!e || BN_set_word(e.get(), public_exponent) != 1 ||
      !BN_mul(n.get(), p.get(), q.get(), ctx.get()) || !BN_sub(p1.get(), p.get(), BN_value_one()) ||
      !BN_sub(q1.get(), q.get(), BN_value_one()) ||
      !BN_gcd(g.get(), p1.get(), q1.get(), ctx.get()) ||
      !BN_mul(lambda.get(), p1.get(), q1.get(), ctx.get()) ||
      !BN_div(lambda.get(), nullptr, lambda.get(), g.get(), ctx.get()) ||
      !BN_mod_inverse(d.get(), e.get(), lambda.get(), ctx.get()) ||
      !BN_mod(dp.get(), d.get(), p1.get(), ctx.get()) ||
      !BN_mod(dq.get(), d.get(), q1.get(), ctx.get()) ||
      !BN_mod_inverse(qinv.get(), q.get(), p.get(), ctx.get()))
    failed("RSA key arithmetic");
  param_bld_ptr bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_D, d.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR1, p.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR2, q.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1, dp.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2, dq.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qinv.get()))
    failed("OSSL_PARAM_BLD_push_BN");
  pkey_ptr key = from_params(bld.get(), EVP_PKEY_KEYPAIR);
  if (!key) failed("EVP_PKEY_fromdata (RSA)");
  rsa_key out;
  out.n = bytes_of(n.get());
  out.e = bytes_of(e.get());
  out.prepared = share(key.release());
  return out;
}

std::vector<std::uint8_t> rsa_key::sign_sha256(std::span<const std::uint8_t> message) const {
  auto* key = static_cast<EVP_PKEY*>(const_cast<void*>(prepared.get()));
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!key || !ctx) failed("RSA key");
  std::vector<std::uint8_t> sig(n.size());
  std::size_t len = sig.size();
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1)
    failed("EVP_DigestSign (RS256)");
  sig.resize(len);
  return sig;
}

bool rsa_sha256_verify(std::span<const std::uint8_t> n, std::span<const std::uint8_t> e,
                       std::span<const std::uint8_t> message,
                       std::span<const std::uint8_t> signature) {
  // The work is bounded before it starts: a modulus of 2048 to 4096 bits, an exponent of at
  // most 32 bits, and a signature as long as the modulus.
  if (n.size() < 256 || n.size() > 512 || n.front() == 0 || e.empty() || e.size() > 4 ||
      signature.size() != n.size())
    return false;
  bn_ptr bn_n(BN_bin2bn(n.data(), static_cast<int>(n.size()), nullptr));
  bn_ptr bn_e(BN_bin2bn(e.data(), static_cast<int>(e.size()), nullptr));
  param_bld_ptr bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !BN_is_odd(bn_e.get()) || BN_is_one(bn_e.get()) || !bld ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()))
    return false;
  pkey_ptr key = from_params(bld.get(), EVP_PKEY_PUBLIC_KEY);
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!key || !ctx ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                          message.size()) == 1;
}

}  // namespace linksim
