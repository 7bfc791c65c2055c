// Randomness as the services see it: a source they are given, a CSPRNG or a seeded stream.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>

namespace linksim {

class random_source {
 public:
  virtual ~random_source() = default;
  // Fills `out` with random bytes. Thread-safe.
  virtual void fill(std::span<std::uint8_t> out) = 0;

  std::uint64_t next_u64();
  // A uniform value in [0, bound); bound must be positive.
  std::uint64_t uniform(std::uint64_t bound);
  // `bytes` random bytes as unpadded base64url: the form of every token linksim issues.
  std::string token(std::size_t bytes = 32);
};

// OpenSSL's CSPRNG (RAND_bytes): what real servers use.
class system_random final : public random_source {
 public:
  void fill(std::span<std::uint8_t> out) override;
};

// A reproducible stream: SHA-256 in counter mode over the seed. The same seed gives the same
// bytes on every machine, which is what makes a simulation replayable.
class seeded_random final : public random_source {
 public:
  explicit seeded_random(std::uint64_t seed);
  void fill(std::span<std::uint8_t> out) override;

 private:
  std::mutex mutex_;
  std::uint64_t seed_;
  std::uint64_t counter_ = 0;
  std::uint8_t block_[32]{};
  std::size_t used_ = sizeof(block_);
};

// A seeded stream when a seed is given, the system CSPRNG otherwise.
std::unique_ptr<random_source> make_random(std::optional<std::uint64_t> seed);

}  // namespace linksim
