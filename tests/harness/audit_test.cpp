// The claims audit: the catalogue against the seeds (every quote verbatim), parse errors, the
// verdict matrix over every profile, the mutation score failing when a fault goes uncaught,
// verdicts from tagged steps, flow rules and invariants, the reports, and explain's diagrams.
#include "linksim/app/audit.hpp"
#include "linksim/app/commands.hpp"
#include "linksim/app/run.hpp"
#include "linksim/evidence/checkpoint.hpp"
#include "linksim/evidence/merkle.hpp"
#include "linksim/harness/claims.hpp"
#include "linksim/harness/explain.hpp"
#include "linksim/harness/report.hpp"
#include "linksim/threads_sim/behaviour.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cctype>
#include <fstream>
#include <sstream>

namespace linksim::harness {
namespace {

namespace fs = std::filesystem;
const fs::path library = fs::path(LINKSIM_SOURCE_DIR) / "scenarios";

std::vector<scenario> load_library() {
  std::vector<scenario> out;
  for (const auto& f : app::scenario_files({library})) out.push_back(load_scenario(f));
  return out;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class temp_dir {
 public:
  temp_dir() {
    static int n = 0;
    path_ = fs::temp_directory_path() /
            ("linksim-audit-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    fs::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

sealed_log no_seal(const scenario&, const std::string&, const run_result& r) {
  return {"-", r.entries, r.root, ""};
}

std::vector<std::string> all_profiles() {
  std::vector<std::string> out;
  for (const auto& b : threads_sim::behaviours()) out.push_back(b.name);
  return out;
}

TEST(Catalogue, EveryQuoteIsInItsSeedVerbatimAndEveryTagIsKnown) {
  const auto cat = load_catalogue(library / "claims.yaml");
  const auto problems = catalogue_problems(cat, library / "seeds", load_library());
  for (const auto& p : problems) ADD_FAILURE() << p;
  // Every seed has claims, and each statement is checked, not modelled, or out of scope with
  // a reason.
  std::set<std::string> seeds;
  for (const auto& c : cat.claims) {
    seeds.insert(c.seed);
    if (!c.checked()) {
      EXPECT_FALSE(c.out_of_scope.empty() && c.not_modelled.empty()) << c.id;
    }
  }
  EXPECT_EQ(seeds.size(), 5u);
}

TEST(Catalogue, AQuoteNotInTheSeedIsAProblem) {
  auto cat = load_catalogue(library / "claims.yaml");
  cat.claims.front().quote += " (paraphrased)";
  const auto problems = catalogue_problems(cat, library / "seeds", load_library());
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].find("not in 000_ef41a58b257a9847.txt verbatim"), std::string::npos)
      << problems[0];
  // And the sentence it stood for is no longer catalogued.
  EXPECT_NE(problems[1].find("leaves out"), std::string::npos) << problems[1];
  EXPECT_NE(problems[1].find("To create a Threads profile"), std::string::npos) << problems[1];
}

// A rule on a category no observed flow carries could never fail: a typo is caught before any
// run.
TEST(Catalogue, ARuleOnACategoryNothingCarriesIsAProblem) {
  auto cat = load_catalogue(library / "claims.yaml");
  auto it = std::find_if(cat.claims.begin(), cat.claims.end(),
                         [](const claim& c) { return !c.flows.empty(); });
  ASSERT_NE(it, cat.claims.end());
  it->flows.front().category = "user.acount.username";
  const auto problems = catalogue_problems(cat, library / "seeds", load_library());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("'user.acount.username' is not one an observed flow can carry"),
            std::string::npos)
      << problems[0];
}

// Every sentence of every seed is catalogued: checked, not modelled or out of scope. Drop any
// one entry and its sentences show up, with the seed's file and line.
TEST(Catalogue, EverySentenceOfEverySeedIsCatalogued) {
  const auto cat = load_catalogue(library / "claims.yaml");
  for (const auto& u : uncatalogued_sentences(cat, library / "seeds"))
    ADD_FAILURE() << u.seed << ":" << u.line << ": " << u.text;
  for (const char* id : {"004.token-includes-profile", "000.page-footer", "003.link-mandatory"}) {
    auto without = cat;
    std::erase_if(without.claims, [&](const claim& c) { return c.id == id; });
    const auto left = uncatalogued_sentences(without, library / "seeds");
    EXPECT_FALSE(left.empty()) << id;
    for (const auto& u : left) EXPECT_EQ(u.seed.substr(0, 3), std::string(id).substr(0, 3));
  }
}

TEST(Catalogue, SeedsSplitIntoSentencesRowsAndNoHeadings) {
  const auto s = seed_sentences(
      "x.txt",
      "Short heading here\n"
      "- First one. Second one (with a note). \"Quoted!\" Last\n"
      "| Item | Value |\n|---|---|\n"
      "A line without a full stop but with thirteen words in it, a statement all the same\n");
  std::vector<std::string> texts;
  for (const auto& x : s) texts.push_back(x.text);
  EXPECT_EQ(texts, (std::vector<std::string>{
                       "First one.", "Second one (with a note).", "\"Quoted!\"", "| Item | Value |",
                       "A line without a full stop but with thirteen words in it, a statement all "
                       "the same"}));
  EXPECT_EQ(s[0].line, 2);
  EXPECT_EQ(s[3].line, 3);
}

TEST(Catalogue, ParseErrorsNameTheLine) {
  struct bad {
    const char* yaml;
    int line;
    const char* problem;
  };
  const std::string ok_claim = "  - {id: a, seed: s.txt, quote: q, meaning: m}\n";
  const std::string twice = "claims:\n" + ok_claim + ok_claim;
  const bad cases[] = {
      {"claim: []\n", 1, "unknown key 'claim'"},
      {"claims:\n  - {id: a, seed: s.txt}\n", 2, "missing key 'quote'"},
      {"claims:\n  - {id: 'a b', seed: s, quote: q, meaning: m}\n", 2, "a claim id is"},
      {twice.c_str(), 3, "used twice"},
      {"claims:\n  - {id: a, seed: s, quote: q, meaning: m, expect: {nope: holds}}\n", 2,
       "unknown behaviour profile 'nope'"},
      {"claims:\n  - {id: a, seed: s, quote: q, meaning: m, expect: {howto: fine}}\n", 2,
       "holds, violated or indeterminate"},
      {"claims:\n  - id: a\n    seed: s\n    quote: q\n    meaning: m\n"
       "    expect_over: {ssf-pull: {howto: holds}}\n",
       6, "unknown channel 'ssf-pull'"},
      {"claims:\n  - id: a\n    seed: s\n    quote: q\n    meaning: m\n"
       "    expect_over:\n      ssf-poll: {nope: holds}\n",
       7, "unknown behaviour profile 'nope'"},
      {"claims:\n  - {id: a, seed: s, quote: q, meaning: m, contradicts: b}\n"
       "  - {id: b, seed: s, quote: q, meaning: m}\n",
       2, "does not name 'a' back"},
      {"claims:\n  - id: a\n    seed: s\n    quote: q\n    meaning: m\n    check:\n      flows:\n"
       "        - allow: {from: idp}\n",
       8, "'forbid' or 'require'"},
      {"claims:\n  - {id: a, seed: s, quote: q, meaning: m, check: {invariants: [sometimes]}}\n", 2,
       "unknown invariant"},
      {"claims:\n  - {id: a, seed: s, quote: q}\n", 2, "says what it means"},
      {"claims:\n  - {id: a, seed: s, quote: q, out_of_scope: r, expect: {howto: violated}}\n", 2,
       "not checked has no check"},
      {"claims:\n  - {id: a, seed: s, quote: q, meaning: m, version: 2026-5-1}\n", 2, "YYYY-MM-DD"},
      {"claims:\n  - {id: a, seed: s, quote: q, meaning: m, version: 2026-13-01}\n", 2,
       "YYYY-MM-DD"},
      {"claims:\n  - {id: a, seed: s, quote: q, meaning: m, version: 2026-06-01, "
       "until: 2026-05-01}\n",
       2, "comes after version"},
      {"claims:\n  - {id: a, seed: s, quote: q, meaning: m, discloses: [{sender: idp}]}\n", 2,
       "unknown key 'sender'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.yaml);
    try {
      (void)parse_catalogue(c.yaml, "claims.yaml");
      ADD_FAILURE() << "parsed without an error";
    } catch (const scenario_error& e) {
      EXPECT_EQ(e.where().line, c.line) << e.what();
      EXPECT_NE(std::string(e.what()).find(c.problem), std::string::npos) << e.what();
    }
  }
}

TEST(FlowRule, CategoriesAndPurposesMatchTheirSubtree) {
  flow_rule r;
  r.from = "threads";
  r.category = "user.account";
  r.purpose = "essential";
  evidence::flow f;
  f.from = "threads";
  f.categories = {"user.name", "user.account.username"};
  f.purpose = "essential.service";
  EXPECT_FALSE(r.matches(f));  // a service's own report is not evidence
  f.observed = true;
  EXPECT_TRUE(r.matches(f));
  r.except = "user.account.username";
  EXPECT_FALSE(r.matches(f));  // user.name is not user.account; the username is excepted
  f.categories.push_back("user.account.settings");
  EXPECT_TRUE(r.matches(f));
  r.except.clear();
  f.categories = {"user.accountant"};  // a sibling whose name starts the same
  EXPECT_FALSE(r.matches(f));
  f.categories = {"user.account"};
  f.purpose = "essentials";
  EXPECT_FALSE(r.matches(f));
  f.purpose = "essential";
  f.from = "idp";
  EXPECT_FALSE(r.matches(f));
}

// The whole matrix: every verdict as the catalogue says it should be, and every fault caught.
TEST(Audit, EveryProfileGivesTheExpectedVerdictsAndEveryFaultIsCaught) {
  const auto cat = load_catalogue(library / "claims.yaml");
  audit_options o{all_profiles()};
  o.jobs = 2;  // as the command runs it on this machine
  const auto result = audit(cat, load_library(), o, no_seal);
  for (const auto& m : result.mismatches) ADD_FAILURE() << m;
  EXPECT_TRUE(result.mutations.missed.empty());
  EXPECT_EQ(result.mutations.caught.size(), 36u);
  // A fault in Shared Signals changes nothing over webhooks: not run there.
  EXPECT_EQ(result.mutations.elsewhere,
            (std::vector<std::string>{"fault.pushes_unauthenticated", "fault.sets_sent_once"}));
  EXPECT_TRUE(result.passed());
  // Spot checks the matrix cannot hide: documented holds the mirror claims and rejects seed
  // 003's side of each contradiction; howto is the other way round.
  auto verdict_of = [&](const char* id, const char* p) { return result.find(id, p)->result; };
  EXPECT_EQ(verdict_of("004.username-follows-instagram", "documented"), verdict::holds);
  EXPECT_EQ(verdict_of("003.username-changeable", "documented"), verdict::violated);
  EXPECT_EQ(verdict_of("004.username-follows-instagram", "howto"), verdict::violated);
  EXPECT_EQ(verdict_of("003.username-changeable", "howto"), verdict::holds);
  EXPECT_EQ(verdict_of("003.one-profile-per-account", "fault.two_profiles"), verdict::violated);
  EXPECT_EQ(verdict_of("004.lose-content", "fault.content_kept"), verdict::violated);
  EXPECT_EQ(verdict_of("002.never-sold", "documented"), verdict::holds);
  EXPECT_EQ(verdict_of("002.never-sold", "fault.sale_flow"), verdict::violated);
  EXPECT_EQ(verdict_of("001.limit-through-settings", "fault.opt_out_ignored"), verdict::violated);
  EXPECT_EQ(verdict_of("001.gpc-honored", "fault.gpc_ignored"), verdict::violated);
  EXPECT_EQ(verdict_of("002.partner-rules", "fault.partner_user_ids"), verdict::violated);
  EXPECT_EQ(verdict_of("001.delete-account-data", "fault.flows_after_deletion"), verdict::violated);
  // A violation cites the step, what was expected and found, and evidence entries.
  const auto* v = result.find("004.username-follows-instagram", "fault.rename_not_propagated");
  ASSERT_NE(v, nullptr);
  bool cited = false;
  for (const auto& f : v->findings)
    cited = cited || (f.result == verdict::violated && !f.leaves.empty() && !f.expected.empty());
  EXPECT_TRUE(cited) << v->reason;
}

// Over the provider's Shared Signals stream, pushed or polled, every profile gives the verdicts
// it gives over webhooks, but where the catalogue says a channel differs (expect_over), and
// every fault profile is still caught.
TEST(Audit, OverSharedSignalsTheVerdictsAreTheWebhooksOnes) {
  const auto cat = load_catalogue(library / "claims.yaml");
  const auto scenarios = load_library();
  for (const auto c : {threads_sim::channel::ssf_push, threads_sim::channel::ssf_poll}) {
    SCOPED_TRACE(std::string(threads_sim::to_string(c)));
    audit_options o{all_profiles()};
    o.jobs = 2;
    o.changes = c;
    const auto result = audit(cat, scenarios, o, no_seal);
    for (const auto& m : result.mismatches) ADD_FAILURE() << m;
    EXPECT_TRUE(result.mutations.missed.empty());
    EXPECT_TRUE(result.mutations.elsewhere.empty());
    EXPECT_TRUE(result.passed());
    // Every scenario told over the channel runs: all are told over both SSF channels, with
    // `over:` where the channels differ, but two not over a polled stream:
    // lost_deauthorize_found_by_polling.yaml, whose lost SET a poll would fetch, and
    // refresh_token_lifetime.yaml, whose 90 days a poll a minute would fill.
    std::size_t told = 0;
    for (const auto& s : scenarios) told += s.told_over(c) ? 1 : 0;
    EXPECT_EQ(told, scenarios.size() - (c == threads_sim::channel::ssf_poll ? 2 : 0));
    EXPECT_EQ(result.runs, all_profiles().size() * told);
    const auto* within = cat.find("004.within-minutes");
    ASSERT_NE(within, nullptr);
    EXPECT_EQ(result.find("004.within-minutes", "fault.old_overwrites_new")->result,
              within->expected_under("fault.old_overwrites_new", c));
  }
  // The one difference the catalogue records: polling hands SETs over in order.
  EXPECT_EQ(cat.find("004.within-minutes")
                ->expected_under("fault.old_overwrites_new", threads_sim::channel::ssf_poll),
            verdict::holds);
  EXPECT_EQ(cat.find("004.within-minutes")
                ->expected_under("fault.old_overwrites_new", threads_sim::channel::ssf_push),
            verdict::violated);
}

// Runs spread over threads give the audit one thread gives: every verdict with its reason, its
// findings and the roots of the runs it cites.
TEST(Audit, SeveralJobsGiveTheVerdictsOfOne) {
  const auto cat = load_catalogue(library / "claims.yaml");
  const auto scenarios = load_library();
  audit_options o{{"documented", "howto", "fault.two_profiles", "fault.content_kept"}};
  const auto one = audit(cat, scenarios, o, no_seal);
  o.jobs = 3;
  const auto three = audit(cat, scenarios, o, no_seal);
  EXPECT_EQ(three.runs, one.runs);
  EXPECT_GT(one.runs, scenarios.size());
  EXPECT_EQ(three.mutations.caught, one.mutations.caught);
  EXPECT_EQ(three.undisclosed.size(), one.undisclosed.size());
  ASSERT_EQ(three.verdicts.size(), one.verdicts.size());
  for (std::size_t i = 0; i < one.verdicts.size(); ++i) {
    const auto &a = one.verdicts[i], &b = three.verdicts[i];
    SCOPED_TRACE(a.claim + " under " + a.profile);
    EXPECT_EQ(b.claim, a.claim);
    EXPECT_EQ(b.profile, a.profile);
    EXPECT_EQ(b.result, a.result);
    EXPECT_EQ(b.reason, a.reason);
    EXPECT_EQ(b.findings.size(), a.findings.size());
    ASSERT_EQ(b.evidence.size(), a.evidence.size());
    for (const auto& [file, sealed] : a.evidence) EXPECT_EQ(b.evidence.at(file).root, sealed.root);
  }
}

// A run or a seal that fails stops the audit with its error, whichever thread it ran on.
TEST(Audit, AFailedSealStopsTheAuditWithItsError) {
  const auto cat = load_catalogue(library / "claims.yaml");
  audit_options o{{"documented", "fault.content_kept"}};
  o.jobs = 2;
  const sealer failing = [](const scenario& s, const std::string& profile, const run_result& r) {
    if (profile == "fault.content_kept" && s.file.ends_with("rename_by_webhook.yaml"))
      throw std::runtime_error("disk full sealing " + s.file);
    return no_seal(s, profile, r);
  };
  try {
    (void)audit(cat, load_library(), o, failing);
    ADD_FAILURE() << "the audit went on";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("disk full sealing"), std::string::npos) << e.what();
  }
}

// Policy versions: as of a date only the claims in force are judged; the assistant's training
// flow is disclosed while the policy said so (2026-05-25 to 2026-06-02) and reported as
// undisclosed after; --since lists what changed.
TEST(Audit, AsOfADateJudgesTheClaimsInForceAndListsUndisclosedFlows) {
  const auto cat = load_catalogue(library / "claims.yaml");
  const auto scenarios = load_library();
  // The conversations themselves, undisclosed (the account id they carry is, on any date).
  auto undisclosed_ai = [](const audit_result& r) {
    return std::any_of(r.undisclosed.begin(), r.undisclosed.end(), [](const undisclosed_flow& u) {
      return u.purpose == "train_ai_system" &&
             std::find(u.categories.begin(), u.categories.end(), "user.content.private") !=
                 u.categories.end();
    });
  };
  audit_options o{{"documented"}, "2026-06-10", "2026-05-26"};
  const auto later = audit(cat, scenarios, o, no_seal);
  EXPECT_TRUE(later.passed());
  EXPECT_EQ(later.dates, std::vector<std::string>{"2026-06-10"});
  EXPECT_TRUE(undisclosed_ai(later));
  EXPECT_EQ(later.find("000.ai-assistant-improves-ai", "documented"), nullptr);  // not in force
  ASSERT_TRUE(later.changes.has_value());
  EXPECT_NE(std::find(later.changes->removed.begin(), later.changes->removed.end(),
                      "000.ai-assistant-improves-ai"),
            later.changes->removed.end());
  o.as_of = "2026-05-26";
  o.since.clear();
  const auto earlier = audit(cat, scenarios, o, no_seal);
  EXPECT_FALSE(undisclosed_ai(earlier));
  ASSERT_NE(earlier.find("000.ai-assistant-improves-ai", "documented"), nullptr);
  EXPECT_EQ(earlier.find("000.ai-assistant-improves-ai", "documented")->result, verdict::holds);
  ASSERT_EQ(earlier.undisclosed.size(), 1u);
  EXPECT_EQ(earlier.undisclosed[0].categories, std::vector<std::string>{"user.unique_id"});
  // The record of May 17 disclosed the conversations' use already.
  o.as_of = "2026-05-20";
  EXPECT_FALSE(undisclosed_ai(audit(cat, scenarios, o, no_seal)));
  o.as_of = "2026-05-10";  // before it
  EXPECT_TRUE(undisclosed_ai(audit(cat, scenarios, o, no_seal)));
  o.as_of = "2026-05-26";
  // Without a date: every claim, and undisclosed flows for every dated change.
  const auto all = audit(cat, scenarios, {{"documented"}}, no_seal);
  EXPECT_EQ(all.timeline.size(), all.dates.size());
  EXPECT_GE(all.dates.size(), 4u);
  // A catalogue without the disclosures leaves every ad-platform flow undisclosed.
  auto bare = cat;
  for (auto& c : bare.claims)
    std::erase_if(c.discloses,
                  [](const flow_rule& r) { return r.from == "threads" && r.to == "ads"; });
  const auto b = audit(bare, scenarios, o, no_seal);
  EXPECT_TRUE(std::any_of(b.undisclosed.begin(), b.undisclosed.end(),
                          [](const undisclosed_flow& u) { return u.channel == "ads.activity"; }));
}

// A catalogue that forgets the only claim catching a fault drops the mutation score, and the
// audit fails.
TEST(Audit, AnUncaughtFaultFailsTheAudit) {
  auto cat = load_catalogue(library / "claims.yaml");
  std::erase_if(cat.claims, [](const claim& c) { return c.id == "004.tied-to-verified-account"; });
  auto scenarios = load_library();
  for (auto& s : scenarios)
    for (auto& st : s.steps) std::erase(st.claims, std::string("004.tied-to-verified-account"));
  const auto result = audit(cat, scenarios, {{"documented", "fault.unsigned_webhooks"}}, no_seal);
  EXPECT_EQ(result.mutations.missed, std::vector<std::string>{"fault.unsigned_webhooks"});
  EXPECT_FALSE(result.passed());
}

// A tagged failure is the claim's verdict and the story goes on; an untagged failure stops it,
// and claims checked after it are indeterminate, not held.
TEST(Audit, UntaggedFailuresLeaveLaterClaimsIndeterminate) {
  const auto s = parse_scenario(R"(name: t
steps:
  - create: alice
  - sign_up: alice
  - expect:
      profile: {account: alice, username: nobody}
    claims: a
  - expect:
      profile: {account: alice, username: alice}
    claims: b
  - expect:
      profile: {account: alice, profiles: 7}
  - expect:
      profile: {account: alice, username: alice}
    claims: c
)",
                                "t.yaml");
  const auto cat = parse_catalogue(R"(claims:
  - {id: a, seed: s, quote: q, meaning: m}
  - {id: b, seed: s, quote: q, meaning: m}
  - {id: c, seed: s, quote: q, meaning: m}
  - id: d
    seed: s
    quote: q
    meaning: m
    scenarios: [t.yaml]
    check:
      flows:
        - forbid: {from: threads, to: idp, category: user.account}
)",
                                   "claims.yaml");
  const auto r = audit(cat, {s}, {{"documented"}}, no_seal);
  EXPECT_EQ(r.find("a", "documented")->result, verdict::violated);
  EXPECT_EQ(r.find("b", "documented")->result, verdict::holds);
  EXPECT_EQ(r.find("c", "documented")->result, verdict::indeterminate);
  EXPECT_NE(r.find("c", "documented")->reason.find("not reached"), std::string::npos);
  // A forbid rule with no match in a run that stopped early cannot say the flow never happens.
  EXPECT_EQ(r.find("d", "documented")->result, verdict::indeterminate);
}

TEST(Audit, RequireAndForbidRulesDecideOverTheFlows) {
  const auto s = parse_scenario(
      "name: t\nsteps:\n  - create: {username: alice, name: Alice, bio: hi}\n  - sign_up: alice\n",
      "t.yaml");
  const auto cat = parse_catalogue(R"(claims:
  - id: imported
    seed: s
    quote: q
    meaning: m
    scenarios: [t.yaml]
    check: {flows: [{require: {from: idp, to: threads, channel: graph.me, category: user.name}}]}
  - id: nothing-back
    seed: s
    quote: q
    meaning: m
    scenarios: [t.yaml]
    check: {flows: [{forbid: {from: threads, to: idp, category: user, except: user.authorization}}]}
  - id: no-import
    seed: s
    quote: q
    meaning: m
    scenarios: [t.yaml]
    check: {flows: [{forbid: {channel: graph.me, category: user.content}}]}
    expect: {documented: violated}
)",
                                   "claims.yaml");
  const auto r = audit(cat, {s}, {{"documented"}}, no_seal);
  EXPECT_EQ(r.find("imported", "documented")->result, verdict::holds);
  EXPECT_EQ(r.find("nothing-back", "documented")->result, verdict::holds);
  const auto* v = r.find("no-import", "documented");
  EXPECT_EQ(v->result, verdict::violated);
  EXPECT_TRUE(v->matches());
  ASSERT_FALSE(v->findings.empty());
  ASSERT_FALSE(v->findings[0].flows.empty());
  EXPECT_EQ(v->findings[0].flows[0].channel, "graph.me");
  EXPECT_TRUE(v->findings[0].flows[0].note.find("GET /me (answer 200)") != std::string::npos);
  EXPECT_EQ(v->findings[0].flows[0].subject, "alice");
}

