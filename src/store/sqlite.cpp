// The SQLite wrapper: every sqlite3_* return is checked.
#include "linksim/store/sqlite.hpp"

#include "tuning.hpp"

#include <sqlite3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>

namespace linksim::store {
namespace {

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw error(rc, msg);
}

void check(sqlite3* db, int rc, std::string_view what) {
  if (rc != SQLITE_OK) fail(db, rc, what);
}

// A database file and its companions (SQLite gives the rollback journal, WAL and shared-memory
// index the main file's mode) readable by their owner alone: they hold client and webhook
// secrets and tokens. Creates the main file so that it is never visible with a wider mode.
void restrict_to_owner(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    throw error(SQLITE_CANTOPEN, "open " + path.string() + ": " + std::strerror(errno));
  }
  const int rc = ::fchmod(fd, 0600);
  const int saved = errno;
  ::close(fd);
  if (rc != 0) throw error(SQLITE_CANTOPEN, "chmod " + path.string() + ": " + std::strerror(saved));
  for (const char* suffix : {"-journal", "-wal", "-shm"}) {
    // Left from an earlier run with a wider mode, perhaps; absent is the usual case.
    ::chmod((path.string() + suffix).c_str(), 0600);
  }
}

}  // namespace

bool error::is_constraint() const noexcept {
  return (code_ & 0xff) == SQLITE_CONSTRAINT;
}

statement::statement(sqlite3* db, std::string_view sql) : db_(db) {
  if (sql.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw error(SQLITE_TOOBIG, "SQL too long");
  }
  check(db, sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr),
        std::string("prepare ") + std::string(sql.substr(0, 80)));
  if (tuning::profile::enabled() && stmt_) tuning::profile::track(stmt_, sql);
  const int n = std::min(sqlite3_bind_parameter_count(stmt_), 64);
  all_ = n == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
  unbound_ = all_;
}

statement::~statement() {
  if (tuning::profile::enabled() && stmt_) tuning::profile::forget(stmt_);
  sqlite3_finalize(stmt_);
}

statement::statement(statement&& o) noexcept
    : db_(o.db_), stmt_(o.stmt_), unbound_(o.unbound_), all_(o.all_) {
  o.stmt_ = nullptr;
}

statement& statement::bind(int index, std::int64_t v) {
  check(db_, sqlite3_bind_int64(stmt_, index, v), "bind");
  bound(index);
  return *this;
}

statement& statement::bind(int index, double v) {
  check(db_, sqlite3_bind_double(stmt_, index, v), "bind");
  bound(index);
  return *this;
}

statement& statement::bind(int index, std::string_view v) {
  check(db_, sqlite3_bind_text64(stmt_, index, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
        "bind");
  bound(index);
  return *this;
}

statement& statement::bind(int index, std::span<const std::uint8_t> blob) {
  static const std::uint8_t empty = 0;
  check(db_,
        sqlite3_bind_blob64(stmt_, index, blob.empty() ? &empty : blob.data(), blob.size(),
                            SQLITE_TRANSIENT),
        "bind");
  bound(index);
  return *this;
}

statement& statement::bind(int index, std::nullptr_t) {
  check(db_, sqlite3_bind_null(stmt_, index), "bind");
  bound(index);
  return *this;
}

bool statement::step() {
  if (unbound_ != 0) fail_unbound();
  const int rc =
      tuning::profile::enabled() ? tuning::profile::timed_step(stmt_) : sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // Leave the statement reusable: reset clears the error state.
  sqlite3_reset(stmt_);
  fail(db_, rc, "step");
}

void statement::run() {
  while (step()) {
  }
}

bool statement::busy() const {
  return sqlite3_stmt_busy(stmt_) != 0;
}

void statement::reset() {
  // sqlite3_reset repeats the last step's error, which step() already reported.
  sqlite3_reset(stmt_);
  unbound_ = all_;
}

void statement::fail_unbound() const {
  const int first = std::countr_zero(unbound_) + 1;
  const char* sql = sqlite3_sql(stmt_);
  throw error(SQLITE_MISUSE, "step: parameter " + std::to_string(first) + " not bound: " +
                                 std::string(sql ? std::string_view(sql).substr(0, 80) : ""));
}

bool statement::is_null(int c) const {
  return sqlite3_column_type(stmt_, c) == SQLITE_NULL;
}
std::int64_t statement::get_int(int c) const {
  return sqlite3_column_int64(stmt_, c);
}
double statement::get_double(int c) const {
  return sqlite3_column_double(stmt_, c);
}

std::string statement::get_text(int c) const {
  const auto* p = sqlite3_column_text(stmt_, c);
  const int n = sqlite3_column_bytes(stmt_, c);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
           : std::string();
}

std::vector<std::uint8_t> statement::get_blob(int c) const {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, c));
  const int n = sqlite3_column_bytes(stmt_, c);
  return p ? std::vector<std::uint8_t>(p, p + n) : std::vector<std::uint8_t>();
}

std::optional<std::int64_t> statement::get_opt_int(int c) const {
  if (is_null(c)) return std::nullopt;
  return get_int(c);
}

