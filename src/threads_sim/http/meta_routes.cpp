// What the provider calls: the webhook subscription handshake and receiver, the Shared Signals
// push endpoint, and Meta's deauthorize, data-deletion and deletion-status callbacks.
#include "common.hpp"

namespace linksim::threads_sim::web {
namespace {

class meta_routes {
 public:
  explicit meta_routes(service& s) : s_(s) {}

  response handshake(const request& req) {
    auto q = http::parse_form(req.query());
    if (!q) return json_error(q.error());
    auto c = s_.handshake(*q);
    if (!c) return json_error(c.error());
    response r;
    r.headers.set("Content-Type", "text/plain");
    r.body = *c;
    return r;
  }

  response webhook(const request& req) {
    auto out = s_.receive_webhook(req.body, req.headers.get("X-Hub-Signature-256"));
    if (!out) return json_error(out.error());
    json::scratch memory;
    return json::response(200, bj::object{{{"applied", out->applied},
                                           {"duplicates", out->duplicates},
                                           {"stale", out->stale},
                                           {"ignored", out->ignored}},
                                          memory.storage()});
  }

  // RFC 8935: one SET per request; 202 when it is taken, 400 with {"err","description"} when it
  // is refused (the transmitter does not send it again), 401 without the stream's header.
  response signal(const request& req) {
    const auto type = req.headers.get("Content-Type");
    if (type.substr(0, type.find(';')) != "application/secevent+jwt")
      return json_error(make_error_code(errc::unsupported_media_type),
                        "a SET is sent as application/secevent+jwt");
    auto out = s_.receive_set(req.body, req.headers.get("Authorization"));
    if (!out) {
      const auto info = describe(out.error());
      response r = json::response(
          info.status, bj::object{{"err", info.code}, {"description", out.error().message()}});
      return with_challenge(std::move(r), info);
    }
    response r;
    r.status = 202;
    return r;
  }

  result<std::string> signed_request_of(const request& req) {
    auto f = http::parse_form(req.body);
    if (!f) return f.error();
    const auto* v = http::find_param(*f, "signed_request");
    if (!v) return make_error_code(errc::missing_field);
    return *v;
  }

  response deauthorize(const request& req) {
    auto sr = signed_request_of(req);
    if (!sr) return json_error(sr.error());
    if (auto d = s_.deauthorize(*sr); !d) return json_error(d.error());
    return json::response(200, bj::object{{"status", "ok"}});
  }

  response data_deletion(const request& req) {
    auto sr = signed_request_of(req);
    if (!sr) return json_error(sr.error());
    auto code = s_.data_deletion(*sr);
    if (!code) return json_error(code.error());
    // Meta's documented answer: where to check the status, and the confirmation code.
    return json::response(
        200, bj::object{{"url", s_.settings().base_url + "/ig/deletion-status?code=" + *code},
                        {"confirmation_code", *code}});
  }

  response deletion_status(const request& req) {
    auto q = http::parse_form(req.query());
    if (!q) return json_error(q.error());
    auto n = s_.deletion_status(param(*q, "code"));
    if (!n) return json_error(n.error());
    return json::response(200, bj::object{{"status", "complete"}, {"profiles_deleted", *n}});
  }

  service& s_;
};

}  // namespace

void add_meta_routes(http::router& r, service& s) {
  auto self = std::make_shared<meta_routes>(s);
  auto on = [&](std::string_view method, std::string_view pattern,
                response (meta_routes::*f)(const request&)) {
    r.on(method, pattern,
         [self, f](const request& req, const route_match&) { return ((*self).*f)(req); });
  };
  on("GET", "/webhooks/instagram", &meta_routes::handshake);
  on("POST", "/webhooks/instagram", &meta_routes::webhook);
  on("POST", "/ssf/events", &meta_routes::signal);
  on("POST", "/ig/deauthorize", &meta_routes::deauthorize);
  on("POST", "/ig/data-deletion", &meta_routes::data_deletion);
  on("GET", "/ig/deletion-status", &meta_routes::deletion_status);
}

}  // namespace linksim::threads_sim::web
