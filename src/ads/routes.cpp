// The ad platform's HTTP routes: each parses its input, calls the service and answers JSON.
#include "linksim/ads/routes.hpp"

#include "linksim/ads/service.hpp"
#include "linksim/common/crypto.hpp"
#include "linksim/common/json.hpp"
#include "linksim/store/sqlite.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace linksim::ads {
namespace bj = boost::json;
using http::request;
using http::response;

http::error_info describe(const boost::system::error_code& ec) {
  if (ec.category() != error_category()) return {500, "internal_error"};
  switch (static_cast<errc>(ec.value())) {
    case errc::bad_json:
    case errc::missing_field:
    case errc::bad_field:
      return {400, "invalid_request"};
    case errc::admin_unauthorized:
    case errc::partner_unauthorized:
      return {401, "unauthorized"};
    case errc::outside_contract:
      return {403, "outside_contract"};
    case errc::sale_refused:
      return {403, "sale_refused"};
    case errc::not_found:
      return {404, "not_found"};
    case errc::method_not_allowed:
      return {405, "method_not_allowed"};
    case errc::account_deleted:
      return {410, "account_deleted"};
    default:
      return {400, "invalid_request"};
  }
}

namespace {

response error(const boost::system::error_code& ec, std::string_view detail = {}) {
  const auto info = describe(ec);
  bj::object err{{"code", info.code}, {"message", ec.message()}};
  if (!detail.empty()) err["detail"] = detail;
  return json::response(info.status, bj::object{{"error", std::move(err)}});
}

std::string bearer(const request& req) {
  const auto auth = req.headers.get("Authorization");
  return auth.starts_with("Bearer ") ? std::string(auth.substr(7)) : std::string();
}

// A positive account id from a JSON field or a query parameter given as a string or a number.
std::optional<std::int64_t> subject_of(const bj::object& o) {
  const auto* v = o.if_contains("subject");
  if (!v) return std::nullopt;
  if (v->is_int64() && v->as_int64() > 0) return v->as_int64();
  if (v->is_string()) return http::parse_id(v->as_string());
  return std::nullopt;
}

class router {
 public:
  router(service& s, route_options o) : s_(s), o_(std::move(o)) {}

  response operator()(const request& req) {
    try {
      return route(req);
    } catch (const store::error& e) {
      if (o_.log) o_.log(std::string("ads: storage: ") + e.what());
      return json::storage_unavailable();
    }
  }

 private:
  response not_allowed(std::string allow) {
    response r = error(make_error_code(errc::method_not_allowed));
    r.headers.set("Allow", std::move(allow));
    return r;
  }

  response route(const request& req) {
    const auto path = req.path();
    const auto& m = req.method;
    if (path == "/healthz") return json::response(200, bj::object{{"status", "ok"}});
    const auto seg = http::path_segments(path);
    if (seg.size() == 3 && seg[0] == "v1" && seg[1] == "partners") {
      const std::string key = bearer(req);
      auto q = http::parse_form(req.query());
      if (!q) return error(q.error());
      const std::string* c = http::find_param(*q, "campaign");
      if (seg[2] == "reports") {
        if (m != "GET") return not_allowed("GET");
        if (!c) return error(make_error_code(errc::missing_field), "campaign");
        auto r = s_.report(key, *c);
        if (!r) return error(r.error());
        bj::object o{{"campaign", r->campaign},
                     {"suppressed", r->suppressed},
                     {"min_group_size", s_.settings().min_group_size}};
        o["impressions"] = r->suppressed ? bj::value(nullptr) : bj::value(r->impressions);
        o["reach"] = r->suppressed ? bj::value(nullptr) : bj::value(r->reach);
        if (!r->viewers.empty()) {
          bj::array v;
          for (auto id : r->viewers) v.emplace_back(std::to_string(id));
          o["viewers"] = std::move(v);
        }
        return json::response(200, o);
      }
      if (seg[2] == "audiences") {
        if (m != "GET") return not_allowed("GET");
        if (!c) return error(make_error_code(errc::missing_field), "campaign");
        auto r = s_.audience(key, *c);
        if (!r) return error(r.error());
        bj::array ids;
        for (auto id : *r) ids.emplace_back(std::to_string(id));
        return json::response(200, bj::object{{"accounts", std::move(ids)}});
      }
      if (seg[2] == "purchases") {
        if (m != "POST") return not_allowed("POST");
        auto o = json::parse_object(req.body);
        if (!o) return error(o.error());
        auto campaign = json::get_string(*o, "campaign");
        auto price = json::get_int(*o, "price_cents");
        if (!campaign || !price) return error(make_error_code(errc::bad_field));
        if (!*campaign || !*price || **price <= 0)
          return error(make_error_code(errc::missing_field), "campaign and price_cents > 0");
        auto r = s_.buy(key, **campaign, **price);
        if (!r) return error(r.error());
        bj::array ids;
        for (auto id : r->accounts) ids.emplace_back(std::to_string(id));
        return json::response(
            200, bj::object{{"accounts", std::move(ids)}, {"price_cents", r->price_cents}});
      }
    }
    if (seg.size() >= 2 && seg[0] == "v1") return company(req, seg);
    if (seg.size() == 3 && seg[0] == "admin" && seg[1] == "accounts") {
      if (o_.admin_token.empty() || !constant_time_equal(bearer(req), o_.admin_token))
        return error(make_error_code(errc::admin_unauthorized));
      if (m != "GET") return not_allowed("GET");
      const auto id = http::parse_id(seg[2]);
      if (!id) return error(make_error_code(errc::not_found), "account ids are numbers");
      const auto h = s_.held_about(*id);
      return json::response(200, bj::object{{"activity", h.activity},
                                            {"impressions", h.impressions},
                                            {"opted_out", h.opted_out}});
    }
    return error(make_error_code(errc::not_found), "no route for " + std::string(path));
  }

