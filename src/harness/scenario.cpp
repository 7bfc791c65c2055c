// Reading scenario files with yaml-cpp; every node's mark gives the line of a problem.
#include "linksim/harness/scenario.hpp"

#include "actions.hpp"
#include "linksim/idp/service.hpp"
#include "linksim/threads_sim/behaviour.hpp"
#include "yaml_reader.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace linksim::harness {
namespace {

class parser : detail::yaml_reader, public detail::action_checker {
 public:
  parser(std::string file, const limits& bounds) : yaml_reader(std::move(file), bounds) {}

  scenario parse(const std::string& text) {
    const YAML::Node root = load(text);
    if (!root.IsMap()) fail(root, "a scenario is a mapping with name, steps and more");
    scenario s;
    s.file = file_;
    check_keys(root, {"name", "description", "profile", "seed", "reconcile_interval",
                      "webhook_batch", "pending_sign_ins", "changes", "faults", "steps"});
    s.name = required_scalar(root, "name");
    if (s.name.empty()) fail(root["name"], "name is empty");
    if (auto d = root["description"]) s.description = scalar(d);
    if (auto p = root["profile"]) {
      s.profile = scalar(p);
      if (!threads_sim::find_behaviour(s.profile))
        fail(p, "unknown behaviour profile '" + s.profile + "'");
    }
    if (auto n = root["seed"]) s.seed = unsigned_int(n);
    if (auto r = root["reconcile_interval"]) {
      s.reconcile_interval = duration(r);
      if (s.reconcile_interval.count() == 0) fail(r, "reconcile_interval must be positive");
    }
    if (auto b = root["webhook_batch"]) {
      // `webhook_batch: 100`, or `webhook_batch: {size: 100, window: 1s}`.
      const YAML::Node size = b.IsMap() ? b["size"] : b;
      if (b.IsMap()) {
        check_keys(b, {"size", "window"});
        if (!size) fail(b, "webhook_batch needs a size");
        if (auto w = b["window"]) s.webhook_batch_window = duration(w);
      }
      const auto n = unsigned_int(size);
      if (n < 1 || n > idp::max_webhook_batch)
        fail(size, "webhook_batch size must be from 1 to 1000");
      s.webhook_batch = static_cast<std::size_t>(n);
    }
    if (auto n = root["pending_sign_ins"]) {
      const auto v = unsigned_int(n);
      if (v < 1 || v > idp::default_pending_sign_ins)
        fail(n,
             "pending_sign_ins must be from 1 to " + std::to_string(idp::default_pending_sign_ins));
      s.pending_sign_ins = static_cast<std::size_t>(v);
    }
    // `changes: [webhook]`: the channels the story holds over.
    if (auto c = root["changes"]) s.changes = channel_list(c, "changes");
    told_over_ = s.changes;
    if (auto f = root["faults"]) {
      if (!f.IsSequence()) fail(f, "faults is a list");
      for (const auto& item : f) faults_.push_back(fault(item));
    }
    const auto steps = root["steps"];
    if (!steps) fail(root, "missing key 'steps'");
    if (!steps.IsSequence() || steps.size() == 0) fail(steps, "steps is a non-empty list");
    if (expanded_steps(steps) > limits_.max_steps) fail(steps, too_many_steps());
    for (const auto& st : steps) parse_step(st, s.steps);
    check_simulated_time(s);
    // Faults that name an account must name one the steps create.
    for (const auto& f : faults_)
      if (!f.account.empty() && !created_.contains(f.account))
        throw scenario_error(f.where,
                             "fault names account '" + f.account + "', which no step creates");
    s.faults = std::move(faults_);
    return s;
  }

 private:
  // What the actions' checks may ask (detail::action_checker).
  [[noreturn]] void fail(const YAML::Node& n, const std::string& problem) const override {
    detail::yaml_reader::fail(n, problem);
  }
  std::set<std::string>& created() override { return created_; }
  std::set<std::string>& posts() override { return posts_; }
  std::set<std::string>& kept() override { return kept_; }