std::optional<std::string> statement::get_opt_text(int c) const {
  if (is_null(c)) return std::nullopt;
  return get_text(c);
}

std::unique_ptr<database> database::snapshot() {
  sqlite3_int64 size = 0;
  unsigned char* bytes = sqlite3_serialize(db_, "main", &size, 0);
  if (!bytes) throw error(SQLITE_NOMEM, "snapshot of " + path_.string() + ": out of memory");
  options o;
  o.read_only = true;
  std::unique_ptr<database> copy;
  try {
    copy = std::make_unique<database>(":memory:", o);
  } catch (...) {
    sqlite3_free(bytes);
    throw;
  }
  // SQLite owns the bytes from here, and frees them when the copy closes or this call fails.
  check(copy->db_,
        sqlite3_deserialize(copy->db_, "main", bytes, size, size,
                            SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY),
        "snapshot of " + path_.string());
  copy->path_ = path_;
  return copy;
}

database::database(const std::filesystem::path& path, options opts) : path_(path) {
  tuning::configure_once();  // before SQLite's first use
  const int flags =
      opts.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  // ":memory:" is SQLite's in-memory pager: a private database whose pages live in the page
  // cache and nowhere else, so a commit copies nothing and no read misses. With the default
  // page cache its commits grew with the database (see tuning.cpp), which is why
  // linksim used the memdb VFS instead, whose bytes sit in one buffer behind a bounded cache:
  // there every commit copies each dirty page into the buffer and every miss copies one back.
  const bool memory = path == ":memory:";
  if (!memory && !opts.read_only && !path.string().starts_with("file:")) restrict_to_owner(path);
  const int rc = sqlite3_open_v2(path.string().c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg =
        "open " + path.string() + ": " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
    sqlite3_close(db_);
    db_ = nullptr;
    throw error(rc, msg);
  }
  try {
    check(db_, sqlite3_extended_result_codes(db_, 1), "extended result codes");
    check(db_, sqlite3_busy_timeout(db_, opts.busy_timeout_ms), "busy timeout");
    if (tuning::profile::enabled()) tuning::profile::start();
    if (!opts.read_only) {
      // Must precede the switch to WAL for the WAL index to be kept in heap memory.
      if (opts.exclusive) exec("PRAGMA locking_mode=EXCLUSIVE");
      if (memory) {
        // Nothing survives the process anyway: the rollback journal stays in memory too.
        exec("PRAGMA journal_mode=MEMORY");
      } else if (opts.scratch) {
        // A scratch database is rebuilt from its seed rather than recovered: its rollback
        // journal stays in memory as well (15.8 s instead of 23.6 s for the 10k population
        // on files). A simulated crash closes the connection, which still rolls back.
        exec("PRAGMA journal_mode=MEMORY");
        // Reads through a memory map rather than read() into the page cache: the 100k
        // population on files took 187 s instead of 251 s. SQLite caps the map at 2 GiB
        // (Debian's build); pages past that are read as before.
        exec("PRAGMA mmap_size=2147418112");
      } else {
        exec("PRAGMA journal_mode=WAL");
      }
      exec(opts.scratch            ? "PRAGMA synchronous=OFF"
           : opts.synchronous_full ? "PRAGMA synchronous=FULL"
                                   : "PRAGMA synchronous=NORMAL");
    }
    exec("PRAGMA foreign_keys=ON");
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

database::~database() {
  cache_.clear();  // statements must be finalized before the connection closes
  // A statement from prepare() that outlives the database keeps the connection open until it is
  // finalized (sqlite3_close would fail and leave it open for good).
  sqlite3_close_v2(db_);
}

void database::exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw error(rc, "exec: " + msg);
  }
}

statement database::prepare(std::string_view sql) {
  return statement(db_, sql);
}

statement& database::cached(std::string_view sql) {
  statement* s = nullptr;
  if (auto hit = addresses_.find(sql.data()); hit != addresses_.end() && hit->second.sql == sql) {
    s = hit->second.stmt;
    s->reset();
  } else {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
      it = cache_.emplace(std::string(sql), std::make_unique<statement>(db_, sql)).first;
    } else {
      it->second->reset();
    }
    s = it->second.get();
    // SQL built at run time arrives at ever new addresses: start over rather than grow.
    if (addresses_.size() > 4 * cache_.size() + 64) addresses_.clear();
    addresses_.insert_or_assign(sql.data(), by_address{it->first, s});
  }
  // A caller that never ends a transaction must not grow the list: keep each statement once.
  if (handed_.size() > 2 * cache_.size() + 16) {
    std::sort(handed_.begin(), handed_.end());
    handed_.erase(std::unique(handed_.begin(), handed_.end()), handed_.end());
  }
  handed_.push_back(s);
  return *s;
}

void database::release_reads() {
  for (statement* s : handed_)
    if (s->busy()) s->reset();
  handed_.clear();
}

database::work& database::work::operator+=(const work& o) {
  statements += o.statements;
  commits += o.commits;
  pages_written += o.pages_written;
  cache_misses += o.cache_misses;
  return *this;
}

