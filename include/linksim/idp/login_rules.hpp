// The provider's side of a behaviour profile: the rules of Instagram's login that the documents
// describe, each a choice so that a fault profile can break it (sim::idp_rules_of).
#pragma once

namespace linksim::idp {

struct login_rules {
  // Seed 003: only an active account ("not banned, restricted, or suspended") logs in and
  // authorizes an app.
  bool refuse_inactive_accounts = true;
  // Seed 003: with several accounts logged in, the person chooses which one the app gets.
  bool offer_account_choice = true;
};

}  // namespace linksim::idp
