#!/usr/bin/env bash
# Installs what is missing, builds, runs the whole test suite and clang-tidy over src/
# (scripts/tidy.sh). With CI=true (or LINKSIM_ASAN=1) it runs the suite again under
# AddressSanitizer and UBSan and every libFuzzer target for a bounded time (scripts/fuzz.sh,
# LINKSIM_FUZZ_SECONDS each, default 15). With LINKSIM_TSAN=1 it runs the suite under
# ThreadSanitizer (the server's request threads, the shards, audit and fuzz jobs; about eight
# more minutes on two cores, so not part of CI's run).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --tests
cmake --preset dev >/dev/null
cmake --build --preset dev
ctest --preset dev
./scripts/tidy.sh build/dev
if [[ "${CI:-}" == "true" || "${LINKSIM_ASAN:-}" == "1" ]]; then
  cmake --preset asan >/dev/null
  cmake --build --preset asan
  ASAN_OPTIONS=detect_leaks=1 ctest --preset asan
  ./scripts/fuzz.sh --seconds "${LINKSIM_FUZZ_SECONDS:-15}"
fi
if [[ "${LINKSIM_TSAN:-}" == "1" ]]; then
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan
  ctest --preset tsan
fi
