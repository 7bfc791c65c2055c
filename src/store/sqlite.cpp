// The SQLite wrapper: every sqlite3_* return is checked.
#include "linksim/store/sqlite.hpp"

#include <sqlite3.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <unordered_map>

namespace linksim::store {
namespace {

// SQLite's memory, with its largest blocks mapped straight from the system. A block that SQLite
// doubles as it grows (a page cache's hash table, a long value being built; the whole database,
// when in-memory databases used the memdb VFS) grows by remapping its pages (mremap), where a
// heap allocator may copy the block to a new one (mimalloc does) and keep both copies resident
// for a while: with memdb the 100 000-account population peaked at 1 479 MiB that way, and at
// 1 094 MiB with this. Every block carries its size and where it came from in a header (SQLite
// asks for sizes with xSize).
namespace memory {
constexpr std::size_t header = 16;  // what follows stays 16-byte aligned
constexpr std::size_t mapped_from = std::size_t{4} << 20;
constexpr std::uint64_t mapped_flag = std::uint64_t{1} << 63;

std::size_t page_rounded(std::size_t n) {
  static const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return (n + page - 1) / page * page;
}

void* with_header(void* base, std::size_t n, bool mapped) {
  const std::uint64_t word = static_cast<std::uint64_t>(n) | (mapped ? mapped_flag : 0);
  std::memcpy(base, &word, sizeof word);
  return static_cast<char*>(base) + header;
}

void* base_of(void* p) {
  return static_cast<char*>(p) - header;
}

std::uint64_t word_of(void* p) {
  std::uint64_t word = 0;
  std::memcpy(&word, base_of(p), sizeof word);
  return word;
}

// Small blocks are recycled per thread. Debian builds SQLite without its lookaside allocator,
// so every statement run allocates its registers' buffers and its cursors (about ten blocks)
// and frees them all when it ends: 2 600 blocks per account in the population benchmark. A
// block freed here is kept, up to `kept` of each size class, for the next request of that
// class on the same thread; its header holds the class's size, which SQLite may use (xSize).
constexpr std::size_t granule = 16;
constexpr std::size_t small_limit = 1024;
constexpr std::size_t classes = small_limit / granule;  // class c: sizes (16c, 16(c + 1)]
constexpr std::uint32_t kept = 256;

struct free_block {
  free_block* next;
};
// Trivially destructible, so it stays readable while its thread ends: `retired` then sends
// blocks back to the heap (a connection may close in a static destructor after it).
struct small_cache {
  free_block* head[classes];
  std::uint32_t count[classes];
  bool retired;
};
thread_local small_cache cache{};
struct cache_release {
  ~cache_release() {
    for (std::size_t c = 0; c < classes; ++c)
      while (free_block* b = cache.head[c]) {
        cache.head[c] = b->next;
        std::free(base_of(b));
      }
    cache.retired = true;
  }
};
thread_local cache_release release_at_thread_end;

void* allocate(int n) {
  const auto size = static_cast<std::size_t>(n);
  if (size >= mapped_from) {
    void* base = mmap(nullptr, page_rounded(size + header), PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return base == MAP_FAILED ? nullptr : with_header(base, size, true);
  }
  if (size <= small_limit) {
    const std::size_t c = size == 0 ? 0 : (size - 1) / granule;
    if (free_block* b = cache.head[c]) {
      cache.head[c] = b->next;
      --cache.count[c];
      return b;  // its header already holds the class's size
    }
    (void)&release_at_thread_end;  // odr-use: constructs it, so it runs at this thread's end
    void* base = std::malloc((c + 1) * granule + header);
    return base ? with_header(base, (c + 1) * granule, false) : nullptr;
  }
  void* base = std::malloc(size + header);
  return base ? with_header(base, size, false) : nullptr;
}

void release(void* p) {
  if (!p) return;
  const std::uint64_t word = word_of(p);
  if (word & mapped_flag) {
    munmap(base_of(p), page_rounded((word & ~mapped_flag) + header));
    return;
  }
  if (word <= small_limit && !cache.retired) {
    const std::size_t c = (static_cast<std::size_t>(word) - 1) / granule;
    if (cache.count[c] < kept) {
      auto* b = static_cast<free_block*>(p);
      b->next = cache.head[c];
      cache.head[c] = b;
      ++cache.count[c];
      return;
    }
  }
  std::free(base_of(p));
}

int size_of(void* p) {
  return p ? static_cast<int>(word_of(p) & ~mapped_flag) : 0;
}

void* reallocate(void* p, int n) {
  const auto size = static_cast<std::size_t>(n);
  const std::uint64_t word = word_of(p);
  const bool was_mapped = (word & mapped_flag) != 0;
  const std::size_t had = word & ~mapped_flag;
  // It fits: a small block's class may hold more, and a shrinking block keeps its memory until it
  // is freed (SQLite shrinks rarely, and xSize answers what the block holds).
  if (!was_mapped && size <= had) return p;
  if (was_mapped && size >= mapped_from) {
    void* base =
        mremap(base_of(p), page_rounded(had + header), page_rounded(size + header), MREMAP_MAYMOVE);
    return base == MAP_FAILED ? nullptr : with_header(base, size, true);
  }
  if (!was_mapped && had > small_limit && size < mapped_from) {
    void* base = std::realloc(base_of(p), size + header);
    return base ? with_header(base, size, false) : nullptr;
  }
  // Between classes, from the heap to a mapping or back: a new block.
  void* q = allocate(n);
  if (!q) return nullptr;
  std::memcpy(q, p, std::min(had, size));
  release(p);
  return q;
}

int roundup(int n) {
  return (n + 7) & ~7;
}
int init(void*) {
  return SQLITE_OK;
}
void shutdown(void*) {}

const sqlite3_mem_methods methods{allocate, release, reallocate, size_of,
                                  roundup,  init,    shutdown,   nullptr};
}  // namespace memory

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw error(rc, msg);
}

void check(sqlite3* db, int rc, std::string_view what) {
  if (rc != SQLITE_OK) fail(db, rc, what);
}

// SQLite's page cache, with one key moved. When a B-tree rebalance puts its new pages in order
// it swaps two of them through a spare page number, the lock-byte page (1 GiB / page size + 1,
// 262 145 with 4 KiB pages), which no real page ever uses. The default cache then believes its
// highest key is that number until the next truncation, and the truncation at the end of the
// transaction, finding a range of keys wider than its hash table, walks the whole table: a
// commit costs as much as the cache is large. Here the spare number is kept under key 0, which
// SQLite never uses (pages count from 1), so the highest key stays the database's own. In a
// database past 1 GiB the number falls inside the file, but SQLite skips that page there too:
// no page is ever stored under it but a parked one.
namespace page_cache {
sqlite3_pcache_methods2 inner{};
struct cache {
  sqlite3_pcache* inner;
  unsigned spare;  // the lock-byte page's number for this page size
};
constexpr unsigned kept_as = 0;
unsigned outer_to_inner(const cache* c, unsigned key) {
  return key == c->spare ? kept_as : key;
}
cache* of(sqlite3_pcache* p) {
  return reinterpret_cast<cache*>(p);
}
int init(void*) {
  return inner.xInit ? inner.xInit(inner.pArg) : SQLITE_OK;
}
void shutdown(void*) {
  if (inner.xShutdown) inner.xShutdown(inner.pArg);
}
sqlite3_pcache* create(int page_size, int extra, int purgeable) {
  auto* c = static_cast<cache*>(sqlite3_malloc(sizeof(cache)));
  if (!c) return nullptr;
  c->inner = inner.xCreate(page_size, extra, purgeable);
  if (!c->inner) {
    sqlite3_free(c);
    return nullptr;
  }
  c->spare = static_cast<unsigned>(0x40000000 / page_size + 1);
  return reinterpret_cast<sqlite3_pcache*>(c);
}
void cachesize(sqlite3_pcache* p, int n) {
  inner.xCachesize(of(p)->inner, n);
}
int pagecount(sqlite3_pcache* p) {
  return inner.xPagecount(of(p)->inner);
}
sqlite3_pcache_page* fetch(sqlite3_pcache* p, unsigned key, int create_flag) {
  return inner.xFetch(of(p)->inner, outer_to_inner(of(p), key), create_flag);
}
void unpin(sqlite3_pcache* p, sqlite3_pcache_page* page, int discard) {
  inner.xUnpin(of(p)->inner, page, discard);
}
void rekey(sqlite3_pcache* p, sqlite3_pcache_page* page, unsigned old_key, unsigned new_key) {
  inner.xRekey(of(p)->inner, page, outer_to_inner(of(p), old_key), outer_to_inner(of(p), new_key));
}
// A truncation leaves key 0 alone: only a rebalance in progress parks a page there, and it
// moves it on before anything else runs.
void truncate(sqlite3_pcache* p, unsigned limit) {
  inner.xTruncate(of(p)->inner, limit);
}
void destroy(sqlite3_pcache* p) {
  inner.xDestroy(of(p)->inner);
  sqlite3_free(p);
}
void shrink(sqlite3_pcache* p) {
  inner.xShrink(of(p)->inner);
}
const sqlite3_pcache_methods2 methods{1,         nullptr,   init,  shutdown, create,
                                      cachesize, pagecount, fetch, unpin,    rekey,
                                      truncate,  destroy,   shrink};
bool install() {
  return sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &inner) == SQLITE_OK && inner.xCreate &&
         sqlite3_config(SQLITE_CONFIG_PCACHE2, &methods) == SQLITE_OK;
}
}  // namespace page_cache

// LINKSIM_SQL_PROFILE=1: the time spent in sqlite3_step for each statement, with its number of
// steps, summed by SQL text over every connection and printed on stderr at exit, the most costly
// first (statements under 0.05 % of the total left out). A diagnostic for
// benchmarks: the clock reads cost time of their own (about 2 x 20 ns a step).
namespace profile {
struct totals {
  std::uint64_t steps = 0, nanoseconds = 0;
};
struct table {
  std::mutex mutex;
  std::map<std::string, totals, std::less<>> by_sql;
  std::unordered_map<sqlite3_stmt*, totals*> by_statement;
  ~table() {
    std::vector<std::pair<std::string, totals>> rows(by_sql.begin(), by_sql.end());
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
      return a.second.nanoseconds > b.second.nanoseconds;
    });
    std::uint64_t all = 0;
    for (const auto& r : rows) all += r.second.nanoseconds;
    std::fprintf(stderr, "sql profile: %.3f s in sqlite3_step\n", static_cast<double>(all) / 1e9);
    for (const auto& [sql, t] : rows) {
      if (t.nanoseconds < all / 2000) break;
      std::string one_line = sql.substr(0, 160);
      std::replace(one_line.begin(), one_line.end(), '\n', ' ');
      std::fprintf(stderr, "%8.3f s %5.1f%% %10llu steps %7.2f us  %s\n",
                   static_cast<double>(t.nanoseconds) / 1e9,
                   100.0 * static_cast<double>(t.nanoseconds) / static_cast<double>(all),
                   static_cast<unsigned long long>(t.steps),
                   static_cast<double>(t.nanoseconds) / 1e3 / static_cast<double>(t.steps),
                   one_line.c_str());
    }
  }
};
bool enabled() {
  static const bool on = [] {
    const char* v = std::getenv("LINKSIM_SQL_PROFILE");
    return v && *v && std::strcmp(v, "0") != 0;
  }();
  return on;
}
table& the_table() {
  static table t;
  return t;
}
void track(sqlite3_stmt* stmt, std::string_view sql) {
  auto& t = the_table();
  std::lock_guard lock(t.mutex);
  auto it = t.by_sql.find(sql);
  if (it == t.by_sql.end()) it = t.by_sql.emplace(std::string(sql), totals{}).first;
  t.by_statement[stmt] = &it->second;
}
void forget(sqlite3_stmt* stmt) {
  auto& t = the_table();
  std::lock_guard lock(t.mutex);
  t.by_statement.erase(stmt);
}
int timed_step(sqlite3_stmt* stmt) {
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = sqlite3_step(stmt);
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  auto& t = the_table();
  std::lock_guard lock(t.mutex);
  if (auto it = t.by_statement.find(stmt); it != t.by_statement.end()) {
    ++it->second->steps;
    it->second->nanoseconds += static_cast<std::uint64_t>(ns);
  }
  return rc;
}
}  // namespace profile

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
  if (profile::enabled() && stmt_) profile::track(stmt_, sql);
  const int n = std::min(sqlite3_bind_parameter_count(stmt_), 64);
  all_ = n == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
  unbound_ = all_;
}

statement::~statement() {
  if (profile::enabled() && stmt_) profile::forget(stmt_);
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
  const int rc = profile::enabled() ? profile::timed_step(stmt_) : sqlite3_step(stmt_);
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

database::database(const std::filesystem::path& path, options opts) : path_(path) {
  // Before SQLite's first use: no process-wide allocation statistics (keeping them takes a
  // global mutex on every allocation SQLite makes, and linksim never reads them), and the
  // allocator above.
  static const bool configured = [] {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK &&
           sqlite3_config(SQLITE_CONFIG_MALLOC, &memory::methods) == SQLITE_OK &&
           page_cache::install();
  }();
  (void)configured;
  const int flags =
      opts.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  // ":memory:" is SQLite's in-memory pager: a private database whose pages live in the page
  // cache and nowhere else, so a commit copies nothing and no read misses. With the default
  // page cache its commits grew with the database (see page_cache above), which is why
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
    if (profile::enabled())
      profile::the_table();  // made first, so destroyed after every connection
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

void transaction::commit() {
  db_.release_reads();
  db_.cached("COMMIT").run();
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

}  // namespace linksim::store
