// The audit's reports. Every format is built from the same audit_result; JSON and SARIF through
// Boost.JSON, XML and HTML with escaping of every value.
#include "linksim/harness/report.hpp"

#include "linksim/common/html.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

namespace linksim::harness {
namespace bj = boost::json;

namespace {

// Boost.JSON 1.81 writes compact JSON; reports are read by people too.
void pretty(std::ostream& out, const bj::value& v, int indent) {
  const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  const std::string close(static_cast<std::size_t>(indent), ' ');
  if (v.is_object()) {
    const auto& o = v.as_object();
    if (o.empty()) {
      out << "{}";
      return;
    }
    out << "{\n";
    bool first = true;
    for (const auto& kv : o) {
      out << (first ? "" : ",\n") << pad << bj::serialize(bj::value(kv.key())) << ": ";
      pretty(out, kv.value(), indent + 2);
      first = false;
    }
    out << "\n" << close << "}";
  } else if (v.is_array()) {
    const auto& a = v.as_array();
    if (a.empty()) {
      out << "[]";
      return;
    }
    out << "[\n";
    for (std::size_t i = 0; i < a.size(); ++i) {
      out << (i ? ",\n" : "") << pad;
      pretty(out, a[i], indent + 2);
    }
    out << "\n" << close << "]";
  } else {
    out << bj::serialize(v);
  }
}

std::string pretty(const bj::value& v) {
  std::ostringstream out;
  pretty(out, v, 0);
  out << "\n";
  return out.str();
}

std::string xml_escape(std::string_view s) {
  return html::escape(s);
}

std::string status_of(const claim& c) {
  if (!c.out_of_scope.empty()) return "out_of_scope";
  if (!c.not_modelled.empty()) return "not_modelled";
  return "checked";
}

std::string flow_text(const cited_flow& f) {
  std::string cats;
  for (const auto& c : f.categories) cats += (cats.empty() ? "" : ",") + c;
  // Appended in steps: GCC 12 warns falsely (-Wrestrict) on `"#" + std::to_string(...)`.
  std::string out = "#";
  out += std::to_string(f.leaf);
  out += " " + f.at + " " + f.from + " -> " + f.to + " " + f.channel + " [" + f.subject + "] " +
         cats + " for " + f.purpose;
  if (!f.note.empty()) out += " (" + f.note + ")";
  return out;
}

bj::array strings(const std::vector<std::string>& v) {
  bj::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

// One undisclosed kind of flow, as the JSON report lists it and SARIF's result carries it.
bj::object undisclosed_json(const undisclosed_flow& u) {
  return bj::object{{"as_of", u.as_of},     {"from", u.from},
                    {"to", u.to},           {"channel", u.channel},
                    {"purpose", u.purpose}, {"categories", strings(u.categories)},
                    {"count", u.count},     {"first_scenario", u.scenario},
                    {"first_leaf", u.leaf}, {"log", u.evidence}};
}

bj::object finding_json(const finding& f) {
  bj::object o{{"scenario", f.scenario},
               {"kind", f.kind},
               {"where", f.where},
               {"what", f.what},
               {"result", to_string(f.result)}};
  if (!f.expected.empty()) o["expected"] = f.expected;
  if (!f.actual.empty()) o["actual"] = f.actual;
  if (!f.at.empty()) o["at"] = f.at;
  bj::array leaves;
  for (const auto l : f.leaves) leaves.emplace_back(l);
  o["leaves"] = std::move(leaves);
  bj::array flows;
  for (const auto& fl : f.flows) {
    bj::object x{{"leaf", fl.leaf},       {"at", fl.at},
                 {"from", fl.from},       {"to", fl.to},
                 {"subject", fl.subject}, {"channel", fl.channel},
                 {"purpose", fl.purpose}, {"categories", strings(fl.categories)}};
    if (!fl.note.empty()) x["note"] = fl.note;
    flows.push_back(std::move(x));
  }
  o["flows"] = std::move(flows);
  return o;
}

std::string symbol(verdict v) {
  switch (v) {
    case verdict::holds:
      return "✓";
    case verdict::violated:
      return "✗";
    case verdict::indeterminate:
      return "?";
  }
  return "?";
}

std::string percent_text(double p) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.0f%%", p);
  return buf;
}

// Markdown table cells: a pipe would end the cell, a newline the row.
std::string cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::size_t count_status(const catalogue& c, const std::string& status) {
  return static_cast<std::size_t>(std::count_if(
      c.claims.begin(), c.claims.end(), [&](const claim& x) { return status_of(x) == status; }));
}

}  // namespace

// --- JSON ---

std::string json_report(const report_context& c) {
  const auto& r = c.result;
  bj::object root{
      {"tool", "linksim"},     {"format", "linksim-audit/1"},     {"catalogue", c.catalogue_path},
      {"seeds", c.seeds_path}, {"profiles", strings(r.profiles)}, {"passed", r.passed()},
      {"runs", r.runs},        {"verifier_key", c.verifier_key},  {"verify", c.verify_hint}};
  root["mutation_score"] = bj::object{{"percent", r.mutations.percent()},
                                      {"caught", strings(r.mutations.caught)},
                                      {"missed", strings(r.mutations.missed)}};
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
  bj::array claims;
  for (const auto& cl : c.claims.claims) {
    bj::object o{
        {"id", cl.id},           {"seed", cl.seed},         {"quote", cl.quote},
        {"meaning", cl.meaning}, {"status", status_of(cl)}, {"scenarios", strings(cl.scenarios)}};
    if (!cl.contradicts.empty()) o["contradicts"] = cl.contradicts;
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
      for (const auto& [scenario, log] : v.evidence)
        evidence[scenario] = bj::object{{"log", log.file},
                                        {"size", log.size},
                                        {"root", log.root},
                                        {"checkpoint", log.checkpoint}};
      x["evidence"] = std::move(evidence);
      verdicts[v.profile] = std::move(x);
    }
    o["verdicts"] = std::move(verdicts);
    claims.push_back(std::move(o));
  }
  root["claims"] = std::move(claims);
  return pretty(root);
}

