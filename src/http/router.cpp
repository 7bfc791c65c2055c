// The route table (see router.hpp).
#include "linksim/http/router.hpp"

#include "linksim/common/crypto.hpp"
#include "linksim/common/json.hpp"
#include "linksim/store/error.hpp"

#include <algorithm>

namespace linksim::http {

std::string_view route_match::operator[](std::string_view name) const {
  for (const auto& [n, v] : captures_)
    if (n == name) return v;
  return {};
}

guard bearer_guard(std::string token, response refusal) {
  return [token = std::move(token),
          refusal = std::move(refusal)](const request& req) -> std::optional<response> {
    const auto auth = req.headers.get("Authorization");
    if (!token.empty() && auth.starts_with("Bearer ") && constant_time_equal(auth.substr(7), token))
      return std::nullopt;
    return refusal;
  };
}

router::router(std::string service, error_renderer render, log_sink log)
    : service_(std::move(service)), render_(std::move(render)), log_(std::move(log)) {}

router& router::on(std::string_view method, std::string_view pattern, route_handler h) {
  route r{std::string(method), {}, std::move(h)};
  for (const auto s : path_segments(pattern)) {
    const auto open = s.find('{');
    if (open == std::string_view::npos || !s.ends_with('}')) {
      r.pattern.push_back({std::string(s), {}});
    } else {
      r.pattern.push_back(
          {std::string(s.substr(0, open)), std::string(s.substr(open + 1, s.size() - open - 2))});
    }
  }
  routes_.push_back(std::move(r));
  return *this;
}

router& router::guard_prefix(std::string_view prefix, http::guard g) {
  guards_.emplace_back(std::string(prefix), std::move(g));
  return *this;
}

bool router::match(const std::vector<segment>& pattern, const std::vector<std::string_view>& path,
                   route_match& m) {
  if (pattern.size() != path.size()) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const segment& p = pattern[i];
    if (p.capture.empty()) {
      if (path[i] != p.literal) return false;
    } else {
      if (!path[i].starts_with(p.literal)) return false;
      m.add(p.capture, path[i].substr(p.literal.size()));
    }
  }
  return true;
}

response router::operator()(const request& req) const {
  try {
    return dispatch(req);
  } catch (const store::error& e) {
    // The disk, not the request: tell the caller to retry rather than fail for good.
    if (log_) log_(service_ + ": storage: " + e.what());
    return json::storage_unavailable();
  }
}

response router::dispatch(const request& req) const {
  const auto path = req.path();
  for (const auto& [prefix, g] : guards_) {
    if (path == prefix || (path.starts_with(prefix) && path.substr(prefix.size()).starts_with('/')))
      if (auto stop = g(req)) return std::move(*stop);
  }
  const auto segments = path_segments(path);
  std::vector<std::string_view> allowed;
  for (const auto& r : routes_) {
    route_match m;
    if (!match(r.pattern, segments, m)) continue;
    if (r.method == req.method) return r.handler(req, m);
    if (std::find(allowed.begin(), allowed.end(), r.method) == allowed.end())
      allowed.push_back(r.method);
  }
  if (!allowed.empty()) {
    std::string allow;
    for (const auto m : allowed) allow += (allow.empty() ? "" : ", ") + std::string(m);
    response r = render_(make_error_code(errc::method_not_allowed), {});
    r.headers.set("Allow", std::move(allow));
    return r;
  }
  return render_(make_error_code(errc::not_found), path);
}

}  // namespace linksim::http
