// `linksim explain`: a scenario's real HTTP exchanges as a Mermaid sequence diagram (numbered
// arrows, secrets redacted, notes where time passes or a fault strikes) and a narrated Markdown
// walkthrough saying what each message sends, to whom, and why.
#pragma once

#include "linksim/harness/runner.hpp"
#include "linksim/harness/scenario.hpp"

#include <string>

namespace linksim::harness {

struct explanation {
  std::string mermaid;      // the diagram source, starting "sequenceDiagram"
  std::string walkthrough;  // Markdown: numbered steps matching the arrows
  run_result run;           // the run it was drawn from (kept messages and flows)
};

struct explain_options {
  std::optional<std::uint64_t> seed;
  std::optional<std::string> profile;
  bool include_checks = false;  // also draw the reads the scenario's expectations make
  // How the provider's account changes travel: webhooks, or Shared Signals pushed or polled.
  threads_sim::channel changes = threads_sim::channel::webhook;
};

explanation explain(const scenario& s, const explain_options& o = {});

// A target with secret query values (code, state, tokens, passwords, signed requests) replaced
// by "…". Exposed for tests.
std::string redact_target(std::string_view target);

}  // namespace linksim::harness