// The command: reports in every format, logs that verify offline with the printed key.
TEST(AuditCommand, WritesEveryReportAndSealsVerifiableEvidence) {
  temp_dir out;
  app::audit_options o;
  o.catalogue = library / "claims.yaml";
  o.profiles = {"documented", "fault.content_kept"};
  o.out = out.path();
  o.jobs = 2;  // two logs sealed at once, as the command does on this machine
  std::ostringstream text, err;
  EXPECT_EQ(app::audit(o, text, err), 0) << text.str() << err.str();
  EXPECT_NE(text.str().find("mutation score: 1/1"), std::string::npos) << text.str();

  const auto json = boost::json::parse(read(out.path() / "report.json")).as_object();
  EXPECT_TRUE(json.at("passed").as_bool());
  const auto& claims = json.at("claims").as_array();
  EXPECT_GT(claims.size(), 40u);

  const auto sarif = boost::json::parse(read(out.path() / "report.sarif")).as_object();
  EXPECT_EQ(sarif.at("version").as_string(), "2.1.0");
  const auto& run = sarif.at("runs").as_array()[0].as_object();
  EXPECT_TRUE(
      run.at("properties").at("evidenceVerifierKeyFingerprint").as_string().starts_with("SHA256:"));
  const auto& results = run.at("results").as_array();
  bool fail_with_flow = false;
  std::size_t undisclosed = 0;
  for (const auto& r : results) {
    const auto& o2 = r.as_object();
    if (o2.at("kind").as_string() == "fail" && o2.contains("codeFlows")) fail_with_flow = true;
    if (o2.at("kind").as_string() != "fail") {
      EXPECT_EQ(o2.at("level").as_string(), "none");
    }
    if (o2.at("ruleId").as_string() == "undisclosed-flow") {
      ++undisclosed;
      EXPECT_EQ(o2.at("level").as_string(), "warning");
      // Its rule is the one the index names.
      const auto index = o2.at("ruleIndex").to_number<std::size_t>();
      EXPECT_EQ(run.at("tool").at("driver").at("rules").at(index).at("id").as_string(),
                "undisclosed-flow");
    }
  }
  EXPECT_TRUE(fail_with_flow);
  // The same undisclosed flows as the JSON report, one warning each.
  EXPECT_GT(undisclosed, 0u);
  EXPECT_EQ(undisclosed, json.at("undisclosed_flows").as_array().size());

  const std::string junit = read(out.path() / "junit.xml");
  EXPECT_NE(junit.find("<testsuites name=\"linksim audit\""), std::string::npos);
  EXPECT_NE(junit.find("failures=\"0\""), std::string::npos);
  EXPECT_NE(junit.find("<property name=\"evidence.verifier_key_fingerprint\" value=\"SHA256:"),
            std::string::npos);
  const std::string html = read(out.path() / "report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);  // self-contained, nothing to run
  EXPECT_NE(read(out.path() / "report.md").find("| claim |"), std::string::npos);

  // Every sealed log verifies with the key the report names, and no signing key was left with
  // the evidence.
  const std::string key(json.at("verifier_key").as_string());
  EXPECT_TRUE(json.at("verifier_key_fingerprint").as_string().starts_with("SHA256:"));
  std::size_t logs = 0;
  for (const auto& e : fs::directory_iterator(out.path() / "evidence")) {
    EXPECT_NE(e.path().extension(), ".key") << e.path();
    if (e.path().extension() != ".db") continue;
    ++logs;
    std::ostringstream v;
    EXPECT_EQ(app::evidence_verify({.log = e.path(), .key = key}, v), 0) << e.path() << v.str();
  }
  // Two profiles, each over every scenario told over webhooks (the default channel).
  std::size_t over_webhooks = 0;
  for (const auto& f : app::scenario_files({library}))
    if (load_scenario(f).told_over(threads_sim::channel::webhook)) ++over_webhooks;
  EXPECT_LT(over_webhooks, app::scenario_files({library}).size());
  EXPECT_EQ(logs, 2u * over_webhooks);

  // Each verdict proves the entries it cites against its run's checkpoint: checkable with the
  // key alone, and a changed entry is not.
  const auto verifier = *evidence::note_verifier::parse(key);
  std::size_t proven = 0;
  for (const auto& claim : json.at("claims").as_array())
    for (const auto& [profile, verdict] : claim.at("verdicts").as_object())
      for (const auto& [scenario, e] : verdict.at("evidence").as_object()) {
        const auto head = verifier.open(e.at("checkpoint").as_string());
        ASSERT_TRUE(head) << scenario;
        if (!e.as_object().contains("cited")) continue;
        for (const auto& c : e.at("cited").as_array()) {
          std::vector<digest> path;
          for (const auto& h : c.at("proof").as_array()) {
            const auto bytes = from_hex(h.as_string()).value();
            digest d;
            std::copy(bytes.begin(), bytes.end(), d.begin());
            path.push_back(d);
          }
          const std::string entry(c.at("entry").as_string());
          const auto leaf = c.at("leaf").to_number<std::uint64_t>();
          EXPECT_TRUE(evidence::verify_inclusion(
              leaf, head->size, evidence::leaf_hash(as_bytes(entry)), path, head->root))
              << scenario << " leaf " << leaf;
          EXPECT_FALSE(evidence::verify_inclusion(
              leaf, head->size, evidence::leaf_hash(as_bytes(entry + " ")), path, head->root));
          ++proven;
        }
      }
  EXPECT_GT(proven, 0u);

  // Tampering with one log is caught by the verifier.
  const auto victim = out.path() / "evidence" / "documented--rename_by_webhook.db";
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    std::string bytes = read(victim);
    const auto at = bytes.find("graph.me");
    ASSERT_NE(at, std::string::npos);
    f.seekp(static_cast<std::streamoff>(at));
    f.write("graph.mX", 8);
  }
  std::ostringstream v;
  EXPECT_NE(app::evidence_verify({.log = victim, .key = key}, v), 0) << v.str();
}

