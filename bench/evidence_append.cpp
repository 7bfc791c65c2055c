// Measures evidence::log::append: microseconds per entry in both durability modes, unsigned and
// as `linksim serve` runs it (a checkpoint signed in every write's transaction), and the
// canonical-entry and hashing work alone for comparison.
#include "linksim/common/random.hpp"
#include "linksim/evidence/log.hpp"
#include "linksim/evidence/merkle.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>

int main(int argc, char** argv) {
  using namespace linksim;
  const int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  const auto dir = std::filesystem::temp_directory_path() / "linksim-evidence-bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  evidence::flow f{default_epoch,
                   "idp",
                   "threads",
                   "1784141234567890",
                   {"user.unique_id", "user.account.username", "user.name"},
                   "essential.service",
                   "graph.me",
                   std::string(64, 'a'),
                   "fields=id,username,name"};
  using clk = std::chrono::steady_clock;
  auto t0 = clk::now();
  for (int i = 0; i < n; ++i) {
    f.time = default_epoch + milliseconds{i};
    const std::string e = evidence::canonical_entry(f);
    (void)evidence::leaf_hash(as_bytes(e));
  }
  const double encode_us = std::chrono::duration<double, std::micro>(clk::now() - t0).count() / n;
  // Both durability modes, each on a fresh log; the close (final write) is inside the timing.
  seeded_random random(1);
  const evidence::note_signer signer{"bench", ed25519_key::generate(random)};
  auto run = [&](evidence::durability d, const char* name) {
    std::filesystem::remove(dir / (std::string(name) + ".db"));
    const auto start = clk::now();
    {
      evidence::log log(dir / (std::string(name) + ".db"), "bench",
                        d.sign_writes ? std::optional(signer) : std::nullopt, d);
      for (int i = 0; i < n; ++i) {
        f.time = default_epoch + milliseconds{i};
        log.append(f);
      }
    }
    return std::chrono::duration<double, std::micro>(clk::now() - start).count() / n;
  };
  const double every_us = run({.every_append = true}, "every");
  const double batched_us = run({}, "batched");
  const double every_signed_us = run({.every_append = true, .sign_writes = true}, "every-signed");
  const double batched_signed_us = run({.sign_writes = true}, "batched-signed");
  std::printf(
      "{\"entries\":%d,\"encode_and_hash_us\":%.2f,\"every_append_us\":%.2f,"
      "\"batched_append_us\":%.2f,\"every_append_signed_us\":%.2f,"
      "\"batched_append_signed_us\":%.2f}\n",
      n, encode_us, every_us, batched_us, every_signed_us, batched_signed_us);
  std::filesystem::remove_all(dir);
}
