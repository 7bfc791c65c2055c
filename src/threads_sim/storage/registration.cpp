// The running service's client registration, in its own database (see service.hpp).
#include "schema.hpp"

#include "linksim/store/sqlite.hpp"
#include "linksim/threads_sim/service.hpp"

namespace linksim::threads_sim {

std::optional<registration> stored_registration(store::database& db) {
  store::migrate(db, schema::migrations());
  auto q = db.prepare(
      "SELECT (SELECT value FROM host_settings WHERE key = 'client_id'), "
      "(SELECT value FROM host_settings WHERE key = 'client_secret')");
  q.step();
  if (q.is_null(0) || q.is_null(1)) return std::nullopt;
  return registration{q.get_text(0), q.get_text(1)};
}

void store_registration(store::database& db, const registration& r) {
  store::migrate(db, schema::migrations());
  store::transaction tx(db);
  db.prepare("INSERT OR REPLACE INTO host_settings (key, value) VALUES ('client_id', ?)")
      .bind(1, r.client_id)
      .run();
  db.prepare("INSERT OR REPLACE INTO host_settings (key, value) VALUES ('client_secret', ?)")
      .bind(1, r.client_secret)
      .run();
  tx.commit();
}

}  // namespace linksim::threads_sim
