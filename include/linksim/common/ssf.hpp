// OpenID Shared Signals Framework 1.0: the delivery methods (RFC 8935 push, RFC 8936 poll) and the
// event types the provider transmits and the dependent service receives.
#pragma once

#include <string_view>

namespace linksim::ssf {

inline constexpr std::string_view poll_method = "urn:ietf:rfc:8936";
inline constexpr std::string_view push_method = "urn:ietf:rfc:8935";
inline constexpr std::string_view identifier_changed =
    "https://schemas.openid.net/secevent/risc/event-type/identifier-changed";
inline constexpr std::string_view account_purged =
    "https://schemas.openid.net/secevent/risc/event-type/account-purged";
inline constexpr std::string_view account_disabled =
    "https://schemas.openid.net/secevent/risc/event-type/account-disabled";
inline constexpr std::string_view account_enabled =
    "https://schemas.openid.net/secevent/risc/event-type/account-enabled";
inline constexpr std::string_view session_revoked =
    "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
inline constexpr std::string_view credential_change =
    "https://schemas.openid.net/secevent/caep/event-type/credential-change";
inline constexpr std::string_view verification =
    "https://schemas.openid.net/secevent/ssf/event-type/verification";
// The event types a stream may request, in the order the configuration lists them.
inline constexpr std::string_view events_supported[] = {
    identifier_changed, account_purged,    account_disabled, account_enabled,
    session_revoked,    credential_change, verification};

// The webhook field that carries the same change as an event type ("" for none): what a SET
// tells, as the webhooks' data categories and the simulated network's fault filters read it.
inline std::string_view webhook_field_of(std::string_view type) {
  if (type == identifier_changed) return "username";
  if (type == account_disabled || type == account_enabled) return "account_status";
  if (type == account_purged) return "account_deletion";
  return "";
}

}  // namespace linksim::ssf
