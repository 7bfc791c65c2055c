// The HTTP server: one coroutine per connection, a loop of expires_after → read → handle → write.
#include "linksim/net/server.hpp"

#include "request_reading.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <atomic>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace linksim::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

using detail::to_plain;

bhttp::response<bhttp::string_body> to_beast(http::response&& res, unsigned version,
                                             const std::string& server_name) {
  bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(res.status), version};
  out.set(bhttp::field::server, server_name);
  for (auto& f : res.headers.fields) out.insert(f.name, f.value);
  out.body() = std::move(res.body);
  out.prepare_payload();
  return out;
}

bhttp::response<bhttp::string_body> error_response(int status, std::string_view message,
                                                   const std::string& server_name) {
  http::response r;
  r.status = status;
  r.headers.set("Content-Type", "application/json");
  r.headers.set("Connection", "close");
  r.body = std::string(R"({"error":{"status":)") + std::to_string(status) + R"(,"message":")" +
           std::string(message) + R"("}})";
  auto out = to_beast(std::move(r), 11, server_name);
  out.keep_alive(false);
  return out;
}

}  // namespace

struct server::impl {
  server_options options;
  http::handler handler;
  asio::io_context ioc;
  // The acceptor and its loop have a strand of their own, so that stop() can close it safely.
  asio::strand<asio::io_context::executor_type> accept_strand{asio::make_strand(ioc)};
  tcp::acceptor acceptor{accept_strand};
  tcp::endpoint bound;  // kept: the acceptor forgets it once closed
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> holding{0};  // requests held for a deferred answer
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};

  // Each connection runs on its own strand; its stream is touched only there. `busy` and
  // `waiting_since` are read by the accept loop too, to choose which connection to shed.
  struct connection {
    beast::tcp_stream* stream;
    std::string peer;                            // the client's address, without the port
    std::atomic<bool> busy{false};               // a request is being handled or answered
    std::atomic<std::int64_t> waiting_since{0};  // steady-clock ns: start of the current read
    bool shed = false;  // chosen to make room; no longer counted (under connections_mutex)
  };
  std::mutex connections_mutex;
  std::map<std::uint64_t, connection*> connections;  // by a serial number, never reused
  std::uint64_t next_connection = 0;
  // Admitted connections that were not shed, in all and by peer address (under the mutex).
  std::size_t live = 0;
  std::map<std::string, std::size_t> live_by_peer;

  void log(const std::string& what) const { std::cerr << options.name << ": " << what << "\n"; }

  static std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  // Closes the connection that has waited longest for a request (idle keep-alives and clients
  // that trickle a head or body), of `peer` alone when given. Handlers in progress are never
  // cut. Returns false when every candidate is busy. Called with connections_mutex held.
  bool shed_oldest_waiting(const std::string* peer) {
    connection* victim = nullptr;
    std::uint64_t victim_serial = 0;
    for (const auto& [serial, c] : connections) {
      if (c->shed || c->busy || (peer && c->peer != *peer)) continue;
      if (!victim || c->waiting_since < victim->waiting_since) {
        victim = c;
        victim_serial = serial;
      }
    }
    if (!victim) return false;
    victim->shed = true;
    forget(*victim);
    asio::post(victim->stream->get_executor(), [this, serial = victim_serial] {
      std::lock_guard still_open(connections_mutex);
      auto it = connections.find(serial);
      // A request that arrived meanwhile is answered; the connection closes after it.
      if (it == connections.end() || it->second->busy) return;
      beast::error_code ignored;
      it->second->stream->socket().close(ignored);
    });
    return true;
  }
  void forget(const connection& c) {
    --live;
    if (auto it = live_by_peer.find(c.peer); it != live_by_peer.end() && --it->second == 0) {
      live_by_peer.erase(it);
    }
  }

  // Whether a new connection from `peer` may be served, shedding a waiting one to make room
  // when a cap is reached; counts it when admitted.
  bool admit(const std::string& peer) {
    std::lock_guard lock(connections_mutex);
    const auto from_peer = live_by_peer.find(peer);
    if (from_peer != live_by_peer.end() && from_peer->second >= options.max_connections_per_peer &&
        !shed_oldest_waiting(&peer)) {
      return false;
    }
    if (live >= options.max_connections && !shed_oldest_waiting(nullptr)) return false;
    ++live;
    ++live_by_peer[peer];
    return true;
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      // The accepted socket's executor is a new strand: its session's steps never overlap.
      auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), use_tuple);
      if (ec == asio::error::operation_aborted || stopping) co_return;
      if (ec) {
        // Out of file descriptors and the like: keep serving the connections we have.
        log("accept: " + ec.message());
        continue;
      }
      beast::error_code ignored;
      std::string peer, remote;  // the client's address, and address:port for the handler
      if (auto ep = socket.remote_endpoint(ignored); !ignored) {
        peer = ep.address().to_string();
        remote = peer + ":" + std::to_string(ep.port());
      }
      const bool admitted = admit(peer);
      auto executor = socket.get_executor();
      asio::co_spawn(executor,
                     session(beast::tcp_stream(std::move(socket)), std::move(peer),
                             std::move(remote), admitted),
                     [this](const std::exception_ptr& e) { report(e, "session"); });
    }
  }

  void report(const std::exception_ptr& e, const char* where) const {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      log(std::string(where) + ": " + x.what());
    } catch (...) {
      log(std::string(where) + ": an exception of unknown type");
    }
  }

  // A session's requests, answered in order; any exception is caught here and closes the
  // connection, so none can reach an io thread.
  asio::awaitable<void> session(beast::tcp_stream stream, std::string peer, std::string remote,
                                bool admitted) {
    beast::error_code ignored;
    if (!admitted) {
      // Say why before closing, so the client can back off rather than guess.
      auto res = error_response(503, "too many connections", options.name);
      res.set(bhttp::field::retry_after, "1");
      stream.expires_after(std::chrono::seconds(2));
      co_await bhttp::async_write(stream, res, use_tuple);
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      co_return;
    }
    connection self{&stream, peer};
    self.waiting_since = now_ns();
    std::uint64_t serial;
    {
      std::lock_guard lock(connections_mutex);
      serial = next_connection++;
      connections.emplace(serial, &self);
    }
    struct unregister {
      impl* s;
      std::uint64_t serial;
      connection& c;
      ~unregister() {
        std::lock_guard lock(s->connections_mutex);
        s->connections.erase(serial);
        if (!c.shed) s->forget(c);
      }
    } guard{this, serial, self};
    try {
      co_await serve_requests(stream, self, remote);
    } catch (const std::exception& x) {
      log(std::string("connection from ") + peer + ": " + x.what());
    }
    // The client might have dropped the connection already: nothing to do about errors here.
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::awaitable<void> serve_requests(beast::tcp_stream& stream, connection& self,
                                       const std::string& remote) {
    const std::string keep_alive_hint =
        "timeout=" +
        std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(options.read_timeout).count());
    beast::flat_buffer buffer(detail::read_buffer_limit(options));
    for (bool first = true;; first = false) {
      if (stopping) break;
      detail::request_parser parser;
      detail::configure(parser, options);
      // A new connection gets a short deadline for its first head; a kept-alive one may idle
      // for the keep-alive time it was told. The body then has the read timeout.
      self.waiting_since = now_ns();
      stream.expires_after(first ? options.head_timeout : options.read_timeout);
      auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple);
      if (!ec) {
        stream.expires_after(options.read_timeout);
        std::tie(ec, n) = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
      }
      if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted ||
          ec == beast::error::timeout || ec == asio::error::connection_reset ||
          ec == asio::error::bad_descriptor) {
        break;
      }
      if (!ec) detail::check_fields(parser, options, ec);
      if (ec) {
        auto res = error_response(
            detail::status_for(ec),
            detail::too_large(ec) ? "request header fields or trailer too large" : ec.message(),
            options.name);
        stream.expires_after(std::chrono::seconds(2));
        co_await bhttp::async_write(stream, res, use_tuple);
        break;
      }
      self.busy = true;
      auto req = parser.release();
      const unsigned version = req.version();
      const bool keep_alive = req.keep_alive();
      http::response plain;
      try {
        plain = handler(to_plain(std::move(req), remote));
      } catch (const std::exception& x) {
        // A handler that throws is a bug; answer and keep the server up.
        log(std::string("handler: ") + x.what());
        plain = internal_error();
      }
      if (plain.later) plain = co_await held(std::move(plain.later));
      bhttp::response<bhttp::string_body> res;
      try {
        res = to_beast(std::move(plain), version, options.name);
      } catch (const std::exception& x) {
        // A header the handler made that HTTP cannot carry (one over 64 KiB, say).
        log(std::string("response: ") + x.what());
        res = to_beast(internal_error(), version, options.name);
      }
      res.keep_alive(keep_alive && !stopping);
      // Tell the client how long an idle connection is kept, so it retires the socket before we
      // close it rather than sending a request into the close.
      if (res.keep_alive()) res.set(bhttp::field::keep_alive, keep_alive_hint);
      stream.expires_after(options.read_timeout);
      auto [wec, written] = co_await bhttp::async_write(stream, res, use_tuple);
      self.busy = false;
      if (wec || !res.keep_alive()) break;
      {
        std::lock_guard lock(connections_mutex);
        if (self.shed) break;
      }
    }
  }

  // A request whose answer comes later (a long poll): asked again every tick on this
  // connection's strand, without holding an io thread, until it answers or its hold is over.
  // Stopping the server ends every hold at its next tick.
  asio::awaitable<http::response> held(std::shared_ptr<http::deferred> d) {
    constexpr auto tick = std::chrono::milliseconds(100);
    ++holding;
    struct release {
      std::atomic<std::size_t>& n;
      ~release() { --n; }
    } counted{holding};
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const auto deadline = std::chrono::steady_clock::now() + d->hold;
    for (;;) {
      const bool last = stopping || std::chrono::steady_clock::now() >= deadline;
      std::optional<http::response> answer;
      try {
        if (d->ready) answer = d->ready(last);
      } catch (const std::exception& x) {
        log(std::string("held request: ") + x.what());
        answer = internal_error();
      }
      if (answer && !answer->later) co_return std::move(*answer);
      if (last) {
        log("held request: no answer at the end of its hold");
        co_return internal_error();
      }
      timer.expires_after(std::min<std::chrono::steady_clock::duration>(
          tick, deadline - std::chrono::steady_clock::now()));
      co_await timer.async_wait(use_tuple);
    }
  }

  static http::response internal_error() {
    http::response r;
    r.status = 500;
    r.headers.set("Content-Type", "application/json");
    r.body = R"({"error":{"status":500,"message":"internal error"}})";
    return r;
  }
};