TEST(AuditCommand, CatalogueProblemsRunNothing) {
  temp_dir dir;
  fs::create_directories(dir.path() / "seeds");
  std::ofstream(dir.path() / "seeds" / "s.txt") << "The username mirrors.";
  std::ofstream(dir.path() / "claims.yaml")
      << "claims:\n  - {id: a, seed: s.txt, quote: The username follows., meaning: m}\n";
  app::audit_options o;
  o.catalogue = dir.path() / "claims.yaml";
  o.out = dir.path() / "out";
  std::ostringstream out, err;
  EXPECT_EQ(app::audit(o, out, err), 2);
  EXPECT_NE(err.str().find("not in s.txt verbatim"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("nothing checks it"), std::string::npos) << err.str();
  EXPECT_FALSE(fs::exists(dir.path() / "out" / "report.json"));
}

TEST(Explain, DrawsNumberedArrowsWithSecretsRedacted) {
  const auto s = load_scenario(library / "lost_webhook_healed_by_polling.yaml");
  const auto x = explain(s);
  EXPECT_TRUE(x.run.passed);
  EXPECT_EQ(x.mermaid.rfind("sequenceDiagram\n  autonumber\n", 0), 0u);
  EXPECT_NE(x.mermaid.find("I-xT: POST /webhooks/instagram (dropped)"), std::string::npos)
      << x.mermaid;
  EXPECT_NE(x.mermaid.find("Note over B,I:"), std::string::npos);
  EXPECT_NE(x.mermaid.find("rect rgb"), std::string::npos);
  // No code, state, PKCE value or token leaves in the diagram or the walkthrough.
  // A value after one of these names is empty or redacted to "…".
  auto leaked = [](const std::string& text) -> std::string {
    for (const std::string name :
         {"code=", "state=", "code_challenge=", "access_token=", "request="}) {
      for (auto at = text.find(name); at != std::string::npos; at = text.find(name, at + 1)) {
        const std::string_view value = std::string_view(text).substr(at + name.size());
        if (value.empty() || value.starts_with("…") || value.front() == '&' ||
            std::isspace(static_cast<unsigned char>(value.front())))
          continue;
        return text.substr(at, 40);
      }
    }
    return "";
  };
  EXPECT_EQ(leaked("code=… state=&request= access_token=\n"), "");  // the check itself
  EXPECT_EQ(leaked("a code=…x state=s3cret"), "state=s3cret");
  EXPECT_EQ(leaked(x.mermaid), "") << x.mermaid;
  EXPECT_EQ(leaked(x.walkthrough), "");
  // Every arrow is numbered in the walkthrough, in the same order.
  std::size_t arrows = 0;
  std::istringstream lines(x.mermaid);
  for (std::string l; std::getline(lines, l);)
    if (l.find(">>") != std::string::npos || l.find("-x") != std::string::npos) ++arrows;
  EXPECT_NE(x.walkthrough.find("\n" + std::to_string(arrows) + ". "), std::string::npos);
  EXPECT_EQ(x.walkthrough.find("\n" + std::to_string(arrows + 1) + ". "), std::string::npos);
  // A reply comes after the calls its handler made: the token exchange sits inside /callback.
  const auto callback = x.mermaid.find("B->>T: GET /callback");
  const auto token = x.mermaid.find("T->>I: POST /oauth/token");
  const auto answer = x.mermaid.find("T-->>B: 200", token);
  EXPECT_LT(callback, token);
  EXPECT_LT(token, answer);
}

// The same story drawn over Shared Signals: the rename's SET pushed to the service, or carried
// in the answer to its poll, with what the service checks.
TEST(Explain, DrawsTheStoryOverSharedSignals) {
  const auto s = load_scenario(library / "rename_by_webhook.yaml");
  const auto push = explain(s, {.changes = threads_sim::channel::ssf_push});
  EXPECT_TRUE(push.run.passed);
  EXPECT_NE(push.mermaid.find("I->>T: POST /ssf/events"), std::string::npos) << push.mermaid;
  EXPECT_EQ(push.mermaid.find("/webhooks/instagram"), std::string::npos);
  EXPECT_NE(push.walkthrough.find("pushed by the provider (`identifier-changed`)"),
            std::string::npos);
  const auto poll = explain(s, {.changes = threads_sim::channel::ssf_poll});
  EXPECT_TRUE(poll.run.passed);
  EXPECT_EQ(poll.mermaid.find("/ssf/events"), std::string::npos);
  EXPECT_NE(poll.walkthrough.find("the answer carries `identifier-changed`"), std::string::npos)
      << poll.walkthrough;
}

TEST(Explain, RedactsSecretQueryValuesOnly) {
  EXPECT_EQ(redact_target("/callback?code=abc&state=xyz&iss=http%3A%2F%2Fidp"),
            "/callback?code=…&state=…&iss=http%3A%2F%2Fidp");
  EXPECT_EQ(redact_target("/me?fields=id&access_token=T"), "/me?fields=id&access_token=…");
  EXPECT_EQ(redact_target("/plain"), "/plain");
}

// The fuzz command's progress: lines in a log, one count rewritten in place on a terminal.
TEST(FuzzCommand, ProgressIsLinesInALogAndOneRewrittenCountOnATerminal) {
  app::fuzz_options o;
  o.fuzz.seeds = 100;
  std::ostringstream out, log;
  EXPECT_EQ(app::fuzz(o, out, log), 0) << out.str();
  EXPECT_NE(out.str().find("every invariant held"), std::string::npos) << out.str();
  EXPECT_EQ(log.str(), "fuzz: 100/100 seeds\n");
  o.terminal = true;
  std::ostringstream out2, terminal;
  EXPECT_EQ(app::fuzz(o, out2, terminal), 0);
  EXPECT_EQ(terminal.str(), "fuzz: 100/100 seeds\r\n");
}

}  // namespace
}  // namespace linksim::harness

