// `linksim fuzz`: random linkage histories (renames, swaps, picture and bio changes, posts,
// deletes, re-links, forged webhooks, restarts, lost, duplicated and late webhooks), each
// written as a scenario whose last step checks the invariants after quiescence:
//   - one profile per provider account;
//   - every mirrored field (username, picture) equal to the provider's;
//   - no acknowledged change lost: the provider holds every rename it acknowledged, the
//     profile's own bio is the last one set on it (copied once, never overwritten);
//   - no deleted profile readable: its posts answer 404;
//   - refused actions stay refused: a second link of one account (409), a username edit (403),
//     an unsigned webhook (401).
// A failing history is shrunk to fewer operations that still fail, and printed as YAML that
// `linksim run` replays.
#pragma once

#include "linksim/harness/runner.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace linksim::harness {

struct fuzz_options {
  std::uint64_t first_seed = 1;
  std::size_t seeds = 100;
  std::string profile = "documented";
  std::size_t accounts = 4;
  std::size_t operations = 30;
  std::size_t max_shrink_runs = 400;
  // Seeds run at once, each history in its own world on its own thread. The report is the same
  // whatever the number: the lowest failing seed, and the seeds and steps up to it.
  std::size_t jobs = 1;
};

struct fuzz_failure {
  std::uint64_t seed = 0;
  std::size_t operations = 0;  // in the generated history
  std::size_t shrunk_to = 0;   // in the shortened one
  std::string yaml;            // the shortened history, runnable
  run_result result;           // of the shortened history
};

struct fuzz_report {
  std::size_t seeds_run = 0;
  std::size_t steps_run = 0;
  std::optional<fuzz_failure> failure;  // the first failing seed
  double wall_ms = 0;
};

// The history a seed generates, as scenario YAML (what `fuzz` runs for that seed).
std::string fuzz_case(std::uint64_t seed, const fuzz_options& o);

// `progress` is called once per seed run, one call at a time (from the worker threads when
// o.jobs > 1, so not in seed order). With several jobs, seeds past the first failing one may
// have run too; they are not counted.
fuzz_report fuzz(const fuzz_options& o,
                 const std::function<void(std::uint64_t seed, bool passed)>& progress = {});

}  // namespace linksim::harness
