// The dependent service as a Shared Signals receiver: what it checks before a SET does anything,
// and what each event does.
#include "support.hpp"

#include "linksim/common/jose.hpp"
#include "linksim/common/ssf.hpp"

#include <gtest/gtest.h>

#include <boost/json/array.hpp>

namespace linksim::testing {
namespace {

namespace bj = boost::json;
using namespace std::chrono_literals;

// The provider, with its key set answered from a key the test holds as well as its own: the
// test signs SETs whose every claim it chooses. Counts the key set's fetches.
class keyed_transport final : public http::transport {
 public:
  keyed_transport(provider_transport& inner, idp::service& idp) : inner_(inner), idp_(idp) {}
  jose::signing_key test_key;
  int key_set_reads = 0;
  bool down = false;  // the provider cannot be reached
  result<http::response> send(http::request req) override {
    if (down) return make_error_code(errc::upstream_unavailable);
    if (req.target == "http://idp.test/.well-known/jwks.json") {
      ++key_set_reads;
      bj::array keys;
      keys.push_back(jose::jwk(test_key));
      const auto published = json::parse_object(idp_.jwks()).value();
      for (const auto& k : published.at("keys").as_array()) keys.push_back(k);
      return json::response(200, bj::object{{"keys", std::move(keys)}});
    }
    return inner_.send(std::move(req));
  }

 private:
  provider_transport& inner_;
  idp::service& idp_;
};

struct receiver {
  explicit receiver(threads_sim::channel c = threads_sim::channel::ssf_push,
                    std::string profile = "documented")
      : rules(threads_sim::find_behaviour(profile).value()) {
    keys.test_key = jose::signing_key::generate(w.provider.random);
    open(c);
  }
  threads_sim::behaviour rules;
  void open(threads_sim::channel c) {
    w.threads.reset();
    threads_sim::config cfg;
    cfg.base_url = "http://threads.test";
    cfg.idp_url = "http://idp.test";
    cfg.client_id = w.client.id;
    cfg.client_secret = w.client.secret;
    cfg.changes = c;
    cfg.rules = rules;
    w.threads = std::make_unique<threads_sim::service>(w.db, w.provider.clock, w.provider.random,
                                                       w.provider.recorder, keys, cfg);
    auto connected = w.threads->connect_signals();
    EXPECT_EQ(bool(connected), !keys.down);
  }

  // A SET about `account` with the claims a transmitter would give it, changed by `edit`.
  std::string set(std::int64_t account, std::string_view type, bj::object event = {},
                  const std::function<void(bj::object&)>& edit = {},
                  std::string_view typ = "secevent+jwt") {
    bj::object events;
    events[type] = std::move(event);
    bj::object claims{{"iss", "http://idp.test"},
                      {"jti", "jti-" + std::to_string(++made)},
                      {"iat", unix_seconds(w.provider.clock.now())},
                      {"aud", w.client.id},
                      {"sub_id", bj::object{{"format", "iss_sub"},
                                            {"iss", "http://idp.test"},
                                            {"sub", std::to_string(account)}}},
                      {"events", std::move(events)}};
    if (edit) edit(claims);
    return jose::sign_jwt(keys.test_key, claims, typ);
  }

  // The Authorization header the service gave its stream, as the provider stored it.
  std::string authorization() {
    auto streams = w.provider.idp.ssf_streams(w.client);
    EXPECT_EQ(streams.size(), 1u);
    return streams.empty() ? std::string() : streams.front().authorization_header;
  }

  world w;
  keyed_transport keys{w.to_provider, w.provider.idp};
  int made = 0;
};

TEST(Signals, ARenameSetIsCheckedThenAppliedOnceByReadingTheAccountAgain) {
  receiver r;
  const auto p = sign_up(r.w, "alice");
  ASSERT_TRUE(r.w.provider.idp.update_profile(p.ig_user_id, {.username = "alice.new"}));
  const std::string auth = r.authorization();
  ASSERT_TRUE(auth.starts_with("Bearer "));
  // The SET says nothing of the new name's version: the service reads /me, which has one. A
  // wrong new-value does not matter.
  const auto s = r.set(p.ig_user_id, ssf::identifier_changed, {{"new-value", "mallory"}});
  auto first = r.w.threads->receive_set(s, auth);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(first->outcome, "re-read");
  EXPECT_EQ(r.w.threads->get_profile(p.id)->username, "alice.new");
  auto again = r.w.threads->receive_set(s, auth);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->outcome, "duplicate");

