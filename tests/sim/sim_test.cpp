// The simulation: virtual time, faults, and reproducibility of whole runs.
#include "linksim/evidence/merkle.hpp"
#include "linksim/idp/service.hpp"
#include "linksim/sim/world.hpp"
#include "linksim/store/sqlite.hpp"
#include "linksim/threads_sim/service.hpp"

#include "../temp_dir.hpp"

#include <algorithm>

#include <gtest/gtest.h>

namespace linksim::testing {
namespace {

using namespace std::chrono_literals;

TEST(Scheduler, RunsInTimeOrderAndJumpsOverIdleTime) {
  sim::scheduler s;
  std::vector<int> order;
  s.after(2h, [&] { order.push_back(3); });
  s.after(1s, [&] { order.push_back(1); });
  s.after(1s, [&] { order.push_back(2); });  // same time: scheduling order
  const auto start = s.now();
  EXPECT_EQ(s.run_until_idle(), 3u);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(s.now() - start, 2h);
}

// The run's evidence is kept compactly; every flow comes back exactly as recorded, and the root
// is the RFC 6962 root of the canonical entries.
TEST(MemoryLog, GivesBackEveryFlowAsRecorded) {
  const auto t = time_point{} + 1234567ms;
  const std::vector<evidence::flow> in = {
      {t,
       "idp",
       "threads",
       "1784140000000001",
       {"user.account.username", "user.account.id"},
       "essential.service",
       "webhook",
       to_hex(sha256("body")),
       "username status=200"},
      {t + 1s,
       "threads",
       "ads",
       "1784140000000001",
       {},
       "marketing.advertising",
       "ads.event",
       "not-a-digest",
       ""},
      {t + 2s, "idp", "threads", "", {""}, "", "", to_hex(sha256("x")).substr(0, 63) + "G", "n"},
      // Subjects kept as numbers read back as written; the others are kept as text.
      {t + 2s, "idp", "threads", "0", {}, "", "", "", ""},
      {t + 2s, "idp", "threads", "007", {}, "", "", "", ""},
      {t + 2s, "idp", "threads", "999999999999999999", {}, "", "", "", ""},
      {t + 2s, "idp", "threads", "1000000000000000000", {}, "", "", "", ""},
      {t + 2s, "idp", "threads", "18446744073709551616", {}, "", "", "", ""},
      {t + 2s, "idp", "threads", "-5", {}, "", "", "", ""},
      {t + 2s, "idp", "threads", "12a", {}, "", "", "", ""},
      {t + 3s,
       "idp",
       "threads",
       "42",
       {"a", "", "b"},
       "p",
       "c",
       "ABCDEF" + to_hex(sha256("y")).substr(6),
       "upper-case hex is kept as written"},
  };
  sim::memory_log log;
  std::vector<digest> leaves;
  for (const auto& f : in) {
    log.record(f);
    leaves.push_back(evidence::leaf_hash(as_bytes(evidence::canonical_entry(f))));
  }
  ASSERT_EQ(log.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) EXPECT_EQ(log.at(i), in[i]) << i;
  EXPECT_EQ(log.flows(), in);
  EXPECT_EQ(log.root(), evidence::root(leaves));
}

// Notes are packed into blocks of 1 MiB: notes that fill several blocks, and one longer than a
// block, read back as written, before and after the blocks that follow them.
TEST(MemoryLog, NotesReadBackAcrossBlocks) {
  sim::memory_log log;
  std::vector<evidence::flow> in;
  const auto t = time_point{} + 1s;
  for (std::size_t i = 0; i < 3000; ++i) {
    std::string note =
        "note " + std::to_string(i) + ": " + std::string(700 + i % 300, 'a' + i % 26);
    if (i == 1500) note = std::string((1 << 20) + 17, 'z');  // larger than a block
    in.push_back({t, "idp", "threads", std::to_string(i), {}, "p", "c", "d", std::move(note)});
    log.record(in.back());
  }
  ASSERT_EQ(log.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(log.at(i).note, in[i].note) << i;
}

// The tree is kept as its frontier: its root equals RFC 6962's root of every prefix, across
// every shape of tree up to 70 leaves and past the log's first storage chunk (8 192 flows).
TEST(MemoryLog, RootEqualsTheTreeOfEveryPrefix) {
  sim::memory_log log;
  std::vector<digest> leaves;
  EXPECT_EQ(log.root(), evidence::empty_root());
  const auto t = time_point{} + 1s;
  auto flow_number = [&](std::size_t i) {
    return evidence::flow{t + std::chrono::milliseconds(i),
                          "idp",
                          "threads",
                          std::to_string(i),
                          {"user.account.username"},
                          "essential.service",
                          "webhook",
                          to_hex(sha256(std::to_string(i))),
                          "n"};
  };
  for (std::size_t i = 0; i < 8200; ++i) {
    const auto f = flow_number(i);
    log.record(f);
    leaves.push_back(evidence::leaf_hash(as_bytes(evidence::canonical_entry(f))));
    if (i < 70 || i == 8191 || i == 8192) {
      ASSERT_EQ(log.root(), evidence::root(leaves)) << i + 1;
    }
  }
  EXPECT_EQ(log.root(), evidence::root(leaves));
  EXPECT_EQ(log.size(), 8200u);
  EXPECT_EQ(log.at(8191), flow_number(8191));
  EXPECT_EQ(log.at(8192), flow_number(8192));
  EXPECT_THROW((void)log.at(8200), std::out_of_range);
}

// A population signs up, renames several times, and the world runs until quiet.
struct population_run {
  std::string root;
  std::size_t mismatched = 0;
  std::size_t entries = 0;
  std::size_t webhook_requests = 0;  // counted by run_batched only
  sim::network_stats net;
};

// The accounts whose one profile does not carry the provider's current username.
std::size_t mismatched_usernames(sim::world& w, const std::vector<std::int64_t>& ids) {
  std::size_t n = 0;
  for (auto id : ids) {
    const auto ig = w.idp().get_account(id).value();
    const auto profiles = w.threads().profiles_of_account(id);
    if (profiles.size() != 1 || profiles.front().username != ig.username) ++n;
  }
  return n;
}

population_run run_population(std::uint64_t seed, const std::string& profile, double loss,
                              int accounts = 20, int renames = 3) {
  temp_dir dir;
  sim::world w({.seed = seed, .profile = profile, .dir = dir.path()});
  if (loss > 0)
    w.net().add_fault({.kind = sim::fault_kind::drop,
                       .match = {.from = "idp", .to = "threads", .path_prefix = "/webhooks/"},
                       .probability = loss});
  std::vector<std::int64_t> ids;
  for (int i = 0; i < accounts; ++i) {
    const std::string name = "user" + std::to_string(i);
    ids.push_back(w.create_account(name));
    auto r = w.sign_up(name);
    EXPECT_EQ(r.status, 303) << r.error;
    w.run_for(1s);
  }
  for (int k = 1; k <= renames; ++k) {
    for (int i = 0; i < accounts; ++i) {
      const std::string name = "user" + std::to_string(i) + "_r" + std::to_string(k);
      EXPECT_TRUE(w.idp().update_profile(ids[static_cast<std::size_t>(i)], {.username = name}));
      w.run_for(10s);
    }
  }
  // Lost webhooks are retried for 36 hours and polls run every 5 minutes: a quiet hour is
  // enough for every profile to catch up.
  w.run_for(1h);
  population_run out;
  out.mismatched = mismatched_usernames(w, ids);
  out.root = to_hex(w.evidence().root());
  out.entries = w.evidence().size();
  out.net = w.net().stats();
  return out;
}

TEST(Simulation, TheSameSeedGivesTheSameEvidenceRoot) {
  const auto a = run_population(42, "documented", 0.3);
  const auto b = run_population(42, "documented", 0.3);
  EXPECT_EQ(a.root, b.root);
  EXPECT_EQ(a.entries, b.entries);
  EXPECT_GT(a.net.dropped, 0u);
  // Another seed with faults: another history, which converges all the same.
  const auto c = run_population(43, "documented", 0.3);
  EXPECT_NE(a.root, c.root);
  EXPECT_EQ(a.mismatched, 0u);
  EXPECT_EQ(c.mismatched, 0u);
}

TEST(Simulation, WithThirtyPercentOfWebhooksLostEveryMirrorConverges) {
  const auto r = run_population(7, "documented", 0.3, 30, 4);
  EXPECT_EQ(r.mismatched, 0u);
  EXPECT_GT(r.net.dropped, 10u);
}

TEST(Simulation, WithEveryWebhookLostPollingAloneConverges) {
  const auto r = run_population(8, "documented", 1.0, 10, 2);
  EXPECT_EQ(r.mismatched, 0u);
}

TEST(Simulation, AFaultProfileIsCaughtByTheSameInvariant) {
  const auto r = run_population(9, "fault.rename_not_propagated", 0.0, 10, 1);
  EXPECT_EQ(r.mismatched, 10u);
}

TEST(Simulation, OneMessageCanBeTargeted) {
  temp_dir dir;
  sim::world w({.seed = 1, .dir = dir.path()});
  const auto alice = w.create_account("alice");
  ASSERT_EQ(w.sign_up("alice").status, 303);
  // Drop the 2nd username webhook for alice, and only it.
  w.net().add_fault(
      {.kind = sim::fault_kind::drop,
       .match = {.to = "threads", .field = "username", .subject = std::to_string(alice)},
       .nth = 2});
  ASSERT_TRUE(w.idp().update_profile(alice, {.username = "alice1"}));
  w.run_for(1s);
  EXPECT_EQ(w.threads().profiles_of_account(alice).front().username, "alice1");
  ASSERT_TRUE(w.idp().update_profile(alice, {.username = "alice2"}));
  w.run_for(1s);
  EXPECT_EQ(w.threads().profiles_of_account(alice).front().username, "alice1") << "dropped";
  EXPECT_EQ(w.net().stats().dropped, 1u);
  w.run_for(10s);  // the provider retries after 5 s
  EXPECT_EQ(w.threads().profiles_of_account(alice).front().username, "alice2");
}

// A corrupt fault delivers the request and hands the sender another body: the first half of the
// handler's answer, or the rule's. The observer is shown the handler's answer.
TEST(Network, ACorruptFaultHandsTheSenderABrokenAnswer) {
  temp_dir dir;
  sim::world w({.seed = 1, .dir = dir.path()});
  const auto alice = w.create_account("alice");
  std::vector<sim::message> seen;
  w.net().observe([&](const sim::message& m) {
    if (m.fate == "corrupted") seen.push_back(m);
  });
  w.net().add_fault({.kind = sim::fault_kind::corrupt,
                     .match = {.from = "threads", .to = "idp", .path_prefix = "/me"},
                     .nth = 1});
  auto r = w.sign_up("alice");
  EXPECT_EQ(r.status, 502) << r.error;
  EXPECT_TRUE(w.threads().profiles_of_account(alice).empty());
  EXPECT_EQ(w.net().stats().corrupted, 1u);
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_TRUE(seen[0].response);
  EXPECT_NE(seen[0].response->body.find("\"username\":\"alice\""), std::string::npos)
      << seen[0].response->body;
  // A body of the rule's own: an answer that names no account is no profile either.
  w.net().add_fault({.kind = sim::fault_kind::corrupt,
                     .match = {.from = "threads", .to = "idp", .path_prefix = "/me"},
                     .nth = 1,
                     .body = R"({"id":"1","version":1})"});
  EXPECT_EQ(w.sign_up("alice").status, 502);
  EXPECT_EQ(w.net().stats().corrupted, 2u);
  EXPECT_EQ(w.sign_up("alice").status, 303);
}

// A message sent in a party's name carries the party as its sender, as a forged one would, and
// is marked as the scenario's; the party's own messages are not.
TEST(Network, AMessageSentInAPartysNameIsMarkedScripted) {
  temp_dir dir;
  sim::world w({.seed = 1, .dir = dir.path()});
  w.create_account("alice");
  std::vector<sim::message> seen;
  w.net().observe([&](const sim::message& m) { seen.push_back(m); });
  http::request r;
  r.method = "GET";
  r.target = "http://idp.sim/.well-known/openid-configuration";
  ASSERT_TRUE(w.net().scripted_endpoint("threads").send(r));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].from, "threads");
  EXPECT_EQ(seen[0].to, "idp");
  EXPECT_TRUE(seen[0].scripted);
  seen.clear();
  EXPECT_EQ(w.sign_up("alice").status, 303);
  ASSERT_FALSE(seen.empty());
  EXPECT_TRUE(
      std::none_of(seen.begin(), seen.end(), [](const sim::message& m) { return m.scripted; }));
  EXPECT_TRUE(std::any_of(seen.begin(), seen.end(),
                          [](const sim::message& m) { return m.from == "threads"; }));
}

// Changes made together travel as one request's entries, as Meta may batch them.
population_run run_batched(std::uint64_t seed, std::size_t batch, int accounts, int rounds) {
  sim::world w({.seed = seed, .in_memory = true, .webhook_batch = batch});
  w.net().add_fault({.kind = sim::fault_kind::drop,
                     .match = {.from = "idp", .to = "threads", .path_prefix = "/webhooks/"},
                     .probability = 0.3});
  std::vector<std::int64_t> ids;
  for (int i = 0; i < accounts; ++i) {
    const std::string name = "user" + std::to_string(i);
    ids.push_back(w.create_account(name));
    EXPECT_EQ(w.sign_up(name).status, 303);
  }
  w.run_for(1s);
  population_run out;
  w.net().observe([&](const sim::message& m) {
    if (m.request.target.starts_with("/webhooks/")) ++out.webhook_requests;
  });
  for (int k = 1; k <= rounds; ++k) {
    for (int i = 0; i < accounts; ++i)  // a round of changes made at one instant
      EXPECT_TRUE(w.idp().update_profile(
          ids[static_cast<std::size_t>(i)],
          {.username = "user" + std::to_string(i) + "_r" + std::to_string(k)}));
    w.run_for(1min);
  }
  w.run_for(1h);
  out.mismatched = mismatched_usernames(w, ids);
  out.root = to_hex(w.evidence().root());
  out.net = w.net().stats();
  return out;
}

TEST(Simulation, BatchedWebhooksWithLossesConvergeDeterministically) {
  const auto a = run_batched(5, 25, 60, 3);
  const auto b = run_batched(5, 25, 60, 3);
  EXPECT_EQ(a.root, b.root);
  EXPECT_EQ(a.mismatched, 0u);
  EXPECT_GT(a.net.dropped, 0u);
  // 180 changes went out 25 to a request: a few requests (with retries) where one change a
  // request takes at least one each.
  const auto single = run_batched(5, 1, 60, 3);
  EXPECT_EQ(single.mismatched, 0u);
  EXPECT_GE(single.webhook_requests, 180u);
  EXPECT_LT(a.webhook_requests, 40u);
  EXPECT_GT(a.webhook_requests, 0u);
  EXPECT_NE(a.root, single.root);
}

// Work that stays due at one instant stops the run with the reason instead of holding the
// clock still. 70 renames at once are two batches of deliveries: two rounds that do work.
TEST(Simulation, WorkThatNeverSettlesAtOneInstantStopsTheRun) {
  const auto renames_at_once = [](std::size_t max_rounds) {
    sim::world w({.seed = 1, .in_memory = true, .max_rounds_per_instant = max_rounds});
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 70; ++i) {
      const std::string name = "user" + std::to_string(i);
      ids.push_back(w.create_account(name));
      EXPECT_EQ(w.sign_up(name).status, 303);
      w.run_for(1s);
    }
    for (std::size_t i = 0; i < ids.size(); ++i)
      EXPECT_TRUE(w.idp().update_profile(ids[i], {.username = "renamed" + std::to_string(i)}));
    w.run_for(1s);
  };
  EXPECT_NO_THROW(renames_at_once(2));
  try {
    renames_at_once(1);
    ADD_FAILURE() << "two rounds of deliveries at one instant, with one allowed, went on";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("the provider's dispatcher still has work due"),
              std::string::npos)
        << e.what();
  }
}