server::server(server_options options, http::handler handler) : impl_(std::make_unique<impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
  const tcp::endpoint ep{asio::ip::make_address(impl_->options.address), impl_->options.port};
  auto& a = impl_->acceptor;
  a.open(ep.protocol());
  a.set_option(asio::socket_base::reuse_address(true));
  a.bind(ep);
  a.listen(asio::socket_base::max_listen_connections);
  impl_->bound = a.local_endpoint();
}

server::~server() {
  // Stopping joins threads and closes sockets; a failure there can only be logged.
  try {
    stop();
  } catch (const std::exception& x) {
    impl_->log(std::string("stop: ") + x.what());
  }
}

std::uint16_t server::port() const {
  return impl_->bound.port();
}

std::size_t server::requests_held() const {
  return impl_->holding.load();
}

std::string server::base_url() const {
  const auto& ep = impl_->bound;
  const auto addr = ep.address();
  const std::string host = addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string();
  return "http://" + host + ":" + std::to_string(ep.port());
}

void server::start() {
  if (impl_->started.exchange(true)) return;
  asio::co_spawn(impl_->accept_strand, impl_->accept_loop(),
                 [s = impl_.get()](const std::exception_ptr& e) { s->report(e, "accept loop"); });
  const std::size_t n = std::max<std::size_t>(impl_->options.threads, 1);
  for (std::size_t i = 0; i < n; ++i) {
    impl_->threads.emplace_back([s = impl_.get()] {
      // A handler that throws out of run() must not end the thread: the server would go on
      // accepting connections that nothing answers. run() may be called again after it.
      for (;;) {
        try {
          s->ioc.run();
          return;
        } catch (...) {
          s->report(std::current_exception(), "io thread");
        }
      }
    });
  }
}

