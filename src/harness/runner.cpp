// The scenario runner: each step is an HTTP request through the simulated network (the
// provider's admin API, the dependent service's pages and JSON API), then the world runs what
// fell due at that instant. Expectations read state through the same APIs.
#include "linksim/harness/runner.hpp"

#include "actions.hpp"
#include "linksim/harness/protocol.hpp"

#include "linksim/common/crypto.hpp"
#include "linksim/common/json.hpp"
#include "linksim/evidence/wire.hpp"
#include "linksim/idp/service.hpp"
#include "linksim/sim/browser.hpp"
#include "linksim/sim/world.hpp"
#include "linksim/threads_sim/service.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>

namespace linksim::harness {
namespace bj = boost::json;

namespace {

constexpr const char* admin_token = "sim-admin";

// A directory removed when the run ends (for scenarios that restart a service on its files).
// mkdtemp makes a new one every time: a run killed before its cleanup leaves its directory
// behind, and a name built from the process id would hand those files to a later process
// that happens to get the same id.
class scratch_dir {
 public:
  scratch_dir() {
    std::string name = (std::filesystem::temp_directory_path() / "linksim-run-XXXXXX").string();
    if (::mkdtemp(name.data()) == nullptr)
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + name);
    path_ = name;
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A failed expectation: thrown from deep in a step, caught by the runner.
struct mismatch {
  location where;
  std::string what, expected, actual;
};

class runner final : public detail::action_context {
 public:
  runner(const scenario& s, const run_options& o, run_result& out) : s_(s), o_(o), out_(out) {
    const bool files = std::any_of(s.steps.begin(), s.steps.end(),
                                   [](const step& st) { return st.kind == action::restart; });
    if (files) dir_ = std::make_unique<scratch_dir>();
    world_ = std::make_unique<sim::world>(
        sim::world_options{.seed = out.seed,
                           .profile = out.profile,
                           .reconcile_interval = s.reconcile_interval,
                           .dir = dir_ ? dir_->path() : std::filesystem::path(),
                           .in_memory = !files,
                           .webhook_batch = s.webhook_batch,
                           .webhook_batch_window = s.webhook_batch_window,
                           .max_pending_sign_ins = s.pending_sign_ins,
                           .changes = o.changes,
                           .expose = o.expose});
    start_ = world_->sched().now();
    world_->net().observe([this](const sim::message& m) {
      if (o_.keep_messages) out_.messages.push_back(m);
      observe(m);
    });
    for (const auto& f : s.faults)
      if (f.account.empty() && runs_over(f.over, o.changes)) arm(f);
  }

  void run() {
    for (std::size_t i = 0; i < s_.steps.size(); ++i) {
      const step& st = s_.steps[i];
      if (!runs_over(st.over, o_.changes)) {
        // Not part of the story over this channel; the invariants still hold after it.
        if (o_.audit) check_invariants(i, st);
        continue;
      }
      step_reads_.clear();
      carried_.clear();
      keep_carried_ = !st.http.carried.empty();  // kept only for a step that counts them
      protocol_problem_.clear();  // one of a step whose action failed went with that failure
      try {
        perform(st);
        settle();
        check_protocol(st);
        check_state(st);
        if (o_.audit && !st.claims.empty()) record(i, st, nullptr);
      } catch (const mismatch& m) {
        if (!out_.failure)
          out_.failure = step_failure{i,      m.where,    std::string(to_string(st.kind)),
                                      m.what, m.expected, m.actual};
        if (o_.audit && !st.claims.empty()) {
          record(i, st, &m);  // the claim's verdict; the story goes on
        } else {
          if (o_.audit) out_.stopped_at = i;
          break;
        }
      }
      if (o_.audit) check_invariants(i, st);
      ++out_.steps_run;
    }
    finish();
  }

 private:
  // --- The audit's records ---

  // The provider ids of the accounts a step names.
  std::set<std::string> subjects_of(const step& st) const {
    std::set<std::string> out;
    auto add = [&](const std::string& account) {
      if (const auto it = ids_.find(account); it != ids_.end())
        out.insert(std::to_string(it->second));
    };
    for (const char* k : {"account", "target", "as"})
      if (const auto it = st.args.find(k); it != st.args.end()) add(it->second);
    for (const auto& e : st.profiles) add(e.account);
    for (const auto& e : st.accounts) add(e.account);
    for (const auto& e : st.flows) add(e.account);
    for (const auto& e : st.stored) add(e.account);
    return out;
  }