TEST(Simulation, AFilterFindsItsChangeInsideABatch) {
  sim::world w({.seed = 1, .in_memory = true, .webhook_batch = 10});
  const auto alice = w.create_account("alice");
  const auto bob = w.create_account("bob");
  ASSERT_EQ(w.sign_up("alice").status, 303);
  ASSERT_EQ(w.sign_up("bob").status, 303);
  w.run_for(1s);
  // Bob's rename is the second change of the request: dropping it drops alice's too.
  w.net().add_fault(
      {.kind = sim::fault_kind::drop,
       .match = {.to = "threads", .field = "username", .subject = std::to_string(bob)},
       .nth = 1});
  ASSERT_TRUE(w.idp().update_profile(alice, {.username = "alice1"}));
  ASSERT_TRUE(w.idp().update_profile(bob, {.username = "bob1"}));
  w.run_for(1s);
  EXPECT_EQ(w.net().stats().dropped, 1u);
  EXPECT_EQ(w.threads().profiles_of_account(alice).front().username, "alice");
  EXPECT_EQ(w.threads().profiles_of_account(bob).front().username, "bob");
  w.run_for(10s);  // retried together after 5 s
  EXPECT_EQ(w.threads().profiles_of_account(alice).front().username, "alice1");
  EXPECT_EQ(w.threads().profiles_of_account(bob).front().username, "bob1");
}

