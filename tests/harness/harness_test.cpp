// Scenario files: parse errors with their line, the runner's verdicts and reports, determinism,
// the same roots over loopback sockets, and the library under every behaviour profile.
#include "linksim/app/run.hpp"
#include "linksim/common/crypto.hpp"
#include "linksim/harness/claims.hpp"
#include "linksim/harness/fuzz.hpp"
#include "linksim/harness/protocol.hpp"
#include "linksim/harness/runner.hpp"
#include "linksim/harness/scenario.hpp"
#include "linksim/threads_sim/behaviour.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace linksim::harness {
namespace {

const std::filesystem::path library = std::filesystem::path(LINKSIM_SOURCE_DIR) / "scenarios";

struct bad_case {
  const char* yaml;
  int line;
  const char* problem;
};

// Parsing `yaml` fails at `line` of t.yaml with a message that contains `problem`.
void expect_refused(const std::string& yaml, int line, const char* problem) {
  SCOPED_TRACE(yaml.substr(0, 200));
  try {
    (void)parse_scenario(yaml, "t.yaml");
    ADD_FAILURE() << "parsed without an error";
  } catch (const scenario_error& e) {
    EXPECT_EQ(e.where().file, "t.yaml");
    EXPECT_EQ(e.where().line, line) << e.what();
    EXPECT_NE(std::string(e.what()).find(problem), std::string::npos) << e.what();
  }
}

TEST(ScenarioParse, ErrorsNameTheLineAndTheProblem) {
  const bad_case cases[] = {
      {"steps: []\n", 1, "missing key 'name'"},
      {"name: x\nsteps:\n  - create: alice\n  - renam: {account: alice, to: b}\n", 4,
       "unknown action 'renam'"},
      {"name: x\nsteps:\n  - rename: {account: bob, to: b}\n", 3, "no account 'bob'"},
      {"name: x\nsteps:\n  - create: alice\n  - advance: 5 minutes\n", 4, "expected a duration"},
      {"name: x\nprofile: nope\nsteps:\n  - create: a\n", 2, "unknown behaviour profile"},
      {"name: x\nchanges: [webhook, sse]\nsteps:\n  - create: a\n", 2, "unknown channel 'sse'"},
      {"name: x\nchanges: [webhook, webhook]\nsteps:\n  - create: a\n", 2, "listed twice"},
      {"name: x\nchanges: []\nsteps:\n  - create: a\n", 2, "changes is a list"},
      {"name: x\nchanges: [webhook]\nsteps:\n  - create: a\n  - over: [ssf-poll]\n    advance: "
       "1s\n",
       5, "not told over 'ssf-poll'"},
      {"name: x\nsteps:\n  - create: a\n  - over: [ssf-poll, ssf-poll]\n    advance: 1s\n", 4,
       "listed twice"},
      {"name: x\nsteps:\n  - create: a\n  - over: ssf-poll\n    advance: 1s\n", 4,
       "over is a list"},
      {"name: x\nfaults:\n  - {kind: drop, over: [sse]}\nsteps:\n  - create: a\n", 3,
       "unknown channel 'sse'"},
      {"name: x\nsteps:\n  - request: {system: idp, path: /ssf/streams, auth: me}\n", 3,
       "auth is client"},
      {"name: x\nsteps:\n  - disk_full: {system: threads, commits: 0}\n", 3,
       "a whole number from 1 to 100, got '0'"},
      {"name: x\nsteps:\n  - disk_full: {system: db}\n", 3, "expected idp, threads or ads"},
      {"name: x\nsteps:\n  - request: {system: idp, path: /admin/clients, auth: admin, from: x}\n",
       3, "auth: admin sends the operator's JSON request alone"},
      {"name: x\nsteps:\n  - request: {system: idp, path: /, origin: 'http://a.example/x'}\n", 3,
       "origin is a scheme and host"},
      {"name: x\nsteps:\n  - request: {system: idp, path: /, method: TRACE}\n", 3,
       "DELETE or OPTIONS"},
      {"name: x\nsteps:\n  - request: {system: idp, path: /, keep: code}\n", 3,
       "the two go together"},
      {"name: x\nsteps:\n  - request: {system: idp, path: /, keep: code, pattern: 'code=\\w+'}\n",
       3, "pattern needs a group"},
      {"name: x\nsteps:\n  - request: {system: idp, path: /, keep: 'a, b', pattern: 'a=(\\w+)'}\n",
       3, "2 names, 1 groups"},
      {"name: x\nsteps:\n  - request: {system: idp, path: /, keep: Code, pattern: '(x)'}\n", 3,
       "lowercase letters"},
      {"name: x\nsteps:\n  - request: {system: idp, path: /, keep: c, pattern: '(x'}\n", 3,
       "not a regular expression"},
      {"name: x\nsteps:\n  - request: {system: idp, path: /, keep: c, pattern: '(x+)+y'}\n", 3,
       "repeats a group that repeats inside"},
      {"name: x\nsteps:\n  - request: {system: idp, path: /, keep: c, pattern: '((a|b)*c)*'}\n", 3,
       "repeats a group that repeats inside"},
      {"name: x\nsteps:\n  - request: {system: idp, path: /, keep: c, pattern: '(a)\\1'}\n", 3,
       "backreference"},
      {"name: x\nsteps:\n  - request: {system: idp, path: \"/x?c={kept:c}\"}\n", 3,
       "no earlier request keeps 'c'"},
      {"name: x\nsteps:\n  - request: {system: idp, path: \"/x?c={kept:c}\", keep: c, pattern: "
       "'(x)'}\n",
       3, "no earlier request keeps 'c'"},
      {"name: x\nseed: -3\nsteps:\n  - create: a\n", 2, "non-negative whole number"},
      {"name: x\nsteps:\n  - create: a\n    expect: {staus: 200}\n", 4, "unknown key 'staus'"},
      {"name: x\nfaults:\n  - {kind: lose}\nsteps:\n  - create: a\n", 3, "unknown fault kind"},
      {"name: x\nfaults:\n  - {kind: drop, body: x}\nsteps:\n  - create: a\n", 3,
       "'body' belongs to a corrupt fault"},
      {"name: x\nsteps:\n  - restart: ads\n", 3, "'restart: threads' or 'restart: idp'"},
      {"name: x\nsteps:\n  - request: {system: threads, path: /ssf/events, sign: provider-set, "
       "body: '[1]'}\n",
       3, "a JSON object"},
      {"name: x\nfaults:\n  - {kind: delay, delay: 1m, status: 400}\nsteps:\n  - create: a\n", 3,
       "'status' belongs to a corrupt fault"},
      {"name: x\nfaults:\n  - {kind: drop, header: 'Retry-After: 1'}\nsteps:\n  - create: a\n", 3,
       "'header' belongs to a corrupt fault"},
      {"name: x\nfaults:\n  - {kind: corrupt, header: 'Retry-After'}\nsteps:\n  - create: a\n", 3,
       "'Name: value'"},
      {"name: x\nfaults:\n  - {kind: corrupt, status: 99}\nsteps:\n  - create: a\n", 3,
       "a whole number from 100 to 599"},
      {"name: x\nsteps:\n  - create: a\n    expect: {lacks_header: 'Allow: GET'}\n", 4,
       "lacks_header names a header"},
      {"name: x\nsteps:\n  - create: a\n    expect: {carried: {to: ads}}\n", 4,
       "say how many: count, min or max"},
      {"name: x\nsteps:\n  - create: a\n    expect: {carried: {path: v1, count: 1}}\n", 4,
       "path starts with '/'"},
      {"name: x\nsteps:\n  - create: a\n  - fault: {kind: corrupt, body: '{id:zed}'}\n", 4,
       "no account 'zed' is created before this fault"},
      {"name: x\nfaults:\n  - {kind: drop, account: zed}\nsteps:\n  - create: a\n", 3,
       "no step creates"},
      {"name: x\nsteps:\n  - create: a\n  - create: a\n", 4, "created twice"},
      {"name: x\nsteps:\n  - for_each: [{who: a}]\n    steps:\n      - create: ${whom}\n", 5,
       "'${whom}' is not a column"},
      {"name: x\nsteps:\n  - create: a\n  - like: {account: a, post: p9}\n", 4,
       "no earlier post has label 'p9'"},
      {"name: x\nsteps:\n  - create: a\n    rename: {account: a, to: b}\n", 4, "second one"},
      {"name: x\nsteps:\n  - create: a\n  - expect:\n      flows: {channel: webhook}\n", 5,
       "count, min or max"},
      {"name: [unclosed\n", 2, "end of sequence flow not found"},
      {"name: x\nwebhook_batch: 1001\nsteps:\n  - create: a\n", 2, "from 1 to 1000"},
      {"name: x\npending_sign_ins: 0\nsteps:\n  - create: a\n", 2, "from 1 to 100000"},
      {"name: x\nwebhook_batch: {window: 1s}\nsteps:\n  - create: a\n", 2, "needs a size"},
      {"name: x\nwebhook_batch: {size: 5, windw: 1s}\nsteps:\n  - create: a\n", 2,
       "unknown key 'windw'"},
  };
  for (const auto& c : cases) expect_refused(c.yaml, c.line, c.problem);
}

// A for_each nested `levels` deep, 4 rows at each level, around one advance.
std::string nested_for_each(int levels) {
  std::string yaml = "name: x\nsteps:\n";
  std::string indent = "  ";
  for (int i = 0; i < levels; ++i) {
    const std::string c = "c" + std::to_string(i);
    yaml += indent + "- for_each: [{" + c + ": 1}, {" + c + ": 2}, {" + c + ": 3}, {" + c +
            ": 4}]\n" + indent + "  steps:\n";
    indent += "    ";
  }
  return yaml + indent + "- advance: 1s\n";
}

// An alias bomb: each line names the one before nine times.
std::string alias_bomb(int levels) {
  std::string yaml = "name: x\na0: &a0 [x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < levels; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 9; ++k) yaml += (k ? ", " : "") + prev;
    yaml += "]\n";
  }
  return yaml + "steps:\n  - advance: 1s\n";
}

