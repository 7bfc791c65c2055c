// The claims catalogue reader: any bytes give a catalogue or a located scenario_error.
#include "common.hpp"

#include "linksim/harness/claims.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace linksim::harness;
  try {
    (void)parse_catalogue(std::string(linksim::fuzz::as_text(data, size)), "claims.yaml");
  } catch (const scenario_error& e) {
    if (e.where().file != "claims.yaml") abort();
  }
  return 0;
}
