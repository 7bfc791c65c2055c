// Tests of webhook delivery: the handshake, the envelope, signatures checked by an independent
// verifier (OpenSSL called directly), retries with backoff, Retry-After, 410, dead letters and
// replay, and signed_request callbacks.
#include "support.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

namespace linksim::idp {
namespace {

using namespace std::chrono_literals;
using testing::idp_fixture;

// An independent verifier: raw OpenSSL, not linksim's crypto wrappers.
std::string raw_hmac_hex(const std::string& key, const std::string& data) {
  unsigned char out[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < len; ++i) {
    s += hex[out[i] >> 4];
    s += hex[out[i] & 15];
  }
  return s;
}

std::string raw_b64(const unsigned char* p, int n) {
  std::string s(4 * ((n + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(s.data()), p, n);
  return s;
}

bool standard_webhooks_valid(const http::request& r, const std::string& whsec) {
  std::string secret_b64 = whsec.substr(6);
  std::string key(secret_b64.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(key.data()),
                                reinterpret_cast<const unsigned char*>(secret_b64.data()),
                                static_cast<int>(secret_b64.size()));
  key.resize(static_cast<std::size_t>(n) - std::count(secret_b64.begin(), secret_b64.end(), '='));
  const std::string content = std::string(r.headers.get("webhook-id")) + "." +
                              std::string(r.headers.get("webhook-timestamp")) + "." + r.body;
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &len);
  return r.headers.get("webhook-signature") == "v1," + raw_b64(mac, 32);
}

// A receiver that answers every request with `status` and nothing else.
auto answering(int status) {
  return [status](const http::request&) -> result<http::response> {
    http::response r;
    r.status = status;
    return r;
  };
}

struct hooks : idp_fixture {
  client app = make_client();
  account alice = make_account("alice");

  hooks() : hooks(make_config()) {}
  explicit hooks(idp::config c) : idp_fixture(std::move(c)) {
    transport.answer = testing::echo_challenge;
    EXPECT_TRUE(idp.subscribe(app.id, "http://app.test/hook", "vt", {}));
    // Alice signs up with the app: the grant, made when the app redeems its code, makes the
    // app a recipient of her changes.
    auto p = idp.begin_authorization({app.id, "http://app.test/cb", "code", "", "",
                                      testing::challenge_for(testing::verifier_for()), "S256"});
    auto back = idp.approve(p->id, idp.open_session(alice.id, ""), alice.id);
    EXPECT_TRUE(back);
    EXPECT_TRUE(idp.exchange_code(app, http::query_param(*back, "code"), "http://app.test/cb",
                                  testing::verifier_for(), true));
    transport.sent.clear();
  }
};

TEST(Subscription, NeedsTheChallengeEchoed) {
  idp_fixture f;
  const auto app = f.make_client();
  f.transport.answer = [](const http::request&) -> result<http::response> {
    http::response r;
    r.body = "wrong";
    return r;
  };
  EXPECT_TRUE(is(f.idp.subscribe(app.id, "http://app.test/hook", "vt", {}).error(),
                 idp::error::subscription_handshake_failed));
  ASSERT_EQ(f.transport.sent.size(), 1u);
  EXPECT_NE(f.transport.sent[0].target.find("hub.mode=subscribe"), std::string::npos);
  EXPECT_NE(f.transport.sent[0].target.find("hub.verify_token=vt"), std::string::npos);
  f.transport.answer = testing::echo_challenge;
  EXPECT_TRUE(f.idp.subscribe(app.id, "http://app.test/hook", "vt", {"username"}));
  EXPECT_TRUE(is(f.idp.subscribe(app.id, "http://app.test/hook", "vt", {"email"}).error(),
                 errc::bad_field));
  EXPECT_TRUE(is(f.idp.subscribe(app.id, "ftp://x", "vt", {}).error(), errc::callback_url_invalid));
}

TEST(Webhook, RenameIsDeliveredInMetasEnvelopeWithValidSignatures) {
  hooks f;
  ASSERT_TRUE(f.idp.update_profile(f.alice.id, {.username = "alice.new"}));
  EXPECT_EQ(f.idp.dispatch_due(), 1u);
  ASSERT_EQ(f.transport.sent.size(), 1u);
  const auto& r = f.transport.sent[0];
  EXPECT_EQ(r.target, "http://app.test/hook");
  EXPECT_EQ(r.headers.get("X-Hub-Signature-256"), "sha256=" + raw_hmac_hex(f.app.secret, r.body));
  EXPECT_TRUE(standard_webhooks_valid(r, f.app.webhook_secret));
  EXPECT_EQ(r.headers.get("webhook-timestamp"), std::to_string(unix_seconds(f.clock.now())));

  const auto body = boost::json::parse(r.body).as_object();
  EXPECT_EQ(body.at("object"), "user");
  const auto& entry = body.at("entry").as_array().at(0).as_object();
  EXPECT_EQ(entry.at("id").as_string(), std::to_string(f.alice.id));
  const auto& change = entry.at("changes").as_array().at(0).as_object();
  EXPECT_EQ(change.at("field"), "username");
  EXPECT_EQ(change.at("value").at("username"), "alice.new");
  EXPECT_EQ(change.at("value").at("previous_username"), "alice");
  EXPECT_EQ(change.at("value").at("version"), f.alice.version + 1);

  // Delivered once: nothing more is due.
  EXPECT_EQ(f.idp.dispatch_due(), 0u);
  // The flow is evidence: the username went to the app's system.
  ASSERT_FALSE(f.recorder.flows.empty());
  const auto& flow = f.recorder.flows.back();
  EXPECT_EQ(flow.to, "threads");
  EXPECT_EQ(flow.channel, "webhook");
  EXPECT_EQ(flow.subject, std::to_string(f.alice.id));
  EXPECT_EQ(flow.categories, (std::vector<std::string>{"user.unique_id", "user.account.username"}));
  EXPECT_EQ(flow.payload_digest, to_hex(sha256(r.body)));
}

idp::config batching(std::size_t size, milliseconds window = {}) {
  auto c = idp_fixture::make_config();
  c.webhook_batch = size;
  c.webhook_batch_window = window;
  return c;
}

TEST(Webhook, ChangesDueTogetherShareSignedRequestsUpToTheBatchSize) {
  hooks f(batching(3));
  for (int i = 1; i <= 5; ++i)
    ASSERT_TRUE(f.idp.update_profile(f.alice.id, {.username = "alice." + std::to_string(i)}));
  f.recorder.flows.clear();
  EXPECT_EQ(f.idp.dispatch_due(), 2u);  // three changes, then two
  ASSERT_EQ(f.transport.sent.size(), 2u);
  std::int64_t version = f.alice.version;
  for (std::size_t r = 0; r < 2; ++r) {
    const auto& req = f.transport.sent[r];
    EXPECT_EQ(req.headers.get("X-Hub-Signature-256"),
              "sha256=" + raw_hmac_hex(f.app.secret, req.body));
    EXPECT_TRUE(standard_webhooks_valid(req, f.app.webhook_secret));
    EXPECT_TRUE(req.headers.get("webhook-id").starts_with("evtb_"));
    const auto entries = boost::json::parse(req.body).at("entry").as_array();
    ASSERT_EQ(entries.size(), r == 0 ? 3u : 2u);
    for (const auto& e : entries) {  // in the order the changes were made
      EXPECT_EQ(e.at("id").as_string(), std::to_string(f.alice.id));
      const auto& v = e.at("changes").as_array().at(0).at("value");
      EXPECT_EQ(v.at("version").as_int64(), ++version);
      EXPECT_EQ(v.at("username").as_string(), "alice." + std::to_string(version - f.alice.version));
    }
  }
  EXPECT_NE(f.transport.sent[0].headers.get("webhook-id"),
            f.transport.sent[1].headers.get("webhook-id"));
  // One flow per change, each with the digest of the body that carried it.
  ASSERT_EQ(f.recorder.flows.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(f.recorder.flows[i].channel, "webhook");
    EXPECT_EQ(f.recorder.flows[i].payload_digest,
              to_hex(sha256(f.transport.sent[i < 3 ? 0 : 1].body)));
  }
  EXPECT_EQ(f.idp.deliveries(delivery_state::delivered).size(), 5u);
  EXPECT_EQ(f.idp.dispatch_due(), 0u);
}

TEST(Webhook, AFailedBatchIsRetriedWholeUnderTheSameId) {
  hooks f(batching(10));
  int calls = 0;
  f.transport.answer = [&](const http::request&) -> result<http::response> {
    http::response r;
    r.status = ++calls == 1 ? 503 : 200;
    return r;
  };
  ASSERT_TRUE(f.idp.update_profile(f.alice.id, {.username = "a2", .bio = "b2"}));
  ASSERT_TRUE(f.idp.set_picture(f.alice.id, {"image/png", "pixels"}));
  EXPECT_EQ(f.idp.dispatch_due(), 1u);  // three changes in one request: 503
  EXPECT_EQ(f.idp.dispatch_due(), 0u);
  f.clock.advance(6s);  // one delay for the whole request: 5 s ± 10 %
  EXPECT_EQ(f.idp.dispatch_due(), 1u);
  ASSERT_EQ(f.transport.sent.size(), 2u);
  EXPECT_EQ(f.transport.sent[0].body, f.transport.sent[1].body);
  EXPECT_EQ(f.transport.sent[0].headers.get("webhook-id"),
            f.transport.sent[1].headers.get("webhook-id"));
  EXPECT_NE(f.transport.sent[0].headers.get("webhook-timestamp"),
            f.transport.sent[1].headers.get("webhook-timestamp"));
  const auto done = f.idp.deliveries(delivery_state::delivered);
  ASSERT_EQ(done.size(), 3u);
  for (const auto& d : done) EXPECT_EQ(d.attempts, 2);
}

TEST(Webhook, ABatchWindowGathersTheChangesMadeWithinIt) {
  hooks f(batching(100, 1s));
  f.clock.advance(200ms);  // inside a window: its changes fall due at the window's end
  ASSERT_TRUE(f.idp.update_profile(f.alice.id, {.username = "a2"}));
  f.clock.advance(300ms);
  ASSERT_TRUE(f.idp.update_profile(f.alice.id, {.bio = "b2"}));
  EXPECT_EQ(f.idp.dispatch_due(), 0u);
  f.clock.advance(499ms);
  EXPECT_EQ(f.idp.dispatch_due(), 0u);
  f.clock.advance(1ms);
  EXPECT_EQ(f.idp.dispatch_due(), 1u);
  ASSERT_EQ(f.transport.sent.size(), 1u);
  EXPECT_EQ(boost::json::parse(f.transport.sent[0].body).at("entry").as_array().size(), 2u);
  // Without batching the window does nothing: each change is due when made.
  hooks g(batching(1, 1s));
  g.clock.advance(200ms);
  ASSERT_TRUE(g.idp.update_profile(g.alice.id, {.username = "a2"}));
  EXPECT_EQ(g.idp.dispatch_due(), 1u);
}

TEST(Webhook, TamperedBodyFailsTheIndependentCheck) {
  hooks f;
  ASSERT_TRUE(f.idp.update_profile(f.alice.id, {.bio = "x"}));
  f.idp.dispatch_due();
  auto r = f.transport.sent.at(0);
  r.body[r.body.size() / 2] ^= 1;
  EXPECT_NE(r.headers.get("X-Hub-Signature-256"), "sha256=" + raw_hmac_hex(f.app.secret, r.body));
  EXPECT_FALSE(standard_webhooks_valid(r, f.app.webhook_secret));
}

TEST(Webhook, OnlyAuthorizedAccountsAndSubscribedFieldsAreSent) {
  hooks f;
  const auto bob = f.make_account("bob");  // never used the app
  ASSERT_TRUE(f.idp.update_profile(bob.id, {.username = "bob2"}));
  EXPECT_EQ(f.idp.dispatch_due(), 0u);
}

TEST(Webhook, FailingReceiverIsRetriedOnTheScheduleThenSucceeds) {
  hooks f;
  int calls = 0;
  f.transport.answer = [&](const http::request&) -> result<http::response> {
    http::response r;
    r.status = ++calls < 3 ? 500 : 200;
    return r;
  };
  ASSERT_TRUE(f.idp.update_profile(f.alice.id, {.username = "a2"}));
  EXPECT_EQ(f.idp.dispatch_due(), 1u);  // attempt 1, immediately: 500
  EXPECT_EQ(f.idp.dispatch_due(), 0u);  // not due again yet
  f.clock.advance(4s);                  // 5 s ± 10% later at the earliest
  EXPECT_EQ(f.idp.dispatch_due(), 0u);
  f.clock.advance(2s);
  EXPECT_EQ(f.idp.dispatch_due(), 1u);  // attempt 2: 500
  f.clock.advance(4min);
  EXPECT_EQ(f.idp.dispatch_due(), 0u);
  f.clock.advance(2min);
  EXPECT_EQ(f.idp.dispatch_due(), 1u);  // attempt 3: 200
  const auto d = f.idp.deliveries(delivery_state::delivered);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].attempts, 3);
  // Every retry carries the same webhook-id, so the receiver can dedupe.
  ASSERT_EQ(f.transport.sent.size(), 3u);
  EXPECT_EQ(f.transport.sent[0].headers.get("webhook-id"),
            f.transport.sent[2].headers.get("webhook-id"));
}

// A dispatch round settles each answer as it comes (its flow, its retry) and stores the round's
// outcomes in one transaction.
TEST(Webhook, ADispatchRoundStoresItsOutcomesInOneTransaction) {
  hooks f;
  int calls = 0;
  f.transport.answer = [&](const http::request&) -> result<http::response> {
    http::response r;
    r.status = ++calls == 2 ? 500 : 200;
    return r;
  };
  for (const char* name : {"a2", "a3", "a4"})
    ASSERT_TRUE(f.idp.update_profile(f.alice.id, {.username = name}));
  f.recorder.flows.clear();
  const auto before = f.db.work_done();
  EXPECT_EQ(f.idp.dispatch_due(), 3u);
  EXPECT_EQ(f.db.work_done().commits - before.commits, 1u);
  ASSERT_EQ(f.recorder.flows.size(), 3u);
  EXPECT_EQ(f.recorder.flows[0].note, "username status=200");
  EXPECT_EQ(f.recorder.flows[1].note, "username status=500");
  EXPECT_EQ(f.recorder.flows[2].note, "username status=200");
  EXPECT_EQ(f.idp.deliveries(delivery_state::delivered).size(), 2u);
  const auto pending = f.idp.deliveries(delivery_state::pending);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].attempts, 1);
  EXPECT_EQ(pending[0].last_status, 500);
  f.clock.advance(6s);  // the retry, 5 s ± 10 % later
  EXPECT_EQ(f.idp.dispatch_due(), 1u);
  EXPECT_EQ(f.idp.deliveries(delivery_state::delivered).size(), 3u);
}