TEST(ScenarioParse, HostileFilesAreRefusedBeforeAnyWork) {
  const std::string signed_up = "name: x\nsteps:\n  - create: a\n  - sign_up: a\n";
  const struct {
    std::string yaml;
    int line;
    const char* problem;
  } cases[] = {
      {signed_up + "  - advance: 2000000000d\n", 5,
       "limit of 366d (raise it with --max-simulated-days)"},
      {signed_up + "  - advance: 200d\n  - advance: 200d\n", 6, "simulated time reaches 400d"},
      {"name: x\nreconcile_interval: 1s\nsteps:\n  - create: a\n  - sign_up: a\n  - advance: 30d\n",
       6, "raise it with --max-polls"},
      // The deepest for_each that alone passes 10 000 steps: 4^7, seven levels from the bottom.
      {nested_for_each(12), 13, "raise the limit with --max-steps"},
      {alias_bomb(10), 7, "raise the limit with --max-yaml-nodes"},
      {"name: x\xff\nsteps:\n  - create: a\n", 1, "not valid UTF-8"},
      {"name: x\nsteps:\n  - create: \xc0\xaf\n", 3, "not valid UTF-8"},  // an overlong '/'
      {"name: x\nsteps:\n  - create: {username: a, username: b}\n", 3,
       "key 'username' appears twice"},
      {"name: x\nname: y\nsteps:\n  - create: a\n", 2, "key 'name' appears twice"},
      {"name: x\nsteps:\n  - create: a\n---\nname: y\n", 4, "a second YAML document"},
      {"name: !python/object x\nsteps:\n  - create: a\n", 1, "unknown tag '!python/object'"},
      {"", 1, "the file is empty"},
      {"\n  \n", 1, "the file is empty"},
      {"# only\n# comments\n", 1, "no content, only comments"},
  };
  for (const auto& c : cases) expect_refused(c.yaml, c.line, c.problem);
}