  // A scalar with ${var} replaced from the for_each row being expanded.
  std::string scalar(const YAML::Node& n) const {
    if (!n.IsScalar()) fail(n, "expected a single value here");
    const std::string& raw = n.Scalar();
    std::string out;
    for (std::size_t i = 0; i < raw.size();) {
      if (raw.compare(i, 2, "${") == 0) {
        const auto close = raw.find('}', i);
        if (close == std::string::npos) fail(n, "unclosed ${ in '" + raw + "'");
        const std::string var = raw.substr(i + 2, close - i - 2);
        const auto it = vars_.find(var);
        if (it == vars_.end()) fail(n, "'${" + var + "}' is not a column of an enclosing for_each");
        out += it->second;
        i = close + 1;
      } else {
        out += raw[i++];
      }
    }
    return out;
  }
  std::string required_scalar(const YAML::Node& map, const char* key) const {
    const auto n = map[key];
    if (!n) fail(map, std::string("missing key '") + key + "'");
    return scalar(n);
  }
  std::int64_t integer(const YAML::Node& n, std::int64_t lo, std::int64_t hi) const override {
    const std::string s = scalar(n);
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi)
      fail(n, "expected a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) +
                  ", got '" + s + "'");
    return v;
  }
  std::uint64_t unsigned_int(const YAML::Node& n) const {
    const std::string s = scalar(n);
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty())
      fail(n, "expected a non-negative whole number, got '" + s + "'");
    return v;
  }
  bool boolean(const YAML::Node& n) const override {
    const std::string s = scalar(n);
    if (s == "true" || s == "yes") return true;
    if (s == "false" || s == "no") return false;
    fail(n, "expected true or false, got '" + s + "'");
  }
  milliseconds duration(const YAML::Node& n) const override {
    const std::string s = scalar(n);
    auto d = parse_duration(s);
    if (!d) fail(n, "expected a duration such as 250ms, 30s, 5m, 2h or 1d, got '" + s + "'");
    return *d;
  }
  double probability(const YAML::Node& n) const {
    const std::string s = scalar(n);
    try {
      std::size_t used = 0;
      const double p = std::stod(s, &used);
      if (used == s.size() && p >= 0 && p <= 1) return p;
    } catch (const std::exception&) {
    }
    fail(n, "expected a probability from 0 to 1, got '" + s + "'");
  }
  std::string account_ref(const YAML::Node& n) const {
    std::string a = scalar(n);
    if (!created_.contains(a))
      fail(n, "no account '" + a +
                  "' has been created by an earlier step "
                  "(accounts are named by the username they were created with)");
    return a;
  }
  std::string system(const YAML::Node& n) const override {
    std::string s = scalar(n);
    if (s != "idp" && s != "threads" && s != "ads")
      fail(n, "expected idp, threads or ads, got '" + s + "'");
    return s;
  }

  // A list of webhook, ssf-push and ssf-poll, each once; for `over`, each one the scenario is
  // told over (else the step or fault would never be used).
  channels channel_list(const YAML::Node& c, const std::string& key) const {
    if (!c.IsSequence() || c.size() == 0 || c.size() > 3)
      fail(c, key + " is a list of webhook, ssf-push and ssf-poll");
    channels out;
    for (const auto& item : c) {
      const auto name = scalar(item);
      const auto ch = threads_sim::channel_from(name);
      if (!ch) fail(item, "unknown channel '" + name + "' (known: webhook, ssf-push, ssf-poll)");
      if (runs_over(out, *ch) && !out.empty()) fail(item, "channel '" + name + "' is listed twice");
      if (key == "over" && !runs_over(told_over_, *ch))
        fail(item, "the scenario is not told over '" + name + "' (see its 'changes')");
      out.push_back(*ch);
    }
    return out;
  }

  fault_spec fault(const YAML::Node& n) const {
    if (!n.IsMap()) fail(n, "a fault is a mapping with kind and what it matches");
    check_keys(n, {"kind", "from", "to", "path", "field", "account", "probability", "nth", "delay",
                   "jitter", "body", "status", "header", "over"});
    fault_spec f;
    f.where = where(n);
    if (auto x = n["over"]) f.over = channel_list(x, "over");
    const auto kind_node = n["kind"];
    if (!kind_node)
      fail(n, "missing key 'kind' (drop, duplicate, delay, error_5xx, timeout, corrupt)");
    const auto k = sim::parse_fault_kind(scalar(kind_node));
    if (!k)
      fail(kind_node, "unknown fault kind '" + scalar(kind_node) +
                          "' (known: drop, duplicate, delay, error_5xx, timeout, corrupt)");
    f.rule.kind = *k;
    if (auto x = n["from"]) f.rule.match.from = system(x);
    if (auto x = n["to"]) f.rule.match.to = system(x);
    if (auto x = n["path"]) f.rule.match.path_prefix = scalar(x);
    if (auto x = n["field"]) f.rule.match.field = scalar(x);
    if (auto x = n["account"]) f.account = scalar(x);  // checked once every step is read
    if (auto x = n["probability"]) f.rule.probability = probability(x);
    if (auto x = n["nth"]) f.rule.nth = static_cast<std::uint64_t>(integer(x, 1, 1'000'000));
    if (auto x = n["delay"]) f.rule.delay = duration(x);
    if (auto x = n["jitter"]) f.rule.jitter = duration(x);
    if (f.rule.kind == sim::fault_kind::delay && f.rule.delay.count() == 0)
      fail(n, "a delay fault needs 'delay' (how late the message arrives)");
    if (auto x = n["header"]) {
      if (f.rule.kind != sim::fault_kind::corrupt)
        fail(x, "'header' belongs to a corrupt fault (a field set on the answer)");
      for (const auto& h : pieces(x, "header")) {
        const auto colon = h.find(':');
        if (colon == std::string::npos || colon == 0 || h.find_first_of(" \t\r\n") < colon)
          fail(x, "a corrupt fault's header is 'Name: value'");
        std::string value = h.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        f.rule.headers.push_back({h.substr(0, colon), std::move(value)});
      }
    }
    if (auto x = n["status"]) {
      if (f.rule.kind != sim::fault_kind::corrupt)
        fail(x, "'status' belongs to a corrupt fault (the answer's status instead of its own)");
      f.rule.status = static_cast<int>(integer(x, 100, 599));
    }
    if (auto x = n["body"]) {
      if (f.rule.kind != sim::fault_kind::corrupt)
        fail(x, "'body' belongs to a corrupt fault (the answer's body instead of its own)");
      f.rule.body = scalar(x);
      constexpr std::size_t longest_body = std::size_t{64} * 1024;
      if (f.rule.body->size() > longest_body) fail(x, "a corrupt fault's body is at most 64 KiB");
      // {id:ACCOUNT} becomes the account's id when the fault is armed: the account must exist.
      const std::string& t = *f.rule.body;
      for (auto open = t.find("{id:"); open != std::string::npos; open = t.find("{id:", open + 1)) {
        const auto close = t.find('}', open);
        const std::string name =
            t.substr(open + 4, close == std::string::npos ? 0 : close - open - 4);
        if (!created_.contains(name))
          fail(x,
               "{id:" + name + "}: no account '" + name +
                   "' is created before this fault (a fault step names accounts of earlier steps)");
      }
    }
    return f;
  }

  void parse_step(const YAML::Node& n, std::vector<step>& out) {
    if (!n.IsMap()) fail(n, "a step is a mapping such as 'rename: {account: alice, to: al}'");
    if (n["for_each"]) return parse_for_each(n, out);
    // yaml-cpp's Node::operator= writes through to the node assigned to: keep copies in
    // optionals, which construct instead.
    std::optional<YAML::Node> action_key, action_node, expect_holder, claims_holder, over_holder;
    for (const auto& kv : n) {
      const std::string k = kv.first.Scalar();
      if (k == "expect") {
        expect_holder.emplace(kv.second);
        continue;
      }
      if (k == "over") {
        over_holder.emplace(kv.second);
        continue;
      }
      if (k == "claims") {
        claims_holder.emplace(kv.second);
        continue;
      }
      if (action_key) fail(kv.first, "a step has one action; '" + k + "' is a second one");
      action_key.emplace(kv.first);
      action_node.emplace(kv.second);
    }
    const YAML::Node action_value = action_node ? *action_node : YAML::Node();
    step s;
    s.where = where(n);
    if (claims_holder) s.claims = claim_ids(*claims_holder);
    if (over_holder) s.over = channel_list(*over_holder, "over");
    if (!action_key) {
      if (!expect_holder)
        fail(n, claims_holder ? "'claims' needs an action or an expect" : "empty step");
      s.kind = action::expect;
      parse_state_expectations(*expect_holder, s);
      out.push_back(std::move(s));
      return;
    }
    const std::string key = action_key->Scalar();
    bool on_the_world = key == "fault";  // it answers nothing a step could expect
    if (key == "fault") {
      s.kind = action::fault;
      s.fault = fault(action_value);
      if (!s.fault->account.empty()) s.fault->account = account_ref(action_value["account"]);
    } else {
      const auto* spec = detail::find_action(key);
      if (!spec) fail(*action_key, "unknown action '" + key + "'" + known_actions());
      s.kind = spec->kind;
      for (const auto& [k, v] : spec->implied) s.args[std::string(k)] = std::string(v);
      parse_args(*spec, action_value, s);
      on_the_world = spec->on_the_world;
    }
    if (claims_holder && on_the_world)
      fail(*claims_holder, "'" + key + "' checks nothing; tag the expect step after it instead");
    if (expect_holder) {
      if (on_the_world)
        fail(*expect_holder, "'" + key + "' has no answer to expect; use an expect step after it");
      parse_http_expectation(*expect_holder, s.http);
    }
    out.push_back(std::move(s));
  }

  // `claims: id` or `claims: [id, ...]`: ids of scenarios/claims.yaml (the audit checks they
  // exist).
  std::vector<std::string> claim_ids(const YAML::Node& n) const {
    std::vector<std::string> ids;
    auto one = [&](const YAML::Node& x) {
      const std::string id = scalar(x);
      bool ok = !id.empty();
      for (char c : id)
        ok =
            ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
      if (!ok) fail(x, "a claim id is letters, digits, '-', '_' and '.': '" + id + "'");
      ids.push_back(id);
    };
    if (n.IsSequence()) {
      if (n.size() == 0) fail(n, "'claims' is empty");
      for (const auto& x : n) one(x);
    } else {
      one(n);
    }
    return ids;
  }

  static std::string known_actions() {
    std::string list;
    for (const auto& a : detail::actions()) list += (list.empty() ? "" : ", ") + std::string(a.key);
    return " (known: " + list + ", fault, expect, for_each)";
  }

  void parse_args(const detail::action_def& spec, const YAML::Node& v, step& s) {
    if (v.IsScalar()) {
      if (spec.short_arg.empty())
        fail(v, "'" + std::string(spec.key) + "' takes a mapping of " + list(spec.required));
      s.args[std::string(spec.short_arg)] = scalar(v);
    } else if (v.IsMap()) {
      for (const auto& kv : v) {
        const std::string k = kv.first.Scalar();
        bool ok = false;
        for (auto x : spec.required) ok = ok || x == k;
        for (auto x : spec.optional) ok = ok || x == k;
        if (!ok)
          fail(kv.first, "'" + std::string(spec.key) + "' has no argument '" + k + "' (it takes " +
                             list(spec.required) +
                             (spec.optional.empty() ? "" : "; optionally " + list(spec.optional)) +
                             ")");
        if (k == "header" && kv.second.IsSequence()) {
          // Several header fields, one per line of the argument.
          std::string joined;
          for (const auto& h : kv.second) {
            const std::string one = scalar(h);
            if (one.find_first_of("\r\n") != std::string::npos)
              fail(h, "a header is 'Name: value' on one line");
            joined += (joined.empty() ? "" : "\n") + one;
          }
          if (joined.empty()) fail(kv.second, "header is 'Name: value' or a list of them");
          s.args[k] = joined;
          continue;
        }
        s.args[k] = scalar(kv.second);
      }
    } else {
      fail(v, "'" + std::string(spec.key) + "' takes " +
                  (spec.short_arg.empty() ? "a mapping" : "a value or a mapping"));
    }
    for (auto r : spec.required)
      if (!s.args.contains(std::string(r)))
        fail(v, "'" + std::string(spec.key) + "' needs '" + std::string(r) + "'");
    // Cross-checks that need the values.
    auto arg_node = [&](std::string_view k) { return v.IsMap() ? v[std::string(k)] : v; };
    for (const char* ref : {"account", "target", "as"}) {
      if (!s.args.contains(ref)) continue;
      if (s.kind == action::create) continue;
      (void)account_ref(arg_node(ref));
    }
    if (s.args.contains("gpc")) s.args["gpc"] = boolean(arg_node("gpc")) ? "true" : "false";
    if (spec.check) spec.check(*this, detail::argument_nodes{v}, s);
  }

  static std::string list(const std::vector<std::string_view>& v) {
    std::string out;
    for (auto x : v) out += (out.empty() ? "" : ", ") + std::string(x);
    return out;
  }

  // A piece of text or a list of them, none empty (an empty piece is in every body).
  std::vector<std::string> pieces(const YAML::Node& n, const char* key) const {
    std::vector<std::string> out;
    if (n.IsSequence()) {
      for (const auto& x : n) out.push_back(scalar(x));
    } else {
      out.push_back(scalar(n));
    }
    if (out.empty()) fail(n, std::string(key) + " is a piece of text or a list of them");
    for (const auto& p : out)
      if (p.empty()) fail(n, std::string(key) + " has an empty piece, which every body holds");
    return out;
  }

  void parse_http_expectation(const YAML::Node& n, expect_http& e) const {
    if (!n.IsMap())
      fail(n,
           "expect is a mapping (status, error, step, contains, lacks, header, lacks_header, "
           "carried)");
    check_keys(
        n, {"status", "error", "step", "contains", "lacks", "header", "lacks_header", "carried"});
    if (auto x = n["status"]) e.status = static_cast<int>(integer(x, 0, 599));
    if (auto x = n["error"]) e.error = scalar(x);
    if (auto x = n["step"]) e.step = scalar(x);
    if (auto x = n["contains"]) e.contains = pieces(x, "contains");
    if (auto x = n["lacks"]) e.lacks = pieces(x, "lacks");
    if (auto x = n["header"]) {
      e.header = scalar(x);
      const auto colon = e.header->find(':');
      if (colon == std::string::npos || colon == 0 || e.header->find_first_of(" \t") < colon)
        fail(x, "header is 'Name: piece of its value'");
    }
    if (auto x = n["lacks_header"]) {
      e.lacks_header = pieces(x, "lacks_header");
      for (const auto& name : e.lacks_header)
        if (name.find_first_of(": \t") != std::string::npos)
          fail(x, "lacks_header names a header ('WWW-Authenticate'), without a value");
    }
    if (auto x = n["carried"])
      each(x, [&](const YAML::Node& c) { e.carried.push_back(carried(c)); });
  }

  // `count`, `min` and `max` (at least one), each from 0 to `most`.
  template <typename E>
  void how_many(const YAML::Node& n, E& e, std::int64_t most) const {
    if (auto x = n["count"]) e.count = static_cast<int>(integer(x, 0, most));
    if (auto x = n["min"]) e.min = static_cast<int>(integer(x, 0, most));
    if (auto x = n["max"]) e.max = static_cast<int>(integer(x, 0, most));
    if (!e.count && !e.min && !e.max) fail(n, "say how many: count, min or max");
  }

  expect_carried carried(const YAML::Node& n) const {
    if (!n.IsMap()) fail(n, "a carried expectation is a mapping (from, to, method, path, count)");
    check_keys(n, {"from", "to", "method", "path", "count", "min", "max"});
    expect_carried e;
    e.where = where(n);
    if (auto x = n["from"]) e.from = scalar(x);
    if (auto x = n["to"]) e.to = scalar(x);
    if (auto x = n["method"]) e.method = scalar(x);
    if (auto x = n["path"]) e.path = scalar(x);
    if (!e.path.empty() && e.path.front() != '/') fail(n["path"], "path starts with '/'");
    how_many(n, e, 100'000);
    return e;
  }

  template <typename F>
  void each(const YAML::Node& n, F f) const {
    if (n.IsSequence()) {
      for (const auto& item : n) f(item);
    } else {
      f(n);
    }
  }

  void parse_state_expectations(const YAML::Node& n, step& s) const {
    if (!n.IsMap()) fail(n, "expect is a mapping with profile, account or flows");
    check_keys(n, {"profile", "account", "flows", "stored"});
    if (auto p = n["profile"])
      each(p, [&](const YAML::Node& x) { s.profiles.push_back(profile(x)); });
    if (auto a = n["account"])
      each(a, [&](const YAML::Node& x) { s.accounts.push_back(account(x)); });
    if (auto f = n["flows"]) each(f, [&](const YAML::Node& x) { s.flows.push_back(flows(x)); });
    if (auto f = n["stored"]) each(f, [&](const YAML::Node& x) { s.stored.push_back(stored(x)); });
  }

  expect_profile profile(const YAML::Node& n) const {
    if (!n.IsMap()) fail(n, "a profile expectation is a mapping with 'account'");
    check_keys(n, {"account", "profiles", "username", "name", "bio", "mirrors", "closed",
                   "public_status", "posts", "followers", "needs_login"});
    expect_profile e;
    e.where = where(n);
    if (!n["account"]) fail(n, "missing key 'account'");
    e.account = account_ref(n["account"]);
    if (auto x = n["profiles"]) e.profiles = static_cast<int>(integer(x, 0, 1000));
    if (auto x = n["username"]) e.username = scalar(x);
    if (auto x = n["name"]) e.name = scalar(x);
    if (auto x = n["bio"]) e.bio = scalar(x);
    if (auto x = n["mirrors"]) e.mirrors = boolean(x);
    if (auto x = n["closed"]) e.closed = boolean(x);
    if (auto x = n["needs_login"]) e.needs_login = boolean(x);
    if (auto x = n["public_status"]) e.public_status = static_cast<int>(integer(x, 100, 599));
    if (auto x = n["posts"]) e.posts = static_cast<int>(integer(x, 0, 1'000'000));
    if (auto x = n["followers"]) e.followers = static_cast<int>(integer(x, 0, 1'000'000));
    return e;
  }

  expect_account account(const YAML::Node& n) const {
    if (!n.IsMap()) fail(n, "an account expectation is a mapping with 'account'");
    check_keys(n, {"account", "username", "name", "bio", "status", "apps"});
    expect_account e;
    e.where = where(n);
    if (!n["account"]) fail(n, "missing key 'account'");
    e.account = account_ref(n["account"]);
    if (auto x = n["username"]) e.username = scalar(x);
    if (auto x = n["name"]) e.name = scalar(x);
    if (auto x = n["bio"]) e.bio = scalar(x);
    if (auto x = n["status"]) e.status = scalar(x);
    if (auto x = n["apps"]) e.apps = static_cast<int>(integer(x, 0, 1000));
    return e;
  }

  expect_stored stored(const YAML::Node& n) const {
    if (!n.IsMap()) fail(n, "a stored expectation is a mapping");
    check_keys(n, {"system", "account", "table", "count", "min", "max"});
    expect_stored e;
    e.where = where(n);
    if (auto x = n["system"]) e.system = scalar(x);
    if (e.system != "idp" && e.system != "threads" && e.system != "ads")
      fail(n["system"] ? n["system"] : n, "say whose storage: system is idp, threads or ads");
    if (auto x = n["account"]) e.account = account_ref(x);
    if (auto x = n["table"]) e.table = scalar(x);
    if (e.account.empty() && e.table.empty()) fail(n, "name an account, a table or both");
    how_many(n, e, 100'000'000);
    return e;
  }

  expect_flows flows(const YAML::Node& n) const {
    if (!n.IsMap()) fail(n, "a flows expectation is a mapping");
    check_keys(n, {"channel", "from", "to", "account", "category", "purpose", "note", "count",
                   "min", "max", "since", "observed"});
    expect_flows e;
    e.where = where(n);
    if (auto x = n["channel"]) e.channel = scalar(x);
    if (auto x = n["from"]) e.from = scalar(x);
    if (auto x = n["to"]) e.to = scalar(x);
    if (auto x = n["account"]) e.account = account_ref(x);
    if (auto x = n["category"]) e.category = scalar(x);
    if (auto x = n["purpose"]) e.purpose = scalar(x);
    if (auto x = n["note"]) e.note = scalar(x);
    if (auto x = n["since"]) e.since = duration(x);
    if (auto x = n["observed"]) e.observed = boolean(x);
    how_many(n, e, 100'000'000);
    return e;
  }

  std::string too_many_steps() const {
    return "the steps expand to more than " + std::to_string(limits_.max_steps) +
           " once every for_each is expanded (raise the limit with --max-steps)";
  }

  // How many steps `list` holds once expanded, counted before anything is expanded; a for_each
  // that alone passes the limit is named. Malformed entries count one: parsing reports them.
  std::uint64_t expanded_steps(const YAML::Node& list) const {
    std::uint64_t total = 0;
    for (const auto& st : list) {
      std::uint64_t n = 1;
      if (st.IsMap() && st["for_each"] && st["for_each"].IsSequence() && st["steps"] &&
          st["steps"].IsSequence()) {
        const std::uint64_t rows = st["for_each"].size();
        const std::uint64_t body = expanded_steps(st["steps"]);
        if (body > limits_.max_steps / std::max<std::uint64_t>(rows, 1)) fail(st, too_many_steps());
        n = rows * body;
      }
      total += n;
      if (total > limits_.max_steps) return total;
    }
    return total;
  }

  // The simulated time the steps cover, and the reconciliation polls it implies, within the
  // limits: an advance of years would run for hours and fill memory with polls.
  void check_simulated_time(const scenario& s) const {
    const std::uint64_t accounts = std::max<std::size_t>(created_.size(), 1);
    milliseconds span{0};
    for (const auto& st : s.steps) {
      if (st.kind != action::advance) continue;
      span += st.duration;
      if (span > limits_.max_simulated_time) {
        throw scenario_error(st.where, "the scenario's simulated time reaches " +
                                           format_duration(span) +
                                           " here, more than the limit of " +
                                           format_duration(limits_.max_simulated_time) +
                                           " (raise it with --max-simulated-days)");
      }
      const auto polls = static_cast<std::uint64_t>(span / s.reconcile_interval) * accounts;
      if (polls > limits_.max_polls) {
        throw scenario_error(
            st.where, "by here the scenario implies " + std::to_string(polls) +
                          " reconciliation polls (" + format_duration(span) + " at one every " +
                          format_duration(s.reconcile_interval) + " for " +
                          std::to_string(accounts) + (accounts == 1 ? " account" : " accounts") +
                          "), more than the limit of " + std::to_string(limits_.max_polls) +
                          " (raise it with --max-polls)");
      }
    }
  }

  // for_each: a table of rows (mappings of column → value); steps: run once per row with
  // ${column} replaced.
  void parse_for_each(const YAML::Node& n, std::vector<step>& out) {
    check_keys(n, {"for_each", "steps"});
    const auto rows = n["for_each"];
    const auto body = n["steps"];
    if (!rows.IsSequence() || rows.size() == 0) fail(rows, "for_each is a non-empty list of rows");
    if (!body || !body.IsSequence() || body.size() == 0)
      fail(n, "for_each needs 'steps', a non-empty list");
    const auto saved = vars_;
    for (const auto& row : rows) {
      if (!row.IsMap()) fail(row, "a for_each row is a mapping of column to value");
      vars_ = saved;
      for (const auto& kv : row) vars_[kv.first.Scalar()] = scalar(kv.second);
      for (const auto& st : body) parse_step(st, out);
    }
    vars_ = saved;
  }

  std::map<std::string, std::string> vars_;
  std::set<std::string> created_;
  std::set<std::string> posts_;
  std::set<std::string> kept_;
  std::vector<fault_spec> faults_;
  channels told_over_;  // the scenario's `changes`, for checking `over`
};

}  // namespace

scenario parse_scenario(const std::string& text, const std::string& file_name,
                        const limits& bounds) {
  return parser(file_name, bounds).parse(text);
}

scenario load_scenario(const std::filesystem::path& file, const limits& bounds) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw scenario_error({file.string(), 0, 0}, "cannot read the file");
  // The size is checked before the file is read whole.
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (!ec && size > bounds.max_file_bytes) {
    throw scenario_error({file.string(), 1, 1}, "the file has " + std::to_string(size) +
                                                    " bytes, more than the limit of " +
                                                    std::to_string(bounds.max_file_bytes) +
                                                    " (raise it with --max-file-bytes)");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_scenario(text.str(), file.string(), bounds);
}

}  // namespace linksim::harness
