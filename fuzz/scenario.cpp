// The scenario reader: any bytes give a scenario or a located scenario_error, within limits.
#include "common.hpp"

#include "linksim/harness/scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace linksim::harness;
  try {
    (void)parse_scenario(std::string(linksim::fuzz::as_text(data, size)), "fuzz.yaml");
  } catch (const scenario_error& e) {
    if (e.where().file != "fuzz.yaml") abort();
  }
  return 0;
}