namespace linksim::harness {
namespace {

evidence::flow between(std::string from, std::string to, std::vector<std::string> categories,
                       bool observed, std::string subject = "5") {
  evidence::flow f;
  f.from = std::move(from);
  f.to = std::move(to);
  f.categories = std::move(categories);
  f.subject = std::move(subject);
  f.channel = "ads.activity";
  f.observed = observed;
  return f;
}

// A service that sends more than it declares is caught, and one that declares what it never
// sends too; the story around the parties (the person, the operator) is left out.
TEST(DeclaredAgainstObserved, EachKindOfDataOnTheWireNeedsADeclarationAndTheOtherWay) {
  run_result r;
  r.flows = {between("threads", "ads", {"user.behavior", "user.name"}, false),
             between("threads", "ads",
                     {"user.behavior", "user.unique_id", "user.authorization.credentials",
                      "system.authentication"},
                     true),
             between("user", "threads", {"user.authorization.password"}, true),
             between("operator", "idp", {"user.account.username"}, true)};
  const auto w = declared_against_observed(r);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].kind, "undeclared");  // the token slipped in; the id comes with the subject
  EXPECT_EQ(w[0].category, "user.authorization.credentials");
  EXPECT_EQ(w[0].leaf, 1u);
  EXPECT_EQ(w[1].kind, "unobserved");  // declared, never carried
  EXPECT_EQ(w[1].category, "user.name");
  EXPECT_EQ(w[1].leaf, 0u);
  // Declared as it is sent: nothing to say.
  r.flows[0].categories = {"user.behavior", "user.authorization.credentials"};
  EXPECT_TRUE(declared_against_observed(r).empty());
}