  // The company's own systems, each with its token.
  response company(const request& req, const std::vector<std::string_view>& seg) {
    const std::string system = s_.system_of(bearer(req));
    if (system.empty()) return error(make_error_code(errc::admin_unauthorized));
    const auto& m = req.method;
    if (seg.size() == 2 && seg[1] == "sponsored") {
      if (m != "GET") return not_allowed("GET");
      auto q = http::parse_form(req.query());
      if (!q) return error(q.error());
      const std::string* subject = http::find_param(*q, "subject");
      const std::string* surface = http::find_param(*q, "surface");
      const std::string* personalize = http::find_param(*q, "personalize");
      const auto id = subject ? http::parse_id(*subject) : std::nullopt;
      if (!id) return error(make_error_code(errc::missing_field), "subject");
      auto r = s_.sponsored_for(*id, surface ? *surface : system, system,
                                !personalize || *personalize != "0");
      if (!r) return error(r.error());
      return json::response(200, bj::object{{"campaign", r->campaign},
                                            {"advertiser", r->advertiser},
                                            {"text", r->text},
                                            {"sponsored", true},
                                            {"personalized", r->personalized}});
    }
    if (m != "POST") return not_allowed("POST");
    auto o = json::parse_object(req.body);
    if (!o) return error(o.error());
    const auto subject = subject_of(*o);
    if (!subject) return error(make_error_code(errc::missing_field), "subject");
    if (seg.size() == 2 && seg[1] == "activity") {
      activity a;
      a.subject = *subject;
      a.from_system = system;
      auto kind = json::get_string(*o, "kind");
      auto text = json::get_string(*o, "text");
      auto device = json::get_string(*o, "device");
      if (!kind || !text || !device) return error(make_error_code(errc::bad_field));
      a.kind = kind->value_or("");
      a.text = text->value_or("");
      a.device = device->value_or("");
      if (const auto* p = o->if_contains("purposes"); p && p->is_array())
        for (const auto& x : p->as_array())
          if (x.is_string()) a.purposes.emplace_back(x.as_string());
      if (auto r = s_.ingest(a); !r) return error(r.error(), "subject, kind and purposes");
      return json::response(202, bj::object{{"stored", a.purposes.size()}});
    }
    if (seg.size() == 2 && seg[1] == "opt-outs") {
      auto source = json::get_string(*o, "source");
      if (!source) return error(source.error());
      s_.opt_out(*subject, system, source->value_or("user"));
      return json::response(200, bj::object{{"opted_out", true}});
    }
    if (seg.size() == 2 && seg[1] == "deletions") {
      const auto erased = s_.erase(*subject);
      return json::response(200,
                            bj::object{{"erased_activity", erased},
                                       {"retained", "impression counts, without the account id"}});
    }
    if (seg.size() == 3 && seg[1] == "ai" && seg[2] == "transcripts") {
      auto t = json::get_string(*o, "transcript");
      if (!t) return error(t.error());
      if (auto r = s_.train(*subject, system, t->value_or("")); !r)
        return error(r.error(), "transcript");
      return json::response(202, bj::object{{"kept", true}});
    }
    return error(make_error_code(errc::not_found));
  }

  service& s_;
  route_options o_;
};

}  // namespace

http::handler make_handler(service& s, route_options options) {
  return router(s, std::move(options));
}

}  // namespace linksim::ads