// The queue of pending deliveries is kept in memory: a change rolled back after its delivery was
// queued leaves an entry with no row, and the next change can take that row's id at another time.
TEST(Webhook, AChangeRolledBackIsNeverSentEvenWhenItsRowIdIsTakenAgain) {
  hooks f;
  // The bio's write fails after the username change and its delivery were written.
  const auto fail_bio = [&] {
    f.db.exec(
        "CREATE TEMP TRIGGER fail_bio BEFORE UPDATE OF bio ON accounts "
        "BEGIN SELECT RAISE(ABORT, 'storage failed'); END");
    EXPECT_THROW((void)f.idp.update_profile(f.alice.id, {.username = "a2", .bio = "b"}),
                 store::error);
    f.db.exec("DROP TRIGGER fail_bio");
  };
  fail_bio();
  EXPECT_EQ(f.idp.get_account(f.alice.id)->username, "alice");
  EXPECT_EQ(f.idp.dispatch_due(), 0u);
  fail_bio();
  f.clock.advance(1s);
  ASSERT_TRUE(f.idp.update_profile(f.alice.id, {.username = "a3"}));
  // One request, for the change that was stored: the entry left by the rolled-back one points
  // at the same row id, but at an earlier time.
  EXPECT_EQ(f.idp.dispatch_due(), 1u);
  ASSERT_EQ(f.transport.sent.size(), 1u);
  const auto body = boost::json::parse(f.transport.sent[0].body);
  EXPECT_EQ(body.at("entry").at(0).at("changes").at(0).at("value").at("username"), "a3");
  EXPECT_EQ(f.idp.dispatch_due(), 0u);
  EXPECT_FALSE(f.idp.next_delivery_due());
}

