// The webhook outbox as an operator sees it: deliveries by state, and the replay of a dead one.
// with Meta's signature, Standard Webhooks headers, backoff, 410 handling and dead letters.
#include "internal.hpp"

#include "linksim/common/json.hpp"
#include "linksim/store/sqlite.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

namespace linksim::idp {

std::vector<delivery> service::select_deliveries(std::optional<delivery_state> state,
                                                 std::optional<std::int64_t> id,
                                                 std::size_t limit) {
  auto q = db_.prepare(
      "SELECT id, coalesce(event_id, 0), client_id, kind, field, account_id, url, state, "
      "attempts, next_attempt_at, last_status, last_response FROM deliveries "
      "WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR id = ?2) ORDER BY id DESC LIMIT ?3");
  q.bind(1, state ? std::optional<std::string_view>(to_string(*state)) : std::nullopt);
  q.bind(2, id);
  q.bind(3, static_cast<std::int64_t>(limit));
  std::vector<delivery> out;
  while (q.step()) {
    out.push_back({q.get_int(0), q.get_int(1), q.get_text(2), q.get_text(3), q.get_text(4),
                   q.get_int(5), q.get_text(6),
                   parse_delivery_state(q.get_text(7)).value_or(delivery_state::pending),
                   q.get_int(8), from_unix_millis(q.get_int(9)), static_cast<int>(q.get_int(10)),
                   q.get_text(11)});
  }
  return out;
}

std::vector<delivery> service::deliveries(std::optional<delivery_state> state, std::size_t limit) {
  std::lock_guard lock(mutex_);
  return select_deliveries(state, std::nullopt, limit);
}

result<delivery> service::replay(std::int64_t delivery_id) {
  std::lock_guard lock(mutex_);
  store::transaction tx(db_);
  auto& q = db_.cached("SELECT state, client_id, kind FROM deliveries WHERE id = ?");
  q.bind(1, delivery_id);
  if (!q.step()) return make_error_code(errc::not_found);
  const std::string state = q.get_text(0), client_id = q.get_text(1), kind = q.get_text(2);
  if (state != "dead" && state != "disabled") return make_error_code(errc::delivery_not_replayable);
  const auto now = unix_millis(clock_.now());
  db_.cached(
         "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?, "
         "window_start = ? WHERE id = ?")
      .bind_all(now, now, delivery_id)
      .run();
  outbox_queue_.emplace(now, delivery_id);  // dropped when met if the commit fails
  // Replaying to an endpoint that said 410 is the operator saying it is back: every change held
  // for it goes too, in the order the changes were made.
  if (state == "disabled" && kind == "webhook") release_held_webhooks(client_id, std::nullopt);
  tx.commit();
  return select_deliveries(std::nullopt, delivery_id, 1).front();
}

}  // namespace linksim::idp
