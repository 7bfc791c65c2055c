// The provider's side of a behaviour profile: the rules the documents and standards set for
// Instagram's login and for its Shared Signals transmitter, each a choice so that a fault
// profile can break it (sim::idp_rules_of).
#pragma once

namespace linksim::idp {

struct provider_rules {
  // Seed 003: only an active account ("not banned, restricted, or suspended") logs in and
  // authorizes an app.
  bool refuse_inactive_accounts = true;
  // Seed 003: with several accounts logged in, the person chooses which one the app gets.
  bool offer_account_choice = true;
  // RFC 8935 section 2 and RFC 8936 section 2.4: a SET is sent again until the receiver has it:
  // a failed push is retried, and a polled SET is handed out until it is acknowledged.
  bool redeliver_sets = true;
};

}  // namespace linksim::idp
