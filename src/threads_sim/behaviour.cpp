// The shipped behaviour profiles. Each fault profile differs from `documented` in one field.
#include "linksim/threads_sim/behaviour.hpp"

#include <vector>

namespace linksim::threads_sim {
namespace {

behaviour documented() {
  behaviour b;
  b.name = "documented";
  b.description =
      "Seed 004 and the design: username and picture mirror Instagram, bio and name are copied "
      "once, one profile per Instagram account, unlinking only by deleting the profile.";
  return b;
}

// `documented` with one change, named and described.
template <class F>
behaviour fault(std::string name, std::string description, F change) {
  behaviour b = documented();
  b.name = std::move(name);
  b.description = std::move(description);
  change(b);
  return b;
}

std::vector<behaviour> make_all() {
  std::vector<behaviour> all;
  all.push_back(documented());

  behaviour howto = documented();
  howto.name = "howto";
  howto.description =
      "Seed 003's comparison table: username and picture are copied at set-up and can then be "
      "changed on the service without affecting Instagram.";
  howto.username = field_rule::copy_once;
  howto.picture = field_rule::copy_once;
  all.push_back(howto);

  behaviour independent = documented();
  independent.name = "independent";
  independent.description =
      "A service with its own handle chosen at sign-up and its own picture; nothing is mirrored "
      "after sign-up (for teaching the contrast with a borrowed identity).";
  independent.username = field_rule::independent;
  independent.picture = field_rule::copy_once;
  all.push_back(independent);

  all.push_back(fault("fault.two_profiles",
                      "Allows a second profile for an Instagram account that is already linked.",
                      [](behaviour& b) { b.one_profile_per_account = false; }));
  all.push_back(fault("fault.account_id_not_kept",
                      "Keeps a new profile under its username alone, not the Instagram account's "
                      "id: changes, polls and deletions, which name the account by id, never "
                      "find it, and the account can sign up again.",
                      [](behaviour& b) { b.keep_account_id = false; }));
  all.push_back(fault("fault.rename_not_propagated",
                      "Ignores username changes from Instagram: the mirror goes stale.",
                      [](behaviour& b) { b.apply_username_changes = false; }));
  all.push_back(fault("fault.bio_overwritten",
                      "Overwrites the bio and display name with Instagram's on every change.",
                      [](behaviour& b) { b.bio = field_rule::mirror; }));
  all.push_back(fault("fault.content_kept",
                      "Keeps posts, likes and follows readable after the profile is deleted.",
                      [](behaviour& b) { b.delete_content_with_profile = false; }));
  all.push_back(fault("fault.unsigned_webhooks",
                      "Applies webhooks without checking X-Hub-Signature-256.",
                      [](behaviour& b) { b.verify_webhook_signatures = false; }));
  all.push_back(fault("fault.pushes_unauthenticated",
                      "Takes any Security Event Token posted to its push endpoint, without the "
                      "Authorization header its stream was given: anyone who reaches the "
                      "endpoint is heard (the token's signature is still checked).",
                      [](behaviour& b) {
                        b.authenticate_pushes = false;
                        b.shared_signals_only = true;
                      }));
  all.push_back(fault("fault.sets_sent_once",
                      "The provider sends each Security Event Token once: a push that failed is "
                      "not retried, and a SET a poll handed out counts as delivered, "
                      "acknowledged or not. A lost SET is lost.",
                      [](behaviour& b) {
                        b.redeliver_sets = false;
                        b.shared_signals_only = true;
                      }));
  all.push_back(fault("fault.old_overwrites_new",
                      "Applies webhooks in arrival order, ignoring their versions.",
                      [](behaviour& b) { b.order_by_version = false; }));
  all.push_back(fault("fault.username_editable",
                      "Lets the user set the username on the service although it mirrors "
                      "Instagram's.",
                      [](behaviour& b) { b.username_editable = true; }));
  all.push_back(fault("fault.opt_out_ignored",
                      "Keeps sending activity for advertising after the account turned "
                      "personalised ads off.",
                      [](behaviour& b) { b.honour_ad_settings = false; }));
  all.push_back(fault("fault.gpc_ignored",
                      "Ignores the Sec-GPC: 1 opt-out signal of the user's browser.",
                      [](behaviour& b) { b.honour_gpc = false; }));
  all.push_back(fault("fault.partner_user_ids",
                      "Puts the viewers' account ids into partners' campaign reports.",
                      [](behaviour& b) { b.aggregate_reports = false; }));
  all.push_back(fault("fault.sale_flow",
                      "Sells an audience of account ids to a partner who pays for it.",
                      [](behaviour& b) { b.refuse_sale = false; }));
  all.push_back(fault("fault.flows_after_deletion",
                      "Keeps a deleted profile's activity on the ad platform, which goes on "
                      "targeting ads with it.",
                      [](behaviour& b) { b.erase_ads_on_deletion = false; }));
  all.push_back(fault("fault.profile_not_imported",
                      "Links the account but leaves out the name, bio and followers that the "
                      "confirmation page lists.",
                      [](behaviour& b) { b.import_profile = false; }));
  all.push_back(fault("fault.ads_notices_not_retried",
                      "Sends each notice to the ad platform once: one sent while it is down, a "
                      "deletion among them, is lost.",
                      [](behaviour& b) { b.retry_ads_notices = false; }));
  all.push_back(fault("fault.partner_contracts_ignored",
                      "Answers any known partner's request, whatever its contract allows: "
                      "other advertisers' reports and per-person audiences.",
                      [](behaviour& b) { b.keep_partner_contracts = false; }));
  all.push_back(fault("fault.small_groups_reported",
                      "Reports a campaign's counts to partners however few people saw it.",
                      [](behaviour& b) { b.suppress_small_groups = false; }));
  all.push_back(fault("fault.import_not_atomic",
                      "Commits the new profile before importing its follows, tokens and session: "
                      "a crash in between leaves a half-made profile.",
                      [](behaviour& b) { b.atomic_import = false; }));
  all.push_back(fault("fault.soft_deletion",
                      "Deleting a profile only closes it: the row stays with the account id, and "
                      "the account cannot link again.",
                      [](behaviour& b) { b.erase_profile_on_deletion = false; }));
  all.push_back(fault("fault.confirmation_silent",
                      "The Link Account page asks for the link without listing what Instagram "
                      "shares.",
                      [](behaviour& b) { b.list_shared_data = false; }));
  all.push_back(fault("fault.name_read_only",
                      "Locks the display name to Instagram's: an edit of the name is refused.",
                      [](behaviour& b) { b.name_editable = false; }));
  all.push_back(fault("fault.deletion_ignored",
                      "Answers the provider's deletion webhook and data-deletion callback but "
                      "keeps the profile open.",
                      [](behaviour& b) { b.close_on_account_deletion = false; }));
  all.push_back(fault("fault.inactive_accounts_linked",
                      "Lets a restricted, suspended or banned account log in at the provider and "
                      "link a profile on the service.",
                      [](behaviour& b) { b.refuse_inactive_accounts = false; }));
  all.push_back(fault("fault.foreign_profile_used",
                      "Uses the provider's profile answer whichever account it describes, not "
                      "only the one the grant is for.",
                      [](behaviour& b) { b.match_profile_to_grant = false; }));
  all.push_back(fault("fault.open_feed",
                      "Answers the feed to a caller without a linked profile's session (a page "
                      "with no posts, nobody being signed in) instead of refusing it.",
                      [](behaviour& b) { b.require_link = false; }));
  all.push_back(fault("fault.no_account_choice",
                      "The provider links the account the browser logged in first, whichever "
                      "account the person chose.",
                      [](behaviour& b) { b.offer_account_choice = false; }));
  all.push_back(fault("fault.bio_read_only",
                      "Locks the bio to the one copied from Instagram at sign-up: an edit of the "
                      "bio is refused.",
                      [](behaviour& b) { b.bio_editable = false; }));
  all.push_back(fault("fault.edits_sent_to_instagram",
                      "Writes an edit of the name or bio back to the Instagram account, as a "
                      "cross-product profile sync would: the change on the service changes "
                      "Instagram too.",
                      [](behaviour& b) { b.keep_edits_on_service = false; }));
  all.push_back(fault("fault.assistant_conversations_kept",
                      "Keeps the support assistant's conversations on the service: none goes to "
                      "train the company's AI, as the privacy policy says they do.",
                      [](behaviour& b) { b.share_assistant_conversations = false; }));
  all.push_back(fault("fault.reach_counts_impressions",
                      "Reports a campaign's impressions to partners as its reach: a person who "
                      "saw it twice is counted as two people.",
                      [](behaviour& b) { b.count_distinct_viewers = false; }));
  all.push_back(fault("fault.activity_stays_in_product",
                      "Chooses a product's sponsored posts from that product's activity alone: "
                      "Threads activity never informs the ads on Instagram, as the policy says "
                      "it does.",
                      [](behaviour& b) { b.use_activity_across_products = false; }));
  all.push_back(fault("fault.picture_not_imported",
                      "Copies the username, name and bio at sign-up but not the picture: the "
                      "profile has none until the picture changes on Instagram or a "
                      "reconciliation poll brings it.",
                      [](behaviour& b) { b.import_picture = false; }));
  all.push_back(fault("fault.username_truncated",
                      "Keeps at most 20 characters of a mirrored username, where Instagram allows "
                      "30: a longer one is cut, and the profile's username is not the account's.",
                      [](behaviour& b) { b.username_length = 20; }));
  all.push_back(fault("fault.business_accounts_refused",
                      "Links personal Instagram accounts only: a business account's sign-up is "
                      "refused, although the help pages say either kind can sign up.",
                      [](behaviour& b) { b.link_business_accounts = false; }));
  all.push_back(fault("fault.impressions_count_viewers",
                      "Reports a campaign's distinct viewers to partners as its impressions: a "
                      "person who saw it twice counts once.",
                      [](behaviour& b) { b.count_every_impression = false; }));
  all.push_back(fault("fault.ads_not_personalized",
                      "Never chooses a sponsored post from the person's activity: the campaigns "
                      "take turns, although the policy says activity chooses the ads.",
                      [](behaviour& b) { b.personalize_ads = false; }));
  return all;
}

}  // namespace

std::string_view to_string(field_rule r) {
  switch (r) {
    case field_rule::mirror:
      return "mirror";
    case field_rule::copy_once:
      return "copy_once";
    case field_rule::independent:
      return "independent";
  }
  return "?";
}

std::string_view to_string(channel c) {
  switch (c) {
    case channel::webhook:
      return "webhook";
    case channel::ssf_push:
      return "ssf-push";
    case channel::ssf_poll:
      return "ssf-poll";
  }
  return "?";
}

std::optional<channel> channel_from(std::string_view name) {
  for (auto c : {channel::webhook, channel::ssf_push, channel::ssf_poll})
    if (to_string(c) == name) return c;
  return std::nullopt;
}

bool applies_over(const behaviour& b, channel c) {
  return !b.shared_signals_only || c != channel::webhook;
}

std::span<const behaviour> behaviours() {
  static const std::vector<behaviour> all = make_all();
  return all;
}

std::optional<behaviour> find_behaviour(std::string_view name) {
  for (const auto& b : behaviours())
    if (b.name == name) return b;
  return std::nullopt;
}

}  // namespace linksim::threads_sim