TEST(ScenarioParse, LimitsCanBeRaised) {
  limits raised;
  raised.max_simulated_time = std::chrono::days(500);
  EXPECT_NO_THROW(
      parse_scenario("name: x\nsteps:\n  - create: a\n  - advance: 400d\n", "t.yaml", raised));
  raised.max_steps = 5000;
  EXPECT_EQ(parse_scenario(nested_for_each(6), "t.yaml", raised).steps.size(), 4096u);
  EXPECT_THROW(parse_scenario(nested_for_each(7), "t.yaml", raised), scenario_error);
  raised.max_yaml_nodes = 10'000'000;
  try {  // 9^6 nodes: past the node limit now, the scenario's own check refuses the bomb's keys
    (void)parse_scenario(alias_bomb(6), "t.yaml", raised);
    ADD_FAILURE() << "parsed without an error";
  } catch (const scenario_error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key 'a0'"), std::string::npos) << e.what();
  }
  limits small;
  small.max_file_bytes = 10;
  EXPECT_THROW(parse_scenario("name: x\nsteps:\n  - create: a\n", "t.yaml", small), scenario_error);
  // A tag of YAML's own is not refused.
  EXPECT_EQ(parse_scenario("name: !!str x\nsteps:\n  - create: a\n", "t.yaml").name, "x");
}

TEST(ScenarioParse, ForEachExpandsEachRow) {
  const auto s = parse_scenario(
      "name: x\nsteps:\n  - for_each: [{who: a}, {who: b}]\n    steps:\n"
      "      - create: ${who}\n      - suspend: ${who}\n",
      "t.yaml");
  ASSERT_EQ(s.steps.size(), 4u);
  EXPECT_EQ(s.steps[2].args.at("username"), "b");
  EXPECT_EQ(s.steps[3].args.at("status"), "suspended");
  EXPECT_EQ(s.steps[3].where.line, 6);
}

TEST(ScenarioRun, AFailedExpectationNamesTheStepValuesAndFlows) {
  const auto s = parse_scenario(R"(name: broken
profile: fault.rename_not_propagated
steps:
  - create: alice
  - sign_up: alice
  - rename: {account: alice, to: alice.new}
  - advance: 10m
  - expect:
      profile: {account: alice, username: alice.new}
  - advance: 1m
)",
                                "t.yaml");
  const auto r = run_scenario(s);
  EXPECT_FALSE(r.passed);
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->index, 4u);
  EXPECT_EQ(r.failure->where.line, 9);
  EXPECT_EQ(r.failure->expected, "alice.new");
  EXPECT_EQ(r.failure->actual, "alice");
  EXPECT_EQ(r.steps_run, 4u);
  EXPECT_FALSE(r.flows_around.empty());
  EXPECT_EQ(replay_command(r, {}, false), "linksim run t.yaml --seed 1");
  // The same story under the documented behaviour passes.
  const auto ok = run_scenario(s, {.profile = "documented"});
  EXPECT_TRUE(ok.passed) << (ok.failure ? ok.failure->what : ok.error);
}

// What a party keeps is read from its storage, not asked of it: a check that expects nothing
// kept fails while the data is there, naming the tables, and the read is an evidence entry.
TEST(ScenarioRun, StoredChecksReadTheStorageItself) {
  const auto s = parse_scenario(R"(name: kept
steps:
  - create: alice
  - sign_up: alice
  - post: {account: alice, text: hello}
  - expect:
      stored:
        - {system: threads, account: alice, min: 1}
        - {system: ads, table: activity, min: 1}
  - expect:
      stored: {system: ads, account: alice, count: 0}
)",
                                "t.yaml");
  const auto r = run_scenario(s);
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->index, 4u);
  EXPECT_EQ(r.failure->what, "stored at ads about alice");
  EXPECT_NE(r.failure->actual.find("activity"), std::string::npos) << r.failure->actual;
  // Once the profile is deleted, the ad platform was told, and erased it.
  auto erased = s;
  erased.steps.insert(erased.steps.end() - 1, parse_scenario(R"(name: d
steps:
  - create: alice
  - delete_profile: alice
)",
                                                             "d.yaml")
                                                  .steps.back());
  const auto ok = run_scenario(erased);
  EXPECT_TRUE(ok.passed) << (ok.failure ? ok.failure->what + ": " + ok.failure->actual : ok.error);
  for (const char* bad :
       {"stored: {system: nowhere, account: alice, count: 0}", "stored: {system: ads, count: 0}",
        "stored: {system: ads, account: alice}"})
    EXPECT_THROW(
        parse_scenario(
            std::string("name: x\nsteps:\n  - create: alice\n  - expect:\n      ") + bad + "\n",
            "x.yaml"),
        scenario_error)
        << bad;
}

