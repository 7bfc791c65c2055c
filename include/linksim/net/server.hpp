// Real HTTP for the services: a Beast server that hands each request to a plain handler, and a
// client transport with timeouts. This header is free of Beast and Asio; src/net holds them.
#pragma once

#include "linksim/common/clock.hpp"
#include "linksim/common/http.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace linksim::net {

struct server_options {
  std::string address = "127.0.0.1";                  // loopback unless told otherwise
  std::uint16_t port = 0;                             // 0: any free port; see server::port()
  std::size_t body_limit = std::size_t{1024} * 1024;  // larger bodies get 413
  std::size_t header_limit = std::size_t{8} * 1024;   // larger heads, or heads and chunked trailers
                                                      // together, get 431
  // A new connection's first request head (request line and headers) must arrive within this.
  milliseconds head_timeout{5'000};
  // A request's body must arrive within this of its head, and an idle kept-alive connection
  // is closed after it (the Keep-Alive header tells the client so).
  milliseconds read_timeout{10'000};
  // Open connections at most, in all and from one peer address. At either cap a new connection
  // takes the place of the one that has waited longest for a request (idle, or trickling its
  // head or body); when every one is busy with a request, it gets 503 and is closed.
  std::size_t max_connections = 512;
  std::size_t max_connections_per_peer = 256;
  std::string name = "linksim";  // the Server header, and the prefix of log lines
  // Threads running the I/O and the handler. With more than one, requests on different
  // connections are handled at the same time, so the handler must be thread-safe; requests on
  // one connection never overlap.
  std::size_t threads = 1;
};

// A server on its own io_context threads (`server_options::threads`).
class server {
 public:
  // Binds and listens; throws std::system_error if the address cannot be bound.
  server(server_options options, http::handler handler);
  ~server();  // stops if still running
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  std::uint16_t port() const;
  std::string base_url() const;  // "http://127.0.0.1:PORT"
  // Requests held for an answer that comes later (http::deferred), now.
  std::size_t requests_held() const;
  void start();
  // Stops accepting, lets requests in progress finish and be answered, closes idle
  // connections, then joins the thread. Idempotent.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// The outbound transport over real sockets: one connection per request, `timeout` bounding the
// whole exchange. Only http:// URLs.
class client final : public http::transport {
 public:
  explicit client(milliseconds timeout = milliseconds{10'000}) : timeout_(timeout) {}
  result<http::response> send(http::request req) override;

 private:
  milliseconds timeout_;
};

// One request read from `bytes` exactly as a server with `options` reads a connection's first
// request: the same parser, limits and trailer check.
struct parsed_request {
  std::optional<http::request> request;  // when a whole request was read
  int status = 0;  // else the status the server would answer (400, 413, 431), or 0: incomplete
  std::size_t consumed = 0;  // bytes the parser took
};
parsed_request parse_request(std::string_view bytes, const server_options& options = {});

// SIGINT and SIGTERM, caught from construction on: one that arrives before wait() (say, as soon
// as a program has printed that it is ready) is kept for it rather than ending the process.
class termination_signals {
 public:
  termination_signals();
  ~termination_signals();
  termination_signals(const termination_signals&) = delete;
  termination_signals& operator=(const termination_signals&) = delete;
  // Blocks until one has arrived and returns its number.
  int wait();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace linksim::net
