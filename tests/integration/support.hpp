// Real servers on loopback port 0, a browser that keeps cookies, and the OAuth dance through
// the provider's real pages.
#pragma once

#include "linksim/app/idp_host.hpp"
#include "linksim/common/json.hpp"
#include "linksim/evidence/log.hpp"
#include "linksim/idp/service.hpp"
#include "linksim/net/server.hpp"

#include "../request.hpp"
#include "../temp_dir.hpp"

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <map>

namespace linksim::testing {

using namespace std::chrono_literals;

inline std::string challenge_for(const std::string& verifier) {
  return base64url_encode(sha256(verifier));
}

// Query parameter `key` of an absolute URL (up to any fragment).
inline std::string query_value(std::string_view url, std::string_view key) {
  return http::query_param(url, key);
}

inline boost::json::object json_of(const http::response& r) {
  return boost::json::parse(r.body).as_object();
}

// A browser: keeps the cookies servers set, never follows redirects.
class browser {
 public:
  http::response get(const std::string& url) { return send("GET", url, ""); }
  http::response post_form(const std::string& url, const http::params& p) {
    return send("POST", url, http::form_encode(p));
  }
  std::string cookie(const std::string& name) const {
    auto it = cookies_.find(name);
    return it == cookies_.end() ? std::string() : it->second;
  }

 private:
  http::response send(const std::string& method, const std::string& url, const std::string& body) {
    http::request r;
    r.method = method;
    r.target = url;
    r.body = body;
    if (method == "POST") r.headers.set("Content-Type", "application/x-www-form-urlencoded");
    std::string c;
    for (const auto& [k, v] : cookies_) c += (c.empty() ? "" : "; ") + k + "=" + v;
    if (!c.empty()) r.headers.set("Cookie", c);
    auto res = client_.send(r);
    EXPECT_TRUE(res) << method << " " << url << ": " << res.error().message();
    if (!res) return {};
    for (const auto& f : res->headers.fields) {
      if (f.name != "Set-Cookie") continue;
      const auto eq = f.value.find('=');
      const auto semi = f.value.find(';');
      cookies_[f.value.substr(0, eq)] = f.value.substr(eq + 1, semi - eq - 1);
    }
    return *res;
  }

  net::client client_{milliseconds{5000}};
  std::map<std::string, std::string> cookies_;
};

// One request on `client`. A request that gets no answer is a test failure, and an empty response.
inline http::response send_request(net::client& client, const std::string& method,
                                   const std::string& url, const std::string& body = {},
                                   const std::string& content_type = {},
                                   const std::vector<http::header_field>& headers = {}) {
  auto res = client.send(make_request(method, url, body, content_type, headers));
  EXPECT_TRUE(res) << method << " " << url;
  return res ? *res : http::response{};
}

// One identity provider on a real socket, with a manual clock and a real evidence log.
struct idp_server {
  temp_dir dir;
  manual_clock clock{default_epoch};
  seeded_random random{7};
  evidence::log evidence{dir / "evidence.db", "linksim.test", std::nullopt};
  app::idp_host host;
  std::string base;
  net::client http{milliseconds{5000}};

  explicit idp_server(milliseconds dispatch_interval = 1h, milliseconds poll_hold = 4s,
                      idp::provider_rules rules = {})
      : host(options(dir, dispatch_interval, poll_hold, rules), clock, random, evidence) {
    host.start();
    base = host.base_url();
  }

  static app::idp_host_options options(const temp_dir& d, milliseconds interval,
                                       milliseconds poll_hold = 4s,
                                       idp::provider_rules rules = {}) {
    app::idp_host_options o;
    o.rules = rules;
    o.ssf_poll_hold = poll_hold;
    o.database = d / "idp.db";
    o.admin_token = "admin-token";
    o.password = {1u << 10, 8, 1};
    o.dispatch_interval = interval;
    o.internal_tokens = {{"threads", "threads-internal-token"}};
    return o;
  }

  http::response request(const std::string& method, const std::string& path,
                         const std::string& body = {}, const std::string& content_type = {},
                         const std::vector<http::header_field>& headers = {}) {
    return send_request(http, method, base + path, body, content_type, headers);
  }

  http::response admin(const std::string& method, const std::string& path,
                       const std::string& json = {}) {
    return request(method, path, json, json.empty() ? "" : "application/json",
                   {{"Authorization", "Bearer admin-token"}});
  }

  http::response form(const std::string& path, const http::params& p,
                      const std::vector<http::header_field>& headers = {}) {
    return request("POST", path, http::form_encode(p), "application/x-www-form-urlencoded",
                   headers);
  }

