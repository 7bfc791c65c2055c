// Small string helpers shared by the services.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace linksim {

// The non-empty parts of `s` between any of `separators`: "a, b" with " ," → {"a", "b"}.
std::vector<std::string> split_list(std::string_view s, std::string_view separators);
std::string join(const std::vector<std::string>& v, std::string_view sep);

// The length of the valid UTF-8 sequence that starts at s[i] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 when none does.
std::size_t utf8_sequence(std::string_view s, std::size_t i);
// The code points in `s`, or nullopt when it is not valid UTF-8.
std::optional<std::size_t> utf8_length(std::string_view s);

}  // namespace linksim
