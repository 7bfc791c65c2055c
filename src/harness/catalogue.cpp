// The claims catalogue: reading claims.yaml, and checking it against the seeds and scenarios.
#include "linksim/harness/claims.hpp"

#include "linksim/evidence/wire.hpp"
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

verdict claim::expected_under(const std::string& profile, threads_sim::channel changes) const {
  if (!not_modelled.empty()) return verdict::indeterminate;
  if (auto over = expect_over.find(std::string(threads_sim::to_string(changes)));
      over != expect_over.end())
    if (auto v = over->second.find(profile); v != over->second.end()) return v->second;
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
      for (const auto& id : cl.contradicts) {
        const claim* other = c.find(id);
        const auto node = seen.at(cl.id)["contradicts"];
        if (!other) fail(node, "contradicts unknown claim '" + id + "'");
        if (std::find(other->contradicts.begin(), other->contradicts.end(), cl.id) ==
            other->contradicts.end())
          fail(node, "claim '" + id + "' does not name '" + cl.id + "' back in its 'contradicts'");
      }
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
                   "out_of_scope", "not_modelled", "version", "until", "discloses", "through",
                   "expect_over"});
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
    if (auto x = n["through"]) {
      c.through = scalar(x);
      if (c.out_of_scope.empty() && c.not_modelled.empty())
        fail(x, "a passage (through) is for an entry out of scope or not modelled");
    }
    if (!c.out_of_scope.empty() && !c.not_modelled.empty())
      fail(n, "a claim is out of scope or not modelled, not both");
    if (auto x = n["contradicts"]) {
      if (x.IsSequence())
        for (const auto& id : x) c.contradicts.push_back(scalar(id));
      else
        c.contradicts.push_back(scalar(x));
    }
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
    if (auto over = n["expect_over"]) {
      check_keys_any(over);
      for (const auto& ch : over) {
        const std::string name = ch.first.Scalar();
        if (!threads_sim::channel_from(name))
          fail(ch.first, "unknown channel '" + name + "' (known: webhook, ssf-push, ssf-poll)");
        check_keys_any(ch.second);
        for (const auto& kv : ch.second) {
          const std::string profile = kv.first.Scalar();
          if (!threads_sim::find_behaviour(profile))
            fail(kv.first, "unknown behaviour profile '" + profile + "'");
          const auto v = parse_verdict(scalar(kv.second));
          if (!v) fail(kv.second, "a verdict is holds, violated or indeterminate");
          c.expect_over[name][profile] = *v;
        }
      }
    }
    if (c.checked() && c.meaning.empty()) fail(n, "a checked claim says what it means ('meaning')");
    if (!c.checked() &&
        (!c.flows.empty() || !c.invariants.empty() || !c.expect.empty() || !c.expect_over.empty()))
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

namespace {

bool is_space(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\r';
}

// Where a sentence may end in `line` at `i` (just after its '.', '!' or '?', and any closing
// quote or parenthesis): a space, then a capital, a quote, a parenthesis or a bullet.
bool sentence_ends(std::string_view line, std::size_t& i) {
  while (i < line.size() && (line[i] == '"' || line[i] == ')' || line[i] == '\'')) ++i;
  if (line.compare(i, 3, "\xe2\x80\x9d") == 0) i += 3;  // ”
  std::size_t j = i;
  while (j < line.size() && is_space(line[j])) ++j;
  if (j == i || j >= line.size()) return false;
  const char next = line[j];
  return (next >= 'A' && next <= 'Z') || next == '"' || next == '(' || next == '-' || next == '|' ||
         line.compare(j, 3, "\xe2\x80\x9c") == 0;  // “
}

void add_sentence(std::vector<seed_sentence>& out, const std::string& seed, int line,
                  std::size_t offset, std::string_view s) {
  std::size_t b = 0;
  while (b < s.size() && (is_space(s[b]) || s[b] == '-' || s[b] == '*')) ++b;
  if (s.compare(b, 3, "\xe2\x80\xa2") == 0) b += 3;  // •
  while (b < s.size() && is_space(s[b])) ++b;
  std::size_t e = s.size();
  while (e > b && is_space(s[e - 1])) --e;
  if (b >= e) return;
  const std::string_view text = s.substr(b, e - b);
  const bool row = text.front() == '|';
  if (row && text.find_first_not_of("|-: ") == std::string_view::npos) return;  // |---|
  const char last = text.back();
  const bool closed = last == '.' || last == '!' || last == '?' || last == ':' || last == '"' ||
                      text.ends_with("\xe2\x80\x9d");
  if (std::count_if(text.begin(), text.end(),
                    [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) != 0; }) < 2)
    return;  // a stray quote mark or arrow
  const auto words = 1 + std::count(text.begin(), text.end(), ' ');
  if (!row && !closed && words < 13) return;  // a heading, a button, a menu entry
  out.push_back({seed, line, offset + b, std::string(text)});
}

}  // namespace