  // Creates an account through the admin API; returns its id.
  std::string account(const std::string& username) {
    auto r = admin("POST", "/admin/accounts",
                   R"({"username":")" + username + R"(","password":"pw-)" + username +
                       R"(-123","name":")" + username + R"( N"})");
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(json_of(r).at("id").as_string());
  }

  struct app_client {
    std::string id, secret, redirect, webhook_secret;
  };
  // `more`: further registration members, as JSON object members ("name":value,...).
  app_client client(const std::string& redirect = "http://127.0.0.1:9/cb",
                    const std::string& more = {}) {
    auto r = admin("POST", "/admin/clients",
                   R"({"name":"Test App","system":"threads","redirect_uris":[")" + redirect +
                       R"("])" + (more.empty() ? "" : "," + more) + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    auto o = json_of(r);
    return {std::string(o.at("client_id").as_string()),
            std::string(o.at("client_secret").as_string()), redirect,
            std::string(o.at("webhook_secret").as_string())};
  }

  std::string authorize_url(const app_client& c, const std::string& challenge,
                            const std::string& scope = "user_profile",
                            const std::string& state = "st-1") {
    return base + "/oauth/authorize?" +
           http::form_encode({{"client_id", c.id},
                              {"redirect_uri", c.redirect},
                              {"response_type", "code"},
                              {"scope", scope},
                              {"state", state},
                              {"code_challenge", challenge},
                              {"code_challenge_method", "S256"}});
  }

  // authorize → login page → login → consent page → allow. Returns the redirect to the client.
  std::string sign_in(browser& b, const app_client& c, const std::string& username,
                      const std::string& verifier, const std::string& scope = "user_profile") {
    return sign_in_at(b, authorize_url(c, challenge_for(verifier), scope), username);
  }

  // The same from an authorization URL a client built. A browser already logged in skips the
  // password unless `another_account` asks to log in to a further account; the consent page
  // then chooses the account just logged in, or else the one it preselects.
  // The password is the one account() gave `password_of` (default: `username`).
  std::string sign_in_at(browser& b, const std::string& url, const std::string& username,
                         bool another_account = false, std::string password_of = {}) {
    auto r = b.get(url);
    EXPECT_EQ(r.status, 302) << r.body;
    std::string next(r.headers.get("Location"));
    const std::string request_id = query_value("http://x" + next, "request");
    if (next.starts_with("/oauth/login") || another_account) {
      if (!next.starts_with("/oauth/login")) next = "/oauth/login?request=" + request_id;
      EXPECT_EQ(b.get(base + next).status, 200);
      r = b.post_form(
          base + "/oauth/login",
          {{"request", request_id},
           {"csrf", b.cookie("idp_csrf")},
           {"username", username},
           {"password", "pw-" + (password_of.empty() ? username : password_of) + "-123"}});
      EXPECT_EQ(r.status, 303) << r.body;
      next = std::string(r.headers.get("Location"));
    }
    r = b.get(base + next);
    EXPECT_EQ(r.status, 200) << r.body;
    std::string account_id = query_value("http://x" + next, "account");
    if (account_id.empty()) {
      // Already logged in: take the account the consent page preselects.
      const auto checked = r.body.find("\" checked>");
      const auto start = r.body.rfind('"', checked - 1) + 1;
      account_id = r.body.substr(start, checked - start);
    }
    r = b.post_form(base + "/oauth/consent", {{"request", request_id},
                                              {"csrf", b.cookie("idp_csrf")},
                                              {"account_id", account_id},
                                              {"decision", "allow"}});
    EXPECT_EQ(r.status, 302) << r.body;
    return std::string(r.headers.get("Location"));
  }

  http::response redeem(const app_client& c, const std::string& code, const std::string& verifier,
                        std::string redirect = {}) {
    return form("/oauth/token", {{"grant_type", "authorization_code"},
                                 {"client_id", c.id},
                                 {"client_secret", c.secret},
                                 {"redirect_uri", redirect.empty() ? c.redirect : redirect},
                                 {"code", code},
                                 {"code_verifier", verifier}});
  }
};

// alice signs up on the dependent service with her demo login, through every page. Returns her
// provider account id, or an empty string after reporting the step that did not answer as
// expected.
inline std::string sign_up_alice(const std::string& base, const std::string& threads) {
  auto failed = [](std::string_view step, const http::response& r) {
    ADD_FAILURE() << "sign-up, " << step << ": status " << r.status << "\n" << r.body;
    return std::string();
  };
  browser b;
  auto r = b.get(threads + "/signup");
  if (r.status != 302) return failed("/signup", r);
  r = b.get(std::string(r.headers.get("Location")));
  if (r.status != 302) return failed("authorize", r);
  std::string next(r.headers.get("Location"));
  const std::string request = query_value("http://x" + next, "request");
  if (auto page = b.get(base + next); page.status != 200) return failed("login page", page);
  r = b.post_form(base + "/oauth/login", {{"request", request},
                                          {"csrf", b.cookie("idp_csrf")},
                                          {"username", "alice"},
                                          {"password", "linksim-demo"}});
  if (r.status != 303) return failed("login", r);
  next = std::string(r.headers.get("Location"));
  const std::string account = query_value("http://x" + next, "account");
  if (account.empty()) return failed("login's redirect names no account", r);
  if (auto page = b.get(base + next); page.status != 200) return failed("consent page", page);
  r = b.post_form(base + "/oauth/consent", {{"request", request},
                                            {"csrf", b.cookie("idp_csrf")},
                                            {"account_id", account},
                                            {"decision", "allow"}});
  if (r.status != 302) return failed("consent", r);
  const auto page = b.get(std::string(r.headers.get("Location")));
  const std::string marker = "name=\"request\" value=\"";
  const auto at = page.body.find(marker);
  if (page.status != 200 || at == std::string::npos) return failed("Link Account page", page);
  const auto from = at + marker.size();
  r = b.post_form(threads + "/link",
                  {{"csrf", b.cookie("threads_csrf")},
                   {"request", page.body.substr(from, page.body.find('"', from) - from)}});
  if (r.status != 303) return failed("link", r);
  return account;
}

}  // namespace linksim::testing