// A declaration covers the messages of its own channel only: the profile read's declaration
// does not cover the token request before it. A channel's part ("ssf.push") names it. What the
// scenario sent in a party's name is not the party's to declare.
TEST(DeclaredAgainstObserved, ADeclarationCoversOnlyItsOwnChannel) {
  run_result r;
  r.flows = {between("threads", "idp", {"user.authorization.credentials"}, false),
             between("threads", "idp", {"user.authorization.credentials"}, true),
             between("idp", "threads", {"user.account.username"}, false),
             between("idp", "threads", {"user.account.username"}, true),
             between("threads", "idp", {"user.authorization.credentials"}, true)};
  r.flows[0].channel = "graph.me";
  r.flows[1].channel = "oauth.token";
  r.flows[2].channel = "ssf.push";
  r.flows[3].channel = "ssf";
  r.flows[4].channel = "oidc.userinfo";
  auto w = declared_against_observed(r);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].kind, "undeclared");
  EXPECT_EQ(w[0].channel, "oauth.token");
  EXPECT_EQ(w[0].leaf, 1u);
  EXPECT_EQ(w[1].channel, "oidc.userinfo");
  r.scripted = {4};  // a request step's `from: threads`
  r.flows[0].channel = "oauth.token";
  EXPECT_TRUE(declared_against_observed(r).empty());
  r.flows[2].channel = "webhook";  // another channel between the same parties
  w = declared_against_observed(r);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].channel, "ssf");
  EXPECT_EQ(w[0].category, "user.account.username");
}

