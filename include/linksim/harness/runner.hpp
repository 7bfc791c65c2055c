// Runs a scenario in the simulated world, step by step, and reports the first step whose
// expectation failed with what was expected, what was found, and the flows recorded around it.
#pragma once

#include "linksim/common/http.hpp"
#include "linksim/evidence/flow.hpp"
#include "linksim/harness/scenario.hpp"
#include "linksim/sim/network.hpp"
#include "linksim/threads_sim/behaviour.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace linksim::harness {

struct run_options {
  std::optional<std::uint64_t> seed;   // overrides the scenario's
  std::optional<std::string> profile;  // overrides the scenario's behaviour profile
  // How the provider's account changes reach the dependent service (sim::world_options).
  threads_sim::channel changes = threads_sim::channel::webhook;
  // Serves each service's handler somewhere else and returns a handler reaching it: set by
  // `linksim run --real-http` to put every message on a loopback socket.
  std::function<http::handler(const std::string& system, http::handler)> expose;
  // For the audit: record the outcome of every step tagged with claims, go on past a failed
  // tagged step (the failure is that claim's verdict, not a broken set-up; an untagged failure
  // still stops the run), check the invariants after every step, and keep the flows.
  bool audit = false;
  // Invariants checked after every step when auditing, each with the claims it is the check
  // of. Known: "one_profile_per_account" (no provider account ever has two live profiles).
  std::map<std::string, std::vector<std::string>> invariants;
  // Keep every network message (for `linksim explain`).
  bool keep_messages = false;
};

// The names run_options::invariants accepts.
std::vector<std::string> known_invariants();

// One tagged check's outcome in an audited run.
struct check_outcome {
  std::size_t step = 0;  // 0-based step index; for an invariant, the step after which it broke
  location where;
  std::vector<std::string> claims;
  std::string invariant;  // empty for a step's own expectations
  bool passed = true;
  std::string what, expected, actual;  // for a failure
  std::uint64_t evidence_size = 0;     // entries in the log when it was checked
  // What the step's checks read of the services' state (evidence::is_state_read entries), and
  // the newest flows about the accounts the step names, up to then: at most 12 in all, in log
  // order. What an auditor reads to see why.
  std::vector<std::uint64_t> leaves;
  milliseconds at{0};  // simulated time since the start
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
  threads_sim::channel changes = threads_sim::channel::webhook;  // run_options::changes
  bool passed = false;
  std::string root;  // hex SHA-256 of the evidence tree after the run
  std::size_t entries = 0;
  std::size_t steps_run = 0;
  std::optional<step_failure> failure;
  std::vector<std::string> flows_around;  // the last flows up to the failure, formatted
  std::vector<std::string> trace;         // on failure: every flow, formatted the same way
  // What the services reported on their side (a storage failure behind a 503), each line with
  // its simulated time since the start, as "+<time> <line>"; the last says how many more
  // there were when the world kept only its first sim::world::kept_service_lines.
  std::vector<std::string> service_log;
  std::string error;  // the world could not run the scenario at all
  // Audit: the tagged checks in order, the run's flows, and the step where an untagged failure
  // stopped it (checks after it were never reached).
  std::vector<check_outcome> checks;
  std::vector<evidence::flow> flows;
  // The indexes in `flows` of what the scenario sent in a party's name (a `request` step's
  // `from`): observed, but no message of the party's own.
  std::vector<std::size_t> scripted;
  std::optional<std::size_t> stopped_at;
  std::map<std::string, std::string> aliases;  // provider id -> the scenario's account name
  std::vector<sim::message> messages;          // keep_messages
  time_point start;                            // virtual time when the first step ran
  double wall_ms = 0;
  milliseconds simulated{0};
  sim::network_stats net;
};

run_result run_scenario(const scenario& s, const run_options& o = {});

// The command that replays a result: "linksim run FILE --seed N [--profile P]".
std::string replay_command(const run_result& r, const run_options& o, bool real_http);

}  // namespace linksim::harness