  check_outcome outcome(std::size_t i, const step& st, const std::set<std::string>& subjects) {
    check_outcome c;
    c.step = i;
    c.where = st.where;
    c.claims = st.claims;
    const auto& log = world_->evidence();
    c.evidence_size = log.size();
    c.at = std::chrono::duration_cast<milliseconds>(world_->sched().now() - start_);
    // What the step's checks read, then the newest flows about its accounts: at most 12.
    std::vector<std::uint64_t> flows;
    for (std::size_t k = log.size(); k-- > 0 && step_reads_.size() + flows.size() < 12;) {
      const auto f = log.at(k);
      if (evidence::is_state_read(f)) continue;
      if (subjects.empty() || subjects.contains(f.subject)) flows.push_back(k);
    }
    c.leaves.assign(step_reads_.begin(), step_reads_.end());
    c.leaves.insert(c.leaves.end(), flows.begin(), flows.end());
    std::sort(c.leaves.begin(), c.leaves.end());
    c.leaves.erase(std::unique(c.leaves.begin(), c.leaves.end()), c.leaves.end());
    return c;
  }

  void record(std::size_t i, const step& st, const mismatch* m) {
    check_outcome c = outcome(i, st, subjects_of(st));
    if (m) {
      c.passed = false;
      c.where = m->where;
      c.what = m->what;
      c.expected = m->expected;
      c.actual = m->actual;
    }
    out_.checks.push_back(std::move(c));
  }

  // Invariants hold after every step; each is reported once: its first break, or that it held.
  void check_invariants(std::size_t i, const step& st) {
    for (const auto& [name, claims] : o_.invariants) {
      if (broken_.contains(name)) continue;
      if (name == "one_profile_per_account") {
        for (const auto& [account, id] : ids_) {
          const auto n = world_->threads().profiles_of_account(id).size();
          if (n <= 1) continue;
          check_outcome c = outcome(i, st, {std::to_string(id)});
          c.claims = claims;
          c.invariant = name;
          c.passed = false;
          c.what = "live profiles of " + account;
          c.expected = "at most 1";
          c.actual = std::to_string(n);
          out_.checks.push_back(std::move(c));
          broken_.insert(name);
          break;
        }
      }
    }
    if (i + 1 != s_.steps.size()) return;
    for (const auto& [name, claims] : o_.invariants) {
      if (broken_.contains(name)) continue;
      check_outcome c = outcome(i, st, {});
      c.claims = claims;
      c.invariant = name;
      c.what = name + " after each of " + std::to_string(s_.steps.size()) + " steps";
      out_.checks.push_back(std::move(c));
    }
  }

 private:
  // --- The wire ---

  // Every message between parties, as the network carried it, is evidence of its own: its
  // observed flows follow whatever the services declared while handling it.
  void observe(const sim::message& m) {
    if (keep_carried_)
      carried_.push_back({m.from, m.to, m.request.method, m.request.target, m.fate});
    evidence::wire_message w;
    w.time = m.at;
    w.from = m.from;
    w.to = m.to;
    w.request = &m.request;
    w.response = m.response ? &*m.response : nullptr;
    w.reached = m.fate == "delivered" || m.fate == "duplicated" || m.fate == "timeout" ||
                m.fate == "arrived_late" || m.fate == "corrupted";
    w.answered = m.fate == "delivered" || m.fate == "error_5xx" || m.fate == "corrupted";
    auto& log = world_->evidence();
    for (auto& f : wire_.flows_of(w)) {
      // What the scenario sent in a party's name is not the party's to declare; its answer is.
      if (m.scripted && f.from == m.from)
        out_.scripted.push_back(static_cast<std::size_t>(log.size()));
      log.record(f);
    }
    // The provider's own webhook deliveries carry the Standard Webhooks headers, signed with the
    // dependent service's webhook secret.
    if (m.from == "idp" && !m.scripted && m.request.headers.has("X-Hub-Signature-256")) {
      const auto c = world_->idp().get_client(world_->client_id());
      note_protocol_problem(m, standard_webhooks_problem(m.request, c ? c->webhook_secret : ""));
    }
    // Its pushed Security Event Tokens, as RFC 8935 asks them to be sent.
    if (m.from == "idp" && !m.scripted &&
        m.request.headers.get("Content-Type").starts_with("application/secevent+jwt"))
      note_protocol_problem(m, pushed_set_problem(m.request));
    // Only answers a handler made are the services' to answer for: a fault's are the network's.
    const bool handlers_answer = m.fate == "delivered" || m.fate == "duplicated";
    if (m.response && handlers_answer && protocol_problem_.empty()) {
      std::string p = http_semantics_problem(*m.response);
      if (p.empty()) p = id_token_problem(m.response->body);
      note_protocol_problem(m, p);
    }
  }