// A round whose outcomes cannot be stored leaves its deliveries pending, at their old time: here
// its COMMIT fails (a deferred foreign key that a test-only trigger breaks), after every update.
TEST(Webhook, ARoundWhoseOutcomesAreNotStoredIsSentAgain) {
  hooks f;
  f.transport.answer = answering(500);
  ASSERT_TRUE(f.idp.update_profile(f.alice.id, {.username = "a2"}));
  f.db.exec(
      "CREATE TABLE settle_guard (client TEXT REFERENCES clients (id) DEFERRABLE INITIALLY "
      "DEFERRED); CREATE TEMP TRIGGER fail_commit AFTER UPDATE ON deliveries "
      "BEGIN INSERT INTO settle_guard VALUES ('no such client'); END");
  EXPECT_THROW(f.idp.dispatch_due(), store::error);
  f.db.exec("DROP TRIGGER fail_commit");
  // Due as before: sent again at once, and its retry is stored this time.
  EXPECT_EQ(f.idp.dispatch_due(), 1u);
  EXPECT_EQ(f.transport.sent.size(), 2u);
  EXPECT_EQ(f.idp.dispatch_due(), 0u);
  f.clock.advance(6s);  // the retry, 5 s ± 10 % later
  EXPECT_EQ(f.idp.dispatch_due(), 1u);
  EXPECT_EQ(f.transport.sent.size(), 3u);
}

