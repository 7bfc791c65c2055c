// The evidence log on SQLite.
#include "linksim/evidence/log.hpp"

#include "linksim/evidence/merkle.hpp"
#include "linksim/store/sqlite.hpp"

#include <algorithm>
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
  if (durability_.sign_writes && !signer_)
    throw std::logic_error("an evidence log that signs its writes needs a signing key");
  store::migrate(*db_, migrations);
  // With a signing key the entries are hashed again from their bytes: a stored hash is only as
  // good as whoever wrote the file.
  auto q = db_->prepare(signer_ ? "SELECT idx, leaf_hash, entry FROM entries ORDER BY idx"
                                : "SELECT idx, leaf_hash FROM entries ORDER BY idx");
  while (q.step()) {
    if (static_cast<std::uint64_t>(q.get_int(0)) != leaves_.size()) {
      throw store::error(0, "evidence log " + path.string() + " has a gap at index " +
                                std::to_string(leaves_.size()));
    }
    const digest stored = to_digest(q.get_blob(1));
    if (signer_ && leaf_hash(as_bytes(q.get_text(2))) != stored) {
      throw untrusted_log("evidence log " + path.string() + ": entry " +
                          std::to_string(leaves_.size()) +
                          " does not hash to its stored leaf hash: it was changed after it was "
                          "written");
    }
    leaves_.push_back(stored);
    range_.push(stored);
  }
  if (signer_) {
    verify_opened(path);
    checkpoint();  // before anything new is appended
  }
  if (!durability_.every_append) flusher_ = std::thread([this] { flush_loop(); });
}

