// The evidence log: an append-only RFC 6962 Merkle log of flows in its own SQLite file, with
// signed checkpoints and proofs, and an offline verifier.
#pragma once

#include "linksim/evidence/checkpoint.hpp"
#include "linksim/evidence/flow.hpp"
#include "linksim/evidence/merkle.hpp"

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace linksim::store {
class database;
}

namespace linksim::evidence {

// When appended entries reach the disk.
struct durability {
  // Write every entry in its own transaction before append() returns (~25 µs each).
  bool every_append = false;
  // Otherwise a background thread group-commits them: `window` after the first unwritten one,
  // or sooner once `batch` are waiting, and always before a checkpoint and on close. append()
  // never waits for the disk then; a process crash can lose the newest entries of one window.
  milliseconds window{10};
  std::size_t batch = 256;
  // Sign a checkpoint in the transaction of every write (needs a signer), so that what is on
  // disk is always covered by a signature: a crash can leave no unsigned entry behind.
  bool sign_writes = false;
};

// The log cannot be trusted by the service opening it with its signing key: an entry does not
// hash to its leaf, or the entries are not exactly those of its newest checkpoint. The service
// does not start on it, so that it never signs entries it has not verified.
class untrusted_log : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class log final : public recorder {
 public:
  // Opens or creates the log at `path`. `origin` names the log in its checkpoints. Without a
  // signer the log can be appended to and proved but not checkpointed. With one, the existing
  // entries are verified first, each against its leaf hash and all against the newest
  // checkpoint, which must cover every one of them and be signed by this key (untrusted_log
  // otherwise); then a checkpoint is signed before anything is appended. Throws store::error.
  log(const std::filesystem::path& path, std::string origin, std::optional<note_signer> signer,
      durability d = {});
  ~log() override;  // writes what is waiting and, with a signer, signs a checkpoint

  // Appends a flow and returns its leaf index. In batched mode the flow is only queued: the
  // flusher encodes, hashes and writes it, off the caller's thread. Once written, the row cannot
  // be changed: triggers in the database refuse UPDATE and DELETE.
  std::uint64_t append(const flow& f);
  // Writes every waiting entry now. Throws store::error.
  void flush() const;
  void record(const flow& f) override { append(f); }

  std::uint64_t size() const;  // written and waiting
  // The functions below first write what is waiting, then answer over the written entries.
  digest root() const;
  digest root_at(std::uint64_t n) const;  // the root of the first n entries, n <= size()
  std::string entry(std::uint64_t index) const;
  digest leaf(std::uint64_t index) const;
  std::vector<digest> inclusion_proof(std::uint64_t index, std::uint64_t n) const;
  std::vector<digest> consistency_proof(std::uint64_t m, std::uint64_t n) const;

  // Signs the current tree head, stores the note and returns it (the stored one when a
  // checkpoint of this size exists already). Needs a signer.
  std::string checkpoint();
  // The stored checkpoint notes, oldest first.
  std::vector<std::string> checkpoints() const;

  const std::string& origin() const { return origin_; }

 private:
  void flush_loop();

  // mutex_ guards the in-memory state and is never held during disk work, so appends never wait
  // for the disk; db_mutex_ serialises use of the database. Order: db_mutex_ before mutex_.
  mutable std::mutex mutex_;
  mutable std::mutex db_mutex_;
  std::unique_ptr<store::database> db_;
  std::string origin_;
  std::optional<note_signer> signer_;
  durability durability_;
  // Checks the entries read at opening against the newest checkpoint; see the constructor.
  void verify_opened(const std::filesystem::path& path);

  // The hashes of the written entries, in order: roots and proofs are computed from these.
  // Writing waiting entries does not change what the log holds, so const functions may do it.
  mutable std::vector<digest> leaves_;
  mutable compact_range range_;        // the same leaves, for the root at once
  mutable std::vector<flow> pending_;  // appended, not yet written; they follow leaves_
  mutable std::size_t writing_ = 0;    // taken from pending_ by a flush still writing them
  mutable std::condition_variable wake_;
  bool stopping_ = false;
  std::thread flusher_;
};

struct verify_options {
  // Entries after the newest checkpoint are counted (verify_report::unsigned_tail) instead of
  // being a problem.
  bool allow_unsigned_tail = false;
  // Signed checkpoint notes seen before, kept by the auditor outside the log. Those of this
  // log's origin must still be prefixes of it: a log that has fewer entries than one of them
  // signs was rolled back, and one whose entries differ from those signed was forked.
  std::vector<std::string> witness;
};

// What the offline verifier found.
struct verify_report {
  std::uint64_t entries = 0;
  std::uint64_t checkpoints = 0;
  std::optional<checkpoint> latest;   // the newest verified checkpoint
  std::string latest_note;            // and its signed note, as stored
  std::uint64_t unsigned_tail = 0;    // entries after it, accepted by allow_unsigned_tail
  std::uint64_t witnessed = 0;        // witness checkpoints of this log found to be prefixes
  std::vector<std::string> problems;  // empty when the log verifies
  bool ok() const { return problems.empty(); }
};

// Re-reads the log at `path` read-only: recomputes every leaf hash from its entry, checks every
// checkpoint's signature by `key` and that its root is the root of that prefix (so that each is
// consistent with the one before, RFC 9162 §2.1.4), that the newest covers every entry, and the
// witness. A log with no checkpoint verifies nothing and is a problem. A file that is missing,
// not a SQLite database, damaged, or without the log's tables is a problem in the report, in
// words.
verify_report verify(const std::filesystem::path& path, const note_verifier& key,
                     const verify_options& options = {});

}  // namespace linksim::evidence
