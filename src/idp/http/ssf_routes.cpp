// The provider as a Shared Signals transmitter (OpenID SSF 1.0): its configuration document,
// stream management, status, subjects, verification, and poll delivery (RFC 8936). The
// receiver is a registered confidential client and authenticates with HTTP Basic, as at the
// token endpoint.
#include "common.hpp"

#include "linksim/store/error.hpp"

#include <span>

namespace linksim::idp::web {
namespace {

constexpr std::string_view stream_fields[] = {"stream_id",
                                              "iss",
                                              "aud",
                                              "delivery",
                                              "events_requested",
                                              "events_supported",
                                              "events_delivered",
                                              "description",
                                              "min_verification_interval"};

class ssf_routes {
 public:
  explicit ssf_routes(service& s) : s_(s) {}

  response configuration() {
    const std::string iss = s_.settings().issuer;
    bj::array methods{ssf::poll_method, ssf::push_method};
    return allow_origin(
        json::response(200, bj::object{{"spec_version", "1_0"},
                                       {"issuer", iss},
                                       {"jwks_uri", iss + "/.well-known/jwks.json"},
                                       {"delivery_methods_supported", std::move(methods)},
                                       {"configuration_endpoint", iss + "/ssf/streams"},
                                       {"status_endpoint", iss + "/ssf/status"},
                                       {"add_subject_endpoint", iss + "/ssf/subjects/add"},
                                       {"remove_subject_endpoint", iss + "/ssf/subjects/remove"},
                                       {"verification_endpoint", iss + "/ssf/verify"},
                                       {"authorization_schemes",
                                        bj::array{bj::object{{"spec_urn", "urn:ietf:rfc:6749"}}}},
                                       {"default_subjects", "ALL"}}),
        "*");
  }

  // The receiver, by its client credentials.
  result<client> receiver(const request& req) {
    auto basic = basic_credentials(req);
    if (!basic || !*basic) return make_error_code(error::invalid_client);
    const auto& [id, secret] = **basic;
    return s_.authenticate_client(id, secret);
  }

  static response refused(const boost::system::error_code& ec, std::string_view detail = {}) {
    response r = admin_error(ec, detail);
    if (r.status == 401) r.headers.set("WWW-Authenticate", "Basic realm=\"ssf\"");
    return r;
  }

  static bj::object stream_json(const ssf_stream& s, const std::string& iss) {
    bj::array requested, supported, delivered;
    for (const auto& e : s.events_requested) {
      requested.emplace_back(e);
      if (std::find(std::begin(ssf::events_supported), std::end(ssf::events_supported), e) !=
          std::end(ssf::events_supported))
        delivered.emplace_back(e);
    }
    for (auto e : ssf::events_supported) supported.emplace_back(e);
    bj::object o{{"stream_id", s.id},
                 {"iss", iss},
                 {"aud", s.client_id},
                 {"delivery", bj::object{{"method", s.method}, {"endpoint_url", s.endpoint_url}}},
                 {"events_supported", std::move(supported)},
                 {"events_requested", std::move(requested)},
                 {"events_delivered", std::move(delivered)}};
    if (!s.description.empty()) o["description"] = s.description;
    return o;
  }

  // The fields a stream's body may hold: all but stream_id when it is created.
  static std::span<const std::string_view> known_fields(bool with_id) {
    return std::span<const std::string_view>(stream_fields).subspan(with_id ? 0 : 1);
  }

  // A stream's configuration from a request body (SSF 1.0 section 8.1.1).
  static result<ssf_stream_request> stream_request(const bj::object& o, bool with_id) {
    if (json::unknown_field(o, known_fields(with_id)))
      return make_error_code(errc::bad_field);  // named by the caller
    ssf_stream_request r;
    if (const auto* d = o.if_contains("delivery")) {
      if (!d->is_object()) return make_error_code(errc::bad_field);
      const auto& del = d->as_object();
      if (json::unknown_field(del, {"method", "endpoint_url", "authorization_header"}))
        return make_error_code(errc::bad_field);
      for (auto [key, out] : {std::pair{"method", &r.method},
                              {"endpoint_url", &r.endpoint_url},
                              {"authorization_header", &r.authorization_header}}) {
        auto v = json::get_string(del, key);
        if (!v) return v.error();
        *out = *v;
      }
    }
    if (const auto* e = o.if_contains("events_requested")) {
      if (!e->is_array()) return make_error_code(errc::bad_field);
      r.events_requested.emplace();
      for (const auto& x : e->as_array()) {
        if (!x.is_string()) return make_error_code(errc::bad_field);
        r.events_requested->emplace_back(x.as_string());
      }
    }
    auto d = json::get_string(o, "description");
    if (!d) return d.error();
    r.description = *d;
    return r;
  }

