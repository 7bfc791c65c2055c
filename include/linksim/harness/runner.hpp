// Runs a scenario in the simulated world, step by step, and reports the first step whose
// expectation failed with what was expected, what was found, and the flows recorded around it.
#pragma once

#include "linksim/common/http.hpp"
#include "linksim/harness/scenario.hpp"
#include "linksim/sim/network.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace linksim::harness {

struct run_options {
  std::optional<std::uint64_t> seed;   // overrides the scenario's
  std::optional<std::string> profile;  // overrides the scenario's behaviour profile
  // Serves each service's handler somewhere else and returns a handler reaching it: set by
  // `linksim run --real-http` to put every message on a loopback socket.
  std::function<http::handler(const std::string& system, http::handler)> expose;
};

struct step_failure {
  std::size_t index = 0;  // 0-based, after for_each expansion
  location where;
  std::string action;
  std::string what;  // "status", "profile alice username", ...
  std::string expected;
  std::string actual;
};

struct run_result {
  std::string name;
  std::string file;
  std::string profile;
  std::uint64_t seed = 0;
  bool passed = false;
  std::string root;  // hex SHA-256 of the evidence tree after the run
  std::size_t entries = 0;
  std::size_t steps_run = 0;
  std::optional<step_failure> failure;
  std::vector<std::string> flows_around;  // the last flows up to the failure, formatted
  std::vector<std::string> trace;         // on failure: every flow, formatted the same way
  std::string error;                      // the world could not run the scenario at all
  double wall_ms = 0;
  milliseconds simulated{0};
  sim::network_stats net;
};

run_result run_scenario(const scenario& s, const run_options& o = {});

// The command that replays a result: "linksim run FILE --seed N [--profile P]".
std::string replay_command(const run_result& r, const run_options& o, bool real_http);

}  // namespace linksim::harness
