// The provider's SQLite storage: its repositories over one database, migrated to the schema in
// schema.cpp, and the unit of work as a SQLite transaction.
#include "schema.hpp"
#include "sqlite_parts.hpp"

#include "linksim/store/sqlite.hpp"

namespace linksim::idp {
namespace {

class sqlite_store final : public repositories {
 public:
  explicit sqlite_store(store::database& db)
      : db_(db),
        accounts_(make_sqlite_accounts(db)),
        clients_(make_sqlite_clients(db)),
        sessions_(make_sqlite_sessions(db)),
        grants_(make_sqlite_grants(db)),
        outbox_(make_sqlite_outbox(db)),
        ssf_(make_sqlite_ssf(db)) {
    store::migrate(db_, schema::migrations());
  }
  store::work_scope begin() override { return store::begin_work(db_); }
  account_repository& accounts() override { return *accounts_; }
  client_repository& clients() override { return *clients_; }
  session_repository& sessions() override { return *sessions_; }
  grant_repository& grants() override { return *grants_; }
  outbox_repository& outbox() override { return *outbox_; }
  ssf_repository& ssf() override { return *ssf_; }

 private:
  store::database& db_;
  std::unique_ptr<account_repository> accounts_;
  std::unique_ptr<client_repository> clients_;
  std::unique_ptr<session_repository> sessions_;
  std::unique_ptr<grant_repository> grants_;
  std::unique_ptr<outbox_repository> outbox_;
  std::unique_ptr<ssf_repository> ssf_;
};

}  // namespace

std::unique_ptr<repositories> sqlite_repositories(store::database& db) {
  return std::make_unique<sqlite_store>(db);
}

}  // namespace linksim::idp
