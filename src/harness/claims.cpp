// The claims catalogue and the audit: parse, check against the seeds, run, decide.
#include "linksim/harness/claims.hpp"

#include "linksim/threads_sim/behaviour.hpp"
#include "yaml_reader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <exception>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

namespace linksim::harness {

std::string_view to_string(verdict v) {
  switch (v) {
    case verdict::holds:
      return "holds";
    case verdict::violated:
      return "violated";
    case verdict::indeterminate:
      return "indeterminate";
  }
  return "?";
}

std::optional<verdict> parse_verdict(std::string_view s) {
  for (auto v : {verdict::holds, verdict::violated, verdict::indeterminate})
    if (to_string(v) == s) return v;
  return std::nullopt;
}

std::string flow_rule::describe() const {
  std::string s = type == kind::forbid ? "forbid" : "require";
  for (const auto& [k, v] : {std::pair<const char*, const std::string&>{"from", from},
                             {"to", to},
                             {"channel", channel},
                             {"category", category},
                             {"purpose", purpose}})
    if (!v.empty()) s += std::string(" ") + k + "=" + v;
  return s;
}

bool flow_rule::matches(const evidence::flow& f) const {
  if (!from.empty() && f.from != from) return false;
  if (!to.empty() && f.to != to) return false;
  if (!channel.empty() && f.channel != channel) return false;
  if (!evidence::covers(purpose, f.purpose)) return false;
  return category.empty() ||
         std::any_of(f.categories.begin(), f.categories.end(),
                     [&](const std::string& c) { return evidence::covers(category, c); });
}

verdict claim::expected_under(const std::string& profile) const {
  if (!not_modelled.empty()) return verdict::indeterminate;
  auto it = expect.find(profile);
  if (it == expect.end()) it = expect.find("otherwise");
  return it == expect.end() ? verdict::holds : it->second;
}

const claim* catalogue::find(std::string_view id) const {
  for (const auto& c : claims)
    if (c.id == id) return &c;
  return nullptr;
}

// --- Parsing ---

namespace {

class catalogue_parser : detail::yaml_reader {
 public:
  explicit catalogue_parser(std::string file) : yaml_reader(std::move(file)) {}

  catalogue parse(const std::string& text) {
    const YAML::Node root = load(text);
    if (!root.IsMap()) fail(root, "the catalogue is a mapping with a 'claims' list");
    check_keys(root, {"claims"});
    const auto list = root["claims"];
    if (!list) fail(root, "missing key 'claims'");
    if (!list.IsSequence() || list.size() == 0) fail(list, "claims is a non-empty list");
    catalogue c;
    c.file = file_;
    std::map<std::string, YAML::Node> seen;
    for (const auto& n : list) {
      claim cl = parse_claim(n);
      if (seen.contains(cl.id)) fail(n["id"], "claim id '" + cl.id + "' is used twice");
      seen.emplace(cl.id, n);
      c.claims.push_back(std::move(cl));
    }
    // Contradictions are pairs: each side names the other.
    for (const auto& cl : c.claims) {
      if (cl.contradicts.empty()) continue;
      const claim* other = c.find(cl.contradicts);
      const auto node = seen.at(cl.id)["contradicts"];
      if (!other) fail(node, "contradicts unknown claim '" + cl.contradicts + "'");
      if (other->contradicts != cl.id)
        fail(node, "claim '" + cl.contradicts + "' does not name '" + cl.id +
                       "' back in its 'contradicts'");
    }
    return c;
  }

 private:
  std::string scalar(const YAML::Node& n) const {
    if (!n.IsScalar()) fail(n, "expected a single value here");
    return n.Scalar();
  }
  std::vector<std::string> scalars(const YAML::Node& n) const {
    if (n.IsScalar()) return {n.Scalar()};
    if (!n.IsSequence()) fail(n, "expected a value or a list of values");
    std::vector<std::string> out;
    for (const auto& x : n) out.push_back(scalar(x));
    return out;
  }

