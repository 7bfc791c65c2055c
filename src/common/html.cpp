// HTML escaping.
#include "linksim/common/html.hpp"

namespace linksim::html {

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

http::response page(int status, std::string body, page_policy policy) {
  http::response r;
  r.status = status;
  r.headers.set("Content-Type", "text/html; charset=utf-8");
  r.headers.set("Cache-Control", "no-store");
  r.headers.set("X-Frame-Options", "DENY");
  std::string csp = "default-src 'none'; style-src 'unsafe-inline'; ";
  if (!policy.img_src.empty()) csp += "img-src " + std::string(policy.img_src) + "; ";
  csp += "form-action " + std::string(policy.form_action) + "; frame-ancestors 'none'";
  r.headers.set("Content-Security-Policy", std::move(csp));
  r.body = std::move(body);
  return r;
}

}  // namespace linksim::html