  // Without the stream's header nothing is read.
  EXPECT_TRUE(is(r.w.threads->receive_set(s, "").error(), threads_sim::error::push_unauthorized));
  EXPECT_TRUE(is(r.w.threads->receive_set(s, "Bearer guess").error(),
                 threads_sim::error::push_unauthorized));
}

// RFC 8935 section 2: a pushed SET is taken only with the Authorization header its stream was
// given, however well it is signed.
bool a_push_needs_the_streams_header(const std::string& profile) {
  receiver r(threads_sim::channel::ssf_push, profile);
  const auto p = sign_up(r.w, "alice");
  EXPECT_TRUE(r.w.provider.idp.update_profile(p.ig_user_id, {.username = "alice.new"}));
  const auto s = r.set(p.ig_user_id, ssf::identifier_changed);
  const auto got = r.w.threads->receive_set(s, "Bearer guess");
  const bool refused = !got && is(got.error(), threads_sim::error::push_unauthorized);
  return refused && r.w.threads->get_profile(p.id)->username == "alice";
}

TEST(Signals, APushWithoutTheStreamsHeaderIsRefused) {
  EXPECT_TRUE(a_push_needs_the_streams_header("documented"));
  EXPECT_FALSE(a_push_needs_the_streams_header("fault.pushes_unauthenticated"));
}

TEST(Signals, EveryClaimAndTheSignatureAreCheckedBeforeAnything) {
  receiver r;
  const auto p = sign_up(r.w, "alice");
  const std::string auth = r.authorization();
  using threads_sim::error;
  const auto refused = [&](const std::string& set) {
    auto out = r.w.threads->receive_set(set, auth);
    return out ? boost::system::error_code() : out.error();
  };
  const auto id = p.ig_user_id;
  EXPECT_TRUE(is(refused(r.set(id, ssf::account_purged, {},
                               [](bj::object& c) { c["iss"] = "http://attacker.test"; })),
                 error::set_issuer_invalid));
  EXPECT_TRUE(is(refused(r.set(id, ssf::account_purged, {},
                               [](bj::object& c) { c["aud"] = "another-client"; })),
                 error::set_audience_invalid));
  // An ID token (typ JWT) is not a SET, whatever it holds.
  EXPECT_TRUE(is(refused(r.set(id, ssf::account_purged, {}, {}, "JWT")), error::set_invalid));
  EXPECT_TRUE(is(refused(r.set(id, ssf::account_purged, {},
                               [&](bj::object& c) {
                                 c["iat"] = unix_seconds(r.w.provider.clock.now() + 1h);
                               })),
                 error::set_invalid));
  EXPECT_TRUE(is(refused(r.set(id, ssf::account_purged, {}, [](bj::object& c) { c.erase("jti"); })),
                 error::set_invalid));
  EXPECT_TRUE(is(refused(r.set(id, ssf::account_purged, {},
                               [](bj::object& c) {
                                 c["sub_id"].as_object()["iss"] = "http://attacker.test";
                               })),
                 error::set_invalid));
  EXPECT_TRUE(is(refused("not.a.set"), error::set_invalid));
  // Signed by another key under the kid of a published one.
  auto forged = jose::signing_key::generate(r.w.provider.random);
  forged.kid = r.keys.test_key.kid;
  EXPECT_TRUE(
      is(refused(jose::sign_jwt(forged, bj::object{{"iss", "http://idp.test"}}, "secevent+jwt")),
         error::set_key_invalid));
  // Nothing refused did anything.
  EXPECT_FALSE(r.w.threads->get_profile(p.id)->ig_deleted);

  // The same purge with its claims right closes the profile, and an audience list naming the
  // service is its own.
  auto ok = r.w.threads->receive_set(r.set(id, ssf::account_purged, {},
                                           [&](bj::object& c) {
                                             c["aud"] = bj::array{"another-client", r.w.client.id};
                                           }),
                                     auth);
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->outcome, "applied");
  EXPECT_TRUE(r.w.threads->get_profile(p.id)->ig_deleted);
}

