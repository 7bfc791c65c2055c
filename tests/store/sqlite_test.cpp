// Tests of the SQLite wrapper: migrations, transactions, constraint errors.
#include "linksim/store/sqlite.hpp"

#include "../temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <thread>

namespace linksim::store {
namespace {

constexpr migration migrations[] = {
    {1, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"},
    {2, "ALTER TABLE t ADD COLUMN n INTEGER NOT NULL DEFAULT 0"},
    // A table rebuild, as migrations that change a table's shape do.
    {3,
     "CREATE TABLE t2 (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, n INTEGER NOT NULL "
     "DEFAULT 0);"
     "INSERT INTO t2 SELECT * FROM t; DROP TABLE t; ALTER TABLE t2 RENAME TO t;"},
};

// An auditor's copy: everything committed, nothing written back, and later writes not seen.
TEST(Sqlite, ASnapshotIsAReadOnlyCopyOfWhatWasCommitted) {
  database db(":memory:");
  migrate(db, migrations);
  db.prepare("INSERT INTO t (name, n) VALUES (?, ?)").bind_all("kept", 1).run();
  const auto copy = db.snapshot();
  db.prepare("INSERT INTO t (name, n) VALUES (?, ?)").bind_all("later", 2).run();
  auto q = copy->prepare("SELECT group_concat(name) FROM t");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.get_text(0), "kept");
  EXPECT_THROW(copy->exec("INSERT INTO t (name, n) VALUES ('x', 3)"), store::error);
  EXPECT_THROW(copy->exec("DELETE FROM t"), store::error);
}

TEST(Sqlite, MigratesOnceAndKeepsData) {
  testing::temp_dir dir;
  {
    database db(dir / "a.db");
    migrate(db, migrations);
    db.prepare("INSERT INTO t (name, n) VALUES (?, ?)").bind_all("x", 5).run();
  }
  database db(dir / "a.db");
  migrate(db, migrations);  // already at the last version: a no-op
  auto q = db.prepare("SELECT name, n FROM t");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.get_text(0), "x");
  EXPECT_EQ(q.get_int(1), 5);
  EXPECT_FALSE(q.step());
}

// What a database holds after its migrations: schema, rows of every table, version, mode.
std::vector<std::string> contents(database& db) {
  std::vector<std::string> out;
  auto schema = db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name");
  while (schema.step())
    out.push_back(schema.get_text(0) + " " + schema.get_text(1) + " " + schema.get_text(2) + " " +
                  schema.get_opt_text(3).value_or(""));
  for (const char* q : {"SELECT group_concat(id || ':' || name || ':' || n) FROM t",
                        "PRAGMA user_version", "PRAGMA journal_mode", "PRAGMA integrity_check"}) {
    auto r = db.prepare(q);
    r.step();
    out.push_back(std::string(q) + " = " + r.get_opt_text(0).value_or("null"));
  }
  return out;
}

TEST(Sqlite, ANewDatabaseGetsTheSchemaItsMigrationsWrite) {
  // A migration that also writes a row: the copy carries rows as well as the schema.
  constexpr migration with_row[] = {migrations[0],
                                    migrations[1],
                                    migrations[2],
                                    {4, "INSERT INTO t (name, n) VALUES ('seeded', 7)"}};
  testing::temp_dir dir;
  // Step by step: an existing database at version 1, then the rest (the migrations run).
  database stepwise(dir / "stepwise.db");
  migrate(stepwise, std::span(with_row).first(1));
  migrate(stepwise, with_row);
  // New and empty: the final schema is copied in, twice (the second from the kept copy).
  for (const char* name : {"copied.db", "again.db"}) {
    SCOPED_TRACE(name);
    database copied(dir / name);
    migrate(copied, with_row);
    EXPECT_EQ(contents(copied), contents(stepwise));
    EXPECT_EQ(contents(copied).back(), "PRAGMA integrity_check = ok");
    copied.prepare("INSERT INTO t (name) VALUES ('next')").run();
    EXPECT_THROW(copied.prepare("INSERT INTO t (name) VALUES ('seeded')").run(), error);
  }
  // Another list, even one at the same address later, gets its own schema.
  constexpr migration other[] = {{1, "CREATE TABLE u (k TEXT PRIMARY KEY)"}};
  database u(dir / "u.db");
  migrate(u, other);
  auto q = u.prepare("SELECT group_concat(name) FROM sqlite_schema WHERE type = 'table'");
  q.step();
  EXPECT_EQ(q.get_text(0), "u");
  // In memory, with another page size than the kept copy's: the migrations run instead.
  database small(":memory:");
  small.exec("PRAGMA page_size = 1024");
  migrate(small, with_row);
  auto ps = small.prepare("PRAGMA page_size");
  ps.step();
  EXPECT_EQ(ps.get_int(0), 1024);
  auto rows = small.prepare("SELECT name FROM t");
  ASSERT_TRUE(rows.step());
  EXPECT_EQ(rows.get_text(0), "seeded");
}

std::filesystem::perms mode_of(const std::filesystem::path& p) {
  return std::filesystem::status(p).permissions() & std::filesystem::perms::mask;
}

TEST(Sqlite, FilesAreReadableByTheirOwnerAlone) {
  testing::temp_dir dir;
  const auto path = dir.path() / "secrets.db";
  // Left by an earlier version with the default mode: tightened on open.
  { std::ofstream(path.string() + "-journal") << ""; }
  std::filesystem::permissions(path.string() + "-journal", std::filesystem::perms(0644));
  database db(path);
  migrate(db, migrations);
  db.prepare("INSERT INTO t (name, n) VALUES (?, ?)").bind_all("a", 1).run();
  const auto owner = std::filesystem::perms::owner_read | std::filesystem::perms::owner_write;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    const std::filesystem::path file = path.string() + suffix;
    if (!std::filesystem::exists(file)) continue;
    EXPECT_EQ(mode_of(file), owner) << file;
  }
  EXPECT_TRUE(std::filesystem::exists(path.string() + "-wal"));
}

