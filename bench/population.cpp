// The population benchmark: N provider accounts sign up through the full flow (the service's
// /signup, the provider's login and consent pages, the Link Account page), each then makes K
// profile changes (renames and new pictures, alternating), with a share of the webhooks lost
// and reconciliation polling on. All in the deterministic simulation.
// Reports wall time per phase, simulated events per second, peak memory, and how long after
// the last change every profile matched its account again (simulated time).
//
//   population --accounts 100000 --changes 10 --loss 0.3 [--seed 1] [--batch B] [--dir DIR]
//              [--shards S] [--jobs J] [--huge-pages on|off] [--machine-speed on|off]
//              [--progress] [--json]
//
// --shards S splits the population into S independent worlds, as docs/architecture.md ("Beyond
// one machine") runs a population too large for one: shard i holds accounts [i*N/S, (i+1)*N/S), its
// own provider, dependent service and evidence log, and the seed
// splitmix64(seed + (i + 1) * 0x9E3779B97F4A7C15). The accounts of this benchmark never meet (no
// follows, no shared names), so each does in its shard what it does in one world. --jobs J runs
// J shards at a time, one thread each (default: as many as the machine has cores, at most S).
// The evidence root of a sharded run is the RFC 6962 root over the shards' roots, in order, taken
// as leaf hashes. One shard (the default) is exactly the unsharded run.
//
// --huge-pages on (the default) asks the allocator for memory in 2 MiB pages where the kernel
// gives them (transparent huge pages in "madvise" or "always" mode): an in-memory database is
// a heap of B-tree pages read in random order, which 4 KiB pages spread over many more TLB
// entries. In four back-to-back pairs at 100 000 x 10 in one world it was faster every time,
// by 0.2 to 10 % (the machine's own spread is larger), for 1 438 MiB at the peak instead of
// 1 224 (2026-11-23, AMD EPYC). Where the kernel gives none, nothing changes.
// Needs mimalloc (LINKSIM_MIMALLOC): without it the default is off and "on" is refused.
//
// --machine-speed on (the default) measures the machine before the run and after it, in a child
// process and outside the wall and CPU times reported (machine_speed.hpp: SHA-256 throughput
// and the latency of a load from memory), so that runs from different hours can be compared.
//
// --progress reports each tenth of the sign-ups and each round of changes on stderr, with the
// wall time so far and the peak memory, for runs that take an hour.
//
// A world's databases are in memory up to 2.75 million accounts-and-changes (250 000 accounts
// with 10 changes each), and files in a temporary folder, removed at the end, past that: an
// in-memory database keeps every page in SQLite's page cache, and 100 000 accounts with 10
// changes each took 1.2 GiB in one world, so the limit keeps a world to a few GiB. --dir
// keeps them as files in DIR (an existing folder with no earlier run's databases; a folder
// shard-<i> per shard) at any size, and leaves them there.
#include "machine_speed.hpp"

#include "linksim/evidence/merkle.hpp"
#include "linksim/idp/service.hpp"
#include "linksim/sim/world.hpp"
#include "linksim/store/sqlite.hpp"
#include "linksim/threads_sim/service.hpp"

#ifdef LINKSIM_MIMALLOC
#include <mimalloc.h>
#endif
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
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

// The processor's model as the kernel names it (/proc/cpuinfo), so that a report says which
// machine it measured: the same build has taken 497 us of CPU an account in one session and
// 1 447 us in another. Only printable ASCII without quotes or backslashes is kept, so it
// goes into the JSON report as it is.
std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("model name")) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) break;
    std::string model;
    for (const char c : line.substr(colon + 1))
      if (c >= ' ' && c <= '~' && c != '"' && c != '\\') model += c;
    const auto first = model.find_first_not_of(' ');
    if (first == std::string::npos) break;
    return model.substr(first, model.find_last_not_of(' ') - first + 1);
  }
  return "unknown";
}

// The process's CPU time so far, user and system, in seconds: on a shared machine wall time
// also counts what other tenants took, CPU time much less so.
struct cpu_seconds {
  double user = 0, system = 0;
};
cpu_seconds cpu_so_far() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return {s(u.ru_utime), s(u.ru_stime)};
}

