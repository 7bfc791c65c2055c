// The provider as a Shared Signals transmitter over real sockets: the configuration document,
// stream management with client authentication, SETs made in the transaction of each change
// and verified against the JWK Set, poll delivery with acknowledgements (RFC 8936), push
// delivery with retries (RFC 8935), paused streams, subjects and verification.
#include "support.hpp"

#include "linksim/idp/oidc.hpp"
#include "linksim/idp/service.hpp"
#include "linksim/net/server.hpp"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <thread>

namespace linksim {
namespace {

using namespace testing;

const std::string verifier = std::string(43, 's') + "-._~";

struct Ssf : ::testing::Test {
  idp_server idp;
  idp_server::app_client app = idp.client();
  std::string alice = idp.account("alice");
  browser b;

  explicit Ssf(milliseconds poll_hold = 4s, idp::provider_rules rules = {})
      : idp(1h, poll_hold, rules) {
    // alice authorizes the app: its streams hear of her from then on.
    auto r = idp.redeem(app, query_value(idp.sign_in(b, app, "alice", verifier), "code"), verifier);
    EXPECT_EQ(r.status, 200) << r.body;
  }

  std::vector<http::header_field> auth(const idp_server::app_client& as) {
    return {{"Authorization", "Basic " + base64_encode(as_bytes(as.id + ":" + as.secret))}};
  }
  http::response call(const std::string& method, const std::string& path,
                      const std::string& body = {}) {
    return idp.request(method, path, body, body.empty() ? "" : "application/json", auth(app));
  }
  std::string create(const std::string& events) {
    auto r =
        call("POST", "/ssf/streams",
             R"({"delivery":{"method":"urn:ietf:rfc:8936"},"events_requested":[)" + events + "]}");
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(json_of(r).at("stream_id").as_string());
  }
  // Polls, at once unless `body` says otherwise; each SET verified against the published keys.
  // Returns jti -> claims.
  std::map<std::string, boost::json::object> poll(const std::string& stream,
                                                  const std::string& body = "{}",
                                                  bool* more = nullptr) {
    auto o = json::parse_object(body);
    EXPECT_TRUE(o) << body;
    if (o && !o->contains("returnImmediately")) (*o)["returnImmediately"] = true;
    auto r = call("POST", "/ssf/poll/" + stream, o ? json::serialize(*o) : body);
    EXPECT_EQ(r.status, 200) << r.body;
    const auto answer = json_of(r);
    if (more) *more = answer.at("moreAvailable").as_bool();
    const auto jwks = json_of(idp.request("GET", "/.well-known/jwks.json"));
    std::map<std::string, boost::json::object> out;
    for (const auto& [jti, set] : answer.at("sets").as_object()) {
      const std::string token(set.as_string());
      auto claims = idp::oidc::verify_jwt(token, jwks);
      EXPECT_TRUE(claims) << token;
      if (!claims) continue;
      const auto header = base64url_decode(token.substr(0, token.find('.')));
      EXPECT_NE(std::string(as_chars(*header)).find(R"("typ":"secevent+jwt")"), std::string::npos);
      EXPECT_EQ(claims->at("jti").as_string(), jti);
      EXPECT_EQ(claims->at("iss").as_string(), idp.base);
      EXPECT_EQ(claims->at("aud").as_string(), app.id);
      out.emplace(std::string(jti), *claims);
    }
    return out;
  }
  static std::string type_of(const boost::json::object& claims) {
    const auto& events = claims.at("events").as_object();
    return events.empty() ? "" : std::string(events.begin()->key());
  }
};

const std::string all_events =
    R"("https://schemas.openid.net/secevent/risc/event-type/identifier-changed",)"
    R"("https://schemas.openid.net/secevent/risc/event-type/account-purged",)"
    R"("https://schemas.openid.net/secevent/risc/event-type/account-disabled",)"
    R"("https://schemas.openid.net/secevent/risc/event-type/account-enabled",)"
    R"("https://schemas.openid.net/secevent/caep/event-type/session-revoked")";

TEST_F(Ssf, TheConfigurationNamesTheEndpointsAndBothDeliveries) {
  auto r = idp.request("GET", "/.well-known/ssf-configuration");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto c = json_of(r);
  EXPECT_EQ(c.at("issuer").as_string(), idp.base);
  EXPECT_EQ(c.at("spec_version").as_string(), "1_0");
  EXPECT_EQ(c.at("jwks_uri").as_string(), idp.base + "/.well-known/jwks.json");
  EXPECT_EQ(c.at("configuration_endpoint").as_string(), idp.base + "/ssf/streams");
  const auto& methods = c.at("delivery_methods_supported").as_array();
  ASSERT_EQ(methods.size(), 2u);
  EXPECT_EQ(methods[0].as_string(), "urn:ietf:rfc:8936");  // poll
  EXPECT_EQ(methods[1].as_string(), "urn:ietf:rfc:8935");  // push
}

TEST_F(Ssf, StreamsBelongToTheReceiverThatAuthenticated) {
  // No credentials, a wrong secret: 401.
  EXPECT_EQ(idp.request("GET", "/ssf/streams").status, 401);
  auto wrong = app;
  wrong.secret = "not-the-secret";
  EXPECT_EQ(idp.request("GET", "/ssf/streams", "", "", auth(wrong)).status, 401);
  const std::string stream = create(all_events);
  auto r = call("GET", "/ssf/streams?stream_id=" + stream);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto s = json_of(r);
  EXPECT_EQ(s.at("aud").as_string(), app.id);
  EXPECT_EQ(s.at("delivery").at("endpoint_url").as_string(), idp.base + "/ssf/poll/" + stream);
  EXPECT_EQ(s.at("events_delivered").as_array().size(), 5u);
  // Another receiver sees no such stream, and cannot poll it.
  const auto other = idp.client("http://127.0.0.1:9/other");
  EXPECT_EQ(idp.request("GET", "/ssf/streams?stream_id=" + stream, "", "", auth(other)).status,
            404);
  EXPECT_EQ(
      idp.request("POST", "/ssf/poll/" + stream, "{}", "application/json", auth(other)).status,
      404);
  // Bodies: an unknown field is named; push delivery is not offered.
  r = call("POST", "/ssf/streams", R"({"delivery":{"method":"urn:ietf:rfc:8936"},"colour":1})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("colour"), std::string::npos) << r.body;
  r = call("POST", "/ssf/streams", R"({"delivery":{"method":"urn:ietf:rfc:8935"}})");
  EXPECT_EQ(r.status, 400) << r.body;  // a push stream needs the receiver's endpoint
  r = call("POST", "/ssf/streams",
           R"({"delivery":{"method":"urn:ietf:rfc:8936","endpoint_url":"http://rp.example/e"}})");
  EXPECT_EQ(r.status, 400) << r.body;  // a poll stream's endpoint is the transmitter's
  // The delivery method is fixed when the stream is made; the description may change.
  r = call(
      "PATCH", "/ssf/streams",
      R"({"stream_id":")" + stream +
          R"(","delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"http://rp.example/e"}})");
  EXPECT_EQ(r.status, 400) << r.body;
  r = call("PATCH", "/ssf/streams", R"({"stream_id":")" + stream + R"(","description":"mine"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json_of(r).at("description").as_string(), "mine");
  EXPECT_EQ(json_of(r).at("delivery").at("method").as_string(), "urn:ietf:rfc:8936");
  // An event type is a URI: one with a space is refused.
  r = call("POST", "/ssf/streams", R"({"events_requested":["a b"]})");
  EXPECT_EQ(r.status, 400) << r.body;
  // Deleted, it is gone.
  EXPECT_EQ(call("DELETE", "/ssf/streams?stream_id=" + stream).status, 204);
  EXPECT_EQ(call("GET", "/ssf/streams?stream_id=" + stream).status, 404);
}

TEST_F(Ssf, ChangesBecomeSignedEventsUntilAcknowledged) {
  const std::string stream = create(all_events);
  // Verification: the stream itself is the subject.
  ASSERT_EQ(
      call("POST", "/ssf/verify", R"({"stream_id":")" + stream + R"(","state":"s-1"})").status,
      204);
  auto sets = poll(stream);
  ASSERT_EQ(sets.size(), 1u);
  auto [jti, v] = *sets.begin();
  EXPECT_EQ(type_of(v), "https://schemas.openid.net/secevent/ssf/event-type/verification");
  EXPECT_EQ(v.at("sub_id").at("id").as_string(), stream);
  EXPECT_EQ(v.at("events").as_object().begin()->value().at("state").as_string(), "s-1");
  // Not acknowledged, it comes again; acknowledged, never.
  EXPECT_EQ(poll(stream).count(jti), 1u);
  EXPECT_TRUE(poll(stream, R"({"ack":[")" + jti + R"("]})").empty());
  EXPECT_TRUE(poll(stream).empty());

  // A rename: identifier-changed, about alice as iss and sub, with the new username.
  ASSERT_EQ(idp.admin("PATCH", "/admin/accounts/" + alice, R"({"username":"alice.new"})").status,
            200);
  sets = poll(stream);
  ASSERT_EQ(sets.size(), 1u);
  const auto& renamed = sets.begin()->second;
  EXPECT_EQ(type_of(renamed),
            "https://schemas.openid.net/secevent/risc/event-type/identifier-changed");
  EXPECT_EQ(renamed.at("sub_id").at("format").as_string(), "iss_sub");
  EXPECT_EQ(renamed.at("sub_id").at("sub").as_string(), alice);
  EXPECT_EQ(renamed.at("events").as_object().begin()->value().at("new-value").as_string(),
            "alice.new");
  // A name change has no standard event: nothing more.
  ASSERT_EQ(idp.admin("PATCH", "/admin/accounts/" + alice, R"({"name":"Alice"})").status, 200);
  EXPECT_EQ(poll(stream, R"({"ack":[")" + sets.begin()->first + R"("]})").size(), 0u);

  // Paused, the stream keeps what happens; enabled again, it hands it over.
  ASSERT_EQ(
      call("POST", "/ssf/status", R"({"stream_id":")" + stream + R"(","status":"paused"})").status,
      200);
  ASSERT_EQ(idp.admin("PATCH", "/admin/accounts/" + alice, R"({"status":"suspended"})").status,
            200);
  EXPECT_TRUE(poll(stream).empty());
  ASSERT_EQ(
      call("POST", "/ssf/status", R"({"stream_id":")" + stream + R"(","status":"enabled"})").status,
      200);
  sets = poll(stream);
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(type_of(sets.begin()->second),
            "https://schemas.openid.net/secevent/risc/event-type/account-disabled");
  poll(stream, R"({"ack":[")" + sets.begin()->first + R"("]})");

  // maxEvents, and moreAvailable while some wait.
  ASSERT_EQ(idp.admin("PATCH", "/admin/accounts/" + alice, R"({"status":"active"})").status, 200);
  ASSERT_EQ(idp.admin("PATCH", "/admin/accounts/" + alice, R"({"username":"alice.3"})").status,
            200);
  bool more = false;
  EXPECT_EQ(poll(stream, R"({"maxEvents":1})", &more).size(), 1u);
  EXPECT_TRUE(more);
  sets = poll(stream, R"({"maxEvents":5})", &more);
  EXPECT_EQ(sets.size(), 2u);
  EXPECT_FALSE(more);
  std::string acks;
  for (const auto& [j, c] : sets) acks += (acks.empty() ? "\"" : ",\"") + j + "\"";
  EXPECT_TRUE(poll(stream, R"({"ack":[)" + acks + "]}").empty());

  // The account deleted: account-purged, told while the grant still stood.
  ASSERT_EQ(idp.admin("DELETE", "/admin/accounts/" + alice).status, 200);
  sets = poll(stream);
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(type_of(sets.begin()->second),
            "https://schemas.openid.net/secevent/risc/event-type/account-purged");
}

struct SsfLongHold : Ssf {
  SsfLongHold() : Ssf(60s) {}
};

// RFC 8936 long polling: with nothing waiting, the request is held, and a change answers it
// then, not when the minute's hold is over.
TEST_F(SsfLongHold, ALongPollIsAnsweredWhenASetIsQueued) {
  const std::string stream = create(all_events);
  auto held = std::async(std::launch::async, [&] {
    return call("POST", "/ssf/poll/" + stream, R"({"returnImmediately":false})");
  });
  // Nothing is queued, so the provider holds the request.
  for (const auto until = std::chrono::steady_clock::now() + 30s;
       idp.host.requests_held() == 0 && std::chrono::steady_clock::now() < until;)
    std::this_thread::yield();
  ASSERT_EQ(idp.host.requests_held(), 1u);
  ASSERT_EQ(held.wait_for(0s), std::future_status::timeout);
  ASSERT_EQ(idp.admin("PATCH", "/admin/accounts/" + alice, R"({"username":"alice.held"})").status,
            200);
  ASSERT_EQ(held.wait_for(30s), std::future_status::ready);
  const auto r = held.get();
  ASSERT_EQ(r.status, 200) << r.body;
  const auto answer = json_of(r);
  ASSERT_EQ(answer.at("sets").as_object().size(), 1u) << r.body;
  const auto claims =
      idp::oidc::verify_jwt(answer.at("sets").as_object().begin()->value().as_string(),
                            json_of(idp.request("GET", "/.well-known/jwks.json")));
  ASSERT_TRUE(claims);
  EXPECT_EQ(type_of(*claims),
            "https://schemas.openid.net/secevent/risc/event-type/identifier-changed");
  EXPECT_EQ(idp.host.requests_held(), 0u);
}

struct SsfShortHold : Ssf {
  SsfShortHold() : Ssf(200ms) {}
};

// A long poll that nothing answers ends with its hold, empty; acknowledgements it carried are
// settled at once; a short poll is never held; and `returnImmediately` must be a boolean.
TEST_F(SsfShortHold, ALongPollEndsEmptyWithItsHold) {
  const std::string stream = create(all_events);
  ASSERT_EQ(
      call("POST", "/ssf/verify", R"({"stream_id":")" + stream + R"(","state":"s-1"})").status,
      204);
  const auto sets = poll(stream);
  ASSERT_EQ(sets.size(), 1u);
  // The default is a long poll (RFC 8936 section 2.4).
  auto r = call("POST", "/ssf/poll/" + stream, R"({"ack":[")" + sets.begin()->first + R"("]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(json_of(r).at("sets").as_object().empty()) << r.body;
  EXPECT_FALSE(json_of(r).at("moreAvailable").as_bool());
  EXPECT_TRUE(poll(stream).empty());  // the acknowledgement held
  EXPECT_EQ(idp.host.requests_held(), 0u);
  EXPECT_EQ(call("POST", "/ssf/poll/" + stream, R"({"returnImmediately":"no"})").status, 400);
}

// A new password ends the account's logins on the provider, and a receiver that asked for CAEP's
// credential-change hears of it.
TEST_F(Ssf, APasswordChangeIsACredentialChangeEvent) {
  const std::string stream =
      create(R"("https://schemas.openid.net/secevent/caep/event-type/credential-change")");
  // Refused bodies change nothing.
  EXPECT_EQ(
      idp.admin("PUT", "/admin/accounts/" + alice + "/password", R"({"password":"short"})").status,
      400);
  EXPECT_EQ(idp.admin("PUT", "/admin/accounts/" + alice + "/password",
                      R"({"password":"long enough","colour":1})")
                .status,
            400);
  EXPECT_EQ(idp.admin("PUT", "/admin/accounts/1/password", R"({"password":"long enough"})").status,
            404);
  EXPECT_TRUE(poll(stream).empty());
  EXPECT_TRUE(idp.host.service().authenticate_user("alice", "pw-alice-123"));

  auto r = idp.admin("PUT", "/admin/accounts/" + alice + "/password",
                     R"({"password":"a new password"})");
  ASSERT_EQ(r.status, 204) << r.body;
  auto sets = poll(stream);
  ASSERT_EQ(sets.size(), 1u);
  const auto& claims = sets.begin()->second;
  EXPECT_EQ(type_of(claims),
            "https://schemas.openid.net/secevent/caep/event-type/credential-change");
  const auto& event = claims.at("events").as_object().begin()->value().as_object();
  EXPECT_EQ(event.at("credential_type").as_string(), "password");
  EXPECT_EQ(event.at("change_type").as_string(), "update");
  EXPECT_EQ(claims.at("sub_id").at("sub").as_string(), alice);
  // The old password no longer logs in, the new one does, and the browser that was logged in
  // must log in again.
  EXPECT_FALSE(idp.host.service().authenticate_user("alice", "pw-alice-123"));
  EXPECT_TRUE(idp.host.service().authenticate_user("alice", "a new password"));
  auto again = b.get(idp.authorize_url(app, challenge_for(verifier)));
  EXPECT_EQ(again.status, 302);
  EXPECT_TRUE(std::string(again.headers.get("Location")).starts_with("/oauth/login"))
      << again.headers.get("Location");
}

// The personalized-ads setting, turned off and on, reaches a receiver that asked for linksim's
// opt-out and opt-in events; setting the same value again tells nothing, and a stream that did
// not ask hears nothing.
TEST_F(Ssf, TheAdSettingIsAnOptOutOrOptInEvent) {
  const std::string opt_out =
      "https://linksim.example/secevent/event-type/personalized-ads-opt-out";
  const std::string opt_in = "https://linksim.example/secevent/event-type/personalized-ads-opt-in";
  const std::string stream = create('"' + opt_out + R"(",")" + opt_in + '"');
  const std::string other = create(all_events);
  const auto set = [&](const char* on) {
    return idp.admin("PUT", "/admin/accounts/" + alice + "/ad-settings",
                     std::string(R"({"personalized_ads":)") + on + "}");
  };
  // On is the default: turning it on tells nothing.
  ASSERT_EQ(set("true").status, 200);
  EXPECT_TRUE(poll(stream).empty());
  ASSERT_EQ(set("false").status, 200);
  ASSERT_EQ(set("false").status, 200);
  auto sets = poll(stream);
  ASSERT_EQ(sets.size(), 1u);
  const auto& claims = sets.begin()->second;
  EXPECT_EQ(type_of(claims), opt_out);
  EXPECT_EQ(claims.at("sub_id").at("sub").as_string(), alice);
  EXPECT_TRUE(claims.at("events").at(opt_out).at("event_timestamp").is_int64());
  poll(stream, R"({"ack":[")" + sets.begin()->first + R"("]})");
  ASSERT_EQ(set("true").status, 200);
  sets = poll(stream);
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(type_of(sets.begin()->second), opt_in);
  EXPECT_TRUE(poll(other).empty());
  // A refused body changes nothing and tells nothing.
  EXPECT_EQ(
      idp.admin("PUT", "/admin/accounts/" + alice + "/ad-settings", R"({"personalized_ads":"no"})")
          .status,
      400);
  EXPECT_EQ(poll(stream).size(), 1u);  // the opt-in, not yet acknowledged
}

TEST_F(Ssf, SubjectsAreTheAccountsThatGrantedTheReceiverAccess) {
  const std::string stream = create(all_events);
  const std::string bob = idp.account("bob");  // never authorized the app
  const auto subject = [&](const std::string& op, const std::string& id) {
    return call("POST", "/ssf/subjects/" + op,
                R"({"stream_id":")" + stream + R"(","subject":{"format":"iss_sub","iss":")" +
                    idp.base + R"(","sub":")" + id + R"("}})");
  };
  EXPECT_EQ(subject("add", bob).status, 404);
  // alice is a subject by default; removed, her changes make no SET for this stream.
  EXPECT_EQ(subject("remove", alice).status, 204);
  ASSERT_EQ(idp.admin("PATCH", "/admin/accounts/" + alice, R"({"username":"alice.b"})").status,
            200);
  EXPECT_TRUE(poll(stream).empty());
  EXPECT_EQ(subject("add", alice).status, 200);
  // The person removes the app: the session-revoked event still reaches the stream.
  ASSERT_EQ(idp.admin("POST", "/admin/accounts/" + alice + "/deauthorize",
                      R"({"client_id":")" + app.id + R"("})")
                .status,
            200);
  auto sets = poll(stream);
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(type_of(sets.begin()->second),
            "https://schemas.openid.net/secevent/caep/event-type/session-revoked");
  // From then on the receiver hears nothing of her.
  poll(stream, R"({"ack":[")" + sets.begin()->first + R"("]})");
  ASSERT_EQ(idp.admin("PATCH", "/admin/accounts/" + alice, R"({"username":"alice.c"})").status,
            200);
  EXPECT_TRUE(poll(stream).empty());
}

// A push receiver (RFC 8935) on its own socket: keeps each SET it is sent and answers with the
// scripted statuses, then 202.
class set_receiver {
 public:
  set_receiver() { server_.start(); }
  std::string url() const { return server_.base_url() + "/events"; }
  void answer_with(std::vector<int> statuses) {
    std::lock_guard l(m_);
    statuses_ = std::move(statuses);
  }
  std::vector<http::request> received() {
    std::lock_guard l(m_);
    return received_;
  }

 private:
  http::response handle(const http::request& req) {
    std::lock_guard l(m_);
    received_.push_back(req);
    http::response r;
    r.status = 202;
    if (!statuses_.empty()) {
      r.status = statuses_.front();
      statuses_.erase(statuses_.begin());
    }
    if (r.status == 400) r.body = R"({"err":"invalid_audience","description":"not ours"})";
    return r;
  }
  std::mutex m_;
  std::vector<int> statuses_;
  std::vector<http::request> received_;
  net::server server_{{}, [this](const http::request& r) { return handle(r); }};
};

TEST_F(Ssf, PushDeliversEachSetWithItsHeaderAndRetriesLikeAWebhook) {
  set_receiver rx;
  auto r = call("POST", "/ssf/streams",
                R"({"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":")" + rx.url() +
                    R"(","authorization_header":"Bearer rx-token"},"events_requested":[)" +
                    all_events + "]}");
  ASSERT_EQ(r.status, 201) << r.body;
  const auto s = json_of(r);
  const std::string stream(s.at("stream_id").as_string());
  EXPECT_EQ(s.at("delivery").at("endpoint_url").as_string(), rx.url());
  EXPECT_FALSE(s.at("delivery").as_object().contains("authorization_header"));
  const auto dispatch = [&] {
    return json_of(idp.admin("POST", "/admin/webhooks/dispatch")).at("attempted").as_int64();
  };
  const auto jwks = json_of(idp.request("GET", "/.well-known/jwks.json"));

  // A rename: one POST of one SET, typed, with the receiver's Authorization header.
  ASSERT_EQ(idp.admin("PATCH", "/admin/accounts/" + alice, R"({"username":"alice.p"})").status,
            200);
  EXPECT_EQ(dispatch(), 1);
  auto got = rx.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].headers.get("Content-Type"), "application/secevent+jwt");
  EXPECT_EQ(got[0].headers.get("Authorization"), "Bearer rx-token");
  auto claims = idp::oidc::verify_jwt(got[0].body, jwks);
  ASSERT_TRUE(claims) << got[0].body;
  EXPECT_EQ(type_of(*claims),
            "https://schemas.openid.net/secevent/risc/event-type/identifier-changed");
  EXPECT_EQ(dispatch(), 0);  // delivered: not sent again
  // A push stream is not polled.
  EXPECT_EQ(call("POST", "/ssf/poll/" + stream, "{}").status, 400);

