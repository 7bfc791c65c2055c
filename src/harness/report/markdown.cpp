// report.md: the audit for people, as Markdown.
#include "common.hpp"

namespace linksim::harness {
using namespace report_format;

std::string markdown_report(const report_context& c) {
  const auto& r = c.result;
  std::ostringstream out;
  out << "# Claims audit\n\n"
      << "Catalogue `" << c.catalogue_path << "`, seeds in `" << c.seeds_path
      << "`: " << c.claims.claims.size() << " statements, " << count_status(c.claims, "checked")
      << " checked, " << count_status(c.claims, "not_modelled") << " not modelled, "
      << count_status(c.claims, "out_of_scope") << " out of scope. " << r.runs
      << " scenario runs over " << r.profiles.size() << " behaviour profile(s).\n\n"
      << "**Result: " << (r.passed() ? "every verdict is what its profile should give" : "FAILED")
      << ".** Mutation score " << percent_text(r.mutations.percent()) << " ("
      << r.mutations.caught.size() << " of "
      << r.mutations.caught.size() + r.mutations.missed.size()
      << " fault profiles caught by a claim that holds as documented).\n\n";
  if (!r.mismatches.empty()) {
    out << "## Unexpected verdicts\n\n";
    for (const auto& m : r.mismatches) out << "- " << m << "\n";
    out << "\n";
  }
  if (!r.mutations.missed.empty()) {
    out << "Fault profiles no claim caught: ";
    for (const auto& m : r.mutations.missed) out << "`" << m << "` ";
    out << "\n\n";
  }
  if (!r.as_of.empty())
    out << "As of **" << r.as_of << "**: only the claims in force that day are judged.\n\n";
  if (r.changes) {
    out << "## Changes between " << r.changes->since << " and " << r.changes->date << "\n\n";
    for (const auto& a : r.changes->added) out << "- came into force: `" << a << "`\n";
    for (const auto& x : r.changes->removed) out << "- went out of force: `" << x << "`\n";
    if (r.changes->added.empty() && r.changes->removed.empty()) out << "No change.\n";
    out << "\n";
  }
  if (!r.timeline.empty()) {
    out << "## Policy versions\n\n| date | came into force | went out of force |\n|---|---|---|\n";
    for (const auto& pc : r.timeline) {
      out << "| " << pc.date << " |";
      for (const auto& a : pc.added) out << " `" << a << "`";
      out << " |";
      for (const auto& x : pc.removed) out << " `" << x << "`";
      out << " |\n";
    }
    out << "\n";
  }
  if (!r.dates.empty()) {
    out << "## Undisclosed flows\n\nFlows observed under `documented` (every scenario) that no "
           "claim in force on the date discloses.\n\n| as of | flow | purpose | categories | "
           "count | first seen |\n|---|---|---|---|---|---|\n";
    for (const auto& d : r.dates) {
      bool any = false;
      for (const auto& u : r.undisclosed) {
        if (u.as_of != d) continue;
        any = true;
        out << "| " << d << " | " << u.from << " → " << u.to << " (" << u.channel << ") | `"
            << u.purpose << "` |";
        for (const auto& k : u.categories) out << " `" << k << "`";
        out << " | " << u.count << " | " << u.scenario << ", leaf " << u.leaf << " in `"
            << u.evidence << "` |\n";
      }
      if (!any) out << "| " << d << " | none | | | | |\n";
    }
    out << "\n";
  }
  out << "## Declared against observed\n\nPersonal data the network carried between the "
         "services and partners that no flow the sender declared covers, and declared flows no "
         "message carried.\n\n";
  if (r.wire.empty()) out << "None: every observed flow was declared, every declared one seen.\n\n";
  for (const auto& w : r.wire) out << "- " << wire_text(w) << " (`" << w.evidence << "`)\n";
  if (!r.wire.empty()) out << "\n";
  for (const auto& v : r.vacuous)
    out << "**Vacuous rule** of `" << v.claim << "` (" << v.where << "): " << v.what << ": "
        << v.why << ".\n\n";
  if (!r.checks.empty()) {
    std::size_t falsified = 0, by_profile = 0;
    for (const auto& ch : r.checks) {
      falsified += ch.falsified();
      by_profile += !ch.falsified_by.empty();
    }
    out << "## Checks and what falsifies them\n\n"
        << falsified << " of " << r.checks.size() << " checks fail on something while they hold as "
        << "documented: " << by_profile << " under a fault profile, " << falsified - by_profile
        << " on a synthetic trace alone (a flow rule judged on a documented run with what it "
           "requires taken out, or one flow it forbids put in).\n\n| claim | check | falsified "
           "by |\n|---|---|---|\n";
    for (const auto& ch : r.checks) {
      out << "| `" << ch.claim << "` | " << ch.where << ": " << ch.what << " |";
      for (const auto& p : ch.falsified_by) out << " `" << p << "`";
      if (!ch.synthetic.empty())
        out << (ch.falsified_by.empty() ? " " : "; ") << "synthetic trace: " << ch.synthetic;
      if (!ch.falsified()) out << " none";
      out << " |\n";
    }
    out << "\n";
  }
  // Where the documents disagree: each pair once, with both quotes.
  bool any_contradiction = false;
  for (const auto& cl : c.claims.claims)
    for (const auto& other_id : cl.contradicts) {
      const auto* other = c.claims.find(other_id);
      if (!other || other_id < cl.id) continue;
      if (!any_contradiction)
        out << "## Contradictions\n\nWhere the documents disagree; both sides are catalogued, "
               "and the behaviour profile decides which holds.\n\n";
      any_contradiction = true;
      out << "- [" << cl.id << "](#" << cl.id << ") (`" << cl.seed << "`): \"" << cl.quote
          << "\"\n  against [" << other->id << "](#" << other->id << ") (`" << other->seed
          << "`): \"" << other->quote << "\"\n";
    }
  if (any_contradiction) out << "\n";
  out << "## Matrix\n\n✓ holds, ✗ violated, ? indeterminate; **bold** where the verdict is not "
         "the one the profile should give.\n\n| claim |";
  for (const auto& p : r.profiles) out << " " << p << " |";
  out << "\n|---|";
  for (std::size_t i = 0; i < r.profiles.size(); ++i) out << "---|";
  out << "\n";
  for (const auto& cl : c.claims.claims) {
    if (!cl.out_of_scope.empty() || (!r.as_of.empty() && !cl.in_force(r.as_of))) continue;
    out << "| [" << cl.id << "](#" << cl.id << ") |";
    for (const auto& p : r.profiles) {
      const auto* v = r.find(cl.id, p);
      if (!v) {
        out << " |";
        continue;
      }
      out << " " << (v->matches() ? symbol(v->result) : "**" + symbol(v->result) + "**") << " |";
    }
    out << "\n";
  }
  out << "\n## Claims\n\n";
  for (const auto& cl : c.claims.claims) {
    if (!cl.out_of_scope.empty()) continue;
    out << "<a id=\"" << cl.id << "\"></a>\n\n### " << cl.id << "\n\n"
        << "> " << cl.quote << "\n\n— `" << cl.seed << "`\n\n";
    if (!cl.not_modelled.empty()) {
      out << "Not modelled: " << cl.not_modelled << "\n\n";
      continue;
    }
    out << cl.meaning << "\n\n";
    for (const auto& other : cl.contradicts)
      out << "Contradicts [" << other << "](#" << other
          << "): both are kept; the behaviour profile decides which holds.\n\n";
    out << "Check: steps tagged `" << cl.id << "`";
    for (const auto& f : cl.flows) out << "; `" << f.describe() << "`";
    for (const auto& i : cl.invariants) out << "; invariant `" << i << "`";
    out << ".\n\n| profile | verdict | expected | why | evidence |\n|---|---|---|---|---|\n";
    for (const auto& p : r.profiles) {
      const auto* v = r.find(cl.id, p);
      if (!v) continue;
      std::string evidence;
      for (const auto& [scenario, log] : v->evidence)
        evidence += (evidence.empty() ? "" : "<br>") + scenario + ": " + std::to_string(log.size) +
                    " entries, root `" + log.root.substr(0, 16) + "…`";
      std::set<std::uint64_t> leaves;
      for (const auto& f : v->findings) leaves.insert(f.leaves.begin(), f.leaves.end());
      out << "| " << p << " | " << to_string(v->result) << " | " << to_string(v->expected) << " | "
          << cell(v->reason) << " | " << cell(evidence) << " |\n";
    }
    out << "\n";
  }
  out << "## Out of scope\n\nStatements no behaviour can test, and why.\n\n";
  for (const auto& cl : c.claims.claims) {
    if (cl.out_of_scope.empty()) continue;
    out << "- **" << cl.id << "** (`" << cl.seed << "`): \"" << cl.quote
        << "\": " << cl.out_of_scope << "\n";
  }
  out << "\n## Verifying the evidence\n\nEvery verdict cites evidence entries (leaf indices) of "
         "a log whose checkpoint is signed by `"
      << c.verifier_key << "` (fingerprint `" << c.key_fingerprint
      << "`), a key made for this audit and never written down. Check a log offline with:\n\n```\n"
      << c.verify_hint << "\n```\n";
  return out.str();
}

}  // namespace linksim::harness