  // What a stream's configuration may hold: the detail of a refused one that names no field the
  // specification leaves out.
  static constexpr std::string_view stream_rules =
      "delivery is {method, endpoint_url, authorization_header}: method urn:ietf:rfc:8936 (poll, "
      "at the endpoint the transmitter names) or urn:ietf:rfc:8935 (push, to the receiver's "
      "http(s) endpoint_url, with an optional authorization_header of one line), fixed when the "
      "stream is made; events_requested is a list of event type URIs; description holds at most "
      "1 000 bytes; a receiver holds at most 16 streams";
  static_assert(max_ssf_streams == 16, "stream_rules names the bound");

  static std::string why(const bj::object& o, bool with_id) {
    if (auto unknown = json::unknown_field(o, known_fields(with_id))) return *unknown;
    return std::string(stream_rules);
  }

  response streams(const request& req) {
    auto c = receiver(req);
    if (!c) return refused(c.error());
    const std::string iss = s_.settings().issuer;
    if (req.method == "GET") {
      auto q = http::parse_form(req.query());
      if (!q) return refused(q.error());
      if (const auto* id = http::find_param(*q, "stream_id")) {
        auto st = s_.ssf_stream_of(*c, *id);
        if (!st) return refused(st.error(), "no stream of this receiver has that id");
        return json::response(200, stream_json(*st, iss));
      }
      bj::array all;
      for (const auto& st : s_.ssf_streams(*c)) all.push_back(stream_json(st, iss));
      return json::response(200, std::move(all));
    }
    if (req.method == "DELETE") {
      auto q = http::parse_form(req.query());
      const auto* id = q ? http::find_param(*q, "stream_id") : nullptr;
      if (!id) return refused(make_error_code(errc::missing_field), "stream_id");
      if (auto r = s_.ssf_delete(*c, *id); !r)
        return refused(r.error(), "no stream of this receiver has that id");
      return response{.status = 204};
    }
    auto body = json::parse_object(req.body);
    if (!body) return refused(body.error());
    const bool create = req.method == "POST";
    auto r = stream_request(*body, !create);
    if (!r) return refused(r.error(), why(*body, !create));
    if (create) {
      auto st = s_.ssf_create(*c, *r);
      if (!st) return refused(st.error(), stream_rules);
      return json::response(201, stream_json(*st, iss));
    }
    auto id = json::get_string(*body, "stream_id");
    if (!id || !*id || (*id)->empty())
      return refused(make_error_code(errc::missing_field), "stream_id");
    auto st = s_.ssf_update(*c, **id, *r, req.method == "PUT");
    if (!st)
      return refused(st.error(), is(st.error(), errc::not_found)
                                     ? "no stream of this receiver has that id"
                                     : stream_rules);
    return json::response(200, stream_json(*st, iss));
  }