TEST(Simulation, ACrashRestartKeepsWhatWasCommitted) {
  temp_dir dir;
  sim::world w({.seed = 3, .dir = dir.path()});
  const auto alice = w.create_account("alice");
  ASSERT_EQ(w.sign_up("alice").status, 303);
  w.restart_threads();
  ASSERT_EQ(w.threads().profiles_of_account(alice).size(), 1u);
  ASSERT_TRUE(w.idp().update_profile(alice, {.username = "alice.after"}));
  w.run_for(1s);
  EXPECT_EQ(w.threads().profiles_of_account(alice).front().username, "alice.after");
}

TEST(Simulation, AnOutageDuringSignUpFailsCleanlyAndLeavesNothing) {
  temp_dir dir;
  sim::world w({.seed = 4, .dir = dir.path()});
  const auto alice = w.create_account("alice");
  w.net().add_outage({"idp", w.sched().now(), w.sched().now() + 1h});
  auto r = w.sign_up("alice");
  EXPECT_NE(r.status, 303);
  EXPECT_TRUE(w.threads().profiles_of_account(alice).empty());
  w.run_for(2h);
  EXPECT_EQ(w.sign_up("alice").status, 303);
}

TEST(Simulation, AStorageFailureAnswers503AndIsLoggedWithTheRun) {
  sim::world w({.seed = 5, .in_memory = true});
  w.create_account("alice");
  // The dependent service's database refuses every write: its /signup cannot keep the state.
  w.databases()[1]->exec("PRAGMA query_only = 1");
  auto r =
      w.browser_transport().send({.target = std::string(sim::world::threads_origin) + "/signup"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->headers.get("Retry-After"), "1");
  EXPECT_NE(r->body.find(R"("code":"storage_unavailable")"), std::string::npos) << r->body;
  ASSERT_EQ(w.service_log().size(), 1u);
  EXPECT_TRUE(w.service_log()[0].text.starts_with("threads: storage: ")) << w.service_log()[0].text;
  w.databases()[1]->exec("PRAGMA query_only = 0");
  // Now the provider's: the sign-up stops at its authorization page, and it says why.
  w.databases()[0]->exec("PRAGMA query_only = 1");
  const auto failed = w.sign_up("alice");
  EXPECT_EQ(failed.status, 503) << failed.error;
  ASSERT_EQ(w.service_log().size(), 2u);
  EXPECT_TRUE(w.service_log()[1].text.starts_with("idp: storage: ")) << w.service_log()[1].text;
  w.databases()[0]->exec("PRAGMA query_only = 0");
  EXPECT_EQ(w.sign_up("alice").status, 303);
  EXPECT_EQ(w.service_log().size(), 2u);
}

}  // namespace
}  // namespace linksim::testing
