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
    // The server's buffer never holds more than `limit` bytes the parser has not taken, and it
    // gives the parser more only after more bytes arrive: so does this loop (Beast asserts
    // that a parser told need_more is not given the same bytes again).
    const std::string_view window = bytes.substr(0, limit);
    const bool all_given = window.size() == bytes.size();
    const std::size_t used = parser.put(boost::asio::buffer(window.data(), window.size()), ec);
    bytes.remove_prefix(used);
    out.consumed += used;
    if (ec == bhttp::error::need_more) {
      if (all_given) return out;  // the request is not complete
      if (used == 0) {
        ec = bhttp::error::buffer_overflow;  // the buffer is full and the parser wants more
        break;
      }
      ec = {};
    }
    if (ec) break;
    if (used == 0 && all_given) return out;
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
