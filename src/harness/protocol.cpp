#include "linksim/harness/protocol.hpp"

#include "linksim/common/crypto.hpp"
#include "linksim/common/jose.hpp"
#include "linksim/common/json.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <span>

namespace linksim::harness {

namespace {
std::string left_half(std::span<const std::uint8_t> h) {
  return base64url_encode(h.subspan(0, h.size() / 2));
}

// Whether a media type field names `type`, whatever its case and parameters (RFC 9110 section
// 8.3.1).
bool names_media_type(std::string_view field, std::string_view type) {
  field = field.substr(0, field.find(';'));
  while (!field.empty() && (field.back() == ' ' || field.back() == '\t')) field.remove_suffix(1);
  while (!field.empty() && (field.front() == ' ' || field.front() == '\t')) field.remove_prefix(1);
  return std::equal(field.begin(), field.end(), type.begin(), type.end(), [](char a, char b) {
    return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
  });
}
}  // namespace

std::string http_semantics_problem(const http::response& r) {
  if (r.status == 401 && r.headers.get("WWW-Authenticate").empty())
    return "a 401 without WWW-Authenticate (RFC 9110 section 15.5.2 requires a challenge)";
  if (r.status == 405 && !r.headers.has("Allow"))
    return "a 405 without Allow (RFC 9110 section 15.5.6)";
  if ((r.status == 204 || r.status == 304) && !r.body.empty())
    return "a " + std::to_string(r.status) + " with content (RFC 9110 section 15.3.5, 15.4.5)";
  return {};
}

std::string id_token_problem(std::string_view body) {
  if (body.find("\"id_token\"") == std::string_view::npos) return {};
  auto o = json::parse_object(body);
  if (!o) return {};
  const auto* id_token = o->if_contains("id_token");
  const auto* access = o->if_contains("access_token");
  if (!id_token || !id_token->is_string()) return {};
  auto read = jose::read_unverified(id_token->as_string());
  if (!read) return "an id_token that is not a compact JWS";
  const auto* at_hash = read->claims.if_contains("at_hash");
  if (!at_hash) return {};
  if (!at_hash->is_string()) return "an at_hash that is not a string";
  if (!access || !access->is_string()) return "an at_hash without an access_token beside it";
  const std::string_view token = access->as_string();
  const auto* alg = read->header.if_contains("alg");
  std::string want;
  if (alg && alg->is_string() && alg->as_string() == "RS256") {
    want = left_half(sha256(token));
  } else if (alg && alg->is_string() && alg->as_string() == "EdDSA") {
    want = left_half(sha512(as_bytes(token)));
  } else {
    return "an ID token signed with an alg whose token hash is not known here";
  }
  if (at_hash->as_string() != want)
    return "at_hash " + std::string(at_hash->as_string()) + ", the " +
           std::string(alg->as_string()) + " hash of the access token is " + want;
  return {};
}

std::string standard_webhooks_problem(const http::request& r, std::string_view secret) {
  const std::string_view id = r.headers.get("webhook-id");
  const std::string_view ts = r.headers.get("webhook-timestamp");
  const std::string_view signatures = r.headers.get("webhook-signature");
  if (id.empty() || ts.empty() || signatures.empty())
    return "a webhook without webhook-id, webhook-timestamp and webhook-signature (Standard "
           "Webhooks)";
  if (ts.size() > 12 ||
      !std::all_of(ts.begin(), ts.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return "a webhook-timestamp that is not whole Unix seconds (Standard Webhooks)";
  if (!secret.starts_with("whsec_")) return {};  // no key to check the signature with
  const auto key = base64_decode(secret.substr(6));
  if (!key) return {};
  std::string content(id);
  content += '.';
  content += ts;
  content += '.';
  content += r.body;
  const std::string expected = "v1," + base64_encode(hmac_sha256(*key, as_bytes(content)));
  std::string_view rest = signatures;
  while (!rest.empty()) {
    const auto space = rest.find(' ');
    if (rest.substr(0, space) == expected) return {};
    rest.remove_prefix(space == std::string_view::npos ? rest.size() : space + 1);
  }
  return "a webhook-signature that does not sign its id, timestamp and body (Standard Webhooks)";
}

std::string pushed_set_problem(const http::request& r) {
  if (r.method != "POST")
    return "a SET pushed with " + r.method + ", not POST (RFC 8935 section 2.1)";
  if (!names_media_type(r.headers.get("Accept"), "application/json"))
    return "a SET pushed with Accept \"" + std::string(r.headers.get("Accept")) +
           "\", not application/json (RFC 8935 section 2.1)";
  return {};
}

}  // namespace linksim::harness
