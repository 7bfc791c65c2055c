// report.json: the native form of the audit, every claim with its verdicts, findings and evidence.
#include "common.hpp"

#include "linksim/evidence/merkle.hpp"

#include <set>

namespace linksim::harness {
using namespace report_format;

void json_report(const report_context& c, std::ostream& out) {
  const auto& r = c.result;
  bj::object root{{"tool", "linksim"},
                  {"format", "linksim-audit/1"},
                  {"catalogue", c.catalogue_path},
                  {"seeds", c.seeds_path},
                  {"profiles", strings(r.profiles)},
                  {"passed", r.passed()},
                  {"runs", r.runs},
                  {"verifier_key", c.verifier_key},
                  {"verifier_key_fingerprint", c.key_fingerprint},
                  {"verify", c.verify_hint}};
  root["mutation_score"] = bj::object{{"percent", r.mutations.percent()},
                                      {"caught", strings(r.mutations.caught)},
                                      {"missed", strings(r.mutations.missed)},
                                      {"elsewhere", strings(r.mutations.elsewhere)}};
  root["mismatches"] = strings(r.mismatches);
  root["as_of"] = r.as_of.empty() ? bj::value(nullptr) : bj::value(r.as_of);
  const auto change_json = [](const policy_change& pc) {
    bj::object x{{"date", pc.date}, {"added", strings(pc.added)}, {"removed", strings(pc.removed)}};
    if (!pc.since.empty()) x["since"] = pc.since;
    return x;
  };
  bj::array timeline;
  for (const auto& pc : r.timeline) timeline.push_back(change_json(pc));
  root["policy_timeline"] = std::move(timeline);
  if (r.changes) root["changes"] = change_json(*r.changes);
  bj::array undisclosed;
  for (const auto& u : r.undisclosed) undisclosed.push_back(undisclosed_json(u));
  root["undisclosed_dates"] = strings(r.dates);
  root["undisclosed_flows"] = std::move(undisclosed);
  root["strict"] = r.strict;
  bj::array contradictions;
  for (const auto& cl : c.claims.claims)
    for (const auto& other_id : cl.contradicts) {
      const auto* other = c.claims.find(other_id);
      if (!other || other_id < cl.id) continue;
      contradictions.push_back(bj::object{{"a", cl.id},
                                          {"a_seed", cl.seed},
                                          {"a_quote", cl.quote},
                                          {"b", other->id},
                                          {"b_seed", other->seed},
                                          {"b_quote", other->quote}});
    }
  root["contradictions"] = std::move(contradictions);
  bj::array wire;
  for (const auto& w : r.wire) wire.push_back(wire_json(w));
  root["declared_against_observed"] = std::move(wire);
  bj::array vacuous;
  for (const auto& v : r.vacuous)
    vacuous.push_back(
        bj::object{{"claim", v.claim}, {"where", v.where}, {"rule", v.what}, {"why", v.why}});
  root["vacuous_rules"] = std::move(vacuous);
  bj::array checks;
  for (const auto& ch : r.checks)
    checks.push_back(bj::object{{"claim", ch.claim},
                                {"where", ch.where},
                                {"what", ch.what},
                                {"falsified_by", strings(ch.falsified_by)},
                                {"synthetic", ch.synthetic}});
  root["checks"] = std::move(checks);
  // The claims, the bulk of the report (each verdict's cited entries with their proofs), are
  // written one at a time after the rest, so that the whole report is never held at once.
  std::ostringstream head;
  pretty(head, root, 0);
  std::string text = std::move(head).str();
  text.resize(text.size() - 2);  // the closing "\n}" of the object
  out << text << ",\n  \"claims\": [";
  bool first = true;
  for (const auto& cl : c.claims.claims) {
    bj::object o{
        {"id", cl.id},           {"seed", cl.seed},         {"quote", cl.quote},
        {"meaning", cl.meaning}, {"status", status_of(cl)}, {"scenarios", strings(cl.scenarios)}};
    if (!cl.contradicts.empty()) o["contradicts"] = strings(cl.contradicts);
    if (!cl.version.empty()) o["version"] = cl.version;
    if (!cl.until.empty()) o["until"] = cl.until;
    o["in_force"] = r.as_of.empty() || cl.in_force(r.as_of);
    if (!cl.out_of_scope.empty()) o["reason"] = cl.out_of_scope;
    if (!cl.not_modelled.empty()) o["reason"] = cl.not_modelled;
    bj::array rules;
    for (const auto& f : cl.flows) rules.emplace_back(f.describe());
    o["check"] = bj::object{{"flows", std::move(rules)},
                            {"invariants", strings(cl.invariants)},
                            {"tagged_steps", true}};
    bj::object verdicts;
    for (const auto& v : r.verdicts) {
      if (v.claim != cl.id) continue;
      bj::object x{{"verdict", to_string(v.result)},
                   {"expected", to_string(v.expected)},
                   {"matches", v.matches()},
                   {"reason", v.reason}};
      bj::array findings;
      for (const auto& f : v.findings) findings.push_back(finding_json(f));
      x["findings"] = std::move(findings);
      bj::object evidence;
      for (const auto& [scenario, log] : v.evidence) {
        bj::object e{{"log", log.file},
                     {"size", log.size},
                     {"root", log.root},
                     {"checkpoint", log.checkpoint}};
        // The entries this verdict's findings cite in this run, each with its inclusion proof
        // against the checkpoint (RFC 9162 §2.1.3): checkable with the key, without the log.
        std::set<std::uint64_t> cited;
        for (const auto& f : v.findings)
          if (f.scenario == scenario) cited.insert(f.leaves.begin(), f.leaves.end());
        if (!cited.empty() && log.entries && log.leaves && log.entries->size() == log.size &&
            log.leaves->size() == log.size) {
          bj::array proofs;
          for (const auto leaf : cited) {
            if (leaf >= log.size) continue;
            bj::array path;
            for (const auto& h : evidence::inclusion_proof(*log.leaves, leaf))
              path.emplace_back(to_hex(h));
            proofs.push_back(bj::object{
                {"leaf", leaf}, {"entry", (*log.entries)[leaf]}, {"proof", std::move(path)}});
          }
          e["cited"] = std::move(proofs);
        }
        evidence[scenario] = std::move(e);
      }
      x["evidence"] = std::move(evidence);
      verdicts[v.profile] = std::move(x);
    }
    o["verdicts"] = std::move(verdicts);
    out << (first ? "\n    " : ",\n    ");
    pretty(out, o, 4);
    first = false;
  }
  out << (first ? "]\n}\n" : "\n  ]\n}\n");
}

}  // namespace linksim::harness
