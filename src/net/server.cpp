// The HTTP server: one coroutine per connection, a loop of expires_after → read → handle → write.
#include "linksim/net/server.hpp"

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

http::request to_plain(bhttp::request<bhttp::string_body>&& req, std::string remote) {
  http::request out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  for (const auto& f : req) out.headers.add(std::string(f.name_string()), std::string(f.value()));
  out.body = std::move(req.body());
  out.remote = std::move(remote);
  return out;
}

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
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};

  // Each connection runs on its own strand; `busy` and the stream are touched only there.
  struct connection {
    beast::tcp_stream* stream;
    bool busy;  // a request is being handled or answered
  };
  std::mutex connections_mutex;
  std::map<std::uint64_t, connection*> connections;  // by a serial number, never reused
  std::uint64_t next_connection = 0;

  void log(const std::string& what) const { std::cerr << options.name << ": " << what << "\n"; }

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
      bool over_capacity;
      {
        std::lock_guard lock(connections_mutex);
        over_capacity = connections.size() >= options.max_connections;
      }
      auto executor = socket.get_executor();
      asio::co_spawn(executor, session(beast::tcp_stream(std::move(socket)), over_capacity),
                     [this](std::exception_ptr e) { report(e, "session"); });
    }
  }

  void report(std::exception_ptr e, const char* where) const {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      log(std::string(where) + ": " + x.what());
    }
  }

  asio::awaitable<void> session(beast::tcp_stream stream, bool over_capacity) {
    beast::error_code ignored;
    std::string remote;
    if (auto ep = stream.socket().remote_endpoint(ignored); !ignored) {
      remote = ep.address().to_string() + ":" + std::to_string(ep.port());
    }
    if (over_capacity) {
      // Say why before closing, so the client can back off rather than guess.
      auto res = error_response(503, "too many connections", options.name);
      res.set(bhttp::field::retry_after, "1");
      stream.expires_after(std::chrono::seconds(2));
      co_await bhttp::async_write(stream, res, use_tuple);
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      co_return;
    }

    connection self{&stream, false};
    std::uint64_t serial;
    {
      std::lock_guard lock(connections_mutex);
      serial = next_connection++;
      connections.emplace(serial, &self);
    }
    struct unregister {
      impl* s;
      std::uint64_t serial;
      ~unregister() {
        std::lock_guard lock(s->connections_mutex);
        s->connections.erase(serial);
      }
    } guard{this, serial};

    const std::string keep_alive_hint =
        "timeout=" +
        std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(options.read_timeout).count());
    beast::flat_buffer buffer;
    for (;;) {
      if (stopping) break;
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
      parser.body_limit(options.body_limit);
      // Bounds the whole read, so a client that trickles bytes is cut off too.
      stream.expires_after(options.read_timeout);
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
      if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted ||
          ec == beast::error::timeout || ec == asio::error::connection_reset) {
        break;
      }
      if (ec) {
        const int status = ec == bhttp::error::header_limit ? 431
                           : ec == bhttp::error::body_limit ? 413
                                                            : 400;
        auto res = error_response(status, ec.message(), options.name);
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
        plain = {};
        plain.status = 500;
        plain.headers.set("Content-Type", "application/json");
        plain.body = R"({"error":{"status":500,"message":"internal error"}})";
      }
      auto res = to_beast(std::move(plain), version, options.name);
      res.keep_alive(keep_alive && !stopping);
      // Tell the client how long an idle connection is kept, so it retires the socket before we
      // close it rather than sending a request into the close.
      if (res.keep_alive()) res.set(bhttp::field::keep_alive, keep_alive_hint);
      stream.expires_after(options.read_timeout);
      auto [wec, written] = co_await bhttp::async_write(stream, res, use_tuple);
      self.busy = false;
      if (wec || !res.keep_alive()) break;
    }
    // The client might have dropped the connection already: nothing to do about errors here.
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
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
  stop();
}

std::uint16_t server::port() const {
  return impl_->bound.port();
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
                 [s = impl_.get()](std::exception_ptr e) { s->report(e, "accept loop"); });
  const std::size_t n = std::max<std::size_t>(impl_->options.threads, 1);
  for (std::size_t i = 0; i < n; ++i) {
    impl_->threads.emplace_back([s = impl_.get()] {
      try {
        s->ioc.run();
      } catch (const std::exception& x) {
        s->log(std::string("io thread: ") + x.what());
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

int wait_for_termination_signal() {
  asio::io_context ioc{1};
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  int received = 0;
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (!ec) received = sig;
  });
  ioc.run();
  return received;
}

}  // namespace linksim::net
