// Meta's signed_request, as the dependent service's deauthorize and data-deletion callbacks
// read it: the input as it comes (forged), and the input's payload signed with the right
// secret, so that the fuzzer reaches the payload's parsing behind the signature check.
#include "common.hpp"

#include "linksim/common/crypto.hpp"
#include "linksim/threads_sim/service.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace linksim;
  auto& f = fuzz::the_fixture();
  const std::string_view text = fuzz::as_text(data, size);
  if (f.world->threads().deauthorize(text)) abort();  // forged: never accepted
  const std::string payload = base64url_encode(text);
  const std::string signed_request =
      base64url_encode(hmac_sha256(f.world->client_secret(), payload)) + "." + payload;
  (void)f.world->threads().deauthorize(signed_request);
  (void)f.world->threads().data_deletion(signed_request);
  return 0;
}