  // 503: retried after the schedule's delay, then delivered once the receiver answers 202.
  rx.answer_with({503});
  ASSERT_EQ(idp.admin("PATCH", "/admin/accounts/" + alice, R"({"username":"alice.q"})").status,
            200);
  EXPECT_EQ(dispatch(), 1);
  EXPECT_EQ(dispatch(), 0);  // not due yet
  idp.clock.advance(6s);
  EXPECT_EQ(dispatch(), 1);
  got = rx.received();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].body, got[2].body);  // the same SET, the same jti
  idp.clock.advance(1h);
  EXPECT_EQ(dispatch(), 0);

  // 400: the receiver read it and refused it; never sent again.
  rx.answer_with({400});
  ASSERT_EQ(idp.admin("PATCH", "/admin/accounts/" + alice, R"({"username":"alice.r"})").status,
            200);
  EXPECT_EQ(dispatch(), 1);
  idp.clock.advance(2h);
  EXPECT_EQ(dispatch(), 0);
  EXPECT_EQ(rx.received().size(), 4u);
}

// Under fault.sets_sent_once the provider sends each SET once (its redeliver_sets rule off):
// a polled SET left unacknowledged, or a push the receiver answered 503, is not sent again,
// where the tests above see both come again.
struct SsfSentOnce : Ssf {
  SsfSentOnce() : Ssf(4s, idp::provider_rules{.redeliver_sets = false}) {}
};