// --- JUnit XML ---

std::string junit_report(const report_context& c) {
  const auto& r = c.result;
  std::ostringstream out;
  std::size_t tests = 0, failures = 0, skipped = 0;
  std::ostringstream suites;
  for (const auto& profile : r.profiles) {
    std::size_t t = 0, f = 0, s = 0;
    std::ostringstream cases;
    for (const auto& cl : c.claims.claims) {
      ++t;
      cases << "    <testcase classname=\"linksim.audit." << xml_escape(profile) << "\" name=\""
            << xml_escape(cl.id) << "\" time=\"0\">\n";
      const auto* v = r.find(cl.id, profile);
      if (!cl.checked() || !v) {
        ++s;
        cases << "      <skipped message=\""
              << xml_escape(!cl.out_of_scope.empty() ? "out of scope: " + cl.out_of_scope
                                                     : "not modelled: " + cl.not_modelled)
              << "\"/>\n";
      } else if (!v->matches()) {
        ++f;
        cases << "      <failure message=\""
              << xml_escape("expected " + std::string(to_string(v->expected)) + ", got " +
                            std::string(to_string(v->result)))
              << "\">" << xml_escape(cl.quote + "\n" + v->reason) << "</failure>\n";
      } else {
        cases << "      <system-out>"
              << xml_escape(std::string(to_string(v->result)) + " (as expected): " + v->reason)
              << "</system-out>\n";
      }
      cases << "    </testcase>\n";
    }
    tests += t;
    failures += f;
    skipped += s;
    suites << "  <testsuite name=\"linksim audit: " << xml_escape(profile) << "\" tests=\"" << t
           << "\" failures=\"" << f << "\" errors=\"0\" skipped=\"" << s << "\" time=\"0\">\n"
           << cases.str() << "  </testsuite>\n";
  }
  char time[32];
  std::snprintf(time, sizeof time, "%.3f", r.wall_ms / 1000.0);
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<testsuites name=\"linksim audit\" tests=\"" << tests << "\" failures=\"" << failures
      << "\" errors=\"0\" skipped=\"" << skipped << "\" time=\"" << time << "\">\n"
      << suites.str() << "</testsuites>\n";
  return out.str();
}

// --- SARIF 2.1.0 ---

