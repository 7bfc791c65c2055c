// The authorization-code flow with PKCE over real sockets, and one test per negative case of
// RFC 6749, RFC 7636, RFC 7009, RFC 7662 and RFC 9700 that applies, each asserting the status
// and the error code.
#include "support.hpp"

#include "linksim/idp/oidc.hpp"

#include <gtest/gtest.h>

namespace linksim {
namespace {

using namespace testing;

const std::string verifier = std::string(43, 'k') + "-._~";

struct OAuthFlow : ::testing::Test {
  idp_server idp;
  idp_server::app_client app = idp.client();
  std::string alice = idp.account("alice");
  browser b;

  std::string code() { return query_value(idp.sign_in(b, app, "alice", verifier), "code"); }
  boost::json::object tokens() {
    auto r = idp.redeem(app, code(), verifier);
    EXPECT_EQ(r.status, 200) << r.body;
    return json_of(r);
  }
  void expect_error(const http::response& r, int status, const char* error) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(json_of(r).at("error"), error) << r.body;
    EXPECT_EQ(r.headers.get("Cache-Control"), "no-store");
    const std::string d(json_of(r).at("error_description").as_string());
    EXPECT_EQ(d.find_first_of("\r\n\t"), std::string::npos);
  }
  http::response me(const std::string& token, const std::string& fields = "id,username") {
    return idp.request("GET", "/me?fields=" + fields, "", "",
                       {{"Authorization", "Bearer " + token}});
  }
  http::response introspect(const std::string& token, const idp_server::app_client& as) {
    return idp.form("/oauth/introspect",
                    {{"token", token}, {"client_id", as.id}, {"client_secret", as.secret}});
  }
};

TEST_F(OAuthFlow, FullCodeFlowWithPkceReadsTheProfile) {
  const std::string location =
      idp.sign_in(b, app, "alice", verifier, "user_profile user_followers");
  EXPECT_TRUE(location.starts_with(app.redirect + "?code="));
  EXPECT_EQ(query_value(location, "state"), "st-1");
  EXPECT_EQ(query_value(location, "iss"), idp.base);  // RFC 9207
  auto r = idp.redeem(app, query_value(location, "code"), verifier);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.get("Cache-Control"), "no-store");
  const auto t = json_of(r);
  EXPECT_EQ(t.at("token_type"), "bearer");
  EXPECT_EQ(t.at("expires_in"), 3600);
  EXPECT_EQ(t.at("user_id").as_string(), alice);  // ids are strings, as /me gives them
  EXPECT_EQ(t.at("scope"), "user_profile user_followers");

