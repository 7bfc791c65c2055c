// Tests of the SQLite evidence log: append-only, proofs, signed checkpoints, offline verify.
#include "linksim/evidence/log.hpp"

#include "linksim/common/random.hpp"
#include "linksim/evidence/merkle.hpp"
#include "linksim/store/sqlite.hpp"

#include "../temp_dir.hpp"

#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>

#include <atomic>
#include <thread>

namespace linksim::evidence {
namespace {

note_signer test_signer() {
  seeded_random r(5);
  return {"linksim-test", ed25519_key::generate(r)};
}

flow sample_flow(int i) {
  return {default_epoch + milliseconds{i},
          "idp",
          "threads",
          std::to_string(1000 + i),
          {"user.account.username"},
          "essential.service",
          "webhook",
          "ab",
          "status=200"};
}

TEST(FlowEntry, RoundTripsThroughItsCanonicalForm) {
  const flow f = sample_flow(3);
  const std::string e = canonical_entry(f);
  EXPECT_EQ(e, R"({"time":1767225600003,"from":"idp","to":"threads","subject":"1003",)"
               R"("categories":["user.account.username"],"purpose":"essential.service",)"
               R"("channel":"webhook","digest":"ab","note":"status=200"})");
  auto back = parse_entry(e);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, f);
  EXPECT_FALSE(parse_entry(R"({"time":"x"})"));
}

// The canonical form is written as text on the hot path; it must stay the bytes Boost.JSON
// gives for the same object, escapes included, or every evidence root would change.
TEST(FlowEntry, IsTheSerializedObjectByteForByte) {
  const std::vector<std::vector<std::string>> category_sets = {
      {}, {"user.account.username"}, {"a", "b.c", "quote\"d"}};
  const std::string awkward[] = {"",
                                 "plain",
                                 "say \"hi\"",
                                 "back\\slash",
                                 "tab\tnew\nline",
                                 std::string("nul\0byte", 8),
                                 "\x01\x1f\x7f",
                                 "caf\xc3\xa9 \xe2\x9c\x93",
                                 "</script>",
                                 "del \x7f only",
                                 "not utf-8: \xff\xfe"};
  int checked = 0;
  for (const auto& cats : category_sets) {
    for (const auto& text : awkward) {
      flow f{default_epoch - milliseconds{7},
             text,
             "threads",
             text,
             cats,
             text,
             "webhook",
             text,
             text};
      boost::json::object o;
      o["time"] = unix_millis(f.time);
      o["from"] = f.from;
      o["to"] = f.to;
      o["subject"] = f.subject;
      boost::json::array a;
      for (const auto& c : f.categories) a.emplace_back(c);
      o["categories"] = std::move(a);
      o["purpose"] = f.purpose;
      o["channel"] = f.channel;
      o["digest"] = f.payload_digest;
      o["note"] = f.note;
      EXPECT_EQ(canonical_entry(f), boost::json::serialize(o)) << text;
      ++checked;
      // Bytes that are not UTF-8 are written as Boost.JSON writes them, but no JSON parser
      // reads them back: flows carry identifiers, keys and outcomes, which are UTF-8.
      if (text.starts_with("not utf-8")) continue;
      auto back = parse_entry(canonical_entry(f));
      ASSERT_TRUE(back) << text;
      EXPECT_EQ(*back, f);
    }
  }
  EXPECT_EQ(checked, 33);
}

// Rewrites entry `idx` as someone with write access to the file would: the trigger dropped, the
// entry and its leaf hash changed to match.
void rewrite_behind_the_log(const std::filesystem::path& file, std::int64_t idx, const flow& f) {
  store::database db(file);
  db.exec("DROP TRIGGER IF EXISTS entries_append_only_update");
  const std::string e = canonical_entry(f);
  const digest h = leaf_hash(as_bytes(e));
  db.prepare("UPDATE entries SET entry = ?, leaf_hash = ? WHERE idx = ?")
      .bind_all(e, std::span<const std::uint8_t>(h), idx)
      .run();
}

flow forged_flow() {
  flow forged = sample_flow(1);
  forged.to = "advertiser";
  return forged;
}

TEST(EvidenceLog, AppendsProvesAndReopens) {
  testing::temp_dir dir;
  digest root_before;
  {
    log l(dir / "e.db", "linksim.test/log", test_signer());
    for (int i = 0; i < 5; ++i) EXPECT_EQ(l.append(sample_flow(i)), static_cast<std::uint64_t>(i));
    root_before = l.root();
    const auto proof = l.inclusion_proof(2, 5);
    EXPECT_TRUE(verify_inclusion(2, 5, leaf_hash(as_bytes(l.entry(2))), proof, root_before));
  }
  log again(dir / "e.db", "linksim.test/log", test_signer());
  EXPECT_EQ(again.size(), 5u);
  EXPECT_EQ(again.root(), root_before);
  again.append(sample_flow(5));
  const auto proof = again.consistency_proof(5, 6);
  EXPECT_TRUE(verify_consistency(5, 6, root_before, again.root(), proof));
}

// While the flusher writes a batch off the lock, the entries it took still count: an append
// made meanwhile gets the next index, and size() never goes back.
TEST(EvidenceLog, CountsEntriesBeingWrittenWhileOthersAppend) {
  testing::temp_dir dir;
  log l(dir / "e.db", "linksim.test/log", std::nullopt, {.window = milliseconds{0}, .batch = 1});
  constexpr int n = 3000;
  std::atomic<bool> done = false;
  std::thread reader([&] {
    std::uint64_t last = 0;
    while (!done) {
      const auto s = l.size();
      EXPECT_GE(s, last);
      last = s;
      l.flush();
    }
  });
  std::size_t wrong = 0;
  for (int i = 0; i < n; ++i) {
    const auto index = l.append(sample_flow(i));
    if (index != static_cast<std::uint64_t>(i) || l.size() != index + 1) ++wrong;
  }
  done = true;
  reader.join();
  EXPECT_EQ(wrong, 0u);
  EXPECT_EQ(l.size(), static_cast<std::uint64_t>(n));
  EXPECT_EQ(parse_entry(l.entry(n - 1)).value(), sample_flow(n - 1));
}

TEST(EvidenceLog, RefusesUpdatesAndDeletes) {
  testing::temp_dir dir;
  {
    log l(dir / "e.db", "o", std::nullopt);
    l.append(sample_flow(0));
  }
  store::database db(dir / "e.db");
  EXPECT_THROW(db.exec("UPDATE entries SET entry = 'x'"), store::error);
  EXPECT_THROW(db.exec("DELETE FROM entries"), store::error);
}

TEST(EvidenceVerify, AcceptsAnIntactLogWithCheckpoints) {
  testing::temp_dir dir;
  const auto signer = test_signer();
  {
    log l(dir / "e.db", "linksim.test/log", signer);
    l.append(sample_flow(0));
    l.checkpoint();
    for (int i = 1; i < 7; ++i) l.append(sample_flow(i));
    const std::string note = l.checkpoint();
    EXPECT_TRUE(note.starts_with("linksim.test/log\n7\n"));
    EXPECT_NE(note.find("\n\n\xe2\x80\x94 linksim-test "), std::string::npos);
  }
  auto key = note_verifier::parse(signer.verifier_key());
  ASSERT_TRUE(key);
  const auto report = verify(dir / "e.db", *key);
  EXPECT_TRUE(report.ok()) << report.problems.front();
  EXPECT_EQ(report.entries, 7u);
  EXPECT_EQ(report.checkpoints, 3u);  // at opening (size 0), then at 1 and 7
  ASSERT_TRUE(report.latest);
  EXPECT_EQ(report.latest->size, 7u);
}

TEST(EvidenceVerify, FindsAnEntryRewrittenBehindTheTriggers) {
  testing::temp_dir dir;
  const auto signer = test_signer();
  {
    log l(dir / "e.db", "o", signer);
    for (int i = 0; i < 4; ++i) l.append(sample_flow(i));
    l.checkpoint();
  }
  // Someone with write access drops the trigger and edits an entry and its hash to match.
  rewrite_behind_the_log(dir / "e.db", 1, forged_flow());
  const auto report = verify(dir / "e.db", *note_verifier::parse(signer.verifier_key()));
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.problems.front().find("not the root"), std::string::npos)
      << report.problems.front();
}