  response status(const request& req) {
    auto c = receiver(req);
    if (!c) return refused(c.error());
    if (req.method == "GET") {
      auto q = http::parse_form(req.query());
      const auto* id = q ? http::find_param(*q, "stream_id") : nullptr;
      if (!id) return refused(make_error_code(errc::missing_field), "stream_id");
      auto st = s_.ssf_stream_of(*c, *id);
      if (!st) return refused(st.error(), "no stream of this receiver has that id");
      bj::object o{{"stream_id", st->id}, {"status", st->status}};
      if (!st->reason.empty()) o["reason"] = st->reason;
      return json::response(200, std::move(o));
    }
    auto body = json::parse_object(req.body);
    if (!body) return refused(body.error());
    if (auto unknown = json::unknown_field(*body, {"stream_id", "status", "reason"}))
      return refused(make_error_code(errc::bad_field), *unknown);
    auto id = json::get_string(*body, "stream_id");
    auto status = json::get_string(*body, "status");
    auto reason = json::get_string(*body, "reason");
    if (!id || !*id || (*id)->empty() || !status || !*status || !reason)
      return refused(make_error_code(errc::missing_field), "stream_id and status");
    auto st = s_.ssf_set_status(*c, **id, **status, reason->value_or(""));
    if (!st) return refused(st.error(), "status is enabled, paused or disabled");
    bj::object o{{"stream_id", st->id}, {"status", st->status}};
    if (!st->reason.empty()) o["reason"] = st->reason;
    return json::response(200, std::move(o));
  }

  // {"stream_id", "subject": {"format":"iss_sub","iss","sub"} or {"format":"opaque","id"}}.
  response subject(const request& req, bool add) {
    auto c = receiver(req);
    if (!c) return refused(c.error());
    auto body = json::parse_object(req.body);
    if (!body) return refused(body.error());
    if (auto unknown = json::unknown_field(*body, {"stream_id", "subject", "verified"}))
      return refused(make_error_code(errc::bad_field), *unknown);
    auto id = json::get_string(*body, "stream_id");
    const auto* subject = body->if_contains("subject");
    if (!id || !*id || !subject || !subject->is_object())
      return refused(make_error_code(errc::missing_field), "stream_id and subject");
    const auto& sub = subject->as_object();
    auto format = json::get_string(sub, "format");
    std::optional<std::string> value;
    if (format && *format == "iss_sub") {
      auto iss = json::get_string(sub, "iss");
      if (!iss || !*iss || **iss != s_.settings().issuer)
        return refused(make_error_code(errc::not_found), "iss is this provider's issuer");
      if (auto v = json::get_string(sub, "sub"); v && *v) value = **v;
    } else if (format && *format == "opaque") {
      if (auto v = json::get_string(sub, "id"); v && *v) value = **v;
    }
    const auto account = value ? parse_id(*value) : std::nullopt;
    if (!account)
      return refused(make_error_code(errc::bad_field),
                     "subject is {format: iss_sub, iss, sub} or {format: opaque, id}, naming an "
                     "account id");
    if (auto r = s_.ssf_subject(*c, **id, *account, add); !r)
      return refused(r.error(), "no stream of this receiver, or no account that granted it access");
    return response{.status = add ? 200 : 204};
  }

  response verify(const request& req) {
    auto c = receiver(req);
    if (!c) return refused(c.error());
    auto body = json::parse_object(req.body);
    if (!body) return refused(body.error());
    if (auto unknown = json::unknown_field(*body, {"stream_id", "state"}))
      return refused(make_error_code(errc::bad_field), *unknown);
    auto id = json::get_string(*body, "stream_id");
    auto state = json::get_string(*body, "state");
    if (!id || !*id || !state) return refused(make_error_code(errc::missing_field), "stream_id");
    if (auto r = s_.ssf_verify(*c, **id, state->value_or("")); !r)
      return refused(r.error(), "a stream of this receiver that is not disabled");
    return response{.status = 204};
  }

