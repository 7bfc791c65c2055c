// A provider on a manual clock with a scripted transport, for tests that call its functions and
// its handler directly, without sockets.
#pragma once

#include "linksim/common/json.hpp"
#include "linksim/idp/routes.hpp"
#include "linksim/idp/service.hpp"
#include "linksim/store/sqlite.hpp"

#include "../request.hpp"
#include "../temp_dir.hpp"

#include <boost/json/parse.hpp>

#include <deque>
#include <functional>

namespace linksim::testing {

// Answers outbound requests from a script and remembers them.
class scripted_transport final : public http::transport {
 public:
  std::function<result<http::response>(const http::request&)> answer =
      [](const http::request&) -> result<http::response> { return http::response{}; };
  std::vector<http::request> sent;

  result<http::response> send(http::request req) override {
    sent.push_back(req);
    return answer(sent.back());
  }
};

class memory_recorder final : public evidence::recorder {
 public:
  std::vector<evidence::flow> flows;
  void record(const evidence::flow& f) override { flows.push_back(f); }
};

// Answers Meta's hub.challenge handshake the way a correct receiver does.
inline result<http::response> echo_challenge(const http::request& req) {
  http::response r;
  auto q = http::parse_form(std::string_view(req.target).substr(req.target.find('?') + 1));
  if (q) {
    if (const auto* c = http::find_param(*q, "hub.challenge")) r.body = *c;
  }
  return r;
}

struct idp_fixture {
  temp_dir dir;
  store::database db{dir / "idp.db"};
  manual_clock clock{default_epoch};
  seeded_random random{1};
  memory_recorder recorder;
  scripted_transport transport;
  idp::service idp{db, clock, random, recorder, transport, make_config()};
  http::handler handler =
      idp::make_handler(idp, {"admin-secret", {{"threads", "threads-internal-token"}}});

  idp_fixture() = default;
  explicit idp_fixture(idp::config c) : idp{db, clock, random, recorder, transport, std::move(c)} {}

  static idp::config make_config() {
    idp::config c;
    c.issuer = "http://idp.test";
    c.password = {1u << 10, 8, 1};  // fast hashes: tests log in often
    return c;
  }

  idp::account make_account(const std::string& username) {
    auto a = idp.create_account(
        {username, "password-" + username, username + " Name", "bio of " + username});
    EXPECT_TRUE(a) << username;
    return *a;
  }

  idp::client make_client(const std::string& redirect = "http://app.test/cb") {
    auto c = idp.register_client(
        {"Test App", "threads", {redirect}, "http://app.test/deauth", "http://app.test/deletion"});
    EXPECT_TRUE(c);
    return *c;
  }

  http::response call(const std::string& method, const std::string& target,
                      const std::string& body = {}, const std::string& content_type = {},
                      const std::vector<http::header_field>& extra = {}) {
    return handler(make_request(method, target, body, content_type, extra));
  }

  http::response admin(const std::string& method, const std::string& target,
                       const std::string& json_body = {}) {
    return call(method, target, json_body, json_body.empty() ? "" : "application/json",
                {{"Authorization", "Bearer admin-secret"}});
  }

  http::response form(const std::string& target, const http::params& p,
                      const std::vector<http::header_field>& extra = {}) {
    return call("POST", target, http::form_encode(p), "application/x-www-form-urlencoded", extra);
  }
};

inline boost::json::value body_json(const http::response& r) {
  return boost::json::parse(r.body);
}

// A verifier of 43+ characters and its S256 challenge.
inline std::string verifier_for(char c = 'v') {
  return std::string(64, c);
}
inline std::string challenge_for(const std::string& verifier) {
  return base64url_encode(sha256(verifier));
}

}  // namespace linksim::testing
