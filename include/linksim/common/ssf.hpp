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
// The account's personalized-ads setting, turned off and on again: linksim's own event types,
// not a standard's. RISC's opt-out events (RISC Profile 1.0 section 2.8) are about an account
// opting out of security-event sharing, so they cannot carry an advertising setting; these
// live under a reserved example domain (RFC 2606) to say that no registry defines them.
inline constexpr std::string_view ads_opt_out =
    "https://linksim.example/secevent/event-type/personalized-ads-opt-out";
inline constexpr std::string_view ads_opt_in =
    "https://linksim.example/secevent/event-type/personalized-ads-opt-in";
inline constexpr std::string_view verification =
    "https://schemas.openid.net/secevent/ssf/event-type/verification";
// The event types a stream may request, in the order the configuration lists them.
inline constexpr std::string_view events_supported[] = {
    identifier_changed, account_purged, account_disabled, account_enabled, session_revoked,
    credential_change,  ads_opt_out,    ads_opt_in,       verification};

// The account field an event type tells of ("" for none): the webhook field that carries the
// same change, or the ad setting, which no webhook carries. What a SET tells, as the data
// categories and the simulated network's fault filters read it.
inline std::string_view field_of(std::string_view type) {
  if (type == identifier_changed) return "username";
  if (type == account_disabled || type == account_enabled) return "account_status";
  if (type == account_purged) return "account_deletion";
  if (type == ads_opt_out || type == ads_opt_in) return "ad_settings";
  return "";
}

}  // namespace linksim::ssf
