// The webhook outbox as an operator sees it: deliveries by state, and the replay of a dead one.
#include "domain.hpp"

#include "linksim/idp/repositories.hpp"

namespace linksim::idp {

std::vector<delivery> domain::outbox::deliveries(std::optional<delivery_state> state,
                                                 std::size_t limit) {
  std::lock_guard lock(ctx_.mutex);
  return ctx_.repos.outbox().list(state, std::nullopt, limit);
}

result<delivery> domain::outbox::replay(std::int64_t delivery_id) {
  std::lock_guard lock(ctx_.mutex);
  auto work = ctx_.repos.begin();
  const auto found = ctx_.repos.outbox().find(delivery_id);
  if (!found) return make_error_code(errc::not_found);
  const auto& [state, client_id, kind] = *found;
  if (state != "dead" && state != "disabled") return make_error_code(errc::delivery_not_replayable);
  const auto now = unix_millis(ctx_.time.now());
  ctx_.repos.outbox().replay(delivery_id, now);
  queue_.emplace(now, delivery_id);  // dropped when met if the commit fails
  // Replaying to an endpoint that said 410 is the operator saying it is back: every change held
  // for it goes too, in the order the changes were made.
  if (state == "disabled" && kind == "webhook") release_held_webhooks(client_id, std::nullopt);
  work->commit();
  return ctx_.repos.outbox().list(std::nullopt, delivery_id, 1).front();
}

}  // namespace linksim::idp
