// The evidence log on SQLite.
#include "linksim/evidence/log.hpp"

#include "linksim/evidence/merkle.hpp"
#include "linksim/store/sqlite.hpp"

#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace linksim::evidence {
namespace {

constexpr store::migration migrations[] = {
    {1, R"sql(
CREATE TABLE entries (
  idx INTEGER PRIMARY KEY,
  entry TEXT NOT NULL,
  leaf_hash BLOB NOT NULL CHECK (length(leaf_hash) = 32)
);
CREATE TRIGGER entries_append_only_update BEFORE UPDATE ON entries
  BEGIN SELECT RAISE(ABORT, 'the evidence log is append-only'); END;
CREATE TRIGGER entries_append_only_delete BEFORE DELETE ON entries
  BEGIN SELECT RAISE(ABORT, 'the evidence log is append-only'); END;
CREATE TABLE checkpoints (
  tree_size INTEGER PRIMARY KEY,
  note TEXT NOT NULL
);
CREATE TRIGGER checkpoints_append_only_update BEFORE UPDATE ON checkpoints
  BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_append_only_delete BEFORE DELETE ON checkpoints
  BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
)sql"},
};

digest to_digest(const std::vector<std::uint8_t>& b) {
  digest d{};
  if (b.size() == d.size()) std::memcpy(d.data(), b.data(), d.size());
  return d;
}

}  // namespace

log::log(const std::filesystem::path& path, std::string origin, std::optional<note_signer> signer,
         durability d)
    : db_(std::make_unique<store::database>(path, store::options{.exclusive = true})),
      origin_(std::move(origin)),
      signer_(std::move(signer)),
      durability_(d) {
  store::migrate(*db_, migrations);
  auto q = db_->prepare("SELECT idx, leaf_hash FROM entries ORDER BY idx");
  while (q.step()) {
    if (static_cast<std::uint64_t>(q.get_int(0)) != leaves_.size()) {
      throw store::error(0, "evidence log " + path.string() + " has a gap at index " +
                                std::to_string(leaves_.size()));
    }
    leaves_.push_back(to_digest(q.get_blob(1)));
  }
  if (!durability_.every_append) flusher_ = std::thread([this] { flush_loop(); });
}

log::~log() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  try {
    flush();
  } catch (const store::error& e) {
    // Nowhere left to report to but the operator.
    std::fprintf(stderr, "evidence log: %zu entries could not be written: %s\n", pending_.size(),
                 e.what());
  }
}

void log::flush() const {
  std::lock_guard db_lock(db_mutex_);
  std::vector<flow> batch;
  std::uint64_t first = 0;
  {
    std::lock_guard lock(mutex_);
    if (pending_.empty()) return;
    first = leaves_.size();
    batch.swap(pending_);
    writing_ = batch.size();  // still counted by size() and append() while off the lock
  }
  std::vector<digest> hashes;
  hashes.reserve(batch.size());
  try {
    store::transaction tx(*db_);
    auto& ins = db_->cached("INSERT INTO entries (idx, entry, leaf_hash) VALUES (?, ?, ?)");
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const std::string e = canonical_entry(batch[i]);
      hashes.push_back(leaf_hash(as_bytes(e)));
      ins.reset();
      ins.bind_all(static_cast<std::int64_t>(first + i), e,
                   std::span<const std::uint8_t>(hashes[i]))
          .run();
    }
    tx.commit();
  } catch (...) {
    // Put the batch back in front of what arrived meanwhile, to be tried again.
    std::lock_guard lock(mutex_);
    writing_ = 0;
    batch.insert(batch.end(), std::make_move_iterator(pending_.begin()),
                 std::make_move_iterator(pending_.end()));
    pending_.swap(batch);
    throw;
  }
  std::lock_guard lock(mutex_);
  leaves_.insert(leaves_.end(), hashes.begin(), hashes.end());
  writing_ = 0;
}

