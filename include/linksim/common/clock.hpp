// Time as the services see it: always asked of a clock they are given, never of the wall.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace linksim {

using milliseconds = std::chrono::milliseconds;
using time_point = std::chrono::sys_time<milliseconds>;

class clock {
 public:
  virtual ~clock() = default;
  // The current time; successive calls never go backwards for the clocks below.
  virtual time_point now() const = 0;
};

// The machine's wall clock, for real servers.
class system_clock final : public clock {
 public:
  time_point now() const override;
};

// A clock that moves only when told to: tests and the simulation drive it.
// Safe to read from one thread while another advances it.
class manual_clock final : public clock {
 public:
  explicit manual_clock(time_point start) : now_ms_(start.time_since_epoch().count()) {}
  time_point now() const override { return time_point{milliseconds{now_ms_.load()}}; }
  void advance(milliseconds d) { now_ms_ += d.count(); }
  void set(time_point t) { now_ms_ = t.time_since_epoch().count(); }

 private:
  std::atomic<std::int64_t> now_ms_;
};

inline std::int64_t unix_seconds(time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
inline std::int64_t unix_millis(time_point t) {
  return t.time_since_epoch().count();
}
inline time_point from_unix_millis(std::int64_t ms) {
  return time_point{milliseconds{ms}};
}

// 2026-01-01T00:00:00Z: where manual clocks start unless told otherwise.
inline constexpr time_point default_epoch{milliseconds{1767225600000}};

}  // namespace linksim
