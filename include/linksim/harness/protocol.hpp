// Protocol checks the runner makes of every answer the network carries, outside the services'
// code: a provider that gets a standard's arithmetic wrong fails the run at the step that
// carried the answer, whatever the scenario expects.
#pragma once

#include "linksim/common/http.hpp"

#include <string>
#include <string_view>

namespace linksim::harness {

// What HTTP semantics require of any answer's status line and fields (RFC 9110): a 401 sends
// WWW-Authenticate with a challenge (section 15.5.2), a 405 sends Allow (section 15.5.6), and
// a 204 or 304 has no content (sections 15.3.5, 15.4.5). The problem found, or "".
std::string http_semantics_problem(const http::response& r);

// A token answer's ID token against the access token beside it (OpenID Connect Core 1.0
// section 3.1.3.8, section 3.3.2.11): its at_hash, when present, is the base64url left half of
// the access token's hash under the hash of the ID token's alg, SHA-256 for RS256 and SHA-512
// for EdDSA over Ed25519 (OpenID Connect Token Hash Algorithms 1.0). The problem found, or ""
// for an answer that holds or carries no ID token.
std::string id_token_problem(std::string_view body);

// A webhook delivery signed as Standard Webhooks defines it (standardwebhooks.com, "Webhook
// Headers"): a `webhook-id`, a `webhook-timestamp` of whole Unix seconds and a
// `webhook-signature`, a space-separated list of "v1,<base64 HMAC-SHA256>" one of which signs
// "<id>.<timestamp>.<body>" under the key that `secret` ("whsec_<base64 key>") holds. The
// problem found, or "" for a request that holds.
std::string standard_webhooks_problem(const http::request& r, std::string_view secret);

// A Security Event Token the provider pushes (RFC 8935 section 2.1): a POST whose `Accept` is
// `application/json`, the type of the error a receiver answers with. The problem found, or "".
std::string pushed_set_problem(const http::request& r);

}  // namespace linksim::harness
