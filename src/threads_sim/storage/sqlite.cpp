// The dependent service's SQLite storage: its repositories over one database, migrated to the
// schema in schema.cpp, the one-profile rule as a unique index, and the unit of work as a SQLite
// transaction.
#include "schema.hpp"
#include "sqlite_parts.hpp"

#include "linksim/store/sqlite.hpp"

namespace linksim::threads_sim {
namespace {

class sqlite_store final : public repositories {
 public:
  explicit sqlite_store(store::database& db)
      : db_(db),
        profiles_(make_sqlite_profiles(db)),
        sessions_(make_sqlite_sessions(db)),
        links_(make_sqlite_links(db)),
        sign_ins_(make_sqlite_sign_ins(db)),
        content_(make_sqlite_content(db)),
        notices_(make_sqlite_notices(db)),
        receipts_(make_sqlite_receipts(db)) {
    store::migrate(db_, schema::migrations());
  }

  store::work_scope begin() override { return store::begin_work(db_); }

  void enforce_one_profile_per_account(bool on, std::string_view behaviour_name) override {
    if (!on) {
      db_.exec("DROP INDEX IF EXISTS profiles_one_per_account");
      return;
    }
    try {
      db_.exec(
          "CREATE UNIQUE INDEX IF NOT EXISTS profiles_one_per_account ON profiles(ig_user_id)");
    } catch (const store::error& e) {
      if (!e.is_constraint()) throw;
      throw store::error(e.code(), db_.path().string() +
                                       " holds two profiles for one Instagram account (written "
                                       "under fault.two_profiles); profile " +
                                       std::string(behaviour_name) + " cannot run on it");
    }
  }

  profile_repository& profiles() override { return *profiles_; }
  session_repository& sessions() override { return *sessions_; }
  link_repository& links() override { return *links_; }
  sign_in_repository& sign_ins() override { return *sign_ins_; }
  content_repository& content() override { return *content_; }
  notice_repository& notices() override { return *notices_; }
  receipt_repository& receipts() override { return *receipts_; }

 private:
  store::database& db_;
  std::unique_ptr<profile_repository> profiles_;
  std::unique_ptr<session_repository> sessions_;
  std::unique_ptr<link_repository> links_;
  std::unique_ptr<sign_in_repository> sign_ins_;
  std::unique_ptr<content_repository> content_;
  std::unique_ptr<notice_repository> notices_;
  std::unique_ptr<receipt_repository> receipts_;
};

}  // namespace

std::unique_ptr<repositories> sqlite_repositories(store::database& db) {
  return std::make_unique<sqlite_store>(db);
}

}  // namespace linksim::threads_sim