TEST(EvidenceVerify, RejectsCheckpointsSignedByAnotherKey) {
  testing::temp_dir dir;
  {
    log l(dir / "e.db", "o", test_signer());
    l.append(sample_flow(0));
    l.checkpoint();
  }
  seeded_random r(99);
  const note_signer other{"linksim-test", ed25519_key::generate(r)};
  const auto report = verify(dir / "e.db", *note_verifier::parse(other.verifier_key()));
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.problems.front().find("no valid signature"), std::string::npos);
}

TEST(EvidenceVerify, SaysInWordsWhatIsWrongWithAFileThatIsNoLog) {
  testing::temp_dir dir;
  const auto signer = test_signer();
  const auto key = *note_verifier::parse(signer.verifier_key());
  {
    log l(dir / "whole.db", "o", signer);
    for (int i = 0; i < 200; ++i) l.append(sample_flow(i));
    l.checkpoint();
  }
  std::filesystem::copy_file(dir / "whole.db", dir / "cut.db");
  std::filesystem::resize_file(dir / "cut.db", std::filesystem::file_size(dir / "cut.db") / 2);
  std::string noise(5000, '\0');
  for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<char>(i * 131 + 7);
  std::ofstream(dir / "noise.db", std::ios::binary) << noise;
  std::ofstream(dir / "empty.db").flush();
  const struct {
    const char* file;
    const char* says;
  } cases[] = {{"cut.db", "is damaged"},
               {"noise.db", "is not an evidence log: it is not a SQLite database"},
               {"empty.db", "has no entries and checkpoints tables"},
               {"missing.db", "no evidence log at"}};
  for (const auto& c : cases) {
    const auto report = verify(dir / c.file, key);
    ASSERT_FALSE(report.ok()) << c.file;
    EXPECT_NE(report.problems.front().find(c.says), std::string::npos) << report.problems.front();
  }
}

