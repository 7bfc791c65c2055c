// Escaping text for HTML pages.
#pragma once

#include <string>
#include <string_view>

namespace linksim::html {

// `s` with &, <, >, " and ' replaced by entities: safe in element content and quoted attributes.
std::string escape(std::string_view s);

}  // namespace linksim::html
