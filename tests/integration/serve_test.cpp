// `linksim serve` and `linksim evidence verify` as a user runs them: the printed URLs work, the
// demo can be used at once, the evidence log verifies, and tampering is caught. Also the
// command's exit status on bad flags.
#include "linksim/app/commands.hpp"
#include "linksim/evidence/log.hpp"
#include "linksim/store/sqlite.hpp"

#include "support.hpp"

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>
#include <thread>

namespace linksim {
namespace {

using namespace testing;

std::string line_after(const std::string& out, const std::string& prefix) {
  const auto p = out.find(prefix);
  if (p == std::string::npos) return {};
  const auto start = p + prefix.size();
  return out.substr(start, out.find_first_of(" ,\n", start) - start);
}

// What serve printed: each service's URL, the admin token and the evidence key.
struct printed {
  std::string idp, threads, ads, admin, evidence_key, fingerprint;
  explicit printed(const std::string& text)
      : idp(line_after(text, "idp: ")),
        threads(line_after(text, "threads: ")),
        ads(line_after(text, "\nads: ")),  // not the end of "threads: "
        admin(line_after(text, "admin token: ")),
        evidence_key(line_after(text, "evidence key: ")),
        fingerprint(line_after(text, "evidence key fingerprint: ")) {}
};

// Verifies a data folder's evidence log with `key`, the way an auditor who pinned it would.
int verify_with(const temp_dir& dir, const std::string& key, std::ostream& out) {
  return app::evidence_verify({.log = app::evidence_db(dir.path()), .key = key}, out);
}

// serve's options for a test: data in `dir`, passwords cheap to hash.
app::serve_options options_in(const temp_dir& dir) {
  app::serve_options o;
  o.data_dir = dir.path();
  o.password = {1u << 10, 8, 1};
  return o;
}

TEST(Serve, PrintsWorkingUrlsAndTheDemoLetsAPersonLogIn) {
  temp_dir dir;
  const app::serve_options o = options_in(dir);
  std::ostringstream out;
  bool checked = false;
  const int status = app::serve(o, out, [&] {
    // Runs on serve's thread once everything is printed and listening.
    const std::string text = out.str();
    const printed p(text);
    const std::string &base = p.idp, &threads = p.threads;
    ASSERT_TRUE(base.starts_with("http://127.0.0.1:")) << text;
    ASSERT_TRUE(threads.starts_with("http://127.0.0.1:")) << text;
    EXPECT_NE(text.find("behaviour profile documented"), std::string::npos);
    EXPECT_EQ(browser().get(threads + "/healthz").status, 200);
    const std::string client_id = line_after(text, "client_id ");
    const std::string secret = line_after(text, "client_secret ");
    ASSERT_FALSE(client_id.empty()) << text;
    browser b;
    auto r = b.get(base + "/demo");
    ASSERT_EQ(r.status, 200);
    const std::string verifier = b.cookie("demo_verifier");
    const auto href = r.body.find(base + "/oauth/authorize?");
    ASSERT_NE(href, std::string::npos);
    std::string url = r.body.substr(href, r.body.find('"', href) - href);
    for (std::size_t at; (at = url.find("&amp;")) != std::string::npos;) url.replace(at, 5, "&");
    r = b.get(url);
    ASSERT_EQ(r.status, 302);
    const std::string next(r.headers.get("Location"));
    b.get(base + next);
    r = b.post_form(base + "/oauth/login", {{"request", query_value("http://x" + next, "request")},
                                            {"csrf", b.cookie("idp_csrf")},
                                            {"username", "alice"},
                                            {"password", "linksim-demo"}});
    ASSERT_EQ(r.status, 303) << r.body;
    const std::string consent(r.headers.get("Location"));
    b.get(base + consent);
    r = b.post_form(base + "/oauth/consent",
                    {{"request", query_value("http://x" + consent, "request")},
                     {"csrf", b.cookie("idp_csrf")},
                     {"account_id", query_value("http://x" + consent, "account")},
                     {"decision", "allow"}});
    const std::string back(r.headers.get("Location"));
    ASSERT_TRUE(back.starts_with(base + "/demo/callback?code=")) << back;
    r = b.get(back);
    EXPECT_NE(r.body.find("(matches the cookie)"), std::string::npos);
    net::client c;
    http::request t;
    t.method = "POST";
    t.target = base + "/oauth/token";
    t.headers.set("Content-Type", "application/x-www-form-urlencoded");
    t.body = http::form_encode({{"grant_type", "authorization_code"},
                                {"client_id", client_id},
                                {"client_secret", secret},
                                {"redirect_uri", base + "/demo/callback"},
                                {"code", query_value(back, "code")},
                                {"code_verifier", verifier}});
    auto tok = c.send(t);
    ASSERT_TRUE(tok);
    EXPECT_EQ(tok->status, 200) << tok->body;
    checked = true;
  });
  EXPECT_EQ(status, 0);
  EXPECT_TRUE(checked);
  const printed p(out.str());
  ASSERT_TRUE(p.evidence_key.starts_with("linksim-evidence+")) << out.str();
  ASSERT_TRUE(p.fingerprint.starts_with("SHA256:")) << out.str();

  std::ostringstream report;
  EXPECT_EQ(verify_with(dir, p.evidence_key, report), 0) << report.str();
  {
    store::database db(app::evidence_db(dir.path()));
    auto q = db.prepare("SELECT entry FROM entries ORDER BY idx");
    std::vector<std::string> entries;
    while (q.step()) entries.push_back(q.get_text(0));
    EXPECT_NE(report.str().find("entries: " + std::to_string(entries.size())), std::string::npos)
        << report.str();
    const auto count = [&](std::initializer_list<std::string_view> pieces) {
      return std::count_if(entries.begin(), entries.end(), [&](const std::string& e) {
        return std::all_of(pieces.begin(), pieces.end(),
                           [&](std::string_view x) { return e.find(x) != std::string::npos; });
      });
    };
    // The subscription's handshake, from the provider to the service, its verify token hashed:
    // logged once, by the sender's tap, although the receiving server saw it too.
    ASSERT_FALSE(entries.empty());
    const std::string& first = entries.front();
    EXPECT_NE(first.find(R"("from":"idp","to":"threads")"), std::string::npos) << first;
    EXPECT_NE(first.find(R"("channel":"webhook")"), std::string::npos) << first;
    EXPECT_NE(first.find(R"("observed":true)"), std::string::npos) << first;
    EXPECT_NE(first.find("hmac:"), std::string::npos) << first;
    EXPECT_EQ(count({R"("channel":"webhook")", R"("observed":true)"}), 1);
    // The person's requests, seen by the provider's server: the login form, its password
    // hashed, and the token answer with its tokens hashed. No secret is written down.
    EXPECT_EQ(count({R"("from":"user","to":"idp")", "POST /oauth/login", R"("observed":true)"}), 1);
    EXPECT_EQ(count({R"("from":"user","to":"idp")", "POST /oauth/token", "answer 200"}), 0);
    EXPECT_EQ(count({R"("from":"idp","to":"user")", "POST /oauth/token (answer 200)"}), 1);
    EXPECT_EQ(count({"POST /oauth/login (request)", R"(\"password\":\"hmac:)"}), 1);
    EXPECT_EQ(count({"linksim-demo"}), 0);
    EXPECT_GE(count({R"("from":"user")", R"("observed":true)"}), 8);
  }
  EXPECT_NE(report.str().find(p.fingerprint), std::string::npos) << report.str();
  // Without a key the auditor chose, nothing is verified; the key beside the log is a warning.
  std::ostringstream keyless, beside;
  EXPECT_EQ(app::evidence_verify({.log = app::evidence_db(dir.path())}, keyless), 1);
  EXPECT_NE(keyless.str().find("give the verifier key you trust"), std::string::npos);
  EXPECT_EQ(
      app::evidence_verify({.log = app::evidence_db(dir.path()), .key_beside_log = true}, beside),
      0)
      << beside.str();
  EXPECT_NE(beside.str().find("WARNING: the key was found beside the log"), std::string::npos);
  // The signing key is not in the folder an auditor is handed.
  EXPECT_FALSE(std::filesystem::exists(app::evidence_dir(dir.path()) / "evidence.key"));
  EXPECT_TRUE(std::filesystem::exists(app::evidence_key_file(dir.path())));

  {
    // Someone rewrites the provider's entry behind the triggers' back.
    store::database db(app::evidence_db(dir.path()));
    db.exec("DROP TRIGGER entries_append_only_update");
    db.exec("UPDATE entries SET entry = replace(entry, 'demo-client', 'advertiser')");
  }
  std::ostringstream tampered;
  EXPECT_EQ(verify_with(dir, p.evidence_key, tampered), 1);
  EXPECT_NE(tampered.str().find("FAIL: entry 1"), std::string::npos) << tampered.str();
  // Restarting on it does not sign the tampered entry: the service does not start.
  std::ostringstream again;
  EXPECT_THROW(app::serve(o, again, [] {}), evidence::untrusted_log);
  std::ostringstream still;
  EXPECT_EQ(verify_with(dir, p.evidence_key, still), 1) << still.str();
}

// The ad platform runs beside the two services, behind the admin token, and a sign-up on the
// dependent service sends it the new profile (the tokens between the three were wired).
TEST(Serve, TheAdPlatformRunsBesideAndASignUpReachesIt) {
  temp_dir dir;
  const app::serve_options o = options_in(dir);
  std::ostringstream out;
  bool checked = false;
  const int status = app::serve(o, out, [&] {
    const std::string text = out.str();
    const printed p(text);
    const std::string &base = p.idp, &threads = p.threads, &ads = p.ads, &admin = p.admin;
    ASSERT_TRUE(ads.starts_with("http://127.0.0.1:")) << text;
    EXPECT_EQ(browser().get(ads + "/healthz").status, 200);
    net::client c;
    auto holdings = [&](const std::string& id, const std::string& token) {
      return send_request(c, "GET", ads + "/admin/accounts/" + id, {}, {},
                          {{"Authorization", "Bearer " + token}});
    };
    EXPECT_EQ(holdings("1", "not-the-token").status, 401);

    // alice signs up on the dependent service with her demo login.
    const std::string account = sign_up_alice(base, threads);
    ASSERT_FALSE(account.empty());

    const auto held = holdings(account, admin);
    ASSERT_EQ(held.status, 200) << held.body << " account " << account;
    EXPECT_GT(json_of(held).at("activity").as_int64(), 0) << held.body;
    checked = true;
  });
  EXPECT_EQ(status, 0);
  EXPECT_TRUE(checked);
  // The profile's way to the ad platform is in the evidence log.
  store::database db(app::evidence_db(dir.path()));
  auto q = db.prepare("SELECT count(*) FROM entries WHERE entry LIKE '%ads.activity%'");
  ASSERT_TRUE(q.step());
  EXPECT_GT(q.get_int(0), 0);
}

// Writes `bytes` to the server at `base_url` ("http://127.0.0.1:PORT") and returns all it
// answers until it closes the connection (or 5 s pass).
std::string raw_exchange(const std::string& base_url, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port =
      htons(static_cast<std::uint16_t>(std::stoi(base_url.substr(base_url.rfind(':') + 1))));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size())) {
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
      out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST(Serve, HostileRequestsLeaveEveryServiceAnswering) {
  temp_dir dir;
  const app::serve_options o = options_in(dir);
  std::ostringstream out;
  bool checked = false;
  const int status = app::serve(o, out, [&] {
    const printed p(out.str());
    const std::string chunked =
        "POST /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Trailer: ";
    for (const std::string& base : {p.idp, p.threads, p.ads}) {
      ASSERT_TRUE(base.starts_with("http://127.0.0.1:")) << out.str();
      // As many as the provider has io threads, and more: each once stopped a thread.
      for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(raw_exchange(base, chunked + std::string(64 * 1024, 'a') + "\r\n\r\n")
                        .starts_with("HTTP/1.1 431"))
            << base;
      }
      EXPECT_TRUE(raw_exchange(base, chunked + std::string(9000, 'a') + "\r\n\r\n")
                      .starts_with("HTTP/1.1 431"))
          << base;
      EXPECT_EQ(browser().get(base + "/healthz").status, 200) << base;
    }
    checked = true;
  });
  EXPECT_EQ(status, 0);
  EXPECT_TRUE(checked);
}

TEST(Serve, TheDataFolderAndEveryFileInItAreTheOwnersAlone) {
  temp_dir dir;
  app::serve_options o = options_in(dir);
  o.data_dir = dir.path() / "data";
  std::filesystem::create_directories(o.data_dir);
  std::filesystem::permissions(o.data_dir, std::filesystem::perms(0755));  // as mkdir leaves it
  std::vector<std::string> seen_while_running;
  std::ostringstream out;
  const int status = app::serve(o, out, [&] {
    // While running too: the WAL and shared-memory files exist only now.
    for (const auto& f : std::filesystem::recursive_directory_iterator(o.data_dir)) {
      seen_while_running.push_back(f.path().filename().string());
      EXPECT_EQ(f.status().permissions() & std::filesystem::perms::mask,
                std::filesystem::perms(f.is_directory() ? 0700 : 0600))
          << f.path();
    }
  });
  EXPECT_EQ(status, 0);
  EXPECT_EQ(std::filesystem::status(o.data_dir).permissions() & std::filesystem::perms::mask,
            std::filesystem::perms(0700));
  EXPECT_NE(std::find(seen_while_running.begin(), seen_while_running.end(), "idp.db-wal"),
            seen_while_running.end());
}

TEST(Serve, RestartKeepsAccountsAndTheEvidenceKey) {
  temp_dir dir;
  const app::serve_options o = options_in(dir);
  std::ostringstream first, second;
  ASSERT_EQ(app::serve(o, first, [] {}), 0);
  const std::string key = printed(first.str()).admin;
  const std::string evidence_key = printed(first.str()).evidence_key;
  ASSERT_EQ(app::serve(o, second, [] {}), 0);
  EXPECT_EQ(printed(second.str()).admin, key);
  EXPECT_EQ(printed(second.str()).evidence_key, evidence_key);
  std::ostringstream report;
  // The key the first run printed verifies what both runs signed: the key was kept.
  EXPECT_EQ(verify_with(dir, evidence_key, report), 0) << report.str();
  // Each start logged the subscription's handshake, observed between the services.
  EXPECT_NE(report.str().find("entries: 2"), std::string::npos) << report.str();
}

// --webhook-batch: changes that fall due together travel in one request. alice's new username
// and display name are one change of her account, committed together, so the dispatcher finds
// both webhooks due at once: with a batch of 10 they travel in one request, with the default of
// 1 in two.
TEST(Serve, WebhookBatchCarriesChangesDueTogetherInOneRequest) {
  for (const std::size_t batch : {std::size_t{1}, std::size_t{10}}) {
    SCOPED_TRACE("--webhook-batch " + std::to_string(batch));
    temp_dir dir;
    app::serve_options o = options_in(dir);
    o.webhook_batch = batch;
    std::ostringstream out;
    bool checked = false;
    const int status = app::serve(o, out, [&] {
      const printed p(out.str());
      const std::string &base = p.idp, &threads = p.threads, &admin = p.admin;
      const std::string account = sign_up_alice(base, threads);
      ASSERT_FALSE(account.empty());
      net::client c;
      auto admin_call = [&](const char* method, const std::string& target,
                            const std::string& json) {
        return send_request(c, method, base + target, json, json.empty() ? "" : "application/json",
                            {{"Authorization", "Bearer " + admin}});
      };
      const auto patched = admin_call("PATCH", "/admin/accounts/" + account,
                                      R"({"username":"alice_two","name":"Alice Two"})");
      ASSERT_EQ(patched.status, 200) << patched.body;
      // A dispatch asked for now: it waits for a round the background dispatcher may have begun
      // (one round at a time), so when it answers both changes have been sent and settled.
      ASSERT_EQ(admin_call("POST", "/admin/webhooks/dispatch", "").status, 200);
      std::vector<boost::json::object> delivered;
      const auto list = admin_call("GET", "/admin/deliveries?state=delivered", "");
      ASSERT_EQ(list.status, 200) << list.body;
      const auto listed = json_of(list);
      for (const auto& d : listed.at("deliveries").as_array())
        if (d.at("account_id").as_string() == account && d.at("kind").as_string() == "webhook")
          delivered.push_back(d.as_object());
      ASSERT_EQ(delivered.size(), 2u) << list.body;
      // The dependent service answers each request with what became of each change in it
      // (the name is not mirrored, so it is ignored): together, the changes the request carried.
      for (const auto& d : delivered) {
        const auto answer = boost::json::parse(d.at("last_response").as_string()).as_object();
        std::int64_t carried = 0;
        for (const char* outcome : {"applied", "duplicates", "stale", "ignored"})
          carried += answer.at(outcome).as_int64();
        EXPECT_EQ(carried, batch == 1 ? 1 : 2) << boost::json::serialize(d);
      }
      checked = true;
    });
    EXPECT_EQ(status, 0);
    EXPECT_TRUE(checked);
  }
}

// Over real HTTP, the dependent service sets up its Shared Signals stream at start, and a rename
// reaches the profile by a pushed SET, or by polling the stream.
TEST(Serve, ARenameReachesTheProfileOverSharedSignals) {
  for (const auto c : {threads_sim::channel::ssf_push, threads_sim::channel::ssf_poll}) {
    SCOPED_TRACE(std::string(threads_sim::to_string(c)));
    temp_dir dir;
    app::serve_options o = options_in(dir);
    o.changes = c;
    std::ostringstream out;
    bool checked = false;
    const int status = app::serve(o, out, [&] {
      const printed p(out.str());
      EXPECT_NE(out.str().find(std::string("account changes by ") +
                               std::string(threads_sim::to_string(c))),
                std::string::npos);
      const std::string account = sign_up_alice(p.idp, p.threads);
      ASSERT_FALSE(account.empty());
      net::client client;
      auto admin_call = [&](const char* method, const std::string& target,
                            const std::string& json = {}) {
        return send_request(client, method, target, json, json.empty() ? "" : "application/json",
                            {{"Authorization", "Bearer " + p.admin}});
      };
      ASSERT_EQ(admin_call("PATCH", p.idp + "/admin/accounts/" + account,
                           R"({"username":"alice_signal"})")
                    .status,
                200);
      if (c == threads_sim::channel::ssf_push) {
        // A dispatch asked for now pushes the SET and waits for the answer.
        ASSERT_EQ(admin_call("POST", p.idp + "/admin/webhooks/dispatch").status, 200);
        // No webhook was sent: the stream replaces the subscription.
        const auto sent = admin_call("GET", p.idp + "/admin/deliveries?state=delivered");
        const auto listed = json_of(sent);
        for (const auto& d : listed.at("deliveries").as_array())
          EXPECT_NE(d.at("kind").as_string(), "webhook") << sent.body;
      } else {
        const auto polled = admin_call("POST", p.threads + "/admin/ssf/poll");
        ASSERT_EQ(polled.status, 200) << polled.body;
        // The service's own poller may have taken it first: a poll waits for one in flight.
        EXPECT_LE(json_of(polled).at("received").as_int64(), 1);
      }
      const auto page =
          send_request(client, "GET", p.threads + "/api/profiles/alice_signal", "", "", {});
      EXPECT_EQ(page.status, 200) << page.body;
      checked = true;
    });
    EXPECT_EQ(status, 0);
    EXPECT_TRUE(checked);
  }
}

int run(const std::string& args) {
  const int rc =
      std::system((std::string(LINKSIM_BINARY) + " " + args + " >/dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(Command, BadFlagsExitWithStatus2) {
  EXPECT_EQ(run(""), 2);
  EXPECT_EQ(run("serve --no-such-flag"), 2);
  EXPECT_EQ(run("serve --idp-port 70000"), 2);
  EXPECT_EQ(run("serve --idp-port http"), 2);
  EXPECT_EQ(run("evidence"), 2);
  EXPECT_EQ(run("serve --profile no-such-profile"), 2);
  EXPECT_EQ(run("serve --threads-port -1"), 2);
  EXPECT_EQ(run("serve --reconcile-interval 0"), 2);
  EXPECT_EQ(run("--help"), 0);
}

TEST(Command, VerifyOfAMissingLogFails) {
  temp_dir dir;
  EXPECT_EQ(run("evidence verify --data-dir " + dir.path().string()), 1);
  EXPECT_EQ(run("evidence verify --log " + (dir / "none.db").string() + " --key bad"), 1);
}

}  // namespace
}  // namespace linksim