std::string sarif_report(const report_context& c) {
  const auto& r = c.result;
  bj::array rules;
  std::map<std::string, std::size_t> rule_index;
  for (const auto& cl : c.claims.claims) {
    if (!cl.checked()) continue;
    rule_index[cl.id] = rules.size();
    rules.push_back(bj::object{
        {"id", cl.id},
        {"shortDescription", bj::object{{"text", cl.meaning}}},
        {"fullDescription", bj::object{{"text", cl.quote}}},
        {"helpUri", "docs/claims.md#" + cl.id},
        {"properties", bj::object{{"seed", cl.seed}, {"seedUri", c.seeds_path + "/" + cl.seed}}}});
  }
  auto physical = [](const std::string& where) {
    // "file:line:column" -> artifact and region
    std::string file = where;
    int line = 1;
    const auto a = where.rfind(':');
    const auto b = a == std::string::npos ? a : where.rfind(':', a - 1);
    if (b != std::string::npos) {
      file = where.substr(0, b);
      line = std::max(1, std::atoi(where.substr(b + 1, a - b - 1).c_str()));
    }
    return bj::object{{"artifactLocation", bj::object{{"uri", file}}},
                      {"region", bj::object{{"startLine", line}}}};
  };
  bj::array results;
  for (const auto& v : r.verdicts) {
    const auto* cl = c.claims.find(v.claim);
    if (!cl || !cl->checked()) continue;
    const char* kind = v.result == verdict::holds      ? "pass"
                       : v.result == verdict::violated ? "fail"
                                                       : "open";
    // A violation the profile is expected to give (the side of a contradiction it rejects) is a
    // note; an unexpected one an error.
    const char* level = v.result != verdict::violated ? "none" : (v.matches() ? "note" : "error");
    bj::array locations;
    for (const auto& f : v.findings) {
      for (const auto& fl : f.flows)
        locations.push_back(
            bj::object{{"location", bj::object{{"physicalLocation", physical(f.where)},
                                               {"message", bj::object{{"text", flow_text(fl)}}}}},
                       {"properties", bj::object{{"leaf", fl.leaf}, {"scenario", f.scenario}}}});
    }
    bj::object res{
        {"ruleId", v.claim},
        {"ruleIndex", rule_index.at(v.claim)},
        {"kind", kind},
        {"level", level},
        {"message",
         bj::object{{"text", std::string("[") + v.profile + "] " +
                                 std::string(to_string(v.result)) + " (expected " +
                                 std::string(to_string(v.expected)) + "): " + v.reason}}},
        {"locations", bj::array{bj::object{{"physicalLocation", physical(cl->where.str())}}}},
        {"properties", bj::object{{"profile", v.profile}, {"matchesExpected", v.matches()}}}};
    bj::object logs;
    for (const auto& [scenario, log] : v.evidence)
      logs[scenario] = bj::object{{"log", log.file}, {"size", log.size}, {"root", log.root}};
    res["properties"].as_object()["evidence"] = std::move(logs);
    // The evidence travels with violations; a pass or an open result names its logs only.
    if (!locations.empty() && v.result == verdict::violated)
      res["codeFlows"] = bj::array{
          bj::object{{"threadFlows", bj::array{bj::object{{"locations", std::move(locations)}}}}}};
    results.push_back(std::move(res));
  }
  // A kind of flow that no claim in force discloses does not fail the audit, but it is a finding
  // for whoever reads the policy: a warning, located at the sealed log it was first seen in.
  if (!r.undisclosed.empty()) {
    const std::size_t index = rules.size();
    rules.push_back(bj::object{
        {"id", "undisclosed-flow"},
        {"shortDescription",
         bj::object{{"text", "a kind of flow that no claim in force discloses"}}},
        {"fullDescription",
         bj::object{{"text",
                     "Recorded under the documented profile in the scenario library, and "
                     "disclosed by no claim in force on the date."}}},
        {"helpUri", "docs/claims.md#undisclosed-flows"}});
    for (const auto& u : r.undisclosed) {
      std::string categories;
      for (const auto& k : u.categories) categories += (categories.empty() ? "" : ", ") + k;
      results.push_back(bj::object{
          {"ruleId", "undisclosed-flow"},
          {"ruleIndex", index},
          {"kind", "fail"},
          {"level", "warning"},
          {"message",
           bj::object{{"text", "as of " + u.as_of + ": " + u.from + " -> " + u.to + " (" +
                                   u.channel + "), purpose " + u.purpose + ", " + categories +
                                   "; recorded " + std::to_string(u.count) + " times, first in " +
                                   u.scenario + " at leaf " + std::to_string(u.leaf)}}},
          {"locations", bj::array{bj::object{
                            {"physicalLocation",
                             bj::object{{"artifactLocation", bj::object{{"uri", u.evidence}}}}}}}},
          {"properties", undisclosed_json(u)}});
    }
  }
  bj::object root{
      {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
      {"version", "2.1.0"},
      {"runs", bj::array{bj::object{
                   {"tool", bj::object{{"driver", bj::object{{"name", "linksim"},
                                                             {"informationUri", "docs/claims.md"},
                                                             {"rules", std::move(rules)}}}}},
                   {"results", std::move(results)}}}}};
  return pretty(root);
}

// --- Markdown ---

std::string markdown_report(const report_context& c) {
  const auto& r = c.result;
  std::ostringstream out;
  out << "# Claims audit\n\n"
      << "Catalogue `" << c.catalogue_path << "`, seeds in `" << c.seeds_path
      << "`: " << c.claims.claims.size() << " statements, " << count_status(c.claims, "checked")
      << " checked, " << count_status(c.claims, "not_modelled") << " not modelled yet, "
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
      out << "Not modelled yet: " << cl.not_modelled << "\n\n";
      continue;
    }
    out << cl.meaning << "\n\n";
    if (!cl.contradicts.empty())
      out << "Contradicts [" << cl.contradicts << "](#" << cl.contradicts
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
      << c.verifier_key << "`. Check a log offline with:\n\n```\n"
      << c.verify_hint << "\n```\n";
  return out.str();
}

