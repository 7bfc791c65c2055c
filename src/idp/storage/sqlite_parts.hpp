// The SQLite repositories of the provider, one factory each; storage/sqlite.cpp puts them
// together behind idp::repositories.
#pragma once

#include "linksim/idp/repositories.hpp"

#include <memory>

namespace linksim::idp {

std::unique_ptr<account_repository> make_sqlite_accounts(store::database& db);
std::unique_ptr<client_repository> make_sqlite_clients(store::database& db);
std::unique_ptr<session_repository> make_sqlite_sessions(store::database& db);
std::unique_ptr<grant_repository> make_sqlite_grants(store::database& db);
std::unique_ptr<outbox_repository> make_sqlite_outbox(store::database& db);
std::unique_ptr<ssf_repository> make_sqlite_ssf(store::database& db);

}  // namespace linksim::idp
