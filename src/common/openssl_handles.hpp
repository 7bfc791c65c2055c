// Owning handles for the OpenSSL 3 objects linksim's crypto code uses, and the one way it
// reports a call that failed. Private to src/common: nothing outside includes OpenSSL.
#pragma once

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace linksim::openssl {

struct bn_deleter {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
struct bn_ctx_deleter {
  void operator()(BN_CTX* c) const { BN_CTX_free(c); }
};
struct pkey_deleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct pkey_ctx_deleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct md_ctx_deleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct param_bld_deleter {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct params_deleter {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};

using bn_ptr = std::unique_ptr<BIGNUM, bn_deleter>;
using bn_ctx_ptr = std::unique_ptr<BN_CTX, bn_ctx_deleter>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_deleter>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_deleter>;
using param_bld_ptr = std::unique_ptr<OSSL_PARAM_BLD, param_bld_deleter>;
using params_ptr = std::unique_ptr<OSSL_PARAM, params_deleter>;

// Throws: an OpenSSL call that fails here is a broken installation or exhausted memory, never
// bad input (callers check input before they reach OpenSSL).
[[noreturn]] inline void failed(const char* what) {
  throw std::runtime_error(std::string("OpenSSL: ") + what + " failed");
}

}  // namespace linksim::openssl