  claim parse_claim(const YAML::Node& n) {
    if (!n.IsMap()) fail(n, "a claim is a mapping with id, seed, quote and its check");
    check_keys(n, {"id", "seed", "quote", "meaning", "check", "scenarios", "expect", "contradicts",
                   "out_of_scope", "not_modelled", "version", "until", "discloses"});
    claim c;
    c.where = where(n);
    for (const char* k : {"id", "seed", "quote"})
      if (!n[k]) fail(n, std::string("missing key '") + k + "'");
    c.id = scalar(n["id"]);
    bool ok = !c.id.empty();
    for (char ch : c.id)
      ok = ok &&
           (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.');
    if (!ok) fail(n["id"], "a claim id is letters, digits, '-', '_' and '.': '" + c.id + "'");
    c.seed = scalar(n["seed"]);
    c.quote = scalar(n["quote"]);
    if (c.quote.empty()) fail(n["quote"], "the quote is empty");
    if (auto m = n["meaning"]) c.meaning = scalar(m);
    if (auto x = n["out_of_scope"]) c.out_of_scope = scalar(x);
    if (auto x = n["not_modelled"]) c.not_modelled = scalar(x);
    if (!c.out_of_scope.empty() && !c.not_modelled.empty())
      fail(n, "a claim is out of scope or not modelled, not both");
    if (auto x = n["contradicts"]) c.contradicts = scalar(x);
    if (auto x = n["version"]) c.version = date(x);
    if (auto x = n["until"]) c.until = date(x);
    if (!c.version.empty() && !c.until.empty() && c.until <= c.version)
      fail(n["until"], "until (" + c.until + ") comes after version (" + c.version + ")");
    if (auto d = n["discloses"]) {
      if (!d.IsSequence())
        fail(d, "discloses is a list of flow patterns {from, to, channel, category, purpose}");
      for (const auto& x : d) c.discloses.push_back(pattern(x));
    }
    if (auto s = n["scenarios"]) c.scenarios = scalars(s);
    if (auto chk = n["check"]) {
      check_keys(chk, {"flows", "invariants"});
      if (auto f = chk["flows"]) {
        if (!f.IsSequence()) fail(f, "flows is a list of forbid or require rules");
        for (const auto& r : f) c.flows.push_back(rule(r));
      }
      if (auto inv = chk["invariants"]) {
        const auto known = known_invariants();
        for (const auto& name : scalars(inv)) {
          if (std::find(known.begin(), known.end(), name) == known.end())
            fail(inv, "unknown invariant '" + name + "'");
          c.invariants.push_back(name);
        }
      }
    }
    if (auto e = n["expect"]) {
      check_keys_any(e);
      for (const auto& kv : e) {
        const std::string profile = kv.first.Scalar();
        if (profile != "otherwise" && !threads_sim::find_behaviour(profile))
          fail(kv.first, "unknown behaviour profile '" + profile + "'");
        const auto v = parse_verdict(scalar(kv.second));
        if (!v) fail(kv.second, "a verdict is holds, violated or indeterminate");
        c.expect[profile] = *v;
      }
    }
    if (c.checked() && c.meaning.empty()) fail(n, "a checked claim says what it means ('meaning')");
    if (!c.checked() && (!c.flows.empty() || !c.invariants.empty() || !c.expect.empty()))
      fail(n, "a claim that is not checked has no check and no expected verdicts");
    return c;
  }
  void check_keys_any(const YAML::Node& map) const {
    if (!map.IsMap()) fail(map, "expect maps profile names to verdicts");
  }

  // YYYY-MM-DD, a real date.
  std::string date(const YAML::Node& n) const {
    std::string d = scalar(n);
    bool ok = d.size() == 10 && d[4] == '-' && d[7] == '-';
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
      ok = ok && i < d.size() && std::isdigit(static_cast<unsigned char>(d[i]));
    if (ok) {
      const int m = std::stoi(d.substr(5, 2)), day = std::stoi(d.substr(8, 2));
      ok = m >= 1 && m <= 12 && day >= 1 && day <= 31;
    }
    if (!ok) fail(n, "expected a date as YYYY-MM-DD, got '" + d + "'");
    return d;
  }

  flow_rule pattern(const YAML::Node& m) const {
    if (!m.IsMap()) fail(m, "a flow pattern is a mapping {from, to, channel, category, purpose}");
    check_keys(m, {"from", "to", "channel", "category", "purpose"});
    flow_rule r;
    r.type = flow_rule::kind::require;
    r.where = where(m);
    if (auto x = m["from"]) r.from = scalar(x);
    if (auto x = m["to"]) r.to = scalar(x);
    if (auto x = m["channel"]) r.channel = scalar(x);
    if (auto x = m["category"]) r.category = scalar(x);
    if (auto x = m["purpose"]) r.purpose = scalar(x);
    return r;
  }

  flow_rule rule(const YAML::Node& n) const {
    if (!n.IsMap() || n.size() != 1) fail(n, "a flow rule is 'forbid: {...}' or 'require: {...}'");
    const auto kv = *n.begin();
    const std::string k = kv.first.Scalar();
    flow_rule::kind type = flow_rule::kind::forbid;
    if (k == "forbid") {
      type = flow_rule::kind::forbid;
    } else if (k == "require") {
      type = flow_rule::kind::require;
    } else {
      fail(kv.first, "a flow rule is 'forbid' or 'require', not '" + k + "'");
    }
    flow_rule r = pattern(kv.second);
    r.where = where(n);
    r.type = type;
    return r;
  }
};

std::string file_name(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

}  // namespace

catalogue parse_catalogue(const std::string& text, const std::string& file_name) {
  return catalogue_parser(file_name).parse(text);
}

catalogue load_catalogue(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw scenario_error({file.string(), 0, 0}, "cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_catalogue(text.str(), file.string());
}

std::vector<std::string> catalogue_problems(const catalogue& c,
                                            const std::filesystem::path& seeds_dir,
                                            const std::vector<scenario>& scenarios) {
  std::vector<std::string> problems;
  std::map<std::string, std::string> seeds;
  std::set<std::string> names;
  for (const auto& s : scenarios) names.insert(file_name(s.file));
  std::map<std::string, int> tagged;  // claim id -> tagged steps
  for (const auto& s : scenarios)
    for (const auto& st : s.steps)
      for (const auto& id : st.claims) {
        if (!c.find(id))
          problems.push_back(st.where.str() + ": tagged with unknown claim '" + id + "'");
        ++tagged[id];
      }
  for (const auto& cl : c.claims) {
    const std::string at = cl.where.str() + ": claim " + cl.id + ": ";
    if (!seeds.contains(cl.seed)) {
      std::ifstream in(seeds_dir / cl.seed, std::ios::binary);
      if (!in) {
        problems.push_back(at + "seed " + (seeds_dir / cl.seed).string() + " cannot be read");
        seeds[cl.seed] = {};
        continue;
      }
      std::ostringstream text;
      text << in.rdbuf();
      seeds[cl.seed] = text.str();
    }
    if (seeds[cl.seed].find(cl.quote) == std::string::npos)
      problems.push_back(at + "the quote is not in " + cl.seed + " verbatim: \"" +
                         cl.quote.substr(0, 80) + "\"");
    for (const auto& s : cl.scenarios)
      if (!names.contains(s))
        problems.push_back(at + "names scenario " + s + ", which is not loaded");
    if (cl.checked() && tagged[cl.id] == 0 && (cl.flows.empty() || cl.scenarios.empty()) &&
        (cl.invariants.empty() || cl.scenarios.empty()))
      problems.push_back(at +
                         "nothing checks it: no scenario step is tagged with it and it has "
                         "no flow rule or invariant over a named scenario");
  }
  return problems;
}

// --- The audit ---

double mutation_score::percent() const {
  const auto n = caught.size() + missed.size();
  return n == 0 ? 100.0 : 100.0 * static_cast<double>(caught.size()) / static_cast<double>(n);
}

bool audit_result::passed() const {
  // As of a date, a fault no claim in force catches is a finding about the policy, not a
  // failure of the checks.
  return mismatches.empty() && (mutations.missed.empty() || !as_of.empty());
}

const claim_verdict* audit_result::find(std::string_view claim_id, std::string_view profile) const {
  for (const auto& v : verdicts)
    if (v.claim == claim_id && v.profile == profile) return &v;
  return nullptr;
}

namespace {

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

std::vector<finding> judge_run(const claim& c, const scenario& s, const run_result& r) {
  std::vector<finding> out;
  const std::string name = file_name(s.file);
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
      f.what = it->what;
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

}  // namespace

audit_result audit(const catalogue& c, const std::vector<scenario>& scenarios,
                   const audit_options& o, const sealer& seal) {
  const auto t0 = std::chrono::steady_clock::now();
  audit_result out;
  out.profiles = o.profiles;
  out.as_of = o.as_of;
  const auto in_scope = [&](const claim& cl) { return o.as_of.empty() || cl.in_force(o.as_of); };
  // Undisclosed flows are looked for in every scenario, under `documented` (or the first profile).
  const std::string plain =
      std::find(o.profiles.begin(), o.profiles.end(), "documented") != o.profiles.end()
          ? "documented"
          : (o.profiles.empty() ? "" : o.profiles.front());

  // Which scenarios must run, and which claims each invariant checks.
  std::set<std::string> needed;
  std::map<std::string, std::vector<std::string>> invariants;
  for (const auto& cl : c.claims) {
    if (!cl.checked() || !in_scope(cl)) continue;
    for (const auto* s : scenarios_of(cl, scenarios)) needed.insert(s->file);
    for (const auto& inv : cl.invariants) invariants[inv].push_back(cl.id);
  }

  struct run_record {
    run_result result;
    sealed_log sealed;
  };
  struct job {
    const std::string* profile;
    const scenario* s;
    std::optional<run_record> done;
    std::exception_ptr failed;
  };
  std::vector<job> jobs;
  for (const auto& profile : o.profiles)
    for (const auto& s : scenarios)
      if (needed.contains(s.file) || profile == plain) jobs.push_back({&profile, &s, {}, {}});
  // Each run is its own world: the workers share nothing but the next job's number.
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i; (i = next++) < jobs.size();) {
      auto& j = jobs[i];
      try {
        run_options ro;
        ro.profile = *j.profile;
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
      v.expected = cl.expected_under(profile);
      if (!cl.not_modelled.empty()) {
        v.result = verdict::indeterminate;
        v.reason = "not modelled: " + cl.not_modelled;
        out.verdicts.push_back(std::move(v));
        continue;
      }
      for (const auto* s : scenarios_of(cl, scenarios)) {
        const auto& rec = runs.at({s->file, profile});
        auto found = judge_run(cl, *s, rec.result);
        v.findings.insert(v.findings.end(), found.begin(), found.end());
        v.evidence[file_name(s->file)] = rec.sealed;
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
        const auto& f = flows[i];
        // Disclosed: one pattern matches its ends, channel and purpose and covers every one
        // of its categories.
        const auto discloses = [&](const flow_rule* r) {
          flow_rule ends = *r;
          ends.category.clear();
          return ends.matches(f) &&
                 std::all_of(f.categories.begin(), f.categories.end(), [&](const std::string& k) {
                   return evidence::covers(r->category, k);
                 });
        };
        if (std::any_of(disclosed.begin(), disclosed.end(), discloses)) continue;
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
  out.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace linksim::harness