TEST(Webhook, RetryAfterIsHonoured) {
  hooks f;
  f.transport.answer = [](const http::request&) -> result<http::response> {
    http::response r;
    r.status = 429;
    r.headers.set("Retry-After", "120");
    return r;
  };
  ASSERT_TRUE(f.idp.update_profile(f.alice.id, {.username = "a2"}));
  f.idp.dispatch_due();
  f.clock.advance(119s);
  EXPECT_EQ(f.idp.dispatch_due(), 0u);
  f.clock.advance(1s);
  EXPECT_EQ(f.idp.dispatch_due(), 1u);
}

TEST(Webhook, GoneStopsDeliveriesToThatReceiver) {
  hooks f;
  f.transport.answer = answering(410);
  ASSERT_TRUE(f.idp.update_profile(f.alice.id, {.username = "a2", .bio = "b"}));
  EXPECT_EQ(f.idp.dispatch_due(), 1u);  // both were due; the first 410 disables the other
  EXPECT_EQ(f.transport.sent.size(), 1u);
  EXPECT_FALSE(f.idp.get_subscription(f.app.id)->active);
  ASSERT_TRUE(f.idp.update_profile(f.alice.id, {.username = "a3"}));
  f.clock.advance(48h);
  EXPECT_EQ(f.idp.dispatch_due(), 0u);
  EXPECT_EQ(f.transport.sent.size(), 1u);
  // The change made while disabled is held too, not dropped.
  EXPECT_EQ(f.idp.deliveries(delivery_state::disabled).size(), 3u);
}

