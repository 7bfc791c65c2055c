// The route table every service's HTTP layer is built on: method + path pattern → handler. The
// router owns what every service answers the same way: a storage failure is 503 (the caller
// retries), a path with no route is 404, a known path with another method is 405 with Allow,
// and a guard (the admin API's token) runs before any route under its prefix. How an error
// looks (a JSON body, a page) is the service's: it gives the router one function for it.
#pragma once

#include "linksim/common/http.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace linksim::http {

// The segments a pattern captured: "/admin/accounts/{id}" on "/admin/accounts/7" gives id = "7".
class route_match {
 public:
  // The captured segment `name`; empty when the pattern has none of that name.
  std::string_view operator[](std::string_view name) const;
  void add(std::string_view name, std::string_view value) { captures_.emplace_back(name, value); }

 private:
  std::vector<std::pair<std::string_view, std::string_view>> captures_;
};

using route_handler = std::function<response(const request&, const route_match&)>;

// An error as the service shows it, with an optional detail (the unmatched path, say).
using error_renderer =
    std::function<response(const boost::system::error_code& ec, std::string_view detail)>;

// Runs before the routes under its prefix: an answer stops the request there.
using guard = std::function<std::optional<response>(const request&)>;

// A guard that lets through only requests with "Authorization: Bearer <token>" (compared in
// constant time) and answers every other one with `refusal`; an empty token lets nothing through.
guard bearer_guard(std::string token, response refusal);

class router {
 public:
  // `service` names the service in log lines ("idp: storage: ...").
  router(std::string service, error_renderer render, log_sink log);

  // A pattern is a path of segments: literal ("admin"), a capture of a whole segment ("{id}"),
  // or a literal prefix and a capture of the rest ("@{username}"). Routes are tried in the
  // order they were added; the first whose pattern and method match answers.
  router& on(std::string_view method, std::string_view pattern, route_handler h);
  router& guard_prefix(std::string_view prefix, guard g);

  response operator()(const request& req) const;

 private:
  struct segment {
    std::string literal;  // the whole segment, or the prefix before a capture
    std::string capture;  // empty: a literal segment
  };
  struct route {
    std::string method;
    std::vector<segment> pattern;
    route_handler handler;
  };
  static bool match(const std::vector<segment>& pattern, const std::vector<std::string_view>& path,
                    route_match& m);
  response dispatch(const request& req) const;

  std::string service_;
  error_renderer render_;
  log_sink log_;
  std::vector<route> routes_;
  std::vector<std::pair<std::string, http::guard>> guards_;
};

}  // namespace linksim::http
