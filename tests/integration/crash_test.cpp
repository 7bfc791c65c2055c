// The crash guarantee of `linksim serve`: killed with SIGKILL at a random moment under renaming
// load, over a bounded number of rounds, it loses no acknowledged rename, its databases pass
// PRAGMA integrity_check, its evidence log verifies, and after the restart the dependent
// service's mirror converges on the provider's username.
#include "linksim/store/sqlite.hpp"

#include "support.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

namespace linksim {
namespace {

using namespace testing;

// A port that was free a moment ago: the services must come back on the same ports, since each
// stores the others' URLs (the provider keeps the webhook callback).
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// `linksim serve` as a child process, started and read until it says it is ready.
class serve_process {
 public:
  serve_process(const std::filesystem::path& dir, const std::vector<std::uint16_t>& ports,
                const std::string& admin_token) {
    int out[2];
    EXPECT_EQ(::pipe(out), 0);
    const std::vector<std::string> args = {LINKSIM_BINARY,   "serve",
                                           "--data-dir",     dir.string(),
                                           "--idp-port",     std::to_string(ports[0]),
                                           "--threads-port", std::to_string(ports[1]),
                                           "--ads-port",     std::to_string(ports[2]),
                                           "--admin-token",  admin_token};
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    // Reads its lines until the last one of the start-up (a blocking read: no sleep).
    FILE* f = ::fdopen(out[0], "r");
    char line[1024];
    while (std::fgets(line, sizeof line, f)) {
      const std::string l = line;
      if (l.starts_with("idp: ")) idp = l.substr(5, l.find_first_of(" \n", 5) - 5);
      if (l.starts_with("threads: ")) threads = l.substr(9, l.find_first_of(" \n", 9) - 9);
      if (l.starts_with("Press Ctrl-C")) break;
    }
    output_ = f;
  }
  ~serve_process() {
    if (pid_ > 0) kill(SIGKILL);
    if (output_) std::fclose(output_);
  }
  // Sends `sig` and waits for the process; its exit status, or 128 + the signal.
  int kill(int sig) {
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::string idp, threads;

 private:
  pid_t pid_ = -1;
  FILE* output_ = nullptr;
};

std::string username_at_provider(net::client& c, const std::string& idp, const std::string& id,
                                 const std::string& admin) {
  const auto r = send_request(c, "GET", idp + "/admin/accounts/" + id, {}, {},
                              {{"Authorization", "Bearer " + admin}});
  EXPECT_EQ(r.status, 200) << r.body;
  return r.status == 200 ? std::string(json_of(r).at("username").as_string()) : "";
}

TEST(Crash, KilledAtRandomUnderRenamesItLosesNothingAcknowledged) {
  temp_dir dir;
  const std::string admin = "crash-test-admin-token";
  std::mt19937 random(20261204);
  net::client c(milliseconds{2000});

  // The restarts keep the ports (the services' addresses are in their data), so they are
  // chosen here: free now, and taken again if another test binds one before `serve` does.
  std::vector<std::uint16_t> ports;
  std::string account;
  for (int attempt = 0; attempt < 5 && account.empty(); ++attempt) {
    ports = {free_port(), free_port(), free_port()};
    serve_process first(dir.path(), ports, admin);
    if (first.threads.empty()) continue;  // a port was taken: other ones
    account = sign_up_alice(first.idp, first.threads);
    ASSERT_FALSE(account.empty());
    EXPECT_EQ(first.kill(SIGTERM), 0);
  }
  ASSERT_FALSE(account.empty()) << "linksim serve did not start on five sets of free ports";

  std::string last_acked = "alice", in_flight;
  int acked = 0;
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    serve_process serve(dir.path(), ports, admin);
    ASSERT_FALSE(serve.idp.empty());
    // What the last round acknowledged is there; a rename in flight at the kill may be too.
    const std::string now = username_at_provider(c, serve.idp, account, admin);
    EXPECT_TRUE(now == last_acked || now == in_flight)
        << "the provider has " << now << "; last acknowledged " << last_acked;
    // The mirror converges: a poll brings the dependent service to the provider's username.
    const auto profiles =
        send_request(c, "GET", serve.threads + "/admin/profiles?ig_user_id=" + account, {}, {},
                     {{"Authorization", "Bearer " + admin}});
    ASSERT_EQ(profiles.status, 200) << profiles.body;
    const auto data = json_of(profiles).at("data").as_array();
    ASSERT_EQ(data.size(), 1u) << profiles.body;
    const std::string profile(data[0].at("id").as_string());
    const auto polled =
        send_request(c, "POST", serve.threads + "/admin/profiles/" + profile + "/reconcile", {}, {},
                     {{"Authorization", "Bearer " + admin}});
    ASSERT_EQ(polled.status, 200) << polled.body;
    EXPECT_EQ(json_of(polled).at("username").as_string(), now);

    // Renames, one after another, until the process is killed after a random number of them.
    const int kill_after = std::uniform_int_distribution<int>(5, 60)(random);
    std::mutex m;
    std::condition_variable cv;
    int acked_this_round = 0;
    std::atomic<bool> stop{false};
    std::thread load([&] {
      net::client lc(milliseconds{2000});
      for (int n = 0; !stop; ++n) {
        const std::string name = "alice." + std::to_string(round) + "_" + std::to_string(n);
        {
          std::lock_guard l(m);
          in_flight = name;
        }
        const auto r = lc.send(make_request("PATCH", serve.idp + "/admin/accounts/" + account,
                                            R"({"username":")" + name + R"("})", "application/json",
                                            {{"Authorization", "Bearer " + admin}}));
        if (!r || r->status != 200) break;  // killed
        std::lock_guard l(m);
        last_acked = name;
        ++acked;
        ++acked_this_round;
        cv.notify_all();
      }
    });
    {
      std::unique_lock l(m);
      cv.wait(l, [&] { return acked_this_round >= kill_after; });
    }
    EXPECT_EQ(serve.kill(SIGKILL), 128 + SIGKILL);
    stop = true;
    load.join();

    // Each database recovers to a consistent file (opening it replays the WAL, as a restart
    // does), and the evidence log verifies.
    for (const char* name : {"idp.db", "threads.db", "ads.db", "evidence/evidence.db"}) {
      store::database db(dir.path() / name);
      auto q = db.prepare("PRAGMA integrity_check");
      ASSERT_TRUE(q.step());
      EXPECT_EQ(q.get_text(0), "ok") << name;
    }
    // Every write is signed in its own transaction, so a kill leaves no unsigned entry: the log
    // verifies whole, without --allow-unsigned-tail.
    const std::string verify = std::string(LINKSIM_BINARY) + " evidence verify --data-dir " +
                               dir.path().string() + " --key-file " +
                               (dir.path() / "evidence" / "evidence.pub").string() + " >/dev/null";
    EXPECT_EQ(std::system(verify.c_str()), 0);
  }
  EXPECT_GE(acked, 20 * 5);
  serve_process last(dir.path(), ports, admin);
  const std::string final_name = username_at_provider(c, last.idp, account, admin);
  EXPECT_TRUE(final_name == last_acked || final_name == in_flight) << final_name;
  EXPECT_EQ(last.kill(SIGTERM), 0);
}

}  // namespace
}  // namespace linksim
