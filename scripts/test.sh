#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite; with CI=true (or
# LINKSIM_ASAN=1) it runs it again under AddressSanitizer and UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --tests
cmake --preset dev >/dev/null
cmake --build --preset dev
ctest --preset dev
if [[ "${CI:-}" == "true" || "${LINKSIM_ASAN:-}" == "1" ]]; then
  cmake --preset asan >/dev/null
  cmake --build --preset asan
  ASAN_OPTIONS=detect_leaks=1 ctest --preset asan
fi