TEST(Webhook, ChangesMadeWhileDisabledAreDeliveredInOrderWhenEnabledAgain) {
  hooks f;
  f.transport.answer = answering(410);
  ASSERT_TRUE(f.idp.update_profile(f.alice.id, {.username = "a2"}));
  EXPECT_EQ(f.idp.dispatch_due(), 1u);
  ASSERT_FALSE(f.idp.get_subscription(f.app.id)->active);
  for (const char* name : {"a3", "a4", "a5"})
    ASSERT_TRUE(f.idp.update_profile(f.alice.id, {.username = name}));
  f.transport.answer = answering(200);
  const auto held = f.idp.deliveries(delivery_state::disabled);
  ASSERT_EQ(held.size(), 4u);
  // The operator replays the delivery that met the 410 (the oldest, last in this list).
  ASSERT_TRUE(f.idp.replay(held.back().id));
  EXPECT_TRUE(f.idp.get_subscription(f.app.id)->active);
  while (f.idp.dispatch_due() > 0) {
  }
  std::vector<std::string> names;
  for (std::size_t i = 1; i < f.transport.sent.size(); ++i) {
    const auto& body = f.transport.sent[i].body;
    const auto at = body.find("\"username\":\"");
    ASSERT_NE(at, std::string::npos) << body;
    names.push_back(body.substr(at + 12, 2));
  }
  EXPECT_EQ(names, (std::vector<std::string>{"a2", "a3", "a4", "a5"}));
  EXPECT_TRUE(f.idp.deliveries(delivery_state::disabled).empty());
}