void log::flush_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    if (stopping_) break;
    // Let the window fill, so one transaction carries many entries.
    wake_.wait_for(lock, durability_.window,
                   [this] { return stopping_ || pending_.size() >= durability_.batch; });
    lock.unlock();
    bool failed = false;
    try {
      flush();
    } catch (const store::error& e) {
      // The disk refused (full, I/O error): keep the entries and try again later.
      std::fprintf(stderr, "evidence log: write failed, will retry: %s\n", e.what());
      failed = true;
    }
    lock.lock();
    if (failed) wake_.wait_for(lock, durability_.window * 10, [this] { return stopping_; });
  }
}

std::uint64_t log::append(const flow& f) {
  std::uint64_t index = 0;
  {
    std::lock_guard lock(mutex_);
    index = leaves_.size() + writing_ + pending_.size();
    pending_.push_back(f);
    // The caller never waits for the disk in batched mode: a full batch only wakes the flusher.
    if (!durability_.every_append &&
        (pending_.size() == 1 || pending_.size() == durability_.batch)) {
      wake_.notify_one();
    }
  }
  if (durability_.every_append) flush();
  return index;
}

std::uint64_t log::size() const {
  std::lock_guard lock(mutex_);
  return leaves_.size() + writing_ + pending_.size();
}

digest log::root() const {
  flush();
  std::lock_guard lock(mutex_);
  return evidence::root(leaves_);
}

digest log::root_at(std::uint64_t n) const {
  flush();
  std::lock_guard lock(mutex_);
  if (n > leaves_.size()) throw std::out_of_range("tree size beyond the log");
  return evidence::root(std::span(leaves_).subspan(0, n));
}

std::string log::entry(std::uint64_t index) const {
  flush();
  std::lock_guard db_lock(db_mutex_);
  auto& q = db_->cached("SELECT entry FROM entries WHERE idx = ?");
  q.bind(1, static_cast<std::int64_t>(index));
  if (!q.step()) throw std::out_of_range("no evidence entry " + std::to_string(index));
  return q.get_text(0);
}

digest log::leaf(std::uint64_t index) const {
  flush();
  std::lock_guard lock(mutex_);
  return leaves_.at(index);
}

std::vector<digest> log::inclusion_proof(std::uint64_t index, std::uint64_t n) const {
  flush();
  std::lock_guard lock(mutex_);
  if (n > leaves_.size() || index >= n) throw std::out_of_range("inclusion proof out of range");
  return evidence::inclusion_proof(std::span(leaves_).subspan(0, n), index);
}

std::vector<digest> log::consistency_proof(std::uint64_t m, std::uint64_t n) const {
  flush();
  std::lock_guard lock(mutex_);
  if (m == 0 || m > n || n > leaves_.size())
    throw std::out_of_range("consistency proof out of range");
  return evidence::consistency_proof(std::span(leaves_).subspan(0, n), m);
}

std::string log::checkpoint() {
  if (!signer_) throw std::logic_error("this evidence log has no signing key");
  // A checkpoint signs only what is on disk.
  flush();
  std::lock_guard db_lock(db_mutex_);
  std::lock_guard lock(mutex_);
  const evidence::checkpoint c{origin_, leaves_.size(), evidence::root(leaves_)};
  std::string note = signer_->sign(c);
  db_->cached("INSERT OR IGNORE INTO checkpoints (tree_size, note) VALUES (?, ?)")
      .bind_all(static_cast<std::int64_t>(c.size), note)
      .run();
  return note;
}

std::vector<std::string> log::checkpoints() const {
  std::lock_guard db_lock(db_mutex_);
  std::vector<std::string> out;
  auto q = db_->prepare("SELECT note FROM checkpoints ORDER BY tree_size");
  while (q.step()) out.push_back(q.get_text(0));
  return out;
}

