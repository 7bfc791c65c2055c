// A dependent service without sockets for the domain tests: the provider's handler answers its
// calls in-process, and helpers sign up an account and sign what the provider would send.
#pragma once

#include "../idp/support.hpp"

#include "linksim/common/crypto.hpp"
#include "linksim/common/json.hpp"
#include "linksim/threads_sim/routes.hpp"
#include "linksim/threads_sim/service.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <memory>
#include <string>

namespace linksim::testing {

using threads_sim::intent;

// Carries requests for http://idp.test to the provider's handler, and those for
// http://ads.test to `ads`, a scripted ad platform (none: unreachable).
class provider_transport final : public http::transport {
 public:
  explicit provider_transport(http::handler h) : h_(std::move(h)) {}
  std::function<result<http::response>(const http::request&)> ads;
  std::vector<http::request> to_ads;
  result<http::response> send(http::request req) override {
    if (req.target.starts_with("http://ads.test")) {
      to_ads.push_back(req);
      if (!ads) return make_error_code(errc::upstream_unavailable);
      return ads(req);
    }
    constexpr std::string_view origin = "http://idp.test";
    if (!std::string_view(req.target).starts_with(origin))
      return make_error_code(errc::upstream_unavailable);
    req.target.erase(0, origin.size());
    return h_(req);
  }

 private:
  http::handler h_;
};

struct world {
  idp_fixture provider;
  provider_transport to_provider{provider.handler};
  store::database db{provider.dir / "threads.db"};
  std::unique_ptr<threads_sim::service> threads;
  idp::client client;

  std::string ads_url;  // set before open() to give the service an ad platform
  // Runs in sign_in after the provider's approval, before the service's callback.
  std::function<void()> before_callback;

  explicit world(const std::string& profile = "documented", std::string ads = {})
      : ads_url(std::move(ads)) {
    client = provider.idp
                 .register_client({.name = "Threads",
                                   .system = "threads",
                                   .redirect_uris = {"http://threads.test/callback"}})
                 .value();
    open(profile);
  }
  void open(const std::string& profile) {
    threads.reset();
    threads_sim::config c;
    c.base_url = "http://threads.test";
    c.idp_url = "http://idp.test";
    c.client_id = client.id;
    c.client_secret = client.secret;
    c.rules = threads_sim::find_behaviour(profile).value();
    c.ads_url = ads_url;
    c.ads_token = "ads-token";
    threads = std::make_unique<threads_sim::service>(db, provider.clock, provider.random,
                                                     provider.recorder, to_provider, c);
  }

  // The provider's side of the browser's trip, through its service functions.
  result<threads_sim::callback_result> sign_in(const std::string& username, std::string& key) {
    auto start = threads->begin_login(intent::signup);
    key = start.browser_key;
    auto q =
        http::parse_form(start.authorize_url.substr(start.authorize_url.find('?') + 1)).value();
    idp::authorize_request ar;
    ar.client_id = *http::find_param(q, "client_id");
    ar.redirect_uri = *http::find_param(q, "redirect_uri");
    ar.response_type = "code";
    ar.scope = *http::find_param(q, "scope");
    ar.state = *http::find_param(q, "state");
    ar.code_challenge = *http::find_param(q, "code_challenge");
    ar.code_challenge_method = "S256";
    auto pending = provider.idp.begin_authorization(ar).value();
    auto account = provider.idp.authenticate_user(username, "pw-" + username + "-123").value();
    const auto session = provider.idp.open_session(account.id, "");
    auto back = provider.idp.approve(pending.id, session, account.id).value();
    back = back.substr(0, back.find('#'));  // Meta's "#_"
    auto answer = http::parse_form(back.substr(back.find('?') + 1)).value();
    if (before_callback) before_callback();
    return threads->complete_login(key, answer);
  }

  std::int64_t account(const std::string& username) {
    return provider.idp
        .create_account({.username = username, .password = "pw-" + username + "-123"})
        .value()
        .id;
  }
};

// A signed-up profile of a new provider account `username`.
inline threads_sim::profile sign_up(world& w, const std::string& username) {
  (void)w.account(username);
  std::string key;
  auto r = w.sign_in(username, key);
  EXPECT_TRUE(r && r->confirm) << (r ? "no confirmation step" : r.error().message());
  auto done = w.threads->confirm_link(r->confirm->id, key);
  EXPECT_TRUE(done) << (done ? "" : done.error().message());
  return done->first;
}

// A webhook body as the provider sends it (one change), and its X-Hub-Signature-256.
struct signed_webhook {
  std::string body;
  std::string signature;
};
inline signed_webhook webhook(const world& w, std::int64_t account, std::string_view field,
                              boost::json::object value, std::int64_t version) {
  value["version"] = version;
  const boost::json::object envelope{
      {"object", "instagram"},
      {"entry", boost::json::array{boost::json::object{
                    {"id", std::to_string(account)},
                    {"time", 0},
                    {"changes", boost::json::array{boost::json::object{
                                    {"field", field}, {"value", std::move(value)}}}}}}}};
  signed_webhook h{boost::json::serialize(envelope), {}};
  h.signature = "sha256=" + to_hex(hmac_sha256(w.client.secret, h.body));
  return h;
}

// Meta's signed_request whose user_id is `user_id`, signed with the client secret.
inline std::string signed_request(const world& w, const std::string& user_id) {
  const std::string payload = base64url_encode(std::string("{\"user_id\":\"") + user_id +
                                               "\",\"algorithm\":\"HMAC-SHA256\"}");
  const auto sig = hmac_sha256(w.client.secret, payload);
  return base64url_encode(std::span<const std::uint8_t>(sig.data(), sig.size())) + "." + payload;
}

// Meta's signed_request for `account`, signed with the client secret.
inline std::string signed_request(const world& w, std::int64_t account) {
  return signed_request(w, std::to_string(account));
}

}  // namespace linksim::testing