// A scenario can send what an attacker would: a body signed with a wrong key is refused, the
// same body signed with the provider's key (the dependent service's client secret) is applied.
TEST(ScenarioRun, RequestsCarryHeadersAndSignaturesOfTheScenariosChoosing) {
  const std::string text = R"(name: signed
steps:
  - create: alice
  - sign_up: alice
  - request:
      system: threads
      method: POST
      path: /webhooks/instagram
      from: attacker
      sign: SIGN
      body: '{"object":"user","entry":[{"id":"{id:alice}","time":1767225600,"changes":[{"field":"username","value":{"username":"mallory","version":99}}]}]}'
    expect: {status: STATUS}
  - expect:
      profile: {account: alice, username: NAME}
)";
  const auto with = [&](const char* sign, const char* status, const char* name) {
    std::string t = text;
    t.replace(t.find("SIGN"), 4, sign);
    t.replace(t.find("STATUS"), 6, status);
    t.replace(t.find("NAME"), 4, name);
    return run_scenario(parse_scenario(t, "t.yaml"));
  };
  const auto wrong = with("\"key:not the secret\"", "403", "alice");
  EXPECT_TRUE(wrong.passed) << (wrong.failure ? wrong.failure->actual : wrong.error);
  const auto right = with("app-secret", "200", "mallory");
  EXPECT_TRUE(right.passed) << (right.failure ? right.failure->actual : right.error);
  EXPECT_THROW(
      parse_scenario(std::string(text).replace(text.find("SIGN"), 4, "sometimes"), "t.yaml"),
      scenario_error);
}

// A request keeps what its answer gives (a code, a CSRF token) for the requests after it, as a
// client does; a pattern the answer does not match fails the step.
TEST(ScenarioRun, ARequestKeepsAValueOfItsAnswerForTheNext) {
  const std::string text = R"yaml(name: kept
steps:
  - create: alice
  - sign_up: {account: alice, browser: b}
  - request:
      system: idp
      browser: b
      path: "/oauth/authorize?client_id={client_id}&redirect_uri=http%3A%2F%2Fthreads.sim%2Fcallback&response_type=code&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
      keep: request
      pattern: 'PATTERN'
    expect: {status: 302}
  - request: {system: idp, browser: b, path: "/oauth/consent?request={kept:request}", keep: csrf, pattern: 'name="csrf" value="([^"]+)"'}
    expect: {status: 200, contains: 'value="{kept:request}"'}
)yaml";
  const auto with = [&](const char* pattern) {
    std::string t = text;
    t.replace(t.find("PATTERN"), 7, pattern);
    return run_scenario(parse_scenario(t, "t.yaml"));
  };
  const auto kept = with(R"(request=([^&[:space:]]+))");
  EXPECT_TRUE(kept.passed) << (kept.failure ? kept.failure->actual : kept.error);
  // Kept wrong (the page's path in place of the request's id), the consent page is refused.
  const auto wrong = with("Location: (/oauth/consent)");
  ASSERT_FALSE(wrong.passed);
  ASSERT_TRUE(wrong.failure);
  EXPECT_EQ(wrong.failure->index, 3u);
  const auto missing = with("nowhere=(\\w+)");
  ASSERT_FALSE(missing.passed);
  ASSERT_TRUE(missing.failure);
  EXPECT_EQ(missing.failure->index, 2u);
  EXPECT_NE(missing.failure->what.find("keep request"), std::string::npos) << missing.failure->what;
}

// An ID token's at_hash binds the access token beside it, under the hash its alg names. The
// expected values are the published examples of the oidc-token-hash package (RS256, and EdDSA
// over Ed25519, which OpenID Connect Token Hash Algorithms 1.0 gives SHA-512), not this
// code's own arithmetic.
TEST(Protocol, AnIdTokensAtHashMustBindTheAccessTokenBesideIt) {
  const std::string access =
      "YmJiZTAwYmYtMzgyOC00NzhkLTkyOTItNjJjNDM3MGYzOWIy9sFhvH8K_x8UIHj1osisS57f5DduL-ar_qw5jl3lthwp"
      "Mjm283aVMQXDmoqqqydDSqJfbhptzw8rUVwkuQbolw";
  const std::string rs256 = "x7vk7f6BvQj0jQHYFIk4ag";
  const std::string eddsa = "EGEAhGYyfuwDaVTifvrWSoD5MSy_5hZPy6I7Vm-7pTQ";
  const auto answer = [](const std::string& alg, const std::string& at_hash,
                         const std::string& token) {
    const std::string jwt = base64url_encode(R"({"alg":")" + alg + R"(","typ":"JWT"})") + "." +
                            base64url_encode(R"({"sub":"1","at_hash":")" + at_hash + R"("})") +
                            ".c2lnbmF0dXJl";
    return R"({"access_token":")" + token + R"(","id_token":")" + jwt + R"("})";
  };
  EXPECT_EQ(id_token_problem(answer("RS256", rs256, access)), "");
  EXPECT_EQ(id_token_problem(answer("EdDSA", eddsa, access)), "");
  // The other algorithm's hash, another access token, an alg without a known hash.
  EXPECT_NE(id_token_problem(answer("EdDSA", rs256, access)), "");
  EXPECT_NE(id_token_problem(answer("RS256", eddsa, access)), "");
  EXPECT_NE(id_token_problem(answer("RS256", rs256, access + "x")), "");
  EXPECT_NE(id_token_problem(answer("none", rs256, access)), "");
  // No ID token, or one without at_hash: nothing to check.
  EXPECT_EQ(id_token_problem(R"({"access_token":"x"})"), "");
  EXPECT_EQ(id_token_problem(R"({"access_token":"x","id_token":")" +
                             base64url_encode(std::string(R"({"alg":"RS256"})")) + "." +
                             base64url_encode(std::string(R"({"sub":"1"})")) + ".c2ln\"}"),
            "");
}

