// The dependent service's admin API, for scenarios and tests: profiles by account, one profile,
// reconciliation on demand, and the outbox of notices to the ad platform. Every route needs
// "Authorization: Bearer <admin token>".
#include "common.hpp"

namespace linksim::threads_sim::web {
namespace {

class admin_routes {
 public:
  explicit admin_routes(service& s) : s_(s) {}

  response profiles_of_account(const request& req) {
    auto q = http::parse_form(req.query());
    if (!q) return json_error(q.error());
    const auto ig = http::parse_id(param(*q, "ig_user_id"));
    if (!ig) return json_error(make_error_code(errc::missing_field));
    bj::array a;
    for (const auto& p : s_.profiles_of_account(*ig)) a.push_back(admin_json(p));
    return json::response(200, bj::object{{"data", std::move(a)}});
  }

  response profile(std::string_view id_text) {
    const auto id = http::parse_id(id_text);
    if (!id) return json_error(make_error_code(error::profile_not_found));
    auto p = s_.get_profile(*id);
    if (!p) return json_error(p.error());
    return json::response(200, admin_json(*p));
  }

  response reconcile(std::string_view id_text) {
    const auto id = http::parse_id(id_text);
    if (!id) return json_error(make_error_code(error::profile_not_found));
    auto p = s_.reconcile(*id);
    if (!p) return json_error(p.error());
    return json::response(200, admin_json(*p));
  }

  // Polls the Shared Signals stream now (a service that polls it); answers how many SETs came.
  response poll_signals() {
    if (s_.settings().changes != channel::ssf_poll)
      return json_error(make_error_code(errc::bad_field),
                        "this service does not poll a Shared Signals stream (its changes come as " +
                            std::string(to_string(s_.settings().changes)) + ")");
    auto n = s_.poll_signals();
    if (!n) return json_error(n.error());
    return json::response(200, bj::object{{"received", *n}});
  }

  response reconcile_due() {
    return json::response(200, bj::object{{"polled", s_.reconcile_due()}});
  }

  // The outbox of notices to the ad platform: ?state=pending|dead, or all.
  response ads_notices(const request& req) {
    auto q = http::parse_form(req.query());
    if (!q) return json_error(q.error());
    std::optional<std::string_view> state;
    if (const auto* s = http::find_param(*q, "state")) {
      if (*s != "pending" && *s != "dead") return json_error(make_error_code(errc::bad_field));
      state = *s;
    }
    bj::array a;
    for (const auto& n : s_.ads_notices(state)) {
      a.push_back(bj::object{{"id", std::to_string(n.id)},
                             {"kind", n.kind},
                             {"profile_id", std::to_string(n.profile_id)},
                             {"ig_user_id", std::to_string(n.subject)},
                             {"state", n.state},
                             {"attempts", n.attempts},
                             {"next_attempt_at", unix_seconds(n.next_attempt_at)},
                             {"last_status", n.last_status},
                             {"last_response", n.last_response}});
    }
    return json::response(200, bj::object{{"notices", std::move(a)}});
  }

  response replay_notice(std::string_view id_text) {
    const auto id = http::parse_id(id_text);
    if (!id) return json_error(make_error_code(errc::not_found));
    if (auto r = s_.replay_ads_notice(*id); !r) return json_error(r.error());
    return json::response(200, bj::object{{"replayed", std::to_string(*id)}});
  }

 private:
  service& s_;
};

}  // namespace

void add_admin_routes(http::router& r, service& s, const route_options& o) {
  auto self = std::make_shared<admin_routes>(s);
  // The refusal carries the Bearer challenge of its error (RFC 6750 section 3).
  r.guard_prefix(
      "/admin",
      http::bearer_guard(o.admin_token, json_error(make_error_code(errc::admin_unauthorized))));
  auto on = [&](std::string_view method, std::string_view pattern, auto f) {
    r.on(method, pattern,
         [self, f](const request& req, const route_match& m) { return f(*self, req, m); });
  };
  using a = admin_routes;
  on("GET", "/admin/profiles", [](a& x, auto& req, auto&) { return x.profiles_of_account(req); });
  on("GET", "/admin/profiles/{id}", [](a& x, auto&, auto& m) { return x.profile(m["id"]); });
  on("POST", "/admin/profiles/{id}/reconcile",
     [](a& x, auto&, auto& m) { return x.reconcile(m["id"]); });
  on("POST", "/admin/reconcile", [](a& x, auto&, auto&) { return x.reconcile_due(); });
  on("POST", "/admin/ssf/poll", [](a& x, auto&, auto&) { return x.poll_signals(); });
  on("GET", "/admin/ads-notices", [](a& x, auto& req, auto&) { return x.ads_notices(req); });
  on("POST", "/admin/ads-notices/{id}/replay",
     [](a& x, auto&, auto& m) { return x.replay_notice(m["id"]); });
}

}  // namespace linksim::threads_sim::web
