// Signed checkpoints in the C2SP tlog-checkpoint / signed-note format, so that existing
// transparency-log verifiers can check them:
//   <origin>\n<tree size>\n<base64 root>\n\n— <key name> <base64(key hash || Ed25519 sig)>\n
#pragma once

#include "linksim/common/crypto.hpp"
#include "linksim/common/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace linksim::evidence {

struct checkpoint {
  std::string origin;
  std::uint64_t size = 0;
  digest root{};
};

// An Ed25519 note signer: the key and the name it signs as.
struct note_signer {
  std::string name;
  ed25519_key key;

  // The verifier key string "<name>+<hex key hash>+<base64(0x01 || public key)>".
  std::string verifier_key() const;
  // The signed note of a checkpoint.
  std::string sign(const checkpoint& c) const;
};

struct note_verifier {
  std::string name;
  std::uint32_t key_hash = 0;
  std::array<std::uint8_t, 32> public_key{};

  // Parses a verifier key string; nullopt if malformed or not Ed25519.
  static std::optional<note_verifier> parse(std::string_view vkey);
  // "SHA256:" and the hex SHA-256 of the public key: what a person compares when pinning it
  // (the 4-byte key hash of the key string only tells keys apart, it does not authenticate).
  std::string fingerprint() const;
  // Checks the signature line of `name` and parses the body; errc::bad_field with no valid
  // signature by this key or a malformed body.
  result<checkpoint> open(std::string_view note) const;
};

// The signed-note key hash: the first 4 bytes of SHA-256(name || "\n" || 0x01 || public key).
std::uint32_t note_key_hash(std::string_view name, std::span<const std::uint8_t, 32> public_key);

}  // namespace linksim::evidence