// What HTTP semantics require of every answer, whatever the endpoint (RFC 9110).
TEST(Protocol, EveryAnswerMeetsHttpSemantics) {
  http::response r;
  r.status = 401;
  EXPECT_NE(http_semantics_problem(r), "") << "a 401 names no scheme";
  r.headers.set("WWW-Authenticate", "Bearer");
  EXPECT_EQ(http_semantics_problem(r), "");
  r = {};
  r.status = 405;
  EXPECT_NE(http_semantics_problem(r), "") << "a 405 lists no method";
  r.headers.set("Allow", "GET");
  EXPECT_EQ(http_semantics_problem(r), "");
  r = {};
  r.status = 204;
  EXPECT_EQ(http_semantics_problem(r), "");
  r.body = "{}";
  EXPECT_NE(http_semantics_problem(r), "") << "a 204 has no content";
  r.status = 200;
  EXPECT_EQ(http_semantics_problem(r), "");
}

// The example of the Standard Webhooks specification holds; without a header, with a
// timestamp that is no number, or with a signature of other content, it does not.
TEST(Protocol, AWebhookIsSignedAsStandardWebhooksDefines) {
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  http::request r;
  r.method = "POST";
  r.body = R"({"test": 2432232314})";
  r.headers.set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek");
  r.headers.set("webhook-timestamp", "1614265330");
  r.headers.set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  EXPECT_EQ(standard_webhooks_problem(r, secret), "");
  r.headers.set("webhook-signature", "v1,bm9wZQ== v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  EXPECT_EQ(standard_webhooks_problem(r, secret), "") << "one of the list signs it";
  auto other = r;
  other.body = R"({"test": 2432232315})";
  EXPECT_NE(standard_webhooks_problem(other, secret), "");
  other = r;
  other.headers.set("webhook-timestamp", "1614265330.5");
  EXPECT_NE(standard_webhooks_problem(other, secret), "");
  for (const char* h : {"webhook-id", "webhook-timestamp", "webhook-signature"}) {
    other = r;
    other.headers.set(h, "");  // as good as absent
    EXPECT_NE(standard_webhooks_problem(other, secret), "") << h;
  }
}

// A pushed SET asks for a JSON answer, whatever the case or parameters of its Accept; one
// without Accept, asking for another type, or not posted, breaks RFC 8935 section 2.1.
TEST(Protocol, APushedSetAsksForJson) {
  http::request r;
  r.method = "POST";
  r.headers.set("Content-Type", "application/secevent+jwt");
  r.headers.set("Accept", "application/json");
  EXPECT_EQ(pushed_set_problem(r), "");
  r.headers.set("Accept", " Application/JSON; charset=utf-8");
  EXPECT_EQ(pushed_set_problem(r), "");
  for (const char* accept : {"", "text/html", "application/jsonx", "*/*"}) {
    auto other = r;
    other.headers.set("Accept", accept);
    EXPECT_NE(pushed_set_problem(other), "") << accept;
  }
  auto other = r;
  other.method = "PUT";
  EXPECT_NE(pushed_set_problem(other), "");
}

// `lacks_header` fails a step whose answer carries the header: the provider names HTTP Basic on
// a refused client however it authenticated, and no answer of a public profile asks for one.
TEST(ScenarioRun, AnAnswerCanBeCheckedForAHeaderItLacks) {
  const auto run = [](const std::string& request) {
    return run_scenario(parse_scenario(
        "name: no-header\nsteps:\n  - create: alice\n  - sign_up: alice\n" + request, "t.yaml"));
  };
  const auto refused = run(R"(  - request:
      system: idp
      method: POST
      path: /oauth/token
      header: "Content-Type: application/x-www-form-urlencoded"
      body: "grant_type=refresh_token&refresh_token=x&client_id={client_id}&client_secret=wrong"
    expect: {status: 401, lacks_header: WWW-Authenticate}
)");
  ASSERT_FALSE(refused.passed);
  ASSERT_TRUE(refused.failure);
  EXPECT_EQ(refused.failure->what, "no WWW-Authenticate header");
  EXPECT_NE(refused.failure->actual.find("Basic realm="), std::string::npos);
  const auto open = run(R"(  - request: {system: threads, path: /api/profiles/alice}
    expect: {status: 200, lacks_header: [WWW-Authenticate, Set-Cookie]}
)");
  EXPECT_TRUE(open.passed) << (open.failure ? open.failure->actual : open.error);
}

// `carried` counts what the network carried from the action's start to its answer: the
// dependent service's notice to the ad platform goes out inside the request that followed (it
// is sent as soon as the change commits), and nothing goes to the platform's deletion endpoint.
TEST(ScenarioRun, WhatAnActionMadeTheServicesSendBeforeItsAnswerIsCounted) {
  const auto run = [](const std::string& carried) {
    return run_scenario(
        parse_scenario("name: carried\nsteps:\n  - create: alice\n"
                       "  - create: bob\n  - sign_up: alice\n"
                       "  - sign_up: bob\n"
                       "  - follow_on_threads: {account: bob, target: alice}\n"
                       "    expect: {status: 200, carried: " +
                           carried + "}\n",
                       "t.yaml"));
  };
  const auto sent =
      run("[{from: threads, to: ads, method: POST, path: /v1/activity, count: 1}, "
          "{from: browser, to: threads, path: /api/follows, count: 1}]");
  EXPECT_TRUE(sent.passed) << (sent.failure ? sent.failure->actual : sent.error);
  const auto none = run("{to: ads, path: /v1/deletions, min: 1}");
  ASSERT_FALSE(none.passed);
  ASSERT_TRUE(none.failure);
  EXPECT_EQ(none.failure->expected, "at least 1");
  EXPECT_NE(none.failure->actual.find("0 (carried: "), std::string::npos);
  EXPECT_NE(none.failure->actual.find("threads->ads POST /v1/activity (delivered)"),
            std::string::npos)
      << none.failure->actual;
  // A prefix ends at a path segment: /v1/act is not /v1/activity.
  EXPECT_FALSE(run("{to: ads, path: /v1/act, min: 1}").passed);
}

// `lacks` fails a step whose answer holds the piece, `contains` one whose answer does not; an
// empty piece, which every body holds, is refused when the file is read.
TEST(ScenarioRun, AnAnswerCanBeCheckedForWhatItLacks) {
  const std::string text = R"yaml(name: lacks
steps:
  - create: alice
  - sign_up: alice
  - request: {system: threads, path: /api/profiles/alice}
    expect: {status: 200, KEY: 'PIECE'}
)yaml";
  const auto with = [&](const char* key, const char* piece) {
    std::string t = text;
    t.replace(t.find("KEY"), 3, key);
    t.replace(t.find("PIECE"), 5, piece);
    return run_scenario(parse_scenario(t, "t.yaml"));
  };
  const auto holds = with("contains", R"("username":"alice")");
  EXPECT_TRUE(holds.passed) << (holds.failure ? holds.failure->actual : holds.error);
  const auto lacks = with("lacks", R"("username":"alice")");
  ASSERT_FALSE(lacks.passed);
  ASSERT_TRUE(lacks.failure);
  EXPECT_EQ(lacks.failure->what, "body lacks");
  const auto absent = with("lacks", R"("password")");
  EXPECT_TRUE(absent.passed) << (absent.failure ? absent.failure->actual : absent.error);
  std::string empty = text;
  empty.replace(empty.find("KEY"), 3, "lacks").replace(empty.find("'PIECE'"), 7, "''");
  EXPECT_THROW(parse_scenario(empty, "t.yaml"), scenario_error);
}