TEST(Webhook, SubscribingAgainReleasesHeldChangesToTheNewAddress) {
  hooks f;
  f.transport.answer = answering(410);
  ASSERT_TRUE(f.idp.update_profile(f.alice.id, {.username = "a2"}));
  f.idp.dispatch_due();
  ASSERT_TRUE(f.idp.update_profile(f.alice.id, {.username = "a3"}));
  f.transport.answer = testing::echo_challenge;
  const auto sub = f.idp.get_subscription(f.app.id);
  ASSERT_TRUE(f.idp.subscribe(f.app.id, "http://threads.test/hooks/v2", sub->verify_token, {}));
  EXPECT_EQ(f.idp.dispatch_due(), 2u);  // both held changes
  std::size_t to_new = 0;
  for (const auto& r : f.transport.sent) to_new += r.target == "http://threads.test/hooks/v2";
  EXPECT_EQ(to_new, 2u);
}

TEST(Webhook, RetryAfterAsAnHttpDateIsHonoured) {
  hooks f;
  f.transport.answer = [&](const http::request&) -> result<http::response> {
    http::response r;
    r.status = 503;
    // Two minutes from the provider's clock, as an IMF-fixdate.
    const std::time_t at = std::chrono::system_clock::to_time_t(
        std::chrono::time_point_cast<std::chrono::system_clock::duration>(f.clock.now() + 120s));
    char text[64];
    std::tm tm{};
    ::gmtime_r(&at, &tm);
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    r.headers.set("Retry-After", text);
    return r;
  };
  ASSERT_TRUE(f.idp.update_profile(f.alice.id, {.username = "a2"}));
  f.idp.dispatch_due();
  f.clock.advance(119s);
  EXPECT_EQ(f.idp.dispatch_due(), 0u);  // the 5 s backoff alone would have sent it by now
  f.clock.advance(1s);
  EXPECT_EQ(f.idp.dispatch_due(), 1u);
}

