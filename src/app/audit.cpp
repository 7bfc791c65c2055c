// `linksim audit`: catalogue, scenarios and seeds checked first; then every run sealed in its own
// signed evidence log, every claim judged, every report written.
#include "linksim/app/audit.hpp"

#include "linksim/app/commands.hpp"
#include "linksim/app/run.hpp"
#include "linksim/evidence/log.hpp"
#include "linksim/evidence/merkle.hpp"
#include "linksim/harness/claims.hpp"
#include "linksim/harness/explain.hpp"
#include "linksim/harness/report.hpp"
#include "linksim/threads_sim/behaviour.hpp"

#include <cctype>
#include <cstdio>
#include <fstream>
#include <ostream>

namespace linksim::app {
namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) throw std::runtime_error(p.string() + ": cannot write");
}

std::string short_profile(const std::string& p) {
  return p.starts_with("fault.") ? p.substr(6) : p;
}

}  // namespace

int audit(const audit_options& o, std::ostream& out, std::ostream& err) {
  harness::catalogue cat;
  try {
    cat = harness::load_catalogue(o.catalogue);
  } catch (const harness::scenario_error& e) {
    err << e.what() << "\nlinksim audit: the catalogue has errors; nothing was run\n";
    return 2;
  }
  const fs::path folder =
      o.catalogue.parent_path().empty() ? fs::path(".") : o.catalogue.parent_path();
  const auto files =
      scenario_files(o.scenarios.empty() ? std::vector<fs::path>{folder} : o.scenarios);
  int bad = 0;
  const auto scenarios = load_scenarios(files, err, bad, o.limits);
  const fs::path seeds = o.seeds.empty() ? folder / "seeds" : o.seeds;
  const auto problems = harness::catalogue_problems(cat, seeds, scenarios);
  for (const auto& p : problems) err << p << "\n";
  if (bad > 0 || !problems.empty()) {
    err << "linksim audit: " << bad + static_cast<int>(problems.size())
        << " problem(s) in the catalogue, its seeds or the scenarios; nothing was run\n";
    return 2;
  }

  harness::audit_options ao;
  if (o.all_profiles) {
    for (const auto& b : threads_sim::behaviours()) ao.profiles.push_back(b.name);
  } else if (o.profiles.empty()) {
    ao.profiles.push_back("documented");
  } else {
    ao.profiles = o.profiles;
  }

  for (const auto* d : {&o.as_of, &o.since}) {
    const std::string& x = *d;
    bool ok = x.empty() || (x.size() == 10 && x[4] == '-' && x[7] == '-');
    for (std::size_t i = 0; ok && !x.empty() && i < x.size(); ++i)
      ok = i == 4 || i == 7 || std::isdigit(static_cast<unsigned char>(x[i]));
    if (!ok) {
      err << "linksim audit: a date is YYYY-MM-DD, got '" << x << "'\n";
      return 2;
    }
  }
  if (!o.since.empty() && o.as_of.empty()) {
    err << "linksim audit: --since compares with --as-of: give both\n";
    return 2;
  }
  ao.as_of = o.as_of;
  ao.since = o.since;
  ao.jobs = o.jobs;
  ao.strict = o.strict;
  ao.changes = o.changes;

  const fs::path evidence_dir = o.out / "evidence";
  fs::create_directories(evidence_dir);
  // The logs are this audit's: an earlier audit's would be appended to, so they go first.
  for (const auto& e : fs::directory_iterator(evidence_dir)) {
    const auto ext = e.path().extension();
    if (ext == ".db" || ext == ".db-wal" || ext == ".db-shm") fs::remove(e.path());
  }
  // A key of this audit's alone, never written down: its public half goes in every report, and
  // nothing that is handed over with the evidence can sign anything more.
  system_random random;
  const evidence::note_signer signer{evidence_key_name, ed25519_key::generate(random)};
  const auto fingerprint = evidence::note_verifier::parse(signer.verifier_key())->fingerprint();
  {
    std::ofstream pub(evidence_dir / "evidence.pub");
    pub << signer.verifier_key() << "\n";
  }

  const auto sealer = [&](const harness::scenario& s, const std::string& profile,
                          const harness::run_result& r) {
    const std::string stem = fs::path(s.file).stem().string();
    const std::string name = profile + "--" + stem + ".db";
    harness::sealed_log sealed;
    sealed.file = "evidence/" + name;
    evidence::log log(evidence_dir / name, "linksim-audit/" + profile + "/" + stem, signer);
    for (const auto& f : r.flows) log.append(f);
    sealed.checkpoint = log.checkpoint();
    sealed.size = log.size();
    auto entries = std::make_shared<std::vector<std::string>>();
    auto leaves = std::make_shared<std::vector<digest>>();
    entries->reserve(sealed.size);
    leaves->reserve(sealed.size);
    for (std::uint64_t i = 0; i < sealed.size; ++i) {
      entries->push_back(log.entry(i));
      leaves->push_back(evidence::leaf_hash(as_bytes(entries->back())));
    }
    sealed.entries = std::move(entries);
    sealed.leaves = std::move(leaves);
    sealed.root = to_hex(log.root());
    // The sealed log is the run's log: the same entries give the same tree.
    if (!r.root.empty() && sealed.root != r.root)
      throw std::runtime_error(name + ": sealed root " + sealed.root + " differs from the run's " +
                               r.root);
    return sealed;
  };
  const auto result = harness::audit(cat, scenarios, ao, sealer);

  const harness::report_context ctx{
      cat,
      result,
      o.catalogue.generic_string(),
      seeds.generic_string(),
      signer.verifier_key(),
      "linksim evidence verify --log " + (o.out / "evidence").generic_string() +
          "/PROFILE--SCENARIO.db --key '" + signer.verifier_key() + "'",
      fingerprint};
  {
    std::ofstream json(o.out / "report.json", std::ios::binary);
    harness::json_report(ctx, json);
    json.close();
    if (!json) throw std::runtime_error((o.out / "report.json").string() + ": cannot write");
  }
  write_file(o.out / "junit.xml", harness::junit_report(ctx));
  write_file(o.out / "report.sarif", harness::sarif_report(ctx));
  write_file(o.out / "report.md", harness::markdown_report(ctx));
  write_file(o.out / "report.html", harness::html_report(ctx));

  // The matrix: one column per profile, numbered in the legend.
  std::size_t checked = 0, not_modelled = 0, out_of_scope = 0;
  for (const auto& c : cat.claims)
    (c.checked() ? checked : !c.not_modelled.empty() ? not_modelled : out_of_scope)++;
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.1f s", result.wall_ms / 1000);
  out << "linksim audit: " << cat.claims.size() << " statements (" << checked << " checked, "
      << not_modelled << " not modelled, " << out_of_scope << " out of scope), "
      << ao.profiles.size() << " profile(s), " << result.runs << " scenario runs in " << secs
      << "\n";
  if (!o.as_of.empty()) {
    std::size_t in_force = 0;
    for (const auto& c : cat.claims) in_force += c.in_force(o.as_of);
    out << "as of " << o.as_of << ": " << in_force << " statements in force\n";
  }
  out << "\n";
  for (std::size_t i = 0; i < ao.profiles.size(); ++i)
    out << "  column " << i + 1 << ": " << ao.profiles[i] << "\n";
  out << "\n";
  for (const auto& c : cat.claims) {
    if (!c.out_of_scope.empty() || (!o.as_of.empty() && !c.in_force(o.as_of))) continue;
    out << "  ";
    for (const auto& p : ao.profiles) {
      const auto* v = result.find(c.id, p);
      const char* sym = !v                                        ? " "
                        : v->result == harness::verdict::holds    ? "+"
                        : v->result == harness::verdict::violated ? "x"
                                                                  : "?";
      out << sym << (v && !v->matches() ? "!" : " ");
    }
    out << " " << c.id << "\n";
  }
  out << "\n  + holds, x violated, ? indeterminate, ! not the verdict the profile should give\n\n";
  for (const auto& m : result.mismatches) out << "UNEXPECTED " << m << "\n";
  if (result.changes) {
    out << "changes between " << result.changes->since << " and " << result.changes->date << ":";
    for (const auto& a : result.changes->added) out << " +" << a;
    for (const auto& r : result.changes->removed) out << " -" << r;
    if (result.changes->added.empty() && result.changes->removed.empty()) out << " none";
    out << "\n";
  }
  for (const auto& d : result.dates) {
    std::size_t kinds = 0;
    for (const auto& u : result.undisclosed) kinds += u.as_of == d;
    out << "undisclosed flows as of " << d << ": " << (kinds ? std::to_string(kinds) : "none")
        << "\n";
    for (const auto& u : result.undisclosed) {
      if (u.as_of != d) continue;
      out << "  " << u.from << " -> " << u.to << " " << u.channel << " " << u.purpose << " [";
      for (std::size_t i = 0; i < u.categories.size(); ++i)
        out << (i ? " " : "") << u.categories[i];
      out << "] x" << u.count << " (first: " << u.scenario << ", leaf " << u.leaf << ")\n";
    }
  }
  std::size_t undeclared = 0;
  for (const auto& w : result.wire) undeclared += w.kind == "undeclared";
  out << "declared against observed: "
      << (result.wire.empty() ? std::string("every flow between parties was declared, every "
                                            "declared flow was on the wire")
                              : std::to_string(undeclared) + " undeclared, " +
                                    std::to_string(result.wire.size() - undeclared) + " unobserved")
      << "\n";
  for (const auto& w : result.wire)
    out << "  " << w.kind << " " << w.from << " -> " << w.to << " " << w.channel << " "
        << w.category << " x" << w.count << " (" << w.profile << ", " << w.scenario << ", leaf "
        << w.leaf << ")\n";
  for (const auto& v : result.vacuous)
    out << "VACUOUS " << v.claim << " (" << v.where << "): " << v.what << ": " << v.why << "\n";
  if (!result.checks.empty()) {
    std::size_t falsified = 0, by_profile = 0;
    for (const auto& ch : result.checks) {
      falsified += ch.falsified();
      by_profile += !ch.falsified_by.empty();
    }
    out << "checks falsified: " << falsified << "/" << result.checks.size() << " (" << by_profile
        << " by a fault profile, " << falsified - by_profile << " by a synthetic trace alone)\n";
  }
  const auto& ms = result.mutations;
  if (!ms.caught.empty() || !ms.missed.empty()) {
    out << "mutation score: " << ms.caught.size() << "/" << ms.caught.size() + ms.missed.size()
        << " fault profiles caught";
    if (!ms.missed.empty()) {
      out << "; missed:";
      for (const auto& m : ms.missed) out << " " << short_profile(m);
    }
    if (!ms.elsewhere.empty()) {
      out << " (not run over " << threads_sim::to_string(o.changes) << ":";
      for (const auto& m : ms.elsewhere) out << " " << short_profile(m);
      out << ")";
    }
    out << "\n";
  }
  if (!o.as_of.empty() && !ms.missed.empty())
    out << "(as of " << o.as_of << " no claim in force catches the missed faults: reported, "
        << "not failed)\n";
  out << "evidence key: " << signer.verifier_key() << " (fingerprint " << fingerprint << ")\n";
  out << (result.passed() ? "audit passed" : "audit FAILED") << ": reports in "
      << o.out.generic_string() << "/ (report.html, report.md, report.json, junit.xml, "
      << "report.sarif); evidence in " << evidence_dir.generic_string() << "/\n";
  return result.passed() ? 0 : 1;
}

int explain(const explain_options& o, std::ostream& out, std::ostream& err) {
  harness::scenario s;
  try {
    s = harness::load_scenario(o.scenario, o.limits);
  } catch (const harness::scenario_error& e) {
    err << e.what() << "\n";
    return 2;
  }
  const auto changes = o.changes.value_or(s.changes.front());
  if (!s.told_over(changes)) {
    err << "linksim explain: " << o.scenario.string() << " is not told over "
        << threads_sim::to_string(changes) << " (its changes: key)\n";
    return 2;
  }
  const auto x = harness::explain(s, harness::explain_options{.seed = o.seed,
                                                              .profile = o.profile,
                                                              .include_checks = o.include_checks,
                                                              .changes = changes});
  if (o.mermaid_only) {
    out << x.mermaid;
    return 0;
  }
  std::string walk = x.walkthrough;
  // The diagram goes after the title and introduction, before the numbered steps.
  const auto steps = walk.find("\n1. ");
  const std::string block = "\n```mermaid\n" + x.mermaid + "```\n";
  if (steps != std::string::npos)
    walk.insert(steps, block);
  else
    walk += block;
  out << walk;
  return 0;
}

}  // namespace linksim::app
