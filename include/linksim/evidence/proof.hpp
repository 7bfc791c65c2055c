// Proofs that let an auditor check one entry, or the growth of the log, from a small file and
// the verifier key alone, without the log: an inclusion proof of an entry against a signed
// checkpoint (RFC 9162 §2.1.3), and a consistency proof from an earlier tree to a signed
// checkpoint (RFC 9162 §2.1.4). Both travel as JSON (docs/evidence.md gives the fields).
#pragma once

#include "linksim/common/error.hpp"
#include "linksim/evidence/checkpoint.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace linksim::evidence {

// The JSON of an inclusion proof of entry `index` against the newest checkpoint of the log at
// `path` that covers it. errc::not_found when no checkpoint covers the entry or there is no
// such entry; throws store::error when the file cannot be read.
result<std::string> prove_inclusion(const std::filesystem::path& path, std::uint64_t index);
// The JSON of a consistency proof from the log's first `from_size` entries to its newest
// checkpoint, with the root of that earlier tree and, when one was signed at that size, its
// checkpoint. errc::not_found when from_size is 0 or beyond the newest checkpoint.
result<std::string> prove_consistency(const std::filesystem::path& path, std::uint64_t from_size);

// What checking a proof found.
struct proof_report {
  std::string kind;                       // "inclusion" or "consistency"
  std::optional<checkpoint> signed_head;  // the checkpoint it proves against, once opened
  std::uint64_t index = 0;                // inclusion: the entry's index
  std::string entry;                      // inclusion: the entry, proven to be in the log
  std::uint64_t from_size = 0;            // consistency: the earlier tree's size
  std::vector<std::string> problems;      // empty when the proof holds
  bool ok() const { return problems.empty(); }
};
// Checks a proof file's JSON text with `key` alone.
proof_report check_proof(std::string_view text, const note_verifier& key);

}  // namespace linksim::evidence
