// The provider's Shared Signals streams and their Security Event Tokens over SQLite.
#include "sqlite_parts.hpp"

#include "linksim/common/text.hpp"
#include "linksim/store/sqlite.hpp"

namespace linksim::idp {
namespace {

constexpr const char* stream_columns =
    "id, client_id, method, endpoint_url, authorization_header, events_requested, status, "
    "reason, description, created_at";

ssf_stream read_stream(store::statement& q) {
  ssf_stream s;
  s.id = q.get_text(0);
  s.client_id = q.get_text(1);
  s.method = q.get_text(2);
  s.endpoint_url = q.get_text(3);
  s.authorization_header = q.get_text(4);
  s.events_requested = split_list(q.get_text(5), " ");
  s.status = q.get_text(6);
  s.reason = q.get_text(7);
  s.description = q.get_text(8);
  s.created_at = q.get_int(9);
  return s;
}

// Event types are URIs: a space separates them.
std::string events_text(const std::vector<std::string>& events) {
  return join(events, " ");
}

class sqlite_ssf final : public ssf_repository {
 public:
  explicit sqlite_ssf(store::database& db) : db_(db) {}

  void add_stream(const ssf_stream& s) override {
    db_.cached(std::string("INSERT INTO ssf_streams (") + stream_columns +
               ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind_all(s.id, s.client_id, s.method, s.endpoint_url, s.authorization_header,
                  events_text(s.events_requested), s.status, s.reason, s.description, s.created_at)
        .run();
  }

  void update_stream(const ssf_stream& s) override {
    db_.cached(
           "UPDATE ssf_streams SET method = ?, endpoint_url = ?, authorization_header = ?, "
           "events_requested = ?, status = ?, reason = ?, description = ? WHERE id = ?")
        .bind_all(s.method, s.endpoint_url, s.authorization_header, events_text(s.events_requested),
                  s.status, s.reason, s.description, s.id)
        .run();
  }

  std::optional<ssf_stream> find_stream(std::string_view id) override {
    auto& q =
        db_.cached(std::string("SELECT ") + stream_columns + " FROM ssf_streams WHERE id = ?");
    q.bind_all(id);
    std::optional<ssf_stream> out;
    if (q.step()) out = read_stream(q);
    q.reset();
    return out;
  }

  std::vector<ssf_stream> streams_of(std::string_view client_id) override {
    auto& q = db_.cached(std::string("SELECT ") + stream_columns +
                         " FROM ssf_streams WHERE client_id = ? ORDER BY created_at, id");
    q.bind_all(client_id);
    std::vector<ssf_stream> out;
    while (q.step()) out.push_back(read_stream(q));
    return out;
  }

  bool any_stream() override {
    auto q = db_.prepare("SELECT EXISTS (SELECT 1 FROM ssf_streams)");
    return q.step() && q.get_int(0) != 0;
  }

  void remove_stream(std::string_view id) override {
    db_.cached("DELETE FROM ssf_streams WHERE id = ?").bind_all(id).run();
  }

  std::vector<ssf_stream> streams_about(std::int64_t account_id,
                                        std::int64_t revoked_since) override {
    // Every subject of the receiver's grants is in its streams (default_subjects ALL) unless
    // the stream removed it; one the stream added is in while the grant stands.
    auto& q = db_.cached(
        std::string("SELECT ") + stream_columns +
        " FROM ssf_streams s WHERE s.status != 'disabled' AND EXISTS (SELECT 1 FROM grants g "
        "WHERE g.client_id = s.client_id AND g.account_id = ?1 AND (g.revoked_at IS NULL OR "
        "g.revoked_at >= ?2)) AND NOT EXISTS (SELECT 1 FROM ssf_subjects u WHERE u.stream_id = "
        "s.id AND u.account_id = ?1 AND u.included = 0) ORDER BY s.created_at, s.id");
    q.bind_all(account_id, revoked_since);
    std::vector<ssf_stream> out;
    while (q.step()) out.push_back(read_stream(q));
    return out;
  }

  void set_subject(std::string_view stream_id, std::int64_t account_id, bool included) override {
    db_.cached(
           "INSERT INTO ssf_subjects (stream_id, account_id, included) VALUES (?, ?, ?) "
           "ON CONFLICT (stream_id, account_id) DO UPDATE SET included = excluded.included")
        .bind_all(stream_id, account_id, included ? 1 : 0)
        .run();
  }

  std::int64_t add_event(std::string_view jti, std::string_view stream_id,
                         std::optional<std::int64_t> account_id, std::string_view event_type,
                         std::string_view set, std::string_view state, std::int64_t now) override {
    db_.cached(
           "INSERT INTO ssf_events (jti, stream_id, account_id, event_type, set_jwt, state, "
           "created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .bind_all(jti, stream_id, account_id, event_type, set, state, now, now)
        .run();
    return db_.last_insert_rowid();
  }

  std::vector<waiting_set> pending_events(std::string_view stream_id, std::size_t limit) override {
    auto& q = db_.cached(
        "SELECT jti, set_jwt, event_type, account_id FROM ssf_events WHERE stream_id = ? AND "
        "state = 'pending' ORDER BY id LIMIT ?");
    q.bind_all(stream_id, static_cast<std::int64_t>(limit));
    std::vector<waiting_set> out;
    while (q.step()) out.push_back({q.get_text(0), q.get_text(1), q.get_text(2), q.get_opt_int(3)});
    return out;
  }

  std::int64_t count_events(std::string_view stream_id, std::string_view state) override {
    auto& q = db_.cached("SELECT count(*) FROM ssf_events WHERE stream_id = ? AND state = ?");
    q.bind_all(stream_id, state);
    const std::int64_t n = q.step() ? q.get_int(0) : 0;
    q.reset();
    return n;
  }

  std::int64_t newest_waiting(std::string_view method) override {
    auto& q = db_.cached(
        "SELECT coalesce(max(e.id), 0) FROM ssf_events e JOIN ssf_streams s ON s.id = "
        "e.stream_id WHERE e.state = 'pending' AND s.method = ?");
    q.bind_all(method);
    const std::int64_t n = q.step() ? q.get_int(0) : 0;
    q.reset();
    return n;
  }

  bool settle_event(std::string_view stream_id, std::string_view jti, std::string_view state,
                    std::string_view note, std::int64_t at) override {
    db_.cached(
           "UPDATE ssf_events SET state = ?, note = ?, settled_at = ? WHERE stream_id = ? AND "
           "jti = ? AND state = 'pending'")
        .bind_all(state, note, at, stream_id, jti)
        .run();
    return db_.changes() > 0;
  }

  std::vector<std::pair<std::int64_t, std::int64_t>> pending_pushes() override {
    auto q = db_.prepare(
        "SELECT e.next_attempt_at, e.id FROM ssf_events e JOIN ssf_streams s ON s.id = "
        "e.stream_id WHERE e.state = 'pending' AND s.method = 'urn:ietf:rfc:8935' AND s.status = "
        "'enabled'");
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    while (q.step()) out.emplace_back(q.get_int(0), q.get_int(1));
    return out;
  }

  std::optional<push_set> due_push(std::int64_t id, std::int64_t due) override {
    auto& q = db_.cached(
        "SELECT e.id, e.jti, e.stream_id, s.client_id, s.endpoint_url, s.authorization_header, "
        "e.set_jwt, e.event_type, e.account_id, e.attempts, e.next_attempt_at, e.created_at FROM "
        "ssf_events e JOIN ssf_streams s ON s.id = e.stream_id WHERE e.id = ? AND e.state = "
        "'pending' AND e.next_attempt_at = ? AND s.method = 'urn:ietf:rfc:8935' AND s.status = "
        "'enabled'");
    q.bind_all(id, due);
    std::optional<push_set> out;
    if (q.step())
      out = push_set{q.get_int(0),     q.get_text(1), q.get_text(2), q.get_text(3),
                     q.get_text(4),    q.get_text(5), q.get_text(6), q.get_text(7),
                     q.get_opt_int(8), q.get_int(9),  q.get_int(10), q.get_int(11)};
    q.reset();
    return out;
  }

  void settle_push(std::int64_t id, std::string_view state, std::int64_t attempts,
                   std::int64_t next, int status, std::string_view note, std::int64_t at) override {
    db_.cached(
           "UPDATE ssf_events SET state = ?, attempts = ?, next_attempt_at = ?, last_status = ?, "
           "note = ?, settled_at = ? WHERE id = ?")
        .bind_all(state, attempts, next, status, note, at, id)
        .run();
  }

  std::vector<std::int64_t> release_held(std::string_view stream_id, std::int64_t now) override {
    auto& q = db_.cached(
        "UPDATE ssf_events SET state = 'pending', next_attempt_at = ? WHERE stream_id = ? AND "
        "state = 'held' RETURNING id");
    q.bind_all(now, stream_id);
    std::vector<std::int64_t> out;
    while (q.step()) out.push_back(q.get_int(0));
    return out;
  }

 private:
  store::database& db_;
};

}  // namespace

std::unique_ptr<ssf_repository> make_sqlite_ssf(store::database& db) {
  return std::make_unique<sqlite_ssf>(db);
}

}  // namespace linksim::idp
