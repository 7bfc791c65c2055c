// flowgen: the load generator behind bench/driver.mjs's full-flow and token-exchange figures.
//
// Node.js with undici needs about 330 µs of CPU per full flow (four requests with cookies, URL
// parsing and PKCE): on a 2-core machine that shares its cores with the server under test, the
// client alone capped every server near 3 000 flows/s. This generator does the same work from
// one C++ thread in a fraction of that, so the figures measure the servers.
//
//   flowgen --kind linksim|oauth2-mock|oidc --base http://127.0.0.1:PORT --mode flows|exchanges
//           --ops N --concurrency C --pid SERVER_PID
//           [--client-id ID] [--client-secret S] [--username U] [--password P]
//
// Each of C browsers has its own cookie jar and keep-alive connection, logs in once (untimed:
// a user who is already logged in at the provider), then runs its share of the N operations.
// "flows": authorize → (consent page and allow, or the provider's redirects) → code → token.
// "exchanges": N codes are obtained first (untimed), then redeemed. A failed operation is
// counted and never retried, since a code is single-use. Prints one JSON object:
// {"ok", "failed", "wall_s", "per_s", "server_cpu_us", "client_cpu_us", "first_error"}, the CPU
// figures per successful operation (the server's from /proc/PID/task/*/schedstat).
#include "linksim/common/crypto.hpp"
#include "linksim/common/http.hpp"
#include "linksim/common/random.hpp"

#include <sys/resource.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using namespace linksim;

namespace {

constexpr std::string_view redirect_uri = "http://127.0.0.1:9/cb";

struct options {
  std::string kind, base, mode = "flows";
  std::string client_id = "bench", client_secret, username, password;
  std::size_t ops = 2000, concurrency = 32;
  long pid = 0;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "flowgen: %s\nusage: flowgen --kind linksim|oauth2-mock|oidc --base URL "
               "--mode flows|exchanges --ops N --concurrency C --pid PID [--client-id ID] "
               "[--client-secret S] [--username U] [--password P]\n",
               why.c_str());
  std::exit(2);
}

// CPU time of a process, all its threads, in nanoseconds.
double process_cpu_ns(long pid) {
  double total = 0;
  for (const auto& t :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream in(t.path() / "schedstat");
    double ns = 0;
    if (in >> ns) total += ns;
  }
  return total;
}

double own_cpu_ns() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto ns = [](timeval v) { return v.tv_sec * 1e9 + v.tv_usec * 1e3; };
  return ns(u.ru_utime) + ns(u.ru_stime);
}

struct reply {
  int status = 0;
  std::string location;
  std::string body;
};

class failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One browser: a cookie jar and a keep-alive connection to the server.
class browser {
 public:
  browser(asio::io_context& ioc, tcp::endpoint ep, std::string host)
      : stream_(ioc), ep_(ep), host_(std::move(host)) {}

  asio::awaitable<reply> get(std::string target) {
    return send(bhttp::verb::get, std::move(target), {});
  }
  asio::awaitable<reply> post(std::string target, const http::params& form) {
    return send(bhttp::verb::post, std::move(target), http::form_encode(form));
  }
  std::string cookie(const std::string& name) const {
    auto it = jar_.find(name);
    return it == jar_.end() ? std::string() : it->second;
  }
  std::string account;  // the provider account this browser is logged in as (linksim)

 private:
  asio::awaitable<reply> send(bhttp::verb method, std::string target, std::string body) {
    stream_.expires_after(std::chrono::seconds(10));
    if (!open_) {
      co_await stream_.async_connect(ep_, asio::use_awaitable);
      stream_.socket().set_option(tcp::no_delay(true));
      open_ = true;
    }
    bhttp::request<bhttp::string_body> req{method, target, 11};
    req.set(bhttp::field::host, host_);
    if (!jar_.empty()) {
      std::string c;
      for (const auto& [k, v] : jar_) c += (c.empty() ? "" : "; ") + k + "=" + v;
      req.set(bhttp::field::cookie, c);
    }
    if (method == bhttp::verb::post)
      req.set(bhttp::field::content_type, "application/x-www-form-urlencoded");
    req.body() = std::move(body);
    req.prepare_payload();
    bhttp::response<bhttp::string_body> res;
    try {
      co_await bhttp::async_write(stream_, req, asio::use_awaitable);
      co_await bhttp::async_read(stream_, buffer_, res, asio::use_awaitable);
    } catch (...) {
      close();
      throw;
    }
    for (auto [it, end] = res.equal_range(bhttp::field::set_cookie); it != end; ++it) {
      const std::string_view v = it->value();
      const auto pair = v.substr(0, v.find(';'));
      const auto eq = pair.find('=');
      if (eq != std::string_view::npos)
        jar_[std::string(pair.substr(0, eq))] = std::string(pair.substr(eq + 1));
    }
    if (!res.keep_alive()) close();
    co_return reply{static_cast<int>(res.result_int()), std::string(res[bhttp::field::location]),
                    std::move(res.body())};
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    buffer_.clear();
    open_ = false;
  }

