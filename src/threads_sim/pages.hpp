// The dependent service's HTML pages. Every value is escaped.
#pragma once

#include "linksim/threads_sim/service.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace linksim::threads_sim::pages {

// The start page: sign-in buttons, or the signed-in user's composer and posts.
std::string home(const behaviour& rules, const std::optional<profile>& me,
                 const std::vector<post>& posts, std::string_view csrf);
// "Link Account": exactly what will be shared, and the button.
std::string confirm(const behaviour& rules, const link_request& lr, std::string_view csrf,
                    std::string_view error);
std::string public_profile(const profile& p, const std::vector<post>& posts,
                           const std::optional<profile>& viewer, bool viewer_follows,
                           std::string_view csrf);
std::string settings(const behaviour& rules, const profile& p, std::string_view csrf,
                     std::string_view error, std::string_view notice);
std::string delete_confirm(const profile& p, std::string_view csrf);
// A titled message, with a "what to do" line and a link home.
std::string message(std::string_view title, std::string_view text, std::string_view fix = {});

}  // namespace linksim::threads_sim::pages