void server::stop() {
  if (impl_->stopped.exchange(true)) return;
  if (!impl_->started) return;
  asio::post(impl_->accept_strand, [s = impl_.get()] {
    s->stopping = true;
    beast::error_code ignored;
    s->acceptor.close(ignored);
    std::lock_guard lock(s->connections_mutex);
    for (const auto& [serial, c] : s->connections) {
      // On the connection's own strand, and only if it is still open by then. Busy connections
      // finish their response and then see `stopping`.
      asio::post(c->stream->get_executor(), [s, serial = serial] {
        std::lock_guard still_open(s->connections_mutex);
        auto it = s->connections.find(serial);
        if (it == s->connections.end() || it->second->busy) return;
        beast::error_code cancel_error;
        it->second->stream->socket().cancel(cancel_error);
      });
    }
  });
  // Requests in flight get a few seconds; after that the loop is stopped outright.
  auto done = std::async(std::launch::async, [s = impl_.get()] {
    for (auto& t : s->threads) t.join();
  });
  if (done.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    impl_->ioc.stop();
    done.wait();
  }
}

struct termination_signals::impl {
  asio::io_context ioc{1};
  asio::signal_set signals{ioc, SIGINT, SIGTERM};  // the handlers are installed here
};

termination_signals::termination_signals() : impl_(std::make_unique<impl>()) {}

termination_signals::~termination_signals() = default;

int termination_signals::wait() {
  int received = 0;
  impl_->signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (!ec) received = sig;
  });
  impl_->ioc.run();
  return received;
}

}  // namespace linksim::net