TEST(Sqlite, TransactionRollsBackUnlessCommitted) {
  testing::temp_dir dir;
  database db(dir / "a.db");
  migrate(db, migrations);
  {
    transaction tx(db);
    db.prepare("INSERT INTO t (name) VALUES ('gone')").run();
  }
  {
    transaction tx(db);
    db.prepare("INSERT INTO t (name) VALUES ('kept')").run();
    tx.commit();
  }
  auto q = db.prepare("SELECT group_concat(name) FROM t");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.get_text(0), "kept");
}

TEST(Sqlite, ARefusedCommitRollsBackAsAFullDiskAndTheNextOneCommits) {
  testing::temp_dir dir;
  database db(dir / "a.db");
  migrate(db, migrations);
  db.refuse_commits(2);
  for (const char* name : {"first", "second"}) {
    transaction tx(db);
    db.prepare(std::string("INSERT INTO t (name) VALUES ('") + name + "')").run();
    try {
      tx.commit();
      FAIL() << "the commit of '" << name << "' was not refused";
    } catch (const error& e) {
      EXPECT_EQ(e.code() & 0xff, 13 /* SQLITE_FULL */) << e.what();
      EXPECT_FALSE(e.is_constraint());
    }
  }
  {
    transaction tx(db);
    db.prepare("INSERT INTO t (name) VALUES ('third')").run();
    tx.commit();
  }
  // Read from a connection of its own: what reached the file, not this connection's view.
  database reader(dir / "a.db");
  auto q = reader.prepare("SELECT group_concat(name) FROM t");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.get_text(0), "third");
}

TEST(Sqlite, ConstraintViolationThrowsAConstraintError) {
  testing::temp_dir dir;
  database db(dir / "a.db");
  migrate(db, migrations);
  db.prepare("INSERT INTO t (name) VALUES ('x')").run();
  try {
    db.prepare("INSERT INTO t (name) VALUES ('x')").run();
    FAIL() << "expected a UNIQUE violation";
  } catch (const error& e) {
    EXPECT_TRUE(e.is_constraint());
  }
}

TEST(Sqlite, CachedStatementsAreResetForReuse) {
  testing::temp_dir dir;
  database db(dir / "a.db");
  migrate(db, migrations);
  for (const char* name : {"a", "b"})
    db.cached("INSERT INTO t (name) VALUES (?)").bind(1, name).run();
  auto& q = db.cached("SELECT count(*) FROM t WHERE name >= ?");
  q.bind(1, "a");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.get_int(0), 2);
  auto& again = db.cached("SELECT count(*) FROM t WHERE name >= ?");
  again.bind(1, "b");
  ASSERT_TRUE(again.step());
  EXPECT_EQ(again.get_int(0), 1);
}

