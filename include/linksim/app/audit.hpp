// `linksim audit` and `linksim explain`.
#pragma once

#include "linksim/harness/scenario.hpp"

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace linksim::app {

struct audit_options {
  std::filesystem::path catalogue = "scenarios/claims.yaml";
  // Scenario files or folders; empty: the catalogue's folder.
  std::vector<std::filesystem::path> scenarios;
  std::filesystem::path seeds;        // empty: "seeds" beside the catalogue
  std::vector<std::string> profiles;  // empty: documented (or all, with all_profiles)
  bool all_profiles = false;
  std::filesystem::path out = "linksim-audit";  // reports and evidence; rewritten each audit
  std::string as_of;    // YYYY-MM-DD: only the claims in force that day (harness::audit_options)
  std::string since;    // YYYY-MM-DD, with as_of: what changed between the two dates
  bool strict = false;  // undisclosed flows and declared/observed mismatches fail the audit
  threads_sim::channel changes = threads_sim::channel::webhook;  // harness::audit_options
  std::size_t jobs = 1;    // scenario runs at once (harness::audit_options)
  harness::limits limits;  // on each scenario file
};

// Loads and checks the catalogue, its seeds and the scenarios (any problem: printed, 2), runs
// every scenario the claims need under every profile, seals each run's evidence in
// <out>/evidence/ with a signed checkpoint, writes report.json, junit.xml, report.sarif,
// report.md and report.html to <out>, and prints the matrix. 0 when every verdict is what its
// profile should give and every audited fault profile is caught; 1 otherwise.
int audit(const audit_options& o, std::ostream& out, std::ostream& err);

struct explain_options {
  std::filesystem::path scenario;
  std::optional<std::uint64_t> seed;
  std::optional<std::string> profile;
  bool mermaid_only = false;    // print only the diagram source
  bool include_checks = false;  // also draw the reads the expectations make
  // How account changes travel (harness::explain_options); unset: the first channel the
  // scenario is told over.
  std::optional<threads_sim::channel> changes;
  harness::limits limits;  // on the scenario file
};

// Prints a Markdown walkthrough with the Mermaid diagram of the scenario's HTTP exchanges.
// 2 for a bad scenario file; 0 otherwise (a failing scenario is explained, and said to fail).
int explain(const explain_options& o, std::ostream& out, std::ostream& err);

}  // namespace linksim::app
