// SQLite behind RAII: a connection, prepared statements, BEGIN IMMEDIATE transactions and
// migrations. Failures the caller cannot expect (disk full, corruption, I/O) throw store::error;
// a request handler turns that into 503 so the client retries.
#pragma once

#include "linksim/store/error.hpp"
#include "linksim/store/unit_of_work.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace linksim::store {

struct options {
  bool read_only = false;
  // NORMAL: every committed transaction survives a process crash; FULL also a power loss.
  bool synchronous_full = false;
  // A scratch database, such as a simulation's, which is rebuilt from its seed rather than
  // recovered: PRAGMA synchronous=OFF, nothing is ever flushed to the disk, and the rollback
  // journal stays in memory. Closing and opening it again finds every committed transaction
  // (SQLite has handed it to the operating system); a crash of the process in the middle of a
  // transaction may leave the file corrupt.
  bool scratch = false;
  int busy_timeout_ms = 5000;
  // Hold the file lock for the connection's lifetime (PRAGMA locking_mode=EXCLUSIVE): no
  // per-transaction locking syscalls, and the WAL index lives in memory. For a database one
  // connection owns; other processes cannot read it meanwhile.
  bool exclusive = false;
};

class statement {
  friend class database;  // reads its run count (database::work_done)

 public:
  statement(sqlite3* db, std::string_view sql);
  ~statement();
  statement(statement&&) noexcept;
  statement& operator=(statement&&) = delete;
  statement(const statement&) = delete;

  // Parameters are 1-based, as in SQLite.
  statement& bind(int index, std::int64_t v);
  statement& bind(int index, int v) { return bind(index, std::int64_t{v}); }
  statement& bind(int index, double v);
  statement& bind(int index, std::string_view v);
  statement& bind(int index, const std::string& v) { return bind(index, std::string_view(v)); }
  statement& bind(int index, const char* v) { return bind(index, std::string_view(v)); }
  statement& bind(int index, std::span<const std::uint8_t> blob);
  statement& bind(int index, std::nullptr_t);
  template <class T>
  statement& bind(int index, const std::optional<T>& v) {
    return v ? bind(index, *v) : bind(index, nullptr);
  }
  // Binds every argument in order from parameter 1.
  template <class... A>
  statement& bind_all(const A&... args) {
    int i = 0;
    (bind(++i, args), ...);
    return *this;
  }

  // Advances: true while a row is available, false when done. Throws store::error.
  bool step();
  // Runs to completion, ignoring any rows.
  void run();
  // Ready to run again. The bound values stay in SQLite (clearing them cost 0.5 % of a
  // simulation's instructions), but every parameter must be bound again before the next step:
  // one left unbound fails the step, instead of running with a previous value.
  void reset();
  // Stopped on a row: neither run to the end nor reset.
  bool busy() const;

  bool is_null(int column) const;
  std::int64_t get_int(int column) const;
  double get_double(int column) const;
  std::string get_text(int column) const;
  std::vector<std::uint8_t> get_blob(int column) const;
  std::optional<std::int64_t> get_opt_int(int column) const;
  std::optional<std::string> get_opt_text(int column) const;

 private:
  void bound(int index) {
    if (index >= 1 && index <= 64) unbound_ &= ~(std::uint64_t{1} << (index - 1));
  }
  [[noreturn]] void fail_unbound() const;

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::uint64_t unbound_ = 0;  // parameters 1..64 not bound since the last reset, one bit each
  std::uint64_t all_ = 0;      // one bit for each of the statement's parameters (up to 64)
};

struct migration;

class database {
 public:
  // Opens (creating if absent) with WAL, the busy timeout and foreign keys on. Throws store::error.
  explicit database(const std::filesystem::path& path, options opts = {});
  ~database();
  database(const database&) = delete;
  database& operator=(const database&) = delete;

