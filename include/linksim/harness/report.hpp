// The audit's reports, each a string the caller writes to a file: report.json (the native form),
// junit.xml (a test case per claim and profile), report.sarif (SARIF 2.1.0), report.md and
// report.html (one self-contained page: matrix, quotes, verdicts, evidence, diagrams).
#pragma once

#include "linksim/harness/claims.hpp"

#include <ostream>
#include <string>

namespace linksim::harness {

struct report_context {
  const catalogue& claims;
  const audit_result& result;
  std::string catalogue_path;   // as the reports should name it, e.g. "scenarios/claims.yaml"
  std::string seeds_path;       // e.g. "scenarios/seeds"
  std::string verifier_key;     // the key that signed every checkpoint
  std::string verify_hint;      // the command that verifies one log, with LOG for its file
  std::string key_fingerprint;  // the verifier key's fingerprint, to compare when pinning it
};

// Written as it is built: the claims one at a time.
void json_report(const report_context& c, std::ostream& out);
std::string junit_report(const report_context& c);
std::string sarif_report(const report_context& c);
std::string markdown_report(const report_context& c);
std::string html_report(const report_context& c);

// A sequence diagram of flows as inline SVG (no script, no fetch): one column per system, one
// numbered arrow per flow.
std::string flows_svg(const std::vector<cited_flow>& flows);

}  // namespace linksim::harness
