// The simulation's event queue.
#include "linksim/sim/scheduler.hpp"

namespace linksim::sim {

void scheduler::at(time_point when, std::function<void()> fn) {
  queue_.push({std::max(when, now()), seq_++, std::move(fn)});
}

std::optional<time_point> scheduler::next() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.top().when;
}

bool scheduler::run_one() {
  if (queue_.empty()) return false;
  // Moved out before running: the task may schedule others.
  auto t = std::move(const_cast<task&>(queue_.top()));
  queue_.pop();
  if (t.when > now()) clock_.set(t.when);
  ++run_;
  t.fn();
  return true;
}

std::size_t scheduler::run_until(time_point until) {
  std::size_t n = 0;
  while (!queue_.empty() && queue_.top().when <= until) {
    run_one();
    ++n;
  }
  if (until > now()) clock_.set(until);
  return n;
}

std::size_t scheduler::run_until_idle(std::size_t limit) {
  std::size_t n = 0;
  while (n < limit && run_one()) ++n;
  return n;
}

}  // namespace linksim::sim
