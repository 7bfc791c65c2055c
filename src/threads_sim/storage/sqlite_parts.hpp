// The SQLite repositories of the dependent service, one factory each; storage/sqlite.cpp puts
// them together behind threads_sim::repositories.
#pragma once

#include "linksim/threads_sim/repositories.hpp"

#include <memory>

namespace linksim::threads_sim {

std::unique_ptr<profile_repository> make_sqlite_profiles(store::database& db);
std::unique_ptr<session_repository> make_sqlite_sessions(store::database& db);
std::unique_ptr<link_repository> make_sqlite_links(store::database& db);
std::unique_ptr<sign_in_repository> make_sqlite_sign_ins(store::database& db);
std::unique_ptr<content_repository> make_sqlite_content(store::database& db);
std::unique_ptr<notice_repository> make_sqlite_notices(store::database& db);
std::unique_ptr<receipt_repository> make_sqlite_receipts(store::database& db);

}  // namespace linksim::threads_sim
