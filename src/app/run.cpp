// `linksim run`: parse everything, then run, then say what failed and how to replay it.
#include "linksim/app/run.hpp"

#include "linksim/harness/fuzz.hpp"
#include "linksim/harness/runner.hpp"
#include "linksim/harness/scenario.hpp"
#include "linksim/net/server.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <stdexcept>

namespace linksim::app {

struct loopback_exposure::impl {
  std::map<std::string, std::unique_ptr<net::server>> servers;
  net::client client{milliseconds{10'000}};
};

loopback_exposure::loopback_exposure() : impl_(std::make_unique<impl>()) {}
loopback_exposure::~loopback_exposure() = default;

http::handler loopback_exposure::expose(const std::string& system, http::handler h) {
  auto s =
      std::make_unique<net::server>(net::server_options{.name = "linksim-" + system}, std::move(h));
  s->start();
  const std::string base = s->base_url();
  // A restarted service gets a new server; the old one stops here.
  impl_->servers[system] = std::move(s);
  return [this, base](const http::request& req) {
    http::request r = req;
    r.target = base + req.target;
    auto res = impl_->client.send(std::move(r));
    if (res) return *res;
    http::response failed;
    failed.status = 502;
    failed.body = "loopback: " + res.error().message();
    return failed;
  };
}

std::vector<std::filesystem::path> scenario_files(const std::vector<std::filesystem::path>& paths) {
  namespace fs = std::filesystem;
  std::vector<fs::path> out;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> found;
      for (const auto& e : fs::recursive_directory_iterator(p)) {
        const auto ext = e.path().extension();
        if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml") &&
            e.path().filename() != "claims.yaml")
          found.push_back(e.path());
      }
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p, ec)) {
      out.push_back(p);
    } else {
      throw std::runtime_error(p.string() + ": no such file or folder");
    }
  }
  return out;
}

namespace {

std::string seconds_text(milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0fs", std::chrono::duration<double>(d).count());
  return buf;
}

// What went wrong in a run, and the flows just before it.
void print_failure(const harness::run_result& r, std::ostream& out) {
  if (!r.error.empty()) {
    out << "  could not run: " << r.error << "\n";
    return;
  }
  if (!r.failure) return;
  const auto& f = *r.failure;
  out << "  step " << f.index + 1 << " (" << f.action << ") at " << f.where.str() << "\n"
      << "  " << f.what << "\n"
      << "    expected: " << f.expected << "\n"
      << "    actual:   " << f.actual << "\n";
  if (!r.flows_around.empty()) {
    out << "  the last flows recorded:\n";
    for (const auto& line : r.flows_around) out << "    " << line << "\n";
  }
  if (!r.service_log.empty()) {
    out << "  what the services logged:\n";
    for (const auto& line : r.service_log) out << "    " << line << "\n";
  }
}

}  // namespace

std::vector<harness::scenario> load_scenarios(const std::vector<std::filesystem::path>& files,
                                              std::ostream& err, int& bad,
                                              const harness::limits& bounds) {
  std::vector<harness::scenario> scenarios;
  bad = 0;
  for (const auto& f : files) {
    try {
      scenarios.push_back(harness::load_scenario(f, bounds));
    } catch (const harness::scenario_error& e) {
      err << e.what() << "\n";
      ++bad;
    }
  }
  return scenarios;
}

