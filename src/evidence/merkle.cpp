// RFC 9162 §2.1: the tree hash, proofs and their verification.
#include "linksim/evidence/merkle.hpp"

#include <bit>

namespace linksim::evidence {
namespace {

// The largest power of two strictly below n (n > 1).
std::uint64_t split(std::uint64_t n) {
  return std::bit_floor(n - 1);
}

void subproof(std::span<const digest> d, std::uint64_t m, bool complete, std::vector<digest>& out) {
  const std::uint64_t n = d.size();
  if (m == n) {
    if (!complete) out.push_back(root(d));
    return;
  }
  const std::uint64_t k = split(n);
  if (m <= k) {
    subproof(d.subspan(0, k), m, complete, out);
    out.push_back(root(d.subspan(k)));
  } else {
    subproof(d.subspan(k), m - k, false, out);
    out.push_back(root(d.subspan(0, k)));
  }
}

}  // namespace

digest empty_root() {
  return sha256(std::span<const std::uint8_t>{});
}

digest leaf_hash(std::span<const std::uint8_t> entry) {
  static constexpr std::uint8_t prefix[] = {0x00};
  return sha256_concat({prefix, entry});
}

digest node_hash(const digest& left, const digest& right) {
  static constexpr std::uint8_t prefix[] = {0x01};
  return sha256_concat({prefix, left, right});
}

void compact_range::push(const digest& leaf) {
  digest carry = leaf;
  // Each trailing 1 bit of the old size is a subtree of the new leaf's size: merge them.
  for (std::uint64_t n = size_; n & 1; n >>= 1) {
    carry = node_hash(subtrees_.back(), carry);
    subtrees_.pop_back();
  }
  subtrees_.push_back(carry);
  ++size_;
}

digest compact_range::root() const {
  if (subtrees_.empty()) return empty_root();
  // MTH splits at the largest power of two below the size: the largest subtree on the left,
  // the tree of the rest on the right.
  digest r = subtrees_.back();
  for (auto it = subtrees_.rbegin() + 1; it != subtrees_.rend(); ++it) r = node_hash(*it, r);
  return r;
}

digest root(std::span<const digest> leaves) {
  if (leaves.empty()) return empty_root();
  if (leaves.size() == 1) return leaves[0];
  const std::uint64_t k = split(leaves.size());
  return node_hash(root(leaves.subspan(0, k)), root(leaves.subspan(k)));
}

std::vector<digest> inclusion_proof(std::span<const digest> leaves, std::uint64_t index) {
  std::vector<digest> path;
  while (leaves.size() > 1) {
    const std::uint64_t k = split(leaves.size());
    if (index < k) {
      path.push_back(root(leaves.subspan(k)));
      leaves = leaves.subspan(0, k);
    } else {
      path.push_back(root(leaves.subspan(0, k)));
      leaves = leaves.subspan(k);
      index -= k;
    }
  }
  // Built from the root down; the proof runs from the leaf up.
  return {path.rbegin(), path.rend()};
}

std::vector<digest> consistency_proof(std::span<const digest> leaves, std::uint64_t m) {
  std::vector<digest> out;
  if (m == 0 || m > leaves.size()) return out;
  subproof(leaves, m, true, out);
  return out;
}

bool verify_inclusion(std::uint64_t index, std::uint64_t size, const digest& leaf,
                      std::span<const digest> proof, const digest& expected_root) {
  if (index >= size) return false;
  std::uint64_t fn = index, sn = size - 1;
  digest r = leaf;
  for (const digest& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      r = node_hash(p, r);
      while (!(fn & 1) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == expected_root;
}

bool verify_consistency(std::uint64_t m, std::uint64_t n, const digest& root_m,
                        const digest& root_n, std::span<const digest> proof) {
  if (m == 0 || m > n) return false;
  if (m == n) return proof.empty() && root_m == root_n;
  if (proof.empty()) return false;
  std::vector<digest> path;
  if (std::has_single_bit(m)) path.push_back(root_m);
  path.insert(path.end(), proof.begin(), proof.end());
  std::uint64_t fn = m - 1, sn = n - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  digest fr = path[0], sr = path[0];
  for (std::size_t i = 1; i < path.size(); ++i) {
    const digest& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      fr = node_hash(c, fr);
      sr = node_hash(c, sr);
      while (!(fn & 1) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = node_hash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == root_m && sr == root_n && sn == 0;
}

}  // namespace linksim::evidence
