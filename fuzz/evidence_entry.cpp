// Evidence entries, signed checkpoint notes and verifier keys, as `linksim evidence verify`
// reads them from a log it is handed.
#include "common.hpp"

#include "linksim/evidence/checkpoint.hpp"
#include "linksim/evidence/flow.hpp"

#include <array>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace linksim;
  const std::string_view text = fuzz::as_text(data, size);
  if (auto f = evidence::parse_entry(text)) {
    // What parses writes back canonically, and that reads back the same.
    const std::string canonical = evidence::canonical_entry(*f);
    const auto again = evidence::parse_entry(canonical);
    if (!again || evidence::canonical_entry(*again) != canonical) abort();
  }
  (void)evidence::note_verifier::parse(text);
  static const evidence::note_verifier key = [] {
    const std::array<std::uint8_t, 32> seed{};
    const evidence::note_signer signer{"linksim-evidence", ed25519_key::from_seed(seed)};
    return *evidence::note_verifier::parse(signer.verifier_key());
  }();
  (void)key.open(text);
  return 0;
}
