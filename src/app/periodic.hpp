// A background thread that calls a function now and then every interval until stopped: the
// provider's webhook dispatcher and the dependent service's reconciler.
#pragma once

#include "linksim/common/clock.hpp"

#include <condition_variable>
#include <functional>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

namespace linksim::app {

class periodic_worker {
 public:
  // `round` does the work that is due and returns true when it should run again at once.
  periodic_worker(std::string name, milliseconds interval, std::function<bool()> round)
      : name_(std::move(name)), interval_(interval), round_(std::move(round)) {}
  ~periodic_worker() { stop(); }

  void start() {
    thread_ = std::thread([this] { loop(); });
  }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      try {
        while (round_()) {
          std::lock_guard check(mutex_);
          if (stopping_) break;
        }
      } catch (const std::exception& e) {
        // The database is unavailable: the work stays stored for the next round.
        std::cerr << name_ << ": " << e.what() << "\n";
      }
      lock.lock();
      wake_.wait_for(lock, interval_, [this] { return stopping_; });
    }
  }

  std::string name_;
  milliseconds interval_;
  std::function<bool()> round_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace linksim::app
