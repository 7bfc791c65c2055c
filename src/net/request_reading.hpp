// How the server reads a request, shared by the server's sessions and net::parse_request: the
// parser's limits, the check of head and trailer fields together, the status a failed read gets,
// and the conversion to the plain request handlers see. Internal to src/net.
#pragma once

#include "linksim/net/server.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace linksim::net::detail {

namespace bhttp = boost::beast::http;
using request_parser = bhttp::request_parser<bhttp::string_body>;

// The most bytes a connection's read buffer holds: no part the parser must hold whole (a head,
// a chunk header, a trailer) can grow past the header limit and the read fails with
// buffer_overflow beyond it. Bodies pass through it piece by piece.
inline std::size_t read_buffer_limit(const server_options& o) {
  return o.header_limit + 1024;
}

inline void configure(request_parser& p, const server_options& o) {
  p.header_limit(static_cast<std::uint32_t>(o.header_limit));
  p.body_limit(o.body_limit);
}

// Trailer fields (RFC 9112 section 7.1.2) count against the header limit with the head, as on
// the wire ("name: value\r\n"). Sets `ec` when a complete request passes it.
inline void check_fields(const request_parser& p, const server_options& o,
                         boost::beast::error_code& ec) {
  std::size_t n = 0;
  for (const auto& f : p.get()) n += f.name_string().size() + f.value().size() + 4;
  if (n > o.header_limit) ec = bhttp::error::header_limit;
}

inline bool too_large(const boost::beast::error_code& ec) {
  return ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow;
}

// The status a request that could not be read is answered with.
inline int status_for(const boost::beast::error_code& ec) {
  return too_large(ec) ? 431 : ec == bhttp::error::body_limit ? 413 : 400;
}

inline http::request to_plain(bhttp::request<bhttp::string_body>&& req, std::string remote) {
  http::request out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  for (const auto& f : req) out.headers.add(std::string(f.name_string()), std::string(f.value()));
  out.body = std::move(req.body());
  out.remote = std::move(remote);
  return out;
}

}  // namespace linksim::net::detail