// A reused statement keeps SQLite's bound values but not the right to run on them: every
// parameter is bound again, or the step fails naming the one left out.
TEST(Sqlite, AStepWithAParameterLeftUnboundFails) {
  testing::temp_dir dir;
  database db(dir / "a.db");
  auto sum = [&]() -> statement& { return db.cached("SELECT ?1 + ?2"); };
  auto& q = sum().bind_all(1, 2);
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.get_int(0), 3);
  try {
    (void)sum().bind(1, 5).step();  // 2 was bound before the reuse, not since
    ADD_FAILURE() << "ran with parameter 2 unbound";
  } catch (const error& e) {
    EXPECT_NE(std::string(e.what()).find("parameter 2 not bound"), std::string::npos) << e.what();
  }
  auto& again = sum().bind(2, 7).bind(1, 5);
  ASSERT_TRUE(again.step());
  EXPECT_EQ(again.get_int(0), 12);
  EXPECT_THROW((void)db.prepare("SELECT ?").step(), error);
  EXPECT_TRUE(db.prepare("SELECT 1").step());  // no parameter: nothing to bind
}

// Cached statements are found by the SQL's address first: a string whose buffer now holds other
// SQL must get its own statement, not the one prepared for what the buffer held before.
TEST(Sqlite, ACachedStatementFollowsTheTextNotItsAddress) {
  database db(":memory:");
  std::string sql = "SELECT 1";  // short: kept inside the string object, at one address
  auto& one = db.cached(sql);
  ASSERT_TRUE(one.step());
  EXPECT_EQ(one.get_int(0), 1);
  const char* where = sql.data();
  sql = "SELECT 2";
  ASSERT_EQ(sql.data(), where);
  auto& two = db.cached(sql);
  ASSERT_TRUE(two.step());
  EXPECT_EQ(two.get_int(0), 2);
  sql = "SELECT 1";
  auto& one_again = db.cached(sql);
  EXPECT_EQ(&one_again, &one);
}

