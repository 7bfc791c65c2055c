// The wall clock, the one place linksim reads it.
#include "linksim/common/clock.hpp"

namespace linksim {

time_point system_clock::now() const {
  return std::chrono::time_point_cast<milliseconds>(std::chrono::system_clock::now());
}

}  // namespace linksim