  // Keeps the first protocol problem of a step, naming the message it was found in.
  void note_protocol_problem(const sim::message& m, const std::string& problem) {
    if (problem.empty() || !protocol_problem_.empty()) return;
    protocol_problem_ = m.request.method + " " +
                        m.request.target.substr(0, m.request.target.find('?')) + " (" + m.from +
                        " to " + m.to + "): " + problem;
  }

  // An answer of this step that broke its protocol fails the step (protocol.hpp).
  void check_protocol(const step& st) {
    if (protocol_problem_.empty()) return;
    std::string problem = std::exchange(protocol_problem_, {});
    fail(st.where, "protocol", "every answer as its standard defines it", std::move(problem));
  }

  // --- Requests ---

  http::response send(http::transport& t, const std::string& method, const std::string& url,
                      const std::string& body = {}, const std::string& bearer = {},
                      bool gpc = false) override {
    http::request r;
    if (gpc) r.headers.set("Sec-GPC", "1");
    r.method = method;
    r.target = url;
    if (!body.empty()) {
      r.body = body;
      r.headers.set("Content-Type", "application/json");
    }
    if (!bearer.empty()) r.headers.set("Authorization", "Bearer " + bearer);
    return detail::answer_of(t.send(std::move(r)));
  }
  http::response admin(const std::string& system, const std::string& method,
                       const std::string& path, const std::string& body = {}) override {
    return send(world_->net().endpoint("operator"), method, detail::origin(system) + path, body,
                admin_token);
  }
  http::response as_user(const std::string& account, const std::string& method,
                         const std::string& path, const std::string& body = {},
                         bool gpc = false) override {
    return send(world_->browser_transport(), method, detail::origin("threads") + path, body,
                sessions_[account], gpc);
  }

  std::int64_t id_of(const std::string& account) const override { return ids_.at(account); }

  void state_read(const std::string& system, const std::string& account, const std::string& values,
                  const std::string& answer) override {
    auto& log = world_->evidence();
    const auto id = ids_.find(account);
    step_reads_.push_back(log.size());
    log.record({world_->sched().now(),
                std::string(evidence::state_read_from),
                system,
                id == ids_.end() ? std::string() : std::to_string(id->second),
                {},
                "audit",
                std::string(evidence::state_read_channel),
                to_hex(sha256(answer)),
                values});
  }
  // Scenario accounts' passwords: fixed, long enough for the provider's rule.
  static std::string password_of(const std::string& account) { return "password-" + account; }

  // --- Steps ---

  void perform(const step& st) {
    if (st.kind == action::fault) return arm(*st.fault);
    if (st.kind == action::expect) return;
    if (auto r = detail::definition_of(st.kind).perform(*this, st)) {
      check_http(st, *r, {});
      if (st.args.contains("keep")) detail::keep_from(*this, st, *r);
    }
  }

  // --- What the actions ask (detail::action_context) ---

  sim::world& world() override { return *world_; }
  std::string session_of(const std::string& account) override { return sessions_[account]; }
  void created(const std::string& account, std::int64_t id) override {
    ids_[account] = id;
    for (const auto& f : s_.faults)
      if (f.account == account && runs_over(f.over, o_.changes)) arm(f);
  }
  void posted(const std::string& label, std::int64_t id) override { post_ids_[label] = id; }
  void keep(const std::string& name, std::string value) override { kept_[name] = std::move(value); }
  std::optional<std::int64_t> post_id(const std::string& label) const override {
    const auto it = post_ids_.find(label);
    return it == post_ids_.end() ? std::nullopt : std::optional<std::int64_t>(it->second);
  }

  // The kept names of "basic:ID:SECRET", when both were kept.
  std::optional<std::pair<std::string, std::string>> basic_pair(const std::string& ref) const {
    if (!ref.starts_with("basic:")) return std::nullopt;
    const auto colon = ref.find(':', 6);
    if (colon == std::string::npos) return std::nullopt;
    std::pair<std::string, std::string> names{ref.substr(6, colon - 6), ref.substr(colon + 1)};
    if (!kept_.contains(names.first) || !kept_.contains(names.second)) return std::nullopt;
    return names;
  }