// Appends `f` as someone with write access to the file would, with a correct leaf hash.
void append_behind_the_log(const std::filesystem::path& file, const flow& f, std::int64_t idx) {
  store::database db(file);
  const std::string e = canonical_entry(f);
  const digest h = leaf_hash(as_bytes(e));
  db.prepare("INSERT INTO entries (idx, entry, leaf_hash) VALUES (?, ?, ?)")
      .bind_all(idx, e, std::span<const std::uint8_t>(h))
      .run();
}

std::string problems_of(const verify_report& r) {
  std::string out;
  for (const auto& p : r.problems) out += p + "\n";
  return out;
}

TEST(EvidenceVerify, ALogWithNoCheckpointFails) {
  testing::temp_dir dir;
  const auto signer = test_signer();
  const auto key = *note_verifier::parse(signer.verifier_key());
  {
    log l(dir / "unsigned.db", "o", std::nullopt);
    for (int i = 0; i < 3; ++i) l.append(sample_flow(i));
  }
  auto report = verify(dir / "unsigned.db", key);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(problems_of(report).find("no checkpoint"), std::string::npos) << problems_of(report);
  // Signed, then its checkpoints deleted and an entry rewritten with a matching hash.
  {
    log l(dir / "stripped.db", "o", signer);
    for (int i = 0; i < 3; ++i) l.append(sample_flow(i));
  }
  store::database(dir / "stripped.db")
      .exec("DROP TRIGGER checkpoints_append_only_delete; DELETE FROM checkpoints;");
  rewrite_behind_the_log(dir / "stripped.db", 1, forged_flow());
  report = verify(dir / "stripped.db", key);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(problems_of(report).find("no checkpoint"), std::string::npos) << problems_of(report);
}

