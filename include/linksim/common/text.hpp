// Small string helpers shared by the services.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace linksim {

// The non-empty parts of `s` between any of `separators`: "a, b" with " ," → {"a", "b"}.
std::vector<std::string> split_list(std::string_view s, std::string_view separators);
std::string join(const std::vector<std::string>& v, std::string_view sep);

}  // namespace linksim