  // Replaces {id:ACCOUNT} with the provider id, {post:LABEL} with the post's id, {kept:NAME}
  // with the value a request kept, {basic:ID:SECRET} with the HTTP Basic credentials of two kept
  // values, {client_id} and {client_secret} with the dependent service's client credentials at
  // the provider, {stream_id} with its Shared Signals stream there, {stream_authorization}
  // with the Authorization header the stream's pushes carry (empty while it has none),
  // {ads_key} with the dependent service's key at the ad platform and {verify_token} with the
  // token it expects in the provider's webhook subscription handshake.
  std::string with_ids(const std::string& t) const override {
    std::string out;
    for (std::size_t i = 0; i < t.size();) {
      const auto close = t[i] == '{' ? t.find('}', i) : std::string::npos;
      const std::string ref = close == std::string::npos ? "" : t.substr(i + 1, close - i - 1);
      if (ref.starts_with("id:") && ids_.contains(ref.substr(3))) {
        out += std::to_string(ids_.at(ref.substr(3)));
      } else if (ref.starts_with("post:") && post_ids_.contains(ref.substr(5))) {
        out += std::to_string(post_ids_.at(ref.substr(5)));
      } else if (ref.starts_with("kept:") && kept_.contains(ref.substr(5))) {
        out += kept_.at(ref.substr(5));
      } else if (const auto pair = basic_pair(ref)) {
        // HTTP Basic credentials of two kept values, each form-encoded (RFC 6749 section 2.3.1).
        out += base64_encode(as_bytes(http::percent_encode(kept_.at(pair->first)) + ":" +
                                      http::percent_encode(kept_.at(pair->second))));
      } else if (ref == "client_id") {
        out += world_->client_id();
      } else if (ref == "client_secret") {
        out += world_->client_secret();
      } else if (ref == "ads_key") {
        out += sim::world::threads_ads_token;
      } else if (ref == "verify_token") {
        out += sim::world::webhook_verify_token;
      } else if (ref == "stream_id" || ref == "stream_authorization") {
        if (auto c = world_->idp().get_client(world_->client_id())) {
          const auto streams = world_->idp().ssf_streams(*c);
          if (!streams.empty())
            out += ref == "stream_id" ? streams.front().id : streams.front().authorization_header;
        }
      } else {
        out += t[i++];
        continue;
      }
      i = close + 1;
    }
    return out;
  }

  void arm(const fault_spec& f) {
    sim::fault_rule rule = f.rule;
    if (!f.account.empty()) rule.match.subject = std::to_string(id_of(f.account));
    if (rule.body) rule.body = with_ids(*rule.body);
    world_->net().add_fault(std::move(rule));
  }

  sim::browser& browser(const std::string& name) override {
    auto& slot = browsers_[name];
    if (!slot)
      slot = std::make_unique<sim::browser>(world_->browser_transport(), sim::world::idp_origin,
                                            sim::world::threads_origin);
    return *slot;
  }

  void sign_up(const step& st, const std::string& account, const std::string& browser_name,
               const std::string& entry) override {
    // The person types the username the account has now; the password never changes.
    const std::string username = current_username(account);
    std::unique_ptr<sim::browser> fresh;
    sim::browser* b = nullptr;
    if (browser_name.empty()) {
      fresh = std::make_unique<sim::browser>(world_->browser_transport(), sim::world::idp_origin,
                                             sim::world::threads_origin);
      b = fresh.get();
    } else {
      b = &browser(browser_name);
    }
    const auto r = b->sign_up(username, password_of(account), id_of(account), entry);
    if (!r.session.empty() && (r.status == 303 || r.status == 302)) sessions_[account] = r.session;
    http::response as_http;
    as_http.status = r.status;
    // A linked sign-up's `contains` reads the Link Account page the person confirmed.
    as_http.body = r.error.empty() ? r.link_page : r.error;
    check_http(st, as_http, r.step);
  }

  std::string current_username(const std::string& account) override {
    auto r = admin("idp", "GET", detail::idp_path(*this, account));
    if (r.status != 200) return account;
    auto o = json::parse_object(r.body);
    return o ? detail::str_field(*o, "username") : account;
  }

  // Runs what fell due at this instant: webhooks sent at once, their effects.
  void settle() { world_->run_for(milliseconds{0}); }

