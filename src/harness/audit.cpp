// The audit: runs every scenario the checked claims need under every profile, on a pool of
// threads, and judges each claim from the runs' findings and flows.
#include "linksim/harness/claims.hpp"

#include "linksim/evidence/wire.hpp"
#include "linksim/threads_sim/behaviour.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

namespace linksim::harness {

double mutation_score::percent() const {
  const auto n = caught.size() + missed.size();
  return n == 0 ? 100.0 : 100.0 * static_cast<double>(caught.size()) / static_cast<double>(n);
}

bool audit_result::passed() const {
  // As of a date, a fault no claim in force catches is a finding about the policy, not a
  // failure of the checks.
  return mismatches.empty() && vacuous.empty() && (mutations.missed.empty() || !as_of.empty()) &&
         (!strict || (undisclosed.empty() && wire.empty()));
}

const claim_verdict* audit_result::find(std::string_view claim_id, std::string_view profile) const {
  for (const auto& v : verdicts)
    if (v.claim == claim_id && v.profile == profile) return &v;
  return nullptr;
}

namespace {

std::string file_name(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

std::vector<std::uint64_t> last(std::vector<std::uint64_t> v, std::size_t n) {
  if (v.size() > n) v.erase(v.begin(), v.end() - static_cast<std::ptrdiff_t>(n));
  return v;
}

std::string plus(milliseconds d) {
  return "+" + format_duration(d);
}

// The scenarios a claim is checked in: the ones it names and the ones that tag it.
std::vector<const scenario*> scenarios_of(const claim& c, const std::vector<scenario>& all) {
  std::vector<const scenario*> out;
  for (const auto& s : all) {
    bool use =
        std::find(c.scenarios.begin(), c.scenarios.end(), file_name(s.file)) != c.scenarios.end();
    for (const auto& st : s.steps)
      use = use || std::find(st.claims.begin(), st.claims.end(), c.id) != st.claims.end();
    if (use) out.push_back(&s);
  }
  return out;
}

// A claim's findings in one run. In a scenario the claim names or tags, every check; in any
// other, its forbid rules, reported only when one is broken: a flow a claim forbids is
// forbidden in every story, not only in those written for it.
// Fills each finding's cited flows from the leaves it names.
void cite(std::vector<finding>& out, const run_result& r) {
  for (auto& f : out) {
    for (const auto leaf : f.leaves) {
      if (leaf >= r.flows.size()) continue;
      const auto& fl = r.flows[leaf];
      const auto alias = r.aliases.find(fl.subject);
      f.flows.push_back({leaf, plus(std::chrono::duration_cast<milliseconds>(fl.time - r.start)),
                         fl.from, fl.to, alias == r.aliases.end() ? fl.subject : alias->second,
                         fl.channel, fl.purpose, fl.note, fl.categories});
    }
  }
}

std::vector<finding> judge_run(const claim& c, const scenario& s, const run_result& r,
                               bool listed) {
  std::vector<finding> out;
  const std::string name = file_name(s.file);
  if (!listed) {
    if (!r.error.empty()) return out;
    for (const auto& rule : c.flows) {
      if (rule.type != flow_rule::kind::forbid) continue;
      std::vector<std::uint64_t> hits;
      for (std::size_t k = 0; k < r.flows.size(); ++k)
        if (rule.matches(r.flows[k])) hits.push_back(k);
      if (hits.empty()) continue;
      finding f{name, "flows", rule.where.str(), rule.describe(), verdict::violated, {}, {},
                {},   {}};
      f.expected = "no matching flow";
      f.actual =
          std::to_string(hits.size()) + " matching of " + std::to_string(r.flows.size()) + " flows";
      f.leaves = last(std::move(hits), 12);
      out.push_back(std::move(f));
    }
    cite(out, r);
    return out;
  }
  if (!r.error.empty()) {
    out.push_back({name,
                   "run",
                   s.file,
                   "the scenario could not run",
                   verdict::indeterminate,
                   {},
                   r.error,
                   {},
                   {}});
    return out;
  }
  const std::string stop_reason =
      r.stopped_at && r.failure
          ? "not reached: the run stopped at step " + std::to_string(*r.stopped_at + 1) + " (" +
                r.failure->where.str() + ": " + r.failure->what + ": expected " +
                r.failure->expected + ", got " + r.failure->actual + ")"
          : std::string("not reached");
  for (std::size_t i = 0; i < s.steps.size(); ++i) {
    const auto& st = s.steps[i];
    if (std::find(st.claims.begin(), st.claims.end(), c.id) == st.claims.end()) continue;
    if (!runs_over(st.over, r.changes)) continue;  // not told over this run's channel
    const auto it = std::find_if(r.checks.begin(), r.checks.end(), [&](const check_outcome& o) {
      return o.step == i && o.invariant.empty();
    });
    finding f{name,
              "step",
              st.where.str(),
              std::string(to_string(st.kind)) + " (step " + std::to_string(i + 1) + ")",
              verdict::indeterminate,
              {},
              stop_reason,
              {},
              {}};
    if (it != r.checks.end()) {
      f.result = it->passed ? verdict::holds : verdict::violated;
      f.leaves = it->leaves;
      f.at = plus(it->at);
      f.actual.clear();
      if (!it->passed) {
        f.where = it->where.str();
        f.what += ": " + it->what;
        f.expected = it->expected;
        f.actual = it->actual;
      }
    }
    out.push_back(std::move(f));
  }
  for (const auto& rule : c.flows) {
    std::vector<std::uint64_t> hits;
    for (std::size_t k = 0; k < r.flows.size(); ++k)
      if (rule.matches(r.flows[k])) hits.push_back(k);
    finding f{name, "flows", rule.where.str(), rule.describe(), verdict::holds, {}, {}, {}, {}};
    const bool complete = !r.stopped_at;
    const std::string counted =
        std::to_string(hits.size()) + " matching of " + std::to_string(r.flows.size()) + " flows";
    if (rule.type == flow_rule::kind::forbid) {
      if (!hits.empty()) {
        f.result = verdict::violated;
        f.expected = "no matching flow";
        f.actual = counted;
      } else if (!complete) {
        f.result = verdict::indeterminate;
        f.actual = "none so far, but " + stop_reason;
      }
    } else if (hits.empty()) {
      f.result = complete ? verdict::violated : verdict::indeterminate;
      f.expected = "at least one matching flow";
      f.actual = complete ? counted : "none so far, but " + stop_reason;
    }
    f.leaves = last(std::move(hits), 12);
    out.push_back(std::move(f));
  }
  for (const auto& name_of_inv : c.invariants) {
    const auto it = std::find_if(r.checks.begin(), r.checks.end(), [&](const check_outcome& o) {
      return o.invariant == name_of_inv;
    });
    finding f{name, "invariant", s.file, name_of_inv, verdict::indeterminate,
              {},   stop_reason, {},     {}};
    if (it != r.checks.end()) {
      f.result = it->passed ? verdict::holds : verdict::violated;
      f.what = it->passed ? it->what : name_of_inv + ": " + it->what;
      f.leaves = it->leaves;
      f.at = plus(it->at);
      f.actual.clear();
      if (!it->passed) {
        f.where = s.steps[it->step].where.str();
        f.expected = it->expected;
        f.actual = it->actual;
      }
    }
    out.push_back(std::move(f));
  }
  cite(out, r);
  return out;
}

std::string reason_for(const claim_verdict& v) {
  for (const auto& f : v.findings)
    if (f.result == verdict::violated)
      return f.scenario + " (" + f.where + "): " + f.what + ": expected " + f.expected + ", got " +
             f.actual;
  for (const auto& f : v.findings)
    if (f.result == verdict::indeterminate)
      return f.scenario + " (" + f.where + "): " + f.what + ": " + f.actual;
  std::set<std::string> in;
  for (const auto& f : v.findings) in.insert(f.scenario);
  return std::to_string(v.findings.size()) + " check(s) held in " + std::to_string(in.size()) +
         " scenario(s)";
}

struct run_record {
  run_result result;
  sealed_log sealed;
};

// A party that exchanges personal data about people: one of the services or a partner. The
// person at a browser, the operator, the auditor and anyone else a scenario sends as (an
// attacker) are the story around them.
bool is_party(std::string_view system) {
  return system == "idp" || system == "threads" || system == "ads" ||
         system.starts_with("partner:");
}

bool between_parties(const evidence::flow& f) {
  return f.observed && !evidence::is_state_read(f) && is_party(f.from) && is_party(f.to);
}

// Data about a person, as against the services' own keys ("system.authentication").
bool is_personal(std::string_view category) {
  return evidence::covers("user", category);
}

// A declared channel names the message's channel or a part of it: the provider declares a
// push on "ssf.push", the network names the endpoint it reached "ssf".
bool same_channel(std::string_view declared, std::string_view observed) {
  return !declared.empty() && !observed.empty() &&
         (evidence::covers(observed, declared) || evidence::covers(declared, observed));
}

}  // namespace

std::vector<wire_mismatch> declared_against_observed(const run_result& r) {
  std::vector<wire_mismatch> out;
  std::vector<const evidence::flow*> declared, observed;
  std::vector<std::uint64_t> observed_leaf, declared_leaf;
  const std::set<std::size_t> scripted(r.scripted.begin(), r.scripted.end());
  for (std::size_t i = 0; i < r.flows.size(); ++i) {
    const auto& f = r.flows[i];
    if (evidence::is_state_read(f) || !is_party(f.from) || !is_party(f.to)) continue;
    if (scripted.contains(i)) continue;  // the scenario's, in a party's name
    (f.observed ? observed : declared).push_back(&f);
    (f.observed ? observed_leaf : declared_leaf).push_back(i);
  }
  std::map<std::string, std::size_t> index;
  const auto add = [&](const char* kind, const evidence::flow& f, const std::string& category,
                       std::uint64_t leaf) {
    const std::string key =
        std::string(kind) + "|" + f.from + "|" + f.to + "|" + f.channel + "|" + category;
    auto [pos, fresh] = index.emplace(key, out.size());
    if (fresh) out.push_back({{}, {}, kind, f.from, f.to, f.channel, category, 0, leaf, {}});
    ++out[pos->second].count;
  };
  // A declared flow about an account carries the account's id, whatever categories it lists.
  const auto declares = [](const evidence::flow& d, const std::string& k) {
    return std::any_of(d.categories.begin(), d.categories.end(),
                       [&](const std::string& c) { return evidence::covers(c, k); }) ||
           (k == "user.unique_id" && !d.subject.empty() && d.subject != "0");
  };
  for (std::size_t i = 0; i < observed.size(); ++i) {
    const auto& o = *observed[i];
    for (const auto& k : o.categories) {
      if (!is_personal(k)) continue;
      // Only a declaration on the message's own channel covers it: the token request's
      // credentials are not declared by the profile read that follows it.
      const bool covered = std::any_of(declared.begin(), declared.end(), [&](const auto* d) {
        return d->from == o.from && d->to == o.to && same_channel(d->channel, o.channel) &&
               declares(*d, k);
      });
      if (!covered) add("undeclared", o, k, observed_leaf[i]);
    }
  }
  for (std::size_t i = 0; i < declared.size(); ++i) {
    const auto& d = *declared[i];
    for (const auto& k : d.categories) {
      if (!is_personal(k)) continue;
      const bool carried = std::any_of(observed.begin(), observed.end(), [&](const auto* o) {
        return o->from == d.from && o->to == d.to &&
               std::any_of(o->categories.begin(), o->categories.end(), [&](const std::string& c) {
                 return evidence::covers(k, c) || evidence::covers(c, k);
               });
      });
      if (!carried) add("unobserved", d, k, declared_leaf[i]);
    }
  }
  return out;
}

namespace {

// The most specific category a flow could carry that `rule` forbids: one the wire can carry,
// under the rule's category and outside its exception; the rule's own category otherwise.
std::string forbidden_category(const flow_rule& rule) {
  static const auto observable = evidence::observable_categories();
  std::string best;
  for (const auto& k : observable)
    if (evidence::covers(rule.category, k) &&
        (rule.except.empty() || !evidence::covers(rule.except, k)) && k.size() > best.size())
      best = k;
  return best.empty() ? rule.category : best;
}

// A trace that should break `rule`, made from a documented run `r`, and what was changed. For a
// require rule: the run with the data the rule requires taken out of every message that carried
// it (those messages left out, when the rule names no category). For a forbid rule: the run
// with one observed message more, carrying what the rule forbids, modelled on a message
// between the same parties where the run has one. The trace is judged as a run is.
std::pair<run_result, std::string> synthetic_trace(const flow_rule& rule, const run_result& r,
                                                   const std::string& scenario) {
  run_result t;
  t.error = r.error;
  t.failure = r.failure;
  t.stopped_at = r.stopped_at;
  t.checks = r.checks;
  t.aliases = r.aliases;
  t.start = r.start;
  t.flows = r.flows;
  const std::string run = "the documented run of " + scenario;
  if (rule.type == flow_rule::kind::require) {
    std::size_t changed = 0;
    std::vector<evidence::flow> kept;
    for (auto& f : t.flows) {
      if (!rule.matches(f)) {
        kept.push_back(std::move(f));
        continue;
      }
      ++changed;
      if (rule.category.empty() && rule.except.empty()) continue;
      std::erase_if(f.categories, [&](const std::string& k) {
        return evidence::covers(rule.category, k) &&
               (rule.except.empty() || !evidence::covers(rule.except, k));
      });
      kept.push_back(std::move(f));
    }
    t.flows = std::move(kept);
    const std::string what = rule.category.empty()
                                 ? "without the " + std::to_string(changed) + " matching flow(s)"
                                 : "with " + rule.category + " taken out of the " +
                                       std::to_string(changed) + " flow(s) that carried it";
    return {std::move(t), run + " " + what};
  }
  const auto observed_between = [&](const evidence::flow& f, bool same_channel, bool same_to) {
    return f.observed && !evidence::is_state_read(f) &&
           (rule.from.empty() || f.from == rule.from) &&
           (!same_to || rule.to.empty() || f.to == rule.to) &&
           (!same_channel || rule.channel.empty() || f.channel == rule.channel);
  };
  const evidence::flow* model = nullptr;
  for (const auto& [channel, to] : {std::pair{true, true}, {false, true}, {false, false}}) {
    for (const auto& f : r.flows)
      if (!model && observed_between(f, channel, to)) model = &f;
  }
  evidence::flow f;
  if (model) {
    f = *model;
  } else {
    f.observed = true;
    f.time = r.flows.empty() ? r.start : r.flows.back().time;
    f.from = "threads";
    f.to = "ads";
  }
  if (!rule.from.empty()) f.from = rule.from;
  if (!rule.to.empty()) f.to = rule.to;
  if (f.from == f.to) f.to = f.from == "ads" ? "partner:synthetic" : "ads";
  if (!rule.channel.empty()) f.channel = rule.channel;
  if (!rule.purpose.empty()) f.purpose = rule.purpose;
  const std::string k = forbidden_category(rule);
  if (!k.empty() && std::find(f.categories.begin(), f.categories.end(), k) == f.categories.end())
    f.categories.push_back(k);
  f.note = "synthetic";
  std::string what = run + " with one observed flow more: " + f.from + " -> " + f.to + " on " +
                     (f.channel.empty() ? "no channel" : f.channel);
  if (!f.purpose.empty()) what += " for " + f.purpose;
  if (!k.empty()) what += " carrying " + k;
  t.flows.push_back(std::move(f));
  return {std::move(t), what};
}

// Each check of each judged claim: the profiles under which it fails while it holds under
// `documented`, and for each flow rule a synthetic trace that breaks it. A rule no trace
// breaks is vacuous.
void score_checks(const catalogue& c, const std::vector<scenario>& scenarios,
                  const std::map<std::pair<std::string, std::string>, run_record>& runs,
                  const std::vector<std::string>& profiles, audit_result& out) {
  if (std::find(profiles.begin(), profiles.end(), "documented") == profiles.end()) return;
  for (const auto& cl : c.claims) {
    const auto* base = out.find(cl.id, "documented");
    if (!base || !cl.checked()) continue;
    std::map<std::string, check_score> by_where;  // a step or rule, by its place and text
    std::vector<std::string> order;
    for (const auto& profile : profiles) {
      const auto* v = out.find(cl.id, profile);
      if (!v) continue;
      for (const auto& f : v->findings) {
        if (f.kind == "run") continue;
        // A step's failure names the expectation that failed; key by the step's text alone. A
        // rule or an invariant is one check, whichever runs judge it.
        std::string what = f.what.substr(0, f.what.find(f.kind == "step" ? ':' : '\n'));
        if (f.kind == "invariant") what = "invariant " + what.substr(0, what.find_first_of(" :"));
        const std::string key = f.kind + "|" + (f.kind == "flows" ? f.where : std::string()) + "|" +
                                (f.kind == "step" ? f.scenario : std::string()) + "|" + what;
        auto [it, fresh] = by_where.try_emplace(key);
        if (fresh) {
          const std::string place = f.kind == "step"        ? f.scenario + " " + what
                                    : f.kind == "invariant" ? what
                                                            : f.where;
          it->second = {cl.id, place, what, {}, {}};
          order.push_back(key);
        }
        if (profile == "documented" || f.result != verdict::violated) continue;
        auto& by = it->second.falsified_by;
        if (std::find(by.begin(), by.end(), profile) == by.end()) by.push_back(profile);
      }
    }
    for (const auto& rule : cl.flows) {
      const std::string where = rule.where.str();
      const std::string key = "flows|" + where + "||" + rule.describe();
      auto [it, fresh] = by_where.try_emplace(key);
      if (fresh) {
        it->second = {cl.id, where, rule.describe(), {}, {}};
        order.push_back(key);
      }
      // The claim's own scenarios; for a forbid rule, which holds in every run, then the others.
      auto order_of_runs = scenarios_of(cl, scenarios);
      if (rule.type == flow_rule::kind::forbid)
        for (const auto& s : scenarios) order_of_runs.push_back(&s);
      for (const auto* s : order_of_runs) {
        const auto run = runs.find({s->file, "documented"});
        if (run == runs.end() || !run->second.result.error.empty()) continue;
        const auto& documented_run = run->second.result;
        const bool already = std::any_of(documented_run.flows.begin(), documented_run.flows.end(),
                                         [&](const evidence::flow& f) { return rule.matches(f); });
        if (already == (rule.type == flow_rule::kind::forbid)) {
          it->second.synthetic = "the documented run of " + file_name(s->file) + " itself";
          break;
        }
        auto [trace, what] = synthetic_trace(rule, documented_run, file_name(s->file));
        claim alone = cl;
        alone.flows = {rule};
        const auto judged = judge_run(alone, *s, trace, true);
        const bool broken = std::any_of(judged.begin(), judged.end(), [&](const finding& f) {
          return f.kind == "flows" && f.where == where && f.result == verdict::violated;
        });
        if (broken) {
          it->second.synthetic = std::move(what);
          break;
        }
      }
      if (it->second.synthetic.empty())
        out.vacuous.push_back({cl.id, where, rule.describe(),
                               "no synthetic trace breaks it (taking out what it requires, or "
                               "adding one flow it forbids)"});
    }
    for (const auto& key : order) out.checks.push_back(std::move(by_where[key]));
  }
}

// Flow rules no run could break: no run carries anything, either way, between their parties on
// their channel (a rule naming a party that never speaks, or a channel nobody uses). A rule on
// a flow the documented services never make is not vacuous when the request that would draw
// it is made: a refused partner request still puts the rule to the test.
void find_vacuous(const catalogue& c,
                  const std::map<std::pair<std::string, std::string>, run_record>& runs,
                  audit_result& out) {
  for (const auto& cl : c.claims) {
    if (!cl.checked()) continue;
    for (const auto& rule : cl.flows) {
      const auto ends = [&](const evidence::flow& f, const std::string& a, const std::string& b) {
        return f.observed && !evidence::is_state_read(f) && (a.empty() || f.from == a) &&
               (b.empty() || f.to == b) && (rule.channel.empty() || f.channel == rule.channel);
      };
      bool possible = false;
      for (const auto& [key, rec] : runs) {
        for (const auto& f : rec.result.flows)
          possible = possible || ends(f, rule.from, rule.to) || ends(f, rule.to, rule.from);
        if (possible) break;
      }
      if (!possible)
        out.vacuous.push_back({cl.id, rule.where.str(), rule.describe(),
                               "no run carries any flow between these parties on this channel"});
    }
  }
}

}  // namespace

audit_result audit(const catalogue& c, const std::vector<scenario>& scenarios,
                   const audit_options& options, const sealer& seal) {
  const auto t0 = std::chrono::steady_clock::now();
  audit_result out;
  // A profile that changes nothing over this run's channel is left out, and named.
  audit_options o = options;
  std::erase_if(o.profiles, [&](const std::string& name) {
    const auto b = threads_sim::find_behaviour(name);
    if (!b || threads_sim::applies_over(*b, o.changes)) return false;
    out.mutations.elsewhere.push_back(name);
    return true;
  });
  out.profiles = o.profiles;
  out.as_of = o.as_of;
  const auto in_scope = [&](const claim& cl) { return o.as_of.empty() || cl.in_force(o.as_of); };
  // Undisclosed flows are looked for in every scenario, under `documented` (or the first profile).
  const std::string plain =
      std::find(o.profiles.begin(), o.profiles.end(), "documented") != o.profiles.end()
          ? "documented"
          : (o.profiles.empty() ? "" : o.profiles.front());

  // Which claims each invariant checks. Every scenario runs under every profile: a forbid rule
  // is judged in every run.
  std::map<std::string, std::vector<std::string>> invariants;
  for (const auto& cl : c.claims) {
    if (!cl.checked() || !in_scope(cl)) continue;
    for (const auto& inv : cl.invariants) invariants[inv].push_back(cl.id);
  }

  struct job {
    const std::string* profile;
    const scenario* s;
    std::optional<run_record> done;
    std::exception_ptr failed;
  };
  std::vector<job> jobs;
  for (const auto& profile : o.profiles)
    for (const auto& s : scenarios)
      if (s.told_over(o.changes)) jobs.push_back({&profile, &s, {}, {}});
  // Each run is its own world: the workers share nothing but the next job's number.
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i; (i = next++) < jobs.size();) {
      auto& j = jobs[i];
      try {
        run_options ro;
        ro.profile = *j.profile;
        ro.changes = o.changes;
        ro.audit = true;
        ro.invariants = invariants;
        run_record rec{run_scenario(*j.s, ro), {}};
        rec.sealed = seal(*j.s, *j.profile, rec.result);
        j.done = std::move(rec);
      } catch (...) {
        j.failed = std::current_exception();
        next = jobs.size();  // the others finish the run they have and stop
      }
    }
  };
  {
    std::vector<std::jthread> workers;
    const std::size_t n = std::clamp<std::size_t>(o.jobs, 1, std::max<std::size_t>(jobs.size(), 1));
    for (std::size_t w = 1; w < n; ++w) workers.emplace_back(work);
    work();
  }
  std::map<std::pair<std::string, std::string>, run_record> runs;  // (file, profile)
  for (auto& j : jobs) {
    if (j.failed) std::rethrow_exception(j.failed);
    if (!j.done) continue;  // never started, after a failed run (rethrown above)
    runs.emplace(std::pair{j.s->file, *j.profile}, std::move(*j.done));
    ++out.runs;
  }
  for (const auto& cl : c.claims) {
    if (!cl.out_of_scope.empty() || !in_scope(cl)) continue;
    for (const auto& profile : o.profiles) {
      claim_verdict v;
      v.claim = cl.id;
      v.profile = profile;
      v.expected = cl.expected_under(profile, o.changes);
      if (!cl.not_modelled.empty()) {
        v.result = verdict::indeterminate;
        v.reason = "not modelled: " + cl.not_modelled;
        out.verdicts.push_back(std::move(v));
        continue;
      }
      const auto listed = scenarios_of(cl, scenarios);
      for (const auto& s : scenarios) {
        const bool named = std::find(listed.begin(), listed.end(), &s) != listed.end();
        const auto it = runs.find({s.file, profile});
        if (it == runs.end()) continue;
        auto found = judge_run(cl, s, it->second.result, named);
        if (!named && found.empty()) continue;
        v.findings.insert(v.findings.end(), found.begin(), found.end());
        v.evidence[file_name(s.file)] = it->second.sealed;
      }
      const bool any_violated = std::any_of(v.findings.begin(), v.findings.end(),
                                            [](auto& f) { return f.result == verdict::violated; });
      const bool any_open = v.findings.empty() ||
                            std::any_of(v.findings.begin(), v.findings.end(),
                                        [](auto& f) { return f.result == verdict::indeterminate; });
      v.result =
          any_violated ? verdict::violated : (any_open ? verdict::indeterminate : verdict::holds);
      v.reason = v.findings.empty() ? "no scenario exercises it" : reason_for(v);
      if (!v.matches())
        out.mismatches.push_back(cl.id + " under " + profile + ": expected " +
                                 std::string(to_string(v.expected)) + ", got " +
                                 std::string(to_string(v.result)) + " (" + v.reason + ")");
      out.verdicts.push_back(std::move(v));
    }
  }
  // The mutation score: each fault profile must make some claim fail that holds as documented.
  const bool have_documented =
      std::find(o.profiles.begin(), o.profiles.end(), "documented") != o.profiles.end();
  for (const auto& profile : o.profiles) {
    if (!profile.starts_with("fault.")) continue;
    bool caught = false;
    for (const auto& v : out.verdicts) {
      if (v.profile != profile || v.result != verdict::violated) continue;
      const auto* base = have_documented ? out.find(v.claim, "documented") : nullptr;
      const bool holds_as_documented =
          base ? base->result == verdict::holds
               : c.find(v.claim)->expected_under("documented") == verdict::holds;
      caught = caught || holds_as_documented;
    }
    (caught ? out.mutations.caught : out.mutations.missed).push_back(profile);
  }
  // Policy versions: every dated change, and the comparison asked for.
  std::set<std::string> dates;
  for (const auto& cl : c.claims) {
    if (!cl.version.empty()) dates.insert(cl.version);
    if (!cl.until.empty()) dates.insert(cl.until);
  }
  for (const auto& d : dates) {
    policy_change pc;
    pc.date = d;
    for (const auto& cl : c.claims) {
      if (cl.version == d) pc.added.push_back(cl.id);
      if (cl.until == d) pc.removed.push_back(cl.id);
    }
    out.timeline.push_back(std::move(pc));
  }
  if (!o.as_of.empty() && !o.since.empty()) {
    policy_change pc;
    pc.date = o.as_of;
    pc.since = o.since;
    for (const auto& cl : c.claims) {
      const bool then = cl.in_force(o.since), now = cl.in_force(o.as_of);
      if (now && !then) pc.added.push_back(cl.id);
      if (then && !now) pc.removed.push_back(cl.id);
    }
    out.changes = std::move(pc);
  }
  // Undisclosed flows, per date: what `plain` runs recorded that no claim in force discloses.
  out.dates = o.as_of.empty() ? std::vector<std::string>(dates.begin(), dates.end())
                              : std::vector<std::string>{o.as_of};
  for (const auto& d : out.dates) {
    std::vector<const flow_rule*> disclosed;
    for (const auto& cl : c.claims)
      if (cl.in_force(d))
        for (const auto& r : cl.discloses) disclosed.push_back(&r);
    std::map<std::string, std::size_t> index;  // kind of flow -> position in out.undisclosed
    for (const auto& s : scenarios) {
      const auto it = runs.find({s.file, plain});
      if (it == runs.end()) continue;
      const auto& flows = it->second.result.flows;
      for (std::size_t i = 0; i < flows.size(); ++i) {
        auto f = flows[i];
        if (!between_parties(f)) continue;
        std::erase_if(f.categories, [](const std::string& k) { return !is_personal(k); });
        if (f.categories.empty()) continue;
        // Disclosed: each of its categories is covered by a pattern that matches its ends,
        // channel and purpose. What is left is what the flow carries that no statement tells.
        std::erase_if(f.categories, [&](const std::string& k) {
          return std::any_of(disclosed.begin(), disclosed.end(), [&](const flow_rule* r) {
            flow_rule ends = *r;
            ends.category.clear();
            return ends.matches(f) && evidence::covers(r->category, k);
          });
        });
        if (f.categories.empty()) continue;
        std::string key = f.from + "|" + f.to + "|" + f.channel + "|" + f.purpose;
        for (const auto& cat : f.categories) key += "|" + cat;
        auto [pos, fresh] = index.emplace(key, out.undisclosed.size());
        if (fresh) {
          undisclosed_flow u;
          u.as_of = d;
          u.from = f.from;
          u.to = f.to;
          u.channel = f.channel;
          u.purpose = f.purpose;
          u.categories = f.categories;
          u.scenario = file_name(s.file);
          u.leaf = i;
          u.evidence = it->second.sealed.file;
          out.undisclosed.push_back(std::move(u));
        }
        ++out.undisclosed[pos->second].count;
      }
    }
  }
  out.strict = o.strict;
  for (const auto& [key, rec] : runs)
    for (auto& w : declared_against_observed(rec.result)) {
      w.profile = key.second;
      w.scenario = file_name(key.first);
      w.evidence = rec.sealed.file;
      out.wire.push_back(std::move(w));
    }
  score_checks(c, scenarios, runs, o.profiles, out);
  find_vacuous(c, runs, out);
  out.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace linksim::harness