TEST(EvidenceVerify, EntriesAfterTheNewestCheckpointFailUnlessAllowedAndThenAreCounted) {
  testing::temp_dir dir;
  const auto signer = test_signer();
  const auto key = *note_verifier::parse(signer.verifier_key());
  {
    log l(dir / "e.db", "o", signer);
    for (int i = 0; i < 4; ++i) l.append(sample_flow(i));
  }
  ASSERT_TRUE(verify(dir / "e.db", key).ok());
  append_behind_the_log(dir / "e.db", sample_flow(40), 4);
  append_behind_the_log(dir / "e.db", sample_flow(41), 5);
  auto report = verify(dir / "e.db", key);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(problems_of(report).find("2 entries (from index 4) come after the newest checkpoint"),
            std::string::npos)
      << problems_of(report);
  report = verify(dir / "e.db", key, {.allow_unsigned_tail = true});
  EXPECT_TRUE(report.ok()) << problems_of(report);
  EXPECT_EQ(report.unsigned_tail, 2u);
  EXPECT_EQ(report.latest->size, 4u);
}

TEST(EvidenceVerify, AWitnessCatchesARollbackAndAFork) {
  testing::temp_dir dir;
  const auto signer = test_signer();
  const auto key = *note_verifier::parse(signer.verifier_key());
  std::string seen;  // the checkpoint an auditor kept at 5 entries
  {
    log l(dir / "e.db", "o", signer);
    for (int i = 0; i < 5; ++i) l.append(sample_flow(i));
    seen = l.checkpoint();
  }
  auto report = verify(dir / "e.db", key, {.witness = {seen}});
  EXPECT_TRUE(report.ok()) << problems_of(report);
  EXPECT_EQ(report.witnessed, 1u);
  {
    // Grown since: still consistent with what was seen.
    log l(dir / "e.db", "o", signer);
    l.append(sample_flow(5));
  }
  EXPECT_TRUE(verify(dir / "e.db", key, {.witness = {seen}}).ok());

  // Rolled back: the same log made again with its first 3 entries, signed by the same key.
  {
    log l(dir / "rolled.db", "o", signer);
    for (int i = 0; i < 3; ++i) l.append(sample_flow(i));
  }
  EXPECT_TRUE(verify(dir / "rolled.db", key).ok()) << "alone, a shorter log looks whole";
  report = verify(dir / "rolled.db", key, {.witness = {seen}});
  ASSERT_FALSE(report.ok());
  EXPECT_NE(problems_of(report).find("rolled back"), std::string::npos) << problems_of(report);

  // Forked: the same first 4 entries and another fifth, signed by the same key.
  {
    log l(dir / "forked.db", "o", signer);
    for (int i = 0; i < 4; ++i) l.append(sample_flow(i));
    l.append(sample_flow(50));
  }
  EXPECT_TRUE(verify(dir / "forked.db", key).ok()) << "alone, a fork looks whole";
  report = verify(dir / "forked.db", key, {.witness = {seen}});
  ASSERT_FALSE(report.ok());
  EXPECT_NE(problems_of(report).find("forked"), std::string::npos) << problems_of(report);

  // Another log's checkpoints in the witness are left alone; a forged note is a problem.
  {
    log l(dir / "other.db", "other-origin", signer);
    l.append(sample_flow(9));
  }
  report = verify(dir / "other.db", key, {.witness = {seen}});
  EXPECT_TRUE(report.ok()) << problems_of(report);
  EXPECT_EQ(report.witnessed, 0u);
  std::string forged = seen;
  forged[forged.find('\n') + 1] = '9';  // the size, changed under the signature
  report = verify(dir / "e.db", key, {.witness = {forged}});
  ASSERT_FALSE(report.ok());
  EXPECT_NE(problems_of(report).find("witness checkpoint 1: no valid signature"),
            std::string::npos);
}