TEST_F(SsfSentOnce, AnUnacknowledgedOrFailedSetIsNotSentAgain) {
  const std::string stream = create(all_events);
  ASSERT_EQ(idp.admin("PATCH", "/admin/accounts/" + alice, R"({"username":"alice.n"})").status,
            200);
  EXPECT_EQ(poll(stream).size(), 1u);
  EXPECT_TRUE(poll(stream).empty());  // handed out once, never acknowledged: gone

  set_receiver rx;
  rx.answer_with({503});
  auto r = call("POST", "/ssf/streams",
                R"({"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":")" + rx.url() +
                    R"("},"events_requested":[)" + all_events + "]}");
  ASSERT_EQ(r.status, 201) << r.body;
  const auto dispatch = [&] {
    return json_of(idp.admin("POST", "/admin/webhooks/dispatch")).at("attempted").as_int64();
  };
  ASSERT_EQ(idp.admin("PATCH", "/admin/accounts/" + alice, R"({"username":"alice.o"})").status,
            200);
  EXPECT_EQ(dispatch(), 1);
  idp.clock.advance(1h);
  EXPECT_EQ(dispatch(), 0);  // the 503 was its one try
  EXPECT_EQ(rx.received().size(), 1u);
}

}  // namespace
}  // namespace linksim