std::vector<seed_sentence> seed_sentences(const std::string& seed, const std::string& text) {
  std::vector<seed_sentence> out;
  int n = 0;
  for (std::size_t start = 0; start <= text.size();) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    ++n;
    const std::string_view line(text.data() + start, end - start);
    const bool row = line.find_first_not_of(" \t") != std::string_view::npos &&
                     line[line.find_first_not_of(" \t")] == '|';
    std::size_t from = 0;
    for (std::size_t i = 0; !row && i < line.size(); ++i) {
      if (line[i] != '.' && line[i] != '!' && line[i] != '?') continue;
      std::size_t after = i + 1;
      if (!sentence_ends(line, after)) continue;
      add_sentence(out, seed, n, start + from, line.substr(from, after - from));
      from = after;
      i = after - 1;
    }
    add_sentence(out, seed, n, start + from, line.substr(from));
    start = end + 1;
  }
  return out;
}

std::vector<seed_sentence> uncatalogued_sentences(const catalogue& c,
                                                  const std::filesystem::path& seeds_dir) {
  std::vector<seed_sentence> out;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(seeds_dir))
    if (e.path().extension() == ".txt") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    const std::string seed = path.filename().string();
    // What the entries of this seed cover, as byte ranges of its text.
    std::vector<std::pair<std::size_t, std::size_t>> covered;
    for (const auto& cl : c.claims) {
      if (cl.seed != seed) continue;
      // Every place the quote stands: a page may repeat a sentence (a summary, an FAQ).
      for (auto q = text.find(cl.quote); q != std::string::npos; q = text.find(cl.quote, q + 1)) {
        auto end = q + cl.quote.size();
        if (!cl.through.empty())
          if (const auto t = text.find(cl.through, q); t != std::string::npos)
            end = t + cl.through.size();
        covered.emplace_back(q, end);
      }
    }
    for (auto& s : seed_sentences(seed, text)) {
      const auto b = s.offset, e = s.offset + s.text.size();
      const bool any = std::any_of(covered.begin(), covered.end(),
                                   [&](const auto& r) { return r.first < e && b < r.second; });
      if (!any) out.push_back(std::move(s));
    }
  }
  return out;
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
  const auto observable = evidence::observable_categories();
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
    else if (!cl.through.empty() &&
             seeds[cl.seed].find(cl.through, seeds[cl.seed].find(cl.quote)) == std::string::npos)
      problems.push_back(at + "the passage's end (through) is not in " + cl.seed +
                         " verbatim after the quote: \"" + cl.through.substr(0, 80) + "\"");
    // A category no observed flow can carry makes a rule that can never match: a typo, or a
    // kind of data the classifier does not know (evidence/wire.cpp).
    const auto unobservable = [&](const std::string& k) {
      return !k.empty() &&
             std::none_of(observable.begin(), observable.end(),
                          [&](const std::string& o) { return evidence::covers(k, o); });
    };
    for (const auto* rules : {&cl.flows, &cl.discloses})
      for (const auto& r : *rules)
        for (const auto* k : {&r.category, &r.except})
          if (unobservable(*k))
            problems.push_back(r.where.str() + ": claim " + cl.id + ": category '" + *k +
                               "' is not one an observed flow can carry, so this pattern can "
                               "never match (docs/evidence.md lists them)");
    for (const auto& s : cl.scenarios)
      if (!names.contains(s))
        problems.push_back(at + "names scenario " + s + ", which is not loaded");
    if (cl.checked() && tagged[cl.id] == 0 && (cl.flows.empty() || cl.scenarios.empty()) &&
        (cl.invariants.empty() || cl.scenarios.empty()))
      problems.push_back(at +
                         "nothing checks it: no scenario step is tagged with it and it has "
                         "no flow rule or invariant over a named scenario");
  }
  // Every statement of every seed is in the catalogue, checked or with its reason.
  if (std::filesystem::is_directory(seeds_dir))
    for (const auto& u : uncatalogued_sentences(c, seeds_dir))
      problems.push_back((seeds_dir / u.seed).string() + ":" + std::to_string(u.line) +
                         ": a statement the catalogue leaves out (quote it, or give the reason "
                         "it is out of scope): \"" +
                         u.text.substr(0, 160) + "\"");
  return problems;
}

}  // namespace linksim::harness
