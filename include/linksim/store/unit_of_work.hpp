// A storage transaction as domain code sees it. A service's repositories begin one; it is
// rolled back unless committed. Domain code holds no database handle: it knows only this and
// its service's repository interfaces.
#pragma once

#include <memory>

namespace linksim::store {

class unit_of_work {
 public:
  virtual ~unit_of_work() = default;
  virtual void commit() = 0;
};

using work_scope = std::unique_ptr<unit_of_work>;

}  // namespace linksim::store
