// What the SQLite wrapper sets up around SQLite itself, apart from the wrapper: an allocator and a
// page cache that keep the population benchmark's memory and commit time bounded, and an
// optional per-statement profiler. docs/benchmarks.md ("SQLite tuning") gives the figures that
// keep the allocator and the page cache here, measured against SQLite's own in the same run.
#pragma once

#include <string_view>

struct sqlite3_stmt;

namespace linksim::store::tuning {

// Configures SQLite once per process, before its first use. LINKSIM_SQLITE_ALLOCATOR=system and
// LINKSIM_SQLITE_PAGE_CACHE=default keep SQLite's own, for the side-by-side measurement.
void configure_once();

// LINKSIM_SQL_PROFILE=1: the time spent in sqlite3_step for each statement, with its number of
// steps, summed by SQL text over every connection and printed on stderr at exit, the most costly
// first. A diagnostic for benchmarks: the clock reads cost time of their own (about 2 x 20 ns a
// step).
namespace profile {
bool enabled();
void start();  // before the first connection, so that the table outlives every connection
void track(sqlite3_stmt* stmt, std::string_view sql);
void forget(sqlite3_stmt* stmt);
int timed_step(sqlite3_stmt* stmt);
}  // namespace profile

}  // namespace linksim::store::tuning