// A rule whose parties never exchange anything cannot fail: the audit says so and fails.
TEST(Audit, ARuleNoRunCanBreakIsVacuousAndFailsTheAudit) {
  const auto s =
      parse_scenario("name: t\nsteps:\n  - create: alice\n  - sign_up: alice\n", "t.yaml");
  const char* text = R"(claims:
  - id: no-password
    seed: s
    quote: q
    meaning: m
    scenarios: [t.yaml]
    check: {flows: [{forbid: {from: FROM, to: threads, category: user.authorization.password}}]}
)";
  std::string named(text);
  named.replace(named.find("FROM"), 4, "browser");  // the network calls it "user"
  const auto bad = audit(parse_catalogue(named, "claims.yaml"), {s}, {{"documented"}}, no_seal);
  EXPECT_EQ(bad.find("no-password", "documented")->result, verdict::holds);
  ASSERT_EQ(bad.vacuous.size(), 1u);
  EXPECT_EQ(bad.vacuous[0].claim, "no-password");
  EXPECT_FALSE(bad.passed());
  std::string fixed(text);
  fixed.replace(fixed.find("FROM"), 4, "user");
  const auto good = audit(parse_catalogue(fixed, "claims.yaml"), {s}, {{"documented"}}, no_seal);
  EXPECT_TRUE(good.vacuous.empty());
  EXPECT_TRUE(good.passed());
}

