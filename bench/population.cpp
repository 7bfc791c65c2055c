// The population benchmark: N provider accounts sign up through the full flow (the service's
// /signup, the provider's login and consent pages, the Link Account page), each then makes K
// profile changes (renames and new pictures, alternating), with a share of the webhooks lost
// and reconciliation polling on. All in the deterministic simulation.
// Reports wall time per phase, simulated events per second, peak memory, and how long after
// the last change every profile matched its account again (simulated time).
//
//   population --accounts 100000 --changes 10 --loss 0.3 [--seed 1] [--dir DIR] [--progress]
//              [--json]
//
// --progress reports each tenth of the sign-ups and each round of changes on stderr, with the
// wall time so far and the peak memory, for runs that take an hour.
//
// The databases are in memory up to 2.75 million accounts-and-changes (250 000 accounts with 10
// changes each), and files in a temporary folder, removed at the end, past that: SQLite keeps an
// in-memory database in one buffer and refuses any allocation of 2 GiB or more, and the
// provider's database takes about 6 KB per account with 10 changes (1.5 GB at 250 000). --dir
// keeps them as files in DIR (an existing folder with no earlier run's databases) at any size,
// and leaves them there.
#include "linksim/idp/service.hpp"
#include "linksim/sim/world.hpp"
#include "linksim/store/sqlite.hpp"
#include "linksim/threads_sim/service.hpp"

#ifdef LINKSIM_MIMALLOC
#include <mimalloc.h>
#endif
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

using namespace linksim;
using std::chrono::duration;
using std::chrono::steady_clock;

