// The claims catalogue (scenarios/claims.yaml, docs/claims.md) and the audit that turns scenario
// runs into verdicts: every behavioural statement of the seeds, quoted verbatim, with the check
// that decides it, the scenarios that exercise it, and the verdict each behaviour profile
// should give.
#pragma once

#include "linksim/common/crypto.hpp"
#include "linksim/harness/runner.hpp"
#include "linksim/harness/scenario.hpp"
#include "linksim/threads_sim/behaviour.hpp"

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace linksim::harness {

enum class verdict { holds, violated, indeterminate };
std::string_view to_string(verdict v);
std::optional<verdict> parse_verdict(std::string_view s);

// A fides-style rule over observed flows (what the network carried, evidence/wire.hpp).
// Categories and purposes match by dotted prefix ("user.account" covers
// "user.account.username"); empty fields match anything. A flow matches when one of its
// categories is covered by `category` and not by `except`. A `forbid` rule is violated by any
// matching flow; a `require` rule by a completed run without one.
struct flow_rule {
  enum class kind { forbid, require };
  kind type = kind::forbid;
  location where;
  std::string from, to, channel, category, except, purpose;
  std::string describe() const;  // "forbid from=threads to=idp category=user.account.username"
  bool matches(const evidence::flow& f) const;
};

struct claim {
  std::string id;
  location where;
  std::string seed;     // file name in the seeds folder
  std::string quote;    // verbatim from the seed
  std::string meaning;  // what it means operationally
  // The check: the scenario steps tagged with this id, these flow rules and these invariants,
  // over every scenario the claim names or that tags it.
  std::vector<flow_rule> flows;
  std::vector<std::string> invariants;
  std::vector<std::string> scenarios;  // file names, relative to the catalogue's folder
  // The verdict each profile should give; profiles not named should give `holds`.
  std::map<std::string, verdict> expect;  // "otherwise": every profile not named
  // Where a channel of account changes gives another verdict (`expect_over: {ssf-poll:
  // {profile: verdict}}`): a fault that shows only when changes arrive out of order cannot show
  // over a channel that keeps them in order.
  std::map<std::string, std::map<std::string, verdict>> expect_over;
  std::vector<std::string> contradicts;  // the claims this one contradicts (all kept, mutual)
  // Not checked, with the reason: legal analysis or marketing (out of scope), or behaviour the
  // model does not have yet (not modelled: its verdict is indeterminate everywhere).
  std::string out_of_scope;
  std::string not_modelled;
  // For an entry that is out of scope or not modelled: the verbatim end of a passage that
  // starts at the quote (navigation, another platform's clause, a list of laws), so that one
  // reason covers every sentence of it.
  std::string through;
  // Policy versions (ISO dates): the claim is in force from `version` (the date of the document
  // version it is quoted from) until `until` (the date a later version removed or changed it),
  // exclusive. Empty: from always, until now.
  std::string version, until;
  bool in_force(std::string_view date) const {
    return (version.empty() || version <= date) && (until.empty() || date < until);
  }
  // The flows this statement discloses (matched like flow rules): the audit lists every
  // observed flow that no claim in force on a date discloses.
  std::vector<flow_rule> discloses;
  bool checked() const { return out_of_scope.empty() && not_modelled.empty(); }
  verdict expected_under(const std::string& profile,
                         threads_sim::channel changes = threads_sim::channel::webhook) const;
};

struct catalogue {
  std::string file;
  std::vector<claim> claims;
  const claim* find(std::string_view id) const;
};

// Parses the catalogue; throws scenario_error (file:line:column) for anything malformed, an id
// used twice, a contradiction that is not mutual or an unknown profile.
catalogue load_catalogue(const std::filesystem::path& file);
catalogue parse_catalogue(const std::string& text, const std::string& file_name);

// Problems that make the catalogue unusable with these seeds and scenarios: a quote not found
// verbatim in its seed, a seed that does not exist, a scenario it names that is not in
// `scenarios`, a scenario step tagged with an unknown id, a checked claim with nothing to check.
std::vector<std::string> catalogue_problems(const catalogue& c,
                                            const std::filesystem::path& seeds_dir,
                                            const std::vector<scenario>& scenarios);

// A sentence of a seed, as the completeness check splits it: each line (a table row is one
// sentence), cut after '.', '!' or '?' where the next word starts with a capital, a quote, a
// parenthesis or a bullet; leading bullets trimmed. A short line without closing punctuation
// (fewer than thirteen words: a heading, a button, a menu) is not a statement.
struct seed_sentence {
  std::string seed;  // file name
  int line = 0;      // 1-based
  std::size_t offset = 0;
  std::string text;
};
std::vector<seed_sentence> seed_sentences(const std::string& seed, const std::string& text);

// The sentences of every seed (*.txt in `seeds_dir`) that no entry of the catalogue covers: an
// entry covers the sentences its quote overlaps, and with `through`, every sentence of the
// passage from its quote to the end of `through`.
std::vector<seed_sentence> uncatalogued_sentences(const catalogue& c,
                                                  const std::filesystem::path& seeds_dir);

// Where an audited run's evidence can be verified offline.
struct sealed_log {
  std::string file;        // the evidence log (SQLite), relative to the report folder
  std::uint64_t size = 0;  // entries covered by the checkpoint
  std::string root;        // hex SHA-256
  std::string checkpoint;  // the signed note
  // The entries the checkpoint covers, as logged, and their leaf hashes (RFC 9162 section
  // 2.1.1): a report proves the ones a verdict cites against the checkpoint, so that each can be
  // checked with the key alone. Shared by every verdict that cites the run, not copied.
  std::shared_ptr<const std::vector<std::string>> entries;
  std::shared_ptr<const std::vector<digest>> leaves;
};

// An evidence entry a finding cites, as people read it.
struct cited_flow {
  std::uint64_t leaf = 0;
  std::string at;                 // "+5m"
  std::string from, to, subject;  // subject: the scenario's account name
  std::string channel, purpose, note;
  std::vector<std::string> categories;
};

// One piece of a verdict: a tagged step, a flow rule or an invariant, in one scenario run.
struct finding {
  std::string scenario;  // file name
  std::string kind;      // "step", "flows", "invariant"
  std::string where;     // file:line:column of the step or rule
  std::string what;
  verdict result = verdict::indeterminate;
  std::string expected, actual;  // for a violation
  std::vector<std::uint64_t> leaves;
  std::string at;                 // simulated time of the check, "+5m"
  std::vector<cited_flow> flows;  // the entries `leaves` name
};

struct claim_verdict {
  std::string claim;
  std::string profile;
  verdict result = verdict::indeterminate;
  verdict expected = verdict::holds;
  bool matches() const { return result == expected; }
  std::string reason;  // one line: why this verdict
  std::vector<finding> findings;
  std::map<std::string, sealed_log> evidence;  // scenario file name -> its sealed log
};

struct audit_options {
  std::vector<std::string> profiles;  // in order; `documented` first where present
  // Only the claims in force on this date (YYYY-MM-DD) are judged, and undisclosed flows are
  // listed for this date alone; empty: every claim, undisclosed flows for every policy date.
  std::string as_of;
  // With as_of: the claims that came into or went out of force between this date and as_of.
  std::string since;
  // Runs at once, each a world of its own on its own thread; the result is the same whatever
  // the number (the runs are kept in a fixed order and judged after the last one).
  std::size_t jobs = 1;
  // Undisclosed flows and declared-against-observed mismatches fail the audit too.
  bool strict = false;
  // How the provider's account changes reach the dependent service in every run; a scenario
  // told over other channels only (scenario::changes) is not run.
  threads_sim::channel changes = threads_sim::channel::webhook;
};

// Claims coming into and going out of force on a date (or between two, for --since).
struct policy_change {
  std::string date;
  std::string since;  // set for the --since comparison
  std::vector<std::string> added, removed;
};

// A kind of flow observed under `documented` between parties (services and partners) that
// carries a category of personal data no claim in force on `as_of` discloses.
struct undisclosed_flow {
  std::string as_of;
  std::string from, to, channel, purpose;
  std::vector<std::string> categories;  // the ones no statement in force discloses
  std::size_t count = 0;                // how many flows of this kind, over every scenario
  std::string scenario;                 // the first one it was seen in
  std::uint64_t leaf = 0;               // and its leaf there
  std::string evidence;                 // the sealed log of that run
};

// Declared against observed, in one run: a kind of personal data the network carried between
// two parties that no flow the sender declared to that receiver covers ("undeclared"), or one a
// service declared that nothing between those parties carried ("unobserved"). Only flows
// between the services and partners count: what a person types or is shown, the operator's
// requests and the auditor's reads are the story around them.
struct wire_mismatch {
  std::string profile, scenario;
  std::string kind;  // "undeclared" or "unobserved"
  std::string from, to, channel, category;
  std::size_t count = 0;
  std::uint64_t leaf = 0;  // the first such flow in the run's log
  std::string evidence;    // that run's sealed log
};

// Declared against observed in one run's flows; `profile`, `scenario` and `evidence` are left
// for the caller to fill.
std::vector<wire_mismatch> declared_against_observed(const run_result& r);

// A check and what makes it fail while `documented` holds: the fault profiles, and for a flow
// rule a synthetic trace (the documented run with the flow it requires taken out, or one
// observed flow it forbids put in) judged as the audit judges a run. A check nothing
// falsifies is one the audit cannot show to work.
struct check_score {
  std::string claim;
  std::string where;  // file:line:column of the step or rule
  std::string what;
  std::vector<std::string> falsified_by;
  std::string synthetic;  // the trace that falsifies a flow rule; empty when none does
  bool falsified() const { return !falsified_by.empty() || !synthetic.empty(); }
};

// A flow rule that cannot fail in this model: no run of any profile ever carries a flow
// between its parties on its channel, whatever the categories, or no trace can break it (an
// `except` that covers what it forbids).
struct vacuous_rule {
  std::string claim, where, what;
  std::string why;  // "no run carries any flow between these parties on this channel", ...
};

struct mutation_score {
  std::vector<std::string>
      caught;  // fault profiles with a claim violated that holds under documented
  std::vector<std::string> missed;
  std::vector<std::string> elsewhere;  // not run: they change nothing over the audit's channel
  double percent() const;
};

struct audit_result {
  std::vector<std::string> profiles;
  std::string as_of;                     // as the options said
  std::vector<std::string> dates;        // the dates undisclosed flows were listed for
  std::vector<policy_change> timeline;   // every dated change in the catalogue, oldest first
  std::optional<policy_change> changes;  // between --since and --as-of
  std::vector<undisclosed_flow> undisclosed;
  std::vector<claim_verdict> verdicts;  // claims in catalogue order, each across `profiles`
  std::vector<std::string> mismatches;  // "claim under profile: expected X, got Y"
  mutation_score mutations;             // over the fault.* profiles audited
  std::vector<wire_mismatch> wire;      // declared against observed, every run
  std::vector<vacuous_rule> vacuous;    // rules that cannot fail: the audit fails
  std::vector<check_score> checks;      // each check of a checked claim, and what falsifies it
  bool strict = false;                  // as the options said
  std::size_t runs = 0;
  double wall_ms = 0;
  bool passed() const;
  const claim_verdict* find(std::string_view claim, std::string_view profile) const;
};

// Runs every scenario the checked claims need under every profile (audit mode), seals each
// run's evidence with `seal` (which writes it where an auditor can verify it), and gives every
// claim its verdict per profile. With options.jobs > 1, `seal` is called from several threads at
// once.
// An exception from a run or a seal stops the audit: the first, in run order, is rethrown.
using sealer =
    std::function<sealed_log(const scenario&, const std::string& profile, const run_result&)>;
audit_result audit(const catalogue& c, const std::vector<scenario>& scenarios,
                   const audit_options& options, const sealer& seal);

}  // namespace linksim::harness
