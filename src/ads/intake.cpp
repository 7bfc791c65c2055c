// Activity, opt-outs and assistant transcripts the company's products send; and erasure.
#include "domain.hpp"

namespace linksim::ads::domain {

result<void> intake::ingest(const activity& a) {
  if (a.subject <= 0 || a.kind.empty() || a.purposes.empty())
    return make_error_code(errc::bad_field);
  std::lock_guard lock(ctx_.mutex);
  auto work = ctx_.repos.begin();
  ctx_.repos.activity().add(a, ctx_.time.now());
  work->commit();
  return {};
}

void intake::opt_out(std::int64_t subject, std::string_view from_system, std::string_view source) {
  std::lock_guard lock(ctx_.mutex);
  ctx_.repos.activity().add_opt_out(subject, from_system, source, ctx_.time.now());
  // The answer confirms the account's setting to the sender.
  ctx_.record(from_system, subject, {"user.account.settings"}, "essential.service", "ads.opt_out",
              source, "opted out, confirmed to " + std::string(from_system));
}

result<void> intake::train(std::int64_t subject, std::string_view from_system,
                           std::string_view transcript) {
  if (subject <= 0 || transcript.empty()) return make_error_code(errc::bad_field);
  std::lock_guard lock(ctx_.mutex);
  ctx_.repos.activity().add_transcript(subject, from_system, transcript, ctx_.time.now());
  return {};
}

std::int64_t erasure::erase(std::int64_t subject) {
  if (!ctx_.cfg.rules.erase_ads_on_deletion) return 0;
  std::lock_guard lock(ctx_.mutex);
  auto work = ctx_.repos.begin();
  const std::int64_t erased = ctx_.repos.activity().erase(subject);
  // One pseudonym for all of the account's impressions: reach stays right, the id goes.
  ctx_.repos.impressions().pseudonymize(subject);
  work->commit();
  return erased;
}

service::holdings erasure::held_about(std::int64_t subject) {
  std::lock_guard lock(ctx_.mutex);
  service::holdings h;
  h.activity = ctx_.repos.activity().count(subject);
  h.impressions = ctx_.repos.impressions().count_viewer(subject);
  h.opted_out = ctx_.repos.activity().opted_out(subject);
  return h;
}

}  // namespace linksim::ads::domain