int run(const run_options& o, std::ostream& out, std::ostream& err) {
  const auto files = scenario_files(o.paths);
  if (files.empty()) {
    err << "linksim run: no scenario files (*.yaml) found\n";
    return 2;
  }
  int bad = 0;
  const auto scenarios = load_scenarios(files, err, bad, o.limits);
  if (bad > 0) {
    err << "linksim run: " << bad << " scenario file" << (bad == 1 ? "" : "s")
        << " with errors; nothing was run\n";
    return 2;
  }

  int failed = 0;
  std::size_t skipped = 0;
  double wall = 0;
  for (const auto& s : scenarios) {
    if (!s.told_over(o.changes)) {
      ++skipped;
      std::string over;
      for (auto c : s.changes) over += (over.empty() ? "" : ", ") + std::string(to_string(c));
      out << "SKIP " << s.name << "  (" << s.file << ": told over " << over << ", not "
          << to_string(o.changes) << ")\n";
      continue;
    }
    harness::run_options ro;
    ro.seed = o.seed;
    ro.profile = o.profile;
    ro.changes = o.changes;
    std::unique_ptr<loopback_exposure> loopback;
    if (o.real_http) {
      loopback = std::make_unique<loopback_exposure>();
      ro.expose = [&loopback](const std::string& system, http::handler h) {
        return loopback->expose(system, std::move(h));
      };
    }
    const auto r = harness::run_scenario(s, ro);
    wall += r.wall_ms;
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.1f ms", r.wall_ms);
    out << (r.passed ? "PASS " : "FAIL ") << r.name << "  " << (r.root.empty() ? "-" : r.root)
        << "  (" << r.file << ", " << r.profile << ", seed " << r.seed << ", " << r.steps_run << "/"
        << s.steps.size() << " steps, " << r.entries << " flows, " << seconds_text(r.simulated)
        << " simulated, " << ms << ")\n";
    if (r.passed) continue;
    ++failed;
    print_failure(r, out);
    if (o.trace) {
      out << "  every flow recorded:\n";
      for (const auto& line : r.trace) out << "    " << line << "\n";
    }
    out << "  replay: " << harness::replay_command(r, ro, o.real_http) << "\n";
  }
  char total[32];
  std::snprintf(total, sizeof total, "%.0f ms", wall);
  out << scenarios.size() - skipped - static_cast<std::size_t>(failed) << " passed, " << failed
      << " failed" << (skipped ? ", " + std::to_string(skipped) + " skipped" : std::string())
      << ", in " << total << (o.real_http ? " (over loopback HTTP)" : "") << "\n";
  return failed == 0 ? 0 : 1;
}

int fuzz(const fuzz_options& o, std::ostream& out, std::ostream& err) {
  const auto& fo = o.fuzz;
  std::size_t done = 0;
  const std::size_t every = o.terminal ? 100 : std::max<std::size_t>(100, fo.seeds / 10);
  const auto report = harness::fuzz(fo, [&](std::uint64_t, bool) {
    if (++done % every == 0)
      err << "fuzz: " << done << "/" << fo.seeds << " seeds" << (o.terminal ? "\r" : "\n")
          << std::flush;
  });
  if (o.terminal && done >= every) err << "\n";
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.1f s", report.wall_ms / 1000);
  if (!report.failure) {
    out << "fuzz: " << report.seeds_run << " seeds (" << fo.first_seed << ".."
        << fo.first_seed + fo.seeds - 1 << ") under " << fo.profile << ", " << fo.accounts
        << " accounts x " << fo.operations << " operations: every invariant held ("
        << report.steps_run << " steps in " << secs << ")\n";
    return 0;
  }
  const auto& f = *report.failure;
  out << "FAIL seed " << f.seed << " under " << fo.profile << " (after " << report.seeds_run
      << " seeds, " << secs << "): shrunk from " << f.operations << " to " << f.shrunk_to
      << " operations\n";
  print_failure(f.result, out);
  std::string file = "fuzz-seed-" + std::to_string(f.seed) + ".yaml";
  if (!o.save.empty()) {
    std::filesystem::create_directories(o.save);
    const auto path = o.save / file;
    std::ofstream(path) << f.yaml;
    file = path.string();
    out << "  the shortened history is in " << file << "\n";
  } else {
    out << "  the shortened history (save it as " << file << "):\n";
    std::istringstream lines(f.yaml);
    for (std::string line; std::getline(lines, line);) out << "    " << line << "\n";
  }
  out << "  replay: linksim run " << file << "\n";
  return 1;
}

}  // namespace linksim::app