  // --- Expectations ---

  [[noreturn]] void fail(const location& where, std::string what, std::string expected,
                         std::string actual) override {
    throw mismatch{where, std::move(what), std::move(expected), std::move(actual)};
  }
  std::string answer(const http::response& r) const override {
    return std::to_string(r.status) + " " + detail::body_excerpt(r.body);
  }
  const std::vector<detail::carried_message>& carried() const override { return carried_; }

  void check_http(const step& st, const http::response& r, const std::string& stopped_at) {
    detail::check_http(*this, st, r, stopped_at);
  }
  void check_state(const step& st) { detail::check_state(*this, st, start_); }

  // --- The end ---

  std::string alias(const std::string& subject) const {
    for (const auto& [name, id] : ids_)
      if (std::to_string(id) == subject) return name;
    return subject;
  }

  void finish() {
    const auto flows = world_->evidence().flows();
    out_.passed = !out_.failure;
    out_.root = to_hex(world_->evidence().root());
    out_.entries = flows.size();
    out_.start = start_;
    out_.simulated = std::chrono::duration_cast<milliseconds>(world_->sched().now() - start_);
    out_.net = world_->net().stats();
    for (const auto& [name, id] : ids_) out_.aliases[std::to_string(id)] = name;
    if (o_.audit) out_.flows = flows;
    for (const auto& l : world_->service_log())
      out_.service_log.push_back(
          "+" + format_duration(std::chrono::duration_cast<milliseconds>(l.at - start_)) + " " +
          l.text);
    if (const auto more = world_->service_lines_dropped())
      out_.service_log.push_back("(" + std::to_string(more) + " more lines not kept)");
    if (!out_.failure) return;  // the flows are only shown around a failure
    for (std::size_t i = 0; i < flows.size(); ++i) {
      const auto& f = flows[i];
      std::ostringstream line;
      line << "#" << i << " +"
           << format_duration(std::chrono::duration_cast<milliseconds>(f.time - start_)) << " "
           << f.from << " -> " << f.to << " " << f.channel << " [" << alias(f.subject) << "] "
           << f.note;
      out_.trace.push_back(line.str());
    }
    const std::size_t from = flows.size() > 8 ? flows.size() - 8 : 0;
    out_.flows_around.assign(out_.trace.begin() + static_cast<std::ptrdiff_t>(from),
                             out_.trace.end());
  }

  const scenario& s_;
  const run_options& o_;
  run_result& out_;
  // Keyed by the run's seed, so that the same run logs the same hashes: the key hides secrets
  // from a reader of the log who does not know the seed.
  evidence::wire_classifier wire_{
      to_hex(sha256("linksim wire secrets " + std::to_string(out_.seed)))};
  std::set<std::string> broken_;  // invariants already reported broken
  std::unique_ptr<scratch_dir> dir_;
  std::unique_ptr<sim::world> world_;
  time_point start_;
  std::map<std::string, std::int64_t> ids_;
  std::vector<std::uint64_t> step_reads_;         // the leaves of the state the current step read
  std::vector<detail::carried_message> carried_;  // what the network carried in the current step
  bool keep_carried_ = false;
  std::map<std::string, std::string> sessions_;
  std::map<std::string, std::unique_ptr<sim::browser>> browsers_;
  std::map<std::string, std::int64_t> post_ids_;
  std::map<std::string, std::string> kept_;
  std::string protocol_problem_;  // the step's first answer that broke its protocol, if any
};

}  // namespace

std::vector<std::string> known_invariants() {
  return {"one_profile_per_account"};
}

run_result run_scenario(const scenario& s, const run_options& o) {
  run_result out;
  out.name = s.name;
  out.file = s.file;
  out.profile = o.profile.value_or(s.profile);
  out.seed = o.seed.value_or(s.seed);
  out.changes = o.changes;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    runner r(s, o, out);
    r.run();
  } catch (const std::exception& e) {
    out.passed = false;
    out.error = e.what();
  }
  out.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

std::string replay_command(const run_result& r, const run_options& o, bool real_http) {
  return "linksim run " + r.file + " --seed " + std::to_string(r.seed) +
         (o.profile ? " --profile " + *o.profile : std::string()) +
         (o.changes != threads_sim::channel::webhook
              ? " --changes " + std::string(threads_sim::to_string(o.changes))
              : std::string()) +
         (real_http ? " --real-http" : "");
}

}  // namespace linksim::harness
