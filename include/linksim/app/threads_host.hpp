// A running dependent service: its database, the service, a real HTTP server and the
// reconciliation thread, wired to a clock, a random source, an evidence recorder and a
// transport to the identity provider. `linksim serve` runs one beside the provider.
#pragma once

#include "linksim/common/clock.hpp"
#include "linksim/common/http.hpp"
#include "linksim/common/random.hpp"
#include "linksim/evidence/flow.hpp"
#include "linksim/threads_sim/behaviour.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace linksim::threads_sim {
class service;
}

namespace linksim::app {

// The service's OAuth client at the provider.
struct client_credentials {
  std::string id;
  std::string secret;
};

struct threads_host_options {
  std::filesystem::path database;  // the service's own SQLite file
  std::string bind = "127.0.0.1";
  std::uint16_t port = 0;
  std::string admin_token;
  std::string idp_url;           // the provider's base URL
  std::string verify_token;      // for the webhook subscription handshake
  std::string internal_token;    // its token for the provider's internal API (ad settings)
  std::string ads_url;           // the company's ad platform; empty: none
  std::string ads_token;         // its token there
  threads_sim::behaviour rules;  // empty name: `documented`
  milliseconds reconcile_interval = std::chrono::minutes(5);
  // How the provider's account changes arrive: webhooks, or its Shared Signals stream, which
  // start() finds or makes (a polled one is polled on the reconciler's tick when due).
  threads_sim::channel changes = threads_sim::channel::webhook;
  // A polled stream is long polled (RFC 8936): one request always waits at the provider, which
  // answers it as soon as a SET is queued. Else it is polled every signals interval.
  bool long_poll = true;
  milliseconds reconcile_tick{1000};  // how often the reconciler looks for due profiles
  // Longer than the provider's poll hold (idp::config::ssf_poll_hold).
  milliseconds client_timeout{5000};
  // Sees every request the server answers, with its answer (linksim serve's wire tap).
  http::observer observe;
};

// Registers the service at the provider, given its base URL and the credentials it used last
// time (kept in its database), which the registrar may return again if they still work.
using client_registrar = std::function<client_credentials(
    const std::string& base_url, const std::optional<client_credentials>& previous)>;

class threads_host {
 public:
  // Opens the database, binds the port and registers the client; throws on failure.
  // `transport` may be null: a real HTTP client is then used to reach the provider.
  threads_host(threads_host_options options, const clock& clock, random_source& random,
               evidence::recorder& recorder, const client_registrar& registrar,
               http::transport* transport = nullptr);
  ~threads_host();

  void start();  // serves and reconciles
  void stop();   // graceful; idempotent
  std::string base_url() const;
  std::uint16_t port() const;
  const client_credentials& client() const;
  threads_sim::service& service();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace linksim::app
