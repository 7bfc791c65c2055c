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

// Frees an OpenSSL object with the library's own function for it.
template <auto Free>
struct freed_by {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};

using bn_ptr = std::unique_ptr<BIGNUM, freed_by<BN_clear_free>>;
using bn_ctx_ptr = std::unique_ptr<BN_CTX, freed_by<BN_CTX_free>>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, freed_by<EVP_PKEY_free>>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, freed_by<EVP_PKEY_CTX_free>>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, freed_by<EVP_MD_CTX_free>>;
using param_bld_ptr = std::unique_ptr<OSSL_PARAM_BLD, freed_by<OSSL_PARAM_BLD_free>>;
using params_ptr = std::unique_ptr<OSSL_PARAM, freed_by<OSSL_PARAM_free>>;

// Throws: an OpenSSL call that fails here is a broken installation or exhausted memory, never
// bad input (callers check input before they reach OpenSSL).
[[noreturn]] inline void failed(const char* what) {
  throw std::runtime_error(std::string("OpenSSL: ") + what + " failed");
}

}  // namespace linksim::openssl
