// Plain HTTP helpers: headers, cookies, forms.
#include "linksim/common/http.hpp"

#include <charconv>

#include <boost/url/encode.hpp>
#include <boost/url/params_encoded_view.hpp>
#include <boost/url/parse_query.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <limits>
#include <span>

namespace linksim::http {

std::optional<error_info> describe_shared(const boost::system::error_code& ec) {
  if (ec.category() != error_category()) return std::nullopt;
  switch (static_cast<errc>(ec.value())) {
    case errc::bad_json:
    case errc::bad_form:
    case errc::missing_field:
    case errc::bad_field:
      return error_info{400, "invalid_request"};
    case errc::username_invalid:
      return error_info{400, "username_invalid"};
    case errc::self_follow:
      return error_info{400, "self_follow"};
    case errc::admin_unauthorized:
      return error_info{401, "unauthorized", std::string_view(admin_challenge)};
    case errc::access_denied:
      return error_info{403, "access_denied"};
    case errc::csrf_mismatch:
      return error_info{403, "csrf_mismatch"};
    case errc::account_inactive:
      return error_info{403, "account_inactive"};
    case errc::not_found:
      return error_info{404, "not_found"};
    case errc::method_not_allowed:
      return error_info{405, "method_not_allowed"};
    case errc::account_deleted:
      return error_info{410, "account_deleted"};
    case errc::username_taken:
      return error_info{409, "username_taken"};
    case errc::unsupported_media_type:
      return error_info{415, "unsupported_media_type"};
    case errc::upstream_bad_response:
      return error_info{502, "upstream_bad_response"};
    case errc::upstream_unavailable:
      return error_info{503, "upstream_unavailable"};
    default:
      return std::nullopt;
  }
}

void log_to_stderr(std::string_view line) {
  std::cerr << line << '\n';
}

namespace {

// Field names are ASCII tokens (RFC 9110 §5.1), compared without regard to case: a fold of
// A-Z alone, with no call into the C library's locale for each character.
constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view headers::get(std::string_view name) const {
  for (const auto& f : fields)
    if (iequals(f.name, name)) return f.value;
  return {};
}

bool headers::has(std::string_view name) const {
  return std::any_of(fields.begin(), fields.end(),
                     [&](const header_field& f) { return iequals(f.name, name); });
}

void headers::set(std::string name, std::string value) {
  std::erase_if(fields, [&](const header_field& f) { return iequals(f.name, name); });
  fields.push_back({std::move(name), std::move(value)});
}

void headers::add(std::string name, std::string value) {
  fields.push_back({std::move(name), std::move(value)});
}

std::string_view request::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::string_view request::query() const {
  std::string_view t = target;
  const auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

std::string request::cookie(std::string_view name) const {
  std::string_view all = headers.get("Cookie");
  while (!all.empty()) {
    const auto semi = all.find(';');
    std::string_view pair = trim(all.substr(0, semi));
    all = semi == std::string_view::npos ? std::string_view{} : all.substr(semi + 1);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && trim(pair.substr(0, eq)) == name) {
      return std::string(trim(pair.substr(eq + 1)));
    }
  }
  return {};
}

result<params> parse_form(std::string_view text) {
  params out;
  if (text.empty()) return out;
  // Boost.URL 1.81's params iterators read a view to its first NUL, past the end of a
  // substring: parse a terminated copy. Each key and value is decoded once, straight into its
  // string (a third faster than through params_view's decoded views).
  const std::string copy(text);
  auto q = boost::urls::parse_query(copy);
  if (!q) return make_error_code(errc::bad_form);
  boost::urls::encoding_opts opt;
  opt.space_as_plus = true;
  for (auto p : *q) {
    if (p.key.empty() && p.value.empty()) continue;
    auto& [key, value] = out.emplace_back();
    p.key.decode(opt, boost::urls::string_token::assign_to(key));
    p.value.decode(opt, boost::urls::string_token::assign_to(value));
  }
  return out;
}

const std::string* find_param(const params& p, std::string_view name, bool* repeated) {
  const std::string* found = nullptr;
  for (const auto& [k, v] : p) {
    if (k != name) continue;
    if (found && repeated) *repeated = true;
    if (!found) found = &v;
  }
  return found;
}

std::string percent_encode(std::string_view s) {
  return boost::urls::encode(s, boost::urls::unreserved_chars);
}

std::string form_encode(const params& p) {
  std::string out;
  for (const auto& [k, v] : p) {
    if (!out.empty()) out += '&';
    out += percent_encode(k);
    out += '=';
    out += percent_encode(v);
  }
  return out;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

response with_challenge(response r, const error_info& info) {
  if (r.status == 401 && !info.challenge.empty() && !r.headers.has("WWW-Authenticate"))
    r.headers.set("WWW-Authenticate", std::string(info.challenge));
  return r;
}

response redirect(int status, std::string location) {
  response r;
  r.status = status;
  r.headers.set("Location", std::move(location));
  r.headers.set("Cache-Control", "no-store");
  return r;
}

response settle(response r) {
  // A deferred answer may itself be deferred only by a bug; its last word is taken as it is.
  for (int depth = 0; r.later && depth < 4; ++depth) {
    const auto d = std::move(r.later);
    auto last = d->ready ? d->ready(true) : std::nullopt;
    if (!last) {
      r = {};
      r.status = 500;
      r.headers.set("Content-Type", "application/json");
      r.body = R"({"error":{"status":500,"message":"a held request gave no answer"}})";
      return r;
    }
    r = std::move(*last);
  }
  r.later.reset();
  return r;
}

std::string query_param(std::string_view url, std::string_view key) {
  const auto q = url.find('?');
  if (q == std::string_view::npos) return {};
  const auto hash = url.find('#', q);
  auto p = parse_form(url.substr(q + 1, hash == std::string_view::npos ? hash : hash - q - 1));
  const auto* v = p ? find_param(*p, key) : nullptr;
  return v ? *v : std::string();
}

std::vector<std::string_view> path_segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return out;
}

std::optional<std::int64_t> parse_id(std::string_view s) {
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

namespace {

std::optional<int> month_number(std::string_view m) {
  static constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i)
    if (months[i] == m) return i + 1;
  return std::nullopt;
}

bool is_day_name(std::string_view d, bool long_form) {
  static constexpr std::string_view short_names[] = {"Mon", "Tue", "Wed", "Thu",
                                                     "Fri", "Sat", "Sun"};
  static constexpr std::string_view long_names[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                    "Friday", "Saturday", "Sunday"};
  for (auto n : long_form ? std::span(long_names) : std::span(short_names))
    if (n == d) return true;
  return false;
}

// Exactly `width` decimal digits (a leading space allowed when `space_padded`).
std::optional<int> digits(std::string_view s, std::size_t width, bool space_padded = false) {
  if (s.size() != width) return std::nullopt;
  int v = 0;
  for (std::size_t i = 0; i < width; ++i) {
    if (space_padded && i == 0 && s[i] == ' ') continue;
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// "HH:MM:SS" as seconds into the day; a leap second (60) is allowed, as the grammar does.
std::optional<int> time_of_day(std::string_view s) {
  if (s.size() != 8 || s[2] != ':' || s[5] != ':') return std::nullopt;
  auto h = digits(s.substr(0, 2), 2), m = digits(s.substr(3, 2), 2),
       sec = digits(s.substr(6, 2), 2);
  if (!h || !m || !sec || *h > 23 || *m > 59 || *sec > 60) return std::nullopt;
  return *h * 3600 + *m * 60 + *sec;
}

std::optional<std::int64_t> to_unix(int year, int month, int day, int seconds) {
  const std::chrono::year_month_day ymd{std::chrono::year{year},
                                        std::chrono::month{static_cast<unsigned>(month)},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  return std::int64_t{std::chrono::sys_days{ymd}.time_since_epoch().count()} * 86400 + seconds;
}

}  // namespace

std::optional<std::int64_t> parse_http_date(std::string_view s) {
  if (s.size() == 29 && s.substr(3, 2) == ", " && s.substr(25) == " GMT" && s[7] == ' ' &&
      s[11] == ' ' && s[16] == ' ') {
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    auto day = digits(s.substr(5, 2), 2), month = month_number(s.substr(8, 3)),
         year = digits(s.substr(12, 4), 4), t = time_of_day(s.substr(17, 8));
    if (!is_day_name(s.substr(0, 3), false) || !day || !month || !year || !t) return std::nullopt;
    return to_unix(*year, *month, *day, *t);
  }
  if (const auto comma = s.find(", "); comma != std::string_view::npos && comma > 3 &&
                                       s.size() == comma + 2 + 22 && s.ends_with(" GMT")) {
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT". A two-digit year more than 50 years in the
    // future is read as the past century (RFC 9110 section 5.6.7); relative to 2000 here.
    const auto rest = s.substr(comma + 2);
    if (rest[2] != '-' || rest[6] != '-' || rest[9] != ' ') return std::nullopt;
    auto day = digits(rest.substr(0, 2), 2), month = month_number(rest.substr(3, 3)),
         yy = digits(rest.substr(7, 2), 2), t = time_of_day(rest.substr(10, 8));
    if (!is_day_name(s.substr(0, comma), true) || !day || !month || !yy || !t) return std::nullopt;
    return to_unix(*yy < 70 ? 2000 + *yy : 1900 + *yy, *month, *day, *t);
  }
  if (s.size() == 24 && s[3] == ' ' && s[7] == ' ' && s[10] == ' ' && s[19] == ' ') {
    // asctime: "Sun Nov  6 08:49:37 1994"
    auto month = month_number(s.substr(4, 3)), day = digits(s.substr(8, 2), 2, true),
         t = time_of_day(s.substr(11, 8)), year = digits(s.substr(20, 4), 4);
    if (!is_day_name(s.substr(0, 3), false) || !month || !day || !t || !year) return std::nullopt;
    return to_unix(*year, *month, *day, *t);
  }
  return std::nullopt;
}

std::optional<std::int64_t> retry_after_seconds(std::string_view value,
                                                std::int64_t now_unix_seconds) {
  if (!value.empty() && value.find_first_not_of("0123456789") == std::string_view::npos) {
    std::int64_t seconds = 0;
    const auto ec = std::from_chars(value.data(), value.data() + value.size(), seconds).ec;
    return ec == std::errc{} ? seconds : std::numeric_limits<std::int64_t>::max();
  }
  const auto at = parse_http_date(value);
  if (!at) return std::nullopt;
  return std::max<std::int64_t>(0, *at - now_unix_seconds);
}

}  // namespace linksim::http
