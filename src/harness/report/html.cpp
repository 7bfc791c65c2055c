// report.html: one self-contained page with the matrix, quotes, verdicts, evidence and diagrams.
#include "common.hpp"

namespace linksim::harness {
using namespace report_format;

std::string html_report(const report_context& c) {
  const auto& r = c.result;
  using html::escape;
  std::ostringstream out;
  out << "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>linksim claims "
         "audit</title><style>"
         "body{font-family:sans-serif;max-width:1200px;margin:auto;padding:1em;color:#222}"
         "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px "
         "6px;vertical-align:top;font-size:13px}th{background:#f4f4f8}"
         ".holds{background:#e6f6e6}.violated{background:#fbe3e3}.indeterminate{background:#f6f1d8}"
         ".bad{outline:3px solid #c00}blockquote{border-left:4px solid #99c;margin:0;padding:.3em "
         "1em;background:#f7f7fc}code{font-size:12px}details{margin:.3em 0}"
         ".ok{color:#070}.fail{color:#b00}"
         "</style></head><body>";
  out << "<h1>Claims audit</h1><p>Catalogue <code>" << escape(c.catalogue_path)
      << "</code>: " << c.claims.claims.size() << " statements, "
      << count_status(c.claims, "checked") << " checked, " << count_status(c.claims, "not_modelled")
      << " not modelled, " << count_status(c.claims, "out_of_scope") << " out of scope; " << r.runs
      << " scenario runs.</p><p class=\"" << (r.passed() ? "ok" : "fail") << "\"><b>"
      << (r.passed() ? "Every verdict is what its profile should give."
                     : "Some verdicts are not what their profile should give.")
      << "</b> Mutation score " << percent_text(r.mutations.percent()) << " ("
      << r.mutations.caught.size() << " of "
      << r.mutations.caught.size() + r.mutations.missed.size() << " fault profiles caught).</p>";
  if (!r.mismatches.empty()) {
    out << "<h2>Unexpected verdicts</h2><ul>";
    for (const auto& m : r.mismatches) out << "<li>" << escape(m) << "</li>";
    out << "</ul>";
  }
  out << "<h2>Matrix</h2><table><tr><th>claim</th>";
  for (const auto& p : r.profiles) out << "<th>" << escape(p) << "</th>";
  out << "</tr>";
  for (const auto& cl : c.claims.claims) {
    if (!cl.out_of_scope.empty()) continue;
    out << "<tr><td><a href=\"#" << escape(cl.id) << "\">" << escape(cl.id) << "</a></td>";
    for (const auto& p : r.profiles) {
      const auto* v = r.find(cl.id, p);
      if (!v) {
        out << "<td></td>";
        continue;
      }
      out << "<td class=\"" << to_string(v->result) << (v->matches() ? "" : " bad") << "\" title=\""
          << escape(v->reason) << "\">" << symbol(v->result) << "</td>";
    }
    out << "</tr>";
  }
  out << "</table><p>✓ holds, ✗ violated, ? indeterminate; a red frame marks a verdict that is "
         "not the one the profile should give. Hover a cell for the reason.</p>";
  out << "<h2>Claims</h2>";
  for (const auto& cl : c.claims.claims) {
    if (!cl.out_of_scope.empty()) continue;
    out << "<section id=\"" << escape(cl.id) << "\"><h3>" << escape(cl.id) << "</h3><blockquote>"
        << escape(cl.quote) << "</blockquote><p>— <code>" << escape(cl.seed) << "</code></p>";
    if (!cl.not_modelled.empty()) {
      out << "<p><i>Not modelled:</i> " << escape(cl.not_modelled) << "</p></section>";
      continue;
    }
    out << "<p>" << escape(cl.meaning) << "</p>";
    for (const auto& other : cl.contradicts)
      out << "<p>Contradicts <a href=\"#" << escape(other) << "\">" << escape(other)
          << "</a>: both are kept; the behaviour profile decides which holds.</p>";
    out << "<table><tr><th>profile</th><th>verdict</th><th>expected</th><th>why</th>"
           "<th>evidence</th></tr>";
    const std::vector<cited_flow>* diagram = nullptr;
    std::string diagram_of;  // the profile and scenario the diagram comes from
    for (const auto& p : r.profiles) {
      const auto* v = r.find(cl.id, p);
      if (!v) continue;
      out << "<tr><td>" << escape(p) << "</td><td class=\"" << to_string(v->result)
          << (v->matches() ? "" : " bad") << "\">" << to_string(v->result) << "</td><td>"
          << to_string(v->expected) << "</td><td>" << escape(v->reason) << "</td><td>";
      for (const auto& [scenario, log] : v->evidence)
        out << "<details><summary>" << escape(scenario) << ": " << log.size
            << " entries</summary><code>" << escape(log.file) << "</code><br>root <code>"
            << escape(log.root) << "</code><pre>" << escape(log.checkpoint) << "</pre></details>";
      std::set<std::uint64_t> leaves;
      for (const auto& f : v->findings) leaves.insert(f.leaves.begin(), f.leaves.end());
      if (!leaves.empty()) {
        out << "leaves:";
        for (auto l : leaves) out << " " << l;
      }
      out << "</td></tr>";
      for (const auto& f : v->findings) {
        if (diagram || f.flows.empty()) continue;
        diagram = &f.flows;
        diagram_of = p + ", " + f.scenario;
      }
    }
    out << "</table>";
    if (diagram) {
      out << "<details><summary>Evidence diagram (" << escape(diagram_of) << ")</summary>"
          << flows_svg(*diagram) << "</details>";
    }
    out << "</section>";
  }
  out << "<h2>Out of scope</h2><ul>";
  for (const auto& cl : c.claims.claims)
    if (!cl.out_of_scope.empty())
      out << "<li><b>" << escape(cl.id) << "</b> (<code>" << escape(cl.seed) << "</code>): “"
          << escape(cl.quote) << "”: " << escape(cl.out_of_scope) << "</li>";
  out << "</ul><h2>Verifying the evidence</h2><p>Checkpoints are signed by <code>"
      << escape(c.verifier_key) << "</code> (fingerprint <code>" << escape(c.key_fingerprint)
      << "</code>), a key made for this audit and never written down.</p><pre>"
      << escape(c.verify_hint) << "</pre></body></html>\n";
  return out.str();
}

}  // namespace linksim::harness
