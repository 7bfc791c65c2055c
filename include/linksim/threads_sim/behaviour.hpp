// Behaviour profiles: every rule of the dependent service that the public documents describe
// (or contradict each other on) is a named choice here, not a branch hidden in a handler.
// `documented` follows seed 004 and the design; `howto` follows seed 003's comparison table;
// `independent` keeps its own handle (for teaching the contrast); each `fault.*` profile breaks
// exactly one rule of `documented`, so that every check of a claim can be shown to fail.
// The profile is the company's: the ad platform follows the same one as the dependent service.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace linksim::threads_sim {

// What happens to one profile field after sign-up.
enum class field_rule {
  mirror,       // follows the identity provider; cannot be set on the service
  copy_once,    // copied at sign-up, then edited on the service only
  independent,  // chosen on the service at sign-up, never taken from the provider
};
std::string_view to_string(field_rule r);

struct behaviour {
  std::string name;
  std::string description;
  field_rule username = field_rule::mirror;
  field_rule picture = field_rule::mirror;
  field_rule bio = field_rule::copy_once;  // bio and display name
  bool username_editable = false;          // only meaningful for `mirror`
  bool name_editable = true;               // the display name can be set on the service
  bool bio_editable = true;                // the bio can be set on the service (seeds 003, 004)
  bool keep_edits_on_service = true;       // edits never go back to the provider (seed 003)
  bool import_profile = true;  // sign-up copies the name, bio and followers who have profiles
  bool import_picture = true;  // sign-up copies the picture (mirrored from then on)
  bool link_business_accounts = true;  // a business account signs up as a personal one does
  std::size_t username_length = 30;    // the longest mirrored username kept (the provider's)
  bool list_shared_data = true;        // the Link Account page lists what the provider shares
  bool require_link = true;            // the API answers only a linked profile's session (seed 003)
  bool atomic_import = true;  // the profile, its follows, tokens and session: one transaction
  bool one_profile_per_account = true;      // UNIQUE(ig_user_id)
  bool keep_account_id = true;              // the profile keeps the provider's id (seed 004)
  bool apply_username_changes = true;       // webhooks and polls rename the profile
  bool delete_content_with_profile = true;  // posts, likes and follows go with it
  bool close_on_account_deletion = true;    // the provider's deletion closes every profile
  bool erase_profile_on_deletion = true;    // a deleted profile's row goes, freeing the account
  bool verify_webhook_signatures = true;    // X-Hub-Signature-256 before parsing
  bool authenticate_pushes = true;  // a pushed SET needs its stream's header (RFC 8935 section 2)
  bool order_by_version = true;     // an older change never overwrites a newer
  bool match_profile_to_grant = true;  // a /me answer is used only if it is the grant's
  // Cross-product data use (the ad platform, src/ads; seeds 001 and 002).
  bool honour_ad_settings = true;     // no advertising flows once the account's ads are off
  bool honour_gpc = true;             // Sec-GPC: 1 opts the profile out of ad sharing
  bool aggregate_reports = true;      // partners see counts per campaign, never an account id
  bool refuse_sale = true;            // no configuration can exchange personal data for payment
  bool erase_ads_on_deletion = true;  // a deleted profile's activity leaves the ad platform
  bool share_assistant_conversations = true;  // they go to train the company's AI (seed 000)
  bool retry_ads_notices = true;  // a notice the ad platform missed is sent again until it lands
  bool keep_partner_contracts = true;        // a partner gets only what its contract allows
  bool count_distinct_viewers = true;        // a report's reach counts people, not impressions
  bool count_every_impression = true;        // a report's impressions count every showing
  bool personalize_ads = true;               // sponsored posts are chosen from activity
  bool use_activity_across_products = true;  // Threads activity chooses ads on Instagram too
  bool suppress_small_groups = true;         // reports withhold the counts of very few viewers
  // The provider's login (src/idp, idp::provider_rules; seed 003); the service checks the first
  // too.
  bool refuse_inactive_accounts = true;  // restricted, suspended and banned accounts cannot link
  bool offer_account_choice = true;      // the person picks which logged-in account links
  bool redeliver_sets = true;  // the transmitter sends a SET again until the receiver has it
  // Not a rule: a profile whose one change is in Shared Signals (the receiver's or the
  // transmitter's) runs only over it.
  bool shared_signals_only = false;
};

// How the provider's account changes reach the service: Meta-style signed webhooks, or an OpenID
// Shared Signals stream whose Security Event Tokens the provider pushes (RFC 8935) or the service
// polls for (RFC 8936). Reconciliation polling runs under every channel.
enum class channel { webhook, ssf_push, ssf_poll };
std::string_view to_string(channel c);
std::optional<channel> channel_from(std::string_view name);  // webhook, ssf-push, ssf-poll

// Whether the profile means anything over `c`: a fault in Shared Signals changes nothing over
// webhooks, so it is neither run nor scored there.
bool applies_over(const behaviour& b, channel c);

// Every shipped profile, `documented` first.
std::span<const behaviour> behaviours();
std::optional<behaviour> find_behaviour(std::string_view name);

}  // namespace linksim::threads_sim
