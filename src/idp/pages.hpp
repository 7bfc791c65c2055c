// The provider's HTML pages: login, consent and errors. Every value is escaped.
#pragma once

#include "linksim/idp/service.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace linksim::idp::pages {

std::string login(const pending_authorization& p, std::string_view csrf, std::string_view error,
                  std::string_view username);
std::string consent(const pending_authorization& p, const std::vector<account>& accounts,
                    std::int64_t selected, std::string_view csrf, std::string_view error);
std::string error(std::string_view title, std::string_view message);

}  // namespace linksim::idp::pages
