// The dependent service's HTTP surface as a plain request → response function: the browser
// pages (sign-in, "Link Account", profiles, settings), the JSON API, the webhook receiver and
// the admin API. No sockets here: tests call it directly and src/net serves it.
#pragma once

#include "linksim/common/error.hpp"
#include "linksim/common/http.hpp"

#include <string>
#include <string_view>

namespace linksim::threads_sim {

class service;

struct route_options {
  // The admin API answers only requests with "Authorization: Bearer <admin_token>".
  std::string admin_token;
  // Storage failures, one line each.
  http::log_sink log = http::log_to_stderr;
};

using http::error_info;
// The one place that maps the service's errors to HTTP statuses and code words.
error_info describe(const boost::system::error_code& ec);

// The handler. `s` must outlive it. Storage failures answer 503 so that callers retry.
http::handler make_handler(service& s, const route_options& options);

}  // namespace linksim::threads_sim