double seconds_since(steady_clock::time_point t) {
  return duration<double>(steady_clock::now() - t).count();
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "population: %s\nusage: population [--accounts N] [--changes K] [--loss P] "
               "[--seed S] [--batch B] [--dir DIR] [--shards S] [--jobs J] [--huge-pages on|off] "
               "[--machine-speed on|off] [--progress] [--json]\n",
               why);
  std::exit(2);
}

// The whole of `text` as a decimal number in [lo, hi], or a usage error naming the option:
// no sign (std::stoul took "-5" for 2^64 - 5), nothing after the digits.
std::uint64_t whole_number(const std::string& option, const std::string& text, std::uint64_t lo,
                           std::uint64_t hi) {
  std::uint64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || stop != end || v < lo || v > hi)
    usage((option + " takes a whole number from " + std::to_string(lo) + " to " +
           std::to_string(hi) + ", not '" + text + "'")
              .c_str());
  return v;
}

// "on" or "off", or a usage error naming the option.
bool on_off(const std::string& option, const std::string& text) {
  if (text != "on" && text != "off") usage((option + " takes on or off").c_str());
  return text == "on";
}

// A probability: the whole of `text` as a number from 0 to 1.
double probability(const std::string& option, const std::string& text) {
  double v = 0;
  const char* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || stop != end || !(v >= 0 && v <= 1))
    usage((option + " takes a number from 0 to 1, not '" + text + "'").c_str());
  return v;
}

// SplitMix64's output function: shard seeds that share no obvious pattern with each other.
std::uint64_t splitmix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// One world's share of the population.
struct shard_plan {
  std::size_t index = 0, of = 1;
  std::size_t first = 0, accounts = 0;  // accounts [first, first + accounts) of the population
  std::size_t changes = 10;
  double loss = 0.3;
  std::uint64_t seed = 1;
  std::size_t batch = 1;
  std::string dir;  // empty: in memory
};

struct shard_outcome {
  double wall_s = 0, sign_up_s = 0, changes_s = 0, converge_s = 0;
  std::uint64_t events = 0, messages = 0, dropped = 0;
  std::size_t failed_sign_ups = 0, left_after_changes = 0, converged_s = 0, left = 0;
  std::size_t evidence_entries = 0;
  digest root{};
  store::database::work sql;
};

// Progress lines on stderr, from any shard's thread.
class progress_report {
 public:
  progress_report(bool on, steady_clock::time_point t0) : on_(on), t0_(t0) {}
  void operator()(const shard_plan& p, const char* phase, std::size_t done, std::size_t of) {
    if (!on_) return;
    std::lock_guard lock(mutex_);
    char shard[40] = "";
    if (p.of > 1) std::snprintf(shard, sizeof shard, "shard %zu/%zu: ", p.index + 1, p.of);
    std::fprintf(stderr, "population: %s%s %zu/%zu at %.1f s, peak %.0f MiB\n", shard, phase, done,
                 of, seconds_since(t0_), peak_rss_mib());
  }

 private:
  bool on_;
  steady_clock::time_point t0_;
  std::mutex mutex_;
};