namespace {

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

double seconds_since(steady_clock::time_point t) {
  return duration<double>(steady_clock::now() - t).count();
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "population: %s\nusage: population [--accounts N] [--changes K] [--loss P] "
               "[--seed S] [--batch B] [--dir DIR] [--progress] [--json]\n",
               why);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t accounts = 10'000;
  std::size_t changes = 10;
  double loss = 0.3;
  std::uint64_t seed = 1;
  std::size_t batch = 1;
  bool json = false;
  bool progress = false;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    try {
      if (a == "--accounts")
        accounts = std::stoul(value());
      else if (a == "--changes")
        changes = std::stoul(value());
      else if (a == "--loss")
        loss = std::stod(value());
      else if (a == "--seed")
        seed = std::stoull(value());
      else if (a == "--batch")
        batch = std::stoul(value());
      else if (a == "--dir")
        dir = value();
      else if (a == "--progress")
        progress = true;
      else if (a == "--json")
        json = true;
      else
        usage(("unknown argument " + a).c_str());
    } catch (const std::logic_error&) {
      usage(("bad value for " + a).c_str());
    }
  }
  if (accounts == 0 || loss < 0 || loss > 1) usage("accounts must be positive, loss in [0, 1]");
  if (batch == 0 || batch > idp::max_webhook_batch) usage("batch must be in [1, 1000]");

  const auto t0 = steady_clock::now();
  auto report = [&](const char* phase, std::size_t done, std::size_t of) {
    if (!progress) return;
    std::fprintf(stderr, "population: %s %zu/%zu at %.1f s, peak %.0f MiB\n", phase, done, of,
                 seconds_since(t0), peak_rss_mib());
  };
  namespace fs = std::filesystem;
  if (!dir.empty()) {
    if (!fs::is_directory(dir)) usage("--dir must be an existing folder");
    for (const char* db : {"idp.db", "threads.db", "ads.db"})
      if (fs::exists(fs::path(dir) / db)) usage("--dir holds an earlier run's databases");
  }
  // Declared before the world, so destroyed after it has closed the databases.
  struct temporary_folder {
    fs::path path;
    ~temporary_folder() {
      std::error_code ignored;
      if (!path.empty()) fs::remove_all(path, ignored);
    }
  } temporary;
  if (dir.empty() && accounts * (changes + 1) > 2'750'000) {
    std::string name = (fs::temp_directory_path() / "linksim-population-XXXXXX").string();
    if (!mkdtemp(name.data())) throw std::runtime_error("cannot create a folder in " + name);
    temporary.path = name;
    dir = name;
  }
  const bool in_memory = dir.empty();
  sim::world w({.seed = seed, .dir = dir, .in_memory = in_memory, .webhook_batch = batch});
  if (loss > 0)
    w.net().add_fault({.kind = sim::fault_kind::drop,
                       .match = {.from = "idp", .to = "threads", .path_prefix = "/webhooks/"},
                       .probability = loss});

  // Sign-up, through every page, all within 250 simulated seconds (at least 1 000 a second).
  // The dependent service polls every profile every 5 minutes, so the length of the sign-up
  // phase in simulated time decides how often each profile is polled before its first change.
  // At a fixed 64 a second, as before, 100 000 sign-ups took 26 simulated minutes and a million
  // 4.3 hours: the average profile was polled N / 38 400 times, and the work grew with the
  // square of N. Ending before the first poll is due keeps the work per account the same at
  // every N.
  const std::size_t per_second = std::max<std::size_t>(1000, (accounts + 249) / 250);
  std::vector<std::int64_t> ids;
  ids.reserve(accounts);
  std::size_t failed_sign_ups = 0;
  for (std::size_t i = 0; i < accounts; ++i) {
    const std::string name = "user" + std::to_string(i);
    ids.push_back(w.create_account(name));
    if (w.sign_up(name).status != 303) ++failed_sign_ups;
    if (i % per_second == per_second - 1) w.run_for(std::chrono::seconds(1));
    if (accounts >= 10 && (i + 1) % (accounts / 10) == 0) report("signed up", i + 1, accounts);
  }
  w.run_for(std::chrono::seconds(1));
  const double sign_up_s = seconds_since(t0);

  // Changes: each round renames or re-pictures every account, a minute apart.
  const auto t1 = steady_clock::now();
  for (std::size_t k = 1; k <= changes; ++k) {
    for (std::size_t i = 0; i < accounts; ++i) {
      if (k % 2 == 1) {
        // u<i>_<k>, appended in steps: GCC 12 warns falsely (-Wrestrict) on `"u" + ...`.
        std::string name = "u";
        name += std::to_string(i);
        name += '_';
        name += std::to_string(k);
        (void)w.idp().update_profile(ids[i], {.username = std::move(name)});
      } else {
        (void)w.idp().set_picture(
            ids[i], {"image/png", "picture " + std::to_string(i) + "/" + std::to_string(k)});
      }
    }
    if (k < changes) w.run_for(std::chrono::minutes(1));
    report("change round", k, changes);
  }
  const double changes_s = seconds_since(t1);

  // Convergence: ten simulated seconds at a time until every profile matches its account.
  // Each step re-checks only the profiles that lagged at the previous one; once none does, a
  // full pass confirms it (a profile that matched could in principle be overwritten later).
  const auto t2 = steady_clock::now();
  auto matches = [&](std::int64_t id) {
    const auto ig = w.idp().get_account(id);
    const auto p = w.threads().profiles_of_account(id);
    return ig && p.size() == 1 && p.front().username == ig->username &&
           p.front().picture_sha256 == ig->picture_sha256;
  };
  auto lagging = [&](const std::vector<std::int64_t>& of) {
    std::vector<std::int64_t> out;
    for (auto id : of)
      if (!matches(id)) out.push_back(id);
    return out;
  };
  std::vector<std::int64_t> behind = lagging(ids);
  const std::size_t left_after_changes = behind.size();
  std::size_t steps = 0;
  while (steps < 720) {  // two hours
    if (behind.empty()) {
      behind = lagging(ids);  // the confirming full pass
      if (behind.empty()) break;
    }
    w.run_for(std::chrono::seconds(10));
    ++steps;
    behind = lagging(behind);
    if (steps % 6 == 0) report("converging, profiles behind:", behind.size(), accounts);
  }
  if (behind.empty()) behind = lagging(ids);  // confirmed, also when the two hours ran out
  const std::size_t left = behind.size();
  const std::size_t converged_s = steps * 10;
  const double converge_s = seconds_since(t2);
  const double wall = seconds_since(t0);
  const auto& net = w.net().stats();
  const std::uint64_t events = w.sched().tasks_run() + net.sent;

  // The databases' work: the same for the same code and seed on any machine, where wall time is
  // not (the machine is shared). Statements include BEGIN and COMMIT.
  store::database::work sql;
  for (auto* db : w.databases()) sql += db->work_done();
  // The process's allocator (CMakeLists.txt, linksim_allocator): the figures depend on it.
  char allocator[40] = "the C library's malloc";
