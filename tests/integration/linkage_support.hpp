// Both services on real sockets, sharing a manual clock and the evidence log, with the
// dependent service registered and subscribed at the provider: the world of the linkage tests.
// Webhooks leave only when a test calls deliver(); polls run only when it calls poll().
#pragma once

#include "support.hpp"

#include "linksim/app/threads_host.hpp"
#include "linksim/threads_sim/service.hpp"

namespace linksim::testing {

struct linked_world {
  idp_server idp;
  std::string webhook_secret;  // set while `threads` registers: declared before it
  app::threads_host threads;
  std::string base;  // the dependent service

  explicit linked_world(const std::string& profile = "documented",
                        milliseconds reconcile_interval = 5min)
      : threads(options(idp.dir, profile, reconcile_interval, idp.base), idp.clock, idp.random,
                idp.evidence, [this](const std::string& url, const auto&) {
                  auto c = idp.host.service().register_client(
                      {.name = "Threads-style service",
                       .system = "threads",
                       .redirect_uris = {url + "/callback"},
                       .deauthorize_url = url + "/ig/deauthorize",
                       .data_deletion_url = url + "/ig/data-deletion"});
                  EXPECT_TRUE(c);
                  webhook_secret = c->webhook_secret;
                  return app::client_credentials{c->id, c->secret};
                }) {
    threads.start();
    base = threads.base_url();
    std::vector<std::string> fields(std::begin(webhook_fields), std::end(webhook_fields));
    auto sub = idp.host.service().subscribe(threads.client().id, base + "/webhooks/instagram",
                                            "verify-me", fields);
    EXPECT_TRUE(sub) << sub.error().message();
  }

  static app::threads_host_options options(const temp_dir& d, const std::string& profile,
                                           milliseconds interval, const std::string& idp_url) {
    app::threads_host_options o;
    o.database = d / "threads.db";
    o.admin_token = "admin-token";
    o.idp_url = idp_url;
    o.verify_token = "verify-me";
    o.internal_token = "threads-internal-token";
    o.rules = threads_sim::find_behaviour(profile).value();
    o.reconcile_interval = interval;
    o.reconcile_tick = 1h;  // tests poll explicitly
    return o;
  }

  idp::service& provider() { return idp.host.service(); }
  threads_sim::service& service() { return threads.service(); }

  // An account on the provider; returns its id.
  std::int64_t account(const std::string& username) { return std::stoll(idp.account(username)); }

  // The browser's way in: /signup or /login, the provider's pages, and back to /callback.
  // Returns the service's answer to the callback (the confirmation page, or a redirect).
  // `created_as` is the username the account was created with (its password derives from it).
  http::response start(browser& b, const std::string& username, const std::string& path = "/signup",
                       bool another_account = false, const std::string& created_as = {}) {
    auto r = b.get(base + path);
    EXPECT_EQ(r.status, 302) << r.body;
    const std::string back = idp.sign_in_at(b, std::string(r.headers.get("Location")), username,
                                            another_account, created_as);
    EXPECT_TRUE(back.starts_with(base + "/callback?")) << back;
    return b.get(back);
  }

  // Presses "Link Account" on a confirmation page; returns the answer.
  http::response press_link(browser& b, const http::response& page,
                            const std::string& handle = {}) {
    const std::string marker = "name=\"request\" value=\"";
    const auto at = page.body.find(marker);
    EXPECT_NE(at, std::string::npos) << page.body;
    const auto from = at + marker.size();
    const std::string id = page.body.substr(from, page.body.find('"', from) - from);
    http::params p{{"csrf", b.cookie("threads_csrf")}, {"request", id}};
    if (!handle.empty()) p.emplace_back("handle", handle);
    return b.post_form(base + "/link", p);
  }

  // Sign-up and link in one go; returns the session token (a Bearer for the JSON API).
  std::string join(browser& b, const std::string& username, const std::string& created_as = {}) {
    auto page = start(b, username, "/signup", false, created_as);
    EXPECT_EQ(page.status, 200) << page.body;
    auto r = press_link(b, page);
    EXPECT_EQ(r.status, 303) << r.body;
    return b.cookie("threads_session");
  }

  http::response get(const std::string& path, const std::string& session = {}) {
    return call("GET", path, {}, session);
  }
  http::response call(const std::string& method, const std::string& path,
                      const std::string& json = {}, const std::string& session = {}) {
    std::vector<http::header_field> h;
    if (!session.empty()) h.push_back({"Authorization", "Bearer " + session});
    return send(method, path, json, json.empty() ? "" : "application/json", h);
  }
  http::response send(const std::string& method, const std::string& path, const std::string& body,
                      const std::string& content_type,
                      const std::vector<http::header_field>& headers = {}) {
    http::request r;
    r.method = method;
    r.target = base + path;
    r.body = body;
    if (!content_type.empty()) r.headers.set("Content-Type", content_type);
    for (const auto& f : headers) r.headers.set(f.name, f.value);
    auto res = idp.http.send(r);
    EXPECT_TRUE(res) << method << " " << path;
    return res ? *res : http::response{};
  }

  // The profiles the service holds for a provider account (admin view).
  boost::json::array profiles_of(std::int64_t ig_user_id) {
    http::request r;
    r.target = base + "/admin/profiles?ig_user_id=" + std::to_string(ig_user_id);
    r.headers.set("Authorization", "Bearer admin-token");
    auto res = idp.http.send(r);
    EXPECT_TRUE(res && res->status == 200);
    return res ? json_of(*res).at("data").as_array() : boost::json::array{};
  }
  boost::json::object profile_of(std::int64_t ig_user_id) {
    auto a = profiles_of(ig_user_id);
    EXPECT_EQ(a.size(), 1u);
    return a.empty() ? boost::json::object{} : a.front().as_object();
  }
  std::string username_of(std::int64_t ig_user_id) {
    auto p = profile_of(ig_user_id);
    return p.empty() ? std::string() : std::string(p.at("username").as_string());
  }

  // Sends every webhook that is due; returns how many went out.
  std::size_t deliver() {
    std::size_t n = 0;
    while (std::size_t k = provider().dispatch_due()) n += k;
    return n;
  }
  // Lets time pass and runs the polls that fell due.
  std::size_t poll_after(milliseconds d) {
    idp.clock.advance(d);
    return service().reconcile_due();
  }
  // A webhook body for `account` signed with the app secret, as the provider would send it.
  http::response post_webhook(std::int64_t account, const std::string& field,
                              const std::string& value_json,
                              const std::string& secret_override = {}) {
    const std::string body = R"({"object":"user","entry":[{"id":")" + std::to_string(account) +
                             R"(","time":1767225600,"changes":[{"field":")" + field +
                             R"(","value":)" + value_json + "}]}]}";
    const std::string secret = secret_override.empty() ? threads.client().secret : secret_override;
    return send("POST", "/webhooks/instagram", body, "application/json",
                {{"X-Hub-Signature-256", "sha256=" + to_hex(hmac_sha256(secret, body))}});
  }
};

}  // namespace linksim::testing
