// Reconciliation: polling the provider for a profile's current fields when webhooks may have been
// lost, on the service's interval or on demand.
#include "domain.hpp"

#include "linksim/threads_sim/repositories.hpp"

namespace linksim::threads_sim {

// --- Reconciliation ---

result<profile> domain::reconciliation::reconcile(std::int64_t profile_id) {
  if (auto polled = poll(profile_id); !polled) return polled.error();
  std::lock_guard lock(ctx_.mutex);
  return ctx_.load_profile(profile_id);
}

result<void> domain::reconciliation::poll(std::int64_t profile_id) {
  std::lock_guard sync(sync_mutex_);
  link_tokens t;
  std::int64_t subject = 0;
  {
    std::lock_guard lock(ctx_.mutex);
    auto linked = ctx_.repos.links().of_profile(profile_id);
    if (!linked) return make_error_code(error::profile_not_found);
    subject = linked->ig_user_id;
    if (!linked->tokens) return make_error_code(error::reauthorization_required);
    t = std::move(*linked->tokens);
  }
  // What to do when the provider could not be asked, or refused.
  auto fail = [&](const boost::system::error_code& ec) -> result<void> {
    std::lock_guard lock(ctx_.mutex);
    const auto now = ctx_.time.now();
    if (is(ec, error::reauthorization_required))
      ctx_.repos.profiles().require_login(profile_id, now + ctx_.cfg.reconcile_interval);
    else
      ctx_.repos.profiles().set_next_sync(profile_id, now + ctx_.cfg.reconcile_retry);
    return ec;
  };
  bool refreshed = false;
  if (ctx_.time.now() + 1min >= t.access_expires_at) {
    auto fresh = provider_.refresh_tokens(t.refresh);
    if (!fresh) return fail(fresh.error());
    if (fresh->refresh.empty()) fresh->refresh = t.refresh;
    t = *fresh;
    refreshed = true;
    // Rotation: the old refresh token is dead now, so the new one is stored at once.
    std::lock_guard lock(ctx_.mutex);
    provider_.store_tokens(profile_id, t);
  }
  std::string raw;
  auto ig = provider_.fetch_me(t.access, false, &raw);
  if (!ig) return fail(ig.error());
  // The token is the profile's account's: an answer about another account is not applied.
  if (ig->id != subject && ctx_.cfg.rules.match_profile_to_grant)
    return fail(make_error_code(errc::upstream_bad_response));

  std::lock_guard lock(ctx_.mutex);
  auto work = ctx_.repos.begin();
  auto p = ctx_.load_profile(profile_id, counts::without);
  if (!p) return p.error();  // deleted while the poll was in flight
  const auto applied = mirror_.apply_snapshot(*p, *ig);
  ctx_.record(ctx_.cfg.idp_system, ctx_.cfg.system_name, subject, detail::categories_of(*ig),
              "reconcile.poll", raw,
              "profile " + std::to_string(profile_id) + " v" + std::to_string(ig->version) +
                  "; applied: " + (applied.empty() ? "nothing" : join(applied, ",")) +
                  (refreshed ? "; token refreshed" : ""));
  work->commit();
  return {};
}

std::size_t domain::reconciliation::reconcile_due() {
  std::vector<std::int64_t> due;
  {
    std::lock_guard lock(ctx_.mutex);
    due = ctx_.repos.profiles().due_for_sync(ctx_.time.now(), ctx_.cfg.reconcile_batch);
  }
  for (auto id : due) (void)poll(id);
  return due.size();
}

std::optional<time_point> domain::reconciliation::next_due() {
  std::lock_guard lock(ctx_.mutex);
  return ctx_.repos.profiles().next_sync_due();
}

}  // namespace linksim::threads_sim
