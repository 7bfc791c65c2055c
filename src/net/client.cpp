// The outbound HTTP client: a private io_context per request, one deadline over the exchange.
#include "linksim/net/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

namespace linksim::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

result<http::response> client::send(http::request req) {
  // A fragment never goes on the wire (RFC 9110 §4.2.4): accept one and drop it.
  auto url = boost::urls::parse_uri(req.target);
  if (!url || url->scheme() != "http" || url->host().empty()) {
    return make_error_code(errc::callback_url_invalid);
  }
  const std::string host(url->encoded_host());
  const std::string port = url->has_port() ? std::string(url->port()) : "80";
  std::string target(url->encoded_path());
  if (target.empty()) target = "/";
  if (url->has_query()) target += "?" + std::string(url->encoded_query());

  bhttp::request<bhttp::string_body> out{bhttp::string_to_verb(req.method), target, 11};
  if (out.method() == bhttp::verb::unknown) out.method_string(req.method);
  out.set(bhttp::field::host, url->has_port() ? host + ":" + port : host);
  out.set(bhttp::field::user_agent, "linksim");
  for (auto& f : req.headers.fields) out.set(f.name, f.value);
  out.body() = std::move(req.body);
  out.keep_alive(false);
  out.prepare_payload();

  asio::io_context ioc{1};
  result<http::response> outcome = make_error_code(errc::upstream_unavailable);
  auto exchange = [&]() -> asio::awaitable<void> {
    tcp::resolver resolver(ioc);
    auto [rec, endpoints] = co_await resolver.async_resolve(host, port, use_tuple);
    if (rec) co_return;
    beast::tcp_stream stream(ioc);
    // One deadline for connect, write and read together.
    stream.expires_after(timeout_);
    auto [cec, ep] = co_await stream.async_connect(endpoints, use_tuple);
    if (cec) co_return;
    auto [wec, w] = co_await bhttp::async_write(stream, out, use_tuple);
    if (wec) co_return;
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(std::uint64_t{8} * 1024 * 1024);
    auto [ec, r] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
    if (ec) {
      outcome = make_error_code(ec == beast::error::timeout ? errc::upstream_unavailable
                                                            : errc::upstream_bad_response);
      co_return;
    }
    auto res = parser.release();
    http::response plain;
    plain.status = static_cast<int>(res.result_int());
    for (const auto& f : res)
      plain.headers.add(std::string(f.name_string()), std::string(f.value()));
    plain.body = std::move(res.body());
    outcome = std::move(plain);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  };
  std::exception_ptr failure;
  asio::co_spawn(ioc, exchange(), [&](std::exception_ptr e) { failure = std::move(e); });
  ioc.run();
  if (failure) std::rethrow_exception(failure);
  return outcome;
}

}  // namespace linksim::net
