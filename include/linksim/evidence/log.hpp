// The evidence log: an append-only RFC 6962 Merkle log of flows in its own SQLite file, with
// signed checkpoints and proofs, and an offline verifier.
#pragma once

#include "linksim/evidence/checkpoint.hpp"
#include "linksim/evidence/flow.hpp"

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace linksim::store {
class database;
}

namespace linksim::evidence {

class log final : public recorder {
 public:
  // Opens or creates the log at `path`. `origin` names the log in its checkpoints. Without a
  // signer the log can be appended to and proved but not checkpointed. Throws store::error.
  log(const std::filesystem::path& path, std::string origin, std::optional<note_signer> signer);
  ~log() override;

  // Appends a flow and returns its leaf index. The row cannot be changed afterwards: triggers in
  // the database refuse UPDATE and DELETE.
  std::uint64_t append(const flow& f);
  void record(const flow& f) override { append(f); }

  std::uint64_t size() const;
  digest root() const;
  digest root_at(std::uint64_t size) const;  // size <= size()
  std::string entry(std::uint64_t index) const;
  digest leaf(std::uint64_t index) const;
  std::vector<digest> inclusion_proof(std::uint64_t index, std::uint64_t size) const;
  std::vector<digest> consistency_proof(std::uint64_t m, std::uint64_t n) const;

  // Signs the current tree head, stores the note and returns it. Needs a signer.
  std::string checkpoint();
  // The stored checkpoint notes, oldest first.
  std::vector<std::string> checkpoints() const;

  const std::string& origin() const { return origin_; }

 private:
  mutable std::mutex mutex_;
  std::unique_ptr<store::database> db_;
  std::string origin_;
  std::optional<note_signer> signer_;
  std::vector<digest> leaves_;  // every leaf hash, in order: proofs are computed from these
};

// What the offline verifier found.
struct verify_report {
  std::uint64_t entries = 0;
  std::uint64_t checkpoints = 0;
  std::optional<checkpoint> latest;    // the newest verified checkpoint
  std::vector<std::string> problems;  // empty when the log verifies
  bool ok() const { return problems.empty(); }
};

// Re-reads the log at `path` read-only: recomputes every leaf hash from its entry, checks every
// checkpoint's signature by `key`, that its root is the root of that prefix, and that each
// checkpoint is consistent with the next (RFC 9162 §2.1.4). Throws store::error if unreadable.
verify_report verify(const std::filesystem::path& path, const note_verifier& key);

}  // namespace linksim::evidence
