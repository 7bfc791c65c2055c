// Raw request bytes, through the server's own parser (net::parse_request), to one service's
// handler (LINKSIM_FUZZ_SYSTEM: idp, threads or ads). The first byte chooses what the request
// carries beyond the bytes, so that the fuzzer reaches the admin API (bit 0: the admin token)
// and the virtual clock moves (bit 1: a minute passes after the request, firing due webhooks,
// polls and notices).
#include "common.hpp"

#include "linksim/net/server.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace linksim;
  if (size < 1) return 0;
  auto& f = fuzz::the_fixture();
  const std::uint8_t flags = data[0];
  auto parsed = net::parse_request(fuzz::as_text(data + 1, size - 1));
  if (!parsed.request) return 0;
  http::request& req = *parsed.request;
  if (flags & 1) req.headers.set("Authorization", std::string("Bearer ") + sim::world::admin_token);
  // A held answer (a long poll) is asked for its last word, as a server does when the hold ends.
  auto res = http::settle(f.handlers.at(LINKSIM_FUZZ_SYSTEM)(req));
  // A handler answers with a status HTTP knows, and never a 5xx but 503 (its storage).
  if (res.status < 100 || res.status > 599 || (res.status >= 500 && res.status != 503)) abort();
  if (flags & 2) f.world->run_for(std::chrono::minutes(1));
  return 0;
}