// What a check compared is evidence: each state read is an entry, with the values read and the
// answer's digest, and the check's outcome cites it, a failed one too. Flow rules and counts
// leave the reads out.
TEST(ScenarioRun, TheStateAChecksReadsIsLoggedAndCited) {
  const auto s = parse_scenario(R"(name: reads
profile: fault.rename_not_propagated
steps:
  - create: alice
  - sign_up: alice
  - rename: {account: alice, to: alice.new}
  - advance: 10m
  - expect:
      account: {account: alice, username: alice.new}
      profile: {account: alice, username: alice.new}
    claims: x.claim
)",
                                "t.yaml");
  const auto reads_of = [](const run_result& r) {
    std::vector<evidence::flow> reads;
    for (const auto leaf : r.checks.at(0).leaves)
      if (evidence::is_state_read(r.flows.at(leaf))) reads.push_back(r.flows.at(leaf));
    return reads;
  };
  // The profile is checked first and fails: its read is cited.
  const auto r = run_scenario(s, {.audit = true});
  ASSERT_EQ(r.checks.size(), 1u);
  EXPECT_FALSE(r.checks.front().passed);
  auto reads = reads_of(r);
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_NE(
      reads[0].note.find("profile of alice: HTTP 200; 1 profiles; newest: username=\"alice\""),
      std::string::npos)
      << reads[0].note;
  // Under the documented behaviour both checks hold, and both reads are cited.
  const auto ok = run_scenario(s, {.profile = "documented", .audit = true});
  ASSERT_EQ(ok.checks.size(), 1u);
  EXPECT_TRUE(ok.checks.front().passed);
  reads = reads_of(ok);
  ASSERT_EQ(reads.size(), 2u);
  EXPECT_NE(reads[1].note.find("provider account alice: HTTP 200; username=\"alice.new\""),
            std::string::npos)
      << reads[1].note;
  const auto& read = reads[0];
  EXPECT_EQ(read.from, "auditor");
  EXPECT_EQ(read.to, "threads");
  EXPECT_EQ(read.payload_digest.size(), 64u);
  // A rule naming no sender does not see the reads.
  flow_rule any;
  any.type = flow_rule::kind::require;
  EXPECT_FALSE(any.matches(read));
}

