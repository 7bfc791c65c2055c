// JSON helpers over Boost.JSON.
#include "linksim/common/json.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace linksim::json {

bool finite_numbers(const boost::json::value& v) {
  // Parsing bounds the depth (Boost.JSON's default of 32), so the recursion is bounded too.
  switch (v.kind()) {
    case boost::json::kind::double_:
      return std::isfinite(v.get_double());
    case boost::json::kind::array:
      for (const auto& x : v.get_array())
        if (!finite_numbers(x)) return false;
      return true;
    case boost::json::kind::object:
      for (const auto& kv : v.get_object())
        if (!finite_numbers(kv.value())) return false;
      return true;
    default:
      return true;
  }
}

result<boost::json::object> parse_object(std::string_view text, boost::json::storage_ptr sp) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec, std::move(sp));
  if (ec || !v.is_object() || !finite_numbers(v)) return make_error_code(errc::bad_json);
  return std::move(v.as_object());
}

bool is_object(std::string_view text) {
  scratch memory;
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(text, ec, memory.storage());
  return !ec && v.is_object() && finite_numbers(v);
}

result<std::optional<std::string>> get_string(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return std::optional<std::string>{};
  if (!v->is_string()) return make_error_code(errc::bad_field);
  return std::optional<std::string>{std::string(v->as_string())};
}

std::optional<std::string> unknown_field(const boost::json::object& o,
                                         std::span<const std::string_view> known) {
  for (const auto& kv : o) {
    if (std::find(known.begin(), known.end(), kv.key()) != known.end()) continue;
    std::string m = "unknown field '" + std::string(kv.key()) + "' (known:";
    const char* sep = " ";
    for (auto k : known) {
      m += sep + std::string(k);
      sep = ", ";
    }
    return m + ")";
  }
  return std::nullopt;
}

result<std::optional<std::int64_t>> get_int(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return std::optional<std::int64_t>{};
  if (v->is_int64()) return std::optional<std::int64_t>{v->as_int64()};
  if (v->is_uint64() && v->as_uint64() <= INT64_MAX)
    return std::optional<std::int64_t>{static_cast<std::int64_t>(v->as_uint64())};
  if (v->is_string()) {
    // Meta sends ids as strings: accept digits in a string as an integer too.
    const auto& s = v->as_string();
    std::int64_t n = 0;
    if (s.empty() || s.size() > 18) return make_error_code(errc::bad_field);
    for (char c : s) {
      if (c < '0' || c > '9') return make_error_code(errc::bad_field);
      n = n * 10 + (c - '0');
    }
    return std::optional<std::int64_t>{n};
  }
  return make_error_code(errc::bad_field);
}

std::string serialize(const boost::json::value& v) {
  return boost::json::serialize(v);
}

namespace {

bool needs_escape(char c) {
  return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
}

// Whether any byte of `s` needs an escape in a JSON string. Eight bytes at a time: a word with
// no quote, no backslash and no byte below 0x20 passes with a few operations; a word that might
// hold one is checked byte by byte, so the answer is exact.
bool any_needs_escape(std::string_view s) {
  constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  auto has_zero = [](std::uint64_t x) { return (x - ones) & ~x & highs; };
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    const std::uint64_t below_space = (w - ones * 0x20) & ~w & highs;
    if ((below_space | has_zero(w ^ (ones * '"')) | has_zero(w ^ (ones * '\\'))) != 0 &&
        std::any_of(s.data() + i, s.data() + i + 8, needs_escape))
      return true;
  }
  return std::any_of(s.data() + i, s.data() + s.size(), needs_escape);
}

}  // namespace

void append_quoted(std::string& out, std::string_view s) {
  const bool plain = !any_needs_escape(s);
  if (!plain) {
    out += boost::json::serialize(boost::json::string_view(s.data(), s.size()));
    return;
  }
  out += '"';
  out += s;
  out += '"';
}

http::response response(int status, const boost::json::value& body) {
  http::response r;
  r.status = status;
  r.headers.set("Content-Type", "application/json");
  r.body = boost::json::serialize(body);
  return r;
}

http::response storage_unavailable() {
  http::response r = response(
      503, boost::json::object{
               {"error", boost::json::object{{"code", "storage_unavailable"},
                                             {"message", "storage is unavailable; retry"}}}});
  r.headers.set("Retry-After", "1");
  return r;
}

}  // namespace linksim::json