TEST(Signals, AnUnknownKeyFetchesTheKeySetAgainAtMostOnceAMinute) {
  receiver r;
  const auto p = sign_up(r.w, "alice");
  const std::string auth = r.authorization();
  const int at_start = r.keys.key_set_reads;
  // A key the service has not seen yet: the transmitter rotated.
  r.keys.test_key = jose::signing_key::generate(r.w.provider.random);
  r.w.provider.clock.advance(2min);
  auto taken = r.w.threads->receive_set(r.set(p.ig_user_id, ssf::session_revoked), auth);
  ASSERT_TRUE(taken) << taken.error().message();
  EXPECT_EQ(r.keys.key_set_reads, at_start + 1);
  EXPECT_TRUE(r.w.threads->get_profile(p.id)->needs_login);
  // A stream of unknown kids costs one fetch a minute, not one each. Until the set may be read
  // again, such a SET is left for later (503: the transmitter retries), not refused for good.
  auto stranger = jose::signing_key::generate(r.w.provider.random);
  const auto strange =
      jose::sign_jwt(stranger, bj::object{{"iss", "http://idp.test"}}, "secevent+jwt");
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(is(r.w.threads->receive_set(strange, auth).error(), errc::upstream_unavailable));
  EXPECT_EQ(r.keys.key_set_reads, at_start + 1);
  r.w.provider.clock.advance(61s);
  // Read again, the set still lacks it: now it is refused.
  EXPECT_TRUE(
      is(r.w.threads->receive_set(strange, auth).error(), threads_sim::error::set_key_invalid));
  EXPECT_EQ(r.keys.key_set_reads, at_start + 2);
}

// A service that started while the provider was down sets its stream up with the first SET: until
// then a pushed SET is left for the transmitter to send again (503), never refused for good.
TEST(Signals, AServiceStartedWhileTheProviderWasDownSetsUpLater) {
  receiver r;
  const auto p = sign_up(r.w, "alice");
  const std::string auth = r.authorization();
  r.keys.down = true;
  r.open(threads_sim::channel::ssf_push);  // a restart that cannot reach the provider
  const auto s = r.set(p.ig_user_id, ssf::session_revoked);
  EXPECT_TRUE(is(r.w.threads->receive_set(s, auth).error(), errc::upstream_unavailable));
  EXPECT_FALSE(r.w.threads->get_profile(p.id)->needs_login);
  r.keys.down = false;
  auto again = r.w.threads->receive_set(s, auth);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->outcome, "stored tokens forgotten");
  EXPECT_TRUE(r.w.threads->get_profile(p.id)->needs_login);
  EXPECT_EQ(r.w.provider.idp.ssf_streams(r.w.client).size(), 1u);  // found again, not made twice
}

TEST(Signals, APolledStreamIsAcknowledgedAndARestartFindsItAgain) {
  receiver r(threads_sim::channel::ssf_poll);
  const auto p = sign_up(r.w, "alice");
  ASSERT_TRUE(r.w.provider.idp.update_profile(p.ig_user_id, {.username = "alice.polled"}));
  ASSERT_TRUE(
      r.w.provider.idp.update_profile(p.ig_user_id, {.status = idp::account_status::suspended}));
  auto n = r.w.threads->poll_signals();
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(*n, 2u);  // identifier-changed and account-disabled, signed by the provider's key
  const auto polled = r.w.threads->get_profile(p.id).value();
  EXPECT_EQ(polled.username, "alice.polled");
  EXPECT_EQ(polled.ig_status, "suspended");
  // Acknowledged: nothing comes again.
  EXPECT_EQ(r.w.threads->poll_signals().value(), 0u);
  // A restarted service uses the stream it made.
  r.open(threads_sim::channel::ssf_poll);
  EXPECT_EQ(r.w.provider.idp.ssf_streams(r.w.client).size(), 1u);
  ASSERT_TRUE(
      r.w.provider.idp.update_profile(p.ig_user_id, {.status = idp::account_status::active}));
  EXPECT_EQ(r.w.threads->poll_signals().value(), 1u);
  EXPECT_EQ(r.w.threads->get_profile(p.id)->ig_status, "active");
  // A pushed SET is refused by a service that polls.
  EXPECT_TRUE(is(r.w.threads->receive_set(r.set(p.ig_user_id, ssf::account_purged), "").error(),
                 threads_sim::error::push_unauthorized));
}

}  // namespace
}  // namespace linksim::testing
