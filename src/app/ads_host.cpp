// The ad platform as a running server.
#include "linksim/app/ads_host.hpp"

#include "host_parts.hpp"

#include "linksim/ads/routes.hpp"
#include "linksim/ads/service.hpp"

namespace linksim::app {

struct ads_host::impl {
  ads_host_options options;
  std::unique_ptr<net::client> own_client;
  std::unique_ptr<store::database> db;
  std::unique_ptr<ads::service> svc;
  http::handler routes;
  std::unique_ptr<net::server> server;
};

ads_host::ads_host(ads_host_options options, const clock& clock, evidence::recorder& recorder,
                   http::transport* transport)
    : impl_(std::make_unique<impl>()) {
  auto& i = *impl_;
  i.options = std::move(options);
  transport = transport_or_own(transport, i.own_client, i.options.client_timeout);
  i.server = bind_server(
      i.options.bind, i.options.port, "ads",
      [p = impl_.get()](const http::request& req) { return p->routes(req); }, i.options.observe);
  i.db = own_database(i.options.database);
  ads::config cfg;
  cfg.idp_url = i.options.idp_url;
  cfg.internal_token = i.options.internal_token;
  cfg.systems = i.options.systems;
  cfg.campaigns = ads::default_campaigns();
  cfg.partners = ads::default_partners();
  cfg.rules = i.options.rules;
  i.svc = std::make_unique<ads::service>(*i.db, clock, recorder, *transport, std::move(cfg));
  i.routes = ads::make_handler(*i.svc, {i.options.admin_token});
}

ads_host::~ads_host() {
  stop();
}

void ads_host::start() {
  impl_->server->start();
}

void ads_host::stop() {
  impl_->server->stop();
}

std::string ads_host::base_url() const {
  return impl_->server->base_url();
}
ads::service& ads_host::service() {
  return *impl_->svc;
}

}  // namespace linksim::app