TEST(EvidenceLog, ItsServiceDoesNotStartOnEntriesItCannotVerifyNorSignsThem) {
  testing::temp_dir dir;
  const auto signer = test_signer();
  const auto key = *note_verifier::parse(signer.verifier_key());
  const auto checkpoints_in = [&](const std::filesystem::path& f) {
    return verify(f, key, {.allow_unsigned_tail = true}).checkpoints;
  };
  // An entry added behind the log.
  {
    log l(dir / "tail.db", "o", signer);
    for (int i = 0; i < 3; ++i) l.append(sample_flow(i));
  }
  append_behind_the_log(dir / "tail.db", sample_flow(30), 3);
  const auto before = checkpoints_in(dir / "tail.db");
  try {
    log reopened(dir / "tail.db", "o", signer);
    FAIL() << "opened a log with an unsigned entry";
  } catch (const untrusted_log& e) {
    EXPECT_NE(std::string(e.what()).find("1 entries after its newest checkpoint"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(checkpoints_in(dir / "tail.db"), before) << "nothing was signed";
  EXPECT_FALSE(verify(dir / "tail.db", key).ok());

  // An entry rewritten with a matching hash inside the signed range.
  {
    log l(dir / "edit.db", "o", signer);
    for (int i = 0; i < 3; ++i) l.append(sample_flow(i));
  }
  rewrite_behind_the_log(dir / "edit.db", 2, sample_flow(77));
  EXPECT_THROW(log(dir / "edit.db", "o", signer), untrusted_log);
  // An entry rewritten without its hash.
  {
    store::database db(dir / "edit.db");
    db.exec("UPDATE entries SET entry = 'x' WHERE idx = 0");
  }
  EXPECT_THROW(log(dir / "edit.db", "o", signer), untrusted_log);
  // Its checkpoints deleted.
  {
    log l(dir / "bare.db", "o", signer);
    l.append(sample_flow(0));
  }
  {
    store::database db(dir / "bare.db");
    db.exec("DROP TRIGGER checkpoints_append_only_delete; DELETE FROM checkpoints;");
  }
  EXPECT_THROW(log(dir / "bare.db", "o", signer), untrusted_log);
  // Signed by another key.
  seeded_random r(99);
  const note_signer other{"linksim-test", ed25519_key::generate(r)};
  {
    log l(dir / "theirs.db", "o", other);
    l.append(sample_flow(0));
  }
  EXPECT_THROW(log(dir / "theirs.db", "o", signer), untrusted_log);
  // An intact log opens, and is signed at opening and at its close.
  {
    log l(dir / "good.db", "o", signer);
    l.append(sample_flow(0));
  }
  { log again(dir / "good.db", "o", signer); }
  EXPECT_TRUE(verify(dir / "good.db", key).ok());
}

TEST(EvidenceLog, SigningEveryWriteLeavesNoEntryUncovered) {
  testing::temp_dir dir;
  const auto signer = test_signer();
  for (const bool every_append : {true, false}) {
    const auto file = dir / (every_append ? "each.db" : "batched.db");
    log l(
        file, "o", signer,
        {.every_append = every_append, .window = milliseconds{0}, .batch = 2, .sign_writes = true});
    for (int i = 0; i < 7; ++i) {
      l.append(sample_flow(i));
      l.flush();
      // The newest stored checkpoint covers every written entry, before any stop.
      const auto notes = l.checkpoints();
      ASSERT_FALSE(notes.empty());
      const auto c = note_verifier::parse(signer.verifier_key())->open(notes.back());
      ASSERT_TRUE(c);
      EXPECT_EQ(c->size, static_cast<std::uint64_t>(i + 1)) << every_append;
      EXPECT_EQ(c->root, l.root());
    }
  }
  EXPECT_THROW(log(dir / "x.db", "o", std::nullopt, {.sign_writes = true}), std::logic_error);
}

TEST(NoteVerifier, RejectsMalformedKeys) {
  EXPECT_FALSE(note_verifier::parse("nokey"));
  EXPECT_FALSE(note_verifier::parse("name+zzzzzzzz+AAAA"));
  auto good = test_signer().verifier_key();
  EXPECT_TRUE(note_verifier::parse(good));
  good[good.find('+') + 1] ^= 1;  // key hash no longer matches the key
  EXPECT_FALSE(note_verifier::parse(good));
}

}  // namespace
}  // namespace linksim::evidence