shard_outcome run_shard(const shard_plan& plan, progress_report& report) {
  const auto t0 = steady_clock::now();
  const std::size_t accounts = plan.accounts;
  const std::size_t changes = plan.changes;
  auto progress = [&](const char* phase, std::size_t done, std::size_t of) {
    report(plan, phase, done, of);
  };
  sim::world w({.seed = plan.seed,
                .dir = plan.dir,
                .in_memory = plan.dir.empty(),
                .webhook_batch = plan.batch});
  if (plan.loss > 0)
    w.net().add_fault({.kind = sim::fault_kind::drop,
                       .match = {.from = "idp", .to = "threads", .path_prefix = "/webhooks/"},
                       .probability = plan.loss});
  shard_outcome out;

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
  for (std::size_t i = 0; i < accounts; ++i) {
    const std::string name = "user" + std::to_string(plan.first + i);
    ids.push_back(w.create_account(name));
    if (w.sign_up(name).status != 303) ++out.failed_sign_ups;
    if (i % per_second == per_second - 1) w.run_for(std::chrono::seconds(1));
    if (accounts >= 10 && (i + 1) % (accounts / 10) == 0) progress("signed up", i + 1, accounts);
  }
  w.run_for(std::chrono::seconds(1));
  out.sign_up_s = seconds_since(t0);

  // Changes: each round renames or re-pictures every account, a minute apart.
  const auto t1 = steady_clock::now();
  for (std::size_t k = 1; k <= changes; ++k) {
    for (std::size_t i = 0; i < accounts; ++i) {
      const std::size_t n = plan.first + i;
      if (k % 2 == 1) {
        // u<n>_<k>, appended in steps: GCC 12 warns falsely (-Wrestrict) on `"u" + ...`.
        std::string name = "u";
        name += std::to_string(n);
        name += '_';
        name += std::to_string(k);
        (void)w.idp().update_profile(ids[i], {.username = std::move(name)});
      } else {
        (void)w.idp().set_picture(
            ids[i], {"image/png", "picture " + std::to_string(n) + "/" + std::to_string(k)});
      }
    }
    if (k < changes) w.run_for(std::chrono::minutes(1));
    progress("change round", k, changes);
  }
  out.changes_s = seconds_since(t1);

  // Convergence: ten simulated seconds at a time until every profile matches its account.
  // Each step re-checks only the profiles that lagged at the previous one; once none does, a
  // full pass confirms it (a profile that matched could in principle be overwritten later).
  const auto t2 = steady_clock::now();
  auto matches = [&](std::int64_t id) {
    const auto ig = w.idp().get_account(id);
    // The counts are not compared: read without them.
    const auto p = w.threads().profiles_of_account(id, threads_sim::service::counts::without);
    return ig && p.size() == 1 && p.front().username == ig->username &&
           p.front().picture_sha256 == ig->picture_sha256;
  };
  auto lagging = [&](const std::vector<std::int64_t>& of) {
    std::vector<std::int64_t> behind;
    for (auto id : of)
      if (!matches(id)) behind.push_back(id);
    return behind;
  };
  std::vector<std::int64_t> behind = lagging(ids);
  out.left_after_changes = behind.size();
  std::size_t steps = 0;
  while (steps < 720) {  // two hours
    if (behind.empty()) {
      behind = lagging(ids);  // the confirming full pass
      if (behind.empty()) break;
    }
    w.run_for(std::chrono::seconds(10));
    ++steps;
    behind = lagging(behind);
    if (steps % 6 == 0) progress("converging, profiles behind:", behind.size(), accounts);
  }
  if (behind.empty()) behind = lagging(ids);  // confirmed, also when the two hours ran out
  out.left = behind.size();
  out.converged_s = steps * 10;
  out.converge_s = seconds_since(t2);
  out.wall_s = seconds_since(t0);
  const auto& net = w.net().stats();
  out.events = w.sched().tasks_run() + net.sent;
  out.messages = net.sent;
  out.dropped = net.dropped;
  out.evidence_entries = w.evidence().size();
  out.root = w.evidence().root();
  // The databases' work: the same for the same code and seed on any machine, where wall time is
  // not (the machine is shared). Statements include BEGIN and COMMIT.
  for (auto* db : w.databases()) out.sql += db->work_done();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t accounts = 10'000;
  std::size_t changes = 10;
  double loss = 0.3;
  std::uint64_t seed = 1;
  std::size_t batch = 1;
  std::size_t shards = 1;
  std::size_t jobs = 0;  // 0: as many as there are cores, at most `shards`
  bool json = false;
  bool progress = false;
#ifdef LINKSIM_MIMALLOC
  bool huge_pages = true;
#else
  bool huge_pages = false;
#endif
  bool machine_speed = true;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--accounts")
      accounts = whole_number(a, value(), 1, 100'000'000);
    else if (a == "--changes")
      changes = whole_number(a, value(), 0, 1'000'000);
    else if (a == "--loss")
      loss = probability(a, value());
    else if (a == "--seed")
      seed = whole_number(a, value(), 0, UINT64_MAX);
    else if (a == "--batch")
      batch = whole_number(a, value(), 1, idp::max_webhook_batch);
    else if (a == "--shards")
      shards = whole_number(a, value(), 1, 1'000'000);
    else if (a == "--jobs")
      jobs = whole_number(a, value(), 1, 1024);
    else if (a == "--dir")
      dir = value();
    else if (a == "--huge-pages")
      huge_pages = on_off(a, value());
    else if (a == "--machine-speed")
      machine_speed = on_off(a, value());
    else if (a == "--progress")
      progress = true;
    else if (a == "--json")
      json = true;
    else
      usage(("unknown argument " + a).c_str());
  }
  if (shards > accounts) usage("--shards must not exceed --accounts");
  if (jobs == 0) jobs = std::max(1u, std::thread::hardware_concurrency());
  jobs = std::min(jobs, shards);