// A step or fault with `over` is part of the story only over those channels.
TEST(ScenarioRun, OverLimitsAStepOrAFaultToItsChannels) {
  const auto s = parse_scenario(R"(name: over
faults:
  - {kind: drop, from: idp, to: threads, field: username, account: a, over: [ssf-push]}
steps:
  - create: a
  - sign_up: a
  - rename: {account: a, to: a.new}
  - over: [ssf-poll]
    expect:
      profile: {account: a, username: not-a-name}
  - expect:
      profile: {account: a, username: a.new}
)",
                                "over.yaml");
  const auto webhook = run_scenario(s, {.changes = threads_sim::channel::webhook});
  EXPECT_TRUE(webhook.passed) << webhook.error;
  EXPECT_EQ(webhook.steps_run, 4u);
  // Over ssf-poll the step it names runs, and fails.
  const auto poll = run_scenario(s, {.changes = threads_sim::channel::ssf_poll});
  ASSERT_FALSE(poll.passed);
  ASSERT_TRUE(poll.failure);
  EXPECT_EQ(poll.failure->where.line, 10);
  // Over ssf-push the fault loses every rename: the last step fails.
  const auto push = run_scenario(s, {.changes = threads_sim::channel::ssf_push});
  ASSERT_FALSE(push.passed);
  ASSERT_TRUE(push.failure);
  EXPECT_EQ(push.failure->where.line, 12);
}

TEST(ScenarioRun, AnActionThatFailsUnexpectedlyFailsTheStep) {
  const auto s = parse_scenario(
      "name: x\nsteps:\n  - create: alice\n  - sign_up: alice\n"
      "  - edit: {account: alice, username: other}\n",
      "t.yaml");
  const auto r = run_scenario(s);
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->index, 2u);
  EXPECT_NE(r.failure->actual.find("403"), std::string::npos) << r.failure->actual;
}

TEST(ScenarioRun, WhatTheServicesLogStaysWithTheRunAndShowsOnAFailure) {
  // The crash is injected as a storage failure inside the import: the service answers 503 and
  // says why on its side. That line belongs to the run, not to the terminal running it.
  const auto s = parse_scenario(R"(name: crash
steps:
  - create: alice
  - crash: {system: threads, during: import}
  - sign_up: alice
    expect: {status: 502, step: /link}
  - expect:
      profile: {account: alice, profiles: 1}
)",
                                "crash.yaml");
  testing::internal::CaptureStderr();
  const auto r = run_scenario(s);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  ASSERT_TRUE(r.failure);  // nothing of the import survived
  ASSERT_EQ(r.service_log.size(), 1u);
  EXPECT_TRUE(r.service_log[0].starts_with("+0s threads: storage: ")) << r.service_log[0];
  EXPECT_NE(r.service_log[0].find("crash during the import"), std::string::npos);

  const auto dir = std::filesystem::temp_directory_path() / "linksim-service-log-test";
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "crash.yaml") << R"(name: crash
steps:
  - create: alice
  - crash: {system: threads, during: import}
  - sign_up: alice
  - expect:
      profile: {account: alice, profiles: 1}
)";
  }
  std::ostringstream out, err;
  EXPECT_EQ(app::run({.paths = {dir}}, out, err), 1);
  EXPECT_NE(out.str().find("what the services logged:\n    +0s threads: storage: "),
            std::string::npos)
      << out.str();
  std::filesystem::remove_all(dir);
}

std::vector<scenario> load_library() {
  std::vector<scenario> out;
  for (const auto& f : app::scenario_files({library})) out.push_back(load_scenario(f));
  return out;
}

TEST(ScenarioLibrary, EveryScenarioPassesAndTheSameSeedGivesTheSameRoot) {
  const auto all = load_library();
  ASSERT_GE(all.size(), 12u);
  std::size_t runs = 0;
  for (const auto& s : all) {
    // Every channel the story is told over: the provider's webhooks, and its Shared Signals
    // stream pushed and polled.
    for (const auto c : s.changes) {
      SCOPED_TRACE(s.file + " over " + std::string(threads_sim::to_string(c)));
      const auto a = run_scenario(s, {.changes = c});
      EXPECT_TRUE(a.passed) << (a.failure ? a.failure->where.str() + " " + a.failure->what + ": " +
                                                a.failure->expected + " / " + a.failure->actual
                                          : a.error);
      const auto b = run_scenario(s, {.changes = c});
      EXPECT_EQ(a.root, b.root);
      EXPECT_EQ(a.root.size(), 64u);
      ++runs;
    }
  }
  EXPECT_GE(runs, 2 * all.size());  // most stories hold over all three channels
}

TEST(ScenarioLibrary, AnotherSeedWithFaultsGivesAnotherHistoryThatStillConverges) {
  const auto s = load_scenario(library / "many_renames.yaml");
  const auto a = run_scenario(s);
  ASSERT_TRUE(a.passed);
  std::size_t different = 0;
  for (std::uint64_t seed = 100; seed < 105; ++seed) {
    const auto b = run_scenario(s, {.seed = seed});
    EXPECT_TRUE(b.passed) << "seed " << seed;
    if (b.root != a.root) ++different;
  }
  EXPECT_EQ(different, 5u);
}

TEST(ScenarioLibrary, EveryFaultProfileIsCaughtByAScenario) {
  const auto all = load_library();
  for (const auto& b : threads_sim::behaviours()) {
    if (!b.name.starts_with("fault.")) continue;
    // One failing scenario is enough: the rest are not run.
    const bool caught = std::any_of(all.begin(), all.end(), [&](const scenario& s) {
      return !run_scenario(s, {.profile = b.name}).passed;
    });
    EXPECT_TRUE(caught) << b.name << " passes every scenario of the library";
  }
}

