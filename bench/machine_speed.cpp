#include "machine_speed.hpp"

#include <openssl/evp.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace linksim::bench {
namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

double sha256_mb_s() {
  std::vector<unsigned char> message(8192, 0x5a);
  unsigned char out[EVP_MAX_MD_SIZE];
  const EVP_MD* md = EVP_sha256();
  constexpr int messages = 4096;  // 32 MiB
  double best = 0;
  for (int round = 0; round < 3; ++round) {
    const auto start = clock_type::now();
    for (int i = 0; i < messages; ++i) {
      message[0] = static_cast<unsigned char>(i);
      if (EVP_Digest(message.data(), message.size(), out, nullptr, md, nullptr) != 1)
        throw std::runtime_error("SHA-256 failed");
    }
    best = std::max(best, messages * 8192.0 / 1e6 / seconds_since(start));
  }
  return best;
}

// One 4-byte link at the start of each 64-byte line of a 64 MiB region: the lines in one random
// cycle (each line of a shuffled order links to the next, the last to the first), so each
// load's address is the one before's value and no prefetcher can guess it.
double memory_ns() {
  constexpr std::size_t bytes = std::size_t{64} << 20;
  constexpr std::size_t line_words = 64 / sizeof(std::uint32_t);
  constexpr std::uint32_t lines = bytes / 64;
  void* region = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) throw std::runtime_error("cannot map 64 MiB");
  // As the population's own memory (mimalloc's large OS pages, on by default) where the kernel
  // gives huge pages: the chase then measures memory, not page walks.
  madvise(region, bytes, MADV_HUGEPAGE);
  auto* words = static_cast<std::uint32_t*>(region);

  std::vector<std::uint32_t> order(lines);
  std::iota(order.begin(), order.end(), 0u);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(0x6c696e6b73696dULL));  // fixed seed
  for (std::uint32_t i = 0; i < lines; ++i)
    words[std::size_t{order[i]} * line_words] = order[(i + 1) % lines];

  constexpr int loads = 1 << 18;
  double best = 1e30;
  std::uint32_t at = 0;
  for (int round = 0; round < 3; ++round) {
    const auto start = clock_type::now();
    for (int i = 0; i < loads; ++i) at = words[std::size_t{at} * line_words];
    best = std::min(best, seconds_since(start) * 1e9 / loads);
  }
  munmap(region, bytes);
  if (at >= lines) throw std::runtime_error("the chase left its region");  // keeps the loads
  return best;
}

}  // namespace

machine_speed measure_machine_speed() {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  const pid_t child = fork();
  if (child < 0) {
    close(fds[0]);
    close(fds[1]);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (child == 0) {
    close(fds[0]);
    machine_speed m;
    try {
      m.sha256_mb_s = sha256_mb_s();
      m.memory_ns = memory_ns();
    } catch (...) {
      _exit(1);
    }
    const bool written = write(fds[1], &m, sizeof m) == static_cast<ssize_t>(sizeof m);
    _exit(written ? 0 : 1);
  }
  close(fds[1]);
  machine_speed m;
  const ssize_t got = read(fds[0], &m, sizeof m);
  close(fds[0]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (got != static_cast<ssize_t>(sizeof m) || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("the machine's speed could not be measured");
  return m;
}

}  // namespace linksim::bench
