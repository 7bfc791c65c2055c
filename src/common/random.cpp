// Random sources: OpenSSL's CSPRNG, or SHA-256 in counter mode for reproducible runs.
#include "linksim/common/random.hpp"

#include "linksim/common/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <cstring>
#include <stdexcept>

namespace linksim {

std::uint64_t random_source::next_u64() {
  std::uint8_t b[8];
  fill(b);
  std::uint64_t v = 0;
  for (auto byte : b) v = (v << 8) | byte;
  return v;
}

std::uint64_t random_source::uniform(std::uint64_t bound) {
  // Rejection sampling: no modulo bias.
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  for (;;) {
    const std::uint64_t v = next_u64();
    if (v < limit) return v % bound;
  }
}

std::string random_source::token(std::size_t bytes) {
  std::vector<std::uint8_t> buf(bytes);
  fill(buf);
  return base64url_encode(buf);
}

namespace {

void rand_bytes(std::span<std::uint8_t> out) {
  if (out.size() > INT_MAX || RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    // Without entropy no token is safe to issue: a broken invariant, not an expected error.
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  }
}

// A forked child must not hand out the bytes its parent will also hand out: the child's copy of
// the block is dropped (linksim does not fork, but a program embedding it might).
std::atomic<unsigned> fork_generation{0};

}  // namespace

void system_random::fill(std::span<std::uint8_t> out) {
  // Small requests (tokens, ids) are served from a per-thread block of CSPRNG output: one
  // RAND_bytes call per 4 KiB instead of one per token, whose locking was a tenth of a sign-in's
  // CPU. Bytes handed out are wiped from the block.
  static const int registered =
      pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1); });
  (void)registered;
  struct block {
    std::array<std::uint8_t, 4096> bytes;
    std::size_t used = 4096;
    unsigned generation = 0;
    ~block() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
  };
  thread_local block b;
  if (out.size() > b.bytes.size() / 4) return rand_bytes(out);
  const unsigned generation = fork_generation.load(std::memory_order_relaxed);
  if (b.bytes.size() - b.used < out.size() || b.generation != generation) {
    rand_bytes(b.bytes);
    b.used = 0;
    b.generation = generation;
  }
  std::memcpy(out.data(), b.bytes.data() + b.used, out.size());
  OPENSSL_cleanse(b.bytes.data() + b.used, out.size());
  b.used += out.size();
}

seeded_random::seeded_random(std::uint64_t seed) : seed_(seed) {}

void seeded_random::fill(std::span<std::uint8_t> out) {
  std::lock_guard lock(mutex_);
  std::size_t done = 0;
  while (done < out.size()) {
    if (used_ == sizeof(block_)) {
      std::uint8_t input[16];
      for (int i = 0; i < 8; ++i) {
        input[i] = static_cast<std::uint8_t>(seed_ >> (56 - 8 * i));
        input[8 + i] = static_cast<std::uint8_t>(counter_ >> (56 - 8 * i));
      }
      ++counter_;
      const digest d = sha256(std::span<const std::uint8_t>(input));
      std::memcpy(block_, d.data(), sizeof(block_));
      used_ = 0;
    }
    const std::size_t n = std::min(out.size() - done, sizeof(block_) - used_);
    std::memcpy(out.data() + done, block_ + used_, n);
    used_ += n;
    done += n;
  }
}

std::unique_ptr<random_source> make_random(std::optional<std::uint64_t> seed) {
  if (seed) return std::make_unique<seeded_random>(*seed);
  return std::make_unique<system_random>();
}

}  // namespace linksim