// Every flow rule is put to a synthetic trace: the documented run without what a require rule
// needs, or with one flow a forbid rule forbids. A rule whose exception swallows what it
// forbids survives every such trace: it is vacuous and the audit fails.
TEST(Audit, EveryFlowRuleIsFalsifiedByASyntheticTraceOrCalledVacuous) {
  const auto s =
      parse_scenario("name: t\nsteps:\n  - create: alice\n  - sign_up: alice\n", "t.yaml");
  const char* text = R"(claims:
  - id: imports
    seed: s
    quote: q
    meaning: m
    scenarios: [t.yaml]
    check:
      flows:
        - {require: {from: idp, to: threads, channel: graph.me, category: user.account.username}}
        - {forbid: {from: threads, to: idp, category: user, except: EXCEPT}}
)";
  std::string sound(text);
  sound.replace(sound.find("EXCEPT"), 6, "user.authorization");
  const auto good = audit(parse_catalogue(sound, "claims.yaml"), {s}, {{"documented"}}, no_seal);
  ASSERT_EQ(good.checks.size(), 2u);
  EXPECT_NE(good.checks[0].synthetic.find("with user.account.username taken out of the"),
            std::string::npos)
      << good.checks[0].synthetic;
  EXPECT_NE(good.checks[1].synthetic.find("one observed flow more: threads -> idp"),
            std::string::npos)
      << good.checks[1].synthetic;
  EXPECT_TRUE(good.checks[0].falsified() && good.checks[1].falsified());
  EXPECT_TRUE(good.vacuous.empty());
  EXPECT_TRUE(good.passed());

  std::string swallowed(text);
  swallowed.replace(swallowed.find("EXCEPT"), 6, "user");
  const auto bad = audit(parse_catalogue(swallowed, "claims.yaml"), {s}, {{"documented"}}, no_seal);
  ASSERT_EQ(bad.vacuous.size(), 1u);
  EXPECT_NE(bad.vacuous[0].why.find("no synthetic trace breaks it"), std::string::npos);
  EXPECT_FALSE(bad.checks[1].falsified());
  EXPECT_FALSE(bad.passed());
}