  beast::tcp_stream stream_;
  tcp::endpoint ep_;
  std::string host_;
  beast::flat_buffer buffer_;
  bool open_ = false;
  std::map<std::string, std::string> jar_;
};

reply expect(reply r, int status, const char* what) {
  if (r.status != status)
    throw failure(std::string(what) + ": expected " + std::to_string(status) + ", got " +
                  std::to_string(r.status) + ": " + r.body.substr(0, 200));
  return r;
}

struct pkce_pair {
  std::string verifier, challenge;
};

struct code_grant {
  std::string code, verifier;
};

// How one server runs a login, a flow up to the code, and a redemption.
class target {
 public:
  explicit target(options o) : o_(std::move(o)) {}

  asio::awaitable<void> login(browser& b) {
    if (o_.kind == "oidc") {
      co_await follow(b, authorize(pkce().challenge));
    } else if (o_.kind == "linksim") {
      auto r = expect(co_await b.get(authorize(pkce().challenge)), 302, "authorize");
      const auto request = http::query_param(r.location, "request");
      expect(co_await b.get(local(r.location)), 200, "login page");
      // Built before the co_await: GCC 12 rejects a braced list inside a co_await expression.
      const http::params form{{"request", request},
                              {"csrf", b.cookie("idp_csrf")},
                              {"username", o_.username},
                              {"password", o_.password}};
      r = expect(co_await b.post("/oauth/login", form), 303, "login");
      b.account = http::query_param(r.location, "account");
    }
  }

  asio::awaitable<code_grant> code(browser& b) {
    auto p = pkce();
    std::string location;
    if (o_.kind == "linksim") {
      auto r = expect(co_await b.get(authorize(p.challenge)), 302, "authorize");
      const auto request = http::query_param(r.location, "request");
      expect(co_await b.get(local(r.location)), 200, "consent page");
      const http::params form{{"request", request},
                              {"csrf", b.cookie("idp_csrf")},
                              {"account_id", b.account},
                              {"decision", "allow"}};
      r = expect(co_await b.post("/oauth/consent", form), 302, "consent");
      location = r.location;
    } else if (o_.kind == "oidc") {
      location = co_await follow(b, authorize(p.challenge));
    } else {
      location = expect(co_await b.get(authorize(p.challenge)), 302, "authorize").location;
    }
    auto code = http::query_param(location, "code");
    if (code.empty()) throw failure("no code in " + location);
    co_return code_grant{std::move(code), std::move(p.verifier)};
  }

  asio::awaitable<void> redeem(browser& b, const code_grant& g) {
    http::params form{{"grant_type", "authorization_code"},
                      {"code", g.code},
                      {"code_verifier", g.verifier},
                      {"redirect_uri", std::string(redirect_uri)},
                      {"client_id", o_.client_id}};
    if (!o_.client_secret.empty()) form.emplace_back("client_secret", o_.client_secret);
    auto r = expect(co_await b.post(o_.kind == "linksim" ? "/oauth/token" : "/token", form), 200,
                    "token");
    if (r.body.find("\"access_token\"") == std::string::npos)
      throw failure("token: no access_token in " + r.body.substr(0, 200));
  }

 private:
  pkce_pair pkce() {
    const std::string verifier = random_.token(48);
    const auto d = sha256(verifier);
    return {verifier, base64url_encode(d)};
  }

  std::string authorize(const std::string& challenge) const {
    const char* path = o_.kind == "linksim" ? "/oauth/authorize?"
                       : o_.kind == "oidc"  ? "/auth?"
                                            : "/authorize?";
    return path + http::form_encode({{"client_id", o_.client_id},
                                     {"redirect_uri", std::string(redirect_uri)},
                                     {"response_type", "code"},
                                     {"scope", o_.kind == "linksim" ? "user_profile" : "openid"},
                                     {"state", "st"},
                                     {"code_challenge", challenge},
                                     {"code_challenge_method", "S256"}});
  }

  // A Location as a request target on this server.
  std::string local(const std::string& location) const {
    if (location.starts_with(o_.base)) return location.substr(o_.base.size());
    return location;
  }

  // Follows the provider's redirects until one leaves for the client's redirect URI.
  asio::awaitable<std::string> follow(browser& b, std::string path) {
    for (int hops = 0; hops < 10; ++hops) {
      auto r = co_await b.get(path);
      if (r.status < 300 || r.status >= 400)
        throw failure("flow: " + std::to_string(r.status) + " " + r.body.substr(0, 200));
      if (r.location.starts_with(redirect_uri)) co_return r.location;
      path = local(r.location);
    }
    throw failure("flow: too many redirects");
  }

  options o_;
  system_random random_;
};

