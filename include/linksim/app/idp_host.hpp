// A running identity provider: its database, the service, a real HTTP server and the webhook
// dispatcher thread, wired to a clock, a random source, an evidence recorder and a transport.
// `linksim serve` runs one; integration tests start one on port 0.
#pragma once

#include "linksim/common/clock.hpp"
#include "linksim/common/crypto.hpp"
#include "linksim/common/http.hpp"
#include "linksim/common/random.hpp"
#include "linksim/evidence/flow.hpp"
#include "linksim/idp/provider_rules.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace linksim::idp {
class service;
}

namespace linksim::app {

struct idp_host_options {
  std::filesystem::path database;  // the provider's own SQLite file
  std::string bind = "127.0.0.1";
  std::uint16_t port = 0;
  std::string admin_token;
  // The company's other systems, which read an account's ad settings: {system, token}.
  std::vector<std::pair<std::string, std::string>> internal_tokens;
  password_cost password;
  milliseconds dispatch_interval{200};  // how often the dispatcher looks for due deliveries
  milliseconds client_timeout{5000};    // for outbound webhook calls, when none is given
  // Sees every request the server answers, with its answer (linksim serve's wire tap).
  http::observer observe;
  std::size_t threads = 2;           // request threads (the provider is thread-safe)
  std::size_t webhook_batch = 1;     // changes per webhook request (idp::config)
  milliseconds ssf_poll_hold{4000};  // idp::config::ssf_poll_hold
  idp::provider_rules rules;         // the behaviour profile's (sim::idp_rules_of)
};

class idp_host {
 public:
  // Opens the database and binds the port; throws on failure (store::error, std::system_error).
  // `transport` may be null: a real HTTP client is then used for webhooks.
  idp_host(idp_host_options options, const clock& clock, random_source& random,
           evidence::recorder& recorder, http::transport* transport = nullptr);
  ~idp_host();

  void start();  // serves and dispatches
  void stop();   // graceful; idempotent
  std::string base_url() const;
  std::uint16_t port() const;
  std::size_t requests_held() const;  // long polls waiting (net::server::requests_held)
  idp::service& service();
  // Extra routes served beside the provider's (the demo pages), tried first; call before
  // start(). A front handler that answers 404 lets the provider's routes answer instead.
  void set_front(http::handler front);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace linksim::app