  // Runs SQL with no parameters (several statements allowed). Throws store::error.
  void exec(std::string_view sql);
  statement prepare(std::string_view sql);
  // A statement prepared once per connection and reset for this use: for hot paths. Do not keep
  // the reference past the next cached() call with the same SQL, nor read it after the end of
  // a transaction (see release_reads).
  statement& cached(std::string_view sql);
  // Resets every cached statement stopped on a row, as each transaction does before it ends (only
  // statements handed out by cached() since the last call can be: no other is stepped). A
  // statement left on a row (a lookup that read its one row) keeps the connection's read
  // transaction open, and no WAL checkpoint can pass it: the WAL grew without bound (4 MB to
  // 103 MB over 20 000 commits with one such statement).
  void release_reads();
  std::int64_t last_insert_rowid() const;
  int changes() const;
  const std::filesystem::path& path() const { return path_; }

  // A read-only copy of everything committed so far, in memory, on a connection of its own
  // (sqlite3_serialize, then sqlite3_deserialize read-only): for an auditor who reads what a
  // service keeps without going through the service or being able to change it.
  std::unique_ptr<database> snapshot();

  // The next `n` commits on this connection fail as a full disk's would: each is rolled back and
  // throws store::error (SQLITE_FULL). SQLite's commit hook turns the COMMIT into a ROLLBACK, so
  // every write of the transaction is undone by SQLite itself, as at a real failed commit. A fault
  // a harness injects: the service above sees a storage error and lives on.
  void refuse_commits(int n);

  // What the connection has done since it opened. The same statements give the same counts on
  // any machine, so a benchmark can compare the work of two builds where wall time is noisy.
  struct work {
    std::uint64_t statements = 0;     // runs of cached statements, BEGIN and COMMIT included
    std::uint64_t commits = 0;        // transactions committed through store::transaction
    std::uint64_t pages_written = 0;  // pages the cache wrote out (to the file or memdb buffer)
    std::uint64_t cache_misses = 0;   // pages read because the cache did not hold them
    work& operator+=(const work& o);
  };
  // Not const: SQLite's counters are 32-bit, so each call moves them into 64-bit totals.
  work work_done();

 private:
  friend class transaction;
  friend void migrate(database& db, std::span<const migration> migrations);
  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
  work done_;
  int commits_to_refuse_ = 0;
  // Looked up by string_view without building a key string (C++20 heterogeneous lookup).
  struct sql_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, std::unique_ptr<statement>, sql_hash, std::equal_to<>> cache_;
  // Hot paths pass string literals: found by the text's address first (hashing a pointer, not
  // 200 characters of SQL), then confirmed by the text, since a temporary string may reuse an
  // address.
  struct by_address {
    std::string_view sql;  // the key in cache_
    statement* stmt;
  };
  std::unordered_map<const char*, by_address> addresses_;
  // Handed out by cached() since the last release_reads(): only these can be stopped on a row.
  std::vector<statement*> handed_;
};

// BEGIN IMMEDIATE on construction: takes the write lock up front, so a read-then-write inside
// cannot fail with SQLITE_BUSY halfway. Rolls back unless commit() was called.
class transaction {
 public:
  explicit transaction(database& db);
  ~transaction();
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  void commit();

 private:
  database& db_;
  bool done_ = false;
};

// A transaction as the unit of work a service's repositories hand their domain (BEGIN
// IMMEDIATE now, rolled back unless committed).
work_scope begin_work(database& db);

struct migration {
  int version;
  std::string_view sql;
};
// Applies, in one transaction each, every migration above the database's user_version. A new,
// empty database instead gets a copy of the final schema, made once per process by running the
// same migrations on an in-memory database (SQLite's backup API, in one transaction): a
// simulated world opens three databases and the audit 360 worlds, and running every migration
// again each time was 45 % of the audit's time. The copy holds the schema, rows and version the
// migrations write.
void migrate(database& db, std::span<const migration> migrations);

}  // namespace linksim::store