struct tally {
  std::size_t ok = 0, failed = 0;
  std::string first_error;
  void fail(const std::string& why) {
    if (failed++ == 0) first_error = why;
  }
};

// Runs `op(browser, i)` for i in [0, n), one worker per browser, and returns when all are done.
template <typename Op>
void run_all(asio::io_context& ioc, std::vector<std::unique_ptr<browser>>& browsers, std::size_t n,
             tally& t, Op op) {
  std::size_t next = 0;
  for (auto& b : browsers) {
    asio::co_spawn(
        ioc,
        [&, b = b.get()]() -> asio::awaitable<void> {
          for (std::size_t i = next++; i < n; i = next++) {
            try {
              co_await op(*b, i);
              ++t.ok;
            } catch (const std::exception& e) {
              t.fail(e.what());
            }
          }
        },
        asio::detached);
  }
  ioc.run();
  ioc.restart();
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; i += 2) {
    const std::string k = argv[i];
    if (i + 1 >= argc) usage("missing value for " + k);
    const std::string v = argv[i + 1];
    try {
      if (k == "--kind")
        o.kind = v;
      else if (k == "--base")
        o.base = v;
      else if (k == "--mode")
        o.mode = v;
      else if (k == "--client-id")
        o.client_id = v;
      else if (k == "--client-secret")
        o.client_secret = v;
      else if (k == "--username")
        o.username = v;
      else if (k == "--password")
        o.password = v;
      else if (k == "--ops")
        o.ops = std::stoul(v);
      else if (k == "--concurrency")
        o.concurrency = std::stoul(v);
      else if (k == "--pid")
        o.pid = std::stol(v);
      else
        usage("unknown option " + k);
    } catch (const std::logic_error&) {
      usage("bad value for " + k);
    }
  }
  if (o.kind != "linksim" && o.kind != "oauth2-mock" && o.kind != "oidc") usage("unknown --kind");
  if (o.mode != "flows" && o.mode != "exchanges") usage("unknown --mode");
  if (o.ops == 0 || o.concurrency == 0 || o.pid <= 0)
    usage("--ops, --concurrency, --pid must be positive");
  const auto host_port = o.base.starts_with("http://") ? o.base.substr(7) : std::string();
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos) usage("--base must be http://HOST:PORT");

  asio::io_context ioc{1};
  const tcp::endpoint ep{asio::ip::make_address(host_port.substr(0, colon)),
                         static_cast<unsigned short>(std::stoul(host_port.substr(colon + 1)))};
  target t(o);
  std::vector<std::unique_ptr<browser>> browsers;
  for (std::size_t i = 0; i < o.concurrency; ++i)
    browsers.push_back(std::make_unique<browser>(ioc, ep, host_port));

  // Untimed: every browser logs in; for exchanges, every code is obtained.
  tally setup;
  run_all(ioc, browsers, browsers.size(), setup,
          [&](browser& b, std::size_t) { return t.login(b); });
  if (setup.failed) {
    std::fprintf(stderr, "flowgen: login failed: %s\n", setup.first_error.c_str());
    return 1;
  }
  std::vector<std::optional<code_grant>> codes(o.mode == "exchanges" ? o.ops : 0);
  if (o.mode == "exchanges") {
    tally got;
    run_all(ioc, browsers, o.ops, got, [&](browser& b, std::size_t i) -> asio::awaitable<void> {
      codes[i] = co_await t.code(b);
    });
  }

  tally timed;
  const double server0 = process_cpu_ns(o.pid), client0 = own_cpu_ns();
  const auto t0 = std::chrono::steady_clock::now();
  if (o.mode == "flows") {
    run_all(ioc, browsers, o.ops, timed, [&](browser& b, std::size_t) -> asio::awaitable<void> {
      const auto g = co_await t.code(b);
      co_await t.redeem(b, g);
    });
  } else {
    run_all(ioc, browsers, o.ops, timed, [&](browser& b, std::size_t i) -> asio::awaitable<void> {
      if (!codes[i]) throw failure("no code was issued for this slot");
      co_await t.redeem(b, *codes[i]);
    });
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double server_ns = process_cpu_ns(o.pid) - server0, client_ns = own_cpu_ns() - client0;
  if (timed.ok == 0) {
    std::fprintf(stderr, "flowgen: every operation failed: %s\n", timed.first_error.c_str());
    return 1;
  }
  std::printf(
      "{\"ok\":%zu,\"failed\":%zu,\"wall_s\":%.4f,\"per_s\":%.1f,\"server_cpu_us\":%.1f,"
      "\"client_cpu_us\":%.1f,\"first_error\":\"%s\"}\n",
      timed.ok, timed.failed, wall, static_cast<double>(timed.ok) / wall,
      server_ns / 1e3 / static_cast<double>(timed.ok),
      client_ns / 1e3 / static_cast<double>(timed.ok), json_escape(timed.first_error).c_str());
  return 0;
}
