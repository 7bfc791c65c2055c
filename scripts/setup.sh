#!/usr/bin/env bash
# Installs what linksim needs to build on Debian 12, only what is absent (idempotent).
# With --tests it also installs what the tests need: Debian's Chromium, Node.js when there is
# none, and playwright-core (pinned in tests/e2e/package-lock.json) for the browser test, and
# clang with its runtime libraries (libFuzzer, the sanitizers) for the fuzz targets, and
# clang-format and clang-tidy, which the tests run over the sources, and Python with its
# cryptography package for the independent evidence verifier.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake ninja-build
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev libgtest-dev libcli11-dev libyaml-cpp-dev libmimalloc-dev
)
for_tests=false
for arg in "$@"; do
  case "$arg" in
    --tests) for_tests=true ;;
    *) echo "linksim setup: unknown argument: $arg (known: --tests)" >&2; exit 2 ;;
  esac
done
if $for_tests; then
  packages+=(chromium clang clang-format clang-tidy libclang-rt-14-dev python3 python3-cryptography)
  command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "linksim setup: installing ${missing[*]}" >&2
  if [[ $(id -u) -ne 0 ]]; then
    echo "linksim setup: these packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if $for_tests; then
  # Reinstalled only when the lock file is newer than what is installed.
  lock=tests/e2e/package-lock.json
  stamp=tests/e2e/node_modules/.package-lock.json
  if [[ ! -f $stamp || $lock -nt $stamp ]]; then
    echo "linksim setup: installing the browser test's npm packages" >&2
    npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error >/dev/null
  fi
fi
