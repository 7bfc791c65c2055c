// net::parse_request: one request read from bytes in memory exactly as a session reads it.
#include "linksim/net/server.hpp"

#include "request_reading.hpp"

#include <boost/asio/buffer.hpp>

namespace linksim::net {

parsed_request parse_request(std::string_view bytes, const server_options& options) {
  namespace bhttp = boost::beast::http;
  detail::request_parser parser;
  detail::configure(parser, options);
  parser.eager(true);  // as the read functions set it
  const std::size_t limit = detail::read_buffer_limit(options);
  boost::beast::error_code ec;
  parsed_request out;
  while (!parser.is_done()) {
    // The server's buffer never holds more than `limit` bytes the parser has not taken.
    const std::string_view window = bytes.substr(0, limit);
    const std::size_t used = parser.put(boost::asio::buffer(window.data(), window.size()), ec);
    bytes.remove_prefix(used);
    out.consumed += used;
    if (ec == bhttp::error::need_more) {
      if (window.size() >= limit) {
        ec = bhttp::error::buffer_overflow;
        break;
      }
      if (window.size() == bytes.size()) return out;  // the request is not complete
      ec = {};
    }
    if (ec) break;
    if (used == 0 && bytes.empty()) return out;
  }
  if (!ec) detail::check_fields(parser, options, ec);
  if (ec) {
    out.status = detail::status_for(ec);
    return out;
  }
  out.request = detail::to_plain(parser.release(), {});
  return out;
}

}  // namespace linksim::net
