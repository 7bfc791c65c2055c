// The claims catalogue: reading claims.yaml, and checking it against the seeds and scenarios.
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
                             {"except", except},
                             {"purpose", purpose}})
    if (!v.empty()) s += std::string(" ") + k + "=" + v;
  return s;
}

bool flow_rule::matches(const evidence::flow& f) const {
  // Judged on what the network carried; a service's own report of a flow is not evidence
  // that it happened (the audit compares the two separately).
  if (!f.observed || evidence::is_state_read(f)) return false;
  if (!from.empty() && f.from != from) return false;
  if (!to.empty() && f.to != to) return false;
  if (!channel.empty() && f.channel != channel) return false;
  if (!evidence::covers(purpose, f.purpose)) return false;
  return (category.empty() && except.empty()) ||
         std::any_of(f.categories.begin(), f.categories.end(), [&](const std::string& c) {
           return evidence::covers(category, c) && (except.empty() || !evidence::covers(except, c));
         });
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
    if (!m.IsMap())
      fail(m, "a flow pattern is a mapping {from, to, channel, category, except, purpose}");
    check_keys(m, {"from", "to", "channel", "category", "except", "purpose"});
    flow_rule r;
    r.type = flow_rule::kind::require;
    r.where = where(m);
    if (auto x = m["from"]) r.from = scalar(x);
    if (auto x = m["to"]) r.to = scalar(x);
    if (auto x = m["channel"]) r.channel = scalar(x);
    if (auto x = m["category"]) r.category = scalar(x);
    if (auto x = m["purpose"]) r.purpose = scalar(x);
    if (auto x = m["except"]) r.except = scalar(x);
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

}  // namespace linksim::harness
