// One request built the same way by every test helper that sends one.
#pragma once

#include "linksim/common/http.hpp"

#include <string>
#include <vector>

namespace linksim::testing {

inline http::request make_request(const std::string& method, const std::string& target,
                                  const std::string& body = {},
                                  const std::string& content_type = {},
                                  const std::vector<http::header_field>& headers = {}) {
  http::request r;
  r.method = method;
  r.target = target;
  r.body = body;
  if (!content_type.empty()) r.headers.set("Content-Type", content_type);
  for (const auto& h : headers) r.headers.set(h.name, h.value);
  return r;
}

}  // namespace linksim::testing
