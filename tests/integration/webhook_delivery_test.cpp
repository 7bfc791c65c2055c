// Webhooks over real sockets: the handshake against a real receiver, signatures checked there by
// an independent verifier (OpenSSL directly), retries against a failing receiver, 410, and the
// background dispatcher.
#include "support.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace linksim {
namespace {

using namespace testing;

std::string hmac_hex(const std::string& key, const std::string& data) {
  unsigned char out[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  char hex[65];
  for (unsigned i = 0; i < len; ++i) std::snprintf(hex + 2 * i, 3, "%02x", out[i]);
  return std::string(hex, 64);
}

// A webhook receiver on its own socket: answers the handshake, checks each POST's signature
// over the raw bytes, and answers with the scripted status.
class receiver {
 public:
  explicit receiver(std::string app_secret) : secret_(std::move(app_secret)) { server_.start(); }
  std::string url() const { return server_.base_url() + "/hook"; }

  void answer_with(std::vector<int> statuses) {
    std::lock_guard l(m_);
    statuses_ = std::move(statuses);
  }
  struct seen {
    std::string body, webhook_id;
    bool signature_ok;
  };
  std::vector<seen> posts() {
    std::lock_guard l(m_);
    return posts_;
  }
  // Waits until `n` POSTs have arrived or `deadline` has passed; the POSTs so far.
  std::vector<seen> wait_for_posts(std::size_t n, milliseconds deadline) {
    std::unique_lock l(m_);
    arrived_.wait_for(l, deadline, [&] { return posts_.size() >= n; });
    return posts_;
  }

 private:
  http::response handle(const http::request& req) {
    http::response r;
    if (req.method == "GET") {
      auto q = http::parse_form(req.query());
      if (q && *http::find_param(*q, "hub.verify_token") == "vt")
        r.body = *http::find_param(*q, "hub.challenge");
      else
        r.status = 403;
      return r;
    }
    std::lock_guard l(m_);
    const bool ok =
        req.headers.get("X-Hub-Signature-256") == "sha256=" + hmac_hex(secret_, req.body);
    posts_.push_back({req.body, std::string(req.headers.get("webhook-id")), ok});
    arrived_.notify_all();
    if (!statuses_.empty()) {
      r.status = statuses_.front();
      if (statuses_.size() > 1) statuses_.erase(statuses_.begin());
    }
    return r;
  }

  std::string secret_;
  std::mutex m_;
  std::vector<int> statuses_;
  std::vector<seen> posts_;
  std::condition_variable arrived_;
  net::server server_{{}, [this](const http::request& r) { return handle(r); }};
};

struct Webhooks : ::testing::Test {
  idp_server idp;
  idp_server::app_client app = idp.client();
  receiver hook{app.secret};
  std::string alice = idp.account("alice");

  void subscribe_and_link() {
    auto r = idp.admin("POST", "/admin/clients/" + app.id + "/subscriptions",
                       R"({"callback_url":")" + hook.url() + R"(","verify_token":"vt"})");
    ASSERT_EQ(r.status, 201) << r.body;
    browser b;
    const std::string verifier(50, 'v');
    // The app redeems its code: that makes the grant, and the app a recipient of her changes.
    const auto back = idp.sign_in(b, app, "alice", verifier);
    const auto r2 = idp.redeem(app, http::query_param(back, "code"), verifier);
    ASSERT_EQ(r2.status, 200) << r2.body;
  }
  std::int64_t dispatch() {
    return json_of(idp.admin("POST", "/admin/webhooks/dispatch")).at("attempted").as_int64();
  }
};

TEST_F(Webhooks, HandshakeNeedsTheVerifyToken) {
  auto r = idp.admin("POST", "/admin/clients/" + app.id + "/subscriptions",
                     R"({"callback_url":")" + hook.url() + R"(","verify_token":"wrong"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("hub.challenge"), std::string::npos);
}

TEST_F(Webhooks, RenameReachesTheReceiverSignedAndEvidenced) {
  subscribe_and_link();
  ASSERT_EQ(
      idp.admin("PATCH", "/admin/accounts/" + alice, R"({"username":"alice.renamed"})").status,
      200);
  EXPECT_EQ(dispatch(), 1);
  const auto posts = hook.posts();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_TRUE(posts[0].signature_ok);
  EXPECT_NE(posts[0].body.find(R"("field":"username")"), std::string::npos);
  EXPECT_NE(posts[0].body.find("alice.renamed"), std::string::npos);
  EXPECT_NE(idp.evidence.entry(idp.evidence.size() - 1).find("\"channel\":\"webhook\""),
            std::string::npos);
}

TEST_F(Webhooks, FailingReceiverIsRetriedUntilItAccepts) {
  subscribe_and_link();
  hook.answer_with({503, 500, 200});
  ASSERT_EQ(idp.admin("PATCH", "/admin/accounts/" + alice, R"({"biography":"new"})").status, 200);
  EXPECT_EQ(dispatch(), 1);
  idp.clock.advance(6s);
  EXPECT_EQ(dispatch(), 1);
  idp.clock.advance(6min);
  EXPECT_EQ(dispatch(), 1);
  idp.clock.advance(1h);
  EXPECT_EQ(dispatch(), 0);  // delivered on the third attempt: nothing left
  const auto posts = hook.posts();
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_EQ(posts[0].webhook_id, posts[2].webhook_id);
  auto d =
      json_of(idp.admin("GET", "/admin/deliveries?state=delivered")).at("deliveries").as_array();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].at("attempts"), 3);
}

TEST_F(Webhooks, GoneStopsDeliveries) {
  subscribe_and_link();
  hook.answer_with({410});
  ASSERT_EQ(idp.admin("PATCH", "/admin/accounts/" + alice, R"({"biography":"one"})").status, 200);
  EXPECT_EQ(dispatch(), 1);
  ASSERT_EQ(idp.admin("PATCH", "/admin/accounts/" + alice, R"({"biography":"two"})").status, 200);
  idp.clock.advance(48h);
  EXPECT_EQ(dispatch(), 0);
  EXPECT_EQ(hook.posts().size(), 1u);
  // The one that met the 410 and the change made after it, held.
  const auto held =
      json_of(idp.admin("GET", "/admin/deliveries?state=disabled")).at("deliveries").as_array();
  ASSERT_EQ(held.size(), 2u);
  EXPECT_EQ(idp.admin("GET", "/admin/deliveries?state=bogus").status, 400);
  // Replaying the oldest says the receiver is back: both go, in order.
  hook.answer_with({200, 200});
  const std::string oldest(held.back().at("id").as_string());
  EXPECT_EQ(idp.admin("POST", "/admin/deliveries/" + oldest + "/replay").status, 200);
  EXPECT_EQ(dispatch(), 2);
  const auto posts = hook.posts();
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_NE(posts[1].body.find("\"one\""), std::string::npos) << posts[1].body;
  EXPECT_NE(posts[2].body.find("\"two\""), std::string::npos) << posts[2].body;
}

TEST(WebhookDispatcher, DeliversInTheBackgroundWithoutBeingAsked) {
  idp_server idp(milliseconds{20});
  const auto app = idp.client();
  receiver hook(app.secret);
  const std::string alice = idp.account("alice");
  ASSERT_EQ(idp.admin("POST", "/admin/clients/" + app.id + "/subscriptions",
                      R"({"callback_url":")" + hook.url() + R"(","verify_token":"vt"})")
                .status,
            201);
  browser b;
  const std::string verifier(50, 'v');
  const auto back = idp.sign_in(b, app, "alice", verifier);
  ASSERT_EQ(idp.redeem(app, http::query_param(back, "code"), verifier).status, 200);
  ASSERT_EQ(idp.admin("PATCH", "/admin/accounts/" + alice, R"({"name":"Alice B"})").status, 200);
  // The dispatcher thread sends it on its own: wait for it, 5 s at most.
  const auto posts = hook.wait_for_posts(1, milliseconds{5000});
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_TRUE(posts[0].signature_ok);
}

}  // namespace
}  // namespace linksim
