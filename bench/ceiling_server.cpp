// The /me ceiling: linksim's Beast server answering a fixed body of /me's size with no work.
// Prints its port and serves until SIGINT/SIGTERM.
//
//   ceiling_server [--threads N]   (default 2: as many request threads as `linksim serve` gives
//                                   its provider by default, so the two are compared like for like)
#include "linksim/net/server.hpp"

#include <charconv>
#include <cstring>
#include <iostream>
#include <string_view>

int main(int argc, char** argv) {
  using namespace linksim;
  net::server_options options;
  options.threads = 2;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    std::size_t n = 0;
    if (arg == "--threads" && i + 1 < argc) {
      const std::string_view v = argv[++i];
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec == std::errc{} && end == v.data() + v.size() && n >= 1 && n <= 64) {
        options.threads = n;
        continue;
      }
    }
    std::cerr << "usage: ceiling_server [--threads N], N from 1 to 64\n";
    return 2;
  }
  // The same shape and size as the provider's /me?fields=id,username,name answer.
  const std::string body = R"({"id":"1784141234567890","username":"bench","name":"bench N"})";
  net::server server(options, [&](const http::request&) {
    http::response r;
    r.headers.set("Content-Type", "application/json");
    r.body = body;
    return r;
  });
  net::termination_signals signals;  // before the URL, which tells the caller it may stop it
  server.start();
  std::cout << server.base_url() << std::endl;
  signals.wait();
  server.stop();
}