TEST(ScenarioLibrary, RealHttpGivesTheSameRootsAsTheSimulation) {
  for (const char* name : {"crash_mid_import.yaml", "username_swap.yaml", "forged_webhook.yaml",
                           "idp_outage_during_sign_up.yaml", "token_flows_by_hand.yaml",
                           "the_services_pages.yaml", "ad_setting_over_shared_signals.yaml"}) {
    SCOPED_TRACE(name);
    const auto s = load_scenario(library / name);
    const auto sim = run_scenario(s);
    app::loopback_exposure loopback;
    const auto real = run_scenario(s, {.expose = [&](const std::string& system, http::handler h) {
                                     return loopback.expose(system, std::move(h));
                                   }});
    EXPECT_TRUE(real.passed) << (real.failure
                                     ? real.failure->where.str() + " " + real.failure->what +
                                           ": expected " + real.failure->expected + ", got " +
                                           real.failure->actual
                                     : real.error);
    EXPECT_EQ(sim.root, real.root);
  }
}

TEST(RunCommand, ABadFileRunsNothingAndExitsTwo) {
  const auto dir = std::filesystem::temp_directory_path() / "linksim-run-command-test";
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "a.yaml") << "name: fine\nsteps:\n  - create: alice\n";
    std::ofstream(dir / "b.yaml") << "name: bad\nsteps:\n  - create: alice\n  - advance: soon\n";
  }
  std::ostringstream out, err;
  EXPECT_EQ(app::run({.paths = {dir}}, out, err), 2);
  EXPECT_EQ(out.str(), "");
  EXPECT_NE(err.str().find("b.yaml:4:"), std::string::npos) << err.str();
  std::filesystem::remove(dir / "b.yaml");
  std::ostringstream out2, err2;
  EXPECT_EQ(app::run({.paths = {dir}}, out2, err2), 0) << err2.str();
  EXPECT_NE(out2.str().find("PASS fine"), std::string::npos) << out2.str();
  std::filesystem::remove_all(dir);
  EXPECT_THROW(app::run({.paths = {dir}}, out2, err2), std::runtime_error);
}

}  // namespace
}  // namespace linksim::harness

namespace linksim::harness {
namespace {

TEST(Fuzz, TheDocumentedBehaviourKeepsEveryInvariant) {
  const auto r = fuzz({.first_seed = 1, .seeds = 60});
  EXPECT_EQ(r.seeds_run, 60u);
  EXPECT_FALSE(r.failure) << (r.failure ? r.failure->yaml : "");
  EXPECT_GT(r.steps_run, 60u * 20);
}

TEST(Fuzz, SeveralJobsGiveTheSameReportAsOne) {
  // Passing: every seed run and counted once.
  const auto one = fuzz({.first_seed = 1, .seeds = 12});
  const auto three = fuzz({.first_seed = 1, .seeds = 12, .jobs = 3});
  EXPECT_FALSE(three.failure);
  EXPECT_EQ(three.seeds_run, 12u);
  EXPECT_EQ(three.steps_run, one.steps_run);
  // Failing: the lowest failing seed, its shortened history, and only the seeds up to it,
  // although the other jobs may have run seeds past it.
  const fuzz_options failing{
      .first_seed = 1, .seeds = 30, .profile = "fault.bio_overwritten", .max_shrink_runs = 40};
  const auto a = fuzz(failing);
  auto parallel = failing;
  parallel.jobs = 4;
  std::size_t calls = 0;
  const auto b = fuzz(parallel, [&](std::uint64_t, bool) { ++calls; });
  ASSERT_TRUE(a.failure);
  ASSERT_TRUE(b.failure);
  EXPECT_EQ(b.failure->seed, a.failure->seed);
  EXPECT_EQ(b.failure->yaml, a.failure->yaml);
  EXPECT_EQ(b.failure->result.root, a.failure->result.root);
  EXPECT_EQ(b.seeds_run, a.seeds_run);
  EXPECT_EQ(b.steps_run, a.steps_run);
  EXPECT_GE(calls, b.seeds_run);
}

TEST(Fuzz, TheSameSeedGeneratesTheSameHistory) {
  EXPECT_EQ(fuzz_case(7, {}), fuzz_case(7, {}));
  EXPECT_NE(fuzz_case(7, {}), fuzz_case(8, {}));
}

// Each fault profile that breaks an invariant is found, and its shortened history is a
// scenario that still fails when replayed.
TEST(Fuzz, FindsAFailingSeedUnderEachFaultProfileThatBreaksAnInvariant) {
  for (const char* p :
       {"fault.two_profiles", "fault.rename_not_propagated", "fault.bio_overwritten",
        "fault.content_kept", "fault.unsigned_webhooks", "fault.username_editable"}) {
    SCOPED_TRACE(p);
    const auto r = fuzz({.first_seed = 1, .seeds = 50, .profile = p, .max_shrink_runs = 60});
    ASSERT_TRUE(r.failure);
    EXPECT_LE(r.failure->shrunk_to, r.failure->operations);
    EXPECT_FALSE(r.failure->result.passed);
    const auto again = run_scenario(parse_scenario(r.failure->yaml, "replay.yaml"));
    EXPECT_FALSE(again.passed);
    EXPECT_EQ(again.root, r.failure->result.root);
  }
}

}  // namespace
}  // namespace linksim::harness