// An in-memory database keeps every page in its page cache. 48 MB of rows, a rolled-back
// transaction that grew it further, and every row reads back as written.
TEST(Sqlite, AnInMemoryDatabaseKeepsEveryRowThroughARollback) {
  database db(":memory:");
  db.exec("CREATE TABLE b (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  auto row = [](int id) {
    return std::string(1000, static_cast<char>('a' + id % 26)) + std::to_string(id);
  };
  constexpr int rows = 48'000;
  for (int start = 0; start < rows; start += 8'000) {
    transaction tx(db);
    for (int id = start; id < start + 8'000; ++id)
      db.cached("INSERT INTO b (id, v) VALUES (?, ?)").bind_all(id, row(id)).run();
    tx.commit();
  }
  {
    transaction tx(db);  // grows the buffer, then rolls back
    for (int id = rows; id < rows + 8'000; ++id)
      db.cached("INSERT INTO b (id, v) VALUES (?, ?)").bind_all(id, row(id)).run();
  }
  auto count = db.prepare("SELECT count(*), sum(length(v)) FROM b");
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.get_int(0), rows);
  auto all = db.prepare("SELECT id, v FROM b ORDER BY id");
  int seen = 0;
  while (all.step()) {
    ASSERT_EQ(all.get_int(0), seen);
    ASSERT_EQ(all.get_text(1), row(seen));
    ++seen;
  }
  EXPECT_EQ(seen, rows);
}

// B-tree rebalances swap pages through the lock-byte page's number, which the page cache keeps
// under key 0 (see page_cache in sqlite.cpp): a key mapped wrongly there loses or mixes pages.
// Random keys split and merge leaves all the time; with 1 KiB and 4 KiB pages, in memory and in
// a file, through commits and rollbacks, the database stays whole and holds exactly the rows of
// the committed transactions.
TEST(Sqlite, RebalancesThroughTheSparePageNumberKeepTheDatabaseWhole) {
  testing::temp_dir dir;
  for (const int page_size : {1024, 4096}) {
    for (const bool in_file : {false, true}) {
      SCOPED_TRACE(std::to_string(page_size) + (in_file ? " in a file" : " in memory"));
      database db(in_file ? dir / ("r" + std::to_string(page_size) + ".db")
                          : std::filesystem::path(":memory:"));
      db.exec("PRAGMA page_size=" + std::to_string(page_size));
      db.exec("CREATE TABLE r (k BLOB PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID");
      db.exec("CREATE INDEX r_v ON r (v)");
      std::map<std::string, std::string> model;
      std::mt19937_64 random(static_cast<std::uint64_t>(page_size));
      auto blob = [](const std::string& k) {
        return std::span(reinterpret_cast<const std::uint8_t*>(k.data()), k.size());
      };
      auto key = [&] {
        std::string k(12, '\0');
        for (auto& c : k) c = static_cast<char>(random() & 0xff);
        return k;
      };
      for (int round = 0; round < 40; ++round) {
        const bool keep = round % 4 != 3;  // every fourth transaction rolls back
        std::map<std::string, std::string> next = model;
        transaction tx(db);
        for (int i = 0; i < 1000; ++i) {
          const std::string k = key();
          const std::string v =
              std::string(static_cast<std::size_t>(random() % 90), 'v') + std::to_string(random());
          db.cached("INSERT INTO r (k, v) VALUES (?, ?)").bind(1, blob(k)).bind(2, v).run();
          next[k] = v;
        }
        // Deletions merge leaves again: every eighth row of the ones held so far.
        int n = 0;
        for (auto it = next.begin(); it != next.end();) {
          if (++n % 8 != 0) {
            ++it;
            continue;
          }
          db.cached("DELETE FROM r WHERE k = ?").bind(1, blob(it->first)).run();
          it = next.erase(it);
        }
        if (keep) {
          tx.commit();
          model = std::move(next);
        }
      }
      auto check = db.prepare("PRAGMA integrity_check");
      ASSERT_TRUE(check.step());
      EXPECT_EQ(check.get_text(0), "ok");
      auto all = db.prepare("SELECT k, v FROM r ORDER BY k");
      auto expected = model.begin();
      std::size_t rows = 0;
      while (all.step()) {
        const auto k = all.get_blob(0);
        ASSERT_NE(expected, model.end());
        ASSERT_EQ(std::string(k.begin(), k.end()), expected->first);
        ASSERT_EQ(all.get_text(1), expected->second);
        ++expected;
        ++rows;
      }
      EXPECT_EQ(rows, model.size());
      EXPECT_GT(rows, 5000u);
    }
  }
}

// SQLite's small blocks are recycled per thread by size class. Values of every length up to
// past the largest class, strings grown by concatenation (reallocations across classes and out
// of them), and a connection used on one thread, then read and closed on another that frees the
// first one's blocks after that thread has ended.
TEST(Sqlite, SmallBlocksAreRecycledAcrossSizesAndThreads) {
  auto value = [](int n) { return std::string(static_cast<std::size_t>(n), 'a' + n % 26); };
  constexpr int longest = 1100;
  std::unique_ptr<database> db;
  std::thread first([&] {
    db = std::make_unique<database>(":memory:");
    db->exec("CREATE TABLE s (n INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    transaction tx(*db);
    for (int n = 0; n <= longest; ++n)
      db->cached("INSERT INTO s (n, v) VALUES (?, ?)").bind_all(n, value(n)).run();
    tx.commit();
    auto q = db->prepare("SELECT v || v FROM s WHERE n = ?");
    for (int n = 0; n <= longest; n += 7) {
      q.bind(1, n);
      ASSERT_TRUE(q.step());
      ASSERT_EQ(q.get_text(0), value(n) + value(n));
      q.reset();
    }
  });
  first.join();
  {  // the statements end before the connection closes
    auto all = db->prepare("SELECT n, v FROM s ORDER BY n");
    int seen = 0;
    while (all.step()) {
      ASSERT_EQ(all.get_int(0), seen);
      ASSERT_EQ(all.get_text(1), value(seen));
      ++seen;
    }
    EXPECT_EQ(seen, longest + 1);
    auto joined = db->prepare("SELECT group_concat(v, '') FROM (SELECT v FROM s ORDER BY n)");
    ASSERT_TRUE(joined.step());
    std::string expected;
    for (int n = 0; n <= longest; ++n) expected += value(n);
    EXPECT_EQ(joined.get_text(0), expected);
  }
  db.reset();  // closed on this thread, freeing blocks the first one allocated
}

// A statement from prepare() that outlives its database: the connection stays open until the
// statement is finalized, then closes (with sqlite3_close it stayed open for good, which the
// asan preset's LeakSanitizer reports).
TEST(Sqlite, AStatementMayOutliveItsDatabase) {
  auto db = std::make_unique<database>(":memory:");
  db->exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7)");
  auto q = db->prepare("SELECT x FROM t");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.get_int(0), 7);
  db.reset();
}

