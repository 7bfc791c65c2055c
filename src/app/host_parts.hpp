// What every running service (idp_host, threads_host, ads_host) is built from in the same way:
// a transport for its outbound calls, a server bound at once (the service's URL must be known
// before the service exists), and its own database with the file lock held.
#pragma once

#include "linksim/net/server.hpp"
#include "linksim/store/sqlite.hpp"

#include <filesystem>
#include <memory>
#include <string>

namespace linksim::app {

// The caller's transport, or else a real HTTP client, owned through `own`.
inline http::transport* transport_or_own(http::transport* given, std::unique_ptr<net::client>& own,
                                         milliseconds timeout) {
  if (given) return given;
  own = std::make_unique<net::client>(timeout);
  return own.get();
}

// A server named `name` (its Server header and log prefix), bound to bind:port. `observe`, when
// given, is told of every request and its answer, outside the service's handler.
inline std::unique_ptr<net::server> bind_server(const std::string& bind, std::uint16_t port,
                                                std::string name, http::handler handler,
                                                const http::observer& observe,
                                                std::size_t threads = 1) {
  if (observe)
    handler = [inner = std::move(handler), observe](const http::request& req) {
      http::response r = inner(req);
      if (r.later) {
        // A held request is seen with the answer it finally gets.
        auto d = std::make_shared<http::deferred>(*r.later);
        d->ready = [ready = std::move(d->ready), req, observe](bool last) {
          auto answer = ready(last);
          if (answer && !answer->later) observe(req, *answer);
          return answer;
        };
        r.later = std::move(d);
        return r;
      }
      observe(req, r);
      return r;
    };
  net::server_options so;
  so.address = bind;
  so.port = port;
  so.name = std::move(name);
  so.threads = threads;
  return std::make_unique<net::server>(std::move(so), std::move(handler));
}

// A service's own SQLite file: one connection owns it (see store::options::exclusive).
inline std::unique_ptr<store::database> own_database(const std::filesystem::path& path) {
  return std::make_unique<store::database>(path, store::options{.exclusive = true});
}

}  // namespace linksim::app
