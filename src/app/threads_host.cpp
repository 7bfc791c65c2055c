// The dependent service as a running server with its reconciliation thread.
#include "linksim/app/threads_host.hpp"

#include "host_parts.hpp"
#include "periodic.hpp"

#include "linksim/threads_sim/routes.hpp"
#include "linksim/threads_sim/service.hpp"

namespace linksim::app {

struct threads_host::impl {
  threads_host_options options;
  std::unique_ptr<net::client> own_client;
  std::unique_ptr<store::database> db;
  std::unique_ptr<threads_sim::service> svc;
  http::handler routes;
  std::unique_ptr<net::server> server;
  client_credentials client;

  std::unique_ptr<periodic_worker> reconciler;
  std::unique_ptr<periodic_worker> notifier;  // retries notices to the ad platform
  std::unique_ptr<periodic_worker> signals;   // polls the Shared Signals stream (ssf-poll)
};

threads_host::threads_host(threads_host_options options, const clock& clock, random_source& random,
                           evidence::recorder& recorder, const client_registrar& registrar,
                           http::transport* transport)
    : impl_(std::make_unique<impl>()) {
  auto& i = *impl_;
  i.options = std::move(options);
  transport = transport_or_own(transport, i.own_client, i.options.client_timeout);
  i.server = bind_server(
      i.options.bind, i.options.port, "threads",
      [p = impl_.get()](const http::request& req) { return p->routes(req); }, i.options.observe);
  i.db = own_database(i.options.database);
  const std::string base = i.server->base_url();
  std::optional<client_credentials> previous;
  if (auto r = threads_sim::stored_registration(*i.db))
    previous = client_credentials{r->client_id, r->client_secret};
  i.client = registrar(base, previous);
  threads_sim::store_registration(*i.db, {i.client.id, i.client.secret});

  threads_sim::config cfg;
  cfg.base_url = base;
  cfg.idp_url = i.options.idp_url;
  cfg.client_id = i.client.id;
  cfg.client_secret = i.client.secret;
  cfg.webhook_verify_token = i.options.verify_token;
  cfg.reconcile_interval = i.options.reconcile_interval;
  cfg.changes = i.options.changes;
  cfg.internal_token = i.options.internal_token;
  cfg.ads_url = i.options.ads_url;
  cfg.ads_token = i.options.ads_token;
  if (!i.options.rules.name.empty()) cfg.rules = i.options.rules;
  i.svc = std::make_unique<threads_sim::service>(*i.db, clock, random, recorder, *transport, cfg);
  i.routes = threads_sim::make_handler(*i.svc, {i.options.admin_token});
  i.reconciler =
      std::make_unique<periodic_worker>("threads: reconciler", i.options.reconcile_tick,
                                        [svc = i.svc.get()] { return svc->reconcile_due() > 0; });
  i.notifier = std::make_unique<periodic_worker>(
      "threads: ad platform notices", i.options.reconcile_tick,
      [svc = i.svc.get()] { return svc->dispatch_notices() > 0; });
  i.signals =
      std::make_unique<periodic_worker>("threads: signals", i.options.reconcile_tick,
                                        [svc = i.svc.get(), &clock, wait = i.options.long_poll] {
                                          const auto due = svc->next_signals_poll();
                                          if (!due || *due > clock.now()) return false;
                                          // A failure is due again after the retry time; a long
                                          // poll is followed by the next.
                                          return svc->poll_signals(wait).has_value() && wait;
                                        });
}

threads_host::~threads_host() {
  stop();
}

void threads_host::start() {
  impl_->server->start();
  if (impl_->options.changes != threads_sim::channel::webhook) {
    // The provider pushes to the server just started, so the stream is set up after it.
    if (auto c = impl_->svc->connect_signals(); !c)
      throw std::runtime_error("cannot set up the Shared Signals stream: " + c.error().message());
  }
  impl_->reconciler->start();
  impl_->notifier->start();
  if (impl_->options.changes == threads_sim::channel::ssf_poll) impl_->signals->start();
}

void threads_host::stop() {
  impl_->server->stop();
  impl_->reconciler->stop();
  impl_->notifier->stop();
  impl_->signals->stop();
}

std::string threads_host::base_url() const {
  return impl_->server->base_url();
}
std::uint16_t threads_host::port() const {
  return impl_->server->port();
}
const client_credentials& threads_host::client() const {
  return impl_->client;
}
threads_sim::service& threads_host::service() {
  return *impl_->svc;
}

}  // namespace linksim::app
