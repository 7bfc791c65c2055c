// The identity provider as a running server with its webhook dispatcher.
#include "linksim/app/idp_host.hpp"

#include "host_parts.hpp"
#include "periodic.hpp"

#include "linksim/idp/routes.hpp"
#include "linksim/idp/service.hpp"

namespace linksim::app {

struct idp_host::impl {
  idp_host_options options;
  std::unique_ptr<net::client> own_client;
  std::unique_ptr<store::database> db;
  std::unique_ptr<idp::service> svc;
  http::handler routes;
  http::handler front;
  std::unique_ptr<net::server> server;

  std::unique_ptr<periodic_worker> dispatcher;
};

idp_host::idp_host(idp_host_options options, const clock& clock, random_source& random,
                   evidence::recorder& recorder, http::transport* transport)
    : impl_(std::make_unique<impl>()) {
  auto& i = *impl_;
  i.options = std::move(options);
  transport = transport_or_own(transport, i.own_client, i.options.client_timeout);
  // Bind first: the issuer URL needs the port.
  i.server = bind_server(
      i.options.bind, i.options.port, "idp",
      [p = impl_.get()](const http::request& req) {
        if (p->front) {
          auto r = p->front(req);
          if (r.status != 404) return r;
        }
        return p->routes(req);
      },
      i.options.observe, i.options.threads);
  idp::config cfg;
  cfg.issuer = i.server->base_url();
  cfg.password = i.options.password;
  cfg.webhook_batch = i.options.webhook_batch;
  cfg.ssf_poll_hold = i.options.ssf_poll_hold;
  cfg.rules = i.options.rules;
  i.db = own_database(i.options.database);
  i.svc = std::make_unique<idp::service>(*i.db, clock, random, recorder, *transport, cfg);
  i.routes = idp::make_handler(*i.svc, {i.options.admin_token, i.options.internal_tokens});
  // Drains everything due before sleeping again.
  i.dispatcher =
      std::make_unique<periodic_worker>("idp: webhook dispatcher", i.options.dispatch_interval,
                                        [svc = i.svc.get()] { return svc->dispatch_due() > 0; });
}

idp_host::~idp_host() {
  stop();
}

void idp_host::start() {
  impl_->server->start();
  impl_->dispatcher->start();
}

void idp_host::stop() {
  impl_->server->stop();
  impl_->dispatcher->stop();
}

std::string idp_host::base_url() const {
  return impl_->server->base_url();
}
std::uint16_t idp_host::port() const {
  return impl_->server->port();
}
std::size_t idp_host::requests_held() const {
  return impl_->server->requests_held();
}
idp::service& idp_host::service() {
  return *impl_->svc;
}
void idp_host::set_front(http::handler front) {
  impl_->front = std::move(front);
}

}  // namespace linksim::app
