// The optional per-statement profiler (LINKSIM_SQL_PROFILE=1, see tuning.hpp).
#include "tuning.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace linksim::store::tuning::profile {
namespace {

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
      if (t.nanoseconds < all / 2000) break;  // under 0.05 % of the total
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
table& the_table() {
  static table t;
  return t;
}

}  // namespace

bool enabled() {
  static const bool on = [] {
    const char* v = std::getenv("LINKSIM_SQL_PROFILE");
    return v && *v && std::strcmp(v, "0") != 0;
  }();
  return on;
}
void start() {
  the_table();
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

}  // namespace linksim::store::tuning::profile
