// How fast the machine is at the moment, by two fixed pieces of work that no linksim code takes
// part in, so that population runs from different hours or hosts can be told apart: the same
// build has taken 497 us of CPU an account in one session and 1 512 us in another on this
// project's 2-core machine (docs/benchmarks.md, "Population").
#pragma once

namespace linksim::bench {

struct machine_speed {
  // SHA-256 through OpenSSL of 8 KiB messages, 10^6 bytes a second, best of three rounds of
  // 32 MiB: the processor's own speed (a run hashes every evidence entry and webhook).
  double sha256_mb_s = 0;
  // A chase of dependent loads through a random cycle over 64 MiB, nanoseconds a load, best of
  // three rounds of 2^18 loads: the wait for memory that a B-tree descent in a large in-memory
  // database has at each page.
  double memory_ns = 0;
};

// Measures in a child process (fork), so that the 64 MiB of the chase count in neither the
// caller's peak memory nor its CPU time. Call it while the caller runs no other thread. Throws
// std::runtime_error when the child cannot be run or gives no answer.
machine_speed measure_machine_speed();

}  // namespace linksim::bench
