// The provider's webhook outbox over SQLite.
#include "sqlite_parts.hpp"

#include "linksim/common/json.hpp"
#include "linksim/common/text.hpp"
#include "linksim/store/sqlite.hpp"

#include <boost/json/array.hpp>

namespace linksim::idp {
namespace {

class sqlite_outbox final : public outbox_repository {
 public:
  explicit sqlite_outbox(store::database& db) : db_(db) {}

  std::int64_t last_event_id() override {
    // Deliveries are inserted in the order of their changes, so the newest webhook delivery
    // holds the highest number; changes made before version 10 are numbered in the events
    // table. Read once: prepared for this, not kept in the statement cache.
    auto q = db_.prepare(
        "SELECT max(coalesce((SELECT event_id FROM deliveries WHERE event_id IS NOT NULL "
        "ORDER BY id DESC LIMIT 1), 0), coalesce((SELECT max(id) FROM events), 0))");
    return q.step() ? q.get_int(0) : 0;
  }

  std::vector<std::pair<std::int64_t, std::int64_t>> pending() override {
    auto q = db_.prepare("SELECT next_attempt_at, id FROM deliveries WHERE state = 'pending'");
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    while (q.step()) out.emplace_back(q.get_int(0), q.get_int(1));
    return out;
  }

  std::int64_t add_webhook(std::int64_t event_id, std::string_view client_id,
                           std::int64_t account_id, std::string_view field, std::string_view url,
                           bool held, std::int64_t due, std::int64_t now,
                           std::string_view value_json) override {
    db_.cached(
           "INSERT INTO deliveries (event_id, client_id, kind, account_id, field, url, state, "
           "next_attempt_at, window_start, value, created_at) "
           "VALUES (?, ?, 'webhook', ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind_all(event_id, client_id, account_id, field, url, held ? "disabled" : "pending", due,
                  now, value_json, now)
        .run();
    return db_.last_insert_rowid();
  }

  std::int64_t add_callback(std::int64_t account_id, std::string_view client_id,
                            std::string_view kind, std::string_view url,
                            std::int64_t now) override {
    db_.cached(
           "INSERT INTO deliveries (event_id, client_id, kind, account_id, field, url, state, "
           "next_attempt_at, window_start) VALUES (NULL, ?, ?, ?, ?, ?, 'pending', ?, ?)")
        .bind_all(client_id, kind, account_id, kind, url, now, now)
        .run();
    return db_.last_insert_rowid();
  }

  std::vector<std::int64_t> release_held(std::string_view client_id, std::int64_t now,
                                         std::optional<std::string_view> new_url) override {
    auto& held = db_.cached(
        "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?1, "
        "window_start = ?1, url = coalesce(?3, url) "
        "WHERE client_id = ?2 AND kind = 'webhook' AND state = 'disabled' RETURNING id");
    held.bind_all(now, client_id, new_url);
    std::vector<std::int64_t> ids;
    while (held.step()) ids.push_back(held.get_int(0));
    held.reset();
    return ids;
  }

  std::optional<queued_delivery> due(std::int64_t id, std::int64_t at) override {
    auto& q = db_.cached(
        "SELECT client_id, kind, account_id, field, url, event_id, value, created_at, attempts, "
        "window_start FROM deliveries WHERE id = ? AND state = 'pending' AND next_attempt_at = ?");
    q.bind_all(id, at);
    if (!q.step()) {
      q.reset();
      return std::nullopt;
    }
    queued_delivery o;
    o.id = id;
    o.due_at = at;
    o.client_id = q.get_text(0);
    o.kind = q.get_text(1);
    o.account_id = q.get_int(2);
    o.field = q.get_text(3);
    o.url = q.get_text(4);
    o.event_id = q.get_int(5);
    o.value = q.get_text(6);
    o.created_at = q.get_int(7);
    o.attempts = q.get_int(8);
    o.window_start = from_unix_millis(q.get_int(9));
    q.reset();
    return o;
  }

  void hold_webhooks(std::string_view client_id) override {
    db_.cached(
           "UPDATE deliveries SET state = 'disabled' WHERE client_id = ? AND kind = 'webhook' "
           "AND state = 'pending'")
        .bind(1, client_id)
        .run();
  }

  void settle(std::int64_t id, std::string_view state, std::int64_t attempts, std::int64_t next,
              int last_status, std::string_view last_response, std::int64_t at) override {
    db_.cached(
           "UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at = ?, "
           "last_status = ?, last_response = ?, delivered_at = CASE WHEN ? = 'delivered' "
           "THEN ? ELSE delivered_at END WHERE id = ?")
        .bind_all(state, attempts, next, last_status, last_response, state, at, id)
        .run();
  }

  std::vector<delivery> list(std::optional<delivery_state> state, std::optional<std::int64_t> id,
                             std::size_t limit) override {
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

  std::optional<summary> find(std::int64_t id) override {
    auto& q = db_.cached("SELECT state, client_id, kind FROM deliveries WHERE id = ?");
    q.bind(1, id);
    if (!q.step()) return std::nullopt;
    return summary{q.get_text(0), q.get_text(1), q.get_text(2)};
  }

  void replay(std::int64_t id, std::int64_t now) override {
    db_.cached(
           "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?, "
           "window_start = ? WHERE id = ?")
        .bind_all(now, now, id)
        .run();
  }

 private:
  store::database& db_;
};

}  // namespace

std::unique_ptr<outbox_repository> make_sqlite_outbox(store::database& db) {
  return std::make_unique<sqlite_outbox>(db);
}

}  // namespace linksim::idp
