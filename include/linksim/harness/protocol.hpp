// Protocol checks the runner makes of every answer the network carries, outside the services'
// code: a provider that gets a standard's arithmetic wrong fails the run at the step that
// carried the answer, whatever the scenario expects.
#pragma once

#include <string>
#include <string_view>

namespace linksim::harness {

// A token answer's ID token against the access token beside it (OpenID Connect Core 1.0
// section 3.1.3.8, section 3.3.2.11): its at_hash, when present, is the base64url left half of
// the access token's hash under the hash of the ID token's alg, SHA-256 for RS256 and SHA-512
// for EdDSA over Ed25519 (OpenID Connect Token Hash Algorithms 1.0). The problem found, or ""
// for an answer that holds or carries no ID token.
std::string id_token_problem(std::string_view body);

}  // namespace linksim::harness