database::work database::work_done() {
  for (auto& [sql, s] : cache_)
    done_.statements +=
        static_cast<std::uint64_t>(sqlite3_stmt_status(s->stmt_, SQLITE_STMTSTATUS_RUN, 1));
  auto take = [this](int op) {
    int current = 0, highwater = 0;
    check(db_, sqlite3_db_status(db_, op, &current, &highwater, 1), "db status");
    return static_cast<std::uint64_t>(current);
  };
  done_.pages_written += take(SQLITE_DBSTATUS_CACHE_WRITE);
  done_.cache_misses += take(SQLITE_DBSTATUS_CACHE_MISS);
  return done_;
}

std::int64_t database::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}
int database::changes() const {
  return sqlite3_changes(db_);
}

// The three statements are kept prepared: parsing them again for every transaction was a
// sixth of the simulation's time.
transaction::transaction(database& db) : db_(db) {
  db_.cached("BEGIN IMMEDIATE").run();
}

transaction::~transaction() {
  if (done_) return;
  try {
    db_.release_reads();
    db_.cached("ROLLBACK").run();
  } catch (const error&) {
    // SQLite may have rolled back already (e.g. after SQLITE_FULL); nothing more to undo.
  }
}

void database::refuse_commits(int n) {
  commits_to_refuse_ = std::max(n, 0);
  // Any commit, a statement's own included: the hook runs for each, and refuses while the count
  // lasts (a non-zero answer turns the COMMIT into a ROLLBACK).
  sqlite3_commit_hook(
      db_,
      [](void* self) -> int {
        auto& left = static_cast<database*>(self)->commits_to_refuse_;
        if (left == 0) return 0;
        --left;
        return 1;
      },
      this);
}

void transaction::commit() {
  db_.release_reads();
  try {
    db_.cached("COMMIT").run();
  } catch (const error& e) {
    // SQLITE_CONSTRAINT_COMMITHOOK: a refused commit (database::refuse_commits). It is told as
    // the disk error it stands for, not as a constraint a caller might take for a conflict.
    if (e.code() != SQLITE_CONSTRAINT_COMMITHOOK) throw;
    throw error(SQLITE_FULL, db_.path().string() + ": commit: database or disk is full (injected)");
  }
  done_ = true;
  ++db_.done_.commits;
}

namespace {

std::int64_t pragma_int(database& db, const char* pragma) {
  // Finished before any migration runs: DROP TABLE fails while a statement is open.
  auto q = db.prepare(pragma);
  q.step();
  return q.get_int(0);
}

void run_migrations(database& db, std::span<const migration> migrations, std::int64_t have) {
  for (const auto& m : migrations) {
    if (m.version <= have) continue;
    transaction tx(db);
    db.exec(m.sql);
    db.exec("PRAGMA user_version=" + std::to_string(m.version));
    tx.commit();
  }
}

}  // namespace

void migrate(database& db, std::span<const migration> migrations) {
  const std::int64_t have = pragma_int(db, "PRAGMA user_version");
  if (have == 0 && !migrations.empty() &&
      pragma_int(db, "SELECT count(*) FROM sqlite_schema") == 0) {
    // Keyed by the migrations' text, not their address: two lists may share one.
    std::string key;
    for (const auto& m : migrations) {
      key += std::to_string(m.version);
      key += '\0';
      key += m.sql;
      key += '\0';
    }
    // Never destroyed: connections closed during static destruction would free SQLite's blocks
    // into per-thread lists that may already be gone. Reachable, so not a leak to LeakSanitizer.
    static std::mutex mutex;
    static auto* templates = new std::map<std::string, std::unique_ptr<database>>();
    std::lock_guard lock(mutex);
    auto& t = (*templates)[key];
    if (!t) {
      auto fresh = std::make_unique<database>(":memory:");
      run_migrations(*fresh, migrations, 0);
      t = std::move(fresh);
    }
    // A backup between different page sizes fails for an in-memory destination: migrate then.
    if (pragma_int(*t, "PRAGMA page_size") == pragma_int(db, "PRAGMA page_size")) {
      sqlite3_backup* b = sqlite3_backup_init(db.db_, "main", t->db_, "main");
      if (!b)
        throw error(sqlite3_extended_errcode(db.db_),
                    std::string("copy the schema: ") + sqlite3_errmsg(db.db_));
      const int rc = sqlite3_backup_step(b, -1);
      sqlite3_backup_finish(b);
      if (rc != SQLITE_DONE) throw error(rc, std::string("copy the schema: ") + sqlite3_errstr(rc));
      return;
    }
  }
  run_migrations(db, migrations, have);
}

namespace {

class transaction_work final : public unit_of_work {
 public:
  explicit transaction_work(database& db) : tx_(db) {}
  void commit() override { tx_.commit(); }

 private:
  transaction tx_;
};

}  // namespace

work_scope begin_work(database& db) {
  return std::make_unique<transaction_work>(db);
}

}  // namespace linksim::store
