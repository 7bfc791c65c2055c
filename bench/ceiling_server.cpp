// The /me ceiling: linksim's Beast server answering a fixed body of /me's size with no work.
// Prints its port and serves until SIGINT/SIGTERM.
#include "linksim/net/server.hpp"

#include <iostream>

int main() {
  using namespace linksim;
  // The same shape and size as the provider's /me?fields=id,username,name answer.
  const std::string body = R"({"id":"1784141234567890","username":"bench","name":"bench N"})";
  net::server server({}, [&](const http::request&) {
    http::response r;
    r.headers.set("Content-Type", "application/json");
    r.body = body;
    return r;
  });
  server.start();
  std::cout << server.base_url() << std::endl;
  net::wait_for_termination_signal();
  server.stop();
}