// --- SVG sequence diagram ---

std::string flows_svg(const std::vector<cited_flow>& flows) {
  std::vector<std::string> systems;
  for (const auto& f : flows)
    for (const auto& s : {f.from, f.to})
      if (std::find(systems.begin(), systems.end(), s) == systems.end()) systems.push_back(s);
  const int col = 190, row = 34, top = 40;
  const int width = std::max(1, static_cast<int>(systems.size())) * col + 40;
  const int height = top + static_cast<int>(flows.size()) * row + 20;
  auto x_of = [&](const std::string& s) {
    const auto i = std::find(systems.begin(), systems.end(), s) - systems.begin();
    return 20 + col / 2 + static_cast<int>(i) * col;
  };
  std::ostringstream out;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" font-family=\"sans-serif\" font-size=\"11\" role=\"img\">"
      << "<defs><marker id=\"a\" markerWidth=\"8\" markerHeight=\"8\" refX=\"7\" refY=\"4\" "
         "orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\"/></marker></defs>";
  for (const auto& s : systems) {
    const int x = x_of(s);
    out << "<rect x=\"" << x - 60 << "\" y=\"4\" width=\"120\" height=\"22\" rx=\"4\" "
        << "fill=\"#eef\" stroke=\"#446\"/><text x=\"" << x << "\" y=\"19\" "
        << "text-anchor=\"middle\">" << html::escape(s) << "</text><line x1=\"" << x
        << "\" y1=\"26\" x2=\"" << x << "\" y2=\"" << height - 6
        << "\" stroke=\"#99a\" stroke-dasharray=\"4\"/>";
  }
  for (std::size_t i = 0; i < flows.size(); ++i) {
    const auto& f = flows[i];
    const int y = top + static_cast<int>(i) * row + 14;
    int x1 = x_of(f.from), x2 = x_of(f.to);
    if (x1 == x2) x2 = x1 + 40;
    std::string cats;
    for (const auto& c : f.categories) cats += (cats.empty() ? "" : ", ") + c;
    out << "<line x1=\"" << x1 << "\" y1=\"" << y << "\" x2=\"" << x2 << "\" y2=\"" << y
        << "\" stroke=\"#224\" marker-end=\"url(#a)\"/><text x=\"" << (x1 + x2) / 2 << "\" y=\""
        << y - 4 << "\" text-anchor=\"middle\">" << i + 1 << ". #" << f.leaf << " " << f.at << " "
        << html::escape(f.channel) << " [" << html::escape(f.subject) << "]</text><text x=\""
        << (x1 + x2) / 2 << "\" y=\"" << y + 11 << "\" text-anchor=\"middle\" fill=\"#555\">"
        << html::escape(cats) << "</text>";
  }
  out << "</svg>";
  return out.str();
}

// --- HTML ---

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
      << " not modelled yet, " << count_status(c.claims, "out_of_scope") << " out of scope; "
      << r.runs << " scenario runs.</p><p class=\"" << (r.passed() ? "ok" : "fail") << "\"><b>"
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
      out << "<p><i>Not modelled yet:</i> " << escape(cl.not_modelled) << "</p></section>";
      continue;
    }
    out << "<p>" << escape(cl.meaning) << "</p>";
    if (!cl.contradicts.empty())
      out << "<p>Contradicts <a href=\"#" << escape(cl.contradicts) << "\">"
          << escape(cl.contradicts) << "</a>: the profile decides which holds.</p>";
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
      << escape(c.verifier_key) << "</code>.</p><pre>" << escape(c.verify_hint)
      << "</pre></body></html>\n";
  return out.str();
}

}  // namespace linksim::harness
