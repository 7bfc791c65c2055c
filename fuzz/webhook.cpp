// Webhook payloads as the dependent service receives them, signed with the right secret so
// that the fuzzer reaches the envelope's parsing and the mirror's rules behind the signature.
#include "common.hpp"

#include "linksim/common/crypto.hpp"
#include "linksim/threads_sim/service.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace linksim;
  auto& f = fuzz::the_fixture();
  const std::string_view body = fuzz::as_text(data, size);
  if (f.world->threads().receive_webhook(body, "sha256=" + std::string(64, '0'))) abort();
  (void)f.world->threads().receive_webhook(
      body, "sha256=" + to_hex(hmac_sha256(f.world->client_secret(), body)));
  return 0;
}
