// RFC 6962 / RFC 9162 §2.1 Merkle tree hashing, inclusion and consistency proofs, as pure
// functions over leaf hashes.
#pragma once

#include "linksim/common/crypto.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace linksim::evidence {

digest empty_root();                                        // SHA-256 of nothing
digest leaf_hash(std::span<const std::uint8_t> entry);      // SHA-256(0x00 || entry)
digest node_hash(const digest& left, const digest& right);  // SHA-256(0x01 || left || right)

// MTH over the leaf hashes (not the entries).
digest root(std::span<const digest> leaves);

// The roots of a growing tree, one leaf at a time: the perfect subtrees its size is made of
// (one per bit of the size, largest first), so that a leaf costs one hash on average and the
// root at any size costs at most log2(size) hashes. The root is MTH of the leaves pushed.
class compact_range {
 public:
  void push(const digest& leaf);
  std::uint64_t size() const { return size_; }
  digest root() const;

 private:
  std::uint64_t size_ = 0;
  std::vector<digest> subtrees_;  // perfect subtrees, largest (leftmost) first
};

// PATH(index, D[n]) of RFC 9162 §2.1.3.1; index < leaves.size().
std::vector<digest> inclusion_proof(std::span<const digest> leaves, std::uint64_t index);
// PROOF(m, D[n]) of RFC 9162 §2.1.4.1, n = leaves.size(); 0 < m <= n (m == n gives no hashes).
std::vector<digest> consistency_proof(std::span<const digest> leaves, std::uint64_t m);

// RFC 9162 §2.1.3.2.
bool verify_inclusion(std::uint64_t index, std::uint64_t size, const digest& leaf,
                      std::span<const digest> proof, const digest& root);
// RFC 9162 §2.1.4.2; m == n holds only with an empty proof and equal roots.
bool verify_consistency(std::uint64_t m, std::uint64_t n, const digest& root_m,
                        const digest& root_n, std::span<const digest> proof);

}  // namespace linksim::evidence
