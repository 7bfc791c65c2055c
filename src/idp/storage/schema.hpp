// The database schema of the service, as its migrations in order (store::migrate applies them).
#pragma once

#include "linksim/store/sqlite.hpp"

#include <span>

namespace linksim::idp::schema {

std::span<const store::migration> migrations();

}  // namespace linksim::idp::schema
