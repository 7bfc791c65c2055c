// Demo accounts, the demo client, and the pages that show the OAuth flow step by step.
#include "demo.hpp"

#include "linksim/common/crypto.hpp"
#include "linksim/common/html.hpp"

#include <fstream>

namespace linksim::app {
namespace {

using html::escape;

http::response page(const std::string& title, const std::string& body) {
  http::response r;
  r.headers.set("Content-Type", "text/html; charset=utf-8");
  r.headers.set("Cache-Control", "no-store");
  r.body = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
           escape(title) +
           " · linksim demo</title><style>body{font-family:system-ui,sans-serif;max-width:46rem;"
           "margin:2rem auto;padding:0 1rem}pre{background:#f4f4f4;padding:.8rem;overflow-x:auto;"
           "white-space:pre-wrap;word-break:break-all}</style></head><body>\n<h1>" +
           escape(title) + "</h1>\n" + body + "\n</body></html>\n";
  return r;
}

const char* demo_password = "linksim-demo";

}  // namespace

demo_setup seed_demo(idp::service& idp, const std::string& base_url) {
  demo_setup out;
  out.password = demo_password;
  struct person {
    const char* username;
    const char* name;
    const char* bio;
  };
  const person people[] = {{"alice", "Alice Example", "Photographer. Coffee first."},
                           {"bob", "Bob Example", "Runs, cooks, posts about both."},
                           {"carol", "Carol Example", "Teaches account linkage."}};
  std::vector<std::int64_t> ids;
  for (const auto& p : people) {
    out.usernames.emplace_back(p.username);
    auto existing = idp.find_account(p.username);
    if (existing) {
      ids.push_back(existing->id);
      continue;
    }
    auto a = idp.create_account({p.username, demo_password, p.name, p.bio});
    if (a) ids.push_back(a->id);
  }
  if (ids.size() == 3) {
    (void)idp.follow(ids[1], ids[0]);  // bob and carol follow alice: already-following is fine
    (void)idp.follow(ids[2], ids[0]);
    (void)idp.follow(ids[0], ids[1]);
  }
  // The demo client's redirect URI is this server's own /demo/callback page.
  const std::string redirect = base_url + "/demo/callback";
  idp::client_registration reg{"linksim demo client", "demo-client", {redirect}, "", ""};
  auto c = idp.register_client(reg);
  if (c) out.client = *c;
  return out;
}

http::handler demo_pages(idp::service& idp, demo_setup setup, std::string base_url) {
  return [&idp, setup = std::move(setup),
          base_url = std::move(base_url)](const http::request& req) -> http::response {
    const auto path = req.path();
    const std::string redirect = base_url + "/demo/callback";
    if (path == "/demo" || path == "/demo/") {
      // A fresh verifier and state per visit, kept in cookies for the callback page.
      const std::string verifier = idp.random().token(48);
      const std::string state = idp.random().token(12);
      const std::string challenge = base64url_encode(sha256(verifier));
      const std::string url = base_url + "/oauth/authorize?" +
                              http::form_encode({{"client_id", setup.client.id},
                                                 {"redirect_uri", redirect},
                                                 {"response_type", "code"},
                                                 {"scope", "user_profile,user_followers"},
                                                 {"state", state},
                                                 {"code_challenge", challenge},
                                                 {"code_challenge_method", "S256"}});
      std::string body =
          "<p>This page plays the part of an app that signs people up with the identity "
          "provider. It made a PKCE pair and a state value for this visit:</p><pre>code_verifier  "
          "= " +
          escape(verifier) +
          "\ncode_challenge = BASE64URL(SHA-256(code_verifier)) = " + escape(challenge) +
          "\nstate          = " + escape(state) + "</pre><p><a href=\"" + escape(url) +
          "\">Log in with the identity provider</a> as ";
      for (std::size_t i = 0; i < setup.usernames.size(); ++i)
        body += (i ? ", " : "") + std::string("<b>") + escape(setup.usernames[i]) + "</b>";
      body += " (password <code>" + escape(setup.password) + "</code>).</p><p>The link:</p><pre>" +
              escape(url) + "</pre>";
      auto r = page("Log in with the identity provider", body);
      r.headers.add("Set-Cookie",
                    "demo_verifier=" + verifier + "; Path=/demo; HttpOnly; SameSite=Lax");
      r.headers.add("Set-Cookie", "demo_state=" + state + "; Path=/demo; HttpOnly; SameSite=Lax");
      return r;
    }
    if (path == "/demo/callback") {
      auto q = http::parse_form(req.query());
      if (!q) return page("Bad callback", "<p>The query string is malformed.</p>");
      auto get = [&](const char* k) {
        const auto* v = http::find_param(*q, k);
        return v ? *v : std::string();
      };
      if (!get("error").empty()) {
        return page("The user said no",
                    "<p>The provider redirected back with an error, as RFC 6749 §4.1.2.1 says:</p>"
                    "<pre>error=" +
                        escape(get("error")) +
                        "\nerror_description=" + escape(get("error_description")) +
                        "</pre><p><a href=\"/demo\">Start again</a></p>");
      }
      const bool state_ok = !get("state").empty() && get("state") == req.cookie("demo_state");
      const bool iss_ok = get("iss") == base_url;
      const std::string verifier = req.cookie("demo_verifier");
      std::string body =
          "<p>The provider sent the browser back with:</p><pre>code  = " + escape(get("code")) +
          "\nstate = " + escape(get("state")) +
          (state_ok ? "  (matches the cookie)" : "  (DOES NOT match: reject)") +
          "\niss   = " + escape(get("iss")) +
          (iss_ok ? "  (this provider)" : "  (unexpected issuer: reject)") +
          "</pre><p>The app now redeems the code from its server, with its secret and the "
          "verifier. Try it (the code works once, for one hour):</p><pre>curl -s -X POST " +
          escape(base_url) +
          "/oauth/token \\\n  -d grant_type=authorization_code \\\n  -d client_id=" +
          escape(setup.client.id) + " -d client_secret=" + escape(setup.client.secret) +
          " \\\n  -d redirect_uri=" + escape(http::percent_encode(redirect)) +
          " \\\n  -d code=" + escape(get("code")) + " \\\n  -d code_verifier=" + escape(verifier) +
          "</pre><p>Then read the profile with the access token it returns:</p><pre>curl -s '" +
          escape(base_url) +
          "/me?fields=id,username,name,biography,profile_picture_url,followers_count' "
          "\\\n  -H 'Authorization: Bearer ACCESS_TOKEN'</pre><p>Run the first command twice: the "
          "second answer is <code>invalid_grant</code>, and the tokens of the first are "
          "revoked.</p>"
          "<p><a href=\"/demo\">Start again</a></p>";
      return page("Back at the app", body);
    }
    http::response r;
    r.status = 404;
    return r;
  };
}

}  // namespace linksim::app
