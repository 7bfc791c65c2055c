// Security Event Tokens as the dependent service receives them over Shared Signals. The input is
// tried as a pushed body, and, when it is a JSON object, as the claims of a SET signed with the
// key the service trusts, so that the fuzzer reaches the claim checks and the events behind the
// signature. The wire classifier reads the same bytes as a push and as a poll's answer.
#include "common.hpp"

#include "linksim/common/jose.hpp"
#include "linksim/common/json.hpp"
#include "linksim/evidence/wire.hpp"
#include "linksim/store/sqlite.hpp"
#include "linksim/threads_sim/service.hpp"

#include <boost/json/array.hpp>

namespace {

using namespace linksim;

constexpr std::string_view idp = "http://idp.fuzz";

// The transmitter's configuration, a key set holding the fuzzer's key, and the receiver's
// stream; the provider is unreachable for anything else.
class transmitter final : public http::transport {
 public:
  explicit transmitter(const jose::signing_key& k) : key_(k) {}
  result<http::response> send(http::request req) override {
    const std::string& t = req.target;
    const std::string base(idp);
    if (t == base + "/.well-known/ssf-configuration")
      return json::response(200, boost::json::object{{"issuer", base},
                                                     {"jwks_uri", base + "/jwks"},
                                                     {"configuration_endpoint", base + "/ssf"}});
    if (t == base + "/jwks")
      return json::response(200,
                            boost::json::object{{"keys", boost::json::array{jose::jwk(key_)}}});
    if (t == base + "/ssf" && req.method == "GET") return json::response(200, boost::json::array{});
    if (t == base + "/ssf") {
      // The header the service gives its stream: what the transmitter sends with each SET.
      if (auto o = json::parse_object(req.body))
        if (const auto* d = o->if_contains("delivery"); d && d->is_object())
          if (const auto* h = d->as_object().if_contains("authorization_header");
              h && h->is_string())
            authorization = std::string(h->as_string());
      return json::response(201, boost::json::object{{"stream_id", "s1"}});
    }
    return make_error_code(errc::upstream_unavailable);
  }

  std::string authorization;

 private:
  const jose::signing_key& key_;
};

struct receiver {
  manual_clock clock{default_epoch};
  seeded_random random{7};
  evidence::null_recorder recorder;
  jose::signing_key key = jose::signing_key::generate(random);
  transmitter to_idp{key};
  store::database db{":memory:"};
  std::unique_ptr<threads_sim::service> svc;

  receiver() {
    threads_sim::config c;
    c.base_url = "http://threads.fuzz";
    c.idp_url = std::string(idp);
    c.client_id = "client";
    c.client_secret = "secret";
    c.changes = threads_sim::channel::ssf_push;
    svc = std::make_unique<threads_sim::service>(db, clock, random, recorder, to_idp, c);
    if (!svc->connect_signals() || to_idp.authorization.empty()) abort();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static receiver r;
  const std::string_view text = fuzz::as_text(data, size);
  // Without the stream's header nothing is read.
  if (r.svc->receive_set(text, "")) abort();
  (void)r.svc->receive_set(text, r.to_idp.authorization);
  if (auto claims = json::parse_object(text)) {
    const std::string set = jose::sign_jwt(r.key, *claims, "secevent+jwt");
    (void)r.svc->receive_set(set, r.to_idp.authorization);
  }
  const evidence::wire_classifier wire("k");
  http::request push;
  push.method = "POST";
  push.target = "/ssf/events";
  push.headers.set("Content-Type", "application/secevent+jwt");
  push.body = std::string(text);
  (void)wire.flows_of({.time = r.clock.now(), .from = "idp", .to = "threads", .request = &push});
  http::request poll;
  poll.method = "POST";
  poll.target = "/ssf/poll/s1";
  http::response answer;
  answer.headers.set("Content-Type", "application/json");
  answer.body = std::string(text);
  (void)wire.flows_of({.time = r.clock.now(),
                       .from = "threads",
                       .to = "idp",
                       .request = &poll,
                       .response = &answer});
  return 0;
}