#ifdef LINKSIM_MIMALLOC
  // Before the worlds allocate: mimalloc reads the option whenever it maps a new segment.
  mi_option_set_enabled(mi_option_large_os_pages, huge_pages);
  // Memory a finished shard freed stays with the process for the next one, instead of going back
  // to the kernel 25 ms later and being faulted in and zeroed again: at 40 000 accounts in 8
  // shards, half the page faults and 0.2-0.3 s less system time.
  mi_option_set(mi_option_decommit_delay, 3'600'000);  // milliseconds: an hour
#else
  if (huge_pages) usage("--huge-pages on needs mimalloc (built with LINKSIM_MIMALLOC=OFF)");
#endif

  // Before anything of the run, and with no thread started yet (it forks).
  bench::machine_speed speed_before, speed_after;
  auto measure = [](bench::machine_speed& into) {
    try {
      into = bench::measure_machine_speed();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "population: %s (--machine-speed off runs without it)\n", e.what());
      std::exit(1);
    }
  };
  if (machine_speed) measure(speed_before);
  const cpu_seconds cpu_at_start = cpu_so_far();
  const auto t0 = steady_clock::now();
  progress_report report(progress, t0);
  namespace fs = std::filesystem;
  if (!dir.empty()) {
    if (!fs::is_directory(dir)) usage("--dir must be an existing folder");
    for (const char* db : {"idp.db", "threads.db", "ads.db"})
      if (fs::exists(fs::path(dir) / db)) usage("--dir holds an earlier run's databases");
    if (shards > 1)
      for (std::size_t i = 0; i < shards; ++i)
        if (fs::exists(fs::path(dir) / ("shard-" + std::to_string(i + 1))))
          usage("--dir holds an earlier run's shards");
  }
  // Declared before the shards run, so removed after their worlds have closed the databases.
  struct temporary_folder {
    fs::path path;
    ~temporary_folder() {
      std::error_code ignored;
      if (!path.empty()) fs::remove_all(path, ignored);
    }
  } temporary;
  std::vector<shard_plan> plans(shards);
  for (std::size_t i = 0; i < shards; ++i) {
    auto& p = plans[i];
    p.index = i;
    p.of = shards;
    p.first = i * accounts / shards;
    p.accounts = (i + 1) * accounts / shards - p.first;
    p.changes = changes;
    p.loss = loss;
    p.seed = shards == 1 ? seed : splitmix64(seed + (i + 1) * 0x9E3779B97F4A7C15ULL);
    p.batch = batch;
  }
  // A world's databases fit in memory up to 2.75 million accounts-and-changes; past that, or
  // with --dir, they are files, a folder per shard.
  std::size_t largest = 0;
  for (const auto& p : plans) largest = std::max(largest, p.accounts);
  const bool in_memory = dir.empty() && largest * (changes + 1) <= 2'750'000;
  if (!in_memory && dir.empty()) {
    std::string name = (fs::temp_directory_path() / "linksim-population-XXXXXX").string();
    if (!mkdtemp(name.data())) throw std::runtime_error("cannot create a folder in " + name);
    temporary.path = name;
    dir = name;
  }
  if (!in_memory)
    for (auto& p : plans) {
      p.dir =
          shards == 1 ? dir : (fs::path(dir) / ("shard-" + std::to_string(p.index + 1))).string();
      fs::create_directories(p.dir);
    }

  // Each job takes the next shard not yet taken, runs it to the end and frees its world.
  std::vector<shard_outcome> outcomes(shards);
  std::atomic<std::size_t> next{0};
  std::mutex failure_mutex;
  std::string failure;
  auto work = [&] {
    for (std::size_t i; (i = next++) < shards;) {
      try {
        outcomes[i] = run_shard(plans[i], report);
      } catch (const std::exception& e) {
        std::lock_guard lock(failure_mutex);
        failure = "shard " + std::to_string(i + 1) + ": " + e.what();
        next = shards;  // no new shard starts
      }
    }
  };
  {
    std::vector<std::jthread> workers;
    for (std::size_t j = 1; j < jobs; ++j) workers.emplace_back(work);
    work();
  }
  if (!failure.empty()) {
    std::fprintf(stderr, "population: %s\n", failure.c_str());
    return 1;
  }
  const double wall = seconds_since(t0);
  const cpu_seconds cpu_now = cpu_so_far();
  const cpu_seconds cpu{cpu_now.user - cpu_at_start.user, cpu_now.system - cpu_at_start.system};
  if (machine_speed) measure(speed_after);
  const std::string machine = cpu_model();
  const unsigned cores = std::thread::hardware_concurrency();

  // Sums over the shards; the phases and the convergence time are the slowest shard's.
  shard_outcome all;
  std::vector<digest> roots;
  for (const auto& o : outcomes) {
    all.sign_up_s = std::max(all.sign_up_s, o.sign_up_s);
    all.changes_s = std::max(all.changes_s, o.changes_s);
    all.converge_s = std::max(all.converge_s, o.converge_s);
    all.converged_s = std::max(all.converged_s, o.converged_s);
    all.events += o.events;
    all.messages += o.messages;
    all.dropped += o.dropped;
    all.failed_sign_ups += o.failed_sign_ups;
    all.left_after_changes += o.left_after_changes;
    all.left += o.left;
    all.evidence_entries += o.evidence_entries;
    all.sql += o.sql;
    roots.push_back(o.root);
  }
  const digest root = shards == 1 ? roots.front() : evidence::root(roots);
  const store::database::work& sql = all.sql;

  // The process's allocator (CMakeLists.txt, linksim_allocator): the figures depend on it.
  char allocator[64] = "the C library's malloc";
