// The demo that `linksim serve` starts with: accounts, a registered client, and two pages that
// walk a person through the authorization-code flow with PKCE, one visible step at a time.
#pragma once

#include "linksim/common/http.hpp"
#include "linksim/idp/service.hpp"

#include <string>
#include <vector>

namespace linksim::app {

struct demo_setup {
  std::vector<std::string> usernames;
  std::string password;
  idp::client client;
};

// Creates the demo accounts and client unless they exist already (a restart keeps them).
demo_setup seed_demo(idp::service& idp, const std::string& base_url);

// Serves /demo and /demo/callback; anything else answers 404.
http::handler demo_pages(idp::service& idp, demo_setup setup, std::string base_url);

}  // namespace linksim::app
