// `linksim run`: scenario files or folders, in simulation or over loopback sockets.
#pragma once

#include "linksim/common/http.hpp"
#include "linksim/harness/fuzz.hpp"
#include "linksim/harness/scenario.hpp"
#include "linksim/threads_sim/behaviour.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace linksim::app {

struct run_options {
  std::vector<std::filesystem::path> paths;  // files, or folders searched for *.yaml
  std::optional<std::uint64_t> seed;         // overrides each scenario's
  std::optional<std::string> profile;        // overrides each scenario's behaviour profile
  threads_sim::channel changes = threads_sim::channel::webhook;  // how account changes travel
  bool real_http = false;
  bool trace = false;      // print every flow of a failing scenario, not only the last ones
  harness::limits limits;  // on each scenario file
};

// Parses every scenario first (any error: printed with file and line, nothing runs, 2), then
// runs each and prints one line per scenario with its evidence root; 0 only if all pass.
int run(const run_options& o, std::ostream& out, std::ostream& err);

struct fuzz_options {
  harness::fuzz_options fuzz;  // seeds, profile, accounts, operations
  std::filesystem::path save;  // where to write the shortened failing history (empty: print only)
  // A seed count on `err` every 100 seeds, rewritten in place: for a terminal. Otherwise one
  // line at each tenth of the seeds, so that a log shows progress without carriage returns.
  bool terminal = false;
};
// Runs random histories; prints the first failing seed with its shortened history. 0 if every
// seed passed, 1 if one failed.
int fuzz(const fuzz_options& o, std::ostream& out, std::ostream& err);

// The scenario files under `paths`, sorted; folders are searched recursively for *.yaml and
// *.yml (claims.yaml, the claims catalogue, is not a scenario). Throws std::runtime_error for a
// path that does not exist.
std::vector<std::filesystem::path> scenario_files(const std::vector<std::filesystem::path>& paths);

// Parses every file; prints each error (file:line:column: problem) to `err` and counts the
// files that had one in `bad`. Returns the scenarios that parsed.
std::vector<harness::scenario> load_scenarios(const std::vector<std::filesystem::path>& files,
                                              std::ostream& err, int& bad,
                                              const harness::limits& bounds = {});

// Serves each simulated service's handler on a loopback socket (port 0) and returns a handler
// that forwards to it through a real HTTP client: the `expose` hook of a simulated world.
class loopback_exposure {
 public:
  loopback_exposure();
  ~loopback_exposure();
  http::handler expose(const std::string& system, http::handler h);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace linksim::app