  // RFC 8936 section 2.4: {"maxEvents", "returnImmediately", "ack": [jti], "setErrs": {jti:
  // {"err", "description"}}} answered {"sets": {jti: SET}, "moreAvailable"}. With
  // `returnImmediately: false` and nothing waiting, the request is held until a SET is queued
  // for the stream or the hold (config::ssf_poll_hold) is over; `self` keeps the routes alive.
  response poll(const request& req, const std::string& stream_id,
                const std::shared_ptr<ssf_routes>& self) {
    auto c = receiver(req);
    if (!c) return refused(c.error());
    auto body = json::parse_object(req.body.empty() ? std::string_view("{}") : req.body);
    if (!body) return refused(body.error());
    if (auto unknown =
            json::unknown_field(*body, {"maxEvents", "returnImmediately", "ack", "setErrs"}))
      return refused(make_error_code(errc::bad_field), *unknown);
    ssf_poll_request p;
    auto max = json::get_int(*body, "maxEvents");
    if (!max || (*max && (**max < 0 || **max > 1000)))
      return refused(make_error_code(errc::bad_field), "maxEvents is 0 to 1000");
    if (*max) p.max_events = static_cast<std::size_t>(**max);
    // RFC 8936: returnImmediately defaults to false.
    p.return_immediately = false;
    if (const auto* ri = body->if_contains("returnImmediately")) {
      if (!ri->is_bool()) return refused(make_error_code(errc::bad_field), "returnImmediately");
      p.return_immediately = ri->as_bool();
    }
    if (const auto* ack = body->if_contains("ack")) {
      if (!ack->is_array()) return refused(make_error_code(errc::bad_field), "ack");
      for (const auto& j : ack->as_array()) {
        if (!j.is_string()) return refused(make_error_code(errc::bad_field), "ack");
        p.ack.emplace_back(j.as_string());
      }
    }
    if (const auto* errs = body->if_contains("setErrs")) {
      if (!errs->is_object()) return refused(make_error_code(errc::bad_field), "setErrs");
      for (const auto& [jti, e] : errs->as_object()) {
        const auto* err = e.is_object() ? e.as_object().if_contains("err") : nullptr;
        if (!err || !err->is_string())
          return refused(make_error_code(errc::bad_field), "setErrs: {jti: {err, description}}");
        p.errors.emplace_back(std::string(jti), std::string(err->as_string()));
      }
    }
    const auto seen = s_.ssf_generation();
    auto a = s_.ssf_poll(*c, stream_id, p);
    if (!a) return refused(a.error(), "no stream of this receiver has that id");
    if (!a->sets.empty() || p.return_immediately || s_.settings().ssf_poll_hold.count() <= 0)
      return answer(*a);
    // Acknowledgements are settled: the later looks carry none.
    auto d = std::make_shared<http::deferred>();
    d->hold = s_.settings().ssf_poll_hold;
    d->ready = [self, receiver = *c, stream_id, max = p.max_events,
                seen = seen](bool last) mutable -> std::optional<response> {
      const auto now = self->s_.ssf_generation();
      if (!last && now == seen) return std::nullopt;  // nothing queued since the last look
      seen = now;
      try {
        auto again = self->s_.ssf_poll(receiver, stream_id, {.max_events = max});
        if (!again) return refused(again.error(), "no stream of this receiver has that id");
        if (again->sets.empty() && !last) return std::nullopt;
        return answer(*again);
      } catch (const store::error&) {
        return json::storage_unavailable();
      }
    };
    response held;
    held.later = std::move(d);
    return held;
  }

  static response answer(const ssf_poll_answer& a) {
    bj::object sets;
    for (const auto& [jti, set] : a.sets) sets[jti] = set;
    return no_store(json::response(
        200, bj::object{{"sets", std::move(sets)}, {"moreAvailable", a.more_available}}));
  }

 private:
  service& s_;
};

}  // namespace

void add_ssf_routes(http::router& r, service& s) {
  auto self = std::make_shared<ssf_routes>(s);
  r.on("GET", "/.well-known/ssf-configuration",
       [self](const request&, const route_match&) { return self->configuration(); });
  for (const char* m : {"GET", "POST", "PATCH", "PUT", "DELETE"})
    r.on(m, "/ssf/streams",
         [self](const request& req, const route_match&) { return self->streams(req); });
  for (const char* m : {"GET", "POST"})
    r.on(m, "/ssf/status",
         [self](const request& req, const route_match&) { return self->status(req); });
  r.on("POST", "/ssf/subjects/add",
       [self](const request& req, const route_match&) { return self->subject(req, true); });
  r.on("POST", "/ssf/subjects/remove",
       [self](const request& req, const route_match&) { return self->subject(req, false); });
  r.on("POST", "/ssf/verify",
       [self](const request& req, const route_match&) { return self->verify(req); });
  r.on("POST", "/ssf/poll/{stream}", [self](const request& req, const route_match& m) {
    return self->poll(req, std::string(m["stream"]), self);
  });
}

}  // namespace linksim::idp::web