// Strict: what no statement discloses fails the audit; by default it is listed only.
TEST(Audit, StrictFailsOnUndisclosedFlows) {
  auto cat = load_catalogue(library / "claims.yaml");
  for (auto& c : cat.claims) c.discloses.clear();
  const auto scenarios = load_library();
  audit_options o{{"documented"}, "2026-05-26"};
  const auto lenient = audit(cat, scenarios, o, no_seal);
  EXPECT_FALSE(lenient.undisclosed.empty());
  EXPECT_TRUE(lenient.passed());
  o.strict = true;
  EXPECT_FALSE(audit(cat, scenarios, o, no_seal).passed());
}

// A forbid rule holds in every story, not only in those its claim names.
TEST(Audit, AForbidRuleIsJudgedInEveryRun) {
  const auto named = parse_scenario("name: n\nsteps:\n  - create: alice\n", "n.yaml");
  const auto other =
      parse_scenario("name: o\nsteps:\n  - create: bob\n  - sign_up: bob\n", "o.yaml");
  const auto cat = parse_catalogue(R"(claims:
  - id: no-token-exchange
    seed: s
    quote: q
    meaning: m
    scenarios: [n.yaml]
    check: {flows: [{forbid: {from: threads, to: idp, channel: oauth.token}}]}
)",
                                   "claims.yaml");
  const auto r = audit(cat, {named, other}, {{"documented"}}, no_seal);
  const auto* v = r.find("no-token-exchange", "documented");
  EXPECT_EQ(v->result, verdict::violated);
  ASSERT_FALSE(v->findings.empty());
  EXPECT_EQ(v->findings.back().scenario, "o.yaml");
}

}  // namespace
}  // namespace linksim::harness
