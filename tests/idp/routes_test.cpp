// Tests of the provider's HTTP routes called as a function: status codes, error bodies, pages,
// the admin API and the evidence each profile read leaves.
#include "support.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace linksim::idp {
namespace {

using testing::body_json;
using testing::idp_fixture;

TEST(ErrorMapping, EveryProviderErrorAndEverySharedOneHasAStatus) {
  for (int e = static_cast<int>(error::unknown_client);
       e <= static_cast<int>(error::client_id_conflict); ++e) {
    const auto ec = make_error_code(static_cast<error>(e));
    EXPECT_EQ(ec.category().name(), std::string("linksim.idp"));
    const auto info = describe(ec);
    EXPECT_GE(info.status, 400) << ec.message();
    EXPECT_NE(info.code, "internal_error") << ec.message();
  }
  for (int e = static_cast<int>(errc::bad_json); e <= static_cast<int>(errc::upstream_bad_response);
       ++e) {
    const auto info = describe(make_error_code(static_cast<errc>(e)));
    EXPECT_GE(info.status, 400) << e;
    EXPECT_NE(info.code, "internal_error") << e;
  }
  // Another service's error is not the provider's to map.
  EXPECT_EQ(describe(boost::system::error_code(1, boost::system::generic_category())).status, 500);
}

TEST(AdminApi, NeedsTheAdminToken) {
  idp_fixture f;
  auto r = f.call("GET", "/admin/accounts?username=x");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(body_json(r).at("error").at("code"), "unauthorized");
  r = f.call("GET", "/admin/accounts?username=x", "", "", {{"Authorization", "Bearer wrong"}});
  EXPECT_EQ(r.status, 401);
}

TEST(AdminApi, CreatesRenamesAndReportsClearErrors) {
  idp_fixture f;
  auto r = f.admin("POST", "/admin/accounts",
                   R"({"username":"alice","password":"password1","name":"A"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id(body_json(r).at("id").as_string());
  EXPECT_EQ(
      f.admin("POST", "/admin/accounts", R"({"username":"ALICE","password":"password1"})").status,
      409);
  EXPECT_EQ(
      f.admin("POST", "/admin/accounts", R"({"username":"a b","password":"password1"})").status,
      400);
  EXPECT_EQ(f.admin("POST", "/admin/accounts", R"({"username":"bob","password":"short"})").status,
            400);
  r = f.admin("POST", "/admin/accounts", "{not json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.headers.get("Content-Type"), "application/json");
  EXPECT_EQ(body_json(r).at("error").at("code"), "invalid_request");
  r = f.admin("POST", "/admin/accounts", R"({"username":7,"password":"password1"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("username must be a string"), std::string::npos);

  r = f.admin("PATCH", "/admin/accounts/" + id, R"({"username":"alice.b","biography":"hi"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_json(r).at("username"), "alice.b");
  EXPECT_EQ(f.admin("PATCH", "/admin/accounts/" + id, R"({"email":"x"})").status, 400);
  EXPECT_EQ(f.admin("PATCH", "/admin/accounts/" + id, R"({"status":"deleted"})").status, 400);
  EXPECT_EQ(f.admin("PATCH", "/admin/accounts/" + id, R"({"status":"suspended"})").status, 200);
  EXPECT_EQ(f.admin("GET", "/admin/accounts?username=ALICE.B").status, 200);
  EXPECT_EQ(f.admin("GET", "/admin/accounts/123").status, 404);
  EXPECT_EQ(f.admin("GET", "/admin/accounts/abc").status, 404);
  EXPECT_EQ(f.admin("DELETE", "/admin/accounts/" + id).status, 200);
  EXPECT_EQ(f.admin("DELETE", "/admin/accounts/" + id).status, 410);
  r = f.admin("PUT", "/admin/accounts/" + id);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.get("Allow"), "GET, PATCH, DELETE");
}

// Every JSON body carries only the fields its endpoint reads: a surplus one is refused and named.
TEST(AdminApi, EveryJsonBodyRefusesAFieldItDoesNotRead) {
  idp_fixture f;
  const auto app = f.make_client();
  auto r = f.admin("POST", "/admin/accounts", R"({"username":"alice","password":"password1"})");
  ASSERT_EQ(r.status, 201);
  const std::string id(body_json(r).at("id").as_string());
  for (const auto& [method, path, body] :
       {std::tuple{std::string("POST"), std::string("/admin/accounts"),
                   std::string(R"({"username":"bob","password":"password1","surplus":1})")},
        {"PATCH", "/admin/accounts/" + id, R"({"biography":"x","surplus":1})"},
        {"PUT", "/admin/accounts/" + id + "/ad-settings",
         R"({"personalized_ads":false,"surplus":1})"},
        {"POST", "/admin/accounts/" + id + "/follows", R"({"target_id":"1","surplus":1})"},
        {"POST", "/admin/accounts/" + id + "/deauthorize",
         R"({"client_id":")" + app.id + R"(","surplus":1})"},
        {"POST", "/admin/clients",
         R"({"name":"x","redirect_uris":["https://x.test/cb"],"surplus":1})"},
        {"POST", "/admin/clients/" + app.id + "/subscriptions",
         R"({"callback_url":"https://x.test/hook","verify_token":"v","surplus":1})"}}) {
    r = f.admin(method, path, body);
    EXPECT_EQ(r.status, 400) << method << " " << path << " " << r.body;
    EXPECT_NE(r.body.find("unknown field '"), std::string::npos) << path << " " << r.body;
  }
  EXPECT_EQ(f.admin("GET", "/admin/accounts?username=bob").status, 404);
}

// The internal profile write, which only a company system holding an internal token may make:
// it changes the account as an admin PATCH does, and refuses anything else with a JSON error.
TEST(InternalApi, ProfileWriteNeedsAnInternalTokenAndAKnownField) {
  idp_fixture f;
  const auto a = f.make_account("alice");
  const std::string path = "/internal/accounts/" + std::to_string(a.id) + "/profile";
  const http::header_field token{"Authorization", "Bearer threads-internal-token"};
  auto write = [&](const std::string& p, const std::string& body) {
    return f.call("PATCH", p, body, "application/json", {token});
  };
  EXPECT_EQ(f.call("PATCH", path, R"({"biography":"x"})", "application/json").status, 401);
  EXPECT_EQ(f.call("PATCH", path, R"({"biography":"x"})", "application/json",
                   {{"Authorization", "Bearer admin-secret"}})
                .status,
            401);
  EXPECT_EQ(write("/internal/accounts/abc/profile", R"({"biography":"x"})").status, 404);
  EXPECT_EQ(write("/internal/accounts/123/profile", R"({"biography":"x"})").status, 404);
  for (const char* bad : {"{not json", "{}", R"({"username":"bob"})", R"({"name":7})"}) {
    auto r = write(path, bad);
    EXPECT_EQ(r.status, 400) << bad << " " << r.body;
    EXPECT_EQ(body_json(r).at("error").at("code"), "invalid_request") << bad;
  }
  EXPECT_EQ(write(path, R"({"biography":")" + std::string(151, 'b') + R"("})").status, 400);
  EXPECT_EQ(f.idp.get_account(a.id)->bio, a.bio);
  auto r = write(path, R"({"biography":"from elsewhere","name":"Alice E"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_json(r).at("biography"), "from elsewhere");
  EXPECT_EQ(f.idp.get_account(a.id)->bio, "from elsewhere");
  EXPECT_EQ(f.idp.get_account(a.id)->display_name, "Alice E");
}

TEST(AdminApi, UploadsPicturesAndServesThem) {
  idp_fixture f;
  const auto a = f.make_account("alice");
  http::request req;
  req.method = "PUT";
  req.target = "/admin/accounts/" + std::to_string(a.id) + "/picture";
  req.body = "GIF89a...";
  req.headers.set("Content-Type", "image/gif");
  req.headers.set("Authorization", "Bearer admin-secret");
  auto r = f.handler(req);
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string sha(body_json(r).at("profile_picture_sha256").as_string());
  r = f.call("GET", "/pictures/" + sha);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GIF89a...");
  EXPECT_EQ(r.headers.get("Content-Type"), "image/gif");
  req.headers.set("Content-Type", "text/plain");
  EXPECT_EQ(f.handler(req).status, 415);
}

TEST(Routes, UnknownPathsAndMethodsGetJsonErrors) {
  idp_fixture f;
  auto r = f.call("GET", "/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(body_json(r).at("error").at("code"), "not_found");
  r = f.call("GET", "/oauth/token");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.get("Allow"), "POST, OPTIONS");  // OPTIONS: the CORS preflight
}

TEST(Routes, MetadataDescribesTheServer) {
  idp_fixture f;
  const auto m = body_json(f.call("GET", "/.well-known/oauth-authorization-server"));
  EXPECT_EQ(m.at("issuer"), "http://idp.test");
  EXPECT_EQ(m.at("code_challenge_methods_supported").as_array().size(), 1u);
  EXPECT_EQ(m.at("authorization_response_iss_parameter_supported"), true);
  // Any page may read it, whatever its origin: the preflight allows "*" and the answer does not
  // vary with the Origin.
  const auto r = f.call("OPTIONS", "/.well-known/oauth-authorization-server", "", "",
                        {{"Origin", "https://app.example"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Methods"), "GET");
  EXPECT_EQ(std::count_if(r.headers.fields.begin(), r.headers.fields.end(),
                          [](const http::header_field& h) { return h.name == "Vary"; }),
            0);
}

TEST(Routes, TokenEndpointNeedsAFormAndKnownGrant) {
  idp_fixture f;
  const auto app = f.make_client();
  auto r = f.call("POST", "/oauth/token", "{}", "application/json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body_json(r).at("error"), "invalid_request");
  r = f.form("/oauth/token",
             {{"grant_type", "password"}, {"client_id", app.id}, {"client_secret", app.secret}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body_json(r).at("error"), "unsupported_grant_type");
  EXPECT_EQ(r.headers.get("Cache-Control"), "no-store");
  r = f.form("/oauth/token", {{"grant_type", "authorization_code"},
                              {"code", "a"},
                              {"code", "b"},
                              {"client_id", app.id},
                              {"client_secret", app.secret}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body_json(r).at("error"), "invalid_request");
  // Basic and form credentials together are ambiguous (RFC 6749 §2.3): the answer says which.
  const std::string basic = "Basic " + base64_encode(as_bytes(app.id + ":" + app.secret));
  r = f.form("/oauth/token", {{"grant_type", "authorization_code"}, {"client_secret", app.secret}},
             {{"Authorization", basic}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body_json(r).at("error"), "invalid_request");
  EXPECT_NE(
      std::string(body_json(r).at("error_description").as_string()).find("authenticated twice"),
      std::string::npos);
  r = f.form("/oauth/token", {{"grant_type", "authorization_code"}, {"client_id", "someone-else"}},
             {{"Authorization", basic}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(std::string(body_json(r).at("error_description").as_string()).find("client_id"),
            std::string::npos);
  r = f.form("/oauth/token", {{"grant_type", "authorization_code"}},
             {{"Authorization", "Basic " + base64_encode(as_bytes(app.id + ":wrong"))}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.headers.get("WWW-Authenticate"), "Basic realm=\"linksim\"");
}

TEST(Routes, MetaEndpointsAnswerInMetasErrorShape) {
  idp_fixture f;
  const auto app = f.make_client();
  auto r = f.form("/oauth/access_token", {{"client_id", app.id},
                                          {"client_secret", app.secret},
                                          {"grant_type", "authorization_code"},
                                          {"code", "nope"},
                                          {"redirect_uri", "http://app.test/cb"}});
  EXPECT_EQ(r.status, 400);
  const auto b = body_json(r);
  EXPECT_EQ(b.at("error_type"), "OAuthException");
  EXPECT_EQ(b.at("code"), 400);
  EXPECT_EQ(b.at("error_message"), "Matching code was not found or was already used");
  r = f.call("GET", "/access_token?grant_type=ig_exchange_token&client_secret=x&access_token=y");
  EXPECT_EQ(body_json(r).at("error_type"), "OAuthException");
}

TEST(Routes, ProfileApiRejectsBadTokensWithCode190) {
  idp_fixture f;
  auto r = f.call("GET", "/me?fields=id,username", "", "", {{"Authorization", "Bearer nope"}});
  EXPECT_EQ(r.status, 400);  // Meta's Graph API answers 400 with code 190
  EXPECT_EQ(body_json(r).at("error").at("code"), 190);
  EXPECT_EQ(body_json(r).at("error").at("type"), "OAuthException");
  EXPECT_TRUE(f.recorder.flows.empty());
}

TEST(Pages, AuthorizeWithBadRedirectShowsAPageAndNeverRedirects) {
  idp_fixture f;
  const auto app = f.make_client();
  auto r = f.call("GET", "/oauth/authorize?client_id=" + app.id +
                             "&redirect_uri=http%3A%2F%2Fevil.test%2Fcb&response_type=code");
  EXPECT_EQ(r.status, 400);
  EXPECT_FALSE(r.headers.has("Location"));
  EXPECT_NE(r.headers.get("Content-Type").find("text/html"), std::string_view::npos);
}

TEST(Pages, LoginPageEscapesAndCsrfIsChecked) {
  idp_fixture f;
  auto reg =
      f.idp.register_client({"<script>alert(1)</script>", "x", {"http://app.test/cb"}, "", ""});
  ASSERT_TRUE(reg);
  auto p = f.idp.begin_authorization({reg->id, "http://app.test/cb", "code", "", "",
                                      testing::challenge_for(testing::verifier_for()), "S256"});
  ASSERT_TRUE(p);
  auto page = f.call("GET", "/oauth/login?request=" + p->id);
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.body.find("<script>alert"), std::string::npos);
  EXPECT_NE(page.body.find("&lt;script&gt;"), std::string::npos);
  EXPECT_EQ(page.headers.get("X-Frame-Options"), "DENY");
  EXPECT_NE(page.headers.get("Set-Cookie").find("idp_csrf="), std::string_view::npos);

  f.make_account("alice");
  auto r = f.form("/oauth/login",
                  {{"request", p->id},
                   {"csrf", "forged"},
                   {"username", "alice"},
                   {"password", "password-alice"}},
                  {{"Cookie", "idp_csrf=the-real-token-in-the-cookie"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_FALSE(r.headers.has("Set-Cookie"));
  r = f.form("/oauth/login",
             {{"request", p->id},
              {"csrf", "the-real-token-in-the-cookie"},
              {"username", "alice"},
              {"password", "wrong"}},
             {{"Cookie", "idp_csrf=the-real-token-in-the-cookie"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("incorrect"), std::string::npos);
  r = f.form("/oauth/login",
             {{"request", p->id},
              {"csrf", "the-real-token-in-the-cookie"},
              {"username", "alice"},
              {"password", "password-alice"}},
             {{"Cookie", "idp_csrf=the-real-token-in-the-cookie"}});
  EXPECT_EQ(r.status, 303);
  EXPECT_NE(r.headers.get("Set-Cookie").find("idp_session="), std::string_view::npos);
  EXPECT_NE(r.headers.get("Set-Cookie").find("HttpOnly"), std::string_view::npos);
}

}  // namespace
}  // namespace linksim::idp
