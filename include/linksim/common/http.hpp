// Plain HTTP messages and the seams between services and the network: a service is a function
// from request to response, and it calls other services through a transport it is given. The
// real transport (src/net) speaks HTTP over sockets; a simulated one can replace it.
#pragma once

#include "linksim/common/error.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace linksim::http {

struct header_field {
  std::string name;
  std::string value;
};

struct headers {
  std::vector<header_field> fields;
  // The first value of `name` (compared case-insensitively), or empty.
  std::string_view get(std::string_view name) const;
  bool has(std::string_view name) const;
  void set(std::string name, std::string value);  // replaces any field of that name
  void add(std::string name, std::string value);  // appends (Set-Cookie may repeat)
};

struct request {
  std::string method = "GET";
  std::string target = "/";  // origin-form for servers, an absolute URL for transports
  http::headers headers;
  std::string body;
  std::string remote;  // the peer's address, for logs

  std::string_view path() const;   // target up to '?'
  std::string_view query() const;  // after '?', without it; empty if none
  // The value of cookie `name` in the Cookie header, or empty.
  std::string cookie(std::string_view name) const;
};

struct deferred;

struct response {
  int status = 200;
  http::headers headers;
  std::string body;
  // Set when the answer is not ready yet (a long poll): the server holds the request and asks
  // `later` for the answer. Status, headers and body are then unused.
  std::shared_ptr<deferred> later;
};

// An answer given later (RFC 8936 section 2.4, a poll that waits for events). A server calls
// `ready(false)` now and then until it gives an answer or `hold` has passed (or the server is
// stopping), then `ready(true)`, which must answer. Each call is quick and thread-safe.
struct deferred {
  std::chrono::milliseconds hold{0};
  std::function<std::optional<response>(bool last)> ready;
};

// The answer now: a deferred response asked for its last word at once. Where nothing can wait
// (the simulated network, tests that call a handler), a long poll answers as a short one.
response settle(response r);

using handler = std::function<response(const request&)>;
// Told of each request a server answered, and the answer.
using observer = std::function<void(const request&, const response&)>;

// Where a handler reports what went wrong on its side (a storage failure behind a 503), one
// line at a time. A server writes the lines to stderr; the simulation keeps them with the run.
using log_sink = std::function<void(std::string_view line)>;
void log_to_stderr(std::string_view line);

// A redirect that is never cached.
response redirect(int status, std::string location);

// How an error shows over HTTP: the status and the code word. Each service has one function
// that maps its errors to these (idp::describe, threads_sim::describe). A 401 names the
// challenge its WWW-Authenticate carries: RFC 9110 section 15.5.2 requires one on every 401.
struct error_info {
  int status;
  std::string_view code;
  std::string_view challenge = {};
};

// The answer with the challenge of `info` in WWW-Authenticate when it is a 401; any other
// answer, and a 401 that names its challenge already, is left as it is.
response with_challenge(response r, const error_info& info);

// The challenge of the admin API every service has.
inline constexpr std::string_view admin_challenge = "Bearer realm=\"linksim-admin\"";

// How the errors every service shares (linksim::errc) show over HTTP where the services agree:
// unreadable input 400, not_found 404, the peers' failures 502 and 503, and so on. nullopt for
// the few each service maps its own way (account_deleted, callback_url_invalid,
// delivery_not_replayable) and for any other category.
std::optional<error_info> describe_shared(const boost::system::error_code& ec);

// Sends a request to another service. `req.target` is an absolute http:// URL. Errors are
// transport failures (refused, timed out, unreadable); any HTTP status is a response.
class transport {
 public:
  virtual ~transport() = default;
  virtual result<response> send(request req) = 0;
};

// Form and query parameters in order of appearance.
using params = std::vector<std::pair<std::string, std::string>>;

// Parses application/x-www-form-urlencoded data (or a query string): percent-decoded, '+' as
// space. errc::bad_form for malformed escapes.
result<params> parse_form(std::string_view text);
// The single value of `name`; nullptr if absent. RFC 6749 §3.1: a repeated parameter is an error,
// reported through `repeated`.
const std::string* find_param(const params& p, std::string_view name, bool* repeated = nullptr);
std::string form_encode(const params& p);
// Query parameter `key` of a URL (up to any fragment); empty when absent or unreadable.
std::string query_param(std::string_view url, std::string_view key);
// The non-empty segments of a path: "/admin/accounts/7" → {"admin", "accounts", "7"}.
std::vector<std::string_view> path_segments(std::string_view path);
// A positive decimal id (a path segment, a form field); nullopt for anything else.
std::optional<std::int64_t> parse_id(std::string_view s);
std::string percent_encode(std::string_view s);

const char* reason_phrase(int status);

// An HTTP-date (RFC 9110 section 5.6.7) as seconds since the Unix epoch: the preferred
// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") and, as recipients must accept, the obsolete
// RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime ("Sun Nov  6 08:49:37 1994") forms.
// nullopt for anything else, an impossible date included.
std::optional<std::int64_t> parse_http_date(std::string_view s);

// A Retry-After value (RFC 9110 section 10.2.3), delay-seconds or an HTTP-date, as the delay
// from `now_unix_seconds`: never negative; nullopt when it is neither form.
std::optional<std::int64_t> retry_after_seconds(std::string_view value,
                                                std::int64_t now_unix_seconds);

}  // namespace linksim::http