#ifdef LINKSIM_MIMALLOC
  const int mi = mi_version();
  std::snprintf(allocator, sizeof allocator, "mimalloc %d.%d.%d", mi / 100, mi / 10 % 10, mi % 10);
#endif
  if (json) {
    std::printf(
        "{\"accounts\":%zu,\"changes\":%zu,\"loss\":%.2f,\"seed\":%llu,\"batch\":%zu,"
        "\"storage\":\"%s\",\"allocator\":\"%s\","
        "\"wall_s\":%.2f,"
        "\"sign_up_s\":%.2f,\"changes_s\":%.2f,\"converge_s\":%.2f,\"events\":%llu,"
        "\"events_per_s\":%.0f,\"messages\":%llu,\"dropped\":%llu,\"peak_rss_mib\":%.0f,"
        "\"failed_sign_ups\":%zu,\"mismatched_after_changes\":%zu,"
        "\"converged_after_s\":%zu,\"mismatched_at_end\":%zu,\"evidence_entries\":%zu,"
        "\"sql_statements\":%llu,\"sql_commits\":%llu,\"pages_written\":%llu,"
        "\"cache_misses\":%llu}\n",
        accounts, changes, loss, static_cast<unsigned long long>(seed), batch,
        in_memory ? "memory" : "files", allocator, wall, sign_up_s, changes_s, converge_s,
        static_cast<unsigned long long>(events), events / wall,
        static_cast<unsigned long long>(net.sent), static_cast<unsigned long long>(net.dropped),
        peak_rss_mib(), failed_sign_ups, left_after_changes, converged_s, left, w.evidence().size(),
        static_cast<unsigned long long>(sql.statements),
        static_cast<unsigned long long>(sql.commits),
        static_cast<unsigned long long>(sql.pages_written),
        static_cast<unsigned long long>(sql.cache_misses));
  } else {
    std::printf(
        "population: %zu accounts x %zu changes, %.0f%% of webhook requests lost, up to %zu "
        "changes a request, seed %llu, databases %s, %s\n"
        "  wall %.2f s (sign-up %.2f s, changes %.2f s, convergence %.2f s)\n"
        "  %llu events (%.0f per second), %llu messages, %llu dropped, %zu evidence entries\n"
        "  peak memory %.0f MiB\n"
        "  SQLite: %.1f statements, %.1f commits, %.1f pages written, %.1f cache misses per "
        "account\n"
        "  right after the last change %zu profiles lagged; all matched %zu simulated seconds later"
        "%s\n",
        accounts, changes, loss * 100, batch, static_cast<unsigned long long>(seed),
        in_memory ? "in memory" : ("as files in " + dir).c_str(), allocator, wall, sign_up_s,
        changes_s, converge_s, static_cast<unsigned long long>(events), events / wall,
        static_cast<unsigned long long>(net.sent), static_cast<unsigned long long>(net.dropped),
        w.evidence().size(), peak_rss_mib(),
        static_cast<double>(sql.statements) / static_cast<double>(accounts),
        static_cast<double>(sql.commits) / static_cast<double>(accounts),
        static_cast<double>(sql.pages_written) / static_cast<double>(accounts),
        static_cast<double>(sql.cache_misses) / static_cast<double>(accounts), left_after_changes,
        converged_s, left == 0 ? "" : " (NOT converged)");
  }
  return failed_sign_ups == 0 && left == 0 ? 0 : 1;
}
