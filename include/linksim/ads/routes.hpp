// The ad platform's HTTP surface as a plain request → response function (docs/ads_api.md):
// the company systems' API (activity, opt-outs, deletions, sponsored posts, assistant
// transcripts), the partners' API and an admin view.
#pragma once

#include "linksim/common/http.hpp"

#include <string>

namespace linksim::ads {

class service;

struct route_options {
  std::string admin_token;  // GET /admin/accounts/<id>: what the platform holds about one
  // Storage failures, one line each.
  http::log_sink log = http::log_to_stderr;
};

http::error_info describe(const boost::system::error_code& ec);

// The handler. `s` must outlive it. Storage failures answer 503.
http::handler make_handler(service& s, const route_options& options);

}  // namespace linksim::ads