// The work counters count what ran: cached statement runs (BEGIN and COMMIT included),
// commits (not rollbacks), and the pages a commit wrote; a second reading adds nothing new.
TEST(Sqlite, WorkCountersCountWhatRan) {
  testing::temp_dir dir;  // a file: an in-memory database never writes a page out
  database db(dir / "w.db");
  db.exec("CREATE TABLE w (id INTEGER PRIMARY KEY, v TEXT)");
  const auto before = db.work_done();
  {
    transaction tx(db);
    for (int i = 0; i < 3; ++i) db.cached("INSERT INTO w (v) VALUES (?)").bind(1, "x").run();
    tx.commit();
  }
  {
    transaction tx(db);  // rolled back: runs counted, no commit
    db.cached("INSERT INTO w (v) VALUES (?)").bind(1, "y").run();
  }
  const auto after = db.work_done();
  EXPECT_EQ(after.statements - before.statements,
            3u + 2u + 1u + 1u + 1u);  // + BEGIN, COMMIT, BEGIN, ROLLBACK
  EXPECT_EQ(after.commits - before.commits, 1u);
  EXPECT_GT(after.pages_written, before.pages_written);
  const auto again = db.work_done();
  EXPECT_EQ(again.statements, after.statements);
  EXPECT_EQ(again.commits, after.commits);
  EXPECT_EQ(again.pages_written, after.pages_written);
}

// A cached lookup that read its one row and was never reset must not pin the WAL: every
// transaction releases such statements, so checkpoints keep the WAL at about the autocheckpoint
// size (1000 pages, 4 MB). Without that, these 4000 commits of 1 KB leave a WAL of 100 MB.
TEST(Sqlite, ALookupLeftOnARowDoesNotPinTheWal) {
  testing::temp_dir dir;
  database db(dir / "w.db", {.exclusive = true});
  migrate(db, migrations);
  db.prepare("INSERT INTO t (name) VALUES ('first')").run();
  auto& lookup = db.cached("SELECT id FROM t WHERE name = ?");
  ASSERT_TRUE(lookup.bind(1, "first").step());  // left on its row, as lookups are
  EXPECT_TRUE(lookup.busy());
  const std::string kilobyte(1000, 'x');
  for (int i = 0; i < 4000; ++i) {
    transaction tx(db);
    db.cached("INSERT INTO t (name) VALUES (?)").bind(1, std::to_string(i) + kilobyte).run();
    tx.commit();
  }
  EXPECT_FALSE(lookup.busy());
  const auto wal = std::filesystem::file_size(dir / "w.db-wal");
  EXPECT_LT(wal, 8u << 20) << "the WAL grew to " << wal << " bytes";
}

// How much each kind of database flushes and where it journals, and that a scratch database
// still keeps what it committed when it is closed and opened again (a simulated crash-restart
// does that).
TEST(Sqlite, SyncLevelFollowsTheOptionsAndAScratchDatabaseKeepsItsCommits) {
  testing::temp_dir dir;
  auto level = [](database& db) {
    auto q = db.prepare("PRAGMA synchronous");
    q.step();
    return q.get_int(0);
  };
  auto journal = [](database& db) {
    auto q = db.prepare("PRAGMA journal_mode");
    q.step();
    return q.get_text(0);
  };
  {
    database normal(dir / "n.db");
    EXPECT_EQ(level(normal), 1);  // NORMAL
    EXPECT_EQ(journal(normal), "wal");
    database full(dir / "f.db", {.synchronous_full = true});
    EXPECT_EQ(level(full), 2);  // FULL
    database scratch(dir / "s.db", {.scratch = true, .exclusive = true});
    EXPECT_EQ(level(scratch), 0);  // OFF
    EXPECT_EQ(journal(scratch), "memory");
    auto mapped = scratch.prepare("PRAGMA mmap_size");
    ASSERT_TRUE(mapped.step());
    EXPECT_GT(mapped.get_int(0), 0);
    migrate(scratch, migrations);
    transaction tx(scratch);
    scratch.prepare("INSERT INTO t (name) VALUES ('kept')").run();
    tx.commit();
  }
  database again(dir / "s.db", {.scratch = true});
  auto q = again.prepare("SELECT count(*) FROM t WHERE name = 'kept'");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.get_int(0), 1);
}

TEST(Sqlite, OpeningAMissingDirectoryFailsWithAMessage) {
  try {
    database db("/nonexistent-dir/x.db");
    FAIL();
  } catch (const error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.db"), std::string::npos);
  }
}

}  // namespace
}  // namespace linksim::store