#ifdef LINKSIM_MIMALLOC
  const int mi = mi_version();
  std::snprintf(allocator, sizeof allocator, "mimalloc %d.%d.%d%s", mi / 100, mi / 10 % 10, mi % 10,
                huge_pages ? ", huge pages" : "");
#endif
  // The machine's speed before and after the run (--machine-speed).
  char speed_json[160] = "null";
  char speed_text[160] = "";
  if (machine_speed) {
    std::snprintf(speed_json, sizeof speed_json,
                  "{\"sha256_mb_s\":[%.0f,%.0f],\"memory_ns\":[%.1f,%.1f]}",
                  speed_before.sha256_mb_s, speed_after.sha256_mb_s, speed_before.memory_ns,
                  speed_after.memory_ns);
    std::snprintf(speed_text, sizeof speed_text,
                  "; SHA-256 %.0f and %.0f MB/s, a load from memory %.1f and %.1f ns (before and "
                  "after the run)",
                  speed_before.sha256_mb_s, speed_after.sha256_mb_s, speed_before.memory_ns,
                  speed_after.memory_ns);
  }
  if (json) {
    std::string per_shard;
    if (shards > 1) {
      per_shard = ",\"per_shard\":[";
      for (std::size_t i = 0; i < shards; ++i) {
        const auto& o = outcomes[i];
        char line[320];
        std::snprintf(line, sizeof line,
                      "%s{\"accounts\":%zu,\"seed\":%llu,\"wall_s\":%.2f,\"sign_up_s\":%.2f,"
                      "\"changes_s\":%.2f,\"converge_s\":%.2f,\"events\":%llu,"
                      "\"evidence_root\":\"%s\"}",
                      i ? "," : "", plans[i].accounts,
                      static_cast<unsigned long long>(plans[i].seed), o.wall_s, o.sign_up_s,
                      o.changes_s, o.converge_s, static_cast<unsigned long long>(o.events),
                      to_hex(o.root).c_str());
        per_shard += line;
      }
      per_shard += "]";
    }
    std::printf(
        "{\"accounts\":%zu,\"changes\":%zu,\"loss\":%.2f,\"seed\":%llu,\"batch\":%zu,"
        "\"shards\":%zu,\"jobs\":%zu,"
        "\"storage\":\"%s\",\"allocator\":\"%s\",\"cpu_model\":\"%s\",\"cores\":%u,"
        "\"machine_speed\":%s,"
        "\"wall_s\":%.2f,\"cpu_user_s\":%.2f,\"cpu_system_s\":%.2f,\"cpu_us_per_account\":%.0f,"
        "\"sign_up_s\":%.2f,\"changes_s\":%.2f,\"converge_s\":%.2f,\"events\":%llu,"
        "\"events_per_s\":%.0f,\"messages\":%llu,\"dropped\":%llu,\"peak_rss_mib\":%.0f,"
        "\"failed_sign_ups\":%zu,\"mismatched_after_changes\":%zu,"
        "\"converged_after_s\":%zu,\"mismatched_at_end\":%zu,\"evidence_entries\":%zu,"
        "\"evidence_root\":\"%s\","
        "\"sql_statements\":%llu,\"sql_commits\":%llu,\"pages_written\":%llu,"
        "\"cache_misses\":%llu%s}\n",
        accounts, changes, loss, static_cast<unsigned long long>(seed), batch, shards, jobs,
        in_memory ? "memory" : "files", allocator, machine.c_str(), cores, speed_json, wall,
        cpu.user, cpu.system, (cpu.user + cpu.system) * 1e6 / static_cast<double>(accounts),
        all.sign_up_s, all.changes_s, all.converge_s, static_cast<unsigned long long>(all.events),
        all.events / wall, static_cast<unsigned long long>(all.messages),
        static_cast<unsigned long long>(all.dropped), peak_rss_mib(), all.failed_sign_ups,
        all.left_after_changes, all.converged_s, all.left, all.evidence_entries,
        to_hex(root).c_str(), static_cast<unsigned long long>(sql.statements),
        static_cast<unsigned long long>(sql.commits),
        static_cast<unsigned long long>(sql.pages_written),
        static_cast<unsigned long long>(sql.cache_misses), per_shard.c_str());
  } else {
    char sharding[80] = "";
    if (shards > 1)
      std::snprintf(sharding, sizeof sharding, ", in %zu shards, %zu at a time", shards, jobs);
    std::printf(
        "population: %zu accounts x %zu changes%s, %.0f%% of webhook requests lost, up to %zu "
        "changes a request, seed %llu, databases %s, %s\n"
        "  machine %s, %u cores%s\n"
        "  wall %.2f s (sign-up %.2f s, changes %.2f s, convergence %.2f s%s)\n"
        "  CPU %.2f s (user %.2f s, system %.2f s), %.0f us an account\n"
        "  %llu events (%.0f per second), %llu messages, %llu dropped, %zu evidence entries\n"
        "  evidence root %s\n"
        "  peak memory %.0f MiB\n"
        "  SQLite: %.1f statements, %.1f commits, %.1f pages written, %.1f cache misses per "
        "account\n"
        "  right after the last change %zu profiles lagged; all matched %zu simulated seconds later"
        "%s\n",
        accounts, changes, sharding, loss * 100, batch, static_cast<unsigned long long>(seed),
        in_memory ? "in memory" : ("as files in " + dir).c_str(), allocator, machine.c_str(), cores,
        speed_text, wall, all.sign_up_s, all.changes_s, all.converge_s,
        shards > 1 ? ", the slowest shard's" : "", cpu.user + cpu.system, cpu.user, cpu.system,
        (cpu.user + cpu.system) * 1e6 / static_cast<double>(accounts),
        static_cast<unsigned long long>(all.events), all.events / wall,
        static_cast<unsigned long long>(all.messages), static_cast<unsigned long long>(all.dropped),
        all.evidence_entries, to_hex(root).c_str(), peak_rss_mib(),
        static_cast<double>(sql.statements) / static_cast<double>(accounts),
        static_cast<double>(sql.commits) / static_cast<double>(accounts),
        static_cast<double>(sql.pages_written) / static_cast<double>(accounts),
        static_cast<double>(sql.cache_misses) / static_cast<double>(accounts),
        all.left_after_changes, all.converged_s, all.left == 0 ? "" : " (NOT converged)");
  }
  return all.failed_sign_ups == 0 && all.left == 0 ? 0 : 1;
}
