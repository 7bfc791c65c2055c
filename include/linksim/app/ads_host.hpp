// A running ad platform: its database, the service and a real HTTP server, wired to a clock,
// an evidence recorder and a transport to the identity provider. `linksim serve` runs one
// beside the provider and the dependent service.
#pragma once

#include "linksim/ads/service.hpp"
#include "linksim/common/clock.hpp"
#include "linksim/common/http.hpp"
#include "linksim/evidence/flow.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace linksim::ads {
class service;
}

namespace linksim::app {

struct ads_host_options {
  std::filesystem::path database;  // the platform's own SQLite file
  std::string bind = "127.0.0.1";
  std::uint16_t port = 0;
  std::string admin_token;
  std::string idp_url;         // where it reads an account's ad settings
  std::string internal_token;  // its token for the provider's internal API
  // The company systems that may send activity and ask for sponsored posts: {system, token}.
  std::vector<std::pair<std::string, std::string>> systems;
  ads::platform_rules rules;  // `documented`'s by default
  milliseconds client_timeout{5000};
  // Sees every request the server answers, with its answer (linksim serve's wire tap).
  http::observer observe;
};

class ads_host {
 public:
  // Opens the database and binds the port; throws on failure. Starts with the default
  // campaigns and partners (ads::default_campaigns, ads::default_partners). `transport` may be
  // null: a real HTTP client is then used to reach the provider.
  ads_host(ads_host_options options, const clock& clock, evidence::recorder& recorder,
           http::transport* transport = nullptr);
  ~ads_host();

  void start();
  void stop();  // graceful; idempotent
  std::string base_url() const;
  ads::service& service();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace linksim::app
