// Escaping text for HTML pages.
#pragma once

#include "linksim/common/http.hpp"

#include <string>
#include <string_view>

namespace linksim::html {

struct page_policy {
  std::string_view form_action = "'self'";  // where forms may post (and redirect after)
  std::string_view img_src;                 // empty: no images from anywhere
};

// An HTML page as the services serve them: never cached, never framed (clickjacking on a
// consent or link button), and a Content-Security-Policy that allows no script at all.
http::response page(int status, std::string body, page_policy policy = {});

// `s` with &, <, >, " and ' replaced by entities: safe in element content and quoted attributes.
std::string escape(std::string_view s);

}  // namespace linksim::html