  const std::string at(t.at("access_token").as_string());
  r = me(at, "id,username,name,followers_count");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json_of(r).at("username"), "alice");
  EXPECT_EQ(json_of(r).at("id").as_string(), alice);

  // Both hand-outs of profile data are in the evidence log.
  ASSERT_EQ(idp.evidence.size(), 2u);
  EXPECT_NE(idp.evidence.entry(0).find("\"channel\":\"oauth.token\""), std::string::npos);
  EXPECT_NE(idp.evidence.entry(1).find("\"user.account.username\""), std::string::npos);

  // Refresh rotation gives a working pair.
  r = idp.form("/oauth/token", {{"grant_type", "refresh_token"},
                                {"refresh_token", std::string(t.at("refresh_token").as_string())},
                                {"client_id", app.id},
                                {"client_secret", app.secret}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(me(std::string(json_of(r).at("access_token").as_string())).status, 200);
}

TEST_F(OAuthFlow, MetaShapedEndpointsExchangeAndExtend) {
  auto r = idp.form("/oauth/access_token", {{"client_id", app.id},
                                            {"client_secret", app.secret},
                                            {"grant_type", "authorization_code"},
                                            {"redirect_uri", app.redirect},
                                            {"code", code()},
                                            {"code_verifier", verifier}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto t = json_of(r);
  EXPECT_EQ(t.size(), 2u);                  // {"access_token","user_id"}, as Threads documents
  EXPECT_TRUE(t.at("user_id").is_int64());  // a number there: Meta's documented shape
  const std::string short_lived(t.at("access_token").as_string());
  r = idp.request("GET", "/access_token?grant_type=ig_exchange_token&client_secret=" + app.secret +
                             "&access_token=" + short_lived);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json_of(r).at("expires_in"), 5184000);
  const std::string long_lived(json_of(r).at("access_token").as_string());
  r = idp.request("GET",
                  "/refresh_access_token?grant_type=ig_refresh_token&access_token=" + long_lived);
  EXPECT_EQ(r.status, 400);  // not a day old yet
  EXPECT_EQ(json_of(r).at("error_type"), "OAuthException");
  idp.clock.advance(24h);
  r = idp.request("GET",
                  "/refresh_access_token?grant_type=ig_refresh_token&access_token=" + long_lived);
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(OAuthFlow, ReusedCodeIsRejectedAndItsTokensRevoked) {
  const std::string c = code();
  auto first = idp.redeem(app, c, verifier);
  ASSERT_EQ(first.status, 200);
  expect_error(idp.redeem(app, c, verifier), 400, "invalid_grant");
  const auto t = json_of(first);
  auto r = me(std::string(t.at("access_token").as_string()));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json_of(r).at("error").at("code"), 190);
  EXPECT_EQ(introspect(std::string(t.at("refresh_token").as_string()), app).body,
            R"({"active":false})");
}

TEST_F(OAuthFlow, ExpiredCodeIsRejected) {
  const std::string c = code();
  idp.clock.advance(1h + 1s);
  expect_error(idp.redeem(app, c, verifier), 400, "invalid_grant");
}

TEST_F(OAuthFlow, AnotherClientCannotRedeemTheCode) {
  const auto other = idp.client();
  const std::string c = code();
  expect_error(idp.redeem({other.id, other.secret, app.redirect, ""}, c, verifier), 400,
               "invalid_grant");
  expect_error(idp.redeem({app.id, "wrong-secret", app.redirect, ""}, c, verifier), 401,
               "invalid_client");
  EXPECT_EQ(idp.redeem(app, c, verifier).status, 200);  // the rightful client still can
}

TEST_F(OAuthFlow, RedirectUriMustMatchTheAuthorizationRequest) {
  expect_error(idp.redeem(app, code(), verifier, "http://127.0.0.1:9/other"), 400, "invalid_grant");
  auto r = idp.form("/oauth/token", {{"grant_type", "authorization_code"},
                                     {"client_id", app.id},
                                     {"client_secret", app.secret},
                                     {"code", code()},
                                     {"code_verifier", verifier}});
  expect_error(r, 400, "invalid_grant");
}

TEST_F(OAuthFlow, UnregisteredRedirectUriVariantsGetAnErrorPageNeverARedirect) {
  for (const std::string variant :
       {"http://127.0.0.1:9/cb?x=1", "http://127.0.0.1:9/cb#frag", "http://127.0.0.1:9/cb/",
        "http://127.0.0.1:9/CB", "http://127.0.0.1:10/cb", "http://localhost:9/cb",
        "https://127.0.0.1:9/cb", ""}) {
    auto bad = app;
    bad.redirect = variant;
    auto r = b.get(idp.authorize_url(bad, challenge_for(verifier)));
    EXPECT_EQ(r.status, 400) << variant;
    EXPECT_FALSE(r.headers.has("Location")) << variant;
    EXPECT_NE(r.headers.get("Content-Type").find("text/html"), std::string_view::npos);
  }
  auto unknown = app;
  unknown.id = "999";
  EXPECT_EQ(b.get(idp.authorize_url(unknown, challenge_for(verifier))).status, 400);
}

TEST_F(OAuthFlow, MissingOrWrongVerifierIsRejected) {
  expect_error(idp.redeem(app, code(), ""), 400, "invalid_grant");
  expect_error(idp.redeem(app, code(), std::string(50, 'w')), 400, "invalid_grant");
}

TEST_F(OAuthFlow, MalformedVerifierIsRejectedAndUsesUpTheCode) {
  for (const std::string& bad :
       {std::string(42, 'k'), std::string(129, 'k'), std::string(43, 'k') + "!"}) {
    const std::string c = code();
    expect_error(idp.redeem(app, c, bad), 400, "invalid_grant");
    expect_error(idp.redeem(app, c, verifier), 400, "invalid_grant");
  }
}

TEST_F(OAuthFlow, PlainOrMissingChallengeIsRefusedAtAuthorize) {
  for (const auto& [challenge, method] : std::vector<std::pair<std::string, std::string>>{
           {verifier, "plain"}, {challenge_for(verifier), ""}, {"", ""}}) {
    const std::string url = idp.base + "/oauth/authorize?" +
                            http::form_encode({{"client_id", app.id},
                                               {"redirect_uri", app.redirect},
                                               {"response_type", "code"},
                                               {"state", "s9"},
                                               {"code_challenge", challenge},
                                               {"code_challenge_method", method}});
    auto r = b.get(url);
    ASSERT_EQ(r.status, 302) << method;
    const std::string loc(r.headers.get("Location"));
    EXPECT_TRUE(loc.starts_with(app.redirect + "?")) << loc;
    EXPECT_EQ(query_value(loc, "error"), "invalid_request") << loc;
    EXPECT_EQ(query_value(loc, "state"), "s9");
    EXPECT_EQ(query_value(loc, "iss"), idp.base);
  }
}

TEST_F(OAuthFlow, DenialRedirectsWithAccessDenied) {
  auto r = b.get(idp.authorize_url(app, challenge_for(verifier)));
  const std::string request_id =
      query_value("http://x" + std::string(r.headers.get("Location")), "request");
  b.get(idp.base + std::string(r.headers.get("Location")));
  r = b.post_form(idp.base + "/oauth/login", {{"request", request_id},
                                              {"csrf", b.cookie("idp_csrf")},
                                              {"username", "alice"},
                                              {"password", "pw-alice-123"}});
  r = b.post_form(idp.base + "/oauth/consent", {{"request", request_id},
                                                {"csrf", b.cookie("idp_csrf")},
                                                {"account_id", alice},
                                                {"decision", "deny"}});
  ASSERT_EQ(r.status, 302);
  const std::string loc(r.headers.get("Location"));
  EXPECT_EQ(query_value(loc, "error"), "access_denied");
  EXPECT_EQ(query_value(loc, "error_reason"), "user_denied");
  EXPECT_EQ(query_value(loc, "state"), "st-1");
}

TEST_F(OAuthFlow, ReplayedRefreshTokenRevokesTheWholeFamily) {
  const auto t = tokens();
  const std::string rt1(t.at("refresh_token").as_string());
  auto refresh = [&](const std::string& rt, const idp_server::app_client& as) {
    return idp.form("/oauth/token", {{"grant_type", "refresh_token"},
                                     {"refresh_token", rt},
                                     {"client_id", as.id},
                                     {"client_secret", as.secret}});
  };
  auto r = refresh(rt1, app);
  ASSERT_EQ(r.status, 200);
  const std::string rt2(json_of(r).at("refresh_token").as_string());
  const std::string at2(json_of(r).at("access_token").as_string());
  expect_error(refresh(rt1, app), 400, "invalid_grant");  // the replay
  expect_error(refresh(rt2, app), 400, "invalid_grant");  // its successor died with it
  EXPECT_EQ(me(at2).status, 400);
  EXPECT_EQ(introspect(at2, app).body, R"({"active":false})");
}

TEST_F(OAuthFlow, AnotherClientsRefreshTokenIsRejected) {
  const auto other = idp.client();
  const std::string rt(tokens().at("refresh_token").as_string());
  expect_error(idp.form("/oauth/token", {{"grant_type", "refresh_token"},
                                         {"refresh_token", rt},
                                         {"client_id", other.id},
                                         {"client_secret", other.secret}}),
               400, "invalid_grant");
}

TEST_F(OAuthFlow, RevocationAnswers200AndTheTokenStopsWorking) {
  const auto t = tokens();
  const std::string at(t.at("access_token").as_string());
  auto revoke = [&](const std::string& token, const std::string& secret) {
    return idp.form("/oauth/revoke",
                    {{"token", token}, {"client_id", app.id}, {"client_secret", secret}});
  };
  EXPECT_EQ(revoke(at, app.secret).status, 200);
  EXPECT_EQ(me(at).status, 400);
  EXPECT_EQ(revoke("never-issued", app.secret).status, 200);
  expect_error(revoke(at, "wrong"), 401, "invalid_client");
  // Revoking the refresh token ends the access tokens of its grant (RFC 7009 §2.1).
  const auto t2 = tokens();
  EXPECT_EQ(revoke(std::string(t2.at("refresh_token").as_string()), app.secret).status, 200);
  EXPECT_EQ(me(std::string(t2.at("access_token").as_string())).status, 400);
}

TEST_F(OAuthFlow, IntrospectionOfInactiveTokensSaysOnlyActiveFalse) {
  const auto t = tokens();
  const std::string at(t.at("access_token").as_string());
  auto r = introspect(at, app);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json_of(r).at("active"), true);
  EXPECT_EQ(json_of(r).at("username"), "alice");
  EXPECT_EQ(json_of(r).at("sub").as_string(), alice);
  EXPECT_EQ(introspect("unknown", app).body, R"({"active":false})");
  EXPECT_EQ(introspect(at, idp.client()).body, R"({"active":false})");  // another client's
  idp.clock.advance(1h);
  EXPECT_EQ(introspect(at, app).body, R"({"active":false})");  // expired
  const std::string at2(tokens().at("access_token").as_string());
  idp.form("/oauth/revoke", {{"token", at2}, {"client_id", app.id}, {"client_secret", app.secret}});
  EXPECT_EQ(introspect(at2, app).body, R"({"active":false})");  // revoked
  expect_error(idp.form("/oauth/introspect",
                        {{"token", at2}, {"client_id", app.id}, {"client_secret", "x"}}),
               401, "invalid_client");
}

TEST_F(OAuthFlow, SuspendedAccountCannotAuthorize) {
  ASSERT_EQ(idp.admin("PATCH", "/admin/accounts/" + alice, R"({"status":"suspended"})").status,
            200);
  auto r = b.get(idp.authorize_url(app, challenge_for(verifier)));
  const std::string next(r.headers.get("Location"));
  b.get(idp.base + next);
  r = b.post_form(idp.base + "/oauth/login",
                  {{"request", query_value("http://x" + next, "request")},
                   {"csrf", b.cookie("idp_csrf")},
                   {"username", "alice"},
                   {"password", "pw-alice-123"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_FALSE(r.headers.has("Location"));
  EXPECT_NE(r.body.find("restricted, suspended or banned"), std::string::npos);
}

TEST_F(OAuthFlow, TwoAccountsInOneBrowserCanChooseWhichToUse) {
  const std::string bob = idp.account("bob");
  idp.sign_in(b, app, "alice", verifier);
  // Alice is logged in: authorize goes straight to consent, which offers another login.
  auto r = b.get(idp.authorize_url(app, challenge_for(verifier)));
  std::string next(r.headers.get("Location"));
  ASSERT_TRUE(next.starts_with("/oauth/consent")) << next;
  const std::string request_id = query_value("http://x" + next, "request");
  r = b.get(idp.base + next);
  EXPECT_NE(r.body.find("Log in to another account"), std::string::npos);
  b.get(idp.base + "/oauth/login?request=" + request_id);
  r = b.post_form(idp.base + "/oauth/login", {{"request", request_id},
                                              {"csrf", b.cookie("idp_csrf")},
                                              {"username", "bob"},
                                              {"password", "pw-bob-123"}});
  ASSERT_EQ(r.status, 303);
  r = b.get(idp.base + std::string(r.headers.get("Location")));
  EXPECT_NE(r.body.find("@alice"), std::string::npos);
  EXPECT_NE(r.body.find("@bob"), std::string::npos);
  // Choose alice although bob logged in last.
  r = b.post_form(idp.base + "/oauth/consent", {{"request", request_id},
                                                {"csrf", b.cookie("idp_csrf")},
                                                {"account_id", alice},
                                                {"decision", "allow"}});
  ASSERT_EQ(r.status, 302);
  auto t = idp.redeem(app, query_value(std::string(r.headers.get("Location")), "code"), verifier);
  EXPECT_EQ(json_of(t).at("user_id").as_string(), alice);
  (void)bob;
}

// A public client (a single-page app) registers without a secret, redeems its code with PKCE
// alone, and its page may read the token answer across origins; a confidential client without
// its secret, a public one with a made-up secret and an unregistered origin get nothing.
TEST_F(OAuthFlow, APublicClientRedeemsWithPkceAloneFromItsOrigin) {
  const std::string spa = "https://spa.example";
  auto r = idp.admin("POST", "/admin/clients",
                     R"({"name":"SPA","redirect_uris":["https://spa.example/cb"],)"
                     R"("token_endpoint_auth_method":"none","allowed_origins":[")" +
                         spa + R"("]})");
  ASSERT_EQ(r.status, 201) << r.body;
  const auto reg = json_of(r);
  EXPECT_EQ(reg.at("token_endpoint_auth_method"), "none");
  EXPECT_FALSE(reg.contains("client_secret"));
  EXPECT_FALSE(reg.contains("webhook_secret"));
  const idp_server::app_client pub{std::string(reg.at("client_id").as_string()), "",
                                   "https://spa.example/cb", ""};
  // The preflight: allowed for the registered origin only.
  r = idp.request("OPTIONS", "/oauth/token", "", "",
                  {{"Origin", spa}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Origin"), spa);
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Methods"), "POST");
  r = idp.request("OPTIONS", "/oauth/token", "", "", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Origin"), "");

  const auto redeem = [&](const std::string& code, const std::string& origin,
                          const std::string& secret) {
    http::params p{{"grant_type", "authorization_code"},
                   {"client_id", pub.id},
                   {"redirect_uri", pub.redirect},
                   {"code", code},
                   {"code_verifier", verifier}};
    if (!secret.empty()) p.emplace_back("client_secret", secret);
    return idp.form("/oauth/token", p, {{"Origin", origin}});
  };
  const auto code_of = [&] { return query_value(idp.sign_in(b, pub, "alice", verifier), "code"); };
  // A made-up secret is refused: a public client has none.
  expect_error(redeem(code_of(), spa, "guess"), 401, "invalid_client");
  r = redeem(code_of(), spa, "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json_of(r).at("user_id").as_string(), alice);
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Origin"), spa);
  // Introspection needs an authenticated caller (RFC 7662 §2.1): a public client is not one.
  expect_error(idp.form("/oauth/introspect",
                        {{"token", std::string(json_of(r).at("access_token").as_string())},
                         {"client_id", pub.id}}),
               401, "invalid_client");
  // Another origin gets the answer over HTTP, but no header that lets its page read it.
  r = redeem(code_of(), "https://evil.example", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Origin"), "");
  // PKCE is what proves a public client: a wrong verifier fails as for any client.
  r = idp.form("/oauth/token", {{"grant_type", "authorization_code"},
                                {"client_id", pub.id},
                                {"redirect_uri", pub.redirect},
                                {"code", code_of()},
                                {"code_verifier", std::string(43, 'z')}});
  expect_error(r, 400, "invalid_grant");
  // A confidential client without its secret is refused, as before.
  r = idp.form("/oauth/token", {{"grant_type", "authorization_code"},
                                {"client_id", app.id},
                                {"redirect_uri", app.redirect},
                                {"code", code()},
                                {"code_verifier", verifier}});
  expect_error(r, 401, "invalid_client");
  // userinfo, from the same page: the preflight and the answer let it read the claims.
  r = idp.request("OPTIONS", "/oauth/userinfo", "", "", {{"Origin", spa}});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Methods"), "GET, POST");
  r = redeem(query_value(idp.sign_in(b, pub, "alice", verifier, "openid profile"), "code"), spa,
             "");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string bearer = "Bearer " + std::string(json_of(r).at("access_token").as_string());
  r = idp.request("GET", "/oauth/userinfo", "", "", {{"Authorization", bearer}, {"Origin", spa}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Origin"), spa);
  r = idp.request("GET", "/oauth/userinfo", "", "",
                  {{"Authorization", bearer}, {"Origin", "https://evil.example"}});
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Origin"), "");
  // Webhooks need a secret to be signed with.
  r = idp.admin("POST", "/admin/clients/" + pub.id + "/subscriptions",
                R"({"callback_url":"https://spa.example/hook","verify_token":"v"})");
  EXPECT_EQ(r.status, 400) << r.body;
  // The metadata says so, and any page may read it.
  r = idp.request("GET", "/.well-known/oauth-authorization-server", "", "", {{"Origin", spa}});
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Origin"), "*");
  bool none = false;
  const auto metadata = json_of(r);
  for (const auto& m : metadata.at("token_endpoint_auth_methods_supported").as_array())
    none = none || m == "none";
  EXPECT_TRUE(none);
  // Registration checks what it is given.
  EXPECT_EQ(idp.admin("POST", "/admin/clients",
                      R"({"redirect_uris":["https://a.example/cb"],)"
                      R"("token_endpoint_auth_method":"private_key_jwt"})")
                .status,
            400);
  EXPECT_EQ(idp.admin("POST", "/admin/clients",
                      R"({"redirect_uris":["https://a.example/cb"],)"
                      R"("allowed_origins":["https://a.example/path"]})")
                .status,
            400);
  // HS256 would sign with the client secret; "none" signs nothing.
  for (const char* alg : {"HS256", "none", "rs256"}) {
    r = idp.admin("POST", "/admin/clients",
                  std::string(R"({"redirect_uris":["https://a.example/cb"],)") +
                      R"("id_token_signed_response_alg":")" + alg + R"("})");
    EXPECT_EQ(r.status, 400) << alg;
    EXPECT_EQ(json_of(r).at("error").at("code"), "invalid_client_metadata") << r.body;
  }
}

// OpenID Connect: discovery, an ID token signed with a key of the JWK Set, nonce, at_hash and
// auth_time, userinfo, and a `sub` that stays when the username changes; for a client that asks
// for EdDSA, and for one that takes RS256, OpenID Connect Registration's default.
struct OpenIdConnect : OAuthFlow, ::testing::WithParamInterface<std::string> {};

// The kids of the set's keys for `alg`, in the set's order: the signing key, the next one, then
// the one before.
std::vector<std::string> kids_for(const boost::json::object& jwks, std::string_view alg) {
  std::vector<std::string> out;
  for (const auto& k : jwks.at("keys").as_array())
    if (k.at("alg").as_string() == alg) out.emplace_back(k.at("kid").as_string());
  return out;
}

TEST_P(OpenIdConnect, IssuesAnIdTokenTheJwksVerifies) {
  const std::string alg = GetParam();
  const auto rp = alg == "RS256" ? idp.client()
                                 : idp.client("http://127.0.0.1:9/cb",
                                              R"("id_token_signed_response_alg":"EdDSA")");
  auto r = idp.request("GET", "/.well-known/openid-configuration");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto discovery = json_of(r);
  EXPECT_EQ(discovery.at("issuer").as_string(), idp.base);
  EXPECT_EQ(discovery.at("userinfo_endpoint").as_string(), idp.base + "/oauth/userinfo");
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Origin"), "*");
  const std::string jwks_uri(discovery.at("jwks_uri").as_string());
  ASSERT_TRUE(jwks_uri.starts_with(idp.base));
  r = idp.request("GET", jwks_uri.substr(idp.base.size()));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(discovery.at("id_token_signing_alg_values_supported"),
            (boost::json::array{"RS256", "EdDSA"}));
  const auto jwks = json_of(r);
  // Each algorithm's signing key and next one (an RS256 client is registered: the fixture's).
  ASSERT_EQ(jwks.at("keys").as_array().size(), 4u) << jwks;
  ASSERT_EQ(kids_for(jwks, alg).size(), 2u);
  for (const auto& k : jwks.at("keys").as_array())
    EXPECT_EQ(k.at("kty"), k.at("alg") == "RS256" ? "RSA" : "OKP");

  const auto sign_in = [&](const std::string& scope, const std::string& nonce) {
    const std::string url = idp.authorize_url(rp, challenge_for(verifier), scope) +
                            (nonce.empty() ? "" : "&nonce=" + nonce);
    const auto code = query_value(idp.sign_in_at(b, url, "alice"), "code");
    auto t = idp.redeem(rp, code, verifier);
    EXPECT_EQ(t.status, 200) << t.body;
    return json_of(t);
  };
  auto t = sign_in("openid profile", "n-0S6_WzA2Mj");
  ASSERT_TRUE(t.contains("id_token")) << t;
  const std::string id_token(t.at("id_token").as_string());
  const std::string access(t.at("access_token").as_string());
  auto claims = idp::oidc::verify_jwt(id_token, jwks);
  ASSERT_TRUE(claims) << id_token;
  const auto token_header = base64url_decode(id_token.substr(0, id_token.find('.')));
  ASSERT_TRUE(token_header);
  EXPECT_EQ(json::parse_object(as_chars(*token_header))->at("alg").as_string(), alg);
  EXPECT_EQ(claims->at("iss").as_string(), idp.base);
  EXPECT_EQ(claims->at("aud").as_string(), rp.id);
  EXPECT_EQ(claims->at("sub").as_string(), alice);
  EXPECT_EQ(claims->at("nonce").as_string(), "n-0S6_WzA2Mj");
  EXPECT_EQ(claims->at("at_hash").as_string(), idp::oidc::at_hash(access, alg));
  EXPECT_GT(claims->at("exp").as_int64(), claims->at("iat").as_int64());
  EXPECT_LE(claims->at("auth_time").as_int64(), claims->at("iat").as_int64());
  EXPECT_EQ(claims->at("preferred_username").as_string(), "alice");
  EXPECT_EQ(claims->at("name").as_string(), "alice N");
  // Any change to the token breaks its signature; a key outside the set verifies nothing.
  std::string tampered = id_token;
  tampered[tampered.find('.') + 5] ^= 1;
  EXPECT_FALSE(idp::oidc::verify_jwt(tampered, jwks));
  EXPECT_FALSE(
      idp::oidc::verify_jwt(id_token, boost::json::object{{"keys", boost::json::array{}}}));

  // userinfo answers the same claims to the access token.
  r = idp.request("GET", "/oauth/userinfo", "", "", {{"Authorization", "Bearer " + access}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json_of(r).at("sub").as_string(), alice);
  EXPECT_EQ(json_of(r).at("preferred_username").as_string(), "alice");
  // A token without the openid scope gets no ID token and no userinfo.
  t = sign_in("user_profile", "");
  EXPECT_FALSE(t.contains("id_token"));
  r = idp.request("GET", "/oauth/userinfo", "", "",
                  {{"Authorization", "Bearer " + std::string(t.at("access_token").as_string())}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(json_of(r).at("error"), "insufficient_scope");
  EXPECT_NE(r.headers.get("WWW-Authenticate").find("insufficient_scope"), std::string::npos);

  // A rename changes preferred_username, never sub: a client keys its users on sub.
  ASSERT_EQ(idp.admin("PATCH", "/admin/accounts/" + alice, R"({"username":"alice.new"})").status,
            200);
  t = sign_in("openid profile", "second");
  claims = idp::oidc::verify_jwt(std::string(t.at("id_token").as_string()), jwks);
  ASSERT_TRUE(claims);
  EXPECT_EQ(claims->at("sub").as_string(), alice);
  EXPECT_EQ(claims->at("preferred_username").as_string(), "alice.new");

  // Key rotation: the next key, published before, signs from now on, so the key set a relying
  // party fetched before the rotation verifies the new tokens; the set keeps the key before, so
  // a token signed before still verifies, until the next rotation retires that key.
  const auto fetch_jwks = [&] { return json_of(idp.request("GET", "/.well-known/jwks.json")); };
  const std::string published_next = kids_for(jwks, alg)[1];
  r = idp.admin("POST", "/admin/keys/rotate");
  ASSERT_EQ(r.status, 200) << r.body;
  if (alg == "EdDSA") {
    EXPECT_EQ(json_of(r).at("kid").as_string(), published_next);
  }
  const std::string new_kid = published_next;
  auto rotated = fetch_jwks();
  ASSERT_EQ(rotated.at("keys").as_array().size(), 6u);
  EXPECT_EQ(kids_for(rotated, alg).front(), new_kid);
  EXPECT_TRUE(idp::oidc::verify_jwt(id_token, rotated));
  t = sign_in("openid", "third");
  const std::string after(t.at("id_token").as_string());
  const auto header = base64url_decode(after.substr(0, after.find('.')));
  ASSERT_TRUE(header);
  EXPECT_NE(std::string(as_chars(*header)).find(new_kid), std::string::npos);
  EXPECT_TRUE(idp::oidc::verify_jwt(after, rotated));
  EXPECT_TRUE(idp::oidc::verify_jwt(after, jwks));  // the set cached before knew the key
  ASSERT_EQ(idp.admin("POST", "/admin/keys/rotate").status, 200);
  rotated = fetch_jwks();
  EXPECT_EQ(rotated.at("keys").as_array().size(), 6u);
  EXPECT_FALSE(idp::oidc::verify_jwt(id_token, rotated));  // its key has left the set
  EXPECT_TRUE(idp::oidc::verify_jwt(after, rotated));
  // Two rotations on, the set fetched at the start no longer knows the signing key.
  t = sign_in("openid", "fourth");
  const std::string latest(t.at("id_token").as_string());
  EXPECT_TRUE(idp::oidc::verify_jwt(latest, rotated));
  EXPECT_FALSE(idp::oidc::verify_jwt(latest, jwks));
}

INSTANTIATE_TEST_SUITE_P(Algorithms, OpenIdConnect, ::testing::Values("EdDSA", "RS256"));

TEST_F(OAuthFlow, PromptAndMaxAgeDecideWhetherTheBrowserLogsInAgain) {
  const std::string scope = "openid user_profile";
  const auto authorize = [&](const std::string& extra, const std::string& sc) {
    auto r = b.get(idp.authorize_url(app, challenge_for(verifier), sc) + extra);
    EXPECT_EQ(r.status, 302) << r.body;
    return std::string(r.headers.get("Location"));
  };
  const auto at = [&](const std::string& extra) { return authorize(extra, scope); };
  const auto auth_time = [&](const std::string& location) {
    auto t = idp.redeem(app, query_value(location, "code"), verifier);
    EXPECT_EQ(t.status, 200) << t.body;
    const auto jwks = json_of(idp.request("GET", "/.well-known/jwks.json"));
    auto claims = idp::oidc::verify_jwt(std::string(json_of(t).at("id_token").as_string()), jwks);
    EXPECT_TRUE(claims);
    return claims ? claims->at("auth_time").as_int64() : 0;
  };

  // Not logged in: prompt=none answers at once, to the client, with the state.
  std::string loc = at("&prompt=none");
  EXPECT_TRUE(loc.starts_with(app.redirect + "?")) << loc;
  EXPECT_EQ(query_value(loc, "error"), "login_required");
  EXPECT_EQ(query_value(loc, "state"), "st-1");
  EXPECT_EQ(query_value(loc, "iss"), idp.base);
  // Values OpenID Connect Core 3.1.2.1 does not allow go back as invalid_request.
  for (const char* bad : {"&prompt=none%20login", "&prompt=sometimes", "&max_age=-1",
                          "&max_age=soon", "&max_age=99999999999"})
    EXPECT_EQ(query_value(at(bad), "error"), "invalid_request") << bad;

  // Logged in, but no grant yet (a grant is made when a code is redeemed): consent_required.
  const std::string first =
      idp.sign_in_at(b, idp.authorize_url(app, challenge_for(verifier), scope), "alice");
  EXPECT_EQ(query_value(at("&prompt=none"), "error"), "consent_required");
  const auto first_login = auth_time(first);
  EXPECT_GT(first_login, 0);

  // With the grant standing, prompt=none gives a code without a page; a wider scope does not.
  loc = at("&prompt=none");
  ASSERT_TRUE(loc.starts_with(app.redirect + "?code=")) << loc;
  EXPECT_EQ(auth_time(loc), first_login);
  EXPECT_EQ(query_value(authorize("&prompt=none", scope + " user_followers"), "error"),
            "consent_required");

  // max_age: ten minutes after the login, a minute is too old and an hour is not.
  idp.clock.advance(10min);
  EXPECT_TRUE(at("&max_age=60").starts_with("/oauth/login?request=")) << at("&max_age=60");
  EXPECT_TRUE(at("&max_age=3600").starts_with("/oauth/consent?request="));
  EXPECT_EQ(query_value(at("&prompt=none&max_age=60"), "error"), "login_required");
  // prompt=login asks for the password again, and the new login is the ID token's auth_time.
  EXPECT_TRUE(at("&prompt=login").starts_with("/oauth/login?request="));
  const std::string again = idp.sign_in_at(
      b, idp.authorize_url(app, challenge_for(verifier), scope) + "&prompt=login", "alice");
  EXPECT_EQ(auth_time(again), first_login + 600);
  EXPECT_TRUE(at("&max_age=60").starts_with("/oauth/consent?request="));
}

}  // namespace
}  // namespace linksim
