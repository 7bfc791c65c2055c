// The identity provider's HTTP surface as a plain request → response function: OAuth and Meta
// endpoints, login and consent pages, the profile API and the admin API. No sockets here: tests
// call it directly and src/net serves it.
#pragma once

#include "linksim/common/error.hpp"
#include "linksim/common/http.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace linksim::idp {

class service;

struct route_options {
  // The admin API answers only requests with "Authorization: Bearer <admin_token>".
  std::string admin_token;
  // The company's other systems read an account's ad settings at
  // GET /internal/accounts/<id>/ad-settings with "Authorization: Bearer <token>"; each token
  // names its system, which the evidence log records as the receiver.
  std::vector<std::pair<std::string, std::string>> internal_tokens;  // {system, token}
  // Storage failures, one line each.
  http::log_sink log = http::log_to_stderr;
};

using http::error_info;
error_info describe(const boost::system::error_code& ec);

// The handler. `s` must outlive it. Storage failures answer 503 so that callers retry.
http::handler make_handler(service& s, const route_options& options);

}  // namespace linksim::idp