void log::verify_opened(const std::filesystem::path& path) {
  auto q = db_->prepare("SELECT tree_size, note FROM checkpoints ORDER BY tree_size DESC LIMIT 1");
  const std::string where = "evidence log " + path.string() + ": ";
  const std::string refusal =
      " This service signs only entries it has verified, so it does not start on this log: "
      "inspect it with `linksim evidence verify`, and move it aside to start a new one.";
  if (!q.step()) {
    if (leaves_.empty()) return;
    throw untrusted_log(where + std::to_string(leaves_.size()) +
                        " entries and no checkpoint: nothing signs them." + refusal);
  }
  const auto verifier = note_verifier::parse(signer_->verifier_key());
  const auto c = verifier->open(q.get_text(1));
  if (!c || c->origin != origin_) {
    throw untrusted_log(where + "its newest checkpoint (size " + std::to_string(q.get_int(0)) +
                        ") is not signed by this service's key for " + origin_ + "." + refusal);
  }
  if (c->size > leaves_.size()) {
    throw untrusted_log(where + "its newest checkpoint signs " + std::to_string(c->size) +
                        " entries but it holds " + std::to_string(leaves_.size()) +
                        ": entries were removed." + refusal);
  }
  if (c->size < leaves_.size()) {
    throw untrusted_log(where + std::to_string(leaves_.size() - c->size) +
                        " entries after its newest checkpoint (size " + std::to_string(c->size) +
                        ") are not signed: they were written by something other than this "
                        "service, which signs every write." +
                        refusal);
  }
  if (range_.root() != c->root) {
    throw untrusted_log(where +
                        "its entries are not those its newest checkpoint signs (the "
                        "root differs)." +
                        refusal);
  }
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
    // A clean stop: what was written is signed, so that the next start finds it covered.
    if (signer_) checkpoint();
  } catch (const std::exception& e) {
    // Nowhere left to report to but the operator.
    std::fprintf(stderr, "evidence log: %zu entries could not be written or signed: %s\n",
                 pending_.size(), e.what());
  } catch (...) {
    std::fprintf(stderr, "evidence log: %zu entries could not be written or signed\n",
                 pending_.size());
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
    if (durability_.sign_writes) {
      // The new tree head, signed in the same transaction: written together or not at all.
      compact_range next = range_;  // only flush() changes it, under db_mutex_
      for (const auto& h : hashes) next.push(h);
      const evidence::checkpoint c{origin_, next.size(), next.root()};
      db_->cached("INSERT OR IGNORE INTO checkpoints (tree_size, note) VALUES (?, ?)")
          .bind_all(static_cast<std::int64_t>(c.size), signer_->sign(c))
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
  for (const auto& h : hashes) range_.push(h);
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
  return range_.root();
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
  const evidence::checkpoint c{origin_, leaves_.size(), range_.root()};
  std::string note = signer_->sign(c);
  db_->cached("INSERT OR IGNORE INTO checkpoints (tree_size, note) VALUES (?, ?)")
      .bind_all(static_cast<std::int64_t>(c.size), note)
      .run();
  if (db_->changes() == 0) {
    // Signed before at this size: the stored note is the one an auditor holds.
    auto& q = db_->cached("SELECT note FROM checkpoints WHERE tree_size = ?");
    q.bind(1, static_cast<std::int64_t>(c.size));
    if (q.step()) note = q.get_text(0);
    q.reset();
  }
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

verify_report verify_readable(const std::filesystem::path& path, const note_verifier& key,
                              const verify_options& options);

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

verify_report verify(const std::filesystem::path& path, const note_verifier& key,
                     const verify_options& options) {
  verify_report report;
  if (!std::filesystem::exists(path)) {
    report.problems.push_back("no evidence log at " + path.string());
    return report;
  }
  try {
    return verify_readable(path, key, options);
  } catch (const store::error& e) {
    report.problems.push_back(unreadable(path, e));
    return report;
  }
}

namespace {

// verify() on a file SQLite can read; throws store::error if it cannot.
verify_report verify_readable(const std::filesystem::path& path, const note_verifier& key,
                              const verify_options& options) {
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

  // The checkpoints and the witness, opened; their roots are then compared with the roots of
  // the log's prefixes, computed in one pass over the leaves.
  struct signed_head {
    std::string where;
    std::uint64_t stored_size = 0;
    checkpoint c;
    bool witness = false;
    std::string note;
  };
  std::vector<signed_head> heads;
  auto cq = db.prepare("SELECT tree_size, note FROM checkpoints ORDER BY tree_size");
  while (cq.step()) {
    ++report.checkpoints;
    const auto stored_size = static_cast<std::uint64_t>(cq.get_int(0));
    const std::string where = "checkpoint at size " + std::to_string(stored_size);
    std::string note = cq.get_text(1);
    auto c = key.open(note);
    if (!c) {
      report.problems.push_back(where + ": no valid signature by " + key.name);
      continue;
    }
    heads.push_back({where, stored_size, *c, false, std::move(note)});
  }
  const std::string origin = heads.empty() ? std::string() : heads.front().c.origin;
  for (std::size_t i = 0; i < options.witness.size(); ++i) {
    const std::string where = "witness checkpoint " + std::to_string(i + 1);
    auto c = key.open(options.witness[i]);
    if (!c) {
      report.problems.push_back(where + ": no valid signature by " + key.name);
      continue;
    }
    // A witness may hold the checkpoints of many logs: each is checked against its own.
    if (!origin.empty() && c->origin != origin) continue;
    heads.push_back({where, c->size, *c, true, {}});
  }
  std::vector<std::uint64_t> sizes;
  for (const auto& h : heads)
    if (h.c.size <= leaves.size()) sizes.push_back(h.c.size);
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  std::vector<digest> prefix_roots;  // the root at each of `sizes`
  {
    compact_range range;
    std::size_t next = 0;
    for (std::uint64_t i = 0; i <= leaves.size() && next < sizes.size(); ++i) {
      while (next < sizes.size() && sizes[next] == range.size()) {
        prefix_roots.push_back(range.root());
        ++next;
      }
      if (i < leaves.size()) range.push(leaves[i]);
    }
  }
  const auto root_at = [&](std::uint64_t n) {
    const auto it = std::lower_bound(sizes.begin(), sizes.end(), n);
    return prefix_roots[static_cast<std::size_t>(it - sizes.begin())];
  };

  for (const auto& h : heads) {
    if (h.witness) {
      if (h.c.size > leaves.size()) {
        report.problems.push_back(h.where + ": rolled back: a checkpoint seen before signs " +
                                  std::to_string(h.c.size) + " entries, the log holds only " +
                                  std::to_string(leaves.size()));
      } else if (root_at(h.c.size) != h.c.root) {
        report.problems.push_back(
            h.where + ": forked: the log's first " + std::to_string(h.c.size) +
            " entries are not those a checkpoint seen before signed (the root differs)");
      } else {
        ++report.witnessed;
      }
      continue;
    }
    if (h.c.origin != origin) {
      report.problems.push_back(h.where + ": names the log " + h.c.origin + ", the first names " +
                                origin);
      continue;
    }
    if (h.c.size != h.stored_size || h.c.size > leaves.size()) {
      report.problems.push_back(h.where + ": signs size " + std::to_string(h.c.size) +
                                " but the log holds " + std::to_string(leaves.size()));
      continue;
    }
    // Two checkpoints whose roots are roots of prefixes of the same entries are consistent
    // (RFC 9162 §2.1.4): the newer extends the older.
    if (root_at(h.c.size) != h.c.root) {
      report.problems.push_back(h.where + ": the signed root is not the root of the log's first " +
                                std::to_string(h.c.size) + " entries");
      continue;
    }
    report.latest = h.c;
    report.latest_note = h.note;
  }
  if (!report.latest) {
    if (report.checkpoints == 0)
      report.problems.push_back(
          "the log has no checkpoint: nothing in it is signed, so none of its " +
          std::to_string(leaves.size()) + " entries can be told from ones written by anyone");
  } else if (report.latest->size < leaves.size()) {
    const auto tail = leaves.size() - report.latest->size;
    if (options.allow_unsigned_tail) {
      report.unsigned_tail = tail;
    } else {
      report.problems.push_back(
          std::to_string(tail) + " entries (from index " + std::to_string(report.latest->size) +
          ") come after the newest checkpoint: no signature covers them, so anyone who could "
          "write the file could have added or changed them (--allow-unsigned-tail accepts them "
          "as unverified)");
    }
  }
  return report;
}

}  // namespace

}  // namespace linksim::evidence
