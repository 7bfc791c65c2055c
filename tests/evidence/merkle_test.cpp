// Tests of the Merkle functions: roots and proofs of small trees built by hand from RFC 9162's
// definitions, the published RFC 6962 reference roots, and tampered inputs.
#include "linksim/evidence/merkle.hpp"

#include <gtest/gtest.h>

namespace linksim::evidence {
namespace {

// The leaves of the RFC 6962 reference test data (certificate-transparency's merkle tests).
std::vector<digest> reference_leaves() {
  std::vector<digest> out;
  for (const char* hex : {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                          "606162636465666768696a6b6c6d6e6f"}) {
    out.push_back(leaf_hash(*from_hex(hex)));
  }
  return out;
}

TEST(MerkleRoot, EmptyTreeIsHashOfNothing) {
  EXPECT_EQ(to_hex(root({})), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(MerkleRoot, MatchesReferenceRoots) {
  const char* expected[] = {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
                            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
                            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
                            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
                            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  const auto leaves = reference_leaves();
  for (std::size_t n = 1; n <= leaves.size(); ++n) {
    EXPECT_EQ(to_hex(root(std::span(leaves).subspan(0, n))), expected[n - 1]) << "size " << n;
  }
}

TEST(CompactRange, GivesTheRootOfEveryPrefixAsTheFullComputationDoes) {
  std::vector<digest> leaves;
  compact_range range;
  EXPECT_EQ(range.root(), empty_root());
  for (int n = 0; n < 130; ++n) {
    leaves.push_back(leaf_hash(as_bytes("entry " + std::to_string(n))));
    range.push(leaves.back());
    ASSERT_EQ(range.size(), leaves.size());
    ASSERT_EQ(range.root(), root(leaves)) << "size " << leaves.size();
  }
  // The reference roots too.
  compact_range ref;
  for (const auto& l : reference_leaves()) ref.push(l);
  EXPECT_EQ(to_hex(ref.root()), "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
}

TEST(MerkleRoot, SevenLeavesBuiltByHand) {
  const auto l = reference_leaves();
  // RFC 9162 §2.1.1: split at the largest power of two below n; the last node is not duplicated.
  const digest left = node_hash(node_hash(l[0], l[1]), node_hash(l[2], l[3]));
  const digest right = node_hash(node_hash(l[4], l[5]), l[6]);
  EXPECT_EQ(root(std::span(l).subspan(0, 7)), node_hash(left, right));
  EXPECT_EQ(leaf_hash(std::vector<std::uint8_t>{}), sha256(std::vector<std::uint8_t>{0x00}));
}

TEST(InclusionProof, PathOfLeafZeroInSevenIsBuiltByHand) {
  const auto l = reference_leaves();
  const std::span<const digest> d = std::span(l).subspan(0, 7);
  const std::vector<digest> expected{l[1], node_hash(l[2], l[3]),
                                     node_hash(node_hash(l[4], l[5]), l[6])};
  EXPECT_EQ(inclusion_proof(d, 0), expected);
  EXPECT_TRUE(verify_inclusion(0, 7, l[0], expected, root(d)));
  // The last leaf of seven sits next to a subtree of two and one of four.
  const std::vector<digest> last{node_hash(l[4], l[5]),
                                 node_hash(node_hash(l[0], l[1]), node_hash(l[2], l[3]))};
  EXPECT_EQ(inclusion_proof(d, 6), last);
  EXPECT_TRUE(verify_inclusion(6, 7, l[6], last, root(d)));
}

TEST(InclusionProof, EveryLeafOfEveryTreeVerifies) {
  const auto l = reference_leaves();
  for (std::uint64_t n = 1; n <= l.size(); ++n) {
    const auto d = std::span(l).subspan(0, n);
    const digest r = root(d);
    for (std::uint64_t i = 0; i < n; ++i) {
      const auto proof = inclusion_proof(d, i);
      EXPECT_TRUE(verify_inclusion(i, n, l[i], proof, r)) << i << " of " << n;
    }
  }
}

TEST(InclusionProof, TamperedInputsFail) {
  const auto l = reference_leaves();
  const auto d = std::span(l).subspan(0, 7);
  const digest r = root(d);
  auto proof = inclusion_proof(d, 3);
  EXPECT_FALSE(verify_inclusion(3, 7, l[2], proof, r));  // another leaf
  EXPECT_FALSE(verify_inclusion(2, 7, l[3], proof, r));  // another index
  EXPECT_FALSE(verify_inclusion(3, 4, l[3], proof, r));  // another size, another path shape
  EXPECT_FALSE(verify_inclusion(7, 7, l[3], proof, r));  // index out of range
  EXPECT_FALSE(verify_inclusion(3, 7, l[3], std::span(proof).subspan(1), r));  // truncated
  auto extended = proof;
  extended.push_back(l[0]);
  EXPECT_FALSE(verify_inclusion(3, 7, l[3], extended, r));
  proof[1][0] ^= 1;
  EXPECT_FALSE(verify_inclusion(3, 7, l[3], proof, r));
}

TEST(ConsistencyProof, ThreeToSevenIsBuiltByHand) {
  const auto l = reference_leaves();
  const auto d7 = std::span(l).subspan(0, 7);
  // RFC 9162 §2.1.4.3's example: PROOF(3, D[7]) = [c, d, g, l].
  const std::vector<digest> expected{l[2], l[3], node_hash(l[0], l[1]),
                                     node_hash(node_hash(l[4], l[5]), l[6])};
  EXPECT_EQ(consistency_proof(d7, 3), expected);
  EXPECT_TRUE(verify_consistency(3, 7, root(d7.subspan(0, 3)), root(d7), expected));
}

TEST(ConsistencyProof, EveryPairVerifiesAndTamperingFails) {
  const auto l = reference_leaves();
  for (std::uint64_t n = 1; n <= l.size(); ++n) {
    const auto dn = std::span(l).subspan(0, n);
    for (std::uint64_t m = 1; m <= n; ++m) {
      const digest rm = root(dn.subspan(0, m)), rn = root(dn);
      auto proof = consistency_proof(dn, m);
      EXPECT_TRUE(verify_consistency(m, n, rm, rn, proof)) << m << " -> " << n;
      if (m == n) continue;
      digest wrong = rm;
      wrong[5] ^= 0x80;
      EXPECT_FALSE(verify_consistency(m, n, wrong, rn, proof)) << m << " -> " << n;
      EXPECT_FALSE(verify_consistency(m, n, rm, wrong, proof)) << m << " -> " << n;
      proof.back()[0] ^= 1;
      EXPECT_FALSE(verify_consistency(m, n, rm, rn, proof)) << m << " -> " << n;
    }
  }
  EXPECT_FALSE(verify_consistency(0, 3, empty_root(), root(std::span(l).subspan(0, 3)), {}));
}

}  // namespace
}  // namespace linksim::evidence
