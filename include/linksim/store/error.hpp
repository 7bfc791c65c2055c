// What storage throws for a failure its caller cannot expect (disk full, corruption, I/O, a
// constraint the domain did not check first). A request handler turns it into 503 so that the
// client retries. Domain code catches or throws it without knowing the storage behind it.
#pragma once

#include <stdexcept>
#include <string>

namespace linksim::store {

class error : public std::runtime_error {
 public:
  error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  // The storage engine's code (SQLite's primary result code).
  int code() const noexcept { return code_; }
  // A UNIQUE, CHECK, FOREIGN KEY or trigger RAISE(ABORT) refused the change.
  bool is_constraint() const noexcept;

 private:
  int code_;
};

}  // namespace linksim::store