TEST(Webhook, ExhaustedDeliveriesAreDeadLetteredAndCanBeReplayed) {
  hooks f;
  f.transport.answer = [](const http::request&) -> result<http::response> {
    return make_error_code(errc::upstream_unavailable);
  };
  ASSERT_TRUE(f.idp.update_profile(f.alice.id, {.username = "a2"}));
  for (int i = 0; i < 40 && !f.idp.deliveries(delivery_state::pending).empty(); ++i) {
    f.idp.dispatch_due();
    if (auto next = f.idp.next_delivery_due()) f.clock.set(std::max(f.clock.now(), *next));
  }
  const auto dead = f.idp.deliveries(delivery_state::dead);
  ASSERT_EQ(dead.size(), 1u);
  // The schedule 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h reaches ~31.6 h; the next (20 h)
  // would pass the 36 h window.
  EXPECT_EQ(dead[0].attempts, 8);
  EXPECT_EQ(dead[0].last_status, 0);
  EXPECT_GT(f.clock.now() - default_epoch, 28h);
  EXPECT_LT(f.clock.now() - default_epoch, 36h);

  int ok = 0;
  f.transport.answer = [&](const http::request&) -> result<http::response> {
    ++ok;
    return http::response{};
  };
  EXPECT_TRUE(is(f.idp.replay(dead[0].id + 100).error(), errc::not_found));
  auto replayed = f.idp.replay(dead[0].id);
  ASSERT_TRUE(replayed);
  EXPECT_EQ(replayed->state, delivery_state::pending);
  EXPECT_EQ(f.idp.dispatch_due(), 1u);
  EXPECT_EQ(ok, 1);
  EXPECT_TRUE(is(f.idp.replay(dead[0].id).error(), errc::delivery_not_replayable));
}

TEST(Webhook, DeletionSendsTheChangeAndASignedDataDeletionRequest) {
  hooks f;
  ASSERT_TRUE(f.idp.delete_account(f.alice.id));
  EXPECT_EQ(f.idp.dispatch_due(), 2u);
  ASSERT_EQ(f.transport.sent.size(), 2u);
  const auto& hook = f.transport.sent[0];
  EXPECT_NE(hook.body.find("\"account_deletion\""), std::string::npos);
  const auto& cb = f.transport.sent[1];
  EXPECT_EQ(cb.target, "http://app.test/deletion");
  EXPECT_EQ(cb.headers.get("Content-Type"), "application/x-www-form-urlencoded");
  // signed_request = b64url(HMAC(secret, payload segment)) "." b64url(payload)
  auto form = http::parse_form(cb.body);
  const std::string sr = *http::find_param(*form, "signed_request");
  const auto dot = sr.find('.');
  const std::string sig = sr.substr(0, dot), payload = sr.substr(dot + 1);
  EXPECT_EQ(*base64url_decode(sig), *from_hex(raw_hmac_hex(f.app.secret, payload)));
  const auto decoded = base64url_decode(payload);
  const auto json = boost::json::parse(as_chars(*decoded)).as_object();
  EXPECT_EQ(json.at("algorithm"), "HMAC-SHA256");
  EXPECT_EQ(json.at("user_id").as_string(), std::to_string(f.alice.id));
  EXPECT_TRUE(json.contains("expires"));
}

TEST(Webhook, DeauthorizeRevokesAndCallsBack) {
  hooks f;
  ASSERT_TRUE(f.idp.deauthorize(f.alice.id, f.app.id));
  EXPECT_EQ(f.idp.dispatch_due(), 1u);
  EXPECT_EQ(f.transport.sent.at(0).target, "http://app.test/deauth");
  // No more webhooks for alice's changes: the app is no longer authorized.
  ASSERT_TRUE(f.idp.update_profile(f.alice.id, {.username = "a2"}));
  EXPECT_EQ(f.idp.dispatch_due(), 0u);
  EXPECT_TRUE(is(f.idp.deauthorize(f.alice.id, f.app.id).error(), errc::not_found));
}

}  // namespace
}  // namespace linksim::idp
