// Virtual time for the deterministic simulation: a manual clock and a queue of timed tasks.
// Time moves only when nothing is runnable now: it jumps to the next task's time, so hours of
// retry schedule pass in microseconds. One thread; no task runs concurrently with another.
#pragma once

#include "linksim/common/clock.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <vector>

namespace linksim::sim {

class scheduler {
 public:
  explicit scheduler(time_point start = default_epoch) : clock_(start) {}

  const clock& time() const { return clock_; }
  time_point now() const { return clock_.now(); }

  // Runs `fn` at `when` (now, if `when` has passed). Tasks due at the same time run in the
  // order they were scheduled, which is what makes a run reproducible.
  void at(time_point when, std::function<void()> fn);
  void after(milliseconds delay, std::function<void()> fn) { at(now() + delay, std::move(fn)); }

  // Runs tasks in time order until none is due at or before `until`, then sets the clock to
  // `until`. Returns how many ran.
  std::size_t run_until(time_point until);
  // Runs until no task is left (tasks may schedule more); stops after `limit` tasks.
  std::size_t run_until_idle(std::size_t limit = 100'000'000);
  std::optional<time_point> next() const;
  std::uint64_t tasks_run() const { return run_; }

 private:
  struct task {
    time_point when;
    std::uint64_t seq;
    std::function<void()> fn;
    bool operator>(const task& o) const { return when != o.when ? when > o.when : seq > o.seq; }
  };
  bool run_one();

  manual_clock clock_;
  std::priority_queue<task, std::vector<task>, std::greater<>> queue_;
  std::uint64_t seq_ = 0;
  std::uint64_t run_ = 0;
};

}  // namespace linksim::sim
