// The route table: matching, captures, 404, 405 with Allow, guards and storage failures.
#include "linksim/http/router.hpp"

#include "linksim/store/sqlite.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace linksim::http {
namespace {

request make(std::string method, std::string target) {
  request r;
  r.method = std::move(method);
  r.target = std::move(target);
  return r;
}

response text(int status, std::string body) {
  response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

struct routes_test : testing::Test {
  std::vector<std::string> logged;
  router r{"test",
           [](const boost::system::error_code& ec, std::string_view detail) {
             return text(is(ec, errc::not_found) ? 404 : 405,
                         ec.message() + "|" + std::string(detail));
           },
           [this](std::string_view line) { logged.emplace_back(line); }};

  void SetUp() override {
    r.on("GET", "/items", [](const request&, const route_match&) { return text(200, "list"); });
    r.on("POST", "/items", [](const request&, const route_match&) { return text(201, "made"); });
    r.on("GET", "/items/{id}", [](const request&, const route_match& m) {
      return text(200, "item " + std::string(m["id"]));
    });
    r.on("DELETE", "/items/{id}",
         [](const request&, const route_match&) { return text(200, "gone"); });
    r.on("GET", "/@{name}/posts", [](const request&, const route_match& m) {
      return text(200, "posts of " + std::string(m["name"]));
    });
    r.on("GET", "/", [](const request&, const route_match&) { return text(200, "home"); });
    r.on("GET", "/broken", [](const request&, const route_match&) -> response {
      throw store::error(10, "disk I/O error");
    });
  }
};

TEST_F(routes_test, MatchesMethodAndPathWithCaptures) {
  EXPECT_EQ(r(make("GET", "/items")).body, "list");
  EXPECT_EQ(r(make("POST", "/items")).status, 201);
  EXPECT_EQ(r(make("GET", "/items/42?x=1")).body, "item 42");
  EXPECT_EQ(r(make("GET", "/@alice/posts")).body, "posts of alice");
  EXPECT_EQ(r(make("GET", "/")).body, "home");
}

TEST_F(routes_test, AnUnknownPathIs404WithThePath) {
  const auto res = r(make("GET", "/items/42/extra"));
  EXPECT_EQ(res.status, 404);
  EXPECT_NE(res.body.find("|/items/42/extra"), std::string::npos) << res.body;
  EXPECT_EQ(r(make("GET", "/alice/posts")).status, 404);  // the prefix '@' is part of the pattern
}

TEST_F(routes_test, AKnownPathWithAnotherMethodIs405WithEveryAllowedMethod) {
  auto res = r(make("PUT", "/items/7"));
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.headers.get("Allow"), "GET, DELETE");
  res = r(make("DELETE", "/items"));
  EXPECT_EQ(res.headers.get("Allow"), "GET, POST");
}

TEST_F(routes_test, AGuardAnswersForEveryPathUnderItsPrefixOnly) {
  r.guard_prefix("/items", [](const request& req) -> std::optional<response> {
    if (req.headers.get("Authorization") == "Bearer ok") return std::nullopt;
    return text(401, "no");
  });
  EXPECT_EQ(r(make("GET", "/items/1")).status, 401);
  EXPECT_EQ(r(make("PATCH", "/items/nowhere/at/all")).status, 401);  // before 404 or 405
  EXPECT_EQ(r(make("GET", "/itemsx")).status, 404);                  // not under the prefix
  auto req = make("GET", "/items/1");
  req.headers.set("Authorization", "Bearer ok");
  EXPECT_EQ(r(req).body, "item 1");
}

TEST(BearerGuard, LetsThroughOnlyTheTokenAndNothingWhenTheTokenIsEmpty) {
  auto with = [](std::string auth) {
    request r = make("GET", "/admin");
    if (!auth.empty()) r.headers.set("Authorization", std::move(auth));
    return r;
  };
  const auto g = bearer_guard("s3cret", text(401, "refused"));
  EXPECT_FALSE(g(with("Bearer s3cret")).has_value());
  EXPECT_EQ(g(with("Bearer s3cre")).value().status, 401);
  EXPECT_EQ(g(with("bearer s3cret")).value().status, 401);
  EXPECT_EQ(g(with("")).value().body, "refused");
  const auto none = bearer_guard("", text(401, "refused"));
  EXPECT_TRUE(none(with("Bearer ")).has_value());
}

TEST_F(routes_test, AStorageFailureIs503AndLogged) {
  const auto res = r(make("GET", "/broken"));
  EXPECT_EQ(res.status, 503);
  EXPECT_NE(res.body.find("storage_unavailable"), std::string::npos) << res.body;
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0], "test: storage: disk I/O error");
}

}  // namespace
}  // namespace linksim::http