namespace {

verify_report verify_readable(const std::filesystem::path& path, const note_verifier& key);

// What a storage error while reading says about the file, for a person holding it.
std::string unreadable(const std::filesystem::path& path, const store::error& e) {
  switch (e.code() & 0xff) {
    case 26:  // SQLITE_NOTADB
      return path.string() + " is not an evidence log: it is not a SQLite database";
    case 11:  // SQLITE_CORRUPT
      return path.string() +
             " is damaged: its database pages are malformed, as when a file is truncated or "
             "overwritten";
    default:
      return path.string() + " cannot be read as an evidence log (" + e.what() + ")";
  }
}

}  // namespace

verify_report verify(const std::filesystem::path& path, const note_verifier& key) {
  verify_report report;
  if (!std::filesystem::exists(path)) {
    report.problems.push_back("no evidence log at " + path.string());
    return report;
  }
  try {
    return verify_readable(path, key);
  } catch (const store::error& e) {
    report.problems.push_back(unreadable(path, e));
    return report;
  }
}

namespace {

// verify() on a file SQLite can read; throws store::error if it cannot.
verify_report verify_readable(const std::filesystem::path& path, const note_verifier& key) {
  verify_report report;
  store::database db(path, {.read_only = true});
  {
    auto has = db.prepare(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('entries', "
        "'checkpoints')");
    has.step();
    if (has.get_int(0) != 2) {
      report.problems.push_back(
          path.string() + " is not an evidence log: it has no entries and checkpoints tables");
      return report;
    }
  }
  std::vector<digest> leaves;
  auto q = db.prepare("SELECT idx, entry, leaf_hash FROM entries ORDER BY idx");
  while (q.step()) {
    const auto idx = static_cast<std::uint64_t>(q.get_int(0));
    const std::string e = q.get_text(1);
    const digest stored = to_digest(q.get_blob(2));
    const digest computed = leaf_hash(as_bytes(e));
    if (idx != leaves.size()) {
      report.problems.push_back("entry index " + std::to_string(idx) + " found where " +
                                std::to_string(leaves.size()) + " was expected");
    }
    if (stored != computed) {
      report.problems.push_back("entry " + std::to_string(idx) +
                                ": its bytes do not hash to the stored leaf hash");
    }
    if (!parse_entry(e)) {
      report.problems.push_back("entry " + std::to_string(idx) + ": not a well-formed flow");
    }
    // Checkpoints are checked against recomputed hashes, so a rewritten entry shows there too.
    leaves.push_back(computed);
  }
  report.entries = leaves.size();

  std::optional<evidence::checkpoint> previous;
  auto cq = db.prepare("SELECT tree_size, note FROM checkpoints ORDER BY tree_size");
  while (cq.step()) {
    ++report.checkpoints;
    const auto stored_size = static_cast<std::uint64_t>(cq.get_int(0));
    auto c = key.open(cq.get_text(1));
    const std::string where = "checkpoint at size " + std::to_string(stored_size);
    if (!c) {
      report.problems.push_back(where + ": no valid signature by " + key.name);
      continue;
    }
    if (c->size != stored_size || c->size > leaves.size()) {
      report.problems.push_back(where + ": signs size " + std::to_string(c->size) +
                                " but the log holds " + std::to_string(leaves.size()));
      continue;
    }
    const std::span<const digest> prefix = std::span(leaves).subspan(0, c->size);
    if (root(prefix) != c->root) {
      report.problems.push_back(where + ": the signed root is not the root of the log's first " +
                                std::to_string(c->size) + " entries");
      continue;
    }
    if (previous && previous->size > 0) {
      const auto proof = consistency_proof(prefix, previous->size);
      if (!verify_consistency(previous->size, c->size, previous->root, c->root, proof)) {
        report.problems.push_back(where + ": not consistent with the checkpoint at size " +
                                  std::to_string(previous->size));
      }
    }
    previous = *c;
  }
  report.latest = previous;
  return report;
}

}  // namespace

}  // namespace linksim::evidence
