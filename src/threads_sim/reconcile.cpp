// Reconciliation: polling the provider for a profile's current fields when webhooks may have been
// lost, on the service's interval or on demand.
// Meta's signed_request callbacks and reconciliation polling.
#include "internal.hpp"

#include "linksim/common/account_rules.hpp"
#include "linksim/common/crypto.hpp"
#include "linksim/common/json.hpp"
#include "linksim/threads_sim/repositories.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <charconv>

namespace linksim::threads_sim {

// --- Reconciliation ---

result<profile> service::reconcile(std::int64_t profile_id) {
  if (auto polled = poll(profile_id); !polled) return polled.error();
  std::lock_guard lock(mutex_);
  return load_profile(profile_id);
}

result<void> service::poll(std::int64_t profile_id) {
  std::lock_guard sync(sync_mutex_);
  tokens t;
  std::int64_t subject = 0;
  {
    std::lock_guard lock(mutex_);
    auto linked = repos_.links().of_profile(profile_id);
    if (!linked) return make_error_code(error::profile_not_found);
    subject = linked->ig_user_id;
    if (!linked->tokens) return make_error_code(error::reauthorization_required);
    t = std::move(*linked->tokens);
  }
  // What to do when the provider could not be asked, or refused.
  auto fail = [&](const boost::system::error_code& ec) -> result<void> {
    std::lock_guard lock(mutex_);
    const auto now = clock_.now();
    if (is(ec, error::reauthorization_required))
      repos_.profiles().require_login(profile_id, now + cfg_.reconcile_interval);
    else
      repos_.profiles().set_next_sync(profile_id, now + cfg_.reconcile_retry);
    return ec;
  };
  bool refreshed = false;
  if (clock_.now() + 1min >= t.access_expires_at) {
    auto fresh = refresh_tokens(t.refresh);
    if (!fresh) return fail(fresh.error());
    if (fresh->refresh.empty()) fresh->refresh = t.refresh;
    t = *fresh;
    refreshed = true;
    // Rotation: the old refresh token is dead now, so the new one is stored at once.
    std::lock_guard lock(mutex_);
    store_tokens(profile_id, t);
  }
  std::string raw;
  auto ig = fetch_me(t.access, false, &raw);
  if (!ig) return fail(ig.error());

  std::lock_guard lock(mutex_);
  auto work = repos_.begin();
  auto p = load_profile(profile_id, counts::without);
  if (!p) return p.error();  // deleted while the poll was in flight
  const auto applied = apply_snapshot(*p, *ig);
  record(cfg_.idp_system, cfg_.system_name, subject, detail::snapshot_categories(),
         "reconcile.poll", raw,
         "profile " + std::to_string(profile_id) + " v" + std::to_string(ig->version) +
             "; applied: " + (applied.empty() ? "nothing" : join(applied, ",")) +
             (refreshed ? "; token refreshed" : ""));
  work->commit();
  return {};
}

std::size_t service::reconcile_due() {
  std::vector<std::int64_t> due;
  {
    std::lock_guard lock(mutex_);
    due = repos_.profiles().due_for_sync(clock_.now(), cfg_.reconcile_batch);
  }
  for (auto id : due) (void)poll(id);
  return due.size();
}

std::optional<time_point> service::next_reconcile_due() {
  std::lock_guard lock(mutex_);
  return repos_.profiles().next_sync_due();
}

}  // namespace linksim::threads_sim
