// Proof files: an entry and the growth of a log checked with the key alone, and every change to
// a proof refused.
#include "linksim/evidence/proof.hpp"

#include "linksim/common/json.hpp"
#include "linksim/common/random.hpp"
#include "linksim/evidence/log.hpp"

#include "../temp_dir.hpp"

#include <gtest/gtest.h>

#include <boost/json/object.hpp>

namespace linksim::evidence {
namespace {

note_signer signer_of(std::uint64_t seed) {
  seeded_random r(seed);
  return {"linksim-test", ed25519_key::generate(r)};
}

flow flow_no(int i) {
  return {default_epoch + milliseconds{i},
          "idp",
          "threads",
          std::to_string(i),
          {"user.name"},
          "essential.service",
          "webhook",
          "ab",
          "n"};
}

std::string with(std::string json, std::string_view key, boost::json::value v) {
  auto o = *json::parse_object(json);
  o[key] = std::move(v);
  return json::serialize(o);
}

TEST(EvidenceProof, AnEntryChecksWithTheKeyAloneAndNoChangeToItsProofDoes) {
  testing::temp_dir dir;
  const auto signer = signer_of(5);
  const auto key = *note_verifier::parse(signer.verifier_key());
  {
    log l(dir / "e.db", "o", signer);
    for (int i = 0; i < 11; ++i) l.append(flow_no(i));
  }
  for (std::uint64_t i = 0; i < 11; ++i) {
    const auto proof = prove_inclusion(dir / "e.db", i);
    ASSERT_TRUE(proof);
    const auto r = check_proof(*proof, key);
    EXPECT_TRUE(r.ok()) << r.problems.front();
    EXPECT_EQ(r.index, i);
    EXPECT_EQ(parse_entry(r.entry).value(), flow_no(static_cast<int>(i)));
  }
  const auto proof = *prove_inclusion(dir / "e.db", 4);
  EXPECT_FALSE(
      check_proof(with(proof, "entry", boost::json::string(canonical_entry(flow_no(5)))), key)
          .ok());
  EXPECT_FALSE(check_proof(with(proof, "index", 5), key).ok());
  EXPECT_FALSE(check_proof(with(proof, "tree_size", 10), key).ok());
  auto hashes = json::parse_object(proof)->at("proof").as_array();
  hashes[0] = boost::json::string(std::string(64, '0'));
  EXPECT_FALSE(check_proof(with(proof, "proof", hashes), key).ok());
  EXPECT_FALSE(check_proof(proof, *note_verifier::parse(signer_of(6).verifier_key())).ok());
  EXPECT_FALSE(check_proof("{}", key).ok());
  EXPECT_FALSE(check_proof("not json", key).ok());
  // No checkpoint covers an entry beyond the log.
  EXPECT_FALSE(prove_inclusion(dir / "e.db", 11));
}

TEST(EvidenceProof, TheGrowthOfALogChecksAndAnotherEarlierTreeDoesNot) {
  testing::temp_dir dir;
  const auto signer = signer_of(5);
  const auto key = *note_verifier::parse(signer.verifier_key());
  {
    log l(dir / "e.db", "o", signer, {.sign_writes = true});
    for (int i = 0; i < 9; ++i) {
      l.append(flow_no(i));
      l.flush();
    }
  }
  for (std::uint64_t m = 1; m <= 9; ++m) {
    const auto proof = prove_consistency(dir / "e.db", m);
    ASSERT_TRUE(proof) << m;
    const auto o = *json::parse_object(*proof);
    EXPECT_TRUE(o.contains("from_checkpoint")) << "every write was signed";
    const auto r = check_proof(*proof, key);
    EXPECT_TRUE(r.ok()) << m << ": " << r.problems.front();
  }
  const auto proof = *prove_consistency(dir / "e.db", 4);
  const auto other_root = json::parse_object(*prove_consistency(dir / "e.db", 5))->at("from_root");
  EXPECT_FALSE(check_proof(with(proof, "from_root", other_root), key).ok());
  EXPECT_FALSE(check_proof(with(proof, "from_size", 5), key).ok());
  EXPECT_FALSE(prove_consistency(dir / "e.db", 0));
  EXPECT_FALSE(prove_consistency(dir / "e.db", 10));
}

}  // namespace
}  // namespace linksim::evidence
