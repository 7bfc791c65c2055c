// A person's browser, scripted: keeps cookies per name (one jar for both services, as their
// cookie names differ), follows the sign-up flow through the real pages of both services, and
// remembers which provider accounts it is logged in to. It sends through any transport: the
// simulated network, or real sockets.
#pragma once

#include "linksim/common/http.hpp"

#include <cstdint>
#include <map>
#include <set>
#include <string>

namespace linksim::sim {

class browser {
 public:
  browser(http::transport& t, std::string idp_origin, std::string threads_origin)
      : transport_(t), idp_(std::move(idp_origin)), threads_(std::move(threads_origin)) {}

  // One request with this browser's cookies; Set-Cookie answers are kept. A transport failure
  // comes back as status 0 with the reason in the body.
  http::response send(const std::string& method, const std::string& url,
                      const http::params& form = {});
  std::string cookie(const std::string& name) const;

  struct sign_up_result {
    int status = 0;         // of the last step: 303 when linked
    std::string step;       // the page that answered last ("/signup", "/oauth/login", "/link", ...)
    std::string session;    // the dependent service's session cookie
    std::string error;      // the body of a failed step
    std::string link_page;  // the Link Account page as shown, when the sign-up reached it
  };
  // "Log in with Instagram", the provider's login page unless the browser is logged in to
  // `username` already, the consent page choosing `account_id`, the Link Account page.
  // `entry` is where the person starts: "/signup", or "/login" for an existing profile, which
  // ends signed in (a redirect from /callback) instead of on the Link Account page.
  sign_up_result sign_up(const std::string& username, const std::string& password,
                         std::int64_t account_id, const std::string& entry = "/signup");

 private:
  std::string absolute(const std::string& origin, std::string_view location) const;

  http::transport& transport_;
  std::string idp_;
  std::string threads_;
  std::map<std::string, std::string> cookies_;
  std::set<std::string> logged_in_;  // provider usernames, as typed
};

}  // namespace linksim::sim
