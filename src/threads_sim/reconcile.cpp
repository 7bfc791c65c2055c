// Reconciliation: polling the provider for a profile's current fields when webhooks may have been
// lost, on the service's interval or on demand.
// Meta's signed_request callbacks and reconciliation polling.
#include "internal.hpp"

#include "linksim/common/account_rules.hpp"
#include "linksim/common/crypto.hpp"
#include "linksim/common/json.hpp"
#include "linksim/store/sqlite.hpp"

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
    auto& q = db_.cached(
        "SELECT l.access_token, l.refresh_token, l.access_expires_at, p.ig_user_id "
        "FROM profiles p LEFT JOIN links l ON l.profile_id = p.id WHERE p.id = ?");
    q.bind(1, profile_id);
    if (!q.step()) return make_error_code(error::profile_not_found);
    const bool linked = !q.is_null(0);
    if (linked) t = {q.get_text(0), q.get_text(1), from_unix_millis(q.get_int(2))};
    subject = q.get_int(3);
    q.reset();
    if (!linked) return make_error_code(error::reauthorization_required);
  }
  // What to do when the provider could not be asked, or refused.
  auto fail = [&](const boost::system::error_code& ec) -> result<void> {
    std::lock_guard lock(mutex_);
    const auto now = unix_millis(clock_.now());
    if (is(ec, error::reauthorization_required)) {
      db_.cached("UPDATE profiles SET needs_login = 1, next_sync_at = ? WHERE id = ?")
          .bind_all(now + cfg_.reconcile_interval.count(), profile_id)
          .run();
    } else {
      db_.cached("UPDATE profiles SET next_sync_at = ? WHERE id = ?")
          .bind_all(now + cfg_.reconcile_retry.count(), profile_id)
          .run();
    }
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
  store::transaction tx(db_);
  auto p = load_profile(profile_id, counts::without);
  if (!p) return p.error();  // deleted while the poll was in flight
  const auto applied = apply_snapshot(*p, *ig);
  record(cfg_.idp_system, cfg_.system_name, subject, detail::snapshot_categories(),
         "reconcile.poll", raw,
         "profile " + std::to_string(profile_id) + " v" + std::to_string(ig->version) +
             "; applied: " + (applied.empty() ? "nothing" : join(applied, ",")) +
             (refreshed ? "; token refreshed" : ""));
  tx.commit();
  return {};
}

std::size_t service::reconcile_due() {
  std::vector<std::int64_t> due;
  {
    std::lock_guard lock(mutex_);
    auto& q = db_.cached(
        "SELECT id FROM profiles WHERE next_sync_at <= ? AND ig_deleted = 0 AND needs_login = 0 "
        "ORDER BY next_sync_at, id LIMIT ?");
    q.bind_all(unix_millis(clock_.now()), static_cast<std::int64_t>(cfg_.reconcile_batch));
    while (q.step()) due.push_back(q.get_int(0));
  }
  for (auto id : due) (void)poll(id);
  return due.size();
}

std::optional<time_point> service::next_reconcile_due() {
  std::lock_guard lock(mutex_);
  auto& q =
      db_.cached("SELECT min(next_sync_at) FROM profiles WHERE ig_deleted = 0 AND needs_login = 0");
  q.step();
  auto v = q.get_opt_int(0);
  q.reset();
  if (!v) return std::nullopt;
  return from_unix_millis(*v);
}

}  // namespace linksim::threads_sim
