// The ad platform's HTTP routes: each parses its input, calls the service and answers JSON.
#include "linksim/ads/routes.hpp"

#include "linksim/ads/service.hpp"
#include "linksim/common/crypto.hpp"
#include "linksim/common/json.hpp"
#include "linksim/http/router.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <memory>

namespace linksim::ads {
namespace bj = boost::json;
using http::request;
using http::response;
using http::with_challenge;

http::error_info describe(const boost::system::error_code& ec) {
  if (ec.category() == error_category()) {
    switch (static_cast<error>(ec.value())) {
      case error::partner_unauthorized:
        return {401, "unauthorized", "Bearer realm=\"linksim-ads\""};
      case error::outside_contract:
        return {403, "outside_contract"};
      case error::sale_refused:
        return {403, "sale_refused"};
    }
  }
  // linksim's errors answer as on the other services; one that nothing describes is a 500.
  if (auto shared = http::describe_shared(ec)) return *shared;
  return {500, "internal_error"};
}

namespace {

response json_error(const boost::system::error_code& ec, std::string_view detail = {}) {
  const auto info = describe(ec);
  bj::object err{{"code", info.code}, {"message", ec.message()}};
  if (!detail.empty()) err["detail"] = detail;
  return with_challenge(json::response(info.status, bj::object{{"error", std::move(err)}}), info);
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

// Partners, each with its key: aggregate reports, audiences, and offers to buy (always refused).
class partner_routes {
 public:
  explicit partner_routes(service& s) : s_(s) {}

  // The campaign a partner's request names in its query.
  static result<std::string> campaign_of(const request& req) {
    auto q = http::parse_form(req.query());
    if (!q) return q.error();
    const std::string* c = http::find_param(*q, "campaign");
    if (!c || c->empty()) return make_error_code(errc::missing_field);
    return *c;
  }

  response report(const request& req) {
    auto c = campaign_of(req);
    if (!c) return json_error(c.error(), is(c.error(), errc::missing_field) ? "campaign" : "");
    auto r = s_.report(bearer(req), *c);
    if (!r) return json_error(r.error());
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

  response audience(const request& req) {
    auto c = campaign_of(req);
    if (!c) return json_error(c.error(), is(c.error(), errc::missing_field) ? "campaign" : "");
    auto r = s_.audience(bearer(req), *c);
    if (!r) return json_error(r.error());
    bj::array ids;
    for (auto id : *r) ids.emplace_back(std::to_string(id));
    return json::response(200, bj::object{{"accounts", std::move(ids)}});
  }

  response purchase(const request& req) {
    if (auto q = http::parse_form(req.query()); !q) return json_error(q.error());
    auto o = json::parse_object(req.body);
    if (!o) return json_error(o.error());
    if (auto unknown = json::unknown_field(*o, {"campaign", "price_cents"}))
      return json_error(make_error_code(errc::bad_field), *unknown);
    auto campaign = json::get_string(*o, "campaign");
    auto price = json::get_int(*o, "price_cents");
    if (!campaign || !price) return json_error(make_error_code(errc::bad_field));
    if (!*campaign || (*campaign)->empty() || !*price || **price <= 0)
      return json_error(make_error_code(errc::missing_field), "campaign and price_cents > 0");
    auto r = s_.buy(bearer(req), **campaign, **price);
    if (!r) return json_error(r.error());
    bj::array ids;
    for (auto id : r->accounts) ids.emplace_back(std::to_string(id));
    return json::response(
        200, bj::object{{"accounts", std::move(ids)}, {"price_cents", r->price_cents}});
  }

 private:
  service& s_;
};

// The company's own systems, each with its token: activity, opt-outs, deletions, AI transcripts
// and sponsored content.
class company_routes {
 public:
  explicit company_routes(service& s) : s_(s) {}

  struct call {
    std::string system;
    std::int64_t subject = 0;
    bj::object body;
  };
  // The calling system, and the subject of a POST's body.
  result<call> caller(const request& req, std::span<const std::string_view> known,
                      std::string* detail) {
    call c{s_.system_of(bearer(req)), 0, {}};
    if (c.system.empty()) return make_error_code(errc::admin_unauthorized);
    auto o = json::parse_object(req.body);
    if (!o) return o.error();
    if (auto unknown = json::unknown_field(*o, known)) {
      *detail = std::move(*unknown);
      return make_error_code(errc::bad_field);
    }
    const auto subject = subject_of(*o);
    if (!subject) {
      *detail = "subject";
      return make_error_code(errc::missing_field);
    }
    c.subject = *subject;
    c.body = std::move(*o);
    return c;
  }

  response sponsored(const request& req) {
    const std::string system = s_.system_of(bearer(req));
    if (system.empty()) return json_error(make_error_code(errc::admin_unauthorized));
    auto q = http::parse_form(req.query());
    if (!q) return json_error(q.error());
    const std::string* subject = http::find_param(*q, "subject");
    const std::string* surface = http::find_param(*q, "surface");
    const std::string* personalize = http::find_param(*q, "personalize");
    const auto id = subject ? http::parse_id(*subject) : std::nullopt;
    if (!id) return json_error(make_error_code(errc::missing_field), "subject");
    auto r = s_.sponsored_for(*id, surface ? *surface : system, system,
                              !personalize || *personalize != "0");
    if (!r) return json_error(r.error());
    return json::response(200, bj::object{{"campaign", r->campaign},
                                          {"advertiser", r->advertiser},
                                          {"text", r->text},
                                          {"sponsored", true},
                                          {"personalized", r->personalized}});
  }

  response activity_in(const call& c) {
    activity a;
    a.subject = c.subject;
    a.from_system = c.system;
    auto kind = json::get_string(c.body, "kind");
    auto text = json::get_string(c.body, "text");
    auto device = json::get_string(c.body, "device");
    if (!kind || !text || !device) return json_error(make_error_code(errc::bad_field));
    a.kind = kind->value_or("");
    a.text = text->value_or("");
    a.device = device->value_or("");
    if (const auto* p = c.body.if_contains("purposes"); p && p->is_array())
      for (const auto& x : p->as_array())
        if (x.is_string()) a.purposes.emplace_back(x.as_string());
    if (auto r = s_.ingest(a); !r) return json_error(r.error(), "subject, kind and purposes");
    return json::response(202, bj::object{{"stored", a.purposes.size()}});
  }

  response opt_out(const call& c) {
    auto source = json::get_string(c.body, "source");
    if (!source) return json_error(source.error());
    s_.opt_out(c.subject, c.system, source->value_or("user"));
    return json::response(200, bj::object{{"opted_out", true}});
  }

  response deletion(const call& c) {
    const auto erased = s_.erase(c.subject);
    return json::response(200,
                          bj::object{{"erased_activity", erased},
                                     {"retained", "impression counts, without the account id"}});
  }

  response transcript(const call& c) {
    auto t = json::get_string(c.body, "transcript");
    if (!t) return json_error(t.error());
    if (auto r = s_.train(c.subject, c.system, t->value_or("")); !r)
      return json_error(r.error(), "transcript");
    return json::response(202, bj::object{{"kept", true}});
  }

 private:
  service& s_;
};

}  // namespace

http::handler make_handler(service& s, const route_options& options) {
  auto r = std::make_shared<http::router>(
      "ads",
      [](const boost::system::error_code& ec, std::string_view path) {
        return json_error(ec, path.empty() ? std::string() : "no route for " + std::string(path));
      },
      options.log);
  using http::route_match;
  r->on("GET", "/healthz", [](const request&, const route_match&) {
    return json::response(200, bj::object{{"status", "ok"}});
  });
  auto partners = std::make_shared<partner_routes>(s);
  r->on("GET", "/v1/partners/reports",
        [partners](const request& req, const route_match&) { return partners->report(req); });
  r->on("GET", "/v1/partners/audiences",
        [partners](const request& req, const route_match&) { return partners->audience(req); });
  r->on("POST", "/v1/partners/purchases",
        [partners](const request& req, const route_match&) { return partners->purchase(req); });
  auto company = std::make_shared<company_routes>(s);
  r->on("GET", "/v1/sponsored",
        [company](const request& req, const route_match&) { return company->sponsored(req); });
  // Each body: the subject and the fields its endpoint reads.
  auto post = [&](std::string_view pattern,
                  response (company_routes::*f)(const company_routes::call&),
                  const std::vector<std::string_view>& fields) {
    r->on("POST", pattern, [company, f, fields](const request& req, const route_match&) {
      std::string detail;
      auto c = company->caller(req, fields, &detail);
      if (!c) return json_error(c.error(), detail);
      return ((*company).*f)(*c);
    });
  };
  post("/v1/activity", &company_routes::activity_in,
       {"subject", "kind", "text", "device", "purposes"});
  post("/v1/opt-outs", &company_routes::opt_out, {"subject", "source"});
  post("/v1/deletions", &company_routes::deletion, {"subject"});
  post("/v1/ai/transcripts", &company_routes::transcript, {"subject", "transcript"});
  // What the platform holds about an account, for scenarios and tests.
  r->guard_prefix("/admin",
                  http::bearer_guard(options.admin_token,
                                     json_error(make_error_code(errc::admin_unauthorized))));
  r->on("GET", "/admin/accounts/{id}", [&s](const request&, const route_match& m) {
    const auto id = http::parse_id(m["id"]);
    if (!id) return json_error(make_error_code(errc::not_found), "account ids are numbers");
    const auto h = s.held_about(*id);
    return json::response(200, bj::object{{"activity", h.activity},
                                          {"impressions", h.impressions},
                                          {"opted_out", h.opted_out}});
  });
  return [r](const request& req) { return (*r)(req); };
}

}  // namespace linksim::ads
